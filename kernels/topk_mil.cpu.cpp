// CPU top-k MIL pooling (AICL forward_pass: combined CAS, top-k over time, mean of raw CAS) and pseudo label.
//
// The combined CAS must round like torch float32 (each op rounded on its own) so that topk sees the same values:
// with -march=native GCC would otherwise fuse softmax * (1/sum) + (flow + rgb) into one FMA (1-ulp differences,
// which reorder near-ties). Measured with tools/check_selection_ties.cpp: 0 of 803,200 combined values differ from
// torch with this, 55,859 without. Set before the includes so that the shared softmax inline gets it too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "kernels/topk_mil.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "kernels/softmax_row.h"
#include "kernels/topk_order.h"

namespace aicl {

namespace {

void check_topk_shape(const char* op, int B, int Tn, int C, int k) {
  if (B < 0 || Tn < 1 || C < 1)
    fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn) +
         " C=" + std::to_string(C));
  if (k < 1 || k > Tn)
    fail(std::string(op) + ": k=" + std::to_string(k) + " must be in [1, T=" + std::to_string(Tn) +
         "] (k = T//8 is 0 for videos shorter than 8 segments)");
}

// combined = softmax_c(cas) alone (no streams), or (softmax_c(cas) + (flow + rgb)) / 3: the official code evaluates
// sum((flow, rgb)) = (0 + flow) + rgb (0 + x is exact), adds it to the softmax and divides by 1 + 2; each step
// rounds to T as torch float32 does.
template <class T>
void combined_cas(T* combined, const T* cas, const T* flow, const T* rgb, long rows, int C) {
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; ++r) {
    T* out = combined + r * C;
    softmax_row(out, cas + r * C, C);
    if (!flow) continue;
    const T actionness_sum = flow[r] + rgb[r];
    for (int c = 0; c < C; ++c) out[c] = (out[c] + actionness_sum) / T(3);
  }
}

template <class T>
void weighted_combined_cas(T* combined, const T* cas, const T* flow, const T* rgb, const MilSelection& sel, long rows,
                           int C) {
  const T wc = static_cast<T>(sel.w_cas), wr = static_cast<T>(sel.w_rgb), wf = static_cast<T>(sel.w_flow);
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; ++r) {
    T* out = combined + r * C;
    if (sel.softmax) softmax_row(out, cas + r * C, C);
    else std::copy(cas + r * C, cas + (r + 1) * C, out);
    for (int c = 0; c < C; ++c) {
      T v = wc * out[c];
      if (flow) {
        v = v + wr * rgb[r];
        v = v + wf * flow[r];
      }
      out[c] = v;
    }
  }
}

// Per (b, c): the k largest combined values over t, in torch CPU topk's order (kernels/topk_order.h), and the mean
// of the raw cas there.
template <class T>
void select_topk(T* cas_top, int* topk_idx, const T* combined, const T* cas, int B, int Tn, int C, int k) {
  const long slices = static_cast<long>(B) * C;
#pragma omp parallel
  {
    std::vector<std::pair<T, int>> queue(Tn);
#pragma omp for schedule(static)
    for (long s = 0; s < slices; ++s) {
      const long b = s / C;
      const int c = static_cast<int>(s % C);
      const T* col = combined + b * Tn * C + c;
      for (int t = 0; t < Tn; ++t) queue[t] = {col[static_cast<long>(t) * C], t};
      torch_cpu_topk(queue, k);
      const T* cas_col = cas + b * Tn * C + c;
      T acc = 0;
      for (int j = 0; j < k; ++j) {
        const int t = queue[j].second;
        topk_idx[(b * k + j) * C + c] = t;
        acc += cas_col[static_cast<long>(t) * C];
      }
      cas_top[b * C + c] = acc / T(k);
    }
  }
}

}  // namespace

template <class T>
void topk_mil_weighted_forward(T* cas_top, int* topk_idx, T* combined, const T* cas, const T* flow, const T* rgb,
                               const MilSelection& sel, int B, int Tn, int C, int k) {
  check_topk_shape("topk_mil_weighted_forward", B, Tn, C, k);
  if (!flow != !rgb) fail("topk_mil_weighted_forward: flow and rgb must both be given or both be null");
  weighted_combined_cas(combined, cas, flow, rgb, sel, static_cast<long>(B) * Tn, C);
  select_topk(cas_top, topk_idx, combined, cas, B, Tn, C, k);
}

template <class T>
void topk_mil_forward(T* cas_top, int* topk_idx, T* combined, const T* cas, const T* flow, const T* rgb, int B,
                      int Tn, int C, int k) {
  check_topk_shape("topk_mil_forward", B, Tn, C, k);
  if (!flow != !rgb) fail("topk_mil_forward: flow and rgb must both be given or both be null");
  combined_cas(combined, cas, flow, rgb, static_cast<long>(B) * Tn, C);
  select_topk(cas_top, topk_idx, combined, cas, B, Tn, C, k);
}

template <class T>
void topk_mil_backward(T* dcas, const T* dcas_top, const int* topk_idx, int B, int Tn, int C, int k) {
  check_topk_shape("topk_mil_backward", B, Tn, C, k);
  // Validate first: an exception must not leave an OpenMP region.
  for (long i = 0; i < static_cast<long>(B) * k * C; ++i)
    if (topk_idx[i] < 0 || topk_idx[i] >= Tn)
      fail("topk_mil_backward: index " + std::to_string(topk_idx[i]) + " out of [0, T=" + std::to_string(Tn) + ")");
  // Within one (b, c) the k indices are distinct, so each b owns disjoint rows of dcas: parallel over b is safe.
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < k; ++j) {
      const int* idx = topk_idx + (static_cast<long>(b) * k + j) * C;
      for (int c = 0; c < C; ++c) {
        const int t = idx[c];
        dcas[(static_cast<long>(b) * Tn + t) * C + c] += dcas_top[static_cast<long>(b) * C + c] / T(k);
      }
    }
  }
}

template <class T>
void pseudo_label_forward(T* y, const int* topk_idx, const T* labels, int B, int Tn, int C, int k) {
  check_topk_shape("pseudo_label_forward", B, Tn, C, k);
  for (long i = 0; i < static_cast<long>(B) * Tn; ++i) y[i] = 0;
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c) {
      if (labels[static_cast<long>(b) * C + c] == 0) continue;
      for (int j = 0; j < k; ++j) {
        const int t = topk_idx[(static_cast<long>(b) * k + j) * C + c];
        if (t < 0 || t >= Tn) fail("pseudo_label_forward: index " + std::to_string(t) + " out of [0, T)");
        y[static_cast<long>(b) * Tn + t] = 1;
      }
    }
}

#define AICL_INSTANTIATE_TOPK_MIL(T)                                                                           \
  template void topk_mil_forward<T>(T*, int*, T*, const T*, const T*, const T*, int, int, int, int);           \
  template void topk_mil_backward<T>(T*, const T*, const int*, int, int, int, int);                           \
  template void topk_mil_weighted_forward<T>(T*, int*, T*, const T*, const T*, const T*, const MilSelection&, int,  \
                                             int, int, int);                                                   \
  template void pseudo_label_forward<T>(T*, const int*, const T*, int, int, int, int);
AICL_INSTANTIATE_TOPK_MIL(float)
AICL_INSTANTIATE_TOPK_MIL(double)
#undef AICL_INSTANTIATE_TOPK_MIL

}  // namespace aicl
