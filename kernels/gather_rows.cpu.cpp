// Row gather / gather-mean and its scatter-add backward on the CPU (see gather_rows.h).
#include "kernels/gather_rows.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

void check_args(const char* fn, int ld, int B, int Tn, int D, int n) {
  if (B < 0 || Tn < 1 || D < 1 || n < 1 || ld < n)
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " D=" +
         std::to_string(D) + " n=" + std::to_string(n) + " ld=" + std::to_string(ld));
}

// The row of x that slot (b, j) reads, checked.
long source_row(const char* fn, const int* idx, int ld, int Tn, long b, int j) {
  const int t = idx[b * ld + j];
  if (t < 0 || t >= Tn)
    fail(std::string(fn) + ": index " + std::to_string(t) + " of video " + std::to_string(b) + " is outside [0, " +
         std::to_string(Tn) + ")");
  return b * Tn + t;
}

}  // namespace

template <class T>
void gather_rows_forward(T* out, const T* x, const int* idx, int ld, int B, int Tn, int D, int n, bool mean) {
  check_args("gather_rows_forward", ld, B, Tn, D, n);
  for (long b = 0; b < B; ++b) {
    if (mean) {
      T* o = out + b * D;
      for (int d = 0; d < D; ++d) o[d] = 0;
      for (int j = 0; j < n; ++j) {
        const T* r = x + source_row("gather_rows_forward", idx, ld, Tn, b, j) * D;
        for (int d = 0; d < D; ++d) o[d] += r[d];
      }
      for (int d = 0; d < D; ++d) o[d] = o[d] / static_cast<T>(n);
      continue;
    }
    for (int j = 0; j < n; ++j) {
      const T* r = x + source_row("gather_rows_forward", idx, ld, Tn, b, j) * D;
      T* o = out + (b * n + j) * D;
      for (int d = 0; d < D; ++d) o[d] = r[d];
    }
  }
}

template <class T>
void gather_rows_backward(T* dx, const T* dout, const int* idx, int ld, int B, int Tn, int D, int n, bool mean) {
  check_args("gather_rows_backward", ld, B, Tn, D, n);
  for (long b = 0; b < B; ++b)
    for (int j = 0; j < n; ++j) {
      T* r = dx + source_row("gather_rows_backward", idx, ld, Tn, b, j) * D;
      const T* g = mean ? dout + b * D : dout + (b * n + j) * D;
      for (int d = 0; d < D; ++d) r[d] += mean ? g[d] / static_cast<T>(n) : g[d];
    }
}

template void gather_rows_forward<float>(float*, const float*, const int*, int, int, int, int, int, bool);
template void gather_rows_forward<double>(double*, const double*, const int*, int, int, int, int, int, bool);
template void gather_rows_backward<float>(float*, const float*, const int*, int, int, int, int, int, bool);
template void gather_rows_backward<double>(double*, const double*, const int*, int, int, int, int, int, bool);

}  // namespace aicl
