// Op cases of kernels/gce_loss: generalized cross-entropy (q = 0.7) of an actionness curve vs the pseudo label.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/gce_loss.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

constexpr double kQ = 0.7;

// The closed-form inputs of tools/loss_oracle.py (the first B of its 3 videos, T = 50; video 2 has an empty label).
void oracle_inputs(int B, int T, Values<double>& in) {
  for (int i = 0; i < B * T; ++i) {
    in.f[0][std::size_t(i)] = 0.5 + 0.49 * std::sin(0.91 * i + 0.2);
    in.f[1][std::size_t(i)] = (i * 7) % 5 < 2 ? 1.0 : 0.0;
  }
  if (B > 2)
    for (int t = 0; t < T; ++t) in.f[1][std::size_t(2 * T + t)] = 0;
}

// p in [0, 1), y = 1 with probability 1/3; with B >= 3 video 1 has no positive and video 2 no negative segment.
void random_inputs(int B, int T, unsigned seed, Values<double>& in) {
  in.f[0] = random_vector(std::size_t(B) * T, seed, 0, 1);
  const std::vector<double> u = random_vector(std::size_t(B) * T, seed + 1, 0, 1);
  for (std::size_t i = 0; i < u.size(); ++i) in.f[1][i] = u[i] < 1.0 / 3 ? 1.0 : 0.0;
  if (B >= 3)
    for (int t = 0; t < T; ++t) in.f[1][std::size_t(T + t)] = 0, in.f[1][std::size_t(2 * T + t)] = 1;
}

// `ends` = {i0, i1}: p[i0] = 0 and p[i1] = 1 (the 1e-7 terms keep both powers finite there). Their gradient is
// compared separately: the power terms curve on the 1e-7 scale, so a step of 1e-10 and a looser tolerance.
OpCase gce_case(int B, int T, bool oracle, std::vector<std::size_t> ends) {
  OpCase c;
  c.op = "gce_loss";
  c.params = "B=" + std::to_string(B) + " T=" + std::to_string(T) + (oracle ? " oracle" : "");
  if (!ends.empty()) c.params += " ends";
  const std::size_t n = std::size_t(B) * T;
  c.inputs = {float_in("p", n), float_in("y", n, false)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};  // float vs double sums
  c.make_inputs = [=](Values<double>& in) {
    oracle ? oracle_inputs(B, T, in) : random_inputs(B, T, 101 + unsigned(n), in);
    if (!ends.empty()) in.f[0][ends[0]] = 0.0, in.f[0][ends[1]] = 1.0;
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.6}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::gce_forward(a.in[0], a.in[1], B, T, kQ); });
  c.set_cpu_backward([=](const auto& a) { aicl::gce_backward(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, T, kQ); });
  c.grad.prefill = 0.0;
  if (!ends.empty()) {
    auto is_end = [ends](std::size_t i) { return i == ends[0] || i == ends[1]; };
    c.grad.defaults.skip = is_end;
    GradSpec e;
    e.eps = 1e-10, e.atol = 1e-5, e.rtol = 1e-4;
    e.max_entries = n;  // walk every entry (the skip leaves the two ends), not a random sample
    e.skip = [is_end](std::size_t i) { return !is_end(i); };
    c.grad.extra.push_back(e);
  }
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) { aicl::gce_forward_cuda(a.out[0], a.in[0], a.in[1], B, T, kQ, stream_of(a)); };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::gce_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, T, kQ, stream_of(a));
  };
#endif
  // powf(x, -0.3) is within 2 ulp in CUDA; the per-video masses are float sums: 1e-5 of the largest increment.
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_prefill = 0.01;
  c.cuda_deterministic_forward = true;
  return c;
}

// SAL's mask-weighted form (GCEm, q = 0.5): a mask in [0, 1] with some exact zeros weights both sums and both
// normalisers; y and m get no gradient.
OpCase gce_masked_case(int B, int T) {
  constexpr double kSalQ = 0.5;
  OpCase c;
  c.op = "gce_loss_masked";
  c.params = "B=" + std::to_string(B) + " T=" + std::to_string(T);
  const std::size_t n = std::size_t(B) * T;
  c.inputs = {float_in("p", n), float_in("y", n, false), float_in("m", n, false)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [=](Values<double>& in) {
    random_inputs(B, T, 301 + unsigned(n), in);
    in.f[2] = random_vector(n, 401 + unsigned(n), -0.3, 1);
    for (double& w : in.f[2]) w = w < 0 ? 0.0 : w;
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.9}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::gce_forward(a.in[0], a.in[1], B, T, kSalQ, a.in[2]); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::gce_backward(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, T, kSalQ, a.in[2]);
  });
  c.grad.prefill = 0.0;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::gce_forward_cuda(a.out[0], a.in[0], a.in[1], B, T, kSalQ, stream_of(a), a.in[2]);
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::gce_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, T, kSalQ, stream_of(a), a.in[2]);
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_prefill = 0.01;
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> gce_loss_masked_cases() {
  // SAL's training shape is B = 2, T = 750 (and the mixed pair).
  return {gce_masked_case(1, 7), gce_masked_case(3, 41), gce_masked_case(2, 750)};
}

std::vector<OpCase> gce_loss_cases() {
  // The oracle inputs; then random ones with p = 0 first and p = 1 last, B = 1, odd T, the training shape.
  std::vector<OpCase> cs{gce_case(3, 50, true, {}), gce_case(1, 50, true, {0, 1})};
  for (auto [B, T] : {std::pair{1, 1}, std::pair{1, 7}, std::pair{3, 41}, std::pair{4, 19}, std::pair{16, 750}}) {
    const std::size_t n = std::size_t(B) * T;
    cs.push_back(gce_case(B, T, false, n > 1 ? std::vector<std::size_t>{0, n - 1} : std::vector<std::size_t>{}));
  }
  return cs;
}

}  // namespace

AICL_REGISTER_OP(gce_loss_cases);
AICL_REGISTER_OP(gce_loss_masked_cases);

}  // namespace aicl_test::ops
