// Row-wise softmax on the CPU: forward in torch's float order, backward through the Jacobian-vector product.
#include "kernels/softmax_rows.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cstddef>
#include <string>

#include "core/base/error.h"
#include "kernels/softmax_row.h"

namespace aicl {

namespace {
void check_shape(const char* fn, int N, int C) {
  if (N < 0 || C < 1)
    fail(std::string(fn) + ": bad shape N=" + std::to_string(N) + " C=" + std::to_string(C));
}
}  // namespace

template <class T>
void softmax_rows_forward(T* out, const T* x, int N, int C) {
  check_shape("softmax_rows_forward", N, C);
  for (long n = 0; n < N; ++n) softmax_row(out + n * C, x + n * C, C);
}

template <class T>
void softmax_rows_backward(T* dx, const T* g, const T* p, int N, int C) {
  check_shape("softmax_rows_backward", N, C);
  for (long n = 0; n < N; ++n) {
    const T* pn = p + n * C;
    const T* gn = g + n * C;
    T dot = 0;  // Σ_c p·g, the part of g along the simplex normal
    for (int c = 0; c < C; ++c) dot += pn[c] * gn[c];
    for (int c = 0; c < C; ++c) dx[n * C + c] += pn[c] * (gn[c] - dot);
  }
}

template void softmax_rows_forward<float>(float*, const float*, int, int);
template void softmax_rows_forward<double>(double*, const double*, int, int);
template void softmax_rows_backward<float>(float*, const float*, const float*, int, int);
template void softmax_rows_backward<double>(double*, const double*, const double*, int, int);

}  // namespace aicl
