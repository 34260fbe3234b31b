// CPU consistent / inconsistent snippet selection (median binarisation + torch-CPU-order descending sort).
#include "kernels/snippet_select.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace {

// torch's descending sort comparator: NaN first, otherwise '>'.
template <class T>
bool sort_desc(const std::pair<T, int>& x, const std::pair<T, int>& y) {
  return (std::isnan(x.first) && !std::isnan(y.first)) || x.first > y.first;
}

// Fills out[0..k) with the first k indices of the descending sort of score[0..n).
template <class T>
void top_indices(int* out, const T* score, int n, int k, std::vector<std::pair<T, int>>& buf) {
  buf.resize(n);
  for (int t = 0; t < n; ++t) buf[t] = {score[t], t};
  // A full std::sort, not partial_sort: the tie order must be that of torch's full sort.
  std::sort(buf.begin(), buf.end(), sort_desc<T>);
  for (int j = 0; j < k; ++j) out[j] = buf[j].second;
}

}  // namespace

template <class T>
T numpy_median(const T* x, int n) {
  if (n < 1) fail("numpy_median: empty input");
  std::vector<T> v(x, x + n);
  const int hi = n / 2;
  std::nth_element(v.begin(), v.begin() + hi, v.end());
  if (n % 2 == 1) return v[hi];
  const T lo = *std::max_element(v.begin(), v.begin() + hi);
  // numpy: mean of the two middle values in the array's dtype = (lo + hi) summed in T, then divided by 2.
  const T sum = lo + v[hi];
  return sum / T(2);
}

template <class T>
void snippet_select_forward(int* idx_CA, int* idx_CB, int* idx_IA, int* idx_IB, const T* a1, const T* a2, int B,
                            int Tn, int k) {
  if (B < 0 || Tn < 1) fail("snippet_select_forward: bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn));
  if (k < 1 || k > Tn)
    fail("snippet_select_forward: k=" + std::to_string(k) + " must be in [1, T=" + std::to_string(Tn) +
         "] (k = T//20 is 0 for videos shorter than 20 segments)");
#pragma omp parallel
  {
    std::vector<std::pair<T, int>> buf;
    std::vector<T> s_ca(Tn), s_cb(Tn), s_ia(Tn), s_ib(Tn);
#pragma omp for schedule(static)
    for (int b = 0; b < B; ++b) {
      const T* x1 = a1 + static_cast<long>(b) * Tn;
      const T* x2 = a2 + static_cast<long>(b) * Tn;
      const T med1 = numpy_median(x1, Tn);
      const T med2 = numpy_median(x2, Tn);
      T mx = x1[0];
      for (int t = 1; t < Tn; ++t) mx = std::max(mx, x1[t]);
      for (int t = 0; t < Tn; ++t) {
        const bool bin1 = x1[t] > med1, bin2 = x2[t] > med2;
        const T act = (bin1 && bin2) ? T(1) : T(0);
        const T bkg = (!bin1 && !bin2) ? T(1) : T(0);
        const T inc = (bin1 != bin2) ? T(1) : T(0);
        const T rev = mx - x1[t];
        s_ca[t] = x1[t] * act;
        s_cb[t] = rev * bkg;
        s_ia[t] = x1[t] * inc;
        s_ib[t] = rev * inc;
      }
      const long o = static_cast<long>(b) * k;
      top_indices(idx_CA + o, s_ca.data(), Tn, k, buf);
      top_indices(idx_CB + o, s_cb.data(), Tn, k, buf);
      top_indices(idx_IA + o, s_ia.data(), Tn, k, buf);
      top_indices(idx_IB + o, s_ib.data(), Tn, k, buf);
    }
  }
}

template float numpy_median<float>(const float*, int);
template double numpy_median<double>(const double*, int);
template void snippet_select_forward<float>(int*, int*, int*, int*, const float*, const float*, int, int, int);
template void snippet_select_forward<double>(int*, int*, int*, int*, const double*, const double*, int, int, int);

}  // namespace aicl
