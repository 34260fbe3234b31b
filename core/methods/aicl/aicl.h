// The AICL method (AAAI 2023): hyper-parameters, parameters, loss terms and the forward/backward composition of the
// ops, written once against the op table (CPU and CUDA run the same code).
#pragma once
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/method.h"
#include "core/runtime/parameters.h"
#include "kernels/ops.h"

namespace aicl {

// Hyper-parameters with the official code's defaults (feature_dim, rgb_dim and num_classes come from the dataset).
struct AiclConfig {
  int feature_dim = 2048;  // RGB (first rgb_dim columns) + flow (the rest)
  int rgb_dim = 1024;
  int num_classes = 20;
  // "thumos14" (the official code) | "activitynet" (the supplement's ActivityNet settings; no official code exists:
  // docs/aicl.md, "ActivityNet"). Picked from the dataset profile unless the config names it.
  std::string variant = "thumos14";
  int embed_dim = 512;
  int topk_ratio = 8;      // MIL top-k: k = T / 8
  int snippet_ratio = 20;  // consistent / inconsistent snippets: k_C = k_I = T / 20
  // The instance-selection score (the supplement's "γ for the Ascore"): γ·softmax(cas) + (1-γ)/2·(rgb + flow).
  // 1/3 is the official (softmax(cas) + flow + rgb) / 3, computed in that order.
  double select_cas_weight = 1.0 / 3.0;
  bool equal_thirds() const { return select_cas_weight == 1.0 / 3.0; }
  double gce_q = 0.7;
  double nce_tau = 0.1;
  double w_modality = 5.0, w_contrast = 0.01, w_consistency = 0.1;
};

// Every loss term of one step (the values the official code computes, unweighted).
struct AiclLosses {
  double total = 0;
  double action = 0;                        // video-level CE on the top-k MIL score
  double agnostic = 0, agnostic_flow = 0, agnostic_rgb = 0;  // GCE on the stream actionness
  double modality = 0;                      // MSE between the two stream actionness curves
  double contrast = 0, contrast_fused = 0, contrast_rgb = 0, contrast_flow = 0;  // InfoNCE sums
  double consistency = 0;                   // MSE between class-aware and class-agnostic actionness
};

// The raw loss slots a step writes (floats, in this order).
enum AiclLossSlot {
  kLossAction,
  kLossAgnosticFlow,
  kLossAgnosticRgb,
  kLossModality,
  kLossConsistency,
  kLossContrastFused,
  kLossContrastRgb,
  kLossContrastFlow,
  kNumAiclLossSlots
};

// The sums and the weighted total formed in double from the float slots (the official sum order).
AiclLosses aicl_losses_from_slots(const float* slots, const AiclConfig& cfg);

// Parameter indices (official state_dict order).
enum AiclParam { kBaseW, kBaseB, kClsW, kClsB, kRgbW, kRgbB, kClsRgbW, kClsRgbB, kFlowW, kFlowB, kClsFlowW,
                 kClsFlowB, kNumAiclParams };

// The parameter layout of AICL for cfg (official names, shapes and fan-ins), values zero.
ParameterSet aicl_parameters(const AiclConfig& cfg);

// Activations of a batch [B,T] and the backward scratch, on the device of `ops`.
struct AiclActivations final : Workspace {
  explicit AiclActivations(Ops& ops = cpu_ops()) : ops(&ops) {}
  Ops* ops;
  int B = 0, T = 0;  // the batch of the last forward
  Buf<float> emb, emb_rgb, emb_flow;           // [B,T,D] post-ReLU embeddings
  Buf<float> cas, combined;                    // [B,T,C] raw CAS; (softmax(cas) + flow + rgb) / 3
  Buf<float> logit_rgb, logit_flow, action_rgb, action_flow;  // [B,T]
  Buf<float> actionness_aware, actionness_agnostic;           // [B,T] sigmoid(sum_c cas); (flow + rgb) / 2
  Buf<float> cas_top;                          // [B,C] mean raw cas over the top-k
  Buf<int> topk_idx;                           // [B,k,C]
  Buf<float> pseudo_label;                     // [B,T]
  Buf<int> idx_ca, idx_cb, idx_ia, idx_ib;     // [B,k_C]
  Buf<float> d_emb, d_emb_rgb, d_emb_flow, d_cas, d_logit_rgb, d_logit_flow, d_action_rgb, d_action_flow, d_aware,
      d_agnostic, d_cas_top;
  // Room for [B,T] ([B,...] layouts: a smaller B uses a prefix). Reallocates only for a new T or a larger B
  // (waiting for queued work first). Sets B and T.
  void reserve(int B, int T, const AiclConfig& cfg, bool with_backward);

