// Dropout on the CPU with the Philox mask shared with the GPU (see dropout.h).
#include "kernels/dropout.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/base/error.h"
#include "kernels/dropout_philox.h"

namespace aicl {

namespace {
void check_p(const char* fn, double p, std::size_t group) {
  if (!(p >= 0 && p < 1)) fail(std::string(fn) + ": p = " + std::to_string(p) + " must be in [0, 1)");
  if (group < 1) fail(std::string(fn) + ": group must be at least 1");
}
}  // namespace

bool dropout_keep(const DropoutKey& key, std::size_t i, double p) {
  return dropout_detail::keep(key.seed, key.step, key.tensor, i, static_cast<float>(1.0 - p));
}

// Calls f(lo, hi, keep) for every mask index m (elements [m·group, (m+1)·group) ∩ [0, n)), one Philox evaluation per
// four mask indices (the element-wise masks cost a quarter of a draw per element, the grouped ones almost nothing).
template <class F>
void for_each_mask(std::size_t n, std::size_t group, const DropoutKey& key, float keep_prob, const F& f) {
  const std::size_t masks = (n + group - 1) / group, blocks = (masks + 3) / 4;
#pragma omp parallel for if (n > 65536)
  for (long b = 0; b < static_cast<long>(blocks); ++b) {
    float u[4];
    dropout_detail::uniforms4(key.seed, key.step, key.tensor, static_cast<std::uint64_t>(b), u);
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t m = 4 * static_cast<std::size_t>(b) + k;
      if (m >= masks) break;
      const std::size_t lo = m * group;
      f(lo, std::min(n, lo + group), u[k] < keep_prob);
    }
  }
}

template <class T>
void dropout_forward(T* out, const T* x, std::size_t n, double p, const DropoutKey& key, std::size_t group) {
  check_p("dropout_forward", p, group);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  for_each_mask(n, group, key, static_cast<float>(1.0 - p), [&](std::size_t lo, std::size_t hi, bool keep) {
    for (std::size_t i = lo; i < hi; ++i) out[i] = keep ? x[i] * scale : T(0);
  });
}

template <class T>
void dropout_backward(T* dx, const T* g, std::size_t n, double p, const DropoutKey& key, std::size_t group) {
  check_p("dropout_backward", p, group);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  for_each_mask(n, group, key, static_cast<float>(1.0 - p), [&](std::size_t lo, std::size_t hi, bool keep) {
    if (keep)
      for (std::size_t i = lo; i < hi; ++i) dx[i] += g[i] * scale;
  });
}

template void dropout_forward<float>(float*, const float*, std::size_t, double, const DropoutKey&, std::size_t);
template void dropout_forward<double>(double*, const double*, std::size_t, double, const DropoutKey&, std::size_t);
template void dropout_backward<float>(float*, const float*, std::size_t, double, const DropoutKey&, std::size_t);
template void dropout_backward<double>(double*, const double*, std::size_t, double, const DropoutKey&, std::size_t);

}  // namespace aicl
