// CUDA twin of kernels/snippet_select.h: median binarisation of two actionness curves and top-k snippet selection.
#pragma once
#include <cuda_runtime_api.h>

namespace aicl {

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
