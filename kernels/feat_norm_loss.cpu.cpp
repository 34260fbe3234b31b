// ACM-Net's feature-norm loss on the CPU (see feat_norm_loss.h).
#include "kernels/feat_norm_loss.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <cmath>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

void check_args(const char* fn, int B, int D) {
  if (B < 1 || D < 1) fail(std::string(fn) + ": bad shape B=" + std::to_string(B) + " D=" + std::to_string(D));
}

template <class T>
T row_norm(const T* x, int D) {
  double s = 0;
  for (int d = 0; d < D; ++d) s += double(x[d]) * double(x[d]);
  return static_cast<T>(std::sqrt(s));
}

// One video's three norms, hinge terms and the squared sum's base s.
template <class T>
struct VideoTerms {
  T n[3], l1, l2, s;
};

template <class T>
VideoTerms<T> video_terms(const T* f, int B, int D, long b, double margin) {
  VideoTerms<T> v;
  for (int x = 0; x < 3; ++x) v.n[x] = row_norm(f + (x * long(B) + b) * D, D);
  const T m = static_cast<T>(margin);
  v.l1 = m - v.n[0] + v.n[1];
  v.l2 = m - v.n[1] + v.n[2];
  v.s = (v.l1 < 0 ? T(0) : v.l1) + (v.l2 < 0 ? T(0) : v.l2) + v.n[2];
  return v;
}

}  // namespace

template <class T>
T feat_norm_loss_forward(const T* f, int B, int D, double margin) {
  check_args("feat_norm_loss_forward", B, D);
  double total = 0;
  for (long b = 0; b < B; ++b) {
    const VideoTerms<T> v = video_terms(f, B, D, b, margin);
    total += double(v.s * v.s);
  }
  return static_cast<T>(total / B);
}

template <class T>
void feat_norm_loss_backward(T* df, T dloss, const T* f, int B, int D, double margin) {
  check_args("feat_norm_loss_backward", B, D);
  for (long b = 0; b < B; ++b) {
    const VideoTerms<T> v = video_terms(f, B, D, b, margin);
    const T g = T(2) * v.s * dloss / static_cast<T>(B);  // ∂loss/∂s
    const T k1 = v.l1 < 0 ? T(0) : g, k2 = v.l2 < 0 ? T(0) : g;
    const T dn[3] = {-k1, k1 - k2, k2 + g};
    for (int x = 0; x < 3; ++x) {
      if (!(v.n[x] != 0)) continue;
      const T scale = dn[x] / v.n[x];
      const long base = (x * long(B) + b) * D;
      for (int d = 0; d < D; ++d) df[base + d] += scale * f[base + d];
    }
  }
}

template float feat_norm_loss_forward<float>(const float*, int, int, double);
template double feat_norm_loss_forward<double>(const double*, int, int, double);
template void feat_norm_loss_backward<float>(float*, float, const float*, int, int, double);
template void feat_norm_loss_backward<double>(double*, double, const double*, int, int, double);

}  // namespace aicl
