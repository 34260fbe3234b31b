// FTCL's fine-grained sequence distance (FSD): a soft alignment of two candidate sets scored by match scores m and
// gap scores g, batched over P pairs (../shared/specs/ftcl.md 2.3, 7; docs/backward/fsd_dp.md).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// For each pair p, with m_p, g_p the L×L blocks of m, g [P, L, L] (row-major, m[p][i−1][j−1] = m_ij):
//   C(0, ·) = C(·, 0) = 0 (zero boundary),
//   C(i, j) = m_ij + smax_γ( C(i−1,j−1), g_ij + C(i−1,j), g_ij + C(i,j−1) ),   i = 1..L (outer), j = 1..L,
//   smax_γ(x) = γ·(M + log Σ_k exp(z_k − M)), z_k = x_k / γ (a division), M = max_k z_k,
// evaluated in T in exactly this order (the official float order; the three exps summed left to right), and
// value[p] = C(L, L) (OVERWRITTEN). γ is rounded to T once (0.1 → 0.1f in float). A NaN score propagates into its
// pair's value, as in the official code. Throws aicl::Error for P < 0, L < 1 or γ <= 0.
template <class T>
void fsd_dp_forward(T* value, const T* m, const T* g, int P, int L, double gamma = 0.1);

// The expected-alignment gradients (soft-DTW style backward DP, recomputing the forward): with the softmax weights
// w1, w2, w3 of each cell's three moves and E(L,L) = 1,
//   E(i,j) = E(i+1,j+1)·w1(i+1,j+1) + E(i+1,j)·w2(i+1,j) + E(i,j+1)·w3(i,j+1)   (terms outside 1..L are 0),
//   dm[p,i,j] += dvalue[p]·E(i,j),   dg[p,i,j] += dvalue[p]·E(i,j)·(w2(i,j) + w3(i,j))   (ACCUMULATE).
// dm or dg may be nullptr (not wanted).
template <class T>
void fsd_dp_backward(T* dm, T* dg, const T* dvalue, const T* m, const T* g, int P, int L, double gamma = 0.1);

// ---- CUDA twin (kernels/fsd_dp.cu, in libaicl_cuda.so): float, DEVICE pointers (dvalue too), queued on `stream`
// One warp per pair, the cells of an anti-diagonal in parallel (lane = row), C and the move weights in shared
// memory; all pairs in one launch, no host sync. Same float operations as the CPU with CUDA's expf/logf (within
// 2 ulp of the host's): equal to float tolerance. L ≤ 32.
void fsd_dp_forward_cuda(float* value, const float* m, const float* g, int P, int L, double gamma,
                         cudaStream_t stream);
void fsd_dp_backward_cuda(float* dm, float* dg, const float* dvalue, const float* m, const float* g, int P, int L,
                          double gamma, cudaStream_t stream);

}  // namespace aicl
