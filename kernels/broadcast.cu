// SAL's segment broadcasts on the GPU: elementwise kernels and one thread per sum, in the CPU's order.
#include "kernels/broadcast.h"

#include <cstddef>
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

void check_shape(const char* fn, int B, int Tn, int D) {
  if (B < 1 || Tn < 1 || D < 1)
    fail(std::string(fn) + ": B, T and D/C must be positive (got " + std::to_string(B) + ", " + std::to_string(Tn) +
         ", " + std::to_string(D) + ")");
}

#define AICL_GRID_LOOP(i, n) \
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); i += std::size_t(gridDim.x) * blockDim.x)

__global__ void outer_add_kernel(float* out, const float* e, const float* s, const float* a, int Tn, int D,
                                 std::size_t n) {
  AICL_GRID_LOOP(i, n) {
    const std::size_t r = i / D, b = r / Tn;
    out[i] = __fadd_rn(e[i], __fmul_rn(s[b * D + i % D], a[r]));
  }
}

__global__ void add_kernel(float* de, const float* g, std::size_t n) {
  AICL_GRID_LOOP(i, n) de[i] = __fadd_rn(de[i], g[i]);
}

// ds[b,d] += Σ_t g[b,t,d] a[b,t], one thread per (b, d).
__global__ void outer_add_ds_kernel(float* ds, const float* g, const float* a, int B, int Tn, int D) {
  AICL_GRID_LOOP(i, std::size_t(B) * D) {
    const std::size_t b = i / D, d = i % D;
    float sum = 0.f;
    for (int t = 0; t < Tn; ++t) sum = __fadd_rn(sum, __fmul_rn(g[(b * Tn + t) * D + d], a[b * Tn + t]));
    ds[i] = __fadd_rn(ds[i], sum);
  }
}

// da[b,t] += Σ_d g[b,t,d] s[b,d], one thread per (b, t).
__global__ void outer_add_da_kernel(float* da, const float* g, const float* s, int B, int Tn, int D) {
  AICL_GRID_LOOP(r, std::size_t(B) * Tn) {
    const std::size_t b = r / Tn;
    float sum = 0.f;
    for (int d = 0; d < D; ++d) sum = __fadd_rn(sum, __fmul_rn(g[r * D + d], s[b * D + d]));
    da[r] = __fadd_rn(da[r], sum);
  }
}

__global__ void complement_scale_kernel(float* out, const float* x, const float* a, int C, std::size_t n) {
  AICL_GRID_LOOP(i, n) out[i] = __fmul_rn(x[i], __fsub_rn(1.f, a[i / C]));
}

// One thread per row (b, t): dx += g (1 − a), da −= Σ_c g x.
__global__ void complement_scale_backward_kernel(float* dx, float* da, const float* g, const float* x, const float* a,
                                                 int C, std::size_t rows) {
  AICL_GRID_LOOP(r, rows) {
    const float w = __fsub_rn(1.f, a[r]);
    float sum = 0.f;
    for (int c = 0; c < C; ++c) {
      const std::size_t i = r * C + c;
      if (dx) dx[i] = __fadd_rn(dx[i], __fmul_rn(g[i], w));
      sum = __fadd_rn(sum, __fmul_rn(g[i], x[i]));
    }
    if (da) da[r] = __fsub_rn(da[r], sum);
  }
}

#undef AICL_GRID_LOOP

}  // namespace

void outer_add_forward_cuda(float* out, const float* e, const float* s, const float* a, int B, int Tn, int D,
                            cudaStream_t stream) {
  check_shape("outer_add_forward_cuda", B, Tn, D);
  const std::size_t n = std::size_t(B) * Tn * D;
  outer_add_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(out, e, s, a, Tn, D, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void outer_add_backward_cuda(float* de, float* ds, float* da, const float* g, const float* s, const float* a, int B,
                             int Tn, int D, cudaStream_t stream) {
  check_shape("outer_add_backward_cuda", B, Tn, D);
  const std::size_t n = std::size_t(B) * Tn * D;
  if (de) add_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(de, g, n);
  if (ds) outer_add_ds_kernel<<<cuda_blocks_for(std::size_t(B) * D, 128), 128, 0, stream>>>(ds, g, a, B, Tn, D);
  if (da) outer_add_da_kernel<<<cuda_blocks_for(std::size_t(B) * Tn, 128), 128, 0, stream>>>(da, g, s, B, Tn, D);
  AICL_CUDA_CHECK_LAUNCH();
}

void complement_scale_forward_cuda(float* out, const float* x, const float* a, int B, int Tn, int C,
                                   cudaStream_t stream) {
  check_shape("complement_scale_forward_cuda", B, Tn, C);
  const std::size_t n = std::size_t(B) * Tn * C;
  complement_scale_kernel<<<cuda_blocks_for(n, 256), 256, 0, stream>>>(out, x, a, C, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void complement_scale_backward_cuda(float* dx, float* da, const float* g, const float* x, const float* a, int B,
                                    int Tn, int C, cudaStream_t stream) {
  check_shape("complement_scale_backward_cuda", B, Tn, C);
  const std::size_t rows = std::size_t(B) * Tn;
  complement_scale_backward_kernel<<<cuda_blocks_for(rows, 128), 128, 0, stream>>>(dx, da, g, x, a, C, rows);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
