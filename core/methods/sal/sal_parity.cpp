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

ParityBatch read_parity_batch(const std::string& path, const SalConfig& cfg) {
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

void SalMethod::parity_step(const std::string& weights_path, const std::string& batch_path,
                            const std::string& out_path) const {
  SalConfig cfg = cfg_;
  cfg.dropout = 0;  // the oracle runs the official model with dropout off
  ParameterSet params = sal_parameters(cfg);
  load_weights(weights_path, params, "sal");
  const ParityBatch pb = read_parity_batch(batch_path, cfg);
  const int B = pb.B, T = pb.T, C = cfg.num_classes;
  SalMethod m(cfg);
  m.set_mask_state(pb.state);
  check_batch(pb.labels.data(), B, T);

  Ops& ops = cpu_ops();
  auto ws = m.make_workspace(ops);
  auto& a = static_cast<SalActivations&>(*ws);
  params.zero_grad();
  const ParamView p{&params, params.values.data(), params.grads.data()};
  float slots[kNumSalLossSlots];
  sal_forward_backward(ops, cfg, p, StepBatch{pb.x.data(), pb.labels.data(), pb.labels.data(), B, T, 1, 0}, a, slots);
  m.pull_state(a);
  const SalLosses L = sal_losses_from_slots(slots, cfg);

  write_atomic_with(out_path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    auto scalar = [&](const std::string& name, double v) {
      const float fv = static_cast<float>(v);
      f.write_floats("loss/" + name, &fv, {});
    };
    const std::pair<const char*, double> terms[] = {
        {"total", L.total}, {"mil", L.mil},         {"mse", L.mse},           {"kl", L.kl},
        {"act", L.act},     {"act_flow", L.act_flow}, {"act_rgb", L.act_rgb}, {"se", L.se},
        {"se_fused", L.se_fused}, {"se_flow", L.se_flow}, {"se_rgb", L.se_rgb}, {"mix", L.mix},
        {"mix_flow", L.mix_flow}, {"mix_rgb", L.mix_rgb}};
    for (const auto& [name, v] : terms) scalar(name, v);
    for (size_t t = 0; t < params.tensors().size(); ++t) {
      const ParamTensor& pt = params.tensor(static_cast<int>(t));
      f.write_floats("grad/" + pt.name, params.grad(static_cast<int>(t)),
                     std::vector<int64_t>(pt.shape.begin(), pt.shape.end()));
    }
    f.write_floats("cas", a.cas.data(), {B, T, C});
    const std::pair<const char*, const Buf<float>*> bt[] = {
        {"debug/y", &a.y},   {"debug/y_mix", &a.y_mix}, {"debug/m", &a.m},
        {"debug/m_mix", &a.m_mix}, {"debug/action_flow", &a.act_flow}, {"debug/action_rgb", &a.act_rgb},
        {"debug/action_flow_mix", &a.act_flow_mix}, {"debug/action_rgb_mix", &a.act_rgb_mix}};
    for (const auto& [name, buf] : bt) f.write_floats(name, buf->data(), {B, T});
    const std::pair<const char*, const Buf<float>*> bc[] = {{"debug/cas_top", &a.cas_top},
                                                            {"debug/cas_top_bg", &a.cas_top_bg},
                                                            {"debug/sc", &a.sc},
                                                            {"debug/sc_rgb", &a.sc_rgb},
                                                            {"debug/sc_flow", &a.sc_flow}};
    for (const auto& [name, buf] : bc) f.write_floats(name, buf->data(), {B, C});
    f.set_attr_double("/", "B", B);
    f.set_attr_double("/", "T", T);
    f.set_attr_string("/", "dtype", "float32");
    f.set_attr_double("/", "ema_mu_in", pb.state.mu);
    f.set_attr_double("/", "ema_var_in", pb.state.var);
    f.set_attr_double("/", "ema_mu", m.mask_state().mu);
    f.set_attr_double("/", "ema_var", m.mask_state().var);
  });
}

}  // namespace aicl
