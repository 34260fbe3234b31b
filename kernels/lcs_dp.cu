// FTCL's hard thresholded LCS on the GPU: one warp per pair, anti-diagonal wavefront in shared memory (lcs_dp.h).
#include "kernels/lcs_dp.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kMaxL = 64;
constexpr int kMaxWarpsPerBlock = 4;
constexpr std::size_t kSharedBudget = 48 * 1024;

void check_args(const char* fn, int P, int L) {
  if (P < 0 || L < 1 || L > kMaxL)
    fail(std::string(fn) + ": need P >= 0 and 1 <= L <= " + std::to_string(kMaxL) + " on the GPU (got P=" +
         std::to_string(P) + ", L=" + std::to_string(L) + ")");
}

// Floats of shared memory one pair needs: C [(L+1)²] and the cell scores [L²].
__host__ __device__ inline std::size_t floats_per_pair(int L) {
  return static_cast<std::size_t>(L + 1) * (L + 1) + static_cast<std::size_t>(L) * L;
}

__device__ __forceinline__ float lcs_score(float s, bool stage_a) {
  if (!stage_a) return s;
  const float d = __fsub_rn(s, 0.8f);
  return __fmul_rn(d < 0.f ? 0.f : d, 5.f);
}

// Forward (and, with dS, the backtrace) of the pairs of this block, one warp each.
__global__ void lcs_kernel(float* value, float* dS, const float* dvalue, const float* S, int P, int L, float tau,
                           bool stage_a) {
  extern __shared__ float shared[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int p = blockIdx.x * (blockDim.x / 32) + warp;
  if (p >= P) return;  // the whole warp leaves together
  const int W = L + 1;
  const std::size_t LL = static_cast<std::size_t>(L) * L;
  float* C = shared + warp * floats_per_pair(L);
  float* s = C + W * W;
  const float* Sp = S + p * LL;
  for (int k = lane; k < W * W; k += 32) C[k] = 0.f;
  for (int k = lane; k < static_cast<int>(LL); k += 32) s[k] = lcs_score(Sp[k], stage_a);
  __syncwarp();
  for (int d = 2; d <= 2 * L; ++d) {
    for (int i = 1 + lane; i <= L; i += 32) {
      const int j = d - i;
      if (j < 1 || j > L) continue;
      const float sc = s[(i - 1) * L + (j - 1)];
      const float up = C[(i - 1) * W + j], left = C[i * W + (j - 1)];
      C[i * W + j] = sc > tau ? __fadd_rn(C[(i - 1) * W + (j - 1)], sc) : (left > up ? left : up);
    }
    __syncwarp();
  }
  if (lane != 0) return;
  if (!dS) {
    value[p] = C[L * W + L];
    return;
  }
  const float g = stage_a ? __fmul_rn(dvalue[p], 5.f) : dvalue[p];
  float* dSp = dS + p * LL;
  int i = L, j = L;
  while (i > 0 && j > 0) {
    const int c = (i - 1) * L + (j - 1);
    if (s[c] > tau) {
      dSp[c] = __fadd_rn(dSp[c], g);
      --i;
      --j;
    } else if (C[i * W + (j - 1)] > C[(i - 1) * W + j]) {
      --j;
    } else {
      --i;
    }
  }
}

void launch(float* value, float* dS, const float* dvalue, const float* S, int P, int L, float tau, bool stage_a,
            cudaStream_t stream) {
  if (P == 0) return;
  const std::size_t per = floats_per_pair(L) * sizeof(float);
  const int wpb = static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(kMaxWarpsPerBlock, kSharedBudget / per)));
  const int blocks = (P + wpb - 1) / wpb;
  lcs_kernel<<<blocks, 32 * wpb, per * wpb, stream>>>(value, dS, dvalue, S, P, L, tau, stage_a);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace

void lcs_dp_forward_cuda(float* value, const float* S, int P, int L, float tau, bool stage_a, cudaStream_t stream) {
  check_args("lcs_dp_forward_cuda", P, L);
  launch(value, nullptr, nullptr, S, P, L, tau, stage_a, stream);
}

void lcs_dp_backward_cuda(float* dS, const float* dvalue, const float* S, int P, int L, float tau, bool stage_a,
                          cudaStream_t stream) {
  check_args("lcs_dp_backward_cuda", P, L);
  if (!dS) return;
  launch(nullptr, dS, dvalue, S, P, L, tau, stage_a, stream);
}

}  // namespace aicl
