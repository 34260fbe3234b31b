// One SAL training step on given weights and batch (dropout off), written in the layout of tools/sal_oracle.py step.
#include <cmath>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/methods/sal/sal.h"
#include "core/runtime/weights.h"

namespace aicl {

namespace {

struct ParityBatch {
  std::vector<float> x, labels;
  int B = 0, T = 0;
  SalMaskState state;
};

ParityBatch read_parity_batch(const std::string& path, const SalConfig& cfg) {  // checked, with its EMA state
  H5File bf = H5File::open_read(path);
  ParityBatch pb;
  std::vector<int64_t> xs, ys;
  pb.x = bf.read_floats("features", &xs);
  pb.labels = bf.read_floats("labels", &ys);
  if (xs.size() != 3 || xs[2] != cfg.feature_dim)
    fail(path + ": features must be [B,T," + std::to_string(cfg.feature_dim) + "]");
  pb.B = static_cast<int>(xs[0]);
  pb.T = static_cast<int>(xs[1]);
  if (ys.size() != 2 || ys[0] != pb.B || ys[1] != cfg.num_classes)
    fail(path + ": labels must be [B," + std::to_string(cfg.num_classes) + "] with B = " + std::to_string(pb.B));
  for (float v : pb.x)
    if (!std::isfinite(v)) fail(path + ": features hold NaN or Inf");
  pb.state.mu = 1.0 / cfg.num_classes;
  pb.state.var = cfg.mask_var0;
  const bool has_mu = bf.has_attr("/", "ema_mu"), has_var = bf.has_attr("/", "ema_var");
  if (has_mu != has_var) fail(path + ": give both attributes ema_mu and ema_var, or neither");
  if (has_mu) {
    pb.state.mu = bf.attr_double("/", "ema_mu");
    pb.state.var = bf.attr_double("/", "ema_var");
    if (!std::isfinite(pb.state.mu) || !(pb.state.var > 0) || !std::isfinite(pb.state.var))
      fail(path + ": ema_mu must be finite and ema_var positive and finite");
  }
  check_sal_batch(cfg, pb.B, pb.T);
  return pb;
}

}  // namespace

SalParityResult sal_parity_compute(const SalConfig& cfg_in, ParameterSet& params, const float* x, const float* labels,
                                   int B, int T, const SalMaskState& state) {
  SalConfig cfg = cfg_in;
  cfg.dropout = 0;  // the oracle runs the official model with dropout off
  const int C = cfg.num_classes;
  SalMethod m(cfg);
  m.set_mask_state(state);
  m.check_batch(labels, B, T);
  Ops& ops = cpu_ops();
  auto ws = m.make_workspace(ops);
  auto& a = static_cast<SalActivations&>(*ws);
  params.zero_grad();
  const ParamView p{&params, params.values.data(), params.grads.data()};
  float slots[kNumSalLossSlots];
  sal_forward_backward(ops, cfg, p, StepBatch{x, labels, labels, B, T, 1, 0}, a, slots);
  m.pull_state(a);
  const SalLosses L = sal_losses_from_slots(slots, cfg);
  SalParityResult r;
  r.B = B, r.T = T, r.C = C;
  r.state_in = state;
  r.state_out = m.mask_state();
  r.losses = {{"total", L.total},       {"mil", L.mil},           {"mse", L.mse},         {"kl", L.kl},
              {"act", L.act},           {"act_flow", L.act_flow}, {"act_rgb", L.act_rgb}, {"se", L.se},
              {"se_fused", L.se_fused}, {"se_flow", L.se_flow},   {"se_rgb", L.se_rgb},   {"mix", L.mix},
              {"mix_flow", L.mix_flow}, {"mix_rgb", L.mix_rgb}};
  const size_t n = static_cast<size_t>(B) * T, bc = static_cast<size_t>(B) * C;
  r.arrays = {{"cas", a.cas.to_host(n * C)},
              {"debug/y", a.y.to_host(n)},
              {"debug/y_mix", a.y_mix.to_host(n)},
              {"debug/m", a.m.to_host(n)},
              {"debug/m_mix", a.m_mix.to_host(n)},
              {"debug/action_flow", a.act_flow.to_host(n)},
              {"debug/action_rgb", a.act_rgb.to_host(n)},
              {"debug/action_flow_mix", a.act_flow_mix.to_host(n)},
              {"debug/action_rgb_mix", a.act_rgb_mix.to_host(n)},
              {"debug/cas_top", a.cas_top.to_host(bc)},
              {"debug/cas_top_bg", a.cas_top_bg.to_host(bc)},
              {"debug/sc", a.sc.to_host(bc)},
              {"debug/sc_rgb", a.sc_rgb.to_host(bc)},
              {"debug/sc_flow", a.sc_flow.to_host(bc)}};
  return r;
}

std::vector<int64_t> SalParityResult::shape(const std::string& name) const {
  if (name == "cas") return {B, T, C};
  if (name.rfind("debug/cas_top", 0) == 0 || name.rfind("debug/sc", 0) == 0) return {B, C};
  return {B, T};
}

void SalMethod::parity_step(const std::string& weights_path, const std::string& batch_path,
                            const std::string& out_path) const {
  ParameterSet params = sal_parameters(cfg_);
  load_weights(weights_path, params, "sal");
  const ParityBatch pb = read_parity_batch(batch_path, cfg_);
  const SalParityResult r = sal_parity_compute(cfg_, params, pb.x.data(), pb.labels.data(), pb.B, pb.T, pb.state);
  write_atomic_with(out_path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    for (const auto& [name, v] : r.losses) {
      const float fv = static_cast<float>(v);
      f.write_floats("loss/" + name, &fv, {});
    }
    write_grads_to(f, "grad", params);
    for (const auto& [name, v] : r.arrays) f.write_floats(name, v.data(), r.shape(name));
    f.set_attr_double("/", "B", r.B);
    f.set_attr_double("/", "T", r.T);
    f.set_attr_string("/", "dtype", "float32");
    f.set_attr_double("/", "ema_mu_in", r.state_in.mu);
    f.set_attr_double("/", "ema_var_in", r.state_in.var);
    f.set_attr_double("/", "ema_mu", r.state_out.mu);
    f.set_attr_double("/", "ema_var", r.state_out.var);
  });
}

}  // namespace aicl
