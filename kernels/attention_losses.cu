// ACM-Net's guide and sparsity losses on the GPU (see attention_losses.h).
#include "kernels/attention_losses.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

void check_args(const char* fn, int B, int Tn, int C, int A, int cols) {
  if (B < 1 || Tn < 1 || C < 1 || A < 1 || cols < 1 || cols > A)
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " C=" +
         std::to_string(C) + " A=" + std::to_string(A) + " cols=" + std::to_string(cols));
}

// rows[b] = Σ_t |1 − p − att| of video b, in double, t in order.
__global__ void guide_rows_kernel(double* rows, const float* p, const float* att, int B, int Tn, int C, int A) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  double s = 0;
  for (long n = long(b) * Tn; n < long(b + 1) * Tn; ++n)
    s += fabsf(__fsub_rn(__fsub_rn(1.f, p[n * C + C - 1]), att[n * A]));
  rows[b] = s;
}

// rows[b] = Σ_t Σ_{a<cols} att of video b, in double, in the CPU's order.
__global__ void sparsity_rows_kernel(double* rows, const float* att, int B, int Tn, int A, int cols) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  double s = 0;
  for (long n = long(b) * Tn; n < long(b + 1) * Tn; ++n)
    for (int a = 0; a < cols; ++a) s += att[n * A + a];
  rows[b] = s;
}

__global__ void sum_rows_kernel(float* loss, const double* rows, int B, double divisor) {
  double total = 0;
  for (int b = 0; b < B; ++b) total += rows[b];
  *loss = float(total / divisor);
}

__global__ void guide_backward_kernel(float* dp, float scale, const float* p, const float* att, long N, int C, int A) {
  for (long n = blockIdx.x * long(blockDim.x) + threadIdx.x; n < N; n += long(gridDim.x) * blockDim.x) {
    const float r = __fsub_rn(__fsub_rn(1.f, p[n * C + C - 1]), att[n * A]);
    float* d = dp + n * C + C - 1;
    if (r > 0.f) *d = __fsub_rn(*d, scale);
    else if (r < 0.f) *d = __fadd_rn(*d, scale);
  }
}

__global__ void sparsity_backward_kernel(float* datt, float g, long N, int A, int cols) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < N * cols; i += long(gridDim.x) * blockDim.x) {
    float* d = datt + (i / cols) * A + i % cols;
    *d = __fadd_rn(*d, g);
  }
}

}  // namespace

void guide_loss_forward_cuda(float* loss, const float* p, const float* att, int B, int Tn, int C, int A,
                             cudaStream_t stream) {
  check_args("guide_loss_forward_cuda", B, Tn, C, A, 1);
  ScratchBuffer<double> rows(std::size_t(B), stream);
  guide_rows_kernel<<<(B + 63) / 64, 64, 0, stream>>>(rows.data(), p, att, B, Tn, C, A);
  AICL_CUDA_CHECK_LAUNCH();
  sum_rows_kernel<<<1, 1, 0, stream>>>(loss, rows.data(), B, double(B));
  AICL_CUDA_CHECK_LAUNCH();
}

void guide_loss_backward_cuda(float* dp, float dloss, const float* p, const float* att, int B, int Tn, int C, int A,
                              cudaStream_t stream) {
  check_args("guide_loss_backward_cuda", B, Tn, C, A, 1);
  const long N = long(B) * Tn;
  guide_backward_kernel<<<cuda_blocks_for(std::size_t(N), 256), 256, 0, stream>>>(dp, dloss / float(B), p, att, N,
                                                                                  C, A);
  AICL_CUDA_CHECK_LAUNCH();
}

void att_sparsity_forward_cuda(float* loss, const float* att, int B, int Tn, int A, int cols, cudaStream_t stream) {
  check_args("att_sparsity_forward_cuda", B, Tn, 1, A, cols);
  ScratchBuffer<double> rows(std::size_t(B), stream);
  sparsity_rows_kernel<<<(B + 63) / 64, 64, 0, stream>>>(rows.data(), att, B, Tn, A, cols);
  AICL_CUDA_CHECK_LAUNCH();
  sum_rows_kernel<<<1, 1, 0, stream>>>(loss, rows.data(), B, double(B) * cols);
  AICL_CUDA_CHECK_LAUNCH();
}

void att_sparsity_backward_cuda(float* datt, float dloss, int B, int Tn, int A, int cols, cudaStream_t stream) {
  check_args("att_sparsity_backward_cuda", B, Tn, 1, A, cols);
  const long N = long(B) * Tn;
  sparsity_backward_kernel<<<cuda_blocks_for(std::size_t(N * cols), 256), 256, 0, stream>>>(
      datt, dloss / float(B * cols), N, A, cols);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
