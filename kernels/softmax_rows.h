// Row-wise softmax of a [N, C] array (FTCL's 3-way attention and its 21-way CAS) and its backward.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// out[n,:] = softmax(x[n,:]) for n < N, in torch CPU's float order (kernels/softmax_row.h: max, exp(x − max), the
// sum in order, times 1/sum). OVERWRITES out; out may not alias x. Throws aicl::Error for N < 0 or C < 1.
template <class T>
void softmax_rows_forward(T* out, const T* x, int N, int C);

// dx[n,c] += p[n,c]·(g[n,c] − Σ_c' p[n,c']·g[n,c']), p = the forward's out (ACCUMULATES).
template <class T>
void softmax_rows_backward(T* dx, const T* g, const T* p, int N, int C);

// ---- CUDA twin (kernels/softmax_rows.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One thread per row (C is small: 3 or K + 1) in the CPU's float order with CUDA's expf (within 2 ulp of glibc's);
// deterministic.
void softmax_rows_forward_cuda(float* out, const float* x, int N, int C, cudaStream_t stream);
void softmax_rows_backward_cuda(float* dx, const float* g, const float* p, int N, int C, cudaStream_t stream);

}  // namespace aicl
