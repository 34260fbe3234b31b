// SAL's mix-up by batch roll on the GPU (see roll_mix.h).
#include "kernels/roll_mix.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

__global__ void roll_mix_kernel(float* out, const float* x, int B, std::size_t n, int mode) {
  const std::size_t total = static_cast<std::size_t>(B) * n;
  for (std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; k < total; k += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t b = k / n, i = k % n, prev = (b + B - 1) % B;
    const float a = x[k], p = x[prev * n + i];
    out[k] = mode == 0 ? __fadd_rn(a, p) : mode == 1 ? (a < p ? p : a) : __fdiv_rn(__fadd_rn(a, p), 2.f);
  }
}

}  // namespace

void roll_mix_forward_cuda(float* out, const float* x, int B, std::size_t n, RollMix mode, cudaStream_t stream) {
  if (B < 1) fail("roll_mix_forward_cuda: B must be positive (got " + std::to_string(B) + ")");
  const std::size_t total = static_cast<std::size_t>(B) * n;
  if (total == 0) return;
  roll_mix_kernel<<<cuda_blocks_for(total, 256), 256, 0, stream>>>(out, x, B, n, static_cast<int>(mode));
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
