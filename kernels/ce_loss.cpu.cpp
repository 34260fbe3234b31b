// CPU video-level cross-entropy with normalised labels (forward and hand-derived backward).
#include "kernels/ce_loss.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace {

constexpr double kLabelEps = 1e-10;  // official: label / label.sum(1) + 1e-10

// Checks the shape and that every video has a positive label mass; returns nothing, throws aicl::Error.
template <class T>
void check_ce_inputs(const char* op, const T* labels, int B, int C) {
  if (B < 1 || C < 1)
    fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " C=" + std::to_string(C));
  for (int b = 0; b < B; ++b) {
    double s = 0;
    for (int c = 0; c < C; ++c) s += labels[static_cast<long>(b) * C + c];
    if (!(s > 0))
      fail(std::string(op) + ": video " + std::to_string(b) +
           " of the batch has no positive label (label sum " + std::to_string(s) +
           "); the normalised label would be 0/0");
  }
}

// Normalised label entries label_n[c] into out (double), returns their sum.
template <class T>
double normalised_label(double* out, const T* y, int C) {
  double s = 0;
  for (int c = 0; c < C; ++c) s += y[c];
  double total = 0;
  for (int c = 0; c < C; ++c) {
    out[c] = static_cast<double>(y[c]) / s + kLabelEps;
    total += out[c];
  }
  return total;
}

// log-sum-exp of one row, max-shifted.
template <class T>
double log_sum_exp(const T* x, int C) {
  double mx = x[0];
  for (int c = 1; c < C; ++c) mx = std::max(mx, static_cast<double>(x[c]));
  double s = 0;
  for (int c = 0; c < C; ++c) s += std::exp(static_cast<double>(x[c]) - mx);
  return mx + std::log(s);
}

}  // namespace

template <class T>
T video_ce_forward(const T* logits, const T* labels, int B, int C) {
  check_ce_inputs("video_ce_forward", labels, B, C);
  std::vector<double> label_n(C);
  double total = 0;
  for (int b = 0; b < B; ++b) {
    const T* x = logits + static_cast<long>(b) * C;
    normalised_label(label_n.data(), labels + static_cast<long>(b) * C, C);
    const double lse = log_sum_exp(x, C);
    double row = 0;
    for (int c = 0; c < C; ++c) row += label_n[c] * (static_cast<double>(x[c]) - lse);
    total += row;
  }
  return static_cast<T>(-total / B);
}

template <class T>
void video_ce_backward(T* dlogits, T dloss, const T* logits, const T* labels, int B, int C) {
  check_ce_inputs("video_ce_backward", labels, B, C);
  std::vector<double> label_n(C);
  const double scale = -static_cast<double>(dloss) / B;
  for (int b = 0; b < B; ++b) {
    const T* x = logits + static_cast<long>(b) * C;
    const double mass = normalised_label(label_n.data(), labels + static_cast<long>(b) * C, C);
    const double lse = log_sum_exp(x, C);
    for (int c = 0; c < C; ++c) {
      const double softmax = std::exp(static_cast<double>(x[c]) - lse);
      dlogits[static_cast<long>(b) * C + c] += static_cast<T>(scale * (label_n[c] - softmax * mass));
    }
  }
}

template float video_ce_forward<float>(const float*, const float*, int, int);
template double video_ce_forward<double>(const double*, const double*, int, int);
template void video_ce_backward<float>(float*, float, const float*, const float*, int, int);
template void video_ce_backward<double>(double*, double, const double*, const double*, int, int);

}  // namespace aicl
