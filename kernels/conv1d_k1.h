// Pointwise (kernel 1) conv on time-major rows: a linear layer applied to each of the N = B*T segments.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// out[n,co] = bias[co] + sum_ci weight[co,ci] * in[n,ci]. in [N,Cin], out [N,Cout] contiguous; weight is
// PyTorch's Conv1d k=1 layout [Cout,Cin,1] (== [Cout,Cin]), bias [Cout].
template <class T>
void conv1d_k1_forward(T* out, const T* in, const T* weight, const T* bias, int N, int Cin, int Cout);

// ACCUMULATES (+=): dweight += dout^T in, dbias += column sums of dout, din += dout weight (din may be null).
template <class T>
void conv1d_k1_backward(T* dweight, T* dbias, T* din, const T* dout, const T* in, const T* weight, int N, int Cin,
                        int Cout);

// ---- CUDA twin (kernels/conv1d_k1.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Pointwise conv (a linear layer per time-major row) for the small heads.

// Same contract as conv1d_k1_forward: out[n,co] = bias[co] + sum_ci weight[co,ci] in[n,ci]; DEVICE pointers,
// float, queued on `stream`. Cout <= 64 (AICL's 512->20 classifier and 512->1 heads) runs hand-written kernels
// (a warp per row); wider layers go to cuBLAS (precision per set_cuda_math_mode).
void conv1d_k1_forward_cuda(float* out, const float* in, const float* weight, const float* bias, int N, int Cin,
                            int Cout, cudaStream_t stream);

// Same contract as conv1d_k1_backward: ACCUMULATES dweight += dout^T in, dbias += column sums of dout,
// din += dout weight (din may be null). The weight and bias reductions over the N rows are deterministic
// (fixed-order per-block partials, then a second pass; no atomics).
void conv1d_k1_backward_cuda(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                             const float* weight, int N, int Cin, int Cout, cudaStream_t stream);

namespace detail {
// Widest Cout served by the hand-written kernels (above it: cuBLAS).
constexpr int kConv1dK1MaxHandwrittenCout = 64;
}  // namespace detail

}  // namespace aicl
