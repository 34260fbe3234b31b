// ACM-Net's branch classification loss on the CPU (see branch_ce.h).
#include "kernels/branch_ce.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <string>
#include <vector>

#include "core/base/error.h"
#include "kernels/softmax_row.h"

namespace aicl {

namespace {

template <class T>
void check_args(const char* fn, const T* labels, int B, int K, BranchTarget target, double eps) {
  if (B < 1 || K < 1 || !(eps >= 0))
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " K=" + std::to_string(K) + " eps=" +
         std::to_string(eps));
  if (target != BranchTarget::instance) return;
  for (int b = 0; b < B; ++b) {
    double s = 0;
    for (int c = 0; c < K; ++c) s += labels[static_cast<long>(b) * K + c];
    if (!(s > 0))
      fail(std::string(fn) + ": video " + std::to_string(b) +
           " of the batch has no positive label; the instance target [y, 0] / sum(y) would be 0/0");
  }
}

// The target row t [K+1] of one video, in T as the official float division.
template <class T>
void target_row(T* t, const T* y, int K, BranchTarget target) {
  T sum = 0;
  for (int c = 0; c < K; ++c) sum += y[c];
  for (int c = 0; c < K; ++c) t[c] = target == BranchTarget::background ? T(0) : y[c];
  t[K] = target == BranchTarget::instance ? T(0) : T(1);
  const T norm = target == BranchTarget::instance ? sum : target == BranchTarget::context ? sum + T(1) : T(1);
  for (int c = 0; c <= K; ++c) t[c] = t[c] / norm;
}

}  // namespace

template <class T>
T branch_ce_forward(const T* logits, const T* labels, int B, int K, BranchTarget target, double eps) {
  check_args("branch_ce_forward", labels, B, K, target, eps);
  const int C = K + 1;
  const T e = static_cast<T>(eps);
  std::vector<T> p(C), t(C);
  double total = 0;
  for (long b = 0; b < B; ++b) {
    softmax_row(p.data(), logits + b * C, C);
    target_row(t.data(), labels + b * K, K, target);
    double row = 0;
    for (int c = 0; c < C; ++c) row += static_cast<double>(std::log(p[c] + e) * t[c]);
    total += row;
  }
  return static_cast<T>(-total / B);
}

template <class T>
void branch_ce_backward(T* dlogits, T dloss, const T* logits, const T* labels, int B, int K, BranchTarget target,
                        double eps) {
  check_args("branch_ce_backward", labels, B, K, target, eps);
  const int C = K + 1;
  const T e = static_cast<T>(eps), scale = -dloss / static_cast<T>(B);
  std::vector<T> p(C), t(C), w(C);
  for (long b = 0; b < B; ++b) {
    softmax_row(p.data(), logits + b * C, C);
    target_row(t.data(), labels + b * K, K, target);
    T wsum = 0;  // w_c = t_c·p_c/(p_c + eps): ∂(t_c log(p_c + eps))/∂p_c times p_c
    for (int c = 0; c < C; ++c) wsum += (w[c] = t[c] * p[c] / (p[c] + e));
    for (int c = 0; c < C; ++c) dlogits[b * C + c] += scale * (w[c] - p[c] * wsum);
  }
}

template float branch_ce_forward<float>(const float*, const float*, int, int, BranchTarget, double);
template double branch_ce_forward<double>(const double*, const double*, int, int, BranchTarget, double);
template void branch_ce_backward<float>(float*, float, const float*, const float*, int, int, BranchTarget, double);
template void branch_ce_backward<double>(double*, double, const double*, const double*, int, int, BranchTarget,
                                         double);

}  // namespace aicl
