// Rank-range selection of snippet indices on the CPU with torch CPU sort's tie order (see rank_select.h).
#include "kernels/rank_select.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "kernels/topk_order.h"

namespace aicl {

namespace {
void check_args(const char* fn, int ld, int stride, int col, int B, int Tn, int r0, int n) {
  if (B < 0 || Tn < 1 || n < 0 || r0 < 0 || r0 + n > Tn || col < 0 || col >= stride || ld < n)
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " ranks [" +
         std::to_string(r0) + ", " + std::to_string(r0 + n) + ") col=" + std::to_string(col) + " stride=" +
         std::to_string(stride) + " ld=" + std::to_string(ld));
}
}  // namespace

template <class T>
void rank_select_forward(int* idx, int ld, const T* score, int stride, int col, int B, int Tn, int r0, int n,
                         bool time_order) {
  check_args("rank_select_forward", ld, stride, col, B, Tn, r0, n);
  std::vector<std::pair<T, int>> order(static_cast<std::size_t>(Tn));
  for (long b = 0; b < B; ++b) {
    for (int t = 0; t < Tn; ++t) order[std::size_t(t)] = {score[(b * Tn + t) * stride + col], t};
    std::sort(order.begin(), order.end(), topk_greater<T>);  // torch CPU sort's std::sort, same comparator
    int* out = idx + b * ld;
    for (int j = 0; j < n; ++j) out[j] = order[std::size_t(r0 + j)].second;
    if (time_order) std::sort(out, out + n);
  }
}

template void rank_select_forward<float>(int*, int, const float*, int, int, int, int, int, int, bool);
template void rank_select_forward<double>(int*, int, const double*, int, int, int, int, int, int, bool);

}  // namespace aicl
