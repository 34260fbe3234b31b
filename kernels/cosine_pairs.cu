// Cosine-similarity matrices of candidate-set pairs on the GPU, deterministic (see cosine_pairs.h).
#include "kernels/cosine_pairs.h"

#include <cub/block/block_reduce.cuh>

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 16;  // w <= kThreads·kPerThread columns held per block row
using ReduceD = cub::BlockReduce<double, kThreads>;
using ReduceF = cub::BlockReduce<float, kThreads>;

void check_args(const char* fn, int rows, int ld, int c0, int w, int P, int L) {
  if (P < 0 || L < 1 || w < 1 || w > kThreads * kPerThread || c0 < 0 || c0 + w > ld || rows < 0)
    fail(std::string(fn) + ": bad arguments P=" + std::to_string(P) + " L=" + std::to_string(L) + " columns [" +
         std::to_string(c0) + ", " + std::to_string(c0 + w) + ") ld=" + std::to_string(ld) + " (w <= " +
         std::to_string(kThreads * kPerThread) + ")");
}

// norm[r] = ‖X[r, c0 : c0 + w]‖₂, one block per row (squares in double, fixed order).
__global__ void norms_kernel(float* norm, const float* X, int ld, int c0, int w) {
  __shared__ typename ReduceD::TempStorage tmp;
  const float* x = X + long(blockIdx.x) * ld + c0;
  double s = 0;
  for (int d = threadIdx.x; d < w; d += kThreads) s += double(x[d]) * double(x[d]);
  const double total = ReduceD(tmp).Sum(s);
  if (threadIdx.x == 0) norm[blockIdx.x] = float(sqrt(total));
}

// S[p,i,j]: one warp per cell, lanes over the columns, a fixed-order shuffle reduction.
__global__ void forward_kernel(float* S, const float* X, const float* norm, int ld, int c0, int w, const int* ra,
                               const int* rb, int P, int L) {
  const long cell = (blockIdx.x * long(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (cell >= long(P) * L * L) return;
  const int p = int(cell / (long(L) * L)), i = int(cell / L % L), j = int(cell % L);
  const int r = ra[p] + i, q = rb[p] + j;
  const float* a = X + long(r) * ld + c0;
  const float* b = X + long(q) * ld + c0;
  const float na = norm[r], nb = norm[q];
  float s = 0.f;
  for (int d = lane; d < w; d += 32) s = __fadd_rn(s, __fmul_rn(__fdiv_rn(a[d], na), __fdiv_rn(b[d], nb)));
  for (int off = 16; off > 0; off /= 2) s = __fadd_rn(s, __shfl_down_sync(0xffffffffu, s, off));
  if (lane == 0) S[cell] = s;
}

// Adds one pair side's contribution to row r's accumulator: dn[d] = Σ_k g(k)·other_k[d] over the other set's L rows,
// then acc += (dn − n̂·⟨n̂, dn⟩)/‖x_r‖. g(k) = dS[p, i, k] (a side, transposed = false) or dS[p, k, i] (b side).
__device__ void add_side(float* acc, const float* X, const float* norm, int ld, int c0, int w, const float* dSp,
                         int L, int i, bool transposed, int other, int r, typename ReduceF::TempStorage& tmp,
                         float* shared_dot) {
  const float nr = norm[r];
  float dn[kPerThread];
  float dot = 0.f;
  for (int u = 0; u < kPerThread; ++u) {
    const int d = threadIdx.x + u * kThreads;
    dn[u] = 0.f;
    if (d >= w) continue;
    for (int k = 0; k < L; ++k) {
      const float g = transposed ? dSp[long(k) * L + i] : dSp[long(i) * L + k];
      const float o = __fdiv_rn(X[long(other + k) * ld + c0 + d], norm[other + k]);
      dn[u] = __fadd_rn(dn[u], __fmul_rn(g, o));
    }
    dot = __fadd_rn(dot, __fmul_rn(__fdiv_rn(X[long(r) * ld + c0 + d], nr), dn[u]));
  }
  const float total = ReduceF(tmp).Sum(dot);
  if (threadIdx.x == 0) *shared_dot = total;
  __syncthreads();
  const float proj = *shared_dot;
  __syncthreads();
  for (int u = 0; u < kPerThread; ++u) {
    const int d = threadIdx.x + u * kThreads;
    if (d >= w) continue;
    const float h = __fdiv_rn(X[long(r) * ld + c0 + d], nr);
    acc[u] = __fadd_rn(acc[u], __fdiv_rn(__fsub_rn(dn[u], __fmul_rn(h, proj)), nr));
  }
}

// One block per row r of X: every pair whose a or b set holds r, in order, then dX[r] += the sum.
__global__ void backward_kernel(float* dX, const float* dS, const float* X, const float* norm, int ld, int c0, int w,
                                const int* ra, const int* rb, int P, int L) {
  __shared__ typename ReduceF::TempStorage tmp;
  __shared__ float shared_dot;
  const int r = blockIdx.x;
  float acc[kPerThread];
  for (int u = 0; u < kPerThread; ++u) acc[u] = 0.f;
  bool touched = false;
  for (int p = 0; p < P; ++p) {
    const float* dSp = dS + long(p) * L * L;
    if (r >= ra[p] && r < ra[p] + L) {
      add_side(acc, X, norm, ld, c0, w, dSp, L, r - ra[p], false, rb[p], r, tmp, &shared_dot);
      touched = true;
    }
    if (r >= rb[p] && r < rb[p] + L) {
      add_side(acc, X, norm, ld, c0, w, dSp, L, r - rb[p], true, ra[p], r, tmp, &shared_dot);
      touched = true;
    }
  }
  if (!touched) return;
  for (int u = 0; u < kPerThread; ++u) {
    const int d = threadIdx.x + u * kThreads;
    if (d < w) dX[long(r) * ld + c0 + d] = __fadd_rn(dX[long(r) * ld + c0 + d], acc[u]);
  }
}

}  // namespace

void cosine_pairs_forward_cuda(float* S, const float* X, int rows, int ld, int c0, int w, const int* ra,
                               const int* rb, int P, int L, cudaStream_t stream) {
  check_args("cosine_pairs_forward_cuda", rows, ld, c0, w, P, L);
  if (P == 0 || rows == 0) return;
  ScratchBuffer<float> norm(std::size_t(rows), stream);
  norms_kernel<<<rows, kThreads, 0, stream>>>(norm.data(), X, ld, c0, w);
  AICL_CUDA_CHECK_LAUNCH();
  const long threads = long(P) * L * L * 32;
  forward_kernel<<<unsigned((threads + 255) / 256), 256, 0, stream>>>(S, X, norm.data(), ld, c0, w, ra, rb, P, L);
  AICL_CUDA_CHECK_LAUNCH();
}

void cosine_pairs_backward_cuda(float* dX, const float* dS, const float* X, int rows, int ld, int c0, int w,
                                const int* ra, const int* rb, int P, int L, cudaStream_t stream) {
  check_args("cosine_pairs_backward_cuda", rows, ld, c0, w, P, L);
  if (P == 0 || rows == 0) return;
  ScratchBuffer<float> norm(std::size_t(rows), stream);
  norms_kernel<<<rows, kThreads, 0, stream>>>(norm.data(), X, ld, c0, w);
  AICL_CUDA_CHECK_LAUNCH();
  backward_kernel<<<rows, kThreads, 0, stream>>>(dX, dS, X, norm.data(), ld, c0, w, ra, rb, P, L);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
