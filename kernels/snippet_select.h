// AICL's consistent / inconsistent snippet mining: median binarisation of two actionness curves and top-k selection.
#pragma once
#include "kernels/stream.h"

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

// ---- CUDA twin (kernels/snippet_select.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Median binarisation of two actionness curves and top-k snippet selection.

// Same contract as snippet_select_forward (a1, a2 [B,Tn]; idx_CA/CB/IA/IB [B,k]; all device pointers), one block per
// video:
// - medians: exact order statistics (numpy_median's values: the middle value for odd Tn, (lo + hi) / 2 rounded in
//   float for even Tn, as the CPU), found by ranking each value among the video's values; NaNs are not supported;
// - bins with strict '>', scores CA, CB, IA, IB computed exactly as on the CPU (bit-equal);
// - the first k indices of each score in a STABLE descending order: ties broken by ascending time index (NaN first).
//   The CPU twin reproduces torch CPU's unstable std::sort tie order instead. When the k-th largest score is
//   strictly above the (k+1)-th the two agree exactly; when a mask holds fewer than k segments the zero-score fill
//   differs (GPU: lowest time indices first), while the selected scores are the same multiset.
// Requires 1 <= k <= Tn and Tn floats of shared memory per block (Tn <= 12288 always fits; larger Tn uses the
// opt-in limit) — aicl::Error otherwise. B = 0 does nothing. No backward (integer outputs).
void snippet_select_forward_cuda(int* idx_CA, int* idx_CB, int* idx_IA, int* idx_IB, const float* a1, const float* a2,
                                 int B, int Tn, int k, cudaStream_t stream);

}  // namespace aicl
