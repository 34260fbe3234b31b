// FTCL's FSD soft-alignment DP on the CPU (see fsd_dp.h).
#include "kernels/fsd_dp.h"

// Every sum and product must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace {

void check_args(const char* fn, int P, int L, double gamma) {
  if (P < 0 || L < 1 || !(gamma > 0))
    fail(std::string(fn) + ": need P >= 0, L >= 1 and gamma > 0 (got P=" + std::to_string(P) + ", L=" +
         std::to_string(L) + ", gamma=" + std::to_string(gamma) + ")");
}

// One pair's forward table: C [(L+1)²] and, per cell, the three move weights w [L²·3] (when w is not null).
template <class T>
void fsd_table(T* C, T* w, const T* m, const T* g, int L, T gamma) {
  const int W = L + 1;
  for (int k = 0; k < W * W; ++k) C[k] = T(0);
  for (int i = 1; i <= L; ++i) {
    for (int j = 1; j <= L; ++j) {
      const std::size_t c = static_cast<std::size_t>(i - 1) * L + (j - 1);
      const T gij = g[c];
      const T z1 = C[(i - 1) * W + (j - 1)] / gamma;
      const T z2 = (gij + C[(i - 1) * W + j]) / gamma;
      const T z3 = (gij + C[i * W + (j - 1)]) / gamma;
      T M = z1;
      if (z2 > M) M = z2;
      if (z3 > M) M = z3;
      const T e1 = std::exp(z1 - M), e2 = std::exp(z2 - M), e3 = std::exp(z3 - M);
      const T s = e1 + e2 + e3;
      C[i * W + j] = m[c] + gamma * (M + std::log(s));
      if (w) {
        w[3 * c] = e1 / s;
        w[3 * c + 1] = e2 / s;
        w[3 * c + 2] = e3 / s;
      }
    }
  }
}

}  // namespace

template <class T>
void fsd_dp_forward(T* value, const T* m, const T* g, int P, int L, double gamma) {
  check_args("fsd_dp_forward", P, L, gamma);
  const std::size_t LL = static_cast<std::size_t>(L) * L;
  std::vector<T> C(static_cast<std::size_t>(L + 1) * (L + 1));
  for (int p = 0; p < P; ++p) {
    fsd_table(C.data(), static_cast<T*>(nullptr), m + p * LL, g + p * LL, L, static_cast<T>(gamma));
    value[p] = C.back();
  }
}

template <class T>
void fsd_dp_backward(T* dm, T* dg, const T* dvalue, const T* m, const T* g, int P, int L, double gamma) {
  check_args("fsd_dp_backward", P, L, gamma);
  if (!dm && !dg) return;
  const std::size_t LL = static_cast<std::size_t>(L) * L;
  const int W = L + 1;
  std::vector<T> C(static_cast<std::size_t>(W) * W), w(3 * LL), E(static_cast<std::size_t>(W + 1) * (W + 1));
  for (int p = 0; p < P; ++p) {
    fsd_table(C.data(), w.data(), m + p * LL, g + p * LL, L, static_cast<T>(gamma));
    // E over (i, j) in 1..L, padded by a zero row and column at L+1 (stride W+1).
    const int V = W + 1;
    for (auto& e : E) e = T(0);
    auto wt = [&](int i, int j, int k) { return w[3 * (static_cast<std::size_t>(i - 1) * L + (j - 1)) + k]; };
    for (int i = L; i >= 1; --i) {
      for (int j = L; j >= 1; --j) {
        T e;
        if (i == L && j == L) {
          e = T(1);
        } else {
          e = T(0);
          if (i < L && j < L) e = e + E[(i + 1) * V + (j + 1)] * wt(i + 1, j + 1, 0);
          if (i < L) e = e + E[(i + 1) * V + j] * wt(i + 1, j, 1);
          if (j < L) e = e + E[i * V + (j + 1)] * wt(i, j + 1, 2);
        }
        E[i * V + j] = e;
      }
    }
    const T d = dvalue[p];
    for (int i = 1; i <= L; ++i) {
      for (int j = 1; j <= L; ++j) {
        const std::size_t c = static_cast<std::size_t>(i - 1) * L + (j - 1);
        const T de = d * E[i * V + j];
        if (dm) dm[p * LL + c] += de;
        if (dg) dg[p * LL + c] += de * (wt(i, j, 1) + wt(i, j, 2));
      }
    }
  }
}

template void fsd_dp_forward<float>(float*, const float*, const float*, int, int, double);
template void fsd_dp_forward<double>(double*, const double*, const double*, int, int, double);
template void fsd_dp_backward<float>(float*, float*, const float*, const float*, const float*, int, int, double);
template void fsd_dp_backward<double>(double*, double*, const double*, const double*, const double*, int, int,
                                      double);

}  // namespace aicl
