// Cosine-similarity matrices of candidate-set pairs on the CPU: normalised rows, then one GEMM per pair.
#include "kernels/cosine_pairs.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "kernels/gemm.h"

namespace aicl {

namespace {

void check_args(const char* fn, int rows, int ld, int c0, int w, const int* ra, const int* rb, int P, int L) {
  if (P < 0 || L < 1 || w < 1 || c0 < 0 || c0 + w > ld || rows < 0)
    fail(std::string(fn) + ": bad arguments P=" + std::to_string(P) + " L=" + std::to_string(L) + " columns [" +
         std::to_string(c0) + ", " + std::to_string(c0 + w) + ") ld=" + std::to_string(ld));
  for (int p = 0; p < P; ++p)
    for (int r : {ra[p], rb[p]})
      if (r < 0 || r + L > rows)
        fail(std::string(fn) + ": pair " + std::to_string(p) + " has a set at rows [" + std::to_string(r) + ", " +
             std::to_string(r + L) + "), outside the " + std::to_string(rows) + " rows");
}

// The L normalised rows of a set into out [L, w]; their norms into norm [L].
template <class T>
void normalised_set(T* out, T* norm, const T* X, int ld, int c0, int w, int first, int L) {
  for (int i = 0; i < L; ++i) {
    const T* x = X + long(first + i) * ld + c0;
    double s = 0;
    for (int d = 0; d < w; ++d) s += double(x[d]) * double(x[d]);
    norm[i] = static_cast<T>(std::sqrt(s));
    for (int d = 0; d < w; ++d) out[long(i) * w + d] = x[d] / norm[i];
  }
}

// dX rows of one set += (dn − n̂·⟨n̂, dn⟩)/norm, row by row.
template <class T>
void project_back(T* dX, int ld, int c0, int w, int first, int L, const T* hat, const T* norm, const T* dhat) {
  for (int i = 0; i < L; ++i) {
    const T* h = hat + long(i) * w;
    const T* g = dhat + long(i) * w;
    T dot = 0;
    for (int d = 0; d < w; ++d) dot += h[d] * g[d];
    T* out = dX + long(first + i) * ld + c0;
    for (int d = 0; d < w; ++d) out[d] += (g[d] - h[d] * dot) / norm[i];
  }
}

}  // namespace

template <class T>
void cosine_pairs_forward(T* S, const T* X, int rows, int ld, int c0, int w, const int* ra, const int* rb, int P,
                          int L) {
  check_args("cosine_pairs_forward", rows, ld, c0, w, ra, rb, P, L);
  const std::size_t n = std::size_t(L) * w, nl = std::size_t(L);
  std::vector<T> a(n), b(n), na(nl), nb(nl);
  for (int p = 0; p < P; ++p) {
    normalised_set(a.data(), na.data(), X, ld, c0, w, ra[p], L);
    normalised_set(b.data(), nb.data(), X, ld, c0, w, rb[p], L);
    gemm(false, true, L, L, w, T(1), a.data(), w, b.data(), w, T(0), S + long(p) * L * L, L);
  }
}

template <class T>
void cosine_pairs_backward(T* dX, const T* dS, const T* X, int rows, int ld, int c0, int w, const int* ra,
                           const int* rb, int P, int L) {
  check_args("cosine_pairs_backward", rows, ld, c0, w, ra, rb, P, L);
  const std::size_t n = std::size_t(L) * w, nl = std::size_t(L);
  std::vector<T> a(n), b(n), da(n), db(n), na(nl), nb(nl);
  for (int p = 0; p < P; ++p) {
    const T* g = dS + long(p) * L * L;
    normalised_set(a.data(), na.data(), X, ld, c0, w, ra[p], L);
    normalised_set(b.data(), nb.data(), X, ld, c0, w, rb[p], L);
    gemm(false, false, L, w, L, T(1), g, L, b.data(), w, T(0), da.data(), w);  // dâ = dS·b̂
    gemm(true, false, L, w, L, T(1), g, L, a.data(), w, T(0), db.data(), w);   // db̂ = dSᵀ·â
    project_back(dX, ld, c0, w, ra[p], L, a.data(), na.data(), da.data());
    project_back(dX, ld, c0, w, rb[p], L, b.data(), nb.data(), db.data());
  }
}

template void cosine_pairs_forward<float>(float*, const float*, int, int, int, int, const int*, const int*, int, int);
template void cosine_pairs_forward<double>(double*, const double*, int, int, int, int, const int*, const int*, int,
                                           int);
template void cosine_pairs_backward<float>(float*, const float*, const float*, int, int, int, int, const int*,
                                           const int*, int, int);
template void cosine_pairs_backward<double>(double*, const double*, const double*, int, int, int, int, const int*,
                                            const int*, int, int);

}  // namespace aicl
