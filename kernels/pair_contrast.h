// FTCL's contrast of per-pair sequence scores (../shared/specs/ftcl.md 2.5, 2.7): the mean over negative pairs
// minus the mean over positive pairs, and the per-pair gradient seeds the DP backwards take.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// value [P], pos [P] (1: positive pair, 0: negative). With n₊, n₋ the counts:
//   loss = Σ_{neg} value / (n₋ + eps) − Σ_{pos} value / (n₊ + eps)   (sums in double in pair order)
// eps = 1e-10 is stage B's FTCLLoss; eps = 0 stage A's plain means. A group without pairs contributes 0 (with
// eps = 0 too). Throws aicl::Error for P < 0 or eps < 0.
template <class T>
T pair_contrast_forward(const T* value, const int* pos, int P, double eps);

// dvalue[p] += dloss·(pos[p] ? −1/(n₊ + eps) : 1/(n₋ + eps)) in T (ACCUMULATES; on a zeroed buffer: the per-pair
// seeds fsd_dp_backward / lcs_dp_backward take).
template <class T>
void pair_contrast_backward(T* dvalue, T dloss, const int* pos, int P, double eps);

// ---- CUDA twin (kernels/pair_contrast.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One thread (P is a few dozen pairs) in the CPU's order: the CPU's float results.
void pair_contrast_forward_cuda(float* loss, const float* value, const int* pos, int P, double eps,
                                cudaStream_t stream);
void pair_contrast_backward_cuda(float* dvalue, float dloss, const int* pos, int P, double eps, cudaStream_t stream);

}  // namespace aicl
