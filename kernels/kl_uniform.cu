// SAL's KL-to-uniform background loss on the GPU: one thread per video, rows summed in order (see kl_uniform.h).
#include "kernels/kl_uniform.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

void check_shape(const char* fn, int B, int C) {
  if (B < 1 || C < 1) fail(std::string(fn) + ": B and C must be positive (got " + std::to_string(B) + ", " +
                           std::to_string(C) + ")");
}

// Max and the sequential sum of exp(z − max) of one row, as the CPU's softmax_row.
__device__ void row_stats(const float* z, int C, float& m, float& s) {
  m = z[0];
  for (int c = 1; c < C; ++c) m = z[c] > m ? z[c] : m;
  s = 0.f;
  for (int c = 0; c < C; ++c) s = __fadd_rn(s, expf(__fsub_rn(z[c], m)));
}

__global__ void kl_rows_kernel(double* rows, const float* z, int B, int C) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  const float* zb = z + static_cast<std::size_t>(b) * C;
  float m, s;
  row_stats(zb, C, m, s);
  const float u = __fdiv_rn(1.f, static_cast<float>(C)), log_u = logf(u);
  double row = 0;
  for (int c = 0; c < C; ++c) {
    const float p = __fdiv_rn(expf(__fsub_rn(zb[c], m)), s);
    row += static_cast<double>(__fmul_rn(u, __fsub_rn(log_u, logf(p))));
  }
  rows[b] = row;
}

__global__ void kl_sum_kernel(float* loss, const double* rows, int B) {
  double total = 0;
  for (int b = 0; b < B; ++b) total += rows[b];
  *loss = static_cast<float>(total / B);
}

__global__ void kl_backward_kernel(float* dz, float dloss, const float* z, int B, int C) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  const float* zb = z + static_cast<std::size_t>(b) * C;
  float m, s;
  row_stats(zb, C, m, s);
  const float u = __fdiv_rn(1.f, static_cast<float>(C)), scale = __fdiv_rn(dloss, static_cast<float>(B));
  for (int c = 0; c < C; ++c) {
    const float p = __fdiv_rn(expf(__fsub_rn(zb[c], m)), s);
    float* d = dz + static_cast<std::size_t>(b) * C + c;
    *d = __fadd_rn(*d, __fmul_rn(scale, __fsub_rn(p, u)));
  }
}

}  // namespace

void kl_uniform_forward_cuda(float* loss, const float* z, int B, int C, cudaStream_t stream) {
  check_shape("kl_uniform_forward_cuda", B, C);
  ScratchBuffer<double> rows(static_cast<std::size_t>(B), stream);
  kl_rows_kernel<<<(B + 127) / 128, 128, 0, stream>>>(rows.data(), z, B, C);
  AICL_CUDA_CHECK_LAUNCH();
  kl_sum_kernel<<<1, 1, 0, stream>>>(loss, rows.data(), B);
  AICL_CUDA_CHECK_LAUNCH();
}

void kl_uniform_backward_cuda(float* dz, float dloss, const float* z, int B, int C, cudaStream_t stream) {
  check_shape("kl_uniform_backward_cuda", B, C);
  kl_backward_kernel<<<(B + 127) / 128, 128, 0, stream>>>(dz, dloss, z, B, C);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
