// CUDA twin of kernels/conv1d_k1.h: pointwise conv (a linear layer per time-major row) for the small heads.
#pragma once
#include <cuda_runtime_api.h>

namespace aicl {

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
