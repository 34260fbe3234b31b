// numpy float64 semantics reproduced bit for bit: pairwise sum/mean, the default argsort (tie order), arange.
// The official evaluator and inference code are numpy programs; matching their last bits (and their order of
// equal keys) needs these exact algorithms. numpy never fuses a multiply and an add, so neither may we.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aicl {

// a*b rounded on its own, as numpy computes it: `volatile` keeps GCC from fusing it with a following add into an
// FMA (GCC contracts by default when -march has FMA), which would change the last bits.
inline double rounded_product(double a, double b) {
  volatile double p = a * b;
  return p;
}

// np.arange(start, stop, step) for float64: length ceil((stop - start) / step), element i = start + i*delta
// with delta = (start + step) - start, each product rounded (so 0.1..0.9 gives 0.30000000000000004 etc.).
std::vector<double> numpy_arange(double start, double stop, double step);

// np.sum / np.mean of a contiguous float64 array: pairwise summation in blocks of 8192 (numpy's buffer size).
double numpy_sum(const double* x, size_t n);
double numpy_mean(const double* x, size_t n);

// np.argsort(v) with numpy's default (introsort 'quicksort', not stable) algorithm: the same order for ties,
// NaN last.
std::vector<int64_t> numpy_argsort(const double* v, size_t n);
inline std::vector<int64_t> numpy_argsort(const std::vector<double>& v) { return numpy_argsort(v.data(), v.size()); }

}  // namespace aicl
