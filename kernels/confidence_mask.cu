// CUDA adaptive actionness mask of SAL: one block, fixed-order double statistics, the EMA state kept on the device.
//
// The block computes p, the statistics, the update and the Gaussian weights, so nothing waits for the host.
#include "kernels/confidence_mask.h"

#include <string>

#include "kernels/cuda_common.h"
#include "kernels/softmax_row.h"

namespace aicl {

namespace {

constexpr int kLanes = 256;  // threads of the single block = partial sums of the fixed-order reduction

// Sums the block's per-thread partials pairwise in a fixed tree (lane l += lane l + w, w = 128, 64, ..., 1); every
// thread gets the total. `lanes` is shared memory of kLanes doubles.
__device__ double block_sum(double* lanes, double partial) {
  lanes[threadIdx.x] = partial;
  __syncthreads();
  for (int w = kLanes / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) lanes[threadIdx.x] = __dadd_rn(lanes[threadIdx.x], lanes[threadIdx.x + w]);
    __syncthreads();
  }
  const double total = lanes[0];
  __syncthreads();  // lanes may be reused by the next call
  return total;
}

// p[n] into m, batch mean and unbiased variance (double), state update by thread 0, then m[n] from p[n]. Each thread
// touches only its own rows n = l (mod kLanes), so m needs no synchronisation between the phases.
__global__ void confidence_mask_kernel(float* m, double* state, const float* cas, int N, int C, double momentum,
                                       double var_scale) {
  __shared__ double lanes[kLanes];
  __shared__ float mu_den[2];
  double s = 0;
  for (long n = threadIdx.x; n < N; n += kLanes) {
    m[n] = softmax_row_max_rn(cas + n * C, C);
    s = __dadd_rn(s, double(m[n]));
  }
  const double mean_b = block_sum(lanes, s) / N;
  double q = 0;
  for (long n = threadIdx.x; n < N; n += kLanes) {
    const double d = double(m[n]) - mean_b;
    q = __dadd_rn(q, __dmul_rn(d, d));
  }
  const double var_b = block_sum(lanes, q) / (N - 1);
  if (threadIdx.x == 0) {
    const double keep = momentum, take = 1 - momentum;
    state[0] = __dadd_rn(__dmul_rn(keep, state[0]), __dmul_rn(take, mean_b));
    state[1] = __dadd_rn(__dmul_rn(keep, state[1]), __dmul_rn(take, var_b));
    mu_den[0] = float(state[0]);
    mu_den[1] = float(__dmul_rn(var_scale, state[1]));
  }
  __syncthreads();
  const float mu = mu_den[0], den = mu_den[1];
  for (long n = threadIdx.x; n < N; n += kLanes) {
    const float diff = __fsub_rn(m[n], mu);
    const float d = diff > 0.f ? 0.f : diff;  // std::min(diff, 0): NaN stays NaN
    m[n] = expf(-__fdiv_rn(__fmul_rn(d, d), den));
  }
}

}  // namespace

void confidence_mask_forward_cuda(float* m, double* state, const float* cas, int N, int C, double momentum,
                                  double var_scale, cudaStream_t stream) {
  if (N < 2 || C < 1)
    fail("confidence_mask_forward_cuda: N=" + std::to_string(N) + " C=" + std::to_string(C) +
         " (the unbiased variance needs N >= 2 segments, and C >= 1)");
  confidence_mask_kernel<<<1, kLanes, 0, stream>>>(m, state, cas, N, C, momentum, var_scale);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
