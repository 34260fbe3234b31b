// ACM-Net's guide and sparsity losses on the CPU (see attention_losses.h).
#include "kernels/attention_losses.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cmath>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {
void check_args(const char* fn, int B, int Tn, int C, int A, int cols) {
  if (B < 1 || Tn < 1 || C < 1 || A < 1 || cols < 1 || cols > A)
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " C=" +
         std::to_string(C) + " A=" + std::to_string(A) + " cols=" + std::to_string(cols));
}
}  // namespace

template <class T>
T guide_loss_forward(const T* p, const T* att, int B, int Tn, int C, int A) {
  check_args("guide_loss_forward", B, Tn, C, A, 1);
  double total = 0;  // per video in double, then the videos in order (the CUDA twin's order)
  for (long b = 0; b < B; ++b) {
    double row = 0;
    for (long n = b * Tn; n < (b + 1) * Tn; ++n) row += std::fabs(T(1) - p[n * C + C - 1] - att[n * A]);
    total += row;
  }
  return static_cast<T>(total / B);
}

template <class T>
void guide_loss_backward(T* dp, T dloss, const T* p, const T* att, int B, int Tn, int C, int A) {
  check_args("guide_loss_backward", B, Tn, C, A, 1);
  const T scale = dloss / static_cast<T>(B);
  for (long n = 0; n < long(B) * Tn; ++n) {
    const T r = T(1) - p[n * C + C - 1] - att[n * A];
    if (r > 0) dp[n * C + C - 1] -= scale;  // d|r|/dp = −sign(r)
    else if (r < 0) dp[n * C + C - 1] += scale;
  }
}

template <class T>
T att_sparsity_forward(const T* att, int B, int Tn, int A, int cols) {
  check_args("att_sparsity_forward", B, Tn, 1, A, cols);
  double total = 0;  // per video in double, then the videos in order (the CUDA twin's order)
  for (long b = 0; b < B; ++b) {
    double row = 0;
    for (long n = b * Tn; n < (b + 1) * Tn; ++n)
      for (int a = 0; a < cols; ++a) row += att[n * A + a];
    total += row;
  }
  return static_cast<T>(total / (double(B) * cols));
}

template <class T>
void att_sparsity_backward(T* datt, T dloss, int B, int Tn, int A, int cols) {
  check_args("att_sparsity_backward", B, Tn, 1, A, cols);
  const T g = dloss / static_cast<T>(B * cols);
  for (long n = 0; n < long(B) * Tn; ++n)
    for (int a = 0; a < cols; ++a) datt[n * A + a] += g;
}

template float guide_loss_forward<float>(const float*, const float*, int, int, int, int);
template double guide_loss_forward<double>(const double*, const double*, int, int, int, int);
template void guide_loss_backward<float>(float*, float, const float*, const float*, int, int, int, int);
template void guide_loss_backward<double>(double*, double, const double*, const double*, int, int, int, int);
template float att_sparsity_forward<float>(const float*, int, int, int, int);
template double att_sparsity_forward<double>(const double*, int, int, int, int);
template void att_sparsity_backward<float>(float*, float, int, int, int, int);
template void att_sparsity_backward<double>(double*, double, int, int, int, int);

}  // namespace aicl
