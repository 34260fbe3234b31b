// AICL on the GPU: device-resident parameters, gradients and optimizer moments, and the forward/backward composed
// of the kernels/*.cuda.h ops in the same order as the CPU AiclModel (core/aicl_model.cpp).
#pragma once
#include <vector>

#include <cuda_runtime_api.h>

#include "core/methods/aicl/aicl_model.h"
#include "core/eval/localize.h"
#include "kernels/cuda_common.h"

namespace aicl {

class Dataset;
class DeviceDataset;

// The raw loss terms forward_backward writes to device memory (floats, in this order).
enum AiclLossTerm {
  kLossAction,
  kLossAgnosticFlow,
  kLossAgnosticRgb,
  kLossModality,
  kLossConsistency,
  kLossContrastFused,
  kLossContrastRgb,
  kLossContrastFlow,
  kNumLossTerms
};

// One step's AiclLosses from its kNumLossTerms terms (host copy): the sums and the weighted total are formed in
// double exactly as AiclModel::forward_backward forms them from its float terms.
AiclLosses aicl_losses_from_terms(const float* terms, const AiclConfig& cfg);

// Device activations of a batch [B,T] (the names of AiclActivations) and the backward scratch.
struct AiclActivationsCuda {
  int B = 0, T = 0;  // the batch of the last forward
  DeviceBuffer<float> emb, emb_rgb, emb_flow, cas, logit_rgb, logit_flow, action_rgb, action_flow,
      actionness_aware, actionness_agnostic, combined, cas_top, pseudo_label;
  DeviceBuffer<int> topk_idx, idx_ca, idx_cb, idx_ia, idx_ib;
  DeviceBuffer<float> d_emb, d_emb_rgb, d_emb_flow, d_cas, d_logit_rgb, d_logit_flow, d_action_rgb, d_action_flow,
      d_aware, d_agnostic, d_cas_top;
  // Makes room for [B,T] (the layouts are [B,...], so a smaller B uses a prefix): reallocates only when T changes
  // or B exceeds the capacity. Sets B and T. Reallocating waits for the device first (queued work may use the
  // old buffers).
  void reserve(int B, int T, const AiclConfig& cfg, bool with_backward);

 private:
  int cap_B_ = 0, cap_T_ = 0;
  bool cap_backward_ = false;
};

// The GPU model. All device work is queued on the stream given at construction; nothing synchronises except the
// download_* functions.
class AiclModelCuda {
 public:
  // Device buffers for the parameters, gradients and the two optimizer moments (zeros), laid out exactly as the
  // ParameterSet of AiclModel(cfg) (the same tensor offsets), so whole buffers move between host and device.
  AiclModelCuda(const AiclConfig& cfg, cudaStream_t stream);

  const AiclConfig& config() const { return cfg_; }
  cudaStream_t stream() const { return stream_; }
  const ParameterSet& layout() const { return layout_.params(); }  // tensor names, shapes, offsets
  std::size_t num_params() const { return params_.size(); }
  float* params() { return params_.data(); }
  float* grads() { return grads_.data(); }
  const float* grads() const { return grads_.data(); }
  const float* value(int tensor) const { return params_.data() + layout().tensor(tensor).offset; }
  float* grad(int tensor) { return grads_.data() + layout().tensor(tensor).offset; }

  // Host <-> device copies of the whole buffers. Uploads are queued; downloads wait for the stream.
  void upload_params(const ParameterSet& host);
  void download_params(ParameterSet& host) const;
  void download_grads(ParameterSet& host) const;
  void upload_moments(const std::vector<float>& m, const std::vector<float>& v);
  void download_moments(std::vector<float>& m, std::vector<float>& v) const;

  void zero_grad();

  // Inference forward on DEVICE features x [B,T,feature_dim] (AiclModel::forward): fills act up to cas_top,
  // topk_idx and combined. Throws aicl::Error for T < snippet_ratio or B < 1 (host checks only).
  void forward(const float* x, int B, int T, AiclActivationsCuda& act) const;

  // One training step's forward and backward (AiclModel::forward_backward) on DEVICE features and labels [B,C]:
  // the gradients of the total loss are ACCUMULATED into grads() (zero them first) and the kNumLossTerms raw
  // loss terms are written to the DEVICE array loss_terms. Nothing is read back. Unlike the CPU model, a video
  // without labels cannot be rejected here (the labels are on the device): the caller checks the host labels
  // (check_aicl_labels); such a video gives a NaN loss.
  void forward_backward(const float* x, const float* labels, int B, int T, AiclActivationsCuda& act,
                        float* loss_terms);

  // Optimizer updates of the single parameter buffer from grads() with the device moments (adam_step_cuda /
  // sgd_step_cuda: bit-identical to the CPU adam_step / sgd_step on the same inputs). step is 1-based.
  void adam_step(double lr, double beta1, double beta2, double eps, double weight_decay, long step);
  void sgd_step(double lr, double momentum, double weight_decay, long step);

 private:
  AiclConfig cfg_;
  cudaStream_t stream_;
  AiclModel layout_;  // host twin used for its parameter layout only
  DeviceBuffer<float> params_, grads_, m_, v_;
};

// Throws aicl::Error naming the batch position of a video whose labels [B,C] (host) are all zero.
void check_aicl_labels(const float* labels, int B, int C);

// GPU inference as localize_videos (the same sampling, chunks and host post-processing). Features come from the
// device table `features` when given (row offsets per dataset video), else from the dataset file.
// act is reused between calls.
LocalizeResult localize_videos_cuda(const AiclModelCuda& model, AiclActivationsCuda& act, const Dataset& ds,
                                    const std::vector<size_t>& videos, const DeviceDataset* features, int T,
                                    const PostprocessConfig& cfg);

// Convenience for aicl_eval --device cuda: host weights in, detections out (features read from the file).
LocalizeResult localize_videos_cuda(const ParameterSet& weights, const AiclConfig& cfg, const Dataset& ds,
                                    const std::vector<size_t>& videos, int T, const PostprocessConfig& pcfg);

}  // namespace aicl
