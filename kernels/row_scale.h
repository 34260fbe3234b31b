// Scales each row of a [N, C] array by one column of a strided per-row array: FTCL's attention-weighted logits
// Z_b = Z · a_b (the snippet logits times the instance, context or background attention).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// out[n,c] = x[n,c]·a[n·stride + col] for n < N, c < C (OVERWRITES; out may equal x only in the forward, the
// backward needs x). Throws aicl::Error for N < 0, C < 1 or col outside [0, stride).
template <class T>
void row_scale_forward(T* out, const T* x, const T* a, int stride, int col, int N, int C);

// dx[n,c] += g[n,c]·a[n·stride + col];  da[n·stride + col] += Σ_c g[n,c]·x[n,c] (summed in c order)
// (ACCUMULATE; dx or da may be nullptr).
template <class T>
void row_scale_backward(T* dx, T* da, const T* g, const T* x, const T* a, int stride, int col, int N, int C);

// ---- CUDA twin (kernels/row_scale.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Forward one thread per element; backward one thread per row (the row sum in the CPU's order): bit for bit the
// CPU's float results.
void row_scale_forward_cuda(float* out, const float* x, const float* a, int stride, int col, int N, int C,
                            cudaStream_t stream);
void row_scale_backward_cuda(float* dx, float* da, const float* g, const float* x, const float* a, int stride,
                             int col, int N, int C, cudaStream_t stream);

}  // namespace aicl
