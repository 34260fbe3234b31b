// The SAL method (Neural Networks 2024): hyper-parameters, parameters (official state_dict keys), loss terms, the
// adaptive-mask state and the forward/backward composition of the ops, written once for every device.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/method.h"
#include "core/runtime/parameters.h"
#include "kernels/ops.h"

namespace aicl {

// Hyper-parameters. The defaults are the official THUMOS14 code's (../shared/specs/sal.md; dimensions from the
// dataset); sal_activitynet_config() gives SAL_ActivityNet's (main_SA13_1.py, core/SA13_1.py; docs/sal.md,
// "ActivityNet 1.3"). make_sal_method picks the variant from the dataset profile; config keys override each value.
struct SalConfig {
  std::string variant = "thumos14";  // "thumos14" | "activitynet": which defaults (and state_dict layout)
  int feature_dim = 2048;  // RGB (first rgb_dim columns) + flow (the rest)
  int rgb_dim = 1024;
  int num_classes = 20;
  int embed_dim = 512;       // D: the bilinear vector has D² entries
  int base_kernel = 3;       // the fused encoder conv's K (pad K/2); ActivityNet's base_module: 7
  int topk_ratio = 8;        // MIL top-k (training and inference): k = T / topk_ratio
  int bg_topk_ratio = 8;     // background top-k: k = T / bg_topk_ratio
  int pseudo_ratio = 8;      // pseudo labels: actionness top-(T / pseudo_ratio + pseudo_extra); 0: pseudo_extra alone
  int pseudo_extra = 17;     // (S5)
  int conf_ratio = 2;        // confidence gate: top T / 2 of Σ_c ReLU(cas); 0: no gate
  std::string train_select = "mean3";  // MIL top-k in training on (softmax(cas) + flow + rgb)/3, or "raw" cas
  std::string infer_select = "mean3";  // at inference: the same, or "weighted" (infer_select_weights)
  double infer_w_softmax = 0.6, infer_w_rgb = 0.2, infer_w_flow = 0.2;  // "weighted": the localization score
  double hp_lambda = 0.1;    // fused actionness a = (1 − λ)·flow + λ·rgb (S4)
  double gce_q = 0.5;
  double dropout = 0.5;      // after the five trunk applications (training only)
  double bp_eps = 1e-5;      // inside the signed square root (S1)
  double ema_momentum = 0.7; // mask statistics (S6)
  double mask_var_scale = 0.5;  // Gaussian denominator = scale · V (THUMOS: 2V/4)
  double mask_var0 = 1.0;       // initial V; the initial μ is 1 / C
  double w_mse = 5, w_kl = 10, w_se = 3;
  double infer_beta = 0.35;     // video logits at inference: β·cas_top + (1 − β)·sc (S10)
  double soft_nms_alpha = 0.3;  // S10
  double class_thresh = -1;     // post-processing overrides; < 0: the dataset profile's value
  double nms_thresh = -1;
  int k(int T) const { return T / topk_ratio; }
  int k_bg(int T) const { return T / bg_topk_ratio; }
  int k_pseudo(int T) const { return (pseudo_ratio > 0 ? T / pseudo_ratio : 0) + pseudo_extra; }
  int k_conf(int T) const { return conf_ratio > 0 ? T / conf_ratio : 0; }
  bool activitynet_layout() const { return variant == "activitynet"; }
};

// SAL_ActivityNet's constants (sources in docs/sal.md, "ActivityNet 1.3").
SalConfig sal_activitynet_config();
// The variant a dataset profile selects: "activitynet" for anet12 / anet13, otherwise "thumos14".
std::string sal_variant_for_profile(const std::string& profile_name);

// The raw loss slots a step writes (floats, in this order), all unweighted.
enum SalLossSlot {
  kSalMil,      // CE(cas_top)
  kSalMse,      // mean (a_rgb − a_flow)²
  kSalKl,       // KL(uniform || softmax(cas_top_bg)), batchmean
  kSalActFlow,  // masked GCE of the two stream actionness curves
  kSalActRgb,
  kSalSeFused,  // CE of the bilinear logits of the fused, flow and RGB embeddings
  kSalSeFlow,
  kSalSeRgb,
  kSalMixFlow,  // masked GCE of the mixed videos' actionness
  kSalMixRgb,
  kNumSalLossSlots
};

struct SalLosses {
  double total = 0, mil = 0, mse = 0, kl = 0, act = 0, act_flow = 0, act_rgb = 0, se = 0, se_fused = 0, se_flow = 0,
         se_rgb = 0, mix = 0, mix_flow = 0, mix_rgb = 0;
};
// The sums and the weighted total (official order: mil + 5 mse + 10 kl + act + 3 se + mix) in double.
SalLosses sal_losses_from_slots(const float* slots, const SalConfig& cfg);

// Parameter indices by role (the order of models/model_x4.py). The ActivityNet layout registers them in
// SA13_1's order (base_module, cls, action_rgb, action_flow, cls_rgb, cls_flow, fc, fc1) under its names
// (encoder -> base_module): sal_param_index maps a role to its position in the variant's ParameterSet.
enum SalParam { kSalEncW, kSalEncB, kSalRgbW, kSalRgbB, kSalFlowW, kSalFlowB, kSalClsW, kSalClsB, kSalClsRgbW,
                kSalClsRgbB, kSalClsFlowW, kSalClsFlowB, kSalFcW, kSalFcB, kSalFc1W, kSalFc1B, kNumSalParams };

int sal_param_index(const SalConfig& cfg, int role);

// The layout with zeroed buffers, or names and shapes only (with_buffers = false: no 1.2 GB allocation).
ParameterSet sal_parameters(const SalConfig& cfg, bool with_buffers = true);

// The adaptive-mask EMA (μ, V), float64 as the official host floats.
struct SalMaskState {
  double mu = 0.05, var = 1.0;
};

// Activations of a batch [B,T], the backward scratch and the mask state, on the device of `ops`.
struct SalActivations final : Workspace {
  explicit SalActivations(Ops& ops) : ops(&ops) {}
  Ops* ops;
  int B = 0, T = 0;
  Buf<float> x_mix;                                      // [B,T,F] video + previous video
  Buf<float> emb, emb_rgb, emb_flow, emb_rgb_mix, emb_flow_mix;  // [B,T,D] post-ReLU, post-dropout
  Buf<float> emb2;                                       // [B,T,D] emb + s ⊗ a
  Buf<float> logit_rgb, logit_flow, logit_rgb_mix, logit_flow_mix;  // [B,T]
  Buf<float> act_rgb, act_flow, act_rgb_mix, act_flow_mix, act;     // [B,T] sigmoid; fused (1−λ) flow + λ rgb
  Buf<float> gram, gram_rgb, gram_flow;                  // [B,D²]
  Buf<float> v, v_rgb, v_flow, norm, norm_rgb, norm_flow;  // [B,D²] normalised; [B] norms
  Buf<float> s;                                          // [B,D] fc1(v)
  Buf<float> sc, sc_rgb, sc_flow;                        // [B,C] fc(v·)
  Buf<float> cas, cas_bg, combined, combined_bg;         // [B,T,C]
  Buf<float> cas_top, cas_top_bg, video;                 // [B,C]; video = inference logits
  Buf<int> topk_idx, topk_idx_bg;                        // [B,k,C]
  Buf<float> y, y_mix, m, m_mix, conf;                   // [B,T]
  Buf<double> mask_state;                                // {μ, V}
  // backward
  Buf<float> d_emb, d_emb_branch, d_pre, d_cas, d_cas_bg, d_act, d_act_rgb, d_act_flow, d_act_rgb_mix,
      d_act_flow_mix, d_logit, d_cas_top, d_cas_top_bg, d_s, d_sc, d_v, d_gram;
  void reserve(int B, int T, const SalConfig& cfg, bool with_backward);

