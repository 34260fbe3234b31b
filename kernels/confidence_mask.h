// SAL's adaptive actionness mask: EMA statistics of the max class probability, then a Gaussian weight per segment.
//
// SoftMatch-style; the official update_prob_t, then calculate_mask, in main_thumos.py.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// cas [N,C] row-major (N = B*T segments); state: {mu, V}, 2 doubles (host memory here), read and updated IN PLACE;
// writes m [N] (overwrites). In this order:
//   1. p[n] = max_c softmax_c(cas[n,:]) in T, the softmax in torch CPU's order (kernels/softmax_row.h).
//   2. mu_b = (sum_n p[n]) / N and V_b = (sum_n (p[n] - mu_b)^2) / (N - 1) (unbiased), both accumulated in double,
//      sequentially in ascending n, p widened to double.
//   3. state first: mu <- momentum*mu + (1 - momentum)*mu_b, then V <- momentum*V + (1 - momentum)*V_b (double,
//      two products then the sum, as the official Python floats).
//   4. then m[n] = exp(-(d*d / den)) in T with d = min(p[n] - (T)mu, 0) and den = (T)(var_scale * V): torch's
//      float32 ops with Python-float scalars. THUMOS: momentum 0.7, var_scale 0.5 (the official 2V/4); ActivityNet:
//      momentum 0.99, var_scale 6. Segments at or above the running mean get 1. V = 0 gives m = NaN where d = 0
//      (0/0), as torch would.
// Requires N >= 2 (the unbiased variance) and C >= 1 (aicl::Error otherwise). No gradient (the official code runs
// under no_grad).
template <class T>
void confidence_mask_forward(T* m, double* state, const T* cas, int N, int C, double momentum, double var_scale);

// ---- CUDA twin (kernels/confidence_mask.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----

// Same contract; `state` is a DEVICE array of 2 doubles, updated on the device (no host synchronisation, the
// statistics never leave the GPU). One block of 256 threads runs all of it: thread l handles rows n = l (mod 256)
// and accumulates its double partial sums in ascending n, the 256 partials are then added pairwise in a fixed
// tree, so the result is the same on every run (no atomics). Differences from the CPU twin: p uses CUDA's expf
// (within 2 ulp of glibc's), the double sums are in that tree order instead of sequential (last-bit differences
// in mu_b, V_b), and so the state agrees to about float precision of p and m to a few ulp (more where
// var_scale * V is tiny: m is steep there).
void confidence_mask_forward_cuda(float* m, double* state, const float* cas, int N, int C, double momentum,
                                  double var_scale, cudaStream_t stream);

}  // namespace aicl
