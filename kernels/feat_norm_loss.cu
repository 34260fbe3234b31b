// ACM-Net's feature-norm loss on the GPU (see feat_norm_loss.h).
#include "kernels/feat_norm_loss.h"

#include <cub/block/block_reduce.cuh>

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 256;
using Reduce = cub::BlockReduce<double, kThreads>;

void check_args(const char* fn, int B, int D) {
  if (B < 1 || D < 1) fail(std::string(fn) + ": bad shape B=" + std::to_string(B) + " D=" + std::to_string(D));
}

// norms[x·B + b] = ‖f_x[b]‖₂: one block per row, squares summed in double in a fixed order.
__global__ void norms_kernel(float* norms, const float* f, int D) {
  __shared__ typename Reduce::TempStorage tmp;
  const float* row = f + long(blockIdx.x) * D;
  double s = 0;
  for (int d = threadIdx.x; d < D; d += kThreads) s += double(row[d]) * double(row[d]);
  const double total = Reduce(tmp).Sum(s);
  if (threadIdx.x == 0) norms[blockIdx.x] = float(sqrt(total));
}

// The per-video terms of the CPU (feat_norm_loss.cpu.cpp), from the three norms.
__device__ void terms(const float* norms, int B, int b, float margin, float& l1, float& l2, float& s) {
  const float ni = norms[b], nc = norms[B + b], nb = norms[2 * B + b];
  l1 = __fadd_rn(__fsub_rn(margin, ni), nc);
  l2 = __fadd_rn(__fsub_rn(margin, nc), nb);
  s = __fadd_rn(__fadd_rn(l1 < 0.f ? 0.f : l1, l2 < 0.f ? 0.f : l2), nb);
}

__global__ void loss_kernel(float* loss, const float* norms, int B, float margin) {
  double total = 0;
  for (int b = 0; b < B; ++b) {
    float l1, l2, s;
    terms(norms, B, b, margin, l1, l2, s);
    total += double(__fmul_rn(s, s));
  }
  *loss = float(total / B);
}

// scale[x·B + b] = (∂loss/∂n_x)/n_x (0 for a zero norm), one thread per video.
__global__ void scales_kernel(float* scale, const float* norms, int B, float dloss, float margin) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  float l1, l2, s;
  terms(norms, B, b, margin, l1, l2, s);
  const float g = __fdiv_rn(__fmul_rn(__fmul_rn(2.f, s), dloss), float(B));
  const float k1 = l1 < 0.f ? 0.f : g, k2 = l2 < 0.f ? 0.f : g;
  const float dn[3] = {-k1, __fsub_rn(k1, k2), __fadd_rn(k2, g)};
  for (int x = 0; x < 3; ++x) {
    const float n = norms[x * B + b];
    scale[x * B + b] = n != 0.f ? __fdiv_rn(dn[x], n) : 0.f;
  }
}

__global__ void apply_kernel(float* df, const float* f, const float* scale, long total, int D) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x)
    df[i] = __fadd_rn(df[i], __fmul_rn(scale[i / D], f[i]));
}

}  // namespace

void feat_norm_loss_forward_cuda(float* loss, const float* f, int B, int D, double margin, cudaStream_t stream) {
  check_args("feat_norm_loss_forward_cuda", B, D);
  ScratchBuffer<float> norms(std::size_t(3) * B, stream);
  norms_kernel<<<3 * B, kThreads, 0, stream>>>(norms.data(), f, D);
  AICL_CUDA_CHECK_LAUNCH();
  loss_kernel<<<1, 1, 0, stream>>>(loss, norms.data(), B, float(margin));
  AICL_CUDA_CHECK_LAUNCH();
}

void feat_norm_loss_backward_cuda(float* df, float dloss, const float* f, int B, int D, double margin,
                                  cudaStream_t stream) {
  check_args("feat_norm_loss_backward_cuda", B, D);
  ScratchBuffer<float> norms(std::size_t(3) * B, stream), scale(std::size_t(3) * B, stream);
  norms_kernel<<<3 * B, kThreads, 0, stream>>>(norms.data(), f, D);
  AICL_CUDA_CHECK_LAUNCH();
  scales_kernel<<<(B + 63) / 64, 64, 0, stream>>>(scale.data(), norms.data(), B, dloss, float(margin));
  AICL_CUDA_CHECK_LAUNCH();
  const long total = 3L * B * D;
  apply_kernel<<<cuda_blocks_for(std::size_t(total), 256), 256, 0, stream>>>(df, f, scale.data(), total, D);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
