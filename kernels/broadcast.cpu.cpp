// SAL's segment broadcasts on the CPU (see broadcast.h).
#include "kernels/broadcast.h"

// Products and sums must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cstddef>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {
void check_shape(const char* fn, int B, int Tn, int D) {
  if (B < 1 || Tn < 1 || D < 1)
    fail(std::string(fn) + ": B, T and D/C must be positive (got " + std::to_string(B) + ", " + std::to_string(Tn) +
         ", " + std::to_string(D) + ")");
}
}  // namespace

template <class T>
void outer_add_forward(T* out, const T* e, const T* s, const T* a, int B, int Tn, int D) {
  check_shape("outer_add_forward", B, Tn, D);
#pragma omp parallel for collapse(2) if (std::size_t(B) * Tn * D > 65536)
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < Tn; ++t) {
      const std::size_t r = (std::size_t(b) * Tn + t) * D;
      const T at = a[std::size_t(b) * Tn + t];
      for (int d = 0; d < D; ++d) out[r + d] = e[r + d] + s[std::size_t(b) * D + d] * at;
    }
}

template <class T>
void outer_add_backward(T* de, T* ds, T* da, const T* g, const T* s, const T* a, int B, int Tn, int D) {
  check_shape("outer_add_backward", B, Tn, D);
  const std::size_t n = std::size_t(B) * Tn * D;
  if (de)
    for (std::size_t i = 0; i < n; ++i) de[i] += g[i];
  if (ds)
#pragma omp parallel for collapse(2) if (n > 65536)
    for (int b = 0; b < B; ++b)
      for (int d = 0; d < D; ++d) {
        T sum = 0;
        for (int t = 0; t < Tn; ++t) sum += g[(std::size_t(b) * Tn + t) * D + d] * a[std::size_t(b) * Tn + t];
        ds[std::size_t(b) * D + d] += sum;
      }
  if (da)
#pragma omp parallel for collapse(2) if (n > 65536)
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < Tn; ++t) {
        T sum = 0;
        for (int d = 0; d < D; ++d) sum += g[(std::size_t(b) * Tn + t) * D + d] * s[std::size_t(b) * D + d];
        da[std::size_t(b) * Tn + t] += sum;
      }
}

template <class T>
void complement_scale_forward(T* out, const T* x, const T* a, int B, int Tn, int C) {
  check_shape("complement_scale_forward", B, Tn, C);
  for (std::size_t r = 0; r < std::size_t(B) * Tn; ++r) {
    const T w = T(1) - a[r];
    for (int c = 0; c < C; ++c) out[r * C + c] = x[r * C + c] * w;
  }
}

template <class T>
void complement_scale_backward(T* dx, T* da, const T* g, const T* x, const T* a, int B, int Tn, int C) {
  check_shape("complement_scale_backward", B, Tn, C);
  for (std::size_t r = 0; r < std::size_t(B) * Tn; ++r) {
    const T w = T(1) - a[r];
    T sum = 0;
    for (int c = 0; c < C; ++c) {
      if (dx) dx[r * C + c] += g[r * C + c] * w;
      sum += g[r * C + c] * x[r * C + c];
    }
    if (da) da[r] -= sum;
  }
}

#define AICL_INSTANTIATE_BROADCAST(T)                                                                  \
  template void outer_add_forward<T>(T*, const T*, const T*, const T*, int, int, int);                 \
  template void outer_add_backward<T>(T*, T*, T*, const T*, const T*, const T*, int, int, int);        \
  template void complement_scale_forward<T>(T*, const T*, const T*, int, int, int);                    \
  template void complement_scale_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);
AICL_INSTANTIATE_BROADCAST(float)
AICL_INSTANTIATE_BROADCAST(double)
#undef AICL_INSTANTIATE_BROADCAST

}  // namespace aicl
