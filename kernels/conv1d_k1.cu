// CUDA pointwise conv for AICL's narrow heads (Cout 20 and 1): a warp per row forward, deterministic two-pass
// weight/bias reductions backward; cuBLAS for wide layers (Cout > kConv1dK1MaxHandwrittenCout).
//
// Why hand-written: at N = B*T = 12000, Cin = 512, Cout <= 20 a GEMM is a thin, memory-bound product (the
// input is read once, ~24 MB) where cuBLAS' tiles would be mostly idle; a warp per row reads each input row once
// (it stays in L1 across the Cout dot products) and the weight (40 KB) lives in L1/L2.
#include "kernels/conv1d_k1.h"

#include <cstddef>
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr unsigned kThreads = 256;
constexpr unsigned kWarpsPerBlock = kThreads / 32;
constexpr int kRowsPerPart = 256;  // rows per partial sum of dweight (fixed: fixes the summation order)
constexpr int kCoTile = 8;         // output channels per thread in the dweight partial kernel
constexpr int kCiTile = 128;       // input channels per block in the dweight partial kernel

__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;  // complete in lane 0
}

// One warp per row n: out[n,co] = bias[co] + dot(in[n,:], weight[co,:]) for every co.
__global__ void k1_forward_warp_per_row(float* out, const float* in, const float* weight, const float* bias, int N,
                                        int Cin, int Cout) {
  const int lane = threadIdx.x & 31;
  const long first_warp = (long(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const long warps = (long(gridDim.x) * blockDim.x) >> 5;
  for (long n = first_warp; n < N; n += warps) {
    const float* x = in + std::size_t(n) * Cin;
    for (int co = 0; co < Cout; ++co) {
      const float* w = weight + std::size_t(co) * Cin;
      float acc = 0.f;
      for (int ci = lane; ci < Cin; ci += 32) acc = fmaf(x[ci], w[ci], acc);
      acc = warp_sum(acc);
      if (lane == 0) out[std::size_t(n) * Cout + co] = acc + bias[co];
    }
  }
}

// din[n,ci] += sum_co dout[n,co] * weight[co,ci]: one thread per (n, ci), coalesced along ci.
__global__ void k1_backward_input(float* din, const float* dout, const float* weight, int N, int Cin, int Cout) {
  const std::size_t total = std::size_t(N) * Cin;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t n = i / Cin, ci = i % Cin;
    const float* g = dout + n * Cout;
    float acc = 0.f;
    for (int co = 0; co < Cout; ++co) acc = fmaf(g[co], weight[std::size_t(co) * Cin + ci], acc);
    din[i] += acc;
  }
}

// partial[p, co, ci] = sum over rows n of part p of dout[n,co] * in[n,ci]. Block: kCiTile threads along ci;
// grid (ci tiles, co tiles of kCoTile, parts). Each thread keeps kCoTile running sums in registers.
__global__ void k1_weight_grad_partial(float* partial, const float* dout, const float* in, int N, int Cin,
                                       int Cout) {
  const int ci = blockIdx.x * kCiTile + threadIdx.x;
  const int co0 = blockIdx.y * kCoTile;
  const long n_begin = long(blockIdx.z) * kRowsPerPart;
  const long n_end = n_begin + kRowsPerPart < N ? n_begin + kRowsPerPart : N;
  if (ci >= Cin) return;
  float acc[kCoTile];
#pragma unroll
  for (int j = 0; j < kCoTile; ++j) acc[j] = 0.f;
  for (long n = n_begin; n < n_end; ++n) {
    const float x = in[std::size_t(n) * Cin + ci];
    const float* g = dout + std::size_t(n) * Cout + co0;
#pragma unroll
    for (int j = 0; j < kCoTile; ++j)
      if (co0 + j < Cout) acc[j] = fmaf(g[j], x, acc[j]);
  }
#pragma unroll
  for (int j = 0; j < kCoTile; ++j)
    if (co0 + j < Cout) partial[(std::size_t(blockIdx.z) * Cout + co0 + j) * Cin + ci] = acc[j];
}

// dweight[co,ci] += sum_p partial[p,co,ci], parts in order.
__global__ void k1_weight_grad_finish(float* dweight, const float* partial, int parts, std::size_t plane) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < plane;
       i += std::size_t(gridDim.x) * blockDim.x) {
    float s = 0.f;
    for (int p = 0; p < parts; ++p) s += partial[std::size_t(p) * plane + i];
    dweight[i] += s;
  }
}

