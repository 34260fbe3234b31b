// CPU generalized cross-entropy with the official 1e-7 terms (forward and hand-derived backward).
#include "kernels/gce_loss.h"

#include <cmath>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

constexpr double kGceEps = 1e-7;  // official: (p + 1e-7)^q, (1 - p + 1e-7)^q, sums + 1e-7

void check_gce_args(const char* op, int B, int Tn, double q) {
  if (B < 1 || Tn < 1)
    fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn));
  if (!(q > 0)) fail(std::string(op) + ": q=" + std::to_string(q) + " must be > 0");
}

// The per-segment weight: m[t], or 1 without a mask (multiplying by 1 leaves every value unchanged).
template <class T>
double weight(const T* m, int t) {
  return m ? static_cast<double>(m[t]) : 1.0;
}

// pos_b and neg_b of one video (weighted by the mask when there is one).
template <class T>
void label_masses(const T* y, const T* m, int Tn, double& pos, double& neg) {
  pos = kGceEps;
  neg = kGceEps;
  double sp = 0, sn = 0;
  for (int t = 0; t < Tn; ++t) {
    sp += static_cast<double>(y[t]) * weight(m, t);
    sn += (1.0 - static_cast<double>(y[t])) * weight(m, t);
  }
  pos += sp;
  neg += sn;
}

}  // namespace

template <class T>
T gce_forward(const T* p, const T* y, int B, int Tn, double q, const T* m) {
  check_gce_args("gce_forward", B, Tn, q);
  double first = 0, second = 0;
#pragma omp parallel for reduction(+ : first, second) schedule(static)
  for (int b = 0; b < B; ++b) {
    const T* pb = p + static_cast<long>(b) * Tn;
    const T* yb = y + static_cast<long>(b) * Tn;
    const T* mb = m ? m + static_cast<long>(b) * Tn : nullptr;
    double pos, neg;
    label_masses(yb, mb, Tn, pos, neg);
    double sp = 0, sn = 0;
    for (int t = 0; t < Tn; ++t) {
      const double pt = pb[t], yt = yb[t], w = weight(mb, t);
      sp += (1.0 - std::pow(pt + kGceEps, q)) / q * (yt * w);
      sn += (1.0 - std::pow(1.0 - pt + kGceEps, q)) / q * ((1.0 - yt) * w);
    }
    first += sp / pos;
    second += sn / neg;
  }
  return static_cast<T>(first / B + second / B);
}

template <class T>
void gce_backward(T* dp, T dloss, const T* p, const T* y, int B, int Tn, double q, const T* m) {
  check_gce_args("gce_backward", B, Tn, q);
  const double scale = static_cast<double>(dloss) / B;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; ++b) {
    const T* pb = p + static_cast<long>(b) * Tn;
    const T* yb = y + static_cast<long>(b) * Tn;
    T* db = dp + static_cast<long>(b) * Tn;
    const T* mb = m ? m + static_cast<long>(b) * Tn : nullptr;
    double pos, neg;
    label_masses(yb, mb, Tn, pos, neg);
    for (int t = 0; t < Tn; ++t) {
      const double pt = pb[t], yt = yb[t], w = weight(mb, t);
      // d/dp (1 - (p+e)^q)/q = -(p+e)^(q-1);  d/dp (1 - (1-p+e)^q)/q = +(1-p+e)^(q-1).
      const double g = -std::pow(pt + kGceEps, q - 1) * (yt * w) / pos +
                       std::pow(1.0 - pt + kGceEps, q - 1) * ((1.0 - yt) * w) / neg;
      db[t] += static_cast<T>(scale * g);
    }
  }
}

template float gce_forward<float>(const float*, const float*, int, int, double, const float*);
template double gce_forward<double>(const double*, const double*, int, int, double, const double*);
template void gce_backward<float>(float*, float, const float*, const float*, int, int, double, const float*);
template void gce_backward<double>(double*, double, const double*, const double*, int, int, double, const double*);

}  // namespace aicl
