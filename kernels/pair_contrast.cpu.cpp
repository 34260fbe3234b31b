// FTCL's negative-minus-positive contrast of per-pair scores on the CPU (see pair_contrast.h).
#include "kernels/pair_contrast.h"

#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

void check_args(const char* fn, int P, double eps) {
  if (P < 0 || !(eps >= 0))
    fail(std::string(fn) + ": bad arguments P=" + std::to_string(P) + " eps=" + std::to_string(eps));
}

int count_pos(const int* pos, int P) {
  int n = 0;
  for (int p = 0; p < P; ++p) n += pos[p] != 0;
  return n;
}

// 1/(n + eps) in double, 0 for an empty group.
double inv_count(int n, double eps) { return n > 0 ? 1.0 / (n + eps) : 0.0; }

}  // namespace

template <class T>
T pair_contrast_forward(const T* value, const int* pos, int P, double eps) {
  check_args("pair_contrast_forward", P, eps);
  const int np = count_pos(pos, P), nn = P - np;
  double sp = 0, sn = 0;
  for (int p = 0; p < P; ++p) (pos[p] ? sp : sn) += value[p];
  return static_cast<T>(sn * inv_count(nn, eps) - sp * inv_count(np, eps));
}

template <class T>
void pair_contrast_backward(T* dvalue, T dloss, const int* pos, int P, double eps) {
  check_args("pair_contrast_backward", P, eps);
  const int np = count_pos(pos, P), nn = P - np;
  const T wp = static_cast<T>(-inv_count(np, eps)), wn = static_cast<T>(inv_count(nn, eps));
  for (int p = 0; p < P; ++p) dvalue[p] += dloss * (pos[p] ? wp : wn);
}

template float pair_contrast_forward<float>(const float*, const int*, int, double);
template double pair_contrast_forward<double>(const double*, const int*, int, double);
template void pair_contrast_backward<float>(float*, float, const int*, int, double);
template void pair_contrast_backward<double>(double*, double, const int*, int, double);

}  // namespace aicl
