// ACM-Net's feature-norm loss (../shared/specs/ftcl.md 1.3): the instance features' L2 norm should exceed the
// context's, and the context's the background's, by a margin, while the background's shrinks.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// f [3, B, D]: the instance, context and background mean features of each video. With n_x = ‖f_x[b]‖₂ (sums of
// squares in double, the root in T) and r(v) = v if v >= 0 else 0 (the official masked assignment: the gradient
// passes at exactly 0):
//   loss = (1/B) Σ_b ( r(margin − n_ins + n_con) + r(margin − n_con + n_bak) + n_bak )².
// Throws aicl::Error for B < 1 or D < 1.
template <class T>
T feat_norm_loss_forward(const T* f, int B, int D, double margin);

// df[x, b, :] += (∂loss/∂n_x)·f_x[b]/n_x (ACCUMULATES); a zero-norm row gets no gradient (torch.norm's backward
// masks norm 0).
template <class T>
void feat_norm_loss_backward(T* df, T dloss, const T* f, int B, int D, double margin);

// ---- CUDA twin (kernels/feat_norm_loss.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One block per (branch, video) reduces its squared norm in a fixed order (double); one thread forms the loss or
// the per-video norm gradients in the CPU's order; deterministic.
void feat_norm_loss_forward_cuda(float* loss, const float* f, int B, int D, double margin, cudaStream_t stream);
void feat_norm_loss_backward_cuda(float* df, float dloss, const float* f, int B, int D, double margin,
                                  cudaStream_t stream);

}  // namespace aicl
