// FTCL's negative-minus-positive contrast of per-pair scores on the GPU: one thread (see pair_contrast.h).
#include "kernels/pair_contrast.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

void check_args(const char* fn, int P, double eps) {
  if (P < 0 || !(eps >= 0))
    fail(std::string(fn) + ": bad arguments P=" + std::to_string(P) + " eps=" + std::to_string(eps));
}

__device__ double inv_count(int n, double eps) { return n > 0 ? 1.0 / (n + eps) : 0.0; }

__device__ int count_pos(const int* pos, int P) {
  int n = 0;
  for (int p = 0; p < P; ++p) n += pos[p] != 0;
  return n;
}

__global__ void forward_kernel(float* loss, const float* value, const int* pos, int P, double eps) {
  const int np = count_pos(pos, P);
  double sp = 0, sn = 0;
  for (int p = 0; p < P; ++p) {
    if (pos[p]) sp += value[p];
    else sn += value[p];
  }
  *loss = float(sn * inv_count(P - np, eps) - sp * inv_count(np, eps));
}

__global__ void backward_kernel(float* dvalue, float dloss, const int* pos, int P, double eps) {
  const int np = count_pos(pos, P);
  const float wp = float(-inv_count(np, eps)), wn = float(inv_count(P - np, eps));
  for (int p = 0; p < P; ++p) dvalue[p] = __fadd_rn(dvalue[p], __fmul_rn(dloss, pos[p] ? wp : wn));
}

}  // namespace

void pair_contrast_forward_cuda(float* loss, const float* value, const int* pos, int P, double eps,
                                cudaStream_t stream) {
  check_args("pair_contrast_forward_cuda", P, eps);
  forward_kernel<<<1, 1, 0, stream>>>(loss, value, pos, P, eps);
  AICL_CUDA_CHECK_LAUNCH();
}

void pair_contrast_backward_cuda(float* dvalue, float dloss, const int* pos, int P, double eps, cudaStream_t stream) {
  check_args("pair_contrast_backward_cuda", P, eps);
  if (P == 0) return;
  backward_kernel<<<1, 1, 0, stream>>>(dvalue, dloss, pos, P, eps);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
