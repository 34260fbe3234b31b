// Op cases of kernels/lcs_dp: FTCL's hard thresholded LCS (stage B) and its stage-A variant over a batch of pairs.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/lcs_dp.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

constexpr float kTau = 0.92f;

double score(double s, bool stage_a) { return stage_a ? std::max(0.0, s - 0.8) * 5.0 : s; }

// Similarities around the threshold, none within 1e-4 of it (the finite-difference step is 1e-6): about a third
// of the cells match (stage B: S in [0.6, 1]; stage A: S in [0.95, 1], matching above ~0.984).
std::vector<double> make_s(std::size_t n, unsigned seed, bool stage_a) {
  std::vector<double> s = random_vector(n, seed, stage_a ? 0.95 : 0.6, 1.0);
  const double tau = static_cast<double>(kTau);
  for (double& v : s) {
    for (int k = 0; std::fabs(score(v, stage_a) - tau) < 1e-4 && k < 100; ++k) v += 3e-4;
  }
  return s;
}

// The gradient is dvalue (stage A: 5·dvalue) on matched cells of one monotone path and 0 elsewhere, and its sum
// over a pair equals dvalue·(number of path cells); the value is the sum of the path's scores.
void invariants(int P, int L, bool stage_a, const CpuState& s, Report& rep) {
  const std::size_t LL = std::size_t(L) * L;
  for (int p = 0; p < P; ++p) {
    const double d = s.dout_before[0][p] * (stage_a ? 5.0 : 1.0);
    double path_sum = 0;
    int last_i = -1, last_j = -1;
    bool ok = true;
    for (int i = 0; i < L; ++i)
      for (int j = 0; j < L; ++j) {
        const double gij = s.grad[0][p * LL + i * L + j];
        if (gij == 0) continue;
        ok = ok && std::fabs(gij - d) <= 1e-12 * std::max(1.0, std::fabs(d)) && i > last_i && j > last_j &&
             score(s.in.f[0][p * LL + i * L + j], stage_a) > kTau;
        last_i = i;
        last_j = j;
        path_sum += score(s.in.f[0][p * LL + i * L + j], stage_a);
      }
    rep.check(ok, "pair " + std::to_string(p) + ": gradient is not dvalue on a strictly increasing path of matches");
    rep.check(d == 0 || std::fabs(path_sum - s.out.f[0][p]) <= 1e-12 * std::max(1.0, path_sum),
              "pair " + std::to_string(p) + ": value " + std::to_string(s.out.f[0][p]) + ", path sum " +
                  std::to_string(path_sum));
  }
}

OpCase lcs_case(int P, int L, bool stage_a, unsigned checks) {
  OpCase c;
  c.op = "lcs_dp";
  c.params = "P=" + std::to_string(P) + " L=" + std::to_string(L) + (stage_a ? " stage_a" : "");
  c.checks = checks;
  const std::size_t n = std::size_t(P) * L * L;
  // The same float additions and comparisons: the device values and gradients are the CPU's bit for bit.
  c.inputs = {float_in("S", n)};
  c.outputs = {float_out("value", std::size_t(P), {Cmp::bits, 0, 0})};
  c.make_inputs = [=](Values<double>& in) { in.f[0] = make_s(n, 900 + P * 7 + L + (stage_a ? 1 : 0), stage_a); };
  c.set_cpu_forward([=](const auto& a) { aicl::lcs_dp_forward(a.out[0], a.in[0], P, L, kTau, stage_a); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::lcs_dp_backward(a.din[0], a.dout[0], a.in[0], P, L, kTau, stage_a);
  });
  c.grad.prefill = 0.25;
  c.grad.defaults.eps = 1e-6;
  c.grad.defaults.atol = 1e-7;
  c.grad.defaults.rtol = 1e-6;
  c.grad.defaults.max_entries = 2000;
  c.grad_invariants = [=](const CpuState& s, Report& rep) { invariants(P, L, stage_a, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::lcs_dp_forward_cuda(a.out[0], a.in[0], P, L, kTau, stage_a, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::lcs_dp_backward_cuda(a.din[0], a.dout[0], a.in[0], P, L, kTau, stage_a, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> lcs_dp_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  return {lcs_case(3, 7, false, kGradCheck | kCuda), lcs_case(2, 30, false, all), lcs_case(2, 30, true, all),
          lcs_case(16, 30, false, kCuda | kPerf), lcs_case(16, 30, true, kCuda | kPerf),
          lcs_case(5, 64, false, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(lcs_dp_cases);

}  // namespace aicl_test::ops
