// Row-wise softmax on the GPU: one thread per row, the CPU's float order (see softmax_rows.h).
#include "kernels/softmax_rows.h"

#include <string>

#include "kernels/cuda_common.h"
#include "kernels/softmax_row.h"

namespace aicl {

namespace {

void check_shape(const char* fn, int N, int C) {
  if (N < 0 || C < 1)
    fail(std::string(fn) + ": bad shape N=" + std::to_string(N) + " C=" + std::to_string(C));
}

__global__ void softmax_rows_forward_kernel(float* out, const float* x, int N, int C) {
  const long n = blockIdx.x * long(blockDim.x) + threadIdx.x;
  if (n < N) softmax_row_rn(out + n * C, x + n * C, C);
}

__global__ void softmax_rows_backward_kernel(float* dx, const float* g, const float* p, int N, int C) {
  const long n = blockIdx.x * long(blockDim.x) + threadIdx.x;
  if (n >= N) return;
  const float* pn = p + n * C;
  const float* gn = g + n * C;
  float dot = 0.f;
  for (int c = 0; c < C; ++c) dot = __fadd_rn(dot, __fmul_rn(pn[c], gn[c]));
  for (int c = 0; c < C; ++c) dx[n * C + c] = __fadd_rn(dx[n * C + c], __fmul_rn(pn[c], __fsub_rn(gn[c], dot)));
}

}  // namespace

void softmax_rows_forward_cuda(float* out, const float* x, int N, int C, cudaStream_t stream) {
  check_shape("softmax_rows_forward_cuda", N, C);
  if (N == 0) return;
  softmax_rows_forward_kernel<<<(N + 127) / 128, 128, 0, stream>>>(out, x, N, C);
  AICL_CUDA_CHECK_LAUNCH();
}

void softmax_rows_backward_cuda(float* dx, const float* g, const float* p, int N, int C, cudaStream_t stream) {
  check_shape("softmax_rows_backward_cuda", N, C);
  if (N == 0) return;
  softmax_rows_backward_kernel<<<(N + 127) / 128, 128, 0, stream>>>(dx, g, p, N, C);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
