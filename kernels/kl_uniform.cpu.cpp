// SAL's KL-to-uniform background loss on the CPU (see kl_uniform.h).
#include "kernels/kl_uniform.h"

// The products must round as on the GPU (no contraction into FMAs).
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace {

void check_shape(const char* fn, int B, int C) {
  if (B < 1 || C < 1) fail(std::string(fn) + ": B and C must be positive (got " + std::to_string(B) + ", " +
                           std::to_string(C) + ")");
}

// π = softmax(z) of one row: exp(z − max) / Σ, in T, summed in order.
template <class T>
void softmax_row(const T* z, T* p, int C) {
  const T m = *std::max_element(z, z + C);
  T s = 0;
  for (int c = 0; c < C; ++c) s += (p[c] = std::exp(z[c] - m));
  for (int c = 0; c < C; ++c) p[c] /= s;
}

}  // namespace

template <class T>
T kl_uniform_forward(const T* z, int B, int C) {
  check_shape("kl_uniform_forward", B, C);
  const T u = T(1) / static_cast<T>(C), log_u = std::log(u);
  std::vector<T> p(static_cast<std::size_t>(C));
  double total = 0;
  for (int b = 0; b < B; ++b) {
    softmax_row(z + static_cast<std::size_t>(b) * C, p.data(), C);
    double row = 0;
    for (int c = 0; c < C; ++c) row += static_cast<double>(u * (log_u - std::log(p[c])));
    total += row;
  }
  return static_cast<T>(total / B);
}

template <class T>
void kl_uniform_backward(T* dz, T dloss, const T* z, int B, int C) {
  check_shape("kl_uniform_backward", B, C);
  const T u = T(1) / static_cast<T>(C), scale = dloss / static_cast<T>(B);
  std::vector<T> p(static_cast<std::size_t>(C));
  for (int b = 0; b < B; ++b) {
    softmax_row(z + static_cast<std::size_t>(b) * C, p.data(), C);
    for (int c = 0; c < C; ++c) dz[static_cast<std::size_t>(b) * C + c] += scale * (p[c] - u);
  }
}

template float kl_uniform_forward<float>(const float*, int, int);
template double kl_uniform_forward<double>(const double*, int, int);
template void kl_uniform_backward<float>(float*, float, const float*, int, int);
template void kl_uniform_backward<double>(double*, double, const double*, int, int);

}  // namespace aicl
