// The AICL method (AAAI 2023): its parameters, and the forward/backward composition of the ops in kernels/.
#include "core/methods/aicl/aicl_model.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "kernels/actionness.h"
#include "kernels/ce_loss.h"
#include "kernels/conv1d_k1.h"
#include "kernels/conv1d_k3.h"
#include "kernels/gce_loss.h"
#include "kernels/infonce.h"
#include "kernels/mse_loss.h"
#include "kernels/snippet_select.h"
#include "kernels/topk_mil.h"

namespace aicl {

void AiclActivations::resize(int B_, int T_, const AiclConfig& cfg) {
  B = B_;
  T = T_;
  const size_t n = static_cast<size_t>(B) * T, D = cfg.embed_dim, C = cfg.num_classes;
  const size_t k = T / cfg.topk_ratio, ks = T / cfg.snippet_ratio;
  for (auto* v : {&emb, &emb_rgb, &emb_flow}) v->resize(n * D);
  cas.resize(n * C);
  combined.resize(n * C);
  for (auto* v : {&logit_rgb, &logit_flow, &action_rgb, &action_flow, &actionness_aware, &actionness_agnostic,
                  &pseudo_label})
    v->resize(n);
  cas_top.resize(static_cast<size_t>(B) * C);
  topk_idx.resize(static_cast<size_t>(B) * k * C);
  for (auto* v : {&idx_ca, &idx_cb, &idx_ia, &idx_ib}) v->resize(static_cast<size_t>(B) * ks);
}

AiclModel::AiclModel(const AiclConfig& cfg) : cfg_(cfg) {
  const int F = cfg.feature_dim, H = F / 2, D = cfg.embed_dim, C = cfg.num_classes;
  // Registration order = the official module order (and state_dict order).
  params_.add("actionness_module.base_module.0.weight", {D, F, 3}, F * 3);
  params_.add("actionness_module.base_module.0.bias", {D}, F * 3);
  params_.add("actionness_module.cls.0.weight", {C, D, 1}, D);
  params_.add("actionness_module.cls.0.bias", {C}, D);
  params_.add("actionness_module.action_module_rgb.0.weight", {D, H, 3}, H * 3);
  params_.add("actionness_module.action_module_rgb.0.bias", {D}, H * 3);
  params_.add("actionness_module.cls_rgb.weight", {1, D, 1}, D);
  params_.add("actionness_module.cls_rgb.bias", {1}, D);
  params_.add("actionness_module.action_module_flow.0.weight", {D, H, 3}, H * 3);
  params_.add("actionness_module.action_module_flow.0.bias", {D}, H * 3);
  params_.add("actionness_module.cls_flow.weight", {1, D, 1}, D);
  params_.add("actionness_module.cls_flow.bias", {1}, D);
  params_.finalize();
}

void check_aicl_batch(const AiclConfig& cfg, int B, int T) {
  if (B <= 0) fail("batch size must be positive (got " + std::to_string(B) + ")");
  if (T < cfg.snippet_ratio)
    fail("T = " + std::to_string(T) + " segments is too short: AICL needs T >= " + std::to_string(cfg.snippet_ratio) +
         " (k_C = T/" + std::to_string(cfg.snippet_ratio) + " would be 0)");
}

void AiclModel::forward(const float* x, int B, int T, AiclActivations& a) const {
  check_aicl_batch(cfg_, B, T);
  a.resize(B, T, cfg_);
  const int F = cfg_.feature_dim, H = F / 2, D = cfg_.embed_dim, C = cfg_.num_classes;
  const int N = B * T;
  const ParameterSet& p = params_;
  // Stream embeddings and their actionness heads: RGB is the first half of each feature row, flow the second.
  conv1d_k3_forward(a.emb_flow.data(), x + H, F, p.value(kFlowW), p.value(kFlowB), B, T, H, D, true);
  conv1d_k3_forward(a.emb_rgb.data(), x, F, p.value(kRgbW), p.value(kRgbB), B, T, H, D, true);
  conv1d_k1_forward(a.logit_flow.data(), a.emb_flow.data(), p.value(kClsFlowW), p.value(kClsFlowB), N, D, 1);
  conv1d_k1_forward(a.logit_rgb.data(), a.emb_rgb.data(), p.value(kClsRgbW), p.value(kClsRgbB), N, D, 1);
  sigmoid_forward(a.action_flow.data(), a.logit_flow.data(), static_cast<size_t>(N));
  sigmoid_forward(a.action_rgb.data(), a.logit_rgb.data(), static_cast<size_t>(N));
  // Fused embedding and the class activation sequence.
  conv1d_k3_forward(a.emb.data(), x, F, p.value(kBaseW), p.value(kBaseB), B, T, F, D, true);
  conv1d_k1_forward(a.cas.data(), a.emb.data(), p.value(kClsW), p.value(kClsB), N, D, C);
  class_aware_actionness_forward(a.actionness_aware.data(), a.cas.data(), N, C);
  for (int i = 0; i < N; ++i) a.actionness_agnostic[i] = (a.action_flow[i] + a.action_rgb[i]) / 2.0f;
  // Top-k MIL video scores over the combined CAS.
  topk_mil_forward(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(), a.action_flow.data(),
                   a.action_rgb.data(), B, T, C, T / cfg_.topk_ratio);
}

AiclLosses AiclModel::forward_backward(const float* x, const float* labels, int B, int T, AiclActivations& a) {
  forward(x, B, T, a);
  const int F = cfg_.feature_dim, H = F / 2, D = cfg_.embed_dim, C = cfg_.num_classes;
  const int N = B * T, k = T / cfg_.topk_ratio, ks = T / cfg_.snippet_ratio;
  for (int b = 0; b < B; ++b) {
    bool any = false;
    for (int c = 0; c < C; ++c) any = any || labels[b * C + c] != 0.0f;
    if (!any) fail("video " + std::to_string(b) + " of the batch has no label (the CE label normalisation divides by 0)");
  }
  ParameterSet& p = params_;

  // Median-based consistent / inconsistent snippets (indices only; ranked by the class-aware actionness).
  snippet_select_forward(a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(), a.idx_ib.data(),
                         a.actionness_aware.data(), a.actionness_agnostic.data(), B, T, ks);
  pseudo_label_forward(a.pseudo_label.data(), a.topk_idx.data(), labels, B, T, C, k);

  AiclLosses L;
  L.action = video_ce_forward(a.cas_top.data(), labels, B, C);
  L.agnostic_flow = gce_forward(a.action_flow.data(), a.pseudo_label.data(), B, T, cfg_.gce_q);
  L.agnostic_rgb = gce_forward(a.action_rgb.data(), a.pseudo_label.data(), B, T, cfg_.gce_q);
  L.agnostic = L.agnostic_flow + L.agnostic_rgb;
  L.modality = mse_forward(a.action_flow.data(), a.action_rgb.data(), static_cast<size_t>(N));
  L.consistency = mse_forward(a.actionness_aware.data(), a.actionness_agnostic.data(), static_cast<size_t>(N));
  auto nce = [&](const std::vector<float>& e) {
    return infonce_forward(e.data(), a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(), a.idx_ib.data(), B, T, D,
                           ks, cfg_.nce_tau);
  };
  L.contrast_fused = nce(a.emb);
  L.contrast_rgb = nce(a.emb_rgb);
  L.contrast_flow = nce(a.emb_flow);
  L.contrast = L.contrast_fused + L.contrast_rgb + L.contrast_flow;
  // The official sum order: base + agnostic + 5*modality + 0.01*contrast + 0.1*consistency (float32 there).
  L.total = L.action + L.agnostic + cfg_.w_modality * L.modality + cfg_.w_contrast * L.contrast +
            cfg_.w_consistency * L.consistency;

  // ---- backward: every op accumulates into zeroed activation gradients, then into params().grads ----
  auto zero = [](std::vector<float>& v, size_t n) { v.assign(n, 0.0f); };
  zero(a.d_cas_top, static_cast<size_t>(B) * C);
  zero(a.d_cas, static_cast<size_t>(N) * C);
  for (auto* v : {&a.d_action_flow, &a.d_action_rgb, &a.d_aware, &a.d_agnostic, &a.d_logit_flow, &a.d_logit_rgb})
    zero(*v, N);
  for (auto* v : {&a.d_emb, &a.d_emb_rgb, &a.d_emb_flow}) zero(*v, static_cast<size_t>(N) * D);

  video_ce_backward(a.d_cas_top.data(), 1.0f, a.cas_top.data(), labels, B, C);
  topk_mil_backward(a.d_cas.data(), a.d_cas_top.data(), a.topk_idx.data(), B, T, C, k);
  gce_backward(a.d_action_flow.data(), 1.0f, a.action_flow.data(), a.pseudo_label.data(), B, T, cfg_.gce_q);
  gce_backward(a.d_action_rgb.data(), 1.0f, a.action_rgb.data(), a.pseudo_label.data(), B, T, cfg_.gce_q);
  mse_backward(a.d_action_flow.data(), a.d_action_rgb.data(), static_cast<float>(cfg_.w_modality),
               a.action_flow.data(), a.action_rgb.data(), static_cast<size_t>(N));
  mse_backward(a.d_aware.data(), a.d_agnostic.data(), static_cast<float>(cfg_.w_consistency),
               a.actionness_aware.data(), a.actionness_agnostic.data(), static_cast<size_t>(N));
  for (int i = 0; i < N; ++i) {  // actionness_agnostic = (flow + rgb) / 2
    a.d_action_flow[i] += 0.5f * a.d_agnostic[i];
    a.d_action_rgb[i] += 0.5f * a.d_agnostic[i];
  }
  class_aware_actionness_backward(a.d_cas.data(), a.d_aware.data(), a.actionness_aware.data(), N, C);
  const float w_nce = static_cast<float>(cfg_.w_contrast);
  auto nce_back = [&](std::vector<float>& de, const std::vector<float>& e) {
    infonce_backward(de.data(), w_nce, e.data(), a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(),
                     a.idx_ib.data(), B, T, D, ks, cfg_.nce_tau);
  };
  nce_back(a.d_emb, a.emb);
  nce_back(a.d_emb_rgb, a.emb_rgb);
  nce_back(a.d_emb_flow, a.emb_flow);

  // Heads.
  conv1d_k1_backward(p.grad(kClsW), p.grad(kClsB), a.d_emb.data(), a.d_cas.data(), a.emb.data(), p.value(kClsW), N,
                     D, C);
  sigmoid_backward(a.d_logit_flow.data(), a.d_action_flow.data(), a.action_flow.data(), static_cast<size_t>(N));
  sigmoid_backward(a.d_logit_rgb.data(), a.d_action_rgb.data(), a.action_rgb.data(), static_cast<size_t>(N));
  conv1d_k1_backward(p.grad(kClsFlowW), p.grad(kClsFlowB), a.d_emb_flow.data(), a.d_logit_flow.data(),
                     a.emb_flow.data(), p.value(kClsFlowW), N, D, 1);
  conv1d_k1_backward(p.grad(kClsRgbW), p.grad(kClsRgbB), a.d_emb_rgb.data(), a.d_logit_rgb.data(), a.emb_rgb.data(),
                     p.value(kClsRgbW), N, D, 1);
  // Temporal convolutions (the input features need no gradient). dout is masked by the ReLU in place.
  conv1d_k3_backward(p.grad(kBaseW), p.grad(kBaseB), static_cast<float*>(nullptr), 0, a.d_emb.data(), a.emb.data(),
                     x, F, p.value(kBaseW), B, T, F, D, true);
  conv1d_k3_backward(p.grad(kRgbW), p.grad(kRgbB), static_cast<float*>(nullptr), 0, a.d_emb_rgb.data(),
                     a.emb_rgb.data(), x, F, p.value(kRgbW), B, T, H, D, true);
  conv1d_k3_backward(p.grad(kFlowW), p.grad(kFlowB), static_cast<float*>(nullptr), 0, a.d_emb_flow.data(),
                     a.emb_flow.data(), x + H, F, p.value(kFlowW), B, T, H, D, true);
  return L;
}

}  // namespace aicl