 private:
  int cap_B_ = 0, cap_T_ = 0;
  bool cap_backward_ = false;
};

// Throws aicl::Error for B < 1 or T < snippet_ratio (k_C would be 0).
void check_aicl_batch(const AiclConfig& cfg, int B, int T);
// Throws aicl::Error naming the batch position of a video whose labels [B,C] (host) are all zero.
void check_aicl_labels(const float* labels, int B, int C);

// The composition, once for every device. forward: up to cas_top, topk_idx and combined.
void aicl_forward(Ops& ops, const AiclConfig& cfg, const ParamView& p, const float* x, int B, int T,
                  AiclActivations& a);
// forward_backward: gradients ACCUMULATED into p.grads, the kNumAiclLossSlots raw terms into loss_slots (device).
void aicl_forward_backward(Ops& ops, const AiclConfig& cfg, const ParamView& p, const float* x,
                           const float* labels, int B, int T, AiclActivations& a, float* loss_slots);

// The ActivityNet settings of the AICL supplement (v13: ActivityNet 1.3's 1024-wide embedding, else 1.2's 512).
AiclConfig aicl_activitynet_config(bool v13);

// The method as the trainer, backends and inference see it.
class AiclMethod final : public Method {
 public:
  explicit AiclMethod(const AiclConfig& cfg);
  const AiclConfig& aicl_config() const { return cfg_; }
  std::string name() const override { return "aicl"; }
  json config() const override;
  const ParameterSet& layout() const override;
  const std::vector<std::string>& loss_names() const override;
  int num_loss_slots() const override { return kNumAiclLossSlots; }
  std::vector<double> losses(const float* slots) const override;
  int min_segments() const override { return std::max(cfg_.topk_ratio, cfg_.snippet_ratio); }
  int min_infer_segments() const override { return cfg_.topk_ratio; }  // inference needs the MIL top-k only
  void check_batch(const float* labels_host, int B, int T) const override;
  std::unique_ptr<Workspace> make_workspace(Ops& ops) const override;
  void forward_backward(Ops& ops, const ParamView& p, const StepBatch& batch, Workspace& ws,
                        float* loss_slots) override;
  int video_outputs() const override { return cfg_.num_classes; }
  InferScores infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const override;
  void video_scores(const float* raw, float* scores) const override;
  void parity_step(const std::string& weights, const std::string& batch, const std::string& out) const override;

 private:
  AiclConfig cfg_;
  mutable std::unique_ptr<ParameterSet> layout_;  // built on first use (the CLIs' flag checks never need it)
};

// The registry's factory: hyper-parameters from `config` (keys of AiclMethod::config(); unknown keys are errors
// naming `source`), dimensions from the context (two streams).
std::unique_ptr<Method> make_aicl_method(const MethodContext& ctx, const json& config, const std::string& source);

// A host-side AICL model on the CPU op table (tests, benchmarks, the parity step): its own ParameterSet.
class AiclModel {
 public:
  explicit AiclModel(const AiclConfig& cfg = AiclConfig());
  const AiclConfig& config() const { return cfg_; }
  ParameterSet& params() { return params_; }
  const ParameterSet& params() const { return params_; }
  void forward(const float* x, int B, int T, AiclActivations& act) const;
  // Forward and backward; gradients accumulated into params().grads (zero them first). Checks the batch and labels.
  AiclLosses forward_backward(const float* x, const float* labels, int B, int T, AiclActivations& act);

 private:
  AiclConfig cfg_;
  ParameterSet params_;
};

}  // namespace aicl
