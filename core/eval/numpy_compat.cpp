// numpy float64 semantics reproduced bit for bit: pairwise sum/mean, the default argsort (tie order), arange.
#pragma GCC optimize("fp-contract=off")
#include "core/eval/numpy_compat.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/base/error.h"

namespace aicl {

namespace {


// numpy's ordering for float64 sorts: NaNs last.
inline bool numpy_less(double a, double b) { return a < b || (b != b && a == a); }

// numpy's pairwise_sum for one buffer: plain loop below 8 items, 8 accumulators up to 128, halves above.
double pairwise_block(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t half = n / 2;
  half -= half % 8;
  return pairwise_block(a, half) + pairwise_block(a + half, n - half);
}

// numpy's heapsort on indices (the introsort fallback), 1-based heap over tosort[0..n).
void index_heapsort(const double* v, int64_t* tosort, int64_t n) {
  int64_t* a = tosort - 1;
  auto sift_down = [&](int64_t start, int64_t size) {
    int64_t moving = a[start];
    int64_t i = start;
    for (int64_t j = start * 2; j <= size;) {
      if (j < size && numpy_less(v[a[j]], v[a[j + 1]])) ++j;
      if (!numpy_less(v[moving], v[a[j]])) break;
      a[i] = a[j];
      i = j;
      j += j;
    }
    a[i] = moving;
  };
  for (int64_t l = n >> 1; l > 0; --l) sift_down(l, n);
  while (n > 1) {
    std::swap(a[n], a[1]);  // the root goes to the end, the last item sifts down from the root
    --n;
    sift_down(1, n);
  }
}

int most_significant_bit(uint64_t n) {
  int depth = 0;
  while (n >>= 1) ++depth;
  return depth;
}

}  // namespace

std::vector<double> numpy_arange(double start, double stop, double step) {
  AICL_CHECK(step != 0 && std::isfinite(step) && std::isfinite(start) && std::isfinite(stop),
             "numpy_arange: start, stop and step must be finite and step non-zero");
  double count = std::ceil((stop - start) / step);
  if (!(count > 0)) return {};
  auto n = static_cast<size_t>(count);
  std::vector<double> out(n);
  out[0] = start;
  if (n > 1) out[1] = start + step;
  double delta = (n > 1 ? out[1] : start + step) - start;
  for (size_t i = 2; i < n; ++i) out[i] = start + rounded_product(static_cast<double>(i), delta);
  return out;
}

double numpy_sum(const double* x, size_t n) {
  constexpr size_t kBuffer = 8192;  // numpy's default ufunc buffer: a reduction sees at most this many at once
  double sum = 0.;
  for (size_t i = 0; i < n; i += kBuffer) sum += pairwise_block(x + i, std::min(kBuffer, n - i));
  return sum;
}

double numpy_mean(const double* x, size_t n) { return numpy_sum(x, n) / static_cast<double>(n); }

std::vector<int64_t> numpy_argsort(const double* v, size_t num) {
  constexpr int64_t kSmall = 15;  // numpy SMALL_QUICKSORT: partitions of at most 16 items use insertion sort
  std::vector<int64_t> order(num);
  for (size_t i = 0; i < num; ++i) order[i] = static_cast<int64_t>(i);
  if (num < 2) return order;
  int64_t* base = order.data();
  struct Pending { int64_t* lo; int64_t* hi; int depth; };
  std::vector<Pending> stack;
  int64_t* lo = base;
  int64_t* hi = base + num - 1;
  int depth = most_significant_bit(num) * 2;
  for (;;) {
    if (depth < 0) {
      index_heapsort(v, lo, hi - lo + 1);
    } else {
      while (hi - lo > kSmall) {
        // median of three to *mid, pivot parked at hi-1
        int64_t* mid = lo + ((hi - lo) >> 1);
        if (numpy_less(v[*mid], v[*lo])) std::swap(*mid, *lo);
        if (numpy_less(v[*hi], v[*mid])) std::swap(*hi, *mid);
        if (numpy_less(v[*mid], v[*lo])) std::swap(*mid, *lo);
        const double pivot = v[*mid];
        int64_t* i = lo;
        int64_t* j = hi - 1;
        std::swap(*mid, *j);
        for (;;) {
          do ++i; while (numpy_less(v[*i], pivot));
          do --j; while (numpy_less(pivot, v[*j]));
          if (i >= j) break;
          std::swap(*i, *j);
        }
        std::swap(*i, *(hi - 1));
        // continue with the smaller side, the larger one waits
        --depth;
        if (i - lo < hi - i) {
          stack.push_back({i + 1, hi, depth});
          hi = i - 1;
        } else {
          stack.push_back({lo, i - 1, depth});
          lo = i + 1;
        }
      }
      for (int64_t* i = lo + 1; i <= hi; ++i) {  // insertion sort
        const int64_t item = *i;
        const double value = v[item];
        int64_t* j = i;
        while (j > lo && numpy_less(value, v[*(j - 1)])) {
          *j = *(j - 1);
          --j;
        }
        *j = item;
      }
    }
    if (stack.empty()) break;
    lo = stack.back().lo;
    hi = stack.back().hi;
    depth = stack.back().depth;
    stack.pop_back();
  }
  return order;
}

}  // namespace aicl
