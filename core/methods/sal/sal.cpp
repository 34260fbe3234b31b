// The SAL method: its parameters, loss terms, mask state and the forward/backward composition of the ops, once for
// every device (../shared/specs/sal.md sections 1-2 give the official behaviour this follows).
#include "core/methods/sal/sal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/base/error.h"
#include "core/base/h5.h"

namespace aicl {

SalLosses sal_losses_from_slots(const float* t, const SalConfig& cfg) {
  SalLosses L;
  L.mil = t[kSalMil];
  L.mse = t[kSalMse];
  L.kl = t[kSalKl];
  L.act_flow = t[kSalActFlow];
  L.act_rgb = t[kSalActRgb];
  L.act = L.act_flow + L.act_rgb;
  L.se_fused = t[kSalSeFused];
  L.se_flow = t[kSalSeFlow];
  L.se_rgb = t[kSalSeRgb];
  L.se = L.se_fused + L.se_flow + L.se_rgb;
  L.mix_flow = t[kSalMixFlow];
  L.mix_rgb = t[kSalMixRgb];
  L.mix = L.mix_flow + L.mix_rgb;
  L.total = L.mil + cfg.w_mse * L.mse + cfg.w_kl * L.kl + L.act + cfg.w_se * L.se + L.mix;
  return L;
}

SalConfig sal_activitynet_config() {
  SalConfig c;  // main_SA13_1.py / core/SA13_1.py of SAL_ActivityNet (line numbers in docs/sal.md)
  c.variant = "activitynet";
  c.base_kernel = 7;            // base_module Conv1d(k=7, padding=3)
  c.topk_ratio = 4;             // MIL: topk(cas, T // 4) in training, topk(combined, T // 4) in test_all
  c.bg_topk_ratio = 8;          // topk(softmax(cas_bg), T // 8)
  c.pseudo_ratio = 0;           // topk(action, 40): a fixed 40, no class check, no confidence gate
  c.pseudo_extra = 40;
  c.conf_ratio = 0;
  c.train_select = "raw";
  c.infer_select = "weighted";  // 0.6 softmax(cas) + 0.2 a_rgb + 0.2 a_flow
  c.hp_lambda = 0.3;            // action = 0.7 a_flow + 0.3 a_rgb
  c.ema_momentum = 0.99;        // ema_p
  c.mask_var_scale = 6;         // exp(-min(p - mu, 0)^2 / (6 var))
  c.w_mse = 20, c.w_kl = 1, c.w_se = 3;
  c.infer_beta = 0.5;
  c.soft_nms_alpha = 0.35;      // NMS_ALPHA
  c.class_thresh = 0.1;         // CLASS_THRESH
  c.nms_thresh = 0.7;           // NMS_THRESH
  return c;
}

std::string sal_variant_for_profile(const std::string& profile_name) {
  return profile_name == "anet12" || profile_name == "anet13" ? "activitynet" : "thumos14";
}

int sal_param_index(const SalConfig& cfg, int role) {
  // SA13_1 registers cls right after base_module: roles rgb, flow (2-5) move back two tensors, cls (6, 7) to 2.
  static const int activitynet[kNumSalParams] = {0, 1, 4, 5, 6, 7, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15};
  return cfg.activitynet_layout() ? activitynet[role] : role;
}

ParameterSet sal_parameters(const SalConfig& cfg, bool with_buffers) {
  const int F = cfg.feature_dim, R = cfg.rgb_dim, W = F - R, D = cfg.embed_dim, C = cfg.num_classes, P = D * D,
            K = cfg.base_kernel;
  ParameterSet p;
  // Registration order of models/model_x4.py, or of SA13_1.py (the state_dict orders).
  auto cls = [&] {
    p.add("cls.0.weight", {C, D, 1}, D);
    p.add("cls.0.bias", {C}, D);
  };
  const std::string enc = cfg.activitynet_layout() ? "base_module" : "encoder";
  p.add(enc + ".0.weight", {D, F, K}, F * K);
  p.add(enc + ".0.bias", {D}, F * K);
  if (cfg.activitynet_layout()) cls();
  p.add("action_rgb.0.weight", {D, R, 3}, R * 3);
  p.add("action_rgb.0.bias", {D}, R * 3);
  p.add("action_flow.0.weight", {D, W, 3}, W * 3);
  p.add("action_flow.0.bias", {D}, W * 3);
  if (!cfg.activitynet_layout()) cls();
  p.add("cls_rgb.0.weight", {1, D, 1}, D);
  p.add("cls_rgb.0.bias", {1}, D);
  p.add("cls_flow.0.weight", {1, D, 1}, D);
  p.add("cls_flow.0.bias", {1}, D);
  p.add("fc.weight", {C, P}, P);
  p.add("fc.bias", {C}, P);
  p.add("fc1.weight", {D, P}, P);
  p.add("fc1.bias", {D}, P);
  if (with_buffers) p.finalize();
  else p.finalize_layout();
  return p;
}

int sal_min_segments(const SalConfig& cfg) {
  for (int T = 1; T < 1000000; ++T)
    if (cfg.k(T) >= 1 && cfg.k_bg(T) >= 1 && cfg.k_pseudo(T) >= 1 && cfg.k_pseudo(T) <= T &&
        (cfg.conf_ratio == 0 || cfg.k_conf(T) >= 1))
      return T;
  return 1000000;
}

int sal_min_infer_segments(const SalConfig& cfg) { return cfg.topk_ratio; }  // the first T with T / ratio >= 1

void check_sal_batch(const SalConfig& cfg, int B, int T, bool inference) {
  if (B <= 0) fail("batch size must be positive (got " + std::to_string(B) + ")");
  if (inference) {
    if (T < sal_min_infer_segments(cfg))
      fail("T = " + std::to_string(T) + " segments is too short for SAL's inference: its MIL top-k takes T/" +
           std::to_string(cfg.topk_ratio) + " segments (needs T >= " + std::to_string(sal_min_infer_segments(cfg)) +
           ")");
    return;
  }
  if (T < sal_min_segments(cfg)) {
    const std::string pseudo = cfg.pseudo_ratio > 0 ? "T/" + std::to_string(cfg.pseudo_ratio) + " + " : "";
    fail("T = " + std::to_string(T) + " segments is too short for SAL: its pseudo labels take the top " + pseudo +
         std::to_string(cfg.pseudo_extra) + " segments (needs T >= " + std::to_string(sal_min_segments(cfg)) + ")");
  }
}

void SalActivations::reserve(int B_, int T_, const SalConfig& cfg, bool with_backward) {
  if (T_ != cap_T_ || B_ > cap_B_ || (with_backward && !cap_backward_)) {
    if (cap_T_ != 0) ops->sync();  // queued work may still use the old buffers
    Ops& o = *ops;
    const bool bw = with_backward || cap_backward_;
    const size_t Bs = std::max(B_, cap_T_ == T_ ? cap_B_ : 0), n = Bs * T_, D = cfg.embed_dim,
                 C = cfg.num_classes, P = D * D, k = std::max(cfg.k(T_), cfg.k_bg(T_));
    auto f = [&](size_t count, bool train_only = false) { return Buf<float>(o, train_only && !bw ? 0 : count); };
    x_mix = f(n * cfg.feature_dim, true);
    emb = f(n * D), emb_rgb = f(n * D), emb_flow = f(n * D), emb2 = f(n * D);
    emb_rgb_mix = f(n * D, true), emb_flow_mix = f(n * D, true);
    logit_rgb = f(n), logit_flow = f(n), act_rgb = f(n), act_flow = f(n), act = f(n);
    logit_rgb_mix = f(n, true), logit_flow_mix = f(n, true), act_rgb_mix = f(n, true), act_flow_mix = f(n, true);
    gram = f(Bs * P), v = f(Bs * P), norm = f(Bs);
    gram_rgb = f(Bs * P, true), gram_flow = f(Bs * P, true), v_rgb = f(Bs * P, true), v_flow = f(Bs * P, true);
    norm_rgb = f(Bs, true), norm_flow = f(Bs, true);
    s = f(Bs * D);
    sc = f(Bs * C), sc_rgb = f(Bs * C, true), sc_flow = f(Bs * C, true);
    cas = f(n * C), combined = f(n * C), cas_bg = f(n * C, true), combined_bg = f(n * C, true);
    cas_top = f(Bs * C), cas_top_bg = f(Bs * C, true), video = f(Bs * C);
    topk_idx = Buf<int>(o, Bs * std::max<size_t>(k, 1) * C), topk_idx_bg = Buf<int>(o, bw ? Bs * k * C : 0);
    y = f(n, true), y_mix = f(n, true), m = f(n, true), m_mix = f(n, true), conf = f(n, true);
    for (auto* b : {&d_emb, &d_emb_branch, &d_pre}) *b = f(n * D, true);
    d_cas = f(n * C, true), d_cas_bg = f(n * C, true);
    for (auto* b : {&d_act, &d_act_rgb, &d_act_flow, &d_act_rgb_mix, &d_act_flow_mix, &d_logit}) *b = f(n, true);
    d_cas_top = f(Bs * C, true), d_cas_top_bg = f(Bs * C, true), d_sc = f(Bs * C, true);
    d_s = f(Bs * D, true), d_v = f(Bs * P, true), d_gram = f(Bs * P, true);
    cap_B_ = static_cast<int>(Bs);
    cap_T_ = T_;
    cap_backward_ = bw;
  }
  B = B_;
  T = T_;
}

namespace {

// The parameters by role (SalParam), whatever the variant's registration order.
struct SalParams {
  ParamView v;
  const SalConfig* cfg;
  const float* value(int role) const { return v.value(sal_param_index(*cfg, role)); }
  float* grad(int role) const { return v.grad(sal_param_index(*cfg, role)); }
};

// A stream trunk: conv k=3 + ReLU (+ dropout in place in training) and its actionness head + sigmoid.
struct Trunk {
  int w, b, head_w, head_b;  // parameter indices
  int in_offset, in_width;   // the stream's columns of each feature row
};

Trunk rgb_trunk(const SalConfig& c) { return {kSalRgbW, kSalRgbB, kSalClsRgbW, kSalClsRgbB, 0, c.rgb_dim}; }
Trunk flow_trunk(const SalConfig& c) {
  return {kSalFlowW, kSalFlowB, kSalClsFlowW, kSalClsFlowB, c.rgb_dim, c.feature_dim - c.rgb_dim};
}

// Dropout site numbers: the official order in which the five trunk applications consume the RNG.
enum SalDropoutSite { kDropFlow, kDropRgb, kDropFlowMix, kDropRgbMix, kDropEncoder };

DropoutKey drop_key(const StepBatch& b, int site) {
  return DropoutKey{b.seed, static_cast<std::uint32_t>(b.step), static_cast<std::uint32_t>(site)};
}

void trunk_forward(Ops& ops, const SalConfig& cfg, const SalParams& p, const Trunk& tr, const float* x, int B, int T,
                   float* emb, float* logit, float* act, const DropoutKey* drop) {
  const int D = cfg.embed_dim, N = B * T;
  ops.conv1d_k3_forward(emb, x + tr.in_offset, cfg.feature_dim, p.value(tr.w), p.value(tr.b), B, T, tr.in_width, D,
                        3, true);
  if (drop) ops.dropout_forward(emb, emb, static_cast<size_t>(N) * D, cfg.dropout, *drop);
  ops.conv1d_k1_forward(logit, emb, p.value(tr.head_w), p.value(tr.head_b), N, D, 1);
  ops.sigmoid_forward(act, logit, static_cast<size_t>(N));
}

// Backward of a trunk from d_act (consumed) down to its weights; d_emb holds the gradient reaching the trunk's
// output from elsewhere (bilinear pooling) and is overwritten.
void trunk_backward(Ops& ops, const SalConfig& cfg, const SalParams& p, const Trunk& tr, const float* x, int B, int T,
                    const float* emb, const float* act, const float* d_act, float* d_emb, SalActivations& a,
                    const DropoutKey* drop) {
  const int D = cfg.embed_dim, N = B * T;
  const size_t nd = static_cast<size_t>(N) * D;
  ops.zero(a.d_logit.data(), static_cast<size_t>(N) * sizeof(float));
  ops.sigmoid_backward(a.d_logit.data(), d_act, act, static_cast<size_t>(N));
  ops.conv1d_k1_backward(p.grad(tr.head_w), p.grad(tr.head_b), d_emb, a.d_logit.data(), emb, p.value(tr.head_w), N,
                         D, 1);
  float* d_conv = d_emb;
  if (drop) {  // back through the dropout (the mask regenerated); post-dropout zeros also mask the ReLU below
    ops.zero(a.d_pre.data(), nd * sizeof(float));
    ops.dropout_backward(a.d_pre.data(), d_emb, nd, cfg.dropout, *drop);
    d_conv = a.d_pre.data();
  }
  ops.conv1d_k3_backward(p.grad(tr.w), p.grad(tr.b), nullptr, 0, d_conv, emb, x + tr.in_offset, cfg.feature_dim,
                         p.value(tr.w), B, T, tr.in_width, D, 3, true);
}

// On a synchronous device (the CPU) a non-finite norm of the signed-sqrt vector is reported where it arises,
// naming the branch and the video, instead of as a later NaN loss term; a queued device reports the loss term.
void check_pooled(Ops& ops, const float* norm, int B, const char* branch) {
  if (!ops.synchronous() || !ops.host_memory()) return;
  for (int b = 0; b < B; ++b)
    if (!std::isfinite(norm[b]))
      fail(std::string("SAL's bilinear pooling of the ") + branch + " embedding of batch video " + std::to_string(b) +
           " is not finite (Gram matrix -> signed sqrt -> L2 normalisation): the embedding overflowed; lower "
           "--lr or check the weights");
}

// Bilinear pooling of emb [B,T,D] into v [B,D²] (and its norm), then the shared fc into sc [B,C].
void pool_and_classify(Ops& ops, const SalConfig& cfg, const SalParams& p, const float* emb, int B, int T,
                       float* gram, float* v, float* norm, float* sc, const char* branch) {
  const int D = cfg.embed_dim, P = D * D;
  ops.gram_forward(gram, emb, B, T, D);
  ops.signed_sqrt_l2_forward(v, norm, gram, B, P, cfg.bp_eps);
  check_pooled(ops, norm, B, branch);
  ops.conv1d_k1_forward(sc, v, p.value(kSalFcW), p.value(kSalFcB), B, P, cfg.num_classes);
}

// The forward shared by training and inference: trunks, fused embedding, bilinear branch, CAS and the MIL top-k.
void sal_forward(Ops& ops, const SalConfig& cfg, const SalParams& p, const float* x, int B, int T, SalActivations& a,
                 const StepBatch* train) {
  const int D = cfg.embed_dim, C = cfg.num_classes, N = B * T, P = D * D;
  const size_t n = static_cast<size_t>(N);
  const bool drop = train && cfg.dropout > 0;
  const DropoutKey kf = drop ? drop_key(*train, kDropFlow) : DropoutKey{},
                   kr = drop ? drop_key(*train, kDropRgb) : DropoutKey{},
                   kfm = drop ? drop_key(*train, kDropFlowMix) : DropoutKey{},
                   krm = drop ? drop_key(*train, kDropRgbMix) : DropoutKey{},
                   ke = drop ? drop_key(*train, kDropEncoder) : DropoutKey{};
  const Trunk fl = flow_trunk(cfg), rg = rgb_trunk(cfg);
  trunk_forward(ops, cfg, p, fl, x, B, T, a.emb_flow.data(), a.logit_flow.data(), a.act_flow.data(), drop ? &kf : nullptr);
  trunk_forward(ops, cfg, p, rg, x, B, T, a.emb_rgb.data(), a.logit_rgb.data(), a.act_rgb.data(), drop ? &kr : nullptr);
  if (train) {  // the mixed videos (video + its predecessor in the batch) through the same trunks
    ops.roll_mix_forward(a.x_mix.data(), x, B, static_cast<size_t>(T) * cfg.feature_dim, RollMix::sum);
    trunk_forward(ops, cfg, p, fl, a.x_mix.data(), B, T, a.emb_flow_mix.data(), a.logit_flow_mix.data(),
                  a.act_flow_mix.data(), drop ? &kfm : nullptr);
    trunk_forward(ops, cfg, p, rg, a.x_mix.data(), B, T, a.emb_rgb_mix.data(), a.logit_rgb_mix.data(),
                  a.act_rgb_mix.data(), drop ? &krm : nullptr);
  }
  ops.stream_mix_forward(a.act.data(), a.act_flow.data(), a.act_rgb.data(), 1 - cfg.hp_lambda, cfg.hp_lambda, n);
  // Fused embedding, its second-order vector, the semantic vector s = fc1(v) propagated as e + s ⊗ a.
  ops.conv1d_k3_forward(a.emb.data(), x, cfg.feature_dim, p.value(kSalEncW), p.value(kSalEncB), B, T,
                        cfg.feature_dim, D, cfg.base_kernel, true);
  if (drop) ops.dropout_forward(a.emb.data(), a.emb.data(), n * D, cfg.dropout, ke);
  pool_and_classify(ops, cfg, p, a.emb.data(), B, T, a.gram.data(), a.v.data(), a.norm.data(), a.sc.data(),
                    "fused");
  ops.conv1d_k1_forward(a.s.data(), a.v.data(), p.value(kSalFc1W), p.value(kSalFc1B), B, P, D);
  ops.outer_add_forward(a.emb2.data(), a.emb.data(), a.s.data(), a.act.data(), B, T, D);
  ops.conv1d_k1_forward(a.cas.data(), a.emb2.data(), p.value(kSalClsW), p.value(kSalClsB), N, D, C);
  if (train && cfg.train_select == "raw") {  // top-k of the raw cas (combined = cas)
    ops.topk_mil_weighted_forward(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(), nullptr,
                                  nullptr, MilSelection{false, 1, 0, 0}, B, T, C, cfg.k(T));
  } else if (train || cfg.infer_select == "mean3") {  // (the weighted inference selection: sal_infer_forward)
    ops.topk_mil_forward(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(), a.act_flow.data(),
                         a.act_rgb.data(), B, T, C, cfg.k(T));
  }
}

// Pseudo labels, the adaptive mask and their mixed versions (no gradient).
void sal_targets(Ops& ops, const SalConfig& cfg, int B, int T, SalActivations& a) {
  const int C = cfg.num_classes, N = B * T;
  // Class-agnostic: top (k + 17) by fused actionness AND top T/2 by Σ_c ReLU(cas). Every video has a label
  // (check_batch), so the official "video has a positive class" gate always passes.
  // (ActivityNet: the top 40 by actionness alone, conf_ratio 0.)
  ops.topk_mask_forward(a.y.data(), a.act.data(), B, T, cfg.k_pseudo(T), false);
  if (cfg.conf_ratio > 0) {
    ops.relu_row_sum_forward(a.conf.data(), a.cas.data(), N, C);
    ops.topk_mask_forward(a.y.data(), a.conf.data(), B, T, cfg.k_conf(T), true);
  }
  ops.confidence_mask_forward(a.m.data(), a.mask_state.data(), a.cas.data(), N, C, cfg.ema_momentum,
                              cfg.mask_var_scale);
  ops.roll_mix_forward(a.y_mix.data(), a.y.data(), B, static_cast<size_t>(T), RollMix::max);
  ops.roll_mix_forward(a.m_mix.data(), a.m.data(), B, static_cast<size_t>(T), RollMix::mean);
}

void sal_losses(Ops& ops, const SalConfig& cfg, const float* labels, int B, int T, SalActivations& a, float* loss) {
  const int C = cfg.num_classes;
  const size_t n = static_cast<size_t>(B) * T;
  ops.video_ce_forward(loss + kSalMil, a.cas_top.data(), labels, B, C);
  ops.mse_forward(loss + kSalMse, a.act_rgb.data(), a.act_flow.data(), n);
  ops.kl_uniform_forward(loss + kSalKl, a.cas_top_bg.data(), B, C);
  ops.gce_forward(loss + kSalActFlow, a.act_flow.data(), a.y.data(), B, T, cfg.gce_q, a.m.data());
  ops.gce_forward(loss + kSalActRgb, a.act_rgb.data(), a.y.data(), B, T, cfg.gce_q, a.m.data());
  ops.video_ce_forward(loss + kSalSeFused, a.sc.data(), labels, B, C);
  ops.video_ce_forward(loss + kSalSeFlow, a.sc_flow.data(), labels, B, C);
  ops.video_ce_forward(loss + kSalSeRgb, a.sc_rgb.data(), labels, B, C);
  ops.gce_forward(loss + kSalMixFlow, a.act_flow_mix.data(), a.y_mix.data(), B, T, cfg.gce_q, a.m_mix.data());
  ops.gce_forward(loss + kSalMixRgb, a.act_rgb_mix.data(), a.y_mix.data(), B, T, cfg.gce_q, a.m_mix.data());
}

template <class... Bufs>
void zero_prefix(Ops& ops, size_t count, Bufs&... bufs) {
  (ops.zero(bufs.data(), count * sizeof(float)), ...);
}

// Backward of the bilinear branch of one embedding: d_sc (and, for the fused one, d_s through fc1) down to d_emb
// (accumulated).
void pool_backward(Ops& ops, const SalConfig& cfg, const SalParams& p, int B, int T, const float* emb,
                   const float* gram, const float* v, const float* norm, const float* d_sc, const float* d_s,
                   float* d_emb, SalActivations& a) {
  const int D = cfg.embed_dim, P = D * D;
  const size_t bp = static_cast<size_t>(B) * P;
  zero_prefix(ops, bp, a.d_v, a.d_gram);
  ops.conv1d_k1_backward(p.grad(kSalFcW), p.grad(kSalFcB), a.d_v.data(), d_sc, v, p.value(kSalFcW), B, P,
                         cfg.num_classes);
  if (d_s)
    ops.conv1d_k1_backward(p.grad(kSalFc1W), p.grad(kSalFc1B), a.d_v.data(), d_s, v, p.value(kSalFc1W), B, P, D);
  ops.signed_sqrt_l2_backward(a.d_gram.data(), a.d_v.data(), v, norm, gram, B, P, cfg.bp_eps);
  ops.gram_backward(d_emb, a.d_gram.data(), emb, B, T, D);
}

}  // namespace

void sal_infer_forward(Ops& ops, const SalConfig& cfg, const ParamView& pv, const float* x, int B, int T,
                       SalActivations& a) {
  const SalParams p{pv, &cfg};
  check_sal_batch(cfg, B, T, true);
  a.reserve(B, T, cfg, false);
  sal_forward(ops, cfg, p, x, B, T, a, nullptr);
  if (cfg.infer_select == "weighted") {  // the MIL top-k and the localization score on the weighted selection
    const MilSelection sel{true, cfg.infer_w_softmax, cfg.infer_w_rgb, cfg.infer_w_flow};
    ops.topk_mil_weighted_forward(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(),
                                  a.act_flow.data(), a.act_rgb.data(), sel, B, T, cfg.num_classes, cfg.k(T));
  }
  ops.stream_mix_forward(a.video.data(), a.cas_top.data(), a.sc.data(), cfg.infer_beta, 1 - cfg.infer_beta,
                         static_cast<size_t>(B) * cfg.num_classes);
}

void sal_forward_backward(Ops& ops, const SalConfig& cfg, const ParamView& pv, const StepBatch& batch,
                          SalActivations& a, float* loss) {
  const SalParams p{pv, &cfg};
  const int B = batch.B, T = batch.T, D = cfg.embed_dim, C = cfg.num_classes, N = B * T, k = cfg.k(T),
            k_bg = cfg.k_bg(T);
  const size_t n = static_cast<size_t>(N), nd = n * D;
  check_sal_batch(cfg, B, T);
  a.reserve(B, T, cfg, true);
  const float* x = batch.x;
  sal_forward(ops, cfg, p, x, B, T, a, &batch);
  // Training-only heads: bilinear logits of the stream embeddings, background CAS and its top-k.
  pool_and_classify(ops, cfg, p, a.emb_rgb.data(), B, T, a.gram_rgb.data(), a.v_rgb.data(), a.norm_rgb.data(),
                    a.sc_rgb.data(), "RGB");
  pool_and_classify(ops, cfg, p, a.emb_flow.data(), B, T, a.gram_flow.data(), a.v_flow.data(), a.norm_flow.data(),
                    a.sc_flow.data(), "flow");
  ops.complement_scale_forward(a.cas_bg.data(), a.cas.data(), a.act.data(), B, T, C);
  ops.topk_mil_forward(a.cas_top_bg.data(), a.topk_idx_bg.data(), a.combined_bg.data(), a.cas_bg.data(), nullptr,
                       nullptr, B, T, C, k_bg);
  sal_targets(ops, cfg, B, T, a);
  sal_losses(ops, cfg, batch.labels, B, T, a, loss);

  // ---- backward: loss terms down to cas, the actionness curves and the bilinear logits ----
  zero_prefix(ops, static_cast<size_t>(B) * C, a.d_cas_top, a.d_cas_top_bg, a.d_sc);
  zero_prefix(ops, n * C, a.d_cas, a.d_cas_bg);
  zero_prefix(ops, n, a.d_act, a.d_act_rgb, a.d_act_flow, a.d_act_rgb_mix, a.d_act_flow_mix);
  zero_prefix(ops, static_cast<size_t>(B) * D, a.d_s);
  zero_prefix(ops, nd, a.d_emb);
  ops.video_ce_backward(a.d_cas_top.data(), 1.0f, a.cas_top.data(), batch.labels, B, C);
  ops.topk_mil_backward(a.d_cas.data(), a.d_cas_top.data(), a.topk_idx.data(), B, T, C, k);
  ops.kl_uniform_backward(a.d_cas_top_bg.data(), static_cast<float>(cfg.w_kl), a.cas_top_bg.data(), B, C);
  ops.topk_mil_backward(a.d_cas_bg.data(), a.d_cas_top_bg.data(), a.topk_idx_bg.data(), B, T, C, k_bg);
  ops.complement_scale_backward(a.d_cas.data(), a.d_act.data(), a.d_cas_bg.data(), a.cas.data(), a.act.data(), B, T,
                                C);
  const double q = cfg.gce_q;
  ops.gce_backward(a.d_act_flow.data(), 1.0f, a.act_flow.data(), a.y.data(), B, T, q, a.m.data());
  ops.gce_backward(a.d_act_rgb.data(), 1.0f, a.act_rgb.data(), a.y.data(), B, T, q, a.m.data());
  ops.gce_backward(a.d_act_flow_mix.data(), 1.0f, a.act_flow_mix.data(), a.y_mix.data(), B, T, q, a.m_mix.data());
  ops.gce_backward(a.d_act_rgb_mix.data(), 1.0f, a.act_rgb_mix.data(), a.y_mix.data(), B, T, q, a.m_mix.data());
  ops.mse_backward(a.d_act_rgb.data(), a.d_act_flow.data(), static_cast<float>(cfg.w_mse), a.act_rgb.data(),
                   a.act_flow.data(), n);

  // ---- CAS head, the propagation e + s ⊗ a, the fused bilinear branch (fc and fc1) and the encoder ----
  // d_emb2 is d_emb itself: the identity path of the outer add needs no copy.
  ops.conv1d_k1_backward(p.grad(kSalClsW), p.grad(kSalClsB), a.d_emb.data(), a.d_cas.data(), a.emb2.data(),
                         p.value(kSalClsW), N, D, C);
  ops.outer_add_backward(nullptr, a.d_s.data(), a.d_act.data(), a.d_emb.data(), a.s.data(), a.act.data(), B, T, D);
  ops.stream_mix_backward(a.d_act_flow.data(), a.d_act_rgb.data(), a.d_act.data(), 1 - cfg.hp_lambda, cfg.hp_lambda,
                          n);
  const float w_se = static_cast<float>(cfg.w_se);
  ops.video_ce_backward(a.d_sc.data(), w_se, a.sc.data(), batch.labels, B, C);
  pool_backward(ops, cfg, p, B, T, a.emb.data(), a.gram.data(), a.v.data(), a.norm.data(), a.d_sc.data(),
                a.d_s.data(), a.d_emb.data(), a);
  const bool drop = cfg.dropout > 0;
  float* d_enc = a.d_emb.data();
  if (drop) {
    const DropoutKey ke = drop_key(batch, kDropEncoder);
    ops.zero(a.d_pre.data(), nd * sizeof(float));
    ops.dropout_backward(a.d_pre.data(), a.d_emb.data(), nd, cfg.dropout, ke);
    d_enc = a.d_pre.data();
  }
  ops.conv1d_k3_backward(p.grad(kSalEncW), p.grad(kSalEncB), nullptr, 0, d_enc, a.emb.data(), x, cfg.feature_dim,
                         p.value(kSalEncW), B, T, cfg.feature_dim, D, cfg.base_kernel, true);

  // ---- the four trunk applications: bilinear logits (plain trunks) + actionness heads ----
  const Trunk fl = flow_trunk(cfg), rg = rgb_trunk(cfg);
  auto key = [&](int site) { return drop_key(batch, site); };
  const DropoutKey kf = key(kDropFlow), kr = key(kDropRgb), kfm = key(kDropFlowMix), krm = key(kDropRgbMix);
  auto branch = [&](const Trunk& tr, const float* xin, const Buf<float>& emb, const Buf<float>& act,
                    const Buf<float>& d_act, const Buf<float>* sc_parts[4], const DropoutKey& k_drop) {
    zero_prefix(ops, nd, a.d_emb_branch);
    if (sc_parts) {
      zero_prefix(ops, static_cast<size_t>(B) * C, a.d_sc);
      ops.video_ce_backward(a.d_sc.data(), w_se, sc_parts[0]->data(), batch.labels, B, C);
      pool_backward(ops, cfg, p, B, T, emb.data(), sc_parts[1]->data(), sc_parts[2]->data(), sc_parts[3]->data(),
                    a.d_sc.data(), nullptr, a.d_emb_branch.data(), a);
    }
    trunk_backward(ops, cfg, p, tr, xin, B, T, emb.data(), act.data(), d_act.data(), a.d_emb_branch.data(), a,
                   drop ? &k_drop : nullptr);
  };
  const Buf<float>* flow_parts[4] = {&a.sc_flow, &a.gram_flow, &a.v_flow, &a.norm_flow};
  const Buf<float>* rgb_parts[4] = {&a.sc_rgb, &a.gram_rgb, &a.v_rgb, &a.norm_rgb};
  branch(fl, x, a.emb_flow, a.act_flow, a.d_act_flow, flow_parts, kf);
  branch(rg, x, a.emb_rgb, a.act_rgb, a.d_act_rgb, rgb_parts, kr);
  branch(fl, a.x_mix.data(), a.emb_flow_mix, a.act_flow_mix, a.d_act_flow_mix, nullptr, kfm);
  branch(rg, a.x_mix.data(), a.emb_rgb_mix, a.act_rgb_mix, a.d_act_rgb_mix, nullptr, krm);
}

// ---- the Method ----

SalMethod::SalMethod(const SalConfig& cfg) : cfg_(cfg) {
  state_.mu = 1.0 / cfg_.num_classes;
  state_.var = cfg_.mask_var0;
}

const ParameterSet& SalMethod::layout() const {
  if (!layout_) {  // names and shapes only: copies (the trainer's parameters) get the 1.2 GB of buffers
    layout_ = std::make_unique<ParameterSet>(sal_parameters(cfg_, false));
  }
  return *layout_;
}

void SalMethod::init_params(ParameterSet& p, unsigned long long seed) const {
  // PyTorch's default init everywhere, then fc1: kaiming_normal_ (fan_in, gain √2) and a zero bias (S3).
  p.init_uniform(seed);
  Rng rng(seed ^ 0x5A15A15A15A15A1ull);
  const ParamTensor& w = p.tensor(kSalFc1W);
  const double stddev = std::sqrt(2.0 / static_cast<double>(w.fan_in));
  float* v = p.value(kSalFc1W);
  for (size_t i = 0; i < w.numel; i += 2) {  // Box-Muller: two normals per pair of uniforms
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform(), r = std::sqrt(-2.0 * std::log(u1));
    v[i] = static_cast<float>(stddev * r * std::cos(2 * M_PI * u2));
    if (i + 1 < w.numel) v[i + 1] = static_cast<float>(stddev * r * std::sin(2 * M_PI * u2));
  }
  std::fill(p.value(kSalFc1B), p.value(kSalFc1B) + p.tensor(kSalFc1B).numel, 0.0f);
}

json SalMethod::config() const {
  return json{{"variant", cfg_.variant},
              {"embed_dim", cfg_.embed_dim},
              {"base_kernel", cfg_.base_kernel},
              {"topk_ratio", cfg_.topk_ratio},
              {"bg_topk_ratio", cfg_.bg_topk_ratio},
              {"pseudo_ratio", cfg_.pseudo_ratio},
              {"pseudo_extra", cfg_.pseudo_extra},
              {"conf_ratio", cfg_.conf_ratio},
              {"train_select", cfg_.train_select},
              {"infer_select", cfg_.infer_select},
              {"infer_select_weights", {cfg_.infer_w_softmax, cfg_.infer_w_rgb, cfg_.infer_w_flow}},
              {"hp_lambda", cfg_.hp_lambda},
              {"gce_q", cfg_.gce_q},
              {"dropout", cfg_.dropout},
              {"bp_eps", cfg_.bp_eps},
              {"ema_momentum", cfg_.ema_momentum},
              {"mask_var_scale", cfg_.mask_var_scale},
              {"mask_var0", cfg_.mask_var0},
              {"w_mse", cfg_.w_mse},
              {"w_kl", cfg_.w_kl},
              {"w_se", cfg_.w_se},
              {"infer_beta", cfg_.infer_beta},
              {"soft_nms_alpha", cfg_.soft_nms_alpha},
              {"class_thresh", cfg_.class_thresh},
              {"nms_thresh", cfg_.nms_thresh}};
}

const std::vector<std::string>& SalMethod::loss_names() const {
  static const std::vector<std::string> names = {"loss", "mil", "mse", "kl", "act", "se", "mix"};
  return names;
}

std::vector<double> SalMethod::losses(const float* slots) const {
  const SalLosses L = sal_losses_from_slots(slots, cfg_);
  return {L.total, L.mil, L.mse, L.kl, L.act, L.se, L.mix};
}

void SalMethod::check_batch(const float* labels, int B, int T) const {
  check_sal_batch(cfg_, B, T);
  const int C = cfg_.num_classes;
  for (int b = 0; b < B; ++b)
    if (std::all_of(labels + static_cast<size_t>(b) * C, labels + static_cast<size_t>(b + 1) * C,
                    [](float l) { return l == 0.0f; }))
      fail("video " + std::to_string(b) + " of the batch has no label (SAL's video-level CE divides by its label sum)");
  if (B == 1 && !noted_batch_of_one_) {
    noted_batch_of_one_ = true;
    std::fprintf(stderr,
                 "aicl_train: note: a batch of 1 video: SAL's mix-up pairs it with itself (its features doubled, "
                 "labels and mask unchanged), as the official code's batch roll does\n");
  }
}

std::unique_ptr<Workspace> SalMethod::make_workspace(Ops& ops) const {
  auto ws = std::make_unique<SalActivations>(ops);
  ws->mask_state = Buf<double>(ops, 2);
  const double s[2] = {state_.mu, state_.var};
  ops.upload(ws->mask_state.data(), s, sizeof(s));
  return ws;
}

void SalMethod::forward_backward(Ops& ops, const ParamView& p, const StepBatch& b, Workspace& ws, float* slots) {
  sal_forward_backward(ops, cfg_, p, b, static_cast<SalActivations&>(ws), slots);
}

InferScores SalMethod::infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const {
  auto& a = static_cast<SalActivations&>(ws);
  sal_infer_forward(ops, cfg_, p, x, B, T, a);
  return InferScores{a.video.data(), a.combined.data()};
}

void SalMethod::video_scores(const float* x, float* out) const {
  // torch.softmax in float32 over the fused logits: exp(x - max) / sum.
  const int n = cfg_.num_classes;
  const float m = *std::max_element(x, x + n);
  float s = 0;
  for (int i = 0; i < n; ++i) s += (out[i] = std::exp(x[i] - m));
  for (int i = 0; i < n; ++i) out[i] /= s;
}

json SalMethod::postprocess_overrides() const {
  json o{{"nms_alpha", cfg_.soft_nms_alpha}};
  if (cfg_.class_thresh >= 0) o["class_thresh"] = cfg_.class_thresh;
  if (cfg_.nms_thresh >= 0) o["nms_thresh"] = cfg_.nms_thresh;
  return o;
}

void SalMethod::save_state(H5File& f, const std::string& group) const {
  f.create_group(group);
  f.set_attr_double(group, "ema_mu", state_.mu);
  f.set_attr_double(group, "ema_var", state_.var);
}

void SalMethod::load_state(const H5File& f, const std::string& group) {
  if (!f.has_attr(group, "ema_mu") || !f.has_attr(group, "ema_var"))
    fail(f.path() + ": the checkpoint has no SAL mask state (" + group + " attributes ema_mu, ema_var)");
  state_.mu = f.attr_double(group, "ema_mu");
  state_.var = f.attr_double(group, "ema_var");
  if (!std::isfinite(state_.mu) || !std::isfinite(state_.var) || state_.var < 0)
    fail(f.path() + ": the SAL mask state is not finite or has a negative variance");
}

void SalMethod::pull_state(Workspace& ws) {
  auto& a = static_cast<SalActivations&>(ws);
  double s[2];
  a.ops->download(s, a.mask_state.data(), sizeof(s));
  state_.mu = s[0];
  state_.var = s[1];
}

namespace {

// The variant's defaults (the config's "variant", else the dataset profile's), then the config's keys.
SalConfig sal_config_from_json(const json& j, const std::string& source, const std::string& profile) {
  if (!j.is_null() && !j.is_object()) fail(source + ": the SAL method config must be a JSON object");
  const std::string variant = config_variant(j, sal_variant_for_profile(profile), "sal", source);
  SalConfig c = variant == "activitynet" ? sal_activitynet_config() : SalConfig{};
  if (j.is_null()) return c;
  check_config_keys(j, {"variant", "embed_dim", "base_kernel", "topk_ratio", "bg_topk_ratio", "pseudo_ratio",
                        "pseudo_extra", "conf_ratio", "train_select", "infer_select", "infer_select_weights",
                        "hp_lambda", "gce_q", "dropout", "bp_eps", "ema_momentum", "mask_var_scale", "mask_var0",
                        "w_mse", "w_kl", "w_se", "infer_beta", "soft_nms_alpha", "class_thresh", "nms_thresh"},
                    source + " (method sal)");
  auto integer = [&](const char* k, int& dst, int lo) {
    if (!j.contains(k)) return;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < lo || j[k].get<int64_t>() > 1000000)
      fail(source + ": method sal key '" + k + "' must be an integer in [" + std::to_string(lo) + ", 1000000]");
    dst = j[k].get<int>();
  };
  auto real = [&](const char* k, double& dst, double lo, double hi, bool open_lo) {
    if (!j.contains(k)) return;
    const bool ok = j[k].is_number() && std::isfinite(j[k].get<double>()) &&
                    (open_lo ? j[k].get<double>() > lo : j[k].get<double>() >= lo) && j[k].get<double>() <= hi;
    if (!ok)
      fail(source + ": method sal key '" + k + "' must be a number in " + (open_lo ? "(" : "[") +
           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    dst = j[k].get<double>();
  };
  auto choice = [&](const char* k, std::string& dst, const char* a, const char* b) {
    if (!j.contains(k)) return;
    if (!j[k].is_string() || (j[k] != a && j[k] != b))
      fail(source + ": method sal key '" + k + "' must be \"" + a + "\" or \"" + b + "\"");
    dst = j[k].get<std::string>();
  };
  integer("embed_dim", c.embed_dim, 1);
  integer("base_kernel", c.base_kernel, 1);
  if (c.base_kernel % 2 == 0) fail(source + ": method sal key 'base_kernel' must be odd");
  integer("topk_ratio", c.topk_ratio, 1);
  integer("bg_topk_ratio", c.bg_topk_ratio, 1);
  integer("pseudo_ratio", c.pseudo_ratio, 0);
  integer("pseudo_extra", c.pseudo_extra, 0);
  integer("conf_ratio", c.conf_ratio, 0);
  if (c.pseudo_ratio == 0 && c.pseudo_extra == 0)
    fail(source + ": method sal keys 'pseudo_ratio' and 'pseudo_extra' cannot both be 0 (no pseudo labels)");
  choice("train_select", c.train_select, "mean3", "raw");
  choice("infer_select", c.infer_select, "mean3", "weighted");
  if (j.contains("infer_select_weights")) {
    const json& w = j["infer_select_weights"];
    if (!w.is_array() || w.size() != 3 || !std::all_of(w.begin(), w.end(), [](const json& x) {
          return x.is_number() && std::isfinite(x.get<double>());
        }))
      fail(source + ": method sal key 'infer_select_weights' must be three numbers [softmax(cas), rgb, flow]");
    c.infer_w_softmax = w[0].get<double>(), c.infer_w_rgb = w[1].get<double>(), c.infer_w_flow = w[2].get<double>();
  }
  real("hp_lambda", c.hp_lambda, 0, 1, false);
  real("gce_q", c.gce_q, 0, 1, true);
  real("dropout", c.dropout, 0, 0.99, false);
  real("bp_eps", c.bp_eps, 0, 1, false);
  real("ema_momentum", c.ema_momentum, 0, 1, false);
  real("mask_var_scale", c.mask_var_scale, 0, 1e6, true);
  real("mask_var0", c.mask_var0, 0, 1e6, true);
  real("w_mse", c.w_mse, 0, 1e6, false);
  real("w_kl", c.w_kl, 0, 1e6, false);
  real("w_se", c.w_se, 0, 1e6, false);
  real("infer_beta", c.infer_beta, 0, 1, false);
  real("soft_nms_alpha", c.soft_nms_alpha, 0, 1e6, true);
  auto optional_real = [&](const char* k, double& dst) {  // -1: the dataset profile's value
    if (j.contains(k) && j[k].is_number() && j[k].get<double>() == -1) dst = -1;
    else real(k, dst, 0, 1, false);
  };
  optional_real("class_thresh", c.class_thresh);
  optional_real("nms_thresh", c.nms_thresh);
  c.variant = variant;
  return c;
}

}  // namespace

std::unique_ptr<Method> make_sal_method(const MethodContext& ctx, const json& config, const std::string& source) {
  SalConfig c = sal_config_from_json(config, source, ctx.profile);
  c.feature_dim = ctx.feature_dim;
  c.rgb_dim = rgb_stream_width(ctx, "SAL", source);
  c.num_classes = ctx.num_classes;
  if (static_cast<long long>(c.embed_dim) * c.embed_dim > (1LL << 28))
    fail(source + ": method sal key 'embed_dim' is too large for the bilinear vector (D² entries)");
  return std::make_unique<SalMethod>(c);
}

}  // namespace aicl
