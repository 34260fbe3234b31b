// FTCL's hard thresholded LCS DP on the CPU (see lcs_dp.h).
#include "kernels/lcs_dp.h"

#pragma GCC optimize("fp-contract=off")

#include <cstddef>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace {

void check_args(const char* fn, int P, int L) {
  if (P < 0 || L < 1)
    fail(std::string(fn) + ": need P >= 0 and L >= 1 (got P=" + std::to_string(P) + ", L=" + std::to_string(L) + ")");
}

// The cell score: S itself, or stage A's max(0, S − 0.8)·5 (in T, in that order; a NaN stays NaN).
template <class T>
inline T lcs_score(T s, bool stage_a) {
  if (!stage_a) return s;
  const T d = s - static_cast<T>(0.8);
  return (d < T(0) ? T(0) : d) * static_cast<T>(5);
}

// One pair's table C [(L+1)²].
template <class T>
void lcs_table(T* C, const T* S, int L, T tau, bool stage_a) {
  const int W = L + 1;
  for (int k = 0; k < W * W; ++k) C[k] = T(0);
  for (int i = 1; i <= L; ++i) {
    for (int j = 1; j <= L; ++j) {
      const T s = lcs_score(S[static_cast<std::size_t>(i - 1) * L + (j - 1)], stage_a);
      const T up = C[(i - 1) * W + j], left = C[i * W + (j - 1)];
      C[i * W + j] = s > tau ? C[(i - 1) * W + (j - 1)] + s : (left > up ? left : up);
    }
  }
}

}  // namespace

template <class T>
void lcs_dp_forward(T* value, const T* S, int P, int L, float tau, bool stage_a) {
  check_args("lcs_dp_forward", P, L);
  const std::size_t LL = static_cast<std::size_t>(L) * L;
  std::vector<T> C(static_cast<std::size_t>(L + 1) * (L + 1));
  for (int p = 0; p < P; ++p) {
    lcs_table(C.data(), S + p * LL, L, static_cast<T>(tau), stage_a);
    value[p] = C.back();
  }
}

template <class T>
void lcs_dp_backward(T* dS, const T* dvalue, const T* S, int P, int L, float tau, bool stage_a) {
  check_args("lcs_dp_backward", P, L);
  if (!dS) return;
  const std::size_t LL = static_cast<std::size_t>(L) * L;
  const int W = L + 1;
  const T t = static_cast<T>(tau);
  std::vector<T> C(static_cast<std::size_t>(W) * W);
  for (int p = 0; p < P; ++p) {
    const T* Sp = S + p * LL;
    lcs_table(C.data(), Sp, L, t, stage_a);
    const T d = stage_a ? dvalue[p] * static_cast<T>(5) : dvalue[p];
    int i = L, j = L;
    while (i > 0 && j > 0) {
      const std::size_t c = static_cast<std::size_t>(i - 1) * L + (j - 1);
      if (lcs_score(Sp[c], stage_a) > t) {
        dS[p * LL + c] += d;
        --i;
        --j;
      } else if (C[i * W + (j - 1)] > C[(i - 1) * W + j]) {
        --j;
      } else {
        --i;
      }
    }
  }
}

template void lcs_dp_forward<float>(float*, const float*, int, int, float, bool);
template void lcs_dp_forward<double>(double*, const double*, int, int, float, bool);
template void lcs_dp_backward<float>(float*, const float*, const float*, int, int, float, bool);
template void lcs_dp_backward<double>(double*, const double*, const double*, int, int, float, bool);

}  // namespace aicl
