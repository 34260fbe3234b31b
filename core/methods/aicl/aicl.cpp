// The AICL method (AAAI 2023): hyper-parameters, parameters, loss terms and the forward/backward composition of the
// ops, written once against the op table.
#include "core/methods/aicl/aicl.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/methods/aicl/aicl_parity.h"

namespace aicl {

AiclLosses aicl_losses_from_slots(const float* t, const AiclConfig& cfg) {
  AiclLosses L;
  L.action = t[kLossAction];
  L.agnostic_flow = t[kLossAgnosticFlow];
  L.agnostic_rgb = t[kLossAgnosticRgb];
  L.agnostic = L.agnostic_flow + L.agnostic_rgb;
  L.modality = t[kLossModality];
  L.consistency = t[kLossConsistency];
  L.contrast_fused = t[kLossContrastFused];
  L.contrast_rgb = t[kLossContrastRgb];
  L.contrast_flow = t[kLossContrastFlow];
  L.contrast = L.contrast_fused + L.contrast_rgb + L.contrast_flow;
  // The official sum order: base + agnostic + 5*modality + 0.01*contrast + 0.1*consistency (float32 there).
  L.total = L.action + L.agnostic + cfg.w_modality * L.modality + cfg.w_contrast * L.contrast +
            cfg.w_consistency * L.consistency;
  return L;
}

ParameterSet aicl_parameters(const AiclConfig& cfg) {
  const int F = cfg.feature_dim, R = cfg.rgb_dim, W = F - R, D = cfg.embed_dim, C = cfg.num_classes;
  ParameterSet p;
  // Registration order = the official module order (and state_dict order).
  p.add("actionness_module.base_module.0.weight", {D, F, 3}, F * 3);
  p.add("actionness_module.base_module.0.bias", {D}, F * 3);
  p.add("actionness_module.cls.0.weight", {C, D, 1}, D);
  p.add("actionness_module.cls.0.bias", {C}, D);
  p.add("actionness_module.action_module_rgb.0.weight", {D, R, 3}, R * 3);
  p.add("actionness_module.action_module_rgb.0.bias", {D}, R * 3);
  p.add("actionness_module.cls_rgb.weight", {1, D, 1}, D);
  p.add("actionness_module.cls_rgb.bias", {1}, D);
  p.add("actionness_module.action_module_flow.0.weight", {D, W, 3}, W * 3);
  p.add("actionness_module.action_module_flow.0.bias", {D}, W * 3);
  p.add("actionness_module.cls_flow.weight", {1, D, 1}, D);
  p.add("actionness_module.cls_flow.bias", {1}, D);
  p.finalize();
  return p;
}

void AiclActivations::reserve(int B_, int T_, const AiclConfig& cfg, bool with_backward) {
  if (T_ != cap_T_ || B_ > cap_B_ || (with_backward && !cap_backward_)) {
    if (cap_T_ != 0) ops->sync();  // queued work may still use the old buffers
    Ops& o = *ops;
    const size_t n = static_cast<size_t>(B_) * T_, D = cfg.embed_dim, C = cfg.num_classes, Bs = B_;
    const size_t k = T_ / cfg.topk_ratio, ks = T_ / cfg.snippet_ratio;
    auto f = [&](size_t count) { return Buf<float>(o, count); };
    auto i = [&](size_t count) { return Buf<int>(o, count); };
    emb = f(n * D), emb_rgb = f(n * D), emb_flow = f(n * D);
    cas = f(n * C), combined = f(n * C);
    logit_rgb = f(n), logit_flow = f(n), action_rgb = f(n), action_flow = f(n);
    actionness_aware = f(n), actionness_agnostic = f(n);
    cas_top = f(Bs * C);
    topk_idx = i(Bs * k * C);
    const bool bw = with_backward || cap_backward_;
    pseudo_label = f(bw ? n : 0);
    idx_ca = i(bw ? Bs * ks : 0), idx_cb = i(bw ? Bs * ks : 0), idx_ia = i(bw ? Bs * ks : 0),
    idx_ib = i(bw ? Bs * ks : 0);
    for (auto* b : {&d_emb, &d_emb_rgb, &d_emb_flow}) *b = f(bw ? n * D : 0);
    d_cas = f(bw ? n * C : 0);
    for (auto* b : {&d_logit_rgb, &d_logit_flow, &d_action_rgb, &d_action_flow, &d_aware, &d_agnostic})
      *b = f(bw ? n : 0);
    d_cas_top = f(bw ? Bs * C : 0);
    cap_B_ = std::max(B_, cap_T_ == T_ ? cap_B_ : 0);
    cap_T_ = T_;
    cap_backward_ = bw;
  }
  B = B_;
  T = T_;
}

// Inference needs the MIL top-k (k = T / topk_ratio >= 1); a training step also the snippet counts.
void check_aicl_infer_batch(const AiclConfig& cfg, int B, int T) {
  if (B <= 0) fail("batch size must be positive (got " + std::to_string(B) + ")");
  if (T < cfg.topk_ratio)
    fail("T = " + std::to_string(T) + " segments is too short: AICL needs T >= " + std::to_string(cfg.topk_ratio) +
         " (k = T/" + std::to_string(cfg.topk_ratio) + " would be 0)");
}

void check_aicl_batch(const AiclConfig& cfg, int B, int T) {
  check_aicl_infer_batch(cfg, B, T);
  if (T < cfg.snippet_ratio)
    fail("T = " + std::to_string(T) + " segments is too short: AICL needs T >= " + std::to_string(cfg.snippet_ratio) +
         " (k_C = T/" + std::to_string(cfg.snippet_ratio) + " would be 0)");
}

void check_aicl_labels(const float* labels, int B, int C) {
  for (int b = 0; b < B; ++b)
    if (std::all_of(labels + static_cast<size_t>(b) * C, labels + static_cast<size_t>(b + 1) * C,
                    [](float l) { return l == 0.0f; }))
      fail("video " + std::to_string(b) + " of the batch has no label (the CE label normalisation divides by 0)");
}

void aicl_forward(Ops& ops, const AiclConfig& cfg, const ParamView& p, const float* x, int B, int T,
                  AiclActivations& a) {
  check_aicl_infer_batch(cfg, B, T);
  a.reserve(B, T, cfg, false);
  const int F = cfg.feature_dim, R = cfg.rgb_dim, W = F - R, D = cfg.embed_dim, C = cfg.num_classes;
  const int N = B * T;
  const size_t n = static_cast<size_t>(N);
  // Stream embeddings and their actionness heads: RGB is the first R columns of each feature row, flow the rest.
  ops.conv1d_k3_forward(a.emb_flow.data(), x + R, F, p.value(kFlowW), p.value(kFlowB), B, T, W, D, 3, true);
  ops.conv1d_k3_forward(a.emb_rgb.data(), x, F, p.value(kRgbW), p.value(kRgbB), B, T, R, D, 3, true);
  ops.conv1d_k1_forward(a.logit_flow.data(), a.emb_flow.data(), p.value(kClsFlowW), p.value(kClsFlowB), N, D, 1);
  ops.conv1d_k1_forward(a.logit_rgb.data(), a.emb_rgb.data(), p.value(kClsRgbW), p.value(kClsRgbB), N, D, 1);
  ops.sigmoid_forward(a.action_flow.data(), a.logit_flow.data(), n);
  ops.sigmoid_forward(a.action_rgb.data(), a.logit_rgb.data(), n);
  // Fused embedding and the class activation sequence.
  ops.conv1d_k3_forward(a.emb.data(), x, F, p.value(kBaseW), p.value(kBaseB), B, T, F, D, 3, true);
  ops.conv1d_k1_forward(a.cas.data(), a.emb.data(), p.value(kClsW), p.value(kClsB), N, D, C);
  ops.class_aware_actionness_forward(a.actionness_aware.data(), a.cas.data(), N, C);
  ops.stream_mean_forward(a.actionness_agnostic.data(), a.action_flow.data(), a.action_rgb.data(), n);
  // Top-k MIL video scores over the combined CAS.
  if (cfg.equal_thirds()) {
    ops.topk_mil_forward(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(), a.action_flow.data(),
                         a.action_rgb.data(), B, T, C, T / cfg.topk_ratio);
  } else {
    const double w_stream = (1.0 - cfg.select_cas_weight) / 2;
    const MilSelection sel{true, cfg.select_cas_weight, w_stream, w_stream};
    ops.topk_mil_weighted_forward(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(),
                                  a.action_flow.data(), a.action_rgb.data(), sel, B, T, C, T / cfg.topk_ratio);
  }
}

namespace {

// The loss terms, each into its device slot (the host forms the sums and the total when it reads them).
void aicl_losses(Ops& ops, const AiclConfig& cfg, const float* labels, int B, int T, AiclActivations& a,
                 float* loss) {
  const int C = cfg.num_classes, D = cfg.embed_dim, ks = T / cfg.snippet_ratio;
  const size_t n = static_cast<size_t>(B) * T;
  ops.video_ce_forward(loss + kLossAction, a.cas_top.data(), labels, B, C);
  ops.gce_forward(loss + kLossAgnosticFlow, a.action_flow.data(), a.pseudo_label.data(), B, T, cfg.gce_q, nullptr);
  ops.gce_forward(loss + kLossAgnosticRgb, a.action_rgb.data(), a.pseudo_label.data(), B, T, cfg.gce_q, nullptr);
  ops.mse_forward(loss + kLossModality, a.action_flow.data(), a.action_rgb.data(), n);
  ops.mse_forward(loss + kLossConsistency, a.actionness_aware.data(), a.actionness_agnostic.data(), n);
  auto nce = [&](float* out, const Buf<float>& e) {
    ops.infonce_forward(out, e.data(), a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(), a.idx_ib.data(), B, T, D,
                        ks, cfg.nce_tau);
  };
  nce(loss + kLossContrastFused, a.emb);
  nce(loss + kLossContrastRgb, a.emb_rgb);
  nce(loss + kLossContrastFlow, a.emb_flow);
}

// Backward of the loss terms down to the embeddings and the head logits (activation gradients zeroed first).
void aicl_losses_backward(Ops& ops, const AiclConfig& cfg, const float* labels, int B, int T, AiclActivations& a) {
  const int C = cfg.num_classes, D = cfg.embed_dim, N = B * T, k = T / cfg.topk_ratio, ks = T / cfg.snippet_ratio;
  const size_t n = static_cast<size_t>(N);
  // Zero exactly the [B,T] prefix in use (the buffers may be larger after a bigger batch).
  ops.zero(a.d_cas_top.data(), static_cast<size_t>(B) * C * sizeof(float));
  ops.zero(a.d_cas.data(), n * C * sizeof(float));
  for (auto* v : {&a.d_action_flow, &a.d_action_rgb, &a.d_aware, &a.d_agnostic, &a.d_logit_flow, &a.d_logit_rgb})
    ops.zero(v->data(), n * sizeof(float));
  for (auto* v : {&a.d_emb, &a.d_emb_rgb, &a.d_emb_flow}) ops.zero(v->data(), n * D * sizeof(float));

  ops.video_ce_backward(a.d_cas_top.data(), 1.0f, a.cas_top.data(), labels, B, C);
  ops.topk_mil_backward(a.d_cas.data(), a.d_cas_top.data(), a.topk_idx.data(), B, T, C, k);
  ops.gce_backward(a.d_action_flow.data(), 1.0f, a.action_flow.data(), a.pseudo_label.data(), B, T, cfg.gce_q, nullptr);
  ops.gce_backward(a.d_action_rgb.data(), 1.0f, a.action_rgb.data(), a.pseudo_label.data(), B, T, cfg.gce_q, nullptr);
  ops.mse_backward(a.d_action_flow.data(), a.d_action_rgb.data(), static_cast<float>(cfg.w_modality),
                   a.action_flow.data(), a.action_rgb.data(), n);
  ops.mse_backward(a.d_aware.data(), a.d_agnostic.data(), static_cast<float>(cfg.w_consistency),
                   a.actionness_aware.data(), a.actionness_agnostic.data(), n);
  ops.stream_mean_backward(a.d_action_flow.data(), a.d_action_rgb.data(), a.d_agnostic.data(), n);
  ops.class_aware_actionness_backward(a.d_cas.data(), a.d_aware.data(), a.actionness_aware.data(), N, C);
  const float w_nce = static_cast<float>(cfg.w_contrast);
  auto nce_back = [&](Buf<float>& de, const Buf<float>& e) {
    ops.infonce_backward(de.data(), w_nce, e.data(), a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(),
                         a.idx_ib.data(), B, T, D, ks, cfg.nce_tau);
  };
  nce_back(a.d_emb, a.emb);
  nce_back(a.d_emb_rgb, a.emb_rgb);
  nce_back(a.d_emb_flow, a.emb_flow);
}

}  // namespace

void aicl_forward_backward(Ops& ops, const AiclConfig& cfg, const ParamView& p, const float* x,
                           const float* labels, int B, int T, AiclActivations& a, float* loss) {
  check_aicl_batch(cfg, B, T);
  a.reserve(B, T, cfg, true);
  aicl_forward(ops, cfg, p, x, B, T, a);
  const int F = cfg.feature_dim, R = cfg.rgb_dim, W = F - R, D = cfg.embed_dim, C = cfg.num_classes;
  const int N = B * T, k = T / cfg.topk_ratio, ks = T / cfg.snippet_ratio;
  const size_t n = static_cast<size_t>(N);
  // Median-based consistent / inconsistent snippets (indices only; ranked by the class-aware actionness).
  ops.snippet_select_forward(a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(), a.idx_ib.data(),
                             a.actionness_aware.data(), a.actionness_agnostic.data(), B, T, ks);
  ops.pseudo_label_forward(a.pseudo_label.data(), a.topk_idx.data(), labels, B, T, C, k);
  aicl_losses(ops, cfg, labels, B, T, a, loss);
  aicl_losses_backward(ops, cfg, labels, B, T, a);
  // Heads.
  ops.conv1d_k1_backward(p.grad(kClsW), p.grad(kClsB), a.d_emb.data(), a.d_cas.data(), a.emb.data(), p.value(kClsW),
                         N, D, C);
  ops.sigmoid_backward(a.d_logit_flow.data(), a.d_action_flow.data(), a.action_flow.data(), n);
  ops.sigmoid_backward(a.d_logit_rgb.data(), a.d_action_rgb.data(), a.action_rgb.data(), n);
  ops.conv1d_k1_backward(p.grad(kClsFlowW), p.grad(kClsFlowB), a.d_emb_flow.data(), a.d_logit_flow.data(),
                         a.emb_flow.data(), p.value(kClsFlowW), N, D, 1);
  ops.conv1d_k1_backward(p.grad(kClsRgbW), p.grad(kClsRgbB), a.d_emb_rgb.data(), a.d_logit_rgb.data(),
                         a.emb_rgb.data(), p.value(kClsRgbW), N, D, 1);
  // Temporal convolutions (the input features need no gradient). dout is masked by the ReLU in place.
  ops.conv1d_k3_backward(p.grad(kBaseW), p.grad(kBaseB), nullptr, 0, a.d_emb.data(), a.emb.data(), x, F,
                         p.value(kBaseW), B, T, F, D, 3, true);
  ops.conv1d_k3_backward(p.grad(kRgbW), p.grad(kRgbB), nullptr, 0, a.d_emb_rgb.data(), a.emb_rgb.data(), x, F,
                         p.value(kRgbW), B, T, R, D, 3, true);
  ops.conv1d_k3_backward(p.grad(kFlowW), p.grad(kFlowB), nullptr, 0, a.d_emb_flow.data(), a.emb_flow.data(), x + R,
                         F, p.value(kFlowW), B, T, W, D, 3, true);
}

AiclConfig aicl_activitynet_config(bool v13) {
  // The AICL supplement (supplement.pdf in lizhilin-ustc/AAAI2023-AICL), "Implementation Details": embedding 512 on
  // v1.2 and 1024 on v1.3, k = T/2, γ = 1/2 for the Ascore, K = k/20 (= T/40 with integer division: floor(floor(T/2)
  // / 20) = floor(T/40)), q = 0.7, γ1 = 0.01 (contrast), γ2 = 5 (modality), γ3 = 0.1 (consistency).
  AiclConfig c;
  c.variant = "activitynet";
  c.embed_dim = v13 ? 1024 : 512;
  c.topk_ratio = 2;
  c.snippet_ratio = 40;
  c.select_cas_weight = 0.5;
  return c;
}

// ---- the Method ----

AiclMethod::AiclMethod(const AiclConfig& cfg) : cfg_(cfg) {}

const ParameterSet& AiclMethod::layout() const {
  if (!layout_) layout_ = std::make_unique<ParameterSet>(aicl_parameters(cfg_));
  return *layout_;
}

json AiclMethod::config() const {
  return json{{"variant", cfg_.variant},
              {"embed_dim", cfg_.embed_dim},
              {"topk_ratio", cfg_.topk_ratio},
              {"snippet_ratio", cfg_.snippet_ratio},
              {"select_cas_weight", cfg_.select_cas_weight},
              {"gce_q", cfg_.gce_q},
              {"nce_tau", cfg_.nce_tau},
              {"w_modality", cfg_.w_modality},
              {"w_contrast", cfg_.w_contrast},
              {"w_consistency", cfg_.w_consistency}};
}

const std::vector<std::string>& AiclMethod::loss_names() const {
  static const std::vector<std::string> names = {"loss", "action", "agnostic", "modality", "contrast", "consistency"};
  return names;
}

std::vector<double> AiclMethod::losses(const float* slots) const {
  const AiclLosses L = aicl_losses_from_slots(slots, cfg_);
  return {L.total, L.action, L.agnostic, L.modality, L.contrast, L.consistency};
}

void AiclMethod::check_batch(const float* labels_host, int B, int T) const {
  check_aicl_batch(cfg_, B, T);
  check_aicl_labels(labels_host, B, cfg_.num_classes);
}

std::unique_ptr<Workspace> AiclMethod::make_workspace(Ops& ops) const {
  return std::make_unique<AiclActivations>(ops);
}

void AiclMethod::forward_backward(Ops& ops, const ParamView& p, const StepBatch& b, Workspace& ws, float* slots) {
  aicl_forward_backward(ops, cfg_, p, b.x, b.labels, b.B, b.T, static_cast<AiclActivations&>(ws), slots);
}

InferScores AiclMethod::infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const {
  auto& a = static_cast<AiclActivations&>(ws);
  aicl_forward(ops, cfg_, p, x, B, T, a);
  return InferScores{a.cas_top.data(), a.combined.data()};
}

void AiclMethod::video_scores(const float* x, float* out) const {
  // torch.softmax in float32 over the top-k mean CAS: exp(x - max) / sum.
  const int n = cfg_.num_classes;
  float m = x[0];
  for (int i = 1; i < n; ++i) m = std::max(m, x[i]);
  float s = 0;
  for (int i = 0; i < n; ++i) s += (out[i] = std::exp(x[i] - m));
  for (int i = 0; i < n; ++i) out[i] /= s;
}

void AiclMethod::parity_step(const std::string& weights, const std::string& batch, const std::string& out) const {
  run_parity_step(weights, batch, out);
}

namespace {

// The variant's defaults (the config's "variant", else the dataset profile's), then the config's keys.
AiclConfig aicl_config_from_json(const json& j, const std::string& source, const std::string& profile) {
  if (!j.is_null() && !j.is_object()) fail(source + ": the AICL method config must be a JSON object");
  const std::string variant =
      config_variant(j, profile == "anet12" || profile == "anet13" ? "activitynet" : "thumos14", "aicl", source);
  AiclConfig c = variant == "activitynet" ? aicl_activitynet_config(profile == "anet13") : AiclConfig{};
  if (j.is_null()) return c;
  check_config_keys(j, {"variant", "embed_dim", "topk_ratio", "snippet_ratio", "select_cas_weight", "gce_q",
                        "nce_tau", "w_modality", "w_contrast", "w_consistency"}, source + " (method aicl)");
  auto positive_int = [&](const char* k, int& dst) {
    if (!j.contains(k)) return;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < 1 || j[k].get<int64_t>() > 1000000)
      fail(source + ": method aicl key '" + k + "' must be an integer in [1, 1000000]");
    dst = j[k].get<int>();
  };
  auto real = [&](const char* k, double& dst, bool positive) {
    if (!j.contains(k)) return;
    if (!j[k].is_number() || !std::isfinite(j[k].get<double>()) || (positive ? !(j[k].get<double>() > 0)
                                                                             : j[k].get<double>() < 0))
      fail(source + ": method aicl key '" + k + "' must be a " + (positive ? "positive" : "non-negative") +
           " finite number");
    dst = j[k].get<double>();
  };
  positive_int("embed_dim", c.embed_dim);
  positive_int("topk_ratio", c.topk_ratio);
  positive_int("snippet_ratio", c.snippet_ratio);
  real("select_cas_weight", c.select_cas_weight, false);
  if (c.select_cas_weight > 1)
    fail(source + ": method aicl key 'select_cas_weight' must be in [0, 1] (the softmax(cas) share of the score)");
  real("gce_q", c.gce_q, true);
  real("nce_tau", c.nce_tau, true);
  real("w_modality", c.w_modality, false);
  real("w_contrast", c.w_contrast, false);
  real("w_consistency", c.w_consistency, false);
  return c;
}

}  // namespace

