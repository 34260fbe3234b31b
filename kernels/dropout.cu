// Dropout on the GPU with the Philox mask shared with the CPU (see dropout.h).
#include "kernels/dropout.h"

#include <string>

#include "kernels/cuda_common.h"
#include "kernels/dropout_philox.h"

namespace aicl {

namespace {

void check_p(const char* fn, double p, std::size_t group) {
  if (!(p >= 0 && p < 1)) fail(std::string(fn) + ": p = " + std::to_string(p) + " must be in [0, 1)");
  if (group < 1) fail(std::string(fn) + ": group must be at least 1");
}

__global__ void dropout_forward_kernel(float* out, const float* x, std::size_t n, float keep_prob, float scale,
                                       std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                                       std::size_t group) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = dropout_detail::keep(seed, step, tensor, i / group, keep_prob) ? __fmul_rn(x[i], scale) : 0.f;
}

__global__ void dropout_backward_kernel(float* dx, const float* g, std::size_t n, float keep_prob, float scale,
                                        std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                                        std::size_t group) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x)
    if (dropout_detail::keep(seed, step, tensor, i / group, keep_prob))
      dx[i] = __fadd_rn(dx[i], __fmul_rn(g[i], scale));
}

}  // namespace

void dropout_forward_cuda(float* out, const float* x, std::size_t n, double p, const DropoutKey& key,
                          cudaStream_t stream, std::size_t group) {
  check_p("dropout_forward_cuda", p, group);
  if (n == 0) return;
  dropout_forward_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(
      out, x, n, static_cast<float>(1.0 - p), static_cast<float>(1.0 / (1.0 - p)), key.seed, key.step, key.tensor,
      group);
  AICL_CUDA_CHECK_LAUNCH();
}

void dropout_backward_cuda(float* dx, const float* g, std::size_t n, double p, const DropoutKey& key,
                           cudaStream_t stream, std::size_t group) {
  check_p("dropout_backward_cuda", p, group);
  if (n == 0) return;
  dropout_backward_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(
      dx, g, n, static_cast<float>(1.0 - p), static_cast<float>(1.0 / (1.0 - p)), key.seed, key.step, key.tensor,
      group);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
