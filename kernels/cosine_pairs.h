// Cosine-similarity matrices between pairs of candidate sets (FTCL's get_similarity, batched over the pairs of a
// step): the LCS similarities of two [30, D] sets and the FSD match/gap scores on the two halves of [5, 1024] sets.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// X [rows, ld] row-major holds every candidate row; a set is L consecutive rows. For pair p (ra, rb host or device
// arrays of first rows, see below) and i, j < L:
//   S[p, i, j] = Σ_d â_i[d]·b̂_j[d],  â_i = X[ra[p] + i, c0 : c0 + w] / ‖·‖₂,  b̂_j = X[rb[p] + j, c0 : c0 + w] / ‖·‖₂
// (the official order: each row divided by its norm, then the product; norms from sums of squares in double, the
// root and the division in T). There is no epsilon: a zero row gives NaN, as the official code (quirk Q16).
// OVERWRITES S [P, L, L]. Throws aicl::Error unless P >= 0, L >= 1, w >= 1, 0 <= c0, c0 + w <= ld, and every set
// lies inside [0, rows).
template <class T>
void cosine_pairs_forward(T* S, const T* X, int rows, int ld, int c0, int w, const int* ra, const int* rb, int P,
                          int L);

// dX[r, c0 : c0 + w] += (dâ − â·⟨â, dâ⟩)/‖x_r‖ for every row r of every pair, with dâ_i = Σ_j dS[p,i,j]·b̂_j (the
// a side) and db̂_j = Σ_i dS[p,i,j]·â_i (the b side) (ACCUMULATES; pairs in order, a side before b side).
template <class T>
void cosine_pairs_backward(T* dX, const T* dS, const T* X, int rows, int ld, int c0, int w, const int* ra,
                           const int* rb, int P, int L);

// ---- CUDA twin (kernels/cosine_pairs.cu, in libaicl_cuda.so): float, DEVICE pointers (ra, rb too), queued ----
// Norms one block per row (double sums); the forward one warp per (p, i, j) with a fixed-order warp reduction; the
// backward one block per row of X that loops over the pairs in order and accumulates its row in registers (no
// atomics: deterministic). Equal to the CPU to float rounding (other summation orders). w <= 4096. The set bounds
// are not checked (they live on the device).
void cosine_pairs_forward_cuda(float* S, const float* X, int rows, int ld, int c0, int w, const int* ra,
                               const int* rb, int P, int L, cudaStream_t stream);
void cosine_pairs_backward_cuda(float* dX, const float* dS, const float* X, int rows, int ld, int c0, int w,
                                const int* ra, const int* rb, int P, int L, cudaStream_t stream);

}  // namespace aicl
