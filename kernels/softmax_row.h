// The class softmax of one CAS row in torch CPU's float order, shared by the ops that select or weigh by it.
//
// torch's order: m = max_c x, e_c = exp(x_c - m), s = sum_c e_c (ascending), softmax_c = e_c * (1 / s). Each step is
// rounded on its own; the CUDA versions use _rn intrinsics so that no step is contracted into an FMA, and the CPU
// callers compile with fp-contract off where a softmax entry feeds an addition.
#pragma once
#include <algorithm>
#include <cmath>

namespace aicl {

// Writes out[c] = softmax_c(x)[c] for one row of C values (out may not alias x).
template <class T>
inline void softmax_row(T* out, const T* x, int C) {
  T mx = x[0];
  for (int c = 1; c < C; ++c) mx = std::max(mx, x[c]);
  T sum = 0;
  for (int c = 0; c < C; ++c) {
    out[c] = std::exp(x[c] - mx);
    sum += out[c];
  }
  const T inv = T(1) / sum;
  for (int c = 0; c < C; ++c) out[c] = out[c] * inv;
}

// max_c softmax_c(x) without storing the row: softmax_row's entries are e_c * inv with one positive inv, and
// rounding is monotone, so their max is (max_c e_c) * inv exactly; a NaN entry wins, as in torch.max.
template <class T>
inline T softmax_row_max(const T* x, int C) {
  T mx = x[0];
  for (int c = 1; c < C; ++c) mx = std::max(mx, x[c]);
  T sum = 0, emax = 0;
  for (int c = 0; c < C; ++c) {
    const T e = std::exp(x[c] - mx);
    sum += e;
    if (!(e <= emax)) emax = e;
  }
  return emax * (T(1) / sum);
}

#ifdef __CUDACC__
// Device twin of softmax_row (float): CUDA's expf (within 2 ulp of glibc's), every other step rounded as on the CPU.
__device__ inline void softmax_row_rn(float* out, const float* x, int C) {
  float mx = x[0];
  for (int c = 1; c < C; ++c) mx = mx < x[c] ? x[c] : mx;  // std::max(mx, x[c])
  float sum = 0.f;
  for (int c = 0; c < C; ++c) {
    out[c] = expf(__fsub_rn(x[c], mx));
    sum = __fadd_rn(sum, out[c]);
  }
  const float inv = __fdiv_rn(1.f, sum);
  for (int c = 0; c < C; ++c) out[c] = __fmul_rn(out[c], inv);
}

// Device twin of softmax_row_max (float).
__device__ inline float softmax_row_max_rn(const float* x, int C) {
  float mx = x[0];
  for (int c = 1; c < C; ++c) mx = mx < x[c] ? x[c] : mx;
  float sum = 0.f, emax = 0.f;
  for (int c = 0; c < C; ++c) {
    const float e = expf(__fsub_rn(x[c], mx));
    sum = __fadd_rn(sum, e);
    if (!(e <= emax)) emax = e;
  }
  return __fmul_rn(emax, __fdiv_rn(1.f, sum));
}
#endif

}  // namespace aicl
