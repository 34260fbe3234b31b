// CPU sigmoid, class-aware actionness and stream fusion, in torch's operation order so float results match torch.
//
// GCC contracts a*b + c into an FMA even under -std=c++17 (seen in sigmoid_backward's `din += dout*(1-out)*out`);
// torch runs that accumulation as a separate kernel with its own rounding, and the CUDA twin rounds each step,
// so contraction stays off here.
#pragma GCC optimize("fp-contract=off")
#include "kernels/actionness.h"

#include <cmath>

namespace aicl {

namespace {
constexpr std::size_t kParallelWork = 1 << 15;  // below this many elements an OpenMP region costs more than it saves

template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
}  // namespace

template <class T>
void sigmoid_forward(T* out, const T* in, std::size_t n) {
#pragma omp parallel for if (n > kParallelWork)
  for (long i = 0; i < long(n); ++i) out[i] = sigmoid(in[i]);
}

template <class T>
void sigmoid_backward(T* din, const T* dout, const T* out, std::size_t n) {
#pragma omp parallel for if (n > kParallelWork)
  for (long i = 0; i < long(n); ++i) din[i] += dout[i] * (T(1) - out[i]) * out[i];
}

template <class T>
void class_aware_actionness_forward(T* a1, const T* cas, int N, int C) {
#pragma omp parallel for if (std::size_t(N) * C > kParallelWork)
  for (int n = 0; n < N; ++n) {
    const T* row = cas + std::size_t(n) * C;
    T s = T(0);
    for (int c = 0; c < C; ++c) s += row[c];
    a1[n] = sigmoid(s);
  }
}

template <class T>
void class_aware_actionness_backward(T* dcas, const T* da1, const T* a1, int N, int C) {
#pragma omp parallel for if (std::size_t(N) * C > kParallelWork)
  for (int n = 0; n < N; ++n) {
    const T g = da1[n] * (T(1) - a1[n]) * a1[n];
    T* row = dcas + std::size_t(n) * C;
    for (int c = 0; c < C; ++c) row[c] += g;
  }
}

template <class T>
void stream_mean_forward(T* out, const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = (a[i] + b[i]) / T(2);
}

template <class T>
void stream_mean_backward(T* da, T* db, const T* dout, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const T h = T(0.5) * dout[i];
    da[i] += h;
    db[i] += h;
  }
}

template <class T>
void stream_mix_forward(T* out, const T* a, const T* b, double wa, double wb, std::size_t n) {
  const T ta = T(wa), tb = T(wb);
  for (std::size_t i = 0; i < n; ++i) out[i] = ta * a[i] + tb * b[i];
}

template <class T>
void stream_mix_backward(T* da, T* db, const T* dout, double wa, double wb, std::size_t n) {
  const T ta = T(wa), tb = T(wb);
  for (std::size_t i = 0; i < n; ++i) {
    da[i] += ta * dout[i];
    db[i] += tb * dout[i];
  }
}

#define AICL_INSTANTIATE_ACTIONNESS(T)                                                      \
  template void sigmoid_forward<T>(T*, const T*, std::size_t);                              \
  template void sigmoid_backward<T>(T*, const T*, const T*, std::size_t);                   \
  template void class_aware_actionness_forward<T>(T*, const T*, int, int);                  \
  template void class_aware_actionness_backward<T>(T*, const T*, const T*, int, int);       \
  template void stream_mean_forward<T>(T*, const T*, const T*, std::size_t);                \
  template void stream_mean_backward<T>(T*, T*, const T*, std::size_t);                     \
  template void stream_mix_forward<T>(T*, const T*, const T*, double, double, std::size_t); \
  template void stream_mix_backward<T>(T*, T*, const T*, double, double, std::size_t);
AICL_INSTANTIATE_ACTIONNESS(float)
AICL_INSTANTIATE_ACTIONNESS(double)
#undef AICL_INSTANTIATE_ACTIONNESS

}  // namespace aicl
