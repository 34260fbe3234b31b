// GPU tests of the whole SAL step: the CUDA op table against the CPU one on the same weights, batch and dropout
// key (Philox draws the same masks on both devices), the mask EMA carried on the device, and inference.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/methods/sal/sal.h"
#include "gpu/gpu_test_util.h"
#include "kernels/ops_cuda.h"
#include "parity_formula.h"

namespace {

struct SalRun {
  std::vector<double> losses;
  std::vector<float> cas, y, m, video, grads;
  aicl::SalMaskState state;
};

// Two consecutive steps (dropout on, seed 7, steps 1 and 2; the same weights) on `ops`; outputs of the second.
SalRun run_steps(aicl::Ops& ops, aicl::SalMethod& method, const aicl::ParameterSet& host, const std::vector<float>& x,
                 const std::vector<float>& labels, int B, int T) {
  const size_t np = host.size();
  aicl::Buf<float> values(ops, np), grads(ops, np), d_x(ops, x.size()), d_labels(ops, labels.size()),
      slots(ops, aicl::kNumSalLossSlots);
  ops.upload(values.data(), host.values.data(), np * sizeof(float));
  ops.upload(d_x.data(), x.data(), x.size() * sizeof(float));
  ops.upload(d_labels.data(), labels.data(), labels.size() * sizeof(float));
  auto ws = method.make_workspace(ops);
  const aicl::ParamView p{&host, values.data(), grads.data()};
  for (long step = 1; step <= 2; ++step) {
    ops.zero(grads.data(), np * sizeof(float));
    method.forward_backward(ops, p, aicl::StepBatch{d_x.data(), d_labels.data(), labels.data(), B, T, step, 7}, *ws,
                            slots.data());
  }
  SalRun r;
  r.losses = method.losses(slots.to_host().data());
  auto& a = static_cast<aicl::SalActivations&>(*ws);
  const size_t n = static_cast<size_t>(B) * T;
  r.cas = a.cas.to_host(n * method.sal_config().num_classes);
  r.y = a.y.to_host(n);
  r.m = a.m.to_host(n);
  r.grads = grads.to_host();
  method.pull_state(*ws);
  r.state = method.mask_state();
  const aicl::InferScores s = method.infer(ops, aicl::ParamView{&host, values.data(), nullptr}, d_x.data(), B, T, *ws);
  r.video.resize(static_cast<size_t>(B) * method.video_outputs());
  ops.download(r.video.data(), s.video, r.video.size() * sizeof(float));
  return r;
}

}  // namespace

TEST_CASE("gpu: SAL steps with dropout on equal the CPU's (same Philox masks, mask EMA on the device)") {
  aicl_test::require_gpu();
  aicl::set_cuda_math_mode(aicl::CudaMathMode::fp32);
  const int B = 3, T = 64;
  aicl::SalMethod cpu_method{aicl::SalConfig()}, gpu_method{aicl::SalConfig()};
  aicl::ParameterSet p = cpu_method.layout();
  aicl_test::formula_weights(p, 0);
  std::vector<float> x, labels;
  aicl_test::formula_batch(B, T, 0, x, labels);
  const SalRun c = run_steps(aicl::cpu_ops(), cpu_method, p, x, labels, B, T);
  const SalRun g = run_steps(aicl::cuda_ops(), gpu_method, p, x, labels, B, T);
  for (size_t i = 0; i < c.losses.size(); ++i) CHECK(g.losses[i] == Approx(c.losses[i]).epsilon(1e-4));
  CHECK(g.state.mu == Approx(c.state.mu).epsilon(1e-6));
  CHECK(g.state.var == Approx(c.state.var).epsilon(1e-5));
  double cas_err = 0;
  for (size_t i = 0; i < c.cas.size(); ++i) cas_err = std::max(cas_err, double(std::fabs(c.cas[i] - g.cas[i])));
  CHECK(cas_err < 1e-5);
  // Pseudo labels: equal where the selections have no near-ties (the CUDA top-k breaks exact ties by index).
  size_t y_diff = 0;
  for (size_t i = 0; i < c.y.size(); ++i) y_diff += c.y[i] != g.y[i];
  CHECK(y_diff <= 2);
  for (size_t i = 0; i < c.m.size(); ++i) CHECK(std::fabs(c.m[i] - g.m[i]) < 1e-4);
  // Every gradient within 1e-3 of its tensor's max magnitude.
  for (size_t t = 0; t < p.tensors().size(); ++t) {
    const auto& pt = p.tensor(static_cast<int>(t));
    double mx = 0, err = 0;
    for (size_t i = pt.offset; i < pt.offset + pt.numel; ++i) {
      mx = std::max(mx, double(std::fabs(c.grads[i])));
      err = std::max(err, double(std::fabs(c.grads[i] - g.grads[i])));
    }
    INFO(pt.name);
    CHECK(err <= 1e-3 * mx + 1e-12);
  }
  for (size_t i = 0; i < c.video.size(); ++i) CHECK(std::fabs(c.video[i] - g.video[i]) < 1e-4);
}
