// Op cases of kernels/ce_loss: AICL's video-level cross-entropy with the normalised multi-hot label.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/ce_loss.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// The closed-form inputs of tools/loss_oracle.py (the first B of its 3 videos, C = 20).
void oracle_inputs(int B, Values<double>& in) {
  const int C = 20;
  for (int i = 0; i < B * C; ++i) in.f[0][std::size_t(i)] = 2 * std::sin(0.37 * i + 0.5);
  const int positives[][2] = {{0, 3}, {1, 0}, {1, 19}, {2, 5}, {2, 6}, {2, 7}};
  for (const auto& p : positives)
    if (p[0] < B) in.f[1][std::size_t(p[0] * C + p[1])] = 1;
}

// Logits in [-3, 3); per video one random positive class and each other class positive with probability 1/5.
void random_inputs(int B, int C, unsigned seed, Values<double>& in) {
  in.f[0] = random_vector(std::size_t(B) * C, seed, -3, 3);
  const std::vector<double> u = random_vector(std::size_t(B) * (C + 1), seed + 1, 0, 1);
  for (int b = 0; b < B; ++b) {
    in.f[1][std::size_t(b) * C + std::size_t(u[std::size_t(b) * (C + 1)] * C) % std::size_t(C)] = 1;
    for (int c = 0; c < C; ++c)
      if (u[std::size_t(b) * (C + 1) + 1 + c] < 0.2) in.f[1][std::size_t(b) * C + c] = 1;
  }
}

// The rows of the gradient sum to -(dloss/B)(mass - mass) = 0 up to the 1e-10 label offset.
void rows_sum_to_zero(int B, int C, const CpuState& s, Report& rep) {
  for (int b = 0; b < B; ++b) {
    double sum = 0;
    for (int c = 0; c < C; ++c) sum += s.grad[0][std::size_t(b) * C + c];
    rep.check(std::fabs(sum) < 1e-12, "dlogits row " + std::to_string(b) + " sums to " + std::to_string(sum));
  }
}

OpCase video_ce_case(int B, int C, bool oracle) {
  OpCase c;
  c.op = "video_ce";
  c.params = "B=" + std::to_string(B) + " C=" + std::to_string(C) + (oracle ? " oracle" : "");
  c.checks = kGradCheck | kCuda | kPerf;
  const std::size_t n = std::size_t(B) * C;
  // Device loss: float sums in another (fixed) order than the CPU's double sums: 1e-5 relative.
  c.inputs = {float_in("logits", n), float_in("labels", n, false)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [=](Values<double>& in) { oracle ? oracle_inputs(B, in) : random_inputs(B, C, 10 + B * C, in); };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {1.7}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::video_ce_forward(a.in[0], a.in[1], B, C); });
  c.set_cpu_backward([=](const auto& a) { aicl::video_ce_backward(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, C); });
  c.grad.prefill = -0.25;
  c.grad_invariants = [=](const CpuState& s, Report& rep) { rows_sum_to_zero(B, C, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::video_ce_forward_cuda(a.out[0], a.in[0], a.in[1], B, C, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::video_ce_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, C, stream_of(a));
  };
#endif
  // Gradient: softmax * mass - label, a few roundings and one cancellation: 8e-6 of the increment.
  c.cuda_grad = {Cmp::rel_to_max, 8e-6};
  c.cuda_prefill = 0.05;
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> video_ce_cases() {
  std::vector<OpCase> cs{video_ce_case(3, 20, true), video_ce_case(1, 20, true)};
  for (auto [B, C] : {std::pair{1, 1}, std::pair{1, 20}, std::pair{3, 7}, std::pair{16, 20}, std::pair{5, 300}})
    cs.push_back(video_ce_case(B, C, false));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(video_ce_cases);

}  // namespace aicl_test::ops
