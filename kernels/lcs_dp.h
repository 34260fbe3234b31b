// FTCL's hard thresholded longest common subsequence (LCS) of two candidate sets from their similarity matrix S,
// batched over P pairs (../shared/specs/ftcl.md 2.4, 2.7, 7; docs/backward/lcs_dp.md).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// For each pair p, with s_ij the score of cell (i, j) (S [P, L, L] row-major, S[p][i−1][j−1]):
//   stage_a false (stage B): s_ij = S_ij;
//   stage_a true (stage A's in-batch variant): s_ij = max(0, S_ij − 0.8)·5, evaluated in T in that order;
//   C(0, ·) = C(·, 0) = 0;
//   C(i, j) = C(i−1,j−1) + s_ij                 if s_ij > τ (strict; τ is a float, 0.92f, compared in T),
//           = C(i−1,j) if C(i,j−1) <= C(i−1,j), else C(i,j−1)   (ties to the first argument, C(i−1,j)),
// for i = 1..L (outer), j = 1..L; value[p] = C(L, L) (OVERWRITTEN). A NaN score is not a match (NaN > τ is false).
// Throws aicl::Error for P < 0 or L < 1.
template <class T>
void lcs_dp_forward(T* value, const T* S, int P, int L, float tau = 0.92f, bool stage_a = false);

// The gradient of C(L, L) (recomputing the forward): walking back from (L, L) while i, j > 0, a matched cell adds
// dvalue[p] (stage A: dvalue[p]·5) to dS[p,i−1,j−1] (ACCUMULATE) and steps to (i−1, j−1); an unmatched cell steps to
// whichever predecessor the forward's max took (left only when C(i,j−1) > C(i−1,j)). Other cells get nothing.
template <class T>
void lcs_dp_backward(T* dS, const T* dvalue, const T* S, int P, int L, float tau = 0.92f, bool stage_a = false);

// ---- CUDA twin (kernels/lcs_dp.cu, in libaicl_cuda.so): float, DEVICE pointers (dvalue too), queued on `stream`
// One warp per pair, an anti-diagonal wavefront over C in shared memory (lane = row), all pairs in one launch, no
// host sync; the backward recomputes C and one lane walks the path. Bit for bit the CPU float results. L ≤ 64.
void lcs_dp_forward_cuda(float* value, const float* S, int P, int L, float tau, bool stage_a, cudaStream_t stream);
void lcs_dp_backward_cuda(float* dS, const float* dvalue, const float* S, int P, int L, float tau, bool stage_a,
                          cudaStream_t stream);

}  // namespace aicl
