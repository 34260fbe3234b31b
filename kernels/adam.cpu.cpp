// CPU Adam/SGD steps, operation by operation as torch 1.13 runs them on float tensors (verified bit-for-bit
// against torch by tools/adam_golden.py; the expected values live in tests/cpu/test_adam.cpp).
//
// torch's `a.add(b, alpha=s)` is vec::fmadd(b, s, a): one rounding, hence std::fma below. torch's
// addcmul `self + value*t1*t2` is compiled (GCC, AVX2 kernels) into fma(value*t1, t2, self): using a plain
// multiply-add there left exp_avg_sq 1 ulp off torch. Every other step is a separate torch kernel with its own
// rounding, so floating-point contraction must stay off in this file.
#pragma GCC optimize("fp-contract=off")
#include "kernels/adam.h"

#include <cmath>

namespace aicl {

namespace {
constexpr std::size_t kParallelWork = 1 << 14;  // below this many elements an OpenMP region costs more than it saves

// One Adam update of elements [0, n). kDecay is a template parameter (not a branch in the loop) and the project
// builds with -fno-math-errno (no errno branch after sqrt), so that GCC vectorises the loop. IEEE sqrt, division
// and fma round the same in vector and scalar form: the result stays bit-identical to torch (test_adam).
template <bool kDecay, class T>
bool adam_loop(T* __restrict param, const T* __restrict grad, T* __restrict m, T* __restrict v, long n, T wd, T b1,
               T b2, T one_minus_b1, T one_minus_b2, T eps_t, T neg_step_size, T bias_correction2_sqrt) {
  T not_finite = 0;  // grad*0 is 0 for finite values and NaN otherwise: the finite check rides along for free
#pragma omp parallel for simd reduction(+ : not_finite) if (std::size_t(n) > kParallelWork)
  for (long i = 0; i < n; ++i) {
    not_finite += grad[i] * T(0);
    const T g = kDecay ? std::fma(param[i], wd, grad[i]) : grad[i];
    const T m_decayed = m[i] * b1;                  // exp_avg.mul_(beta1)
    const T m_new = std::fma(g, one_minus_b1, m_decayed);  // .add_(grad, alpha=1-beta1)
    const T v_decayed = v[i] * b2;                  // exp_avg_sq.mul_(beta2)
    // .addcmul_(grad, grad, value=1-beta2), fused into one fma as torch's build does (see the file comment).
    const T v_new = std::fma(one_minus_b2 * g, g, v_decayed);
    const T denom = std::sqrt(v_new) / bias_correction2_sqrt + eps_t;
    param[i] = param[i] + neg_step_size * m_new / denom;  // addcdiv_(exp_avg, denom, value=-step_size)
    m[i] = m_new;
    v[i] = v_new;
  }
  return not_finite == T(0);
}

}  // namespace

template <class T>
bool adam_step(T* param, const T* grad, T* m, T* v, std::size_t n, double lr, double beta1, double beta2,
               double eps, double weight_decay, long step) {
  const double bias_correction1 = 1 - std::pow(beta1, double(step));
  const double bias_correction2 = 1 - std::pow(beta2, double(step));
  const T neg_step_size = T(-(lr / bias_correction1));
  const T bias_correction2_sqrt = T(std::sqrt(bias_correction2));
  const T wd = T(weight_decay), b1 = T(beta1), b2 = T(beta2), one_minus_b1 = T(1 - beta1),
          one_minus_b2 = T(1 - beta2), eps_t = T(eps);
  if (weight_decay != 0)
    return adam_loop<true>(param, grad, m, v, long(n), wd, b1, b2, one_minus_b1, one_minus_b2, eps_t,
                           neg_step_size, bias_correction2_sqrt);
  return adam_loop<false>(param, grad, m, v, long(n), wd, b1, b2, one_minus_b1, one_minus_b2, eps_t, neg_step_size,
                          bias_correction2_sqrt);
}

template <class T>
bool sgd_step(T* param, const T* grad, T* momentum_buf, std::size_t n, double lr, double momentum,
              double weight_decay, long step) {
  const T wd = T(weight_decay), mom = T(momentum), neg_lr = T(-lr);
  const bool decay = weight_decay != 0, use_momentum = momentum != 0, first = step <= 1;
  T not_finite = 0;
#pragma omp parallel for reduction(+ : not_finite) if (n > kParallelWork)
  for (long i = 0; i < long(n); ++i) {
    not_finite += grad[i] * T(0);
    T d = decay ? std::fma(param[i], wd, grad[i]) : grad[i];
    if (use_momentum) {
      // buf.mul_(momentum).add_(d, alpha=1 - dampening) with dampening 0: the fma with 1 is an exact add.
      d = first ? d : momentum_buf[i] * mom + d;
      momentum_buf[i] = d;
    }
    param[i] = std::fma(d, neg_lr, param[i]);  // param.add_(d, alpha=-lr)
  }
  return not_finite == T(0);
}

template bool adam_step<float>(float*, const float*, float*, float*, std::size_t, double, double, double, double,
                               double, long);
template bool adam_step<double>(double*, const double*, double*, double*, std::size_t, double, double, double,
                                double, double, long);
template bool sgd_step<float>(float*, const float*, float*, std::size_t, double, double, double, long);
template bool sgd_step<double>(double*, const double*, double*, std::size_t, double, double, double, long);

}  // namespace aicl
