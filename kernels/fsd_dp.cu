// FTCL's FSD soft-alignment DP on the GPU: one warp per pair, anti-diagonal wavefront in shared memory (fsd_dp.h).
#include "kernels/fsd_dp.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kMaxL = 32;
constexpr int kMaxWarpsPerBlock = 4;
constexpr std::size_t kSharedBudget = 48 * 1024;

void check_args(const char* fn, int P, int L, double gamma) {
  if (P < 0 || L < 1 || L > kMaxL || !(gamma > 0))
    fail(std::string(fn) + ": need P >= 0, 1 <= L <= " + std::to_string(kMaxL) + " on the GPU and gamma > 0 (got P=" +
         std::to_string(P) + ", L=" + std::to_string(L) + ", gamma=" + std::to_string(gamma) + ")");
}

// Shared floats of one pair: C [(L+1)²], the move weights w [3L²], E [(L+2)²] (backward only).
__host__ __device__ inline std::size_t floats_per_pair(int L, bool backward) {
  const std::size_t f = static_cast<std::size_t>(L + 1) * (L + 1) + 3 * static_cast<std::size_t>(L) * L;
  return backward ? f + static_cast<std::size_t>(L + 2) * (L + 2) : f;
}

__global__ void fsd_kernel(float* value, float* dm, float* dg, const float* dvalue, const float* m, const float* g,
                           int P, int L, float gamma, bool backward) {
  extern __shared__ float shared[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int p = blockIdx.x * (blockDim.x / 32) + warp;
  if (p >= P) return;  // the whole warp leaves together
  const int W = L + 1, V = L + 2;
  const std::size_t LL = static_cast<std::size_t>(L) * L;
  float* C = shared + warp * floats_per_pair(L, backward);
  float* w = C + W * W;
  float* E = w + 3 * LL;
  const float* mp = m + p * LL;
  const float* gp = g + p * LL;
  for (int k = lane; k < W * W; k += 32) C[k] = 0.f;
  if (backward)
    for (int k = lane; k < V * V; k += 32) E[k] = 0.f;
  __syncwarp();
  // Forward: the official float order (x/γ, max, exp, left-to-right sum, log, (M + log)·γ, + m).
  for (int d = 2; d <= 2 * L; ++d) {
    for (int i = 1 + lane; i <= L; i += 32) {
      const int j = d - i;
      if (j < 1 || j > L) continue;
      const int c = (i - 1) * L + (j - 1);
      const float gij = gp[c];
      const float z1 = __fdiv_rn(C[(i - 1) * W + (j - 1)], gamma);
      const float z2 = __fdiv_rn(__fadd_rn(gij, C[(i - 1) * W + j]), gamma);
      const float z3 = __fdiv_rn(__fadd_rn(gij, C[i * W + (j - 1)]), gamma);
      float M = z1;
      if (z2 > M) M = z2;
      if (z3 > M) M = z3;
      const float e1 = expf(__fsub_rn(z1, M)), e2 = expf(__fsub_rn(z2, M)), e3 = expf(__fsub_rn(z3, M));
      const float s = __fadd_rn(__fadd_rn(e1, e2), e3);
      C[i * W + j] = __fadd_rn(mp[c], __fmul_rn(gamma, __fadd_rn(M, logf(s))));
      if (backward) {
        w[3 * c] = __fdiv_rn(e1, s);
        w[3 * c + 1] = __fdiv_rn(e2, s);
        w[3 * c + 2] = __fdiv_rn(e3, s);
      }
    }
    __syncwarp();
  }
  if (!backward) {
    if (lane == 0) value[p] = C[L * W + L];
    return;
  }
  // Backward: E on the reverse anti-diagonals, the same sums in the same order as the CPU.
  for (int d = 2 * L; d >= 2; --d) {
    for (int i = 1 + lane; i <= L; i += 32) {
      const int j = d - i;
      if (j < 1 || j > L) continue;
      float e;
      if (i == L && j == L) {
        e = 1.f;
      } else {
        e = 0.f;
        if (i < L && j < L) e = __fadd_rn(e, __fmul_rn(E[(i + 1) * V + (j + 1)], w[3 * (i * L + j)]));
        if (i < L) e = __fadd_rn(e, __fmul_rn(E[(i + 1) * V + j], w[3 * (i * L + (j - 1)) + 1]));
        if (j < L) e = __fadd_rn(e, __fmul_rn(E[i * V + (j + 1)], w[3 * ((i - 1) * L + j) + 2]));
      }
      E[i * V + j] = e;
    }
    __syncwarp();
  }
  const float dv = dvalue[p];
  for (int c = lane; c < static_cast<int>(LL); c += 32) {
    const int i = c / L + 1, j = c % L + 1;
    const float de = __fmul_rn(dv, E[i * V + j]);
    if (dm) dm[p * LL + c] = __fadd_rn(dm[p * LL + c], de);
    if (dg) dg[p * LL + c] = __fadd_rn(dg[p * LL + c], __fmul_rn(de, __fadd_rn(w[3 * c + 1], w[3 * c + 2])));
  }
}

void launch(float* value, float* dm, float* dg, const float* dvalue, const float* m, const float* g, int P, int L,
            double gamma, bool backward, cudaStream_t stream) {
  if (P == 0) return;
  const std::size_t per = floats_per_pair(L, backward) * sizeof(float);
  const int wpb = static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(kMaxWarpsPerBlock, kSharedBudget / per)));
  const int blocks = (P + wpb - 1) / wpb;
  fsd_kernel<<<blocks, 32 * wpb, per * wpb, stream>>>(value, dm, dg, dvalue, m, g, P, L, static_cast<float>(gamma),
                                                       backward);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace

void fsd_dp_forward_cuda(float* value, const float* m, const float* g, int P, int L, double gamma,
                         cudaStream_t stream) {
  check_args("fsd_dp_forward_cuda", P, L, gamma);
  launch(value, nullptr, nullptr, nullptr, m, g, P, L, gamma, false, stream);
}

void fsd_dp_backward_cuda(float* dm, float* dg, const float* dvalue, const float* m, const float* g, int P, int L,
                          double gamma, cudaStream_t stream) {
  check_args("fsd_dp_backward_cuda", P, L, gamma);
  if (!dm && !dg) return;
  launch(nullptr, dm, dg, dvalue, m, g, P, L, gamma, true, stream);
}

}  // namespace aicl
