// Op cases of kernels/fsd_dp: FTCL's FSD soft alignment (match scores m, gap scores g) over a batch of pairs.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/fsd_dp.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

constexpr double kGamma = 0.1;

// With γ → the closed form for L = 1: C(1,1) = m + γ·log(1 + 2·exp(g/γ)) (the three moves from the zero boundary).
void invariants(int P, int L, const CpuState& s, Report& rep) {
  if (L != 1) return;
  for (int p = 0; p < P; ++p) {
    const double m = s.in.f[0][p], g = s.in.f[1][p];
    const double want = m + kGamma * std::log(1.0 + 2.0 * std::exp(g / kGamma));
    rep.check(std::fabs(s.out.f[0][p] - want) <= 1e-12, "L=1 value " + std::to_string(s.out.f[0][p]) +
                                                           ", closed form " + std::to_string(want));
  }
}

OpCase fsd_case(int P, int L, unsigned checks) {
  OpCase c;
  c.op = "fsd_dp";
  c.params = "P=" + std::to_string(P) + " L=" + std::to_string(L);
  c.checks = checks;
  const std::size_t n = std::size_t(P) * L * L;
  // Values: the same float operations with CUDA's expf/logf (2 ulp): 1e-5 of the largest value.
  c.inputs = {float_in("m", n, true, /*nullable=*/true), float_in("g", n, true, /*nullable=*/true)};
  c.outputs = {float_out("value", std::size_t(P), {Cmp::rel_to_max, 1e-5, 1e-3})};
  // Cosines in [-1, 1], as in FTCL.
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(n, 700 + P * 31 + L);
    in.f[1] = random_vector(n, 800 + P * 31 + L);
  };
  c.set_cpu_forward([=](const auto& a) { aicl::fsd_dp_forward(a.out[0], a.in[0], a.in[1], P, L, kGamma); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::fsd_dp_backward(a.din[0], a.din[1], a.dout[0], a.in[0], a.in[1], P, L, kGamma);
  });
  c.grad.prefill = 0.25;
  c.grad.defaults.eps = 1e-6;
  c.grad.defaults.atol = 1e-7;
  c.grad.defaults.rtol = 1e-5;
  c.grad_invariants = [=](const CpuState& s, Report& rep) { invariants(P, L, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::fsd_dp_forward_cuda(a.out[0], a.in[0], a.in[1], P, L, kGamma, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::fsd_dp_backward_cuda(a.din[0], a.din[1], a.dout[0], a.in[0], a.in[1], P, L, kGamma, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-4, 1e-6};
  c.cuda_prefill = 0.05;
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  c.cuda_null_grad_same_bits = true;
  return c;
}

std::vector<OpCase> fsd_dp_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  return {fsd_case(3, 1, kGradCheck | kCuda), fsd_case(3, 5, all), fsd_case(2, 9, kGradCheck | kCuda),
          fsd_case(16, 5, kCuda | kPerf), fsd_case(40, 32, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(fsd_dp_cases);

}  // namespace aicl_test::ops
