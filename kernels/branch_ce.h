// ACM-Net's (and FTCL's) video classification loss of one attention branch: cross-entropy of the softmax of its
// K + 1 video scores against a target built from the K-class label (../shared/specs/ftcl.md 1.3).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// Which target the labels y [K] give over the K + 1 classes (background last):
//   instance:   [y, 0] / Σy        context: [y, 1] / (Σy + 1)        background: one-hot on the background class.
enum class BranchTarget { instance = 0, context = 1, background = 2 };

// logits [B, K+1] (the branch's top-k video scores), labels [B, K] (multi-hot, >= 0). With p = softmax(logits[b])
// (kernels/softmax_row.h order) and t the target above, both in T:
//   loss = −(1/B) Σ_b Σ_c t[b,c]·log(p[b,c] + eps)
// (the official cls_criterion: eps 1e-45 in stage A's ACMLoss, the float32 denormal 1.4e-45 once rounded to
// float; 1e-10 in stage B's FTCLLoss). Row sums in double, rows in order. Throws aicl::Error for B < 1, K < 1,
// eps < 0, or an instance target whose label row sums to <= 0 (the official 0/0).
template <class T>
T branch_ce_forward(const T* logits, const T* labels, int B, int K, BranchTarget target, double eps);

// dlogits[b,j] += −(dloss/B)·(w_j − p_j·Σ_c w_c), w_c = t_c·p_c / (p_c + eps) (ACCUMULATES; exact in eps).
template <class T>
void branch_ce_backward(T* dlogits, T dloss, const T* logits, const T* labels, int B, int K, BranchTarget target,
                        double eps);

// ---- CUDA twin (kernels/branch_ce.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One thread per video (K + 1 is small) in the CPU's float order with CUDA's expf/logf; the rows summed in order in
// double by one thread (deterministic). No host check of the labels (that would need a synchronisation): a
// label-less video under the instance target gives NaN, as the official code does.
void branch_ce_forward_cuda(float* loss, const float* logits, const float* labels, int B, int K, BranchTarget target,
                            double eps, cudaStream_t stream);
void branch_ce_backward_cuda(float* dlogits, float dloss, const float* logits, const float* labels, int B, int K,
                             BranchTarget target, double eps, cudaStream_t stream);

}  // namespace aicl
