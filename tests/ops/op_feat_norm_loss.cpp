// Op cases of kernels/feat_norm_loss: ACM-Net's margin loss on the norms of the three branches' mean features.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/feat_norm_loss.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// Both hinges must be seen open and closed across the videos (else the case proved half the rule), and no hinge may
// sit within the finite-difference step of its kink.
void invariants(int B, int D, double margin, const CpuState& s, Report& rep) {
  int open1 = 0, open2 = 0;
  for (int b = 0; b < B; ++b) {
    double n[3];
    for (int x = 0; x < 3; ++x) {
      double q = 0;
      for (int d = 0; d < D; ++d) q += std::pow(s.in.f[0][(std::size_t(x) * B + b) * D + d], 2);
      n[x] = std::sqrt(q);
    }
    const double l1 = margin - n[0] + n[1], l2 = margin - n[1] + n[2];
    open1 += l1 >= 0, open2 += l2 >= 0;
    rep.check(std::fabs(l1) > 1e-4 && std::fabs(l2) > 1e-4, "video " + std::to_string(b) + " sits on a hinge kink");
  }
  if (B >= 6) rep.check(open1 > 0 && open1 < B && open2 > 0 && open2 < B, "a hinge is open or closed for every video");
}

OpCase feat_norm_case(int B, int D, double margin, unsigned checks) {
  OpCase c;
  c.op = "feat_norm_loss";
  c.params = "B=" + std::to_string(B) + " D=" + std::to_string(D) + " margin=" + num(margin);
  c.checks = checks;
  const std::size_t n = 3 * std::size_t(B) * D;
  // Device: norms in double in another order, then the CPU's float terms: 1e-5 relative.
  c.inputs = {float_in("f", n)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(n, 950 + B + D);
    for (int b = 0; b < B; ++b)  // spread the instance norms so that both hinges open and close
      for (int d = 0; d < D; ++d) in.f[0][std::size_t(b) * D + d] *= 0.4 + 0.3 * b;
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.8}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::feat_norm_loss_forward(a.in[0], B, D, margin); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::feat_norm_loss_backward(a.din[0], a.dout_host[0][0], a.in[0], B, D, margin);
  });
  c.grad_invariants = [=](const CpuState& s, Report& rep) { invariants(B, D, margin, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::feat_norm_loss_forward_cuda(a.out[0], a.in[0], B, D, margin, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::feat_norm_loss_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], B, D, margin, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_prefill = 0.05;
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> feat_norm_loss_cases() {
  // margin 0.5 on norms ~1-4 (both hinges either way), and the official margin 50 at THUMOS14's D = 2048.
  return {feat_norm_case(8, 6, 0.5, kGradCheck | kCuda | kPerf), feat_norm_case(2, 5, 50, kGradCheck | kCuda),
          feat_norm_case(16, 2048, 50, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(feat_norm_loss_cases);

}  // namespace aicl_test::ops
