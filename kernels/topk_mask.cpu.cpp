// CPU per-video top-k mask (torch CPU's tie choice) and the row sum of ReLU, for SAL's pseudo labels.
#include "kernels/topk_mask.h"

#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "kernels/topk_order.h"

namespace aicl {

namespace {

constexpr long kParallelWork = 1 << 15;  // below this many scores an OpenMP region costs more than it saves

void check_topk_mask(int B, int Tn, int k) {
  if (B < 0 || Tn < 1) fail("topk_mask_forward: bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn));
  if (k < 1 || k > Tn)
    fail("topk_mask_forward: k=" + std::to_string(k) + " must be in [1, T=" + std::to_string(Tn) + "]");
}

// Marks selected[t] = 1 for the t in torch CPU's top-k of row[0..Tn).
template <class T>
void select_row(std::vector<char>& selected, std::vector<std::pair<T, int>>& queue, const T* row, int k) {
  const int Tn = int(queue.size());
  for (int t = 0; t < Tn; ++t) queue[t] = {row[t], t};
  torch_cpu_topk(queue, k);
  selected.assign(Tn, 0);
  for (int j = 0; j < k; ++j) selected[queue[j].second] = 1;
}

}  // namespace

template <class T>
void topk_mask_forward(T* mask, const T* score, int B, int Tn, int k, bool intersect) {
  check_topk_mask(B, Tn, k);
#pragma omp parallel if (long(B) * Tn > kParallelWork)
  {
    std::vector<std::pair<T, int>> queue(Tn);
    std::vector<char> selected;
#pragma omp for schedule(static)
    for (int b = 0; b < B; ++b) {
      select_row(selected, queue, score + long(b) * Tn, k);
      T* m = mask + long(b) * Tn;
      for (int t = 0; t < Tn; ++t) m[t] = (selected[t] && (!intersect || m[t] != T(0))) ? T(1) : T(0);
    }
  }
}

template <class T>
void relu_row_sum_forward(T* out, const T* in, int N, int C) {
  if (N < 0 || C < 1)
    fail("relu_row_sum_forward: bad shape N=" + std::to_string(N) + " C=" + std::to_string(C));
  for (long n = 0; n < N; ++n) {
    const T* row = in + n * C;
    T s = 0;
    for (int c = 0; c < C; ++c) s += row[c] < T(0) ? T(0) : row[c];  // torch.relu: NaN stays NaN
    out[n] = s;
  }
}

#define AICL_INSTANTIATE_TOPK_MASK(T)                                      \
  template void topk_mask_forward<T>(T*, const T*, int, int, int, bool);   \
  template void relu_row_sum_forward<T>(T*, const T*, int, int);
AICL_INSTANTIATE_TOPK_MASK(float)
AICL_INSTANTIATE_TOPK_MASK(double)
#undef AICL_INSTANTIATE_TOPK_MASK

}  // namespace aicl
