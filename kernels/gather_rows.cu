// Row gather / gather-mean and its scatter-add backward on the GPU (see gather_rows.h).
#include "kernels/gather_rows.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

void check_args(const char* fn, int ld, int B, int Tn, int D, int n) {
  if (B < 0 || Tn < 1 || D < 1 || n < 1 || ld < n)
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " D=" +
         std::to_string(D) + " n=" + std::to_string(n) + " ld=" + std::to_string(ld));
}

__global__ void gather_kernel(float* out, const float* x, const int* idx, int ld, int B, int Tn, int D, int n) {
  const long total = long(B) * n * D;
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
    const long b = i / (long(n) * D), j = (i / D) % n, d = i % D;
    const int t = idx[b * ld + j];
    out[i] = (t >= 0 && t < Tn) ? x[(b * Tn + t) * D + d] : 0.f;
  }
}

__global__ void mean_kernel(float* out, const float* x, const int* idx, int ld, int B, int Tn, int D, int n) {
  const long total = long(B) * D;
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
    const long b = i / D, d = i % D;
    float s = 0.f;
    for (int j = 0; j < n; ++j) {
      const int t = idx[b * ld + j];
      if (t >= 0 && t < Tn) s = __fadd_rn(s, x[(b * Tn + t) * D + d]);
    }
    out[i] = __fdiv_rn(s, float(n));
  }
}

__global__ void scatter_kernel(float* dx, const float* dout, const int* idx, int ld, int B, int Tn, int D, int n,
                               bool mean) {
  const long total = long(B) * n * D;
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
    const long b = i / (long(n) * D), j = (i / D) % n, d = i % D;
    const int t = idx[b * ld + j];
    if (t < 0 || t >= Tn) continue;
    const float g = mean ? __fdiv_rn(dout[b * D + d], float(n)) : dout[i];
    float* r = dx + (b * Tn + t) * D + d;
    *r = __fadd_rn(*r, g);
  }
}

}  // namespace

void gather_rows_forward_cuda(float* out, const float* x, const int* idx, int ld, int B, int Tn, int D, int n,
                              bool mean, cudaStream_t stream) {
  check_args("gather_rows_forward_cuda", ld, B, Tn, D, n);
  if (B == 0) return;
  const std::size_t total = std::size_t(B) * (mean ? 1 : n) * D;
  if (mean) mean_kernel<<<cuda_blocks_for(total, 256), 256, 0, stream>>>(out, x, idx, ld, B, Tn, D, n);
  else gather_kernel<<<cuda_blocks_for(total, 256), 256, 0, stream>>>(out, x, idx, ld, B, Tn, D, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void gather_rows_backward_cuda(float* dx, const float* dout, const int* idx, int ld, int B, int Tn, int D, int n,
                               bool mean, cudaStream_t stream) {
  check_args("gather_rows_backward_cuda", ld, B, Tn, D, n);
  if (B == 0) return;
  const std::size_t total = std::size_t(B) * n * D;
  scatter_kernel<<<cuda_blocks_for(total, 256), 256, 0, stream>>>(dx, dout, idx, ld, B, Tn, D, n, mean);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
