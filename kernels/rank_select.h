// Time indices of a range of ranks of a per-snippet score (FTCL's candidate snippets: the top of the instance
// attention, ranks 1..30 for LCS, 1..5 and 6..10 for FSD, 1..k for the mean features), no gradient.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// For each video b the Tn scores s_t = score[(b·Tn + t)·stride + col] are ranked in descending order, and the time
// indices of ranks r0 .. r0+n−1 are written to idx[b·ld + j], j < n: in rank order, or ascending in time when
// time_order (the official torch.sort of the chosen indices). OVERWRITES those entries only.
// The CPU ranks as torch CPU's torch.sort(descending=True) does: libstdc++ std::sort of (value, index) pairs in
// index order with NaN above every number (kernels/topk_order.h's comparator), so ties fall as torch's fall.
// Throws aicl::Error unless B >= 0, Tn >= 1, n >= 0, 0 <= r0, r0 + n <= Tn, 0 <= col < stride, ld >= n.
template <class T>
void rank_select_forward(int* idx, int ld, const T* score, int stride, int col, int B, int Tn, int r0, int n,
                         bool time_order);

// ---- CUDA twin (kernels/rank_select.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One thread per snippet counts its stable descending rank (ties by ascending time: the GPU's rule, not torch CPU's
// std::sort; on tie-free scores both agree exactly), then one thread per chosen slot places it in time order.
void rank_select_forward_cuda(int* idx, int ld, const float* score, int stride, int col, int B, int Tn, int r0,
                              int n, bool time_order, cudaStream_t stream);

}  // namespace aicl