 private:
  int cap_B_ = 0, cap_T_ = 0;
  bool cap_backward_ = false;
};

// Throws aicl::Error (one line) when T is too short for the top-k sizes or B < 1 (training; inference = true:
// only the MIL top-k, k = T / topk_ratio >= 1).
void check_sal_batch(const SalConfig& cfg, int B, int T, bool inference = false);
// The smallest T whose top-k sizes are all valid (training), and the smallest T inference can score.
int sal_min_segments(const SalConfig& cfg);
int sal_min_infer_segments(const SalConfig& cfg);

// Inference forward (eval mode: no dropout, no mixed branch): cas, combined, cas_top, sc and the fused video
// logits a.video = β·cas_top + (1 − β)·sc.
void sal_infer_forward(Ops& ops, const SalConfig& cfg, const ParamView& p, const float* x, int B, int T,
                       SalActivations& a);
// One training step: gradients ACCUMULATED into p.grads, kNumSalLossSlots raw terms into loss_slots (device).
// The mask state in a.mask_state is updated (EMA first, then the mask). dropout_seed keys the masks (with the
// step); cfg.dropout = 0 turns dropout off.
void sal_forward_backward(Ops& ops, const SalConfig& cfg, const ParamView& p, const StepBatch& batch,
                          SalActivations& a, float* loss_slots);

class SalMethod final : public Method {
 public:
  explicit SalMethod(const SalConfig& cfg);
  const SalConfig& sal_config() const { return cfg_; }
  std::string name() const override { return "sal"; }
  json config() const override;
  const ParameterSet& layout() const override;
  void init_params(ParameterSet& p, unsigned long long seed) const override;
  const std::vector<std::string>& loss_names() const override;
  int num_loss_slots() const override { return kNumSalLossSlots; }
  std::vector<double> losses(const float* slots) const override;
  int min_segments() const override { return sal_min_segments(cfg_); }
  int min_infer_segments() const override { return sal_min_infer_segments(cfg_); }
  void check_batch(const float* labels_host, int B, int T) const override;
  std::unique_ptr<Workspace> make_workspace(Ops& ops) const override;
  void forward_backward(Ops& ops, const ParamView& p, const StepBatch& batch, Workspace& ws,
                        float* loss_slots) override;
  int video_outputs() const override { return cfg_.num_classes; }
  InferScores infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const override;
  void video_scores(const float* raw, float* scores) const override;
  json postprocess_overrides() const override;
  void save_state(H5File& f, const std::string& group) const override;
  void load_state(const H5File& f, const std::string& group) override;
  void pull_state(Workspace& ws) override;
  void parity_step(const std::string& weights, const std::string& batch, const std::string& out) const override;

  const SalMaskState& mask_state() const { return state_; }
  void set_mask_state(const SalMaskState& s) { state_ = s; }

 private:
  SalConfig cfg_;
  SalMaskState state_;
  mutable std::unique_ptr<ParameterSet> layout_;
  mutable bool noted_batch_of_one_ = false;
};

// One step as --parity-step runs it (dropout off), in memory: losses and arrays by the oracle's OUT.h5 names
// (tools/sal_oracle.py), the gradients in params.grads, and the mask state before and after the step's update.
struct SalParityResult {
  int B = 0, T = 0, C = 0;
  std::vector<std::pair<std::string, double>> losses;              // "total", "mil", ... (unweighted terms)
  std::vector<std::pair<std::string, std::vector<float>>> arrays;  // "cas", "debug/y", ...
  SalMaskState state_in, state_out;
  std::vector<int64_t> shape(const std::string& array_name) const;
};
SalParityResult sal_parity_compute(const SalConfig& cfg, ParameterSet& params, const float* x, const float* labels,
                                   int B, int T, const SalMaskState& state);

std::unique_ptr<Method> make_sal_method(const MethodContext& ctx, const json& config, const std::string& source);

}  // namespace aicl
