// Elementwise sigmoid, AICL's class-aware actionness a1 = sigmoid(sum over classes of the CAS), and the fusion of two
// stream actionness curves (AICL's mean (flow + rgb) / 2, SAL's weighted mix (1 - lambda) * flow + lambda * rgb).
#pragma once
#include "kernels/stream.h"
#include <cstddef>

namespace aicl {

// out[i] = 1 / (1 + exp(-in[i])) (torch's formula).
template <class T>
void sigmoid_forward(T* out, const T* in, std::size_t n);

// din[i] += dout[i] * (1 - out[i]) * out[i], with out the sigmoid's output (ACCUMULATES).
template <class T>
void sigmoid_backward(T* din, const T* dout, const T* out, std::size_t n);

// a1[n] = sigmoid(sum_c cas[n,c]) for cas [N,C] row-major (sequential sum over c in T's precision).
template <class T>
void class_aware_actionness_forward(T* a1, const T* cas, int N, int C);

// dcas[n,c] += da1[n] * (1 - a1[n]) * a1[n] for every c (ACCUMULATES).
template <class T>
void class_aware_actionness_backward(T* dcas, const T* da1, const T* a1, int N, int C);

// out[i] = (a[i] + b[i]) / 2 (float expression order: the sum, then the division).
template <class T>
void stream_mean_forward(T* out, const T* a, const T* b, std::size_t n);

// da[i] += dout[i] / 2, db[i] += dout[i] / 2 (ACCUMULATES; the half is formed first, as 0.5 * dout).
template <class T>
void stream_mean_backward(T* da, T* db, const T* dout, std::size_t n);

// out[i] = (T)wa * a[i] + (T)wb * b[i]: both products rounded to T, then the sum (no FMA), as torch's
// (1 - lambda) * a_f + lambda * a_r on float tensors with Python-float weights (SAL THUMOS: wa = 1 - 0.1 = 0.9,
// wb = 0.1; ActivityNet: 0.7, 0.3). Overwrites out.
template <class T>
void stream_mix_forward(T* out, const T* a, const T* b, double wa, double wb, std::size_t n);

// da[i] += (T)wa * dout[i], db[i] += (T)wb * dout[i] (ACCUMULATES; the product rounded, then the addition).
template <class T>
void stream_mix_backward(T* da, T* db, const T* dout, double wa, double wb, std::size_t n);

// ---- CUDA twin (kernels/actionness.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Elementwise sigmoid, AICL's class-aware actionness and the stream fusions, forward and backward.

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

// out[i] = (float)wa * a[i] + (float)wb * b[i] and its backward da[i] += (float)wa * dout[i], db[i] += (float)wb *
// dout[i] (ACCUMULATES): the CPU's order and rounding (_rn intrinsics, no FMA), so bit-equal to the CPU twin.
void stream_mix_forward_cuda(float* out, const float* a, const float* b, double wa, double wb, std::size_t n,
                             cudaStream_t stream);
void stream_mix_backward_cuda(float* da, float* db, const float* dout, double wa, double wb, std::size_t n,
                              cudaStream_t stream);

}  // namespace aicl