__global__ void add_bias_kernel(float* out, const float* bias, std::size_t total, int Cout) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] += bias[i % unsigned(Cout)];
}

void check_shape(const char* fn, int N, int Cin, int Cout) {
  AICL_CHECK(N >= 0 && Cin >= 1 && Cout >= 0, std::string(fn) + ": bad shape N=" + std::to_string(N) + " Cin=" +
                                                  std::to_string(Cin) + " Cout=" + std::to_string(Cout));
}

}  // namespace

void conv1d_k1_forward_cuda(float* out, const float* in, const float* weight, const float* bias, int N, int Cin,
                            int Cout, cudaStream_t stream) {
  check_shape("conv1d_k1_forward_cuda", N, Cin, Cout);
  if (N == 0 || Cout == 0) return;
  if (Cout > detail::kConv1dK1MaxHandwrittenCout) {
    cublas_gemm(false, true, N, Cout, Cin, 1.f, in, Cin, weight, Cin, 0.f, out, Cout, stream);
    const std::size_t total = std::size_t(N) * Cout;
    add_bias_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(out, bias, total, Cout);
    AICL_CUDA_CHECK_LAUNCH();
    return;
  }
  const unsigned blocks = cuda_blocks_for(std::size_t(N), kWarpsPerBlock);
  k1_forward_warp_per_row<<<blocks, kThreads, 0, stream>>>(out, in, weight, bias, N, Cin, Cout);
  AICL_CUDA_CHECK_LAUNCH();
}

void conv1d_k1_backward_cuda(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                             const float* weight, int N, int Cin, int Cout, cudaStream_t stream) {
  check_shape("conv1d_k1_backward_cuda", N, Cin, Cout);
  if (N == 0 || Cout == 0) return;
  cuda_column_sums_accumulate(dbias, dout, N, Cout, stream);

  if (Cout > detail::kConv1dK1MaxHandwrittenCout) {
    cublas_gemm(true, false, Cout, Cin, N, 1.f, dout, Cout, in, Cin, 1.f, dweight, Cin, stream);
    if (din) cublas_gemm(false, false, N, Cin, Cout, 1.f, dout, Cout, weight, Cin, 1.f, din, Cin, stream);
    return;
  }

  const int parts = (N + kRowsPerPart - 1) / kRowsPerPart;
  AICL_CHECK(parts <= 65535, "conv1d_k1_backward_cuda: N=" + std::to_string(N) + " rows is too many");
  const std::size_t plane = std::size_t(Cout) * Cin;
  ScratchBuffer<float> partial(std::size_t(parts) * plane, stream);
  const dim3 grid((Cin + kCiTile - 1) / kCiTile, (Cout + kCoTile - 1) / kCoTile, unsigned(parts));
  k1_weight_grad_partial<<<grid, kCiTile, 0, stream>>>(partial.data(), dout, in, N, Cin, Cout);
  AICL_CUDA_CHECK_LAUNCH();
  k1_weight_grad_finish<<<cuda_blocks_for(plane, kThreads), kThreads, 0, stream>>>(dweight, partial.data(), parts,
                                                                                   plane);
  AICL_CUDA_CHECK_LAUNCH();

  if (din) {
    const std::size_t total = std::size_t(N) * Cin;
    k1_backward_input<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(din, dout, weight, N, Cin, Cout);
    AICL_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace aicl
