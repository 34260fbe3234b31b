// ACM-Net's branch classification loss on the GPU: one thread per video, rows summed in order (see branch_ce.h).
#include "kernels/branch_ce.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kMaxClasses = 1024;  // K + 1 per thread in local memory

void check_args(const char* fn, int B, int K, double eps) {
  if (B < 1 || K < 1 || K + 1 > kMaxClasses || !(eps >= 0))
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " K=" + std::to_string(K) + " eps=" +
         std::to_string(eps) + " (K + 1 <= " + std::to_string(kMaxClasses) + ")");
}

// Softmax p and target t of video b (the CPU's order), into the caller's arrays.
__device__ void row_prob_target(float* p, float* t, const float* z, const float* y, int K, int target) {
  const int C = K + 1;
  float mx = z[0];
  for (int c = 1; c < C; ++c) mx = mx < z[c] ? z[c] : mx;
  float s = 0.f;
  for (int c = 0; c < C; ++c) s = __fadd_rn(s, p[c] = expf(__fsub_rn(z[c], mx)));
  const float inv = __fdiv_rn(1.f, s);
  for (int c = 0; c < C; ++c) p[c] = __fmul_rn(p[c], inv);
  float sum = 0.f;
  for (int c = 0; c < K; ++c) sum = __fadd_rn(sum, y[c]);
  for (int c = 0; c < K; ++c) t[c] = target == 2 ? 0.f : y[c];
  t[K] = target == 0 ? 0.f : 1.f;
  const float norm = target == 0 ? sum : target == 1 ? __fadd_rn(sum, 1.f) : 1.f;
  for (int c = 0; c < C; ++c) t[c] = __fdiv_rn(t[c], norm);
}

__global__ void branch_ce_rows_kernel(double* rows, const float* z, const float* y, int B, int K, int target,
                                      float eps) {
  const long b = blockIdx.x * long(blockDim.x) + threadIdx.x;
  if (b >= B) return;
  float p[kMaxClasses], t[kMaxClasses];
  row_prob_target(p, t, z + b * (K + 1), y + b * K, K, target);
  double row = 0;
  for (int c = 0; c <= K; ++c) row += double(__fmul_rn(logf(__fadd_rn(p[c], eps)), t[c]));
  rows[b] = row;
}

__global__ void branch_ce_sum_kernel(float* loss, const double* rows, int B) {
  double total = 0;
  for (int b = 0; b < B; ++b) total += rows[b];
  *loss = float(-total / B);
}

__global__ void branch_ce_backward_kernel(float* dz, float scale, const float* z, const float* y, int B, int K,
                                          int target, float eps) {
  const long b = blockIdx.x * long(blockDim.x) + threadIdx.x;
  if (b >= B) return;
  float p[kMaxClasses], t[kMaxClasses];
  row_prob_target(p, t, z + b * (K + 1), y + b * K, K, target);
  float wsum = 0.f;
  for (int c = 0; c <= K; ++c) wsum = __fadd_rn(wsum, t[c] = __fdiv_rn(__fmul_rn(t[c], p[c]), __fadd_rn(p[c], eps)));
  for (int c = 0; c <= K; ++c) {
    float* d = dz + b * (K + 1) + c;
    *d = __fadd_rn(*d, __fmul_rn(scale, __fsub_rn(t[c], __fmul_rn(p[c], wsum))));
  }
}

}  // namespace

void branch_ce_forward_cuda(float* loss, const float* logits, const float* labels, int B, int K, BranchTarget target,
                            double eps, cudaStream_t stream) {
  check_args("branch_ce_forward_cuda", B, K, eps);
  ScratchBuffer<double> rows(std::size_t(B), stream);
  branch_ce_rows_kernel<<<(B + 63) / 64, 64, 0, stream>>>(rows.data(), logits, labels, B, K, int(target),
                                                          float(eps));
  AICL_CUDA_CHECK_LAUNCH();
  branch_ce_sum_kernel<<<1, 1, 0, stream>>>(loss, rows.data(), B);
  AICL_CUDA_CHECK_LAUNCH();
}

void branch_ce_backward_cuda(float* dlogits, float dloss, const float* logits, const float* labels, int B, int K,
                             BranchTarget target, double eps, cudaStream_t stream) {
  check_args("branch_ce_backward_cuda", B, K, eps);
  const float scale = -dloss / float(B);
  branch_ce_backward_kernel<<<(B + 63) / 64, 64, 0, stream>>>(dlogits, scale, logits, labels, B, K, int(target),
                                                              float(eps));
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
