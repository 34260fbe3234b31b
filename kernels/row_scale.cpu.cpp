// Row scaling by a strided column on the CPU (see row_scale.h).
#include "kernels/row_scale.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {
void check_args(const char* fn, int stride, int col, int N, int C) {
  if (N < 0 || C < 1 || stride < 1 || col < 0 || col >= stride)
    fail(std::string(fn) + ": bad arguments N=" + std::to_string(N) + " C=" + std::to_string(C) + " stride=" +
         std::to_string(stride) + " col=" + std::to_string(col));
}
}  // namespace

template <class T>
void row_scale_forward(T* out, const T* x, const T* a, int stride, int col, int N, int C) {
  check_args("row_scale_forward", stride, col, N, C);
  for (long n = 0; n < N; ++n) {
    const T s = a[n * stride + col];
    for (int c = 0; c < C; ++c) out[n * C + c] = x[n * C + c] * s;
  }
}

template <class T>
void row_scale_backward(T* dx, T* da, const T* g, const T* x, const T* a, int stride, int col, int N, int C) {
  check_args("row_scale_backward", stride, col, N, C);
  for (long n = 0; n < N; ++n) {
    const T s = a[n * stride + col];
    T dot = 0;
    for (int c = 0; c < C; ++c) {
      if (dx) dx[n * C + c] += g[n * C + c] * s;
      dot += g[n * C + c] * x[n * C + c];
    }
    if (da) da[n * stride + col] += dot;
  }
}

template void row_scale_forward<float>(float*, const float*, const float*, int, int, int, int);
template void row_scale_forward<double>(double*, const double*, const double*, int, int, int, int);
template void row_scale_backward<float>(float*, float*, const float*, const float*, const float*, int, int, int, int);
template void row_scale_backward<double>(double*, double*, const double*, const double*, const double*, int, int, int,
                                         int);

}  // namespace aicl
