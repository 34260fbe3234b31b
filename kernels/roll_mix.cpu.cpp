// SAL's mix-up by batch roll on the CPU (see roll_mix.h).
#include "kernels/roll_mix.h"

#include <string>

#include "core/base/error.h"

namespace aicl {

template <class T>
void roll_mix_forward(T* out, const T* x, int B, std::size_t n, RollMix mode) {
  if (B < 1) fail("roll_mix_forward: B must be positive (got " + std::to_string(B) + ")");
  for (int b = 0; b < B; ++b) {
    const T* a = x + static_cast<std::size_t>(b) * n;
    const T* p = x + static_cast<std::size_t>((b + B - 1) % B) * n;
    T* o = out + static_cast<std::size_t>(b) * n;
#pragma omp parallel for if (n > 65536)
    for (long i = 0; i < static_cast<long>(n); ++i)
      o[i] = mode == RollMix::sum ? a[i] + p[i] : mode == RollMix::max ? (a[i] < p[i] ? p[i] : a[i]) : (a[i] + p[i]) / T(2);
  }
}

template void roll_mix_forward<float>(float*, const float*, int, std::size_t, RollMix);
template void roll_mix_forward<double>(double*, const double*, int, std::size_t, RollMix);

}  // namespace aicl
