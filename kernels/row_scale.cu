// Row scaling by a strided column on the GPU (see row_scale.h).
#include "kernels/row_scale.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

void check_args(const char* fn, int stride, int col, int N, int C) {
  if (N < 0 || C < 1 || stride < 1 || col < 0 || col >= stride)
    fail(std::string(fn) + ": bad arguments N=" + std::to_string(N) + " C=" + std::to_string(C) + " stride=" +
         std::to_string(stride) + " col=" + std::to_string(col));
}

__global__ void row_scale_forward_kernel(float* out, const float* x, const float* a, int stride, int col, long total,
                                         int C) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x)
    out[i] = __fmul_rn(x[i], a[(i / C) * stride + col]);
}

__global__ void row_scale_backward_kernel(float* dx, float* da, const float* g, const float* x, const float* a,
                                          int stride, int col, int N, int C) {
  const long n = blockIdx.x * long(blockDim.x) + threadIdx.x;
  if (n >= N) return;
  const float s = a[n * stride + col];
  float dot = 0.f;
  for (int c = 0; c < C; ++c) {
    const long i = n * C + c;
    if (dx) dx[i] = __fadd_rn(dx[i], __fmul_rn(g[i], s));
    dot = __fadd_rn(dot, __fmul_rn(g[i], x[i]));
  }
  if (da) da[n * stride + col] = __fadd_rn(da[n * stride + col], dot);
}

}  // namespace

void row_scale_forward_cuda(float* out, const float* x, const float* a, int stride, int col, int N, int C,
                            cudaStream_t stream) {
  check_args("row_scale_forward_cuda", stride, col, N, C);
  const long total = long(N) * C;
  if (total == 0) return;
  row_scale_forward_kernel<<<cuda_blocks_for(std::size_t(total), 256), 256, 0, stream>>>(out, x, a, stride, col,
                                                                                         total, C);
  AICL_CUDA_CHECK_LAUNCH();
}

void row_scale_backward_cuda(float* dx, float* da, const float* g, const float* x, const float* a, int stride,
                             int col, int N, int C, cudaStream_t stream) {
  check_args("row_scale_backward_cuda", stride, col, N, C);
  if (N == 0) return;
  row_scale_backward_kernel<<<(N + 127) / 128, 128, 0, stream>>>(dx, da, g, x, a, stride, col, N, C);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
