// AICL's consistent / inconsistent snippet mining: median binarisation of two actionness curves and top-k selection.
#pragma once

namespace aicl {

// np.median of n values (not modified): the middle value for odd n; for even n the mean of the two middle values
// computed in T as numpy does for that dtype, (lo + hi) / 2 (float32 for float). NaNs are not supported.
template <class T>
T numpy_median(const T* x, int n);

// a1 [B,Tn] class-aware actionness (sigmoid of sum_c cas), a2 [B,Tn] class-agnostic actionness ((flow+rgb)/2).
// Per video: bin_i = a_i > numpy_median(a_i) (strict); consistent = bins equal, inconsistent = bins differ.
// Scores (all computed in T, as torch float32 does):
//   CA: a1 * [bin1 && bin2]            CB: (max_t a1 - a1) * [!bin1 && !bin2]
//   IA: a1 * [bin1 != bin2]            IB: (max_t a1 - a1) * [bin1 != bin2]
// Each output [B,k] holds the first k time indices of torch CPU sort(descending=True) of that score, reproduced
// exactly with std::sort on (score, index) pairs in index order and comparator a.score > b.score (NaN first, as
// torch); see docs/backward/snippet_select.md. The official k is T//20 for all four; 1 <= k <= Tn is required.
// No backward: the indices are piecewise constant in a1, a2; gradients reach the embeddings through the rows that
// infonce gathers with these indices.
template <class T>
void snippet_select_forward(int* idx_CA, int* idx_CB, int* idx_IA, int* idx_IB, const T* a1, const T* a2, int B,
                            int Tn, int k);

}  // namespace aicl
