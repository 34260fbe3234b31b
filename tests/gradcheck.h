// The one generic finite-difference gradient checker (double precision) used by every op's gradient test.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace aicl_test {

struct GradCheckReport {
  double worst_ratio = 0;    // max over checked entries of |analytic - numeric| / (atol + rtol*|numeric|)
  size_t worst_index = 0;
  double worst_analytic = 0, worst_numeric = 0;
  size_t checked = 0;
  bool ok() const { return worst_ratio <= 1.0; }
  std::string describe(const std::string& name) const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s: %zu entries, worst index %zu analytic %.10g numeric %.10g ratio-to-tolerance %.3g",
                  name.c_str(), checked, worst_index, worst_analytic, worst_numeric, worst_ratio);
    return buf;
  }
};

// Compares `analytic` (d loss / d x, same size as x) with central differences of `loss()` in x.
// `loss` must read x through the reference it captured. Checks every entry when x.size() <= max_entries,
// otherwise a random subset of max_entries entries (seeded). Entries listed by `skip` (kinks, e.g. a ReLU input
// within eps of 0) are not checked.
inline GradCheckReport grad_check(std::vector<double>& x, const std::vector<double>& analytic,
                                  const std::function<double()>& loss, double eps = 1e-6, double atol = 1e-7,
                                  double rtol = 1e-5, size_t max_entries = 400,
                                  const std::function<bool(size_t)>& skip = nullptr) {
  GradCheckReport r;
  std::vector<size_t> idx;
  if (x.size() <= max_entries) {
    for (size_t i = 0; i < x.size(); ++i) idx.push_back(i);
  } else {
    std::mt19937_64 rng(1234);
    std::uniform_int_distribution<size_t> pick(0, x.size() - 1);
    for (size_t i = 0; i < max_entries; ++i) idx.push_back(pick(rng));
  }
  for (size_t i : idx) {
    if (skip && skip(i)) continue;
    const double saved = x[i];
    x[i] = saved + eps;
    const double lp = loss();
    x[i] = saved - eps;
    const double lm = loss();
    x[i] = saved;
    const double numeric = (lp - lm) / (2 * eps);
    const double ratio = std::fabs(analytic[i] - numeric) / (atol + rtol * std::fabs(numeric));
    ++r.checked;
    if (ratio > r.worst_ratio || r.checked == 1) {
      r.worst_ratio = std::max(r.worst_ratio, ratio);
      if (ratio >= r.worst_ratio) {
        r.worst_index = i;
        r.worst_analytic = analytic[i];
        r.worst_numeric = numeric;
      }
    }
  }
  return r;
}

// Random vector in [lo, hi), seeded, for inputs and for the projection that turns an op's output into a scalar.
inline std::vector<double> random_vector(size_t n, unsigned seed, double lo = -1, double hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

// sum_i a[i]*b[i]: the scalar loss sum(out * projection) whose gradient w.r.t. out is the projection.
inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace aicl_test
