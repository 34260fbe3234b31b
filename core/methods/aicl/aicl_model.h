// The AICL method (AAAI 2023): its parameters, and the forward/backward composition of the ops in kernels/.
#pragma once
#include <string>
#include <vector>

#include "core/runtime/parameters.h"

namespace aicl {

// Hyper-parameters with the official code's defaults.
struct AiclConfig {
  int feature_dim = 2048;  // RGB (first half) + flow (second half)
  int num_classes = 20;
  int embed_dim = 512;
  int topk_ratio = 8;      // MIL top-k: k = T / 8
  int snippet_ratio = 20;  // consistent / inconsistent snippets: k_C = k_I = T / 20
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

// Forward activations (and the backward scratch), sized for a batch [B, T].
struct AiclActivations {
  int B = 0, T = 0;
  std::vector<float> emb, emb_rgb, emb_flow;          // [B,T,512] post-ReLU embeddings
  std::vector<float> cas;                             // [B,T,C]
  std::vector<float> logit_rgb, logit_flow;           // [B,T]
  std::vector<float> action_rgb, action_flow;         // [B,T] sigmoid
  std::vector<float> actionness_aware;                // [B,T] sigmoid(sum_c cas)       (actionness1)
  std::vector<float> actionness_agnostic;             // [B,T] (flow + rgb) / 2         (actionness2)
  std::vector<float> combined;                        // [B,T,C] (softmax(cas) + flow + rgb) / 3
  std::vector<float> cas_top;                         // [B,C] mean raw cas over the top-k
  std::vector<int> topk_idx;                          // [B,k,C]
  std::vector<float> pseudo_label;                    // [B,T]
  std::vector<int> idx_ca, idx_cb, idx_ia, idx_ib;    // [B,k_C] snippet indices
  // Gradients w.r.t. activations (backward scratch).
  std::vector<float> d_emb, d_emb_rgb, d_emb_flow, d_cas, d_logit_rgb, d_logit_flow;
  std::vector<float> d_action_rgb, d_action_flow, d_aware, d_agnostic, d_cas_top;
  void resize(int B, int T, const AiclConfig& cfg);
};

class AiclModel {
 public:
  explicit AiclModel(const AiclConfig& cfg = AiclConfig());

  const AiclConfig& config() const { return cfg_; }
  ParameterSet& params() { return params_; }
  const ParameterSet& params() const { return params_; }

  // Inference forward on features [B,T,feature_dim]: everything up to the MIL scores and the combined CAS.
  void forward(const float* features, int B, int T, AiclActivations& act) const;

  // One training step's forward and backward: losses, and the gradients of the total loss accumulated into
  // params().grads (zero them first). labels: [B,C] multi-hot. Throws aicl::Error for T < snippet_ratio
  // (k would be 0) and for a video without any label.
  AiclLosses forward_backward(const float* features, const float* labels, int B, int T, AiclActivations& act);

  // Parameter indices (official state_dict order).
  enum Param { kBaseW, kBaseB, kClsW, kClsB, kRgbW, kRgbB, kClsRgbW, kClsRgbB, kFlowW, kFlowB, kClsFlowW,
               kClsFlowB, kNumParams };

 private:
  AiclConfig cfg_;
  ParameterSet params_;
};

// Checks the batch shape against the config; message names what is wrong.
void check_aicl_batch(const AiclConfig& cfg, int B, int T);

}  // namespace aicl
