// CPU mean squared error (forward and backward to both inputs).
#include "kernels/mse_loss.h"

#include "core/base/error.h"

namespace aicl {

template <class T>
T mse_forward(const T* a, const T* b, size_t n) {
  if (n == 0) fail("mse_forward: empty input (n = 0)");
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    s += d * d;
  }
  return static_cast<T>(s / static_cast<double>(n));
}

template <class T>
void mse_backward(T* da, T* db, T dloss, const T* a, const T* b, size_t n) {
  if (n == 0) fail("mse_backward: empty input (n = 0)");
  const double scale = 2.0 * static_cast<double>(dloss) / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const T g = static_cast<T>(scale * (static_cast<double>(a[i]) - static_cast<double>(b[i])));
    if (da) da[i] += g;
    if (db) db[i] -= g;
  }
}

template float mse_forward<float>(const float*, const float*, size_t);
template double mse_forward<double>(const double*, const double*, size_t);
template void mse_backward<float>(float*, float*, float, const float*, const float*, size_t);
template void mse_backward<double>(double*, double*, double, const double*, const double*, size_t);

}  // namespace aicl
