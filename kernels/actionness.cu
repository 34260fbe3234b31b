// CUDA sigmoid / class-aware actionness / stream fusion: elementwise kernels with explicit round-to-nearest steps (no
// contraction), so they reproduce kernels/actionness.cpu.cpp's float arithmetic operation by operation.
#include "kernels/actionness.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr unsigned kThreads = 256;

// torch's 1 / (1 + exp(-x)).
__device__ inline float sigmoid_rn(float x) { return __fdiv_rn(1.f, __fadd_rn(1.f, expf(-x))); }

// dy * (1 - y) * y, left to right, each product rounded (as the CPU computes it).
__device__ inline float sigmoid_grad_rn(float dy, float y) { return __fmul_rn(__fmul_rn(dy, __fsub_rn(1.f, y)), y); }

__global__ void sigmoid_forward_kernel(float* out, const float* in, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = sigmoid_rn(in[i]);
}

__global__ void sigmoid_backward_kernel(float* din, const float* dout, const float* out, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    din[i] = __fadd_rn(din[i], sigmoid_grad_rn(dout[i], out[i]));
}

// One thread per row: C is small (20 classes), and the sequential sum keeps the CPU's order.
__global__ void class_aware_forward_kernel(float* a1, const float* cas, int N, int C) {
  for (long n = blockIdx.x * long(blockDim.x) + threadIdx.x; n < N; n += long(gridDim.x) * blockDim.x) {
    const float* row = cas + std::size_t(n) * C;
    float s = 0.f;
    for (int c = 0; c < C; ++c) s = __fadd_rn(s, row[c]);
    a1[n] = sigmoid_rn(s);
  }
}

// One thread per (n, c): coalesced writes of dcas.
__global__ void class_aware_backward_kernel(float* dcas, const float* da1, const float* a1, int N, int C) {
  const std::size_t total = std::size_t(N) * C;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t n = i / unsigned(C);
    dcas[i] = __fadd_rn(dcas[i], sigmoid_grad_rn(da1[n], a1[n]));
  }
}

void check_rows(const char* fn, int N, int C) {
  AICL_CHECK(N >= 0 && C >= 0, std::string(fn) + ": bad shape N=" + std::to_string(N) + " C=" + std::to_string(C));
}

}  // namespace

void sigmoid_forward_cuda(float* out, const float* in, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  sigmoid_forward_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(out, in, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void sigmoid_backward_cuda(float* din, const float* dout, const float* out, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  sigmoid_backward_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(din, dout, out, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void class_aware_actionness_forward_cuda(float* a1, const float* cas, int N, int C, cudaStream_t stream) {
  check_rows("class_aware_actionness_forward_cuda", N, C);
  if (N == 0) return;
  class_aware_forward_kernel<<<cuda_blocks_for(std::size_t(N), kThreads), kThreads, 0, stream>>>(a1, cas, N, C);
  AICL_CUDA_CHECK_LAUNCH();
}

void class_aware_actionness_backward_cuda(float* dcas, const float* da1, const float* a1, int N, int C,
                                          cudaStream_t stream) {
  check_rows("class_aware_actionness_backward_cuda", N, C);
  const std::size_t total = std::size_t(N) * C;
  if (total == 0) return;
  class_aware_backward_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(dcas, da1, a1, N, C);
  AICL_CUDA_CHECK_LAUNCH();
}

namespace {

// The class-agnostic actionness (flow + rgb) / 2, rounded as the CPU's float expression (no contraction possible).
__global__ void stream_mean_kernel(float* __restrict__ out, const float* __restrict__ a, const float* __restrict__ b,
                                   std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = __fdiv_rn(__fadd_rn(a[i], b[i]), 2.0f);
}

__global__ void stream_mean_backward_kernel(float* __restrict__ da, float* __restrict__ db,
                                            const float* __restrict__ dout, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x) {
    const float h = __fmul_rn(0.5f, dout[i]);
    da[i] = __fadd_rn(da[i], h);
    db[i] = __fadd_rn(db[i], h);
  }
}

// SAL's fused actionness wa * a + wb * b: two rounded products, then the rounded sum (the CPU's float order).
__global__ void stream_mix_kernel(float* __restrict__ out, const float* __restrict__ a, const float* __restrict__ b,
                                  float wa, float wb, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = __fadd_rn(__fmul_rn(wa, a[i]), __fmul_rn(wb, b[i]));
}

__global__ void stream_mix_backward_kernel(float* __restrict__ da, float* __restrict__ db,
                                           const float* __restrict__ dout, float wa, float wb, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    da[i] = __fadd_rn(da[i], __fmul_rn(wa, dout[i]));
    db[i] = __fadd_rn(db[i], __fmul_rn(wb, dout[i]));
  }
}

}  // namespace

void stream_mean_forward_cuda(float* out, const float* a, const float* b, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  stream_mean_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(out, a, b, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void stream_mean_backward_cuda(float* da, float* db, const float* dout, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  stream_mean_backward_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(da, db, dout, n);
  AICL_CUDA_CHECK_LAUNCH();
}

// The weights are rounded to float on the host, as the CPU twin's (T)wa.
void stream_mix_forward_cuda(float* out, const float* a, const float* b, double wa, double wb, std::size_t n,
                             cudaStream_t stream) {
  if (n == 0) return;
  stream_mix_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(out, a, b, float(wa), float(wb), n);
  AICL_CUDA_CHECK_LAUNCH();
}

void stream_mix_backward_cuda(float* da, float* db, const float* dout, double wa, double wb, std::size_t n,
                              cudaStream_t stream) {
  if (n == 0) return;
  stream_mix_backward_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(da, db, dout, float(wa),
                                                                                     float(wb), n);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
