// Tolerance comparisons of a device (or float) result with its reference: relative to the reference's scale,
// relative to an accumulated increment, or bit for bit. Plain C++ (no CUDA, no Catch): the op harness uses it too.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace aicl_test {

// Result of comparing a GPU output with its CPU reference.
struct CloseReport {
  double max_abs_err = 0;   // max |got - want|
  double ref_scale = 0;     // max |want| (at least `floor`)
  double rel_err = 0;       // max_abs_err / ref_scale
  std::size_t worst = 0;    // index of the largest |got - want|
  double got_at_worst = 0, want_at_worst = 0;
  bool nonfinite = false;   // finite on one side only (got or want), or a size mismatch
  std::string describe(const std::string& what) const {
    char buf[320];
    std::snprintf(buf, sizeof buf, "%s: rel err %.3g (max abs %.3g over scale %.3g) worst index %zu got %.9g want %.9g%s",
                  what.c_str(), rel_err, max_abs_err, ref_scale, worst, got_at_worst, want_at_worst,
                  nonfinite ? " [NON-FINITE OR SIZE MISMATCH]" : "");
    return buf;
  }
};

// Error of `got` against `want` measured relative to the reference's magnitude (max |want|, at least floor):
// GPU and CPU sum in different orders, so a per-element relative error is meaningless near zero outputs.
template <class T>
CloseReport compare_to_reference(const std::vector<T>& got, const std::vector<T>& want, double floor = 1e-6) {
  CloseReport r;
  if (got.size() != want.size()) {
    r.nonfinite = true;
    r.rel_err = INFINITY;
    return r;
  }
  for (std::size_t i = 0; i < want.size(); ++i) r.ref_scale = std::max(r.ref_scale, std::fabs(double(want[i])));
  r.ref_scale = std::max(r.ref_scale, floor);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = double(got[i]), w = double(want[i]);
    if (std::isfinite(g) != std::isfinite(w)) {  // either side non-finite alone (a NaN reference must not pass)
      r.nonfinite = true;
      r.worst = i;
      r.got_at_worst = g;
      r.want_at_worst = w;
      r.max_abs_err = INFINITY;
      break;
    }
    const double e = std::fabs(g - w);
    if (e > r.max_abs_err) {
      r.max_abs_err = e;
      r.worst = i;
      r.got_at_worst = g;
      r.want_at_worst = w;
    }
  }
  r.rel_err = r.max_abs_err / r.ref_scale;
  return r;
}

// True when every element is within rel_tol * max|want| (and nothing is non-finite).
template <class T>
bool close_to_reference(const std::vector<T>& got, const std::vector<T>& want, double rel_tol, CloseReport* out = nullptr,
                        double floor = 1e-6) {
  const CloseReport r = compare_to_reference(got, want, floor);
  if (out) *out = r;
  return !r.nonfinite && r.rel_err <= rel_tol;
}

// For ACCUMULATING outputs (gradients): both sides started from `before`; the error |got - want| is measured
// against the size of the reference increment max|want - before| (at least floor), so a large prefill does not
// hide errors, while a GPU op that overwrote instead of accumulating fails by the size of the prefill.
template <class T>
CloseReport compare_increment(const std::vector<T>& got, const std::vector<T>& want, const std::vector<T>& before,
                              double floor = 1e-6) {
  CloseReport r = compare_to_reference(got, want, floor);
  if (r.nonfinite || before.size() != want.size()) {
    r.nonfinite = true;
    r.rel_err = INFINITY;
    return r;
  }
  double scale = floor;
  for (std::size_t i = 0; i < want.size(); ++i)
    scale = std::max(scale, std::fabs(double(want[i]) - double(before[i])));
  r.ref_scale = scale;
  r.rel_err = r.max_abs_err / scale;
  return r;
}

// Number of elements whose bits differ (for ops that must match the CPU exactly); -1 on a size mismatch.
inline long count_bit_differences(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return -1;
  long n = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) ++n;
  return n;
}

}  // namespace aicl_test
