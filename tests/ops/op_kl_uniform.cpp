// Op cases of kernels/kl_uniform: SAL's background loss KL(uniform || softmax(z)), batch mean.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/kl_uniform.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// The loss equals (1/B) Σ_b [ -log C - (1/C) Σ_c log π_bc ] in double, and the gradient rows sum to 0.
void invariants(int B, int C, const CpuState& s, Report& rep) {
  double want = 0;
  for (int b = 0; b < B; ++b) {
    const double* z = s.in.f[0].data() + std::size_t(b) * C;
    double m = z[0], sum = 0;
    for (int c = 1; c < C; ++c) m = std::max(m, z[c]);
    for (int c = 0; c < C; ++c) sum += std::exp(z[c] - m);
    for (int c = 0; c < C; ++c) want += (1.0 / C) * (std::log(1.0 / C) - (z[c] - m - std::log(sum)));
  }
  want /= B;
  const double got = s.out.f[0][0];
  rep.check(std::fabs(got - want) <= 1e-12 * std::max(1.0, std::fabs(want)),
            "loss " + std::to_string(got) + ", closed form " + std::to_string(want));
  for (int b = 0; b < B; ++b) {
    double row = 0;
    for (int c = 0; c < C; ++c) row += s.grad[0][std::size_t(b) * C + c];
    rep.check(std::fabs(row) < 1e-12, "dz row " + std::to_string(b) + " sums to " + std::to_string(row));
  }
}

OpCase kl_uniform_case(int B, int C) {
  OpCase c;
  c.op = "kl_uniform";
  c.params = "B=" + std::to_string(B) + " C=" + std::to_string(C);
  c.checks = kGradCheck | kCuda | kPerf;
  const std::size_t n = std::size_t(B) * C;
  // Device: expf/logf within 2 ulp of the CPU's, summed in the same double order: 1e-5 relative.
  c.inputs = {float_in("z", n)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [=](Values<double>& in) { in.f[0] = random_vector(n, 50 + B * C, -3, 3); };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {1.3}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::kl_uniform_forward(a.in[0], B, C); });
  c.set_cpu_backward([=](const auto& a) { aicl::kl_uniform_backward(a.din[0], a.dout_host[0][0], a.in[0], B, C); });
  c.grad.prefill = 0.25;
  c.grad_invariants = [=](const CpuState& s, Report& rep) { invariants(B, C, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) { aicl::kl_uniform_forward_cuda(a.out[0], a.in[0], B, C, stream_of(a)); };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::kl_uniform_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], B, C, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_prefill = 0.05;
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> kl_uniform_cases() {
  std::vector<OpCase> cs;
  // C = 1 (KL is 0), SAL's THUMOS14 shape (B = 2, C = 20), ActivityNet 1.3 (C = 200).
  for (auto [B, C] : {std::pair{1, 1}, std::pair{2, 20}, std::pair{3, 7}, std::pair{16, 20}, std::pair{2, 200}})
    cs.push_back(kl_uniform_case(B, C));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(kl_uniform_cases);

}  // namespace aicl_test::ops
