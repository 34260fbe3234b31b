// Op cases of kernels/branch_ce: ACM-Net's per-branch video classification loss (instance, context, background).
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/branch_ce.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

using aicl::BranchTarget;

const char* target_name(BranchTarget t) {
  return t == BranchTarget::instance ? "instance" : t == BranchTarget::context ? "context" : "background";
}

// With eps = 0 the loss is −(1/B) Σ t·log_softmax in closed form (double), and every gradient row sums to 0.
void invariants(int B, int K, BranchTarget target, double eps, const CpuState& s, Report& rep) {
  const int C = K + 1;
  if (eps == 0) {
    double want = 0;
    for (int b = 0; b < B; ++b) {
      const double* z = s.in.f[0].data() + std::size_t(b) * C;
      const double* y = s.in.f[1].data() + std::size_t(b) * K;
      double m = z[0], lse = 0, ys = 0;
      for (int c = 1; c < C; ++c) m = std::max(m, z[c]);
      for (int c = 0; c < C; ++c) lse += std::exp(z[c] - m);
      lse = m + std::log(lse);
      for (int c = 0; c < K; ++c) ys += y[c];
      for (int c = 0; c < C; ++c) {
        const double yc = c < K ? y[c] : 0.0;
        const double t = target == BranchTarget::instance ? yc / ys
                         : target == BranchTarget::context ? (c < K ? yc : 1.0) / (ys + 1)
                                                            : (c == K ? 1.0 : 0.0);
        want -= t * (z[c] - lse) / B;
      }
    }
    rep.check(std::fabs(s.out.f[0][0] - want) <= 1e-12 * std::max(1.0, std::fabs(want)),
              "loss " + std::to_string(s.out.f[0][0]) + ", closed form " + std::to_string(want));
  }
  for (int b = 0; b < B; ++b) {
    double row = 0;
    for (int c = 0; c < C; ++c) row += s.grad[0][std::size_t(b) * C + c];
    // With eps > 0 the gradient row sums to −(dloss/B)·Σ_c t_c·eps/(p_c + eps), not 0: checked only at eps = 0.
    if (eps == 0)
      rep.check(std::fabs(row) < 1e-12, "dlogits row " + std::to_string(b) + " sums to " + std::to_string(row));
  }
}

OpCase branch_ce_case(int B, int K, BranchTarget target, double eps, unsigned checks) {
  OpCase c;
  c.op = "branch_ce";
  c.params = "B=" + std::to_string(B) + " K=" + std::to_string(K) + " " + target_name(target) + " eps=" + num(eps);
  c.checks = checks;
  const std::size_t nz = std::size_t(B) * (K + 1), ny = std::size_t(B) * K;
  // Device: expf/logf within 2 ulp, rows summed in double in the same order: 1e-5 relative.
  c.inputs = {float_in("logits", nz), float_in("labels", ny, false)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(nz, 920 + B * K, -3, 3);
    for (int b = 0; b < B; ++b)  // one or two classes per video (THUMOS14's multi-label videos)
      for (int k = 0; k < K; ++k) in.f[1][std::size_t(b) * K + k] = (k == b % K || (b % 3 == 1 && k == (b + 2) % K));
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.7}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::branch_ce_forward(a.in[0], a.in[1], B, K, target, eps); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::branch_ce_backward(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, K, target, eps);
  });
  c.grad_invariants = [=](const CpuState& s, Report& rep) { invariants(B, K, target, eps, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::branch_ce_forward_cuda(a.out[0], a.in[0], a.in[1], B, K, target, eps, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::branch_ce_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, K, target, eps, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_prefill = 0.05;
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> branch_ce_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  std::vector<OpCase> cs;
  // The three targets at eps 0 (closed form) and a large eps (its exact derivative), THUMOS14 (K = 20, B = 16).
  for (BranchTarget t : {BranchTarget::instance, BranchTarget::context, BranchTarget::background}) {
    cs.push_back(branch_ce_case(3, 4, t, 0.0, kGradCheck | kCuda));
    cs.push_back(branch_ce_case(3, 4, t, 0.05, kGradCheck | kCuda));
    cs.push_back(branch_ce_case(16, 20, t, 1e-10, all));
  }
  return cs;
}

}  // namespace

AICL_REGISTER_OP(branch_ce_cases);

}  // namespace aicl_test::ops
