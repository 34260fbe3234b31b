// SAL's bilinear pooling on the CPU: Gram matrices through the GEMM wrapper, signed sqrt + L2 normalisation per row.
#include "kernels/bilinear_pool.h"

// dv - v*dot and the other products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cmath>
#include <cstddef>
#include <string>

#include "core/base/error.h"
#include "kernels/gemm.h"

namespace aicl {

namespace {
void check_shape(const char* fn, int B, int a, int b) {
  if (B < 1 || a < 1 || b < 1)
    fail(std::string(fn) + ": B, T/n and D must be positive (got " + std::to_string(B) + ", " + std::to_string(a) +
         ", " + std::to_string(b) + ")");
}
}  // namespace

template <class T>
void gram_forward(T* G, const T* E, int B, int Tn, int D) {
  check_shape("gram_forward", B, Tn, D);
  const std::size_t dd = std::size_t(D) * D;
  const T t2 = static_cast<T>(double(Tn) * Tn);
  for (int b = 0; b < B; ++b) {
    T* g = G + b * dd;
    gemm<T>(true, false, D, D, Tn, T(1), E + std::size_t(b) * Tn * D, D, E + std::size_t(b) * Tn * D, D, T(0), g, D);
#pragma omp parallel for if (dd > 65536)
    for (long i = 0; i < static_cast<long>(dd); ++i) g[i] /= t2;
  }
}

template <class T>
void gram_backward(T* dE, const T* dG, const T* E, int B, int Tn, int D) {
  check_shape("gram_backward", B, Tn, D);
  const std::size_t dd = std::size_t(D) * D, td = std::size_t(Tn) * D;
  const T s = static_cast<T>(1.0 / (double(Tn) * Tn));
  for (int b = 0; b < B; ++b) {
    // dE_b[t,k] += s Σ_j E_b[t,j] (dG[k,j] + dG[j,k]): E dGᵀ, then E dG.
    gemm<T>(false, true, Tn, D, D, s, E + b * td, D, dG + b * dd, D, T(1), dE + b * td, D);
    gemm<T>(false, false, Tn, D, D, s, E + b * td, D, dG + b * dd, D, T(1), dE + b * td, D);
  }
}

template <class T>
void signed_sqrt_l2_forward(T* v, T* norm, const T* c, int B, int n, double eps) {
  check_shape("signed_sqrt_l2_forward", B, n, 1);
  const T e = static_cast<T>(eps);
  for (int b = 0; b < B; ++b) {
    const T* cb = c + std::size_t(b) * n;
    T* vb = v + std::size_t(b) * n;
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > 65536)
    for (int i = 0; i < n; ++i) {
      const T x = cb[i];
      const T u = x > 0 ? std::sqrt(x + e) : x < 0 ? -std::sqrt(-x + e) : T(0);
      vb[i] = u;
      sum += double(u) * double(u);
    }
    norm[b] = static_cast<T>(std::sqrt(sum));
    const T m = norm[b] > T(1e-12) ? norm[b] : T(1e-12);
#pragma omp parallel for if (n > 65536)
    for (int i = 0; i < n; ++i) vb[i] /= m;
  }
}

template <class T>
void signed_sqrt_l2_backward(T* dc, const T* dv, const T* v, const T* norm, const T* c, int B, int n, double eps) {
  check_shape("signed_sqrt_l2_backward", B, n, 1);
  const T e = static_cast<T>(eps);
  for (int b = 0; b < B; ++b) {
    const std::size_t o = std::size_t(b) * n;
    const bool clamped = !(norm[b] > T(1e-12));
    double dot = 0;
    if (!clamped) {
#pragma omp parallel for reduction(+ : dot) if (n > 65536)
      for (int i = 0; i < n; ++i) dot += double(v[o + i]) * double(dv[o + i]);
    }
    const T d = static_cast<T>(dot), m = clamped ? T(1e-12) : norm[b];
#pragma omp parallel for if (n > 65536)
    for (int i = 0; i < n; ++i) {
      const T x = c[o + i];
      if (x == T(0)) continue;
      const T gu = (clamped ? dv[o + i] : dv[o + i] - v[o + i] * d) / m;
      dc[o + i] += gu * T(0.5) / std::sqrt(std::fabs(x) + e);
    }
  }
}

#define AICL_INSTANTIATE_BILINEAR(T)                                                         \
  template void gram_forward<T>(T*, const T*, int, int, int);                               \
  template void gram_backward<T>(T*, const T*, const T*, int, int, int);                    \
  template void signed_sqrt_l2_forward<T>(T*, T*, const T*, int, int, double);              \
  template void signed_sqrt_l2_backward<T>(T*, const T*, const T*, const T*, const T*, int, int, double);
AICL_INSTANTIATE_BILINEAR(float)
AICL_INSTANTIATE_BILINEAR(double)
#undef AICL_INSTANTIATE_BILINEAR

}  // namespace aicl
