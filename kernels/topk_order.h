// torch.topk's choice on ties, shared by the top-k ops: the CPU emulation of torch CPU topk and the GPU's stable rank.
#pragma once
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace aicl {

// torch's topk comparator for largest=true: NaN counts as the largest value, otherwise plain '>'.
template <class T>
inline bool topk_greater(const std::pair<T, int>& x, const std::pair<T, int>& y) {
  return (std::isnan(x.first) && !std::isnan(y.first)) || x.first > y.first;
}

// Reorders `queue`, (value, index) pairs filled in index order, so that its first k entries are torch CPU (1.13)
// topk's result (largest, sorted) in its order. torch runs, per slice of n values, std::partial_sort when
// 64k <= n and otherwise std::nth_element at k-1 followed by std::sort of the first k-1; calling the same
// libstdc++ algorithms on the same pairs breaks ties as torch does (docs/backward/topk_mil.md).
template <class T>
inline void torch_cpu_topk(std::vector<std::pair<T, int>>& queue, int k) {
  const auto kth = queue.begin() + k;
  if (64L * k <= long(queue.size())) {
    std::partial_sort(queue.begin(), kth, queue.end(), topk_greater<T>);
    return;
  }
  std::nth_element(queue.begin(), kth - 1, queue.end(), topk_greater<T>);
  std::sort(queue.begin(), kth - 1, topk_greater<T>);
}

}  // namespace aicl

#ifdef __CUDACC__
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

// torch's order for largest-first on the device: NaN above everything, otherwise '>'.
__device__ __forceinline__ bool topk_desc_greater(float a, float b) { return (isnan(a) && !isnan(b)) || a > b; }

// The rank of v[i] among v[0..n) in the stable descending order (equal values: ascending index), counted only up
// to `cap` (a thread stops once its element is out of the top `cap`). Ranks are distinct, so rank < k picks
// exactly k elements; this is the GPU's tie rule, not torch CPU's.
__device__ inline int stable_desc_rank(const float* v, int n, int i, int cap) {
  const float vi = v[i];
  int rank = 0;
  for (int j0 = 0; j0 < n && rank < cap; j0 += 32) {
    const int j1 = j0 + 32 < n ? j0 + 32 : n;
    for (int j = j0; j < j1; ++j) {
      const float vj = v[j];
      rank += (topk_desc_greater(vj, vi) || (j < i && !topk_desc_greater(vi, vj))) ? 1 : 0;
    }
  }
  return rank;
}

// Allows `bytes` of dynamic shared memory for `kernel` (opt_in_dynamic_smem: static arrays counted, opt-in above
// the default 48 KiB), or throws naming the op, T and the device's limit.
template <class Kernel>
inline void allow_topk_smem(Kernel kernel, std::size_t bytes, const char* op, int Tn) {
  opt_in_dynamic_smem(reinterpret_cast<const void*>(kernel), bytes, std::string(op) + ": T=" + std::to_string(Tn));
}

}  // namespace aicl
#endif