std::unique_ptr<Method> make_aicl_method(const MethodContext& ctx, const json& config, const std::string& source) {
  AiclConfig c = aicl_config_from_json(config, source, ctx.profile);
  c.feature_dim = ctx.feature_dim;
  c.rgb_dim = rgb_stream_width(ctx, "AICL", source);
  c.num_classes = ctx.num_classes;
  return std::make_unique<AiclMethod>(c);
}

// ---- the host convenience model ----

AiclModel::AiclModel(const AiclConfig& cfg) : cfg_(cfg), params_(aicl_parameters(cfg)) {}

void AiclModel::forward(const float* x, int B, int T, AiclActivations& act) const {
  const ParamView p{&params_, const_cast<float*>(params_.values.data()), nullptr};
  aicl_forward(cpu_ops(), cfg_, p, x, B, T, act);
}

AiclLosses AiclModel::forward_backward(const float* x, const float* labels, int B, int T, AiclActivations& act) {
  check_aicl_batch(cfg_, B, T);
  check_aicl_labels(labels, B, cfg_.num_classes);
  const ParamView p{&params_, params_.values.data(), params_.grads.data()};
  float slots[kNumAiclLossSlots];
  aicl_forward_backward(cpu_ops(), cfg_, p, x, labels, B, T, act, slots);
  return aicl_losses_from_slots(slots, cfg_);
}

}  // namespace aicl
