// CPU adaptive actionness mask of SAL: max softmax probability, batch mean/variance, EMA update, Gaussian weight.
//
// Python evaluates momentum*mu + (1 - momentum)*mu_b and the squared deviations without fused multiply-adds, and
// torch rounds d*d before the division; with -march=native GCC would contract them, so contraction stays off.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "kernels/confidence_mask.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/base/error.h"
#include "kernels/softmax_row.h"

namespace aicl {

namespace {

constexpr long kParallelWork = 1 << 15;  // below this many CAS values an OpenMP region costs more than it saves

// Batch mean and unbiased variance of p[0..N) in double (sequential, ascending n).
template <class T>
void batch_stats(const T* p, int N, double& mean, double& var) {
  double s = 0;
  for (int n = 0; n < N; ++n) s += double(p[n]);
  mean = s / N;
  double q = 0;
  for (int n = 0; n < N; ++n) {
    const double d = double(p[n]) - mean;
    q += d * d;
  }
  var = q / (N - 1);
}

}  // namespace

template <class T>
void confidence_mask_forward(T* m, double* state, const T* cas, int N, int C, double momentum, double var_scale) {
  if (N < 2 || C < 1)
    fail("confidence_mask_forward: N=" + std::to_string(N) + " C=" + std::to_string(C) +
         " (the unbiased variance needs N >= 2 segments, and C >= 1)");
#pragma omp parallel for if (long(N) * C > kParallelWork)
  for (long n = 0; n < N; ++n) m[n] = softmax_row_max(cas + n * C, C);  // p, kept in m until step 4
  double mean_b = 0, var_b = 0;
  batch_stats(m, N, mean_b, var_b);
  state[0] = momentum * state[0] + (1 - momentum) * mean_b;
  state[1] = momentum * state[1] + (1 - momentum) * var_b;
  const T mu = T(state[0]), den = T(var_scale * state[1]);
  for (long n = 0; n < N; ++n) {
    const T d = std::min(m[n] - mu, T(0));
    m[n] = std::exp(-(d * d / den));
  }
}

template void confidence_mask_forward<float>(float*, double*, const float*, int, int, double, double);
template void confidence_mask_forward<double>(double*, double*, const double*, int, int, double, double);

}  // namespace aicl
