// The FTCL method (CVPR 2022) on its ACM-Net backbone: hyper-parameters, parameters (official state_dict keys), loss
// terms and the forward/backward composition of the ops for stage A (ACM-Net + in-batch LCS/FSD) and stage B (pairs),
// written once for every device (../shared/specs/ftcl.md; docs/ftcl.md).
#pragma once
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/method.h"
#include "core/runtime/parameters.h"
#include "kernels/ops.h"

namespace aicl {

// Hyper-parameters: the official THUMOS14 values (config/model_config.py, utils/*criterion.py; spec 1-3).
struct FtclConfig {
  std::string stage = "a";  // "a": ACMNet + ACMLoss (in-batch pairs); "b": FTCL pairs + FTCLLoss
  // "thumos14" or "activitynet" (the config's ActivityNet block, spec 1.1-1.3 and 4.4): dropout also on the input
  // (the conv becomes feature_embedding.1.*) and on the attention branch's input, top-k dividers 2/10/10, loss
  // weights (5e-3, 5e-5, 0), and ACM-Net's ActivityNet test post-processing.
  std::string variant = "thumos14";
  int feature_dim = 2048;   // the joint I3D feature, also the embedding width (conv k=3, D -> D)
  int num_classes = 20;     // K actions; the classifier has K + 1 outputs (background last)
  int fc_dim = 1024;        // feature_trans width; FSD's match and gap scores use its two halves
  double dropout = 0.7;     // snippet dropout, then element dropout, before the classifier (training only)
  int ins_topk_seg = 8, con_topk_seg = 3, bak_topk_seg = 3;  // k_b = max(T / seg_b, 1)
  int lcs_len = 30, fsd_len = 5;  // candidates: instance-attention ranks 1..30 (LCS), 1..5 and 6..10 (FSD)
  double thres = 0.92;      // LCS match threshold (compared as 0.92f)
  double fsd_gamma = 0.1;   // FSD soft max temperature
  double feat_margin = 50;
  double lamb_guide = 2e-3, lamb_feat = 5e-5, lamb_sparse = 2e-4;  // loss_lamb_1..3
  double lamb_lcs = 0.1, lamb_fsd = 0.8;
  double cls_eps = -1;      // log(p + eps) of cls_criterion; < 0: the stage's (a: 1e-45, b: 1e-10; quirk Q7)
  bool use_lcs = true, use_fsd = true;  // --without_lcs / --without_fsd
  int classes() const { return num_classes + 1; }
  int k_ins(int T) const { return std::max(T / ins_topk_seg, 1); }
  int k_con(int T) const { return std::max(T / con_topk_seg, 1); }
  int k_bak(int T) const { return std::max(T / bak_topk_seg, 1); }
  double eps() const { return cls_eps >= 0 ? cls_eps : stage == "a" ? 1e-45 : 1e-10; }
  bool stage_b() const { return stage == "b"; }
  bool activitynet() const { return variant == "activitynet"; }
};

// The ActivityNet block's defaults (model/ACMNet.py's non-THUMOS branch, config/model_config.py "ActivityNet").
FtclConfig ftcl_activitynet_config();

// Raw loss slots (floats). The six ACM terms of side 0 (stage A: the batch; stage B: the first videos of the
// pairs), the same of side 1 (stage B only), then the two contrasts (unweighted).
enum FtclLossSlot { kFtclClsIns, kFtclClsCon, kFtclClsBak, kFtclGuide, kFtclFeat, kFtclSparse, kFtclAcmTerms,
                    kFtclLcs = 2 * kFtclAcmTerms, kFtclFsd, kNumFtclLossSlots };

// The reported terms: the ACM terms (stage B: the mean of the two sides), the contrasts, and the weighted total
// L_ACM + λ_lcs·lcs + λ_fsd·fsd with L_ACM = cls_ins + cls_con + cls_bak + λ_g·guide + λ_f·feat + λ_s·sparse.
struct FtclLosses {
  double total = 0, cls_ins = 0, cls_con = 0, cls_bak = 0, guide = 0, feat = 0, sparse = 0, lcs = 0, fsd = 0;
};
FtclLosses ftcl_losses_from_slots(const float* slots, const FtclConfig& cfg);

// Parameter indices (the ACMNet state_dict order).
enum FtclParam { kFtclEmbW, kFtclEmbB, kFtclAttW, kFtclAttB, kFtclClsW, kFtclClsB, kFtclTransW, kFtclTransB,
                 kNumFtclParams };

// The layout with zeroed buffers, or names and shapes only.
ParameterSet ftcl_parameters(const FtclConfig& cfg, bool with_buffers = true);

// The contrast pairs of a step, as video indices of the batch. Stage A: positives and sampled negatives inside the
// batch (i < j); stage B: pair p is (p, P + p), positive when the two label vectors share a class.
struct FtclPairs {
  std::vector<std::array<int, 2>> pos, neg;
};

// Stage A's pairs from the labels [B, K] (generate_pairs): positive when both videos have the same single class,
// negative when they share none; the negatives sampled without replacement down to the positives' count (with
// fewer negatives than positives the official random.sample fails; here all negatives are kept).
FtclPairs ftcl_stage_a_pairs(const float* labels, int B, int K, Rng& rng);
// Stage B's pairs of a batch of 2P videos (first videos, then their partners).
FtclPairs ftcl_stage_b_pairs(const float* labels, int B, int K);
// Stage B's epoch (FTCLDataset, spec 2.1): over i < j of the training videos in split order, the positives (equal
// label vectors) and as many negatives (no shared class) drawn without replacement, negatives first; each pair as
// (i, j). Throws aicl::Error when no two videos have equal labels.
std::vector<std::array<size_t, 2>> ftcl_stage_b_epoch(const std::vector<const float*>& labels, int K, Rng& rng);

// Activations of a batch [B,T] and the backward scratch, on the device of `ops`.
struct FtclActivations final : Workspace {
  explicit FtclActivations(Ops& ops) : ops(&ops) {}
  Ops* ops;
  int B = 0, T = 0;
  Buf<float> emb;                  // [B,T,D] E = ReLU(conv3(x)) (never dropped: features and candidates read it)
  Buf<float> emb_drop;             // [B,T,D] the doubly dropped E (training with dropout); later backward scratch
  Buf<float> x_drop, emb_att;      // ActivityNet training: the dropped input [B,T,D] and the dropped E [B,T,D]
                                   // the attention branch reads
  Buf<float> att_logit, att;       // [B,T,3] and its softmax (instance, context, background)
  Buf<float> logits;               // [B,T,K+1] snippet_cls(E_dropped)
  Buf<float> branch_logits;        // [3,B,T,K+1] logits·a_b
  Buf<float> combined;             // [B,T,K+1] scratch of the top-k op
  Buf<float> video;                // [3,B,K+1] mean of the top-k_b branch logits
  Buf<int> topk_ins, topk_con, topk_bak;  // [B,k_b,K+1]
  Buf<float> cas;                  // [B,T,K+1] softmax of the instance-branch logits (P_ins)
  Buf<int> feat_idx;               // [3,B,k_max] attention-top-k_b time indices (rank order)
  Buf<float> feat;                 // [3,B,D] mean features (sides contiguous: [side][3][Bs][D])
  Buf<int> lcs_idx, fsd_idx;       // [B,30], [B,10] (each group in time order)
  Buf<float> lcs_x, fsd_raw, fsd_x;  // [B,30,D], [B,10,D], [B,10,fc]
  Buf<int> pair_idx;               // [5,P]: lcs ra, lcs rb, fsd ra, fsd rb, positive flag
  Buf<float> S, m, g, lcs_val, fsd_val;  // [P,30,30], [P,5,5] x2, [P] x2
  // backward
  Buf<float> d_emb, d_att_logit, d_att, d_logits, d_branch, d_cas, d_video, d_feat;
  Buf<float> d_lcs_x, d_fsd_raw, d_fsd_x, dS, dm, dg, d_lcs_val, d_fsd_val;
  int P = 0, n_pos = 0;            // the step's pairs (uploaded by the step)
  void reserve(int B, int T, const FtclConfig& cfg, bool with_backward);

