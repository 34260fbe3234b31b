// CUDA twin of kernels/actionness.h: elementwise sigmoid and AICL's class-aware actionness, forward and backward.
#pragma once
#include <cstddef>

#include <cuda_runtime_api.h>

namespace aicl {

// Same contracts as kernels/actionness.h (float, DEVICE pointers, queued on `stream`). Each step is rounded like
// the CPU twin (no fused multiply-add), so the backward functions and the class sums match it bit for bit; the
// sigmoid's exp is CUDA's expf (within 2 ulp of the CPU's), so forward outputs agree to a few ulp.
void sigmoid_forward_cuda(float* out, const float* in, std::size_t n, cudaStream_t stream);

// din[i] += dout[i] * (1 - out[i]) * out[i] (ACCUMULATES).
void sigmoid_backward_cuda(float* din, const float* dout, const float* out, std::size_t n, cudaStream_t stream);

// a1[n] = sigmoid(sum_c cas[n,c]) for cas [N,C] row-major (sequential float sum over c, as on the CPU).
void class_aware_actionness_forward_cuda(float* a1, const float* cas, int N, int C, cudaStream_t stream);

// dcas[n,c] += da1[n] * (1 - a1[n]) * a1[n] for every c (ACCUMULATES).
void class_aware_actionness_backward_cuda(float* dcas, const float* da1, const float* a1, int N, int C,
                                          cudaStream_t stream);

// out[i] = (a[i] + b[i]) / 2 and its backward da[i] += dout[i]/2, db[i] += dout[i]/2 (the CPU's order and rounding).
void stream_mean_forward_cuda(float* out, const float* a, const float* b, std::size_t n, cudaStream_t stream);
void stream_mean_backward_cuda(float* da, float* db, const float* dout, std::size_t n, cudaStream_t stream);

}  // namespace aicl
