// SAL's bilinear pooling on the GPU: Gram matrices with cuBLAS, signed sqrt + L2 normalisation one block per video.
#include <cub/block/block_reduce.cuh>

#include <cstddef>
#include <string>

#include "kernels/bilinear_pool.h"
#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 512;

void check_shape(const char* fn, int B, int a, int b) {
  if (B < 1 || a < 1 || b < 1)
    fail(std::string(fn) + ": B, T/n and D must be positive (got " + std::to_string(B) + ", " + std::to_string(a) +
         ", " + std::to_string(b) + ")");
}

__global__ void divide_kernel(float* __restrict__ x, std::size_t n, float by) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x)
    x[i] = __fdiv_rn(x[i], by);
}

// u = sign(c) sqrt(|c| + eps) in the CPU's float operations.
__device__ __forceinline__ float signed_sqrt(float x, float eps) {
  return x > 0.f ? __fsqrt_rn(__fadd_rn(x, eps)) : x < 0.f ? -__fsqrt_rn(__fadd_rn(-x, eps)) : 0.f;
}

__global__ void __launch_bounds__(kThreads) ssl2_forward_kernel(float* __restrict__ v, float* __restrict__ norm,
                                                                const float* __restrict__ c, int n, float eps) {
  using Reduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  __shared__ float scale;
  const std::size_t o = std::size_t(blockIdx.x) * n;
  double s = 0;
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float u = signed_sqrt(c[o + i], eps);
    v[o + i] = u;
    s += double(u) * double(u);
  }
  const double total = Reduce(tmp).Sum(s);
  if (threadIdx.x == 0) {
    const float nf = static_cast<float>(sqrt(total));
    norm[blockIdx.x] = nf;
    scale = nf > 1e-12f ? nf : 1e-12f;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += kThreads) v[o + i] = __fdiv_rn(v[o + i], scale);
}

__global__ void __launch_bounds__(kThreads) ssl2_backward_kernel(float* __restrict__ dc, const float* __restrict__ dv,
                                                                 const float* __restrict__ v,
                                                                 const float* __restrict__ norm,
                                                                 const float* __restrict__ c, int n, float eps) {
  using Reduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  __shared__ float dot;
  const std::size_t o = std::size_t(blockIdx.x) * n;
  const bool clamped = !(norm[blockIdx.x] > 1e-12f);
  double s = 0;
  if (!clamped)
    for (int i = threadIdx.x; i < n; i += kThreads) s += double(v[o + i]) * double(dv[o + i]);
  const double total = Reduce(tmp).Sum(s);
  if (threadIdx.x == 0) dot = static_cast<float>(total);
  __syncthreads();
  const float m = clamped ? 1e-12f : norm[blockIdx.x];
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float x = c[o + i];
    if (x == 0.f) continue;
    const float gu = __fdiv_rn(clamped ? dv[o + i] : __fsub_rn(dv[o + i], __fmul_rn(v[o + i], dot)), m);
    const float g = __fdiv_rn(__fmul_rn(gu, 0.5f), __fsqrt_rn(__fadd_rn(fabsf(x), eps)));
    dc[o + i] = __fadd_rn(dc[o + i], g);
  }
}

}  // namespace

void gram_forward_cuda(float* G, const float* E, int B, int Tn, int D, cudaStream_t stream) {
  check_shape("gram_forward_cuda", B, Tn, D);
  const std::size_t dd = std::size_t(D) * D, td = std::size_t(Tn) * D;
  for (int b = 0; b < B; ++b)
    cublas_gemm(true, false, D, D, Tn, 1.f, E + b * td, D, E + b * td, D, 0.f, G + b * dd, D, stream);
  const std::size_t n = dd * B;
  divide_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(G, n, static_cast<float>(double(Tn) * Tn));
  AICL_CUDA_CHECK_LAUNCH();
}

void gram_backward_cuda(float* dE, const float* dG, const float* E, int B, int Tn, int D, cudaStream_t stream) {
  check_shape("gram_backward_cuda", B, Tn, D);
  const std::size_t dd = std::size_t(D) * D, td = std::size_t(Tn) * D;
  const float s = static_cast<float>(1.0 / (double(Tn) * Tn));
  for (int b = 0; b < B; ++b) {
    cublas_gemm(false, true, Tn, D, D, s, E + b * td, D, dG + b * dd, D, 1.f, dE + b * td, D, stream);
    cublas_gemm(false, false, Tn, D, D, s, E + b * td, D, dG + b * dd, D, 1.f, dE + b * td, D, stream);
  }
}

void signed_sqrt_l2_forward_cuda(float* v, float* norm, const float* c, int B, int n, double eps,
                                 cudaStream_t stream) {
  check_shape("signed_sqrt_l2_forward_cuda", B, n, 1);
  ssl2_forward_kernel<<<B, kThreads, 0, stream>>>(v, norm, c, n, static_cast<float>(eps));
  AICL_CUDA_CHECK_LAUNCH();
}

void signed_sqrt_l2_backward_cuda(float* dc, const float* dv, const float* v, const float* norm, const float* c,
                                  int B, int n, double eps, cudaStream_t stream) {
  check_shape("signed_sqrt_l2_backward_cuda", B, n, 1);
  ssl2_backward_kernel<<<B, kThreads, 0, stream>>>(dc, dv, v, norm, c, n, static_cast<float>(eps));
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