 private:
  int cap_B_ = 0, cap_T_ = 0;
  bool cap_backward_ = false;
};

// Throws aicl::Error (one line) when T is too short for the candidate sets or B is unusable for the stage.
void check_ftcl_batch(const FtclConfig& cfg, int B, int T, bool inference = false);
int ftcl_min_segments(const FtclConfig& cfg);

// Eval-mode forward (no dropout): video [B,K+1] = the instance branch's top-k mean logits, cas = P_ins.
void ftcl_infer_forward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const float* x, int B, int T,
                        FtclActivations& a);
// One training step: gradients ACCUMULATED into p.grads, kNumFtclLossSlots raw terms into loss_slots (device).
// pairs: the step's contrast pairs (null: formed from batch.labels_host, stage A sampling keyed by seed and step).
void ftcl_forward_backward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const StepBatch& batch,
                           FtclActivations& a, float* loss_slots, const FtclPairs* pairs = nullptr);

class FtclMethod final : public Method {
 public:
  explicit FtclMethod(const FtclConfig& cfg) : cfg_(cfg) {}
  const FtclConfig& ftcl_config() const { return cfg_; }
  std::string name() const override { return "ftcl"; }
  json config() const override;
  const ParameterSet& layout() const override;
  const std::vector<std::string>& loss_names() const override;
  int num_loss_slots() const override { return kNumFtclLossSlots; }
  std::vector<double> losses(const float* slots) const override;
  int min_segments() const override { return ftcl_min_segments(cfg_); }
  int min_infer_segments() const override { return 2; }
  void check_batch(const float* labels_host, int B, int T) const override;
  std::vector<std::vector<size_t>> training_units(const std::vector<size_t>& videos,
                                                  const std::vector<const float*>& labels, int num_classes,
                                                  Rng& rng) const override;
  void form_batch(std::vector<size_t>& videos, Rng& rng) const override;
  bool frozen_sampling() const override { return cfg_.stage_b(); }
  json default_stages() const override;
  bool skips_nonfinite_steps() const override { return true; }  // the official `if not torch.isnan(loss)` (Q14)
  std::unique_ptr<Workspace> make_workspace(Ops& ops) const override;
  void forward_backward(Ops& ops, const ParamView& p, const StepBatch& batch, Workspace& ws,
                        float* loss_slots) override;
  int video_outputs() const override { return cfg_.classes(); }
  InferScores infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const override;
  void video_scores(const float* raw, float* scores) const override;
  json postprocess_overrides() const override;
  void parity_step(const std::string& weights, const std::string& batch, const std::string& out) const override;

 private:
  FtclConfig cfg_;
  mutable std::unique_ptr<ParameterSet> layout_;
};

// One step as --parity-step runs it (dropout off), in memory: losses by the oracle's names (tools/ftcl_oracle.py),
// the gradients in params.grads (zero when the total is NaN: the official step skips it), and the CAS [B,T,K+1]
// (stage B: side 0's, B = P).
struct FtclParityResult {
  int B = 0, T = 0, C = 0;
  bool skipped_nan = false;
  std::vector<std::pair<std::string, double>> losses;  // "total", "cls_ins", ... (unweighted terms)
  std::vector<float> cas;
};
FtclParityResult ftcl_parity_compute(const FtclConfig& cfg, ParameterSet& params, const float* x, const float* labels,
                                     int B, int T, const FtclPairs* pairs);

std::unique_ptr<Method> make_ftcl_method(const MethodContext& ctx, const json& config, const std::string& source);

}  // namespace aicl
