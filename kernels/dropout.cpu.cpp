// Dropout on the CPU with the Philox mask shared with the GPU (see dropout.h).
#include "kernels/dropout.h"

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

template <class T>
void dropout_forward(T* out, const T* x, std::size_t n, double p, const DropoutKey& key, std::size_t group) {
  check_p("dropout_forward", p, group);
  const float keep_prob = static_cast<float>(1.0 - p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
#pragma omp parallel for if (n > 65536)
  for (long i = 0; i < static_cast<long>(n); ++i)
    out[i] = dropout_detail::keep(key.seed, key.step, key.tensor, static_cast<std::size_t>(i) / group, keep_prob)
                 ? x[i] * scale
                 : T(0);
}

template <class T>
void dropout_backward(T* dx, const T* g, std::size_t n, double p, const DropoutKey& key, std::size_t group) {
  check_p("dropout_backward", p, group);
  const float keep_prob = static_cast<float>(1.0 - p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
#pragma omp parallel for if (n > 65536)
  for (long i = 0; i < static_cast<long>(n); ++i)
    if (dropout_detail::keep(key.seed, key.step, key.tensor, static_cast<std::size_t>(i) / group, keep_prob))
      dx[i] += g[i] * scale;
}

template void dropout_forward<float>(float*, const float*, std::size_t, double, const DropoutKey&, std::size_t);
template void dropout_forward<double>(double*, const double*, std::size_t, double, const DropoutKey&, std::size_t);
template void dropout_backward<float>(float*, const float*, std::size_t, double, const DropoutKey&, std::size_t);
template void dropout_backward<double>(double*, const double*, std::size_t, double, const DropoutKey&, std::size_t);

}  // namespace aicl
