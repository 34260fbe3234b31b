// AICL on the GPU: device-resident parameters, gradients and optimizer moments, and the forward/backward composed
// of the kernels/*.cuda.h ops in the same order as the CPU AiclModel (core/aicl_model.cpp); the CUDA TrainBackend.
#include "core/methods/aicl/aicl_model_cuda.h"

#include <algorithm>
#include <string>

#include "core/runtime/device_dataset_cuda.h"
#include "core/base/error.h"
#include "core/runtime/train_backend.h"
#include "data/dataset.h"
#include "kernels/actionness.cuda.h"
#include "kernels/adam.cuda.h"
#include "kernels/ce_loss.cuda.h"
#include "kernels/conv1d_k1.cuda.h"
#include "kernels/conv1d_k3.cuda.h"
#include "kernels/gce_loss.cuda.h"
#include "kernels/infonce.cuda.h"
#include "kernels/mse_loss.cuda.h"
#include "kernels/snippet_select.cuda.h"
#include "kernels/topk_mil.cuda.h"

namespace aicl {

namespace {

// actionness_agnostic = (flow + rgb) / 2, rounded as the CPU's float expression (no contraction possible).
__global__ void stream_mean_kernel(float* __restrict__ out, const float* __restrict__ flow,
                                   const float* __restrict__ rgb, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = __fdiv_rn(__fadd_rn(flow[i], rgb[i]), 2.0f);
}

// Backward of the mean: d_flow += 0.5 d_mean, d_rgb += 0.5 d_mean (the CPU's order and rounding).
__global__ void stream_mean_backward_kernel(float* __restrict__ dflow, float* __restrict__ drgb,
                                            const float* __restrict__ dmean, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const float h = __fmul_rn(0.5f, dmean[i]);
    dflow[i] = __fadd_rn(dflow[i], h);
    drgb[i] = __fadd_rn(drgb[i], h);
  }
}

void stream_mean_forward_cuda(float* out, const float* flow, const float* rgb, size_t n, cudaStream_t s) {
  if (n == 0) return;
  stream_mean_kernel<<<cuda_blocks_for(n, 256), 256, 0, s>>>(out, flow, rgb, n);
  AICL_CUDA_CHECK_LAUNCH();
}

void stream_mean_backward_cuda(float* dflow, float* drgb, const float* dmean, size_t n, cudaStream_t s) {
  if (n == 0) return;
  stream_mean_backward_kernel<<<cuda_blocks_for(n, 256), 256, 0, s>>>(dflow, drgb, dmean, n);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace

AiclLosses aicl_losses_from_terms(const float* t, const AiclConfig& cfg) {
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
  L.total = L.action + L.agnostic + cfg.w_modality * L.modality + cfg.w_contrast * L.contrast +
            cfg.w_consistency * L.consistency;
  return L;
}

void check_aicl_labels(const float* labels, int B, int C) {
  for (int b = 0; b < B; ++b) {
    bool any = false;
    for (int c = 0; c < C; ++c) any = any || labels[static_cast<size_t>(b) * C + c] != 0.0f;
    if (!any) fail("video " + std::to_string(b) + " of the batch has no label (the CE label normalisation divides by 0)");
  }
}

void AiclActivationsCuda::reserve(int B_, int T_, const AiclConfig& cfg, bool with_backward) {
  if (T_ != cap_T_ || B_ > cap_B_ || (with_backward && !cap_backward_)) {
    // The old buffers may still be in use by queued work: wait for it before freeing them (rare: first use, or a
    // new T or a larger B).
    if (cap_T_ != 0) AICL_CUDA_CHECK(cudaDeviceSynchronize());
    const size_t n = static_cast<size_t>(B_) * T_, D = cfg.embed_dim, C = cfg.num_classes;
    const size_t k = T_ / cfg.topk_ratio, ks = T_ / cfg.snippet_ratio, Bs = B_;
    auto f = [](size_t count) { return DeviceBuffer<float>(count); };
    auto i = [](size_t count) { return DeviceBuffer<int>(count); };
    emb = f(n * D), emb_rgb = f(n * D), emb_flow = f(n * D);
    cas = f(n * C), combined = f(n * C);
    logit_rgb = f(n), logit_flow = f(n), action_rgb = f(n), action_flow = f(n);
    actionness_aware = f(n), actionness_agnostic = f(n);
    cas_top = f(Bs * C);
    topk_idx = i(Bs * k * C);
    if (with_backward) {
      pseudo_label = f(n);
      idx_ca = i(Bs * ks), idx_cb = i(Bs * ks), idx_ia = i(Bs * ks), idx_ib = i(Bs * ks);
      d_emb = f(n * D), d_emb_rgb = f(n * D), d_emb_flow = f(n * D);
      d_cas = f(n * C);
      d_logit_rgb = f(n), d_logit_flow = f(n), d_action_rgb = f(n), d_action_flow = f(n);
      d_aware = f(n), d_agnostic = f(n);
      d_cas_top = f(Bs * C);
    } else {
      for (auto* b : {&pseudo_label, &d_emb, &d_emb_rgb, &d_emb_flow, &d_cas, &d_logit_rgb, &d_logit_flow,
                      &d_action_rgb, &d_action_flow, &d_aware, &d_agnostic, &d_cas_top})
        *b = DeviceBuffer<float>();
      for (auto* b : {&idx_ca, &idx_cb, &idx_ia, &idx_ib}) *b = DeviceBuffer<int>();
    }
    cap_B_ = B_;
    cap_T_ = T_;
    cap_backward_ = with_backward;
  }
  B = B_;
  T = T_;
}

AiclModelCuda::AiclModelCuda(const AiclConfig& cfg, cudaStream_t stream)
    : cfg_(cfg), stream_(stream), layout_(cfg) {
  const size_t n = layout_.params().size();
  params_ = DeviceBuffer<float>(n);
  grads_ = DeviceBuffer<float>(n);
  m_ = DeviceBuffer<float>(n);
  v_ = DeviceBuffer<float>(n);
  for (auto* b : {&params_, &grads_, &m_, &v_}) b->zero(stream_);
}

namespace {
void check_same_layout(const ParameterSet& a, const ParameterSet& b, const char* what) {
  bool same = a.size() == b.size() && a.tensors().size() == b.tensors().size();
  for (size_t t = 0; same && t < a.tensors().size(); ++t)
    same = a.tensor(static_cast<int>(t)).offset == b.tensor(static_cast<int>(t)).offset &&
           a.tensor(static_cast<int>(t)).numel == b.tensor(static_cast<int>(t)).numel;
  if (!same) fail(std::string(what) + ": the host parameters do not have the GPU model's layout");
}
}  // namespace

// Uploads come from caller-owned pageable memory; they are rare (setup, best weights), so they simply wait.
void AiclModelCuda::upload_params(const ParameterSet& host) {
  check_same_layout(host, layout(), "AiclModelCuda::upload_params");
  params_.upload(host.values.data(), host.values.size(), stream_);
  AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void AiclModelCuda::download_params(ParameterSet& host) const {
  check_same_layout(host, layout(), "AiclModelCuda::download_params");
  params_.download(host.values.data(), host.values.size(), stream_);
  AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void AiclModelCuda::download_grads(ParameterSet& host) const {
  check_same_layout(host, layout(), "AiclModelCuda::download_grads");
  grads_.download(host.grads.data(), host.grads.size(), stream_);
  AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void AiclModelCuda::upload_moments(const std::vector<float>& m, const std::vector<float>& v) {
  AICL_CHECK(m.size() == num_params() && v.size() == num_params(), "AiclModelCuda::upload_moments: wrong size");
  m_.upload(m.data(), m.size(), stream_);
  v_.upload(v.data(), v.size(), stream_);
  AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void AiclModelCuda::download_moments(std::vector<float>& m, std::vector<float>& v) const {
  m.resize(num_params());
  v.resize(num_params());
  m_.download(m.data(), m.size(), stream_);
  v_.download(v.data(), v.size(), stream_);
  AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void AiclModelCuda::zero_grad() { grads_.zero(stream_); }

void AiclModelCuda::forward(const float* x, int B, int T, AiclActivationsCuda& a) const {
  check_aicl_batch(cfg_, B, T);
  a.reserve(B, T, cfg_, false);
  const int F = cfg_.feature_dim, H = F / 2, D = cfg_.embed_dim, C = cfg_.num_classes;
  const int N = B * T;
  cudaStream_t s = stream_;
  // Stream embeddings and their actionness heads: RGB is the first half of each feature row, flow the second.
  conv1d_k3_forward_cuda(a.emb_flow.data(), x + H, F, value(AiclModel::kFlowW), value(AiclModel::kFlowB), B, T, H,
                         D, true, s);
  conv1d_k3_forward_cuda(a.emb_rgb.data(), x, F, value(AiclModel::kRgbW), value(AiclModel::kRgbB), B, T, H, D, true,
                         s);
  conv1d_k1_forward_cuda(a.logit_flow.data(), a.emb_flow.data(), value(AiclModel::kClsFlowW),
                         value(AiclModel::kClsFlowB), N, D, 1, s);
  conv1d_k1_forward_cuda(a.logit_rgb.data(), a.emb_rgb.data(), value(AiclModel::kClsRgbW),
                         value(AiclModel::kClsRgbB), N, D, 1, s);
  sigmoid_forward_cuda(a.action_flow.data(), a.logit_flow.data(), static_cast<size_t>(N), s);
  sigmoid_forward_cuda(a.action_rgb.data(), a.logit_rgb.data(), static_cast<size_t>(N), s);
  // Fused embedding and the class activation sequence.
  conv1d_k3_forward_cuda(a.emb.data(), x, F, value(AiclModel::kBaseW), value(AiclModel::kBaseB), B, T, F, D, true,
                         s);
  conv1d_k1_forward_cuda(a.cas.data(), a.emb.data(), value(AiclModel::kClsW), value(AiclModel::kClsB), N, D, C, s);
  class_aware_actionness_forward_cuda(a.actionness_aware.data(), a.cas.data(), N, C, s);
  stream_mean_forward_cuda(a.actionness_agnostic.data(), a.action_flow.data(), a.action_rgb.data(),
                           static_cast<size_t>(N), s);
  // Top-k MIL video scores over the combined CAS.
  topk_mil_forward_cuda(a.cas_top.data(), a.topk_idx.data(), a.combined.data(), a.cas.data(), a.action_flow.data(),
                        a.action_rgb.data(), B, T, C, T / cfg_.topk_ratio, s);
}

void AiclModelCuda::forward_backward(const float* x, const float* labels, int B, int T, AiclActivationsCuda& a,
                                     float* loss) {
  check_aicl_batch(cfg_, B, T);
  a.reserve(B, T, cfg_, true);
  forward(x, B, T, a);
  const int F = cfg_.feature_dim, H = F / 2, D = cfg_.embed_dim, C = cfg_.num_classes;
  const int N = B * T, k = T / cfg_.topk_ratio, ks = T / cfg_.snippet_ratio;
  const size_t n = static_cast<size_t>(N);
  cudaStream_t s = stream_;

  // Median-based consistent / inconsistent snippets (indices only; ranked by the class-aware actionness).
  snippet_select_forward_cuda(a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(), a.idx_ib.data(),
                              a.actionness_aware.data(), a.actionness_agnostic.data(), B, T, ks, s);
  pseudo_label_forward_cuda(a.pseudo_label.data(), a.topk_idx.data(), labels, B, T, C, k, s);

  // Loss terms, each into its device slot (the host forms the sums and the total when it reads them).
  video_ce_forward_cuda(loss + kLossAction, a.cas_top.data(), labels, B, C, s);
  gce_forward_cuda(loss + kLossAgnosticFlow, a.action_flow.data(), a.pseudo_label.data(), B, T, cfg_.gce_q, s);
  gce_forward_cuda(loss + kLossAgnosticRgb, a.action_rgb.data(), a.pseudo_label.data(), B, T, cfg_.gce_q, s);
  mse_forward_cuda(loss + kLossModality, a.action_flow.data(), a.action_rgb.data(), n, s);
  mse_forward_cuda(loss + kLossConsistency, a.actionness_aware.data(), a.actionness_agnostic.data(), n, s);
  auto nce = [&](float* out, const DeviceBuffer<float>& e) {
    infonce_forward_cuda(out, e.data(), a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(), a.idx_ib.data(), B, T, D,
                         ks, cfg_.nce_tau, nullptr, s);
  };
  nce(loss + kLossContrastFused, a.emb);
  nce(loss + kLossContrastRgb, a.emb_rgb);
  nce(loss + kLossContrastFlow, a.emb_flow);

  // ---- backward: every op accumulates into zeroed activation gradients, then into grads() ----
  // Zero exactly the [B,T] prefix in use (the buffers may be larger after a bigger batch).
  auto zero = [&](DeviceBuffer<float>& buf, size_t count) {
    AICL_CUDA_CHECK(cudaMemsetAsync(buf.data(), 0, count * sizeof(float), s));
  };
  zero(a.d_cas_top, static_cast<size_t>(B) * C);
  zero(a.d_cas, n * C);
  for (auto* v : {&a.d_action_flow, &a.d_action_rgb, &a.d_aware, &a.d_agnostic, &a.d_logit_flow, &a.d_logit_rgb})
    zero(*v, n);
  for (auto* v : {&a.d_emb, &a.d_emb_rgb, &a.d_emb_flow}) zero(*v, n * D);

  video_ce_backward_cuda(a.d_cas_top.data(), 1.0f, a.cas_top.data(), labels, B, C, s);
  topk_mil_backward_cuda(a.d_cas.data(), a.d_cas_top.data(), a.topk_idx.data(), B, T, C, k, s);
  gce_backward_cuda(a.d_action_flow.data(), 1.0f, a.action_flow.data(), a.pseudo_label.data(), B, T, cfg_.gce_q, s);
  gce_backward_cuda(a.d_action_rgb.data(), 1.0f, a.action_rgb.data(), a.pseudo_label.data(), B, T, cfg_.gce_q, s);
  mse_backward_cuda(a.d_action_flow.data(), a.d_action_rgb.data(), static_cast<float>(cfg_.w_modality),
                    a.action_flow.data(), a.action_rgb.data(), n, s);
  mse_backward_cuda(a.d_aware.data(), a.d_agnostic.data(), static_cast<float>(cfg_.w_consistency),
                    a.actionness_aware.data(), a.actionness_agnostic.data(), n, s);
  stream_mean_backward_cuda(a.d_action_flow.data(), a.d_action_rgb.data(), a.d_agnostic.data(), n, s);
  class_aware_actionness_backward_cuda(a.d_cas.data(), a.d_aware.data(), a.actionness_aware.data(), N, C, s);
  const float w_nce = static_cast<float>(cfg_.w_contrast);
  auto nce_back = [&](DeviceBuffer<float>& de, const DeviceBuffer<float>& e) {
    infonce_backward_cuda(de.data(), w_nce, e.data(), a.idx_ca.data(), a.idx_cb.data(), a.idx_ia.data(),
                          a.idx_ib.data(), B, T, D, ks, cfg_.nce_tau, s);
  };
  nce_back(a.d_emb, a.emb);
  nce_back(a.d_emb_rgb, a.emb_rgb);
  nce_back(a.d_emb_flow, a.emb_flow);

  // Heads.
  conv1d_k1_backward_cuda(grad(AiclModel::kClsW), grad(AiclModel::kClsB), a.d_emb.data(), a.d_cas.data(),
                          a.emb.data(), value(AiclModel::kClsW), N, D, C, s);
  sigmoid_backward_cuda(a.d_logit_flow.data(), a.d_action_flow.data(), a.action_flow.data(), n, s);
  sigmoid_backward_cuda(a.d_logit_rgb.data(), a.d_action_rgb.data(), a.action_rgb.data(), n, s);
  conv1d_k1_backward_cuda(grad(AiclModel::kClsFlowW), grad(AiclModel::kClsFlowB), a.d_emb_flow.data(),
                          a.d_logit_flow.data(), a.emb_flow.data(), value(AiclModel::kClsFlowW), N, D, 1, s);
  conv1d_k1_backward_cuda(grad(AiclModel::kClsRgbW), grad(AiclModel::kClsRgbB), a.d_emb_rgb.data(),
                          a.d_logit_rgb.data(), a.emb_rgb.data(), value(AiclModel::kClsRgbW), N, D, 1, s);
  // Temporal convolutions (the input features need no gradient). dout is masked by the ReLU in place.
  conv1d_k3_backward_cuda(grad(AiclModel::kBaseW), grad(AiclModel::kBaseB), nullptr, 0, a.d_emb.data(), a.emb.data(),
                          x, F, value(AiclModel::kBaseW), B, T, F, D, true, s);
  conv1d_k3_backward_cuda(grad(AiclModel::kRgbW), grad(AiclModel::kRgbB), nullptr, 0, a.d_emb_rgb.data(),
                          a.emb_rgb.data(), x, F, value(AiclModel::kRgbW), B, T, H, D, true, s);
  conv1d_k3_backward_cuda(grad(AiclModel::kFlowW), grad(AiclModel::kFlowB), nullptr, 0, a.d_emb_flow.data(),
                          a.emb_flow.data(), x + H, F, value(AiclModel::kFlowW), B, T, H, D, true, s);
}

void AiclModelCuda::adam_step(double lr, double beta1, double beta2, double eps, double weight_decay, long step) {
  adam_step_cuda(params_.data(), grads_.data(), m_.data(), v_.data(), num_params(), lr, beta1, beta2, eps,
                 weight_decay, step, stream_);
}

void AiclModelCuda::sgd_step(double lr, double momentum, double weight_decay, long step) {
  sgd_step_cuda(params_.data(), grads_.data(), m_.data(), num_params(), lr, momentum, weight_decay, step, stream_);
}

LocalizeResult localize_videos_cuda(const AiclModelCuda& model, AiclActivationsCuda& act, const Dataset& ds,
                                    const std::vector<size_t>& videos, const DeviceDataset* features, int T,
                                    const PostprocessConfig& cfg) {
  const AiclConfig& mc = model.config();
  const int F = mc.feature_dim, C = mc.num_classes;
  check_aicl_batch(mc, 1, T);
  if (features && features->dim() != F)
    fail(ds.path() + ": device features have " + std::to_string(features->dim()) + " channels, the model " +
         std::to_string(F));
  constexpr int kChunk = 16;  // videos per forward: 12000 rows at T = 750, enough to fill the GPU's GEMMs
  cudaStream_t s = model.stream();
  const size_t rows_cap = static_cast<size_t>(kChunk) * T;
  DeviceBuffer<float> x(rows_cap * F);
  DeviceBuffer<int> rows_dev(features ? rows_cap : 0);
  std::vector<int> rows_host(features ? rows_cap : 0);
  std::vector<float> x_host(features ? 0 : rows_cap * F), cas_top(static_cast<size_t>(kChunk) * C),
      combined(rows_cap * C);
  LocalizeResult r = localize_videos_with(
      ds, videos, T, kChunk, C, cfg,
      [&](const std::vector<size_t>& chunk, const std::vector<std::vector<int>>& sample, int Tn) {
        const int nb = static_cast<int>(chunk.size());
        const size_t rows = static_cast<size_t>(nb) * Tn;
        if (features) {
          for (int b = 0; b < nb; ++b) {
            const size_t first = features->row_offset(chunk[b]);
            for (int t = 0; t < Tn; ++t) rows_host[static_cast<size_t>(b) * Tn + t] = static_cast<int>(first + sample[b][t]);
          }
          rows_dev.upload(rows_host.data(), rows, s);
          features->gather(x.data(), rows_dev.data(), static_cast<int>(rows), s);
        } else {
          for (int b = 0; b < nb; ++b) {
            const std::vector<float> src = ds.read_features(chunk[b]);
            for (int t = 0; t < Tn; ++t)
              std::copy(src.begin() + static_cast<size_t>(sample[b][t]) * F,
                        src.begin() + static_cast<size_t>(sample[b][t] + 1) * F,
                        x_host.begin() + (static_cast<size_t>(b) * Tn + t) * F);
          }
          x.upload(x_host.data(), rows * F, s);
        }
        model.forward(x.data(), nb, Tn, act);
        act.cas_top.download(cas_top.data(), static_cast<size_t>(nb) * C, s);
        act.combined.download(combined.data(), rows * C, s);
        // The host buffers above are reused by the next chunk and read by the post-processing: wait here.
        AICL_CUDA_CHECK(cudaStreamSynchronize(s));
        return ChunkScores{cas_top.data(), combined.data()};
      });
  AICL_CUDA_CHECK(cudaStreamSynchronize(s));
  return r;
}

LocalizeResult localize_videos_cuda(const ParameterSet& weights, const AiclConfig& cfg, const Dataset& ds,
                                    const std::vector<size_t>& videos, int T, const PostprocessConfig& pcfg) {
  CudaStream stream;
  AiclModelCuda model(cfg, stream);
  model.upload_params(weights);
  AiclActivationsCuda act;
  return localize_videos_cuda(model, act, ds, videos, nullptr, T, pcfg);
}

namespace {

// The training backend on one CUDA stream: features, weights, gradients, moments and activations stay on the
// device; per step only the sampled row indices and the labels go up, and nothing comes back until take_losses.
class CudaTrainBackend final : public TrainBackend {
 public:
  CudaTrainBackend(const TrainBackendSetup& setup, ParameterSet& params, std::vector<float>& m,
                   std::vector<float>& v)
      : cfg_(setup.config),
        optimizer_(setup.optimizer),
        lr_(setup.lr),
        weight_decay_(setup.weight_decay),
        momentum_(setup.momentum),
        max_batch_(setup.max_batch),
        segments_(setup.segments),
        window_(std::max(1, setup.loss_window)),
        params_(params),
        m_(m),
        v_(v),
        model_(setup.config, stream_),
        dataset_(setup.feature_rows, setup.num_rows, setup.feature_dim, setup.row_offset, stream_),
        assembler_(setup.max_batch * setup.segments, setup.max_batch * setup.config.num_classes),
        x_(static_cast<size_t>(setup.max_batch) * setup.segments * setup.config.feature_dim),
        labels_(static_cast<size_t>(setup.max_batch) * setup.config.num_classes),
        loss_terms_(static_cast<size_t>(window_) * kNumLossTerms) {
    if (setup.feature_dim != cfg_.feature_dim)
      fail("features have " + std::to_string(setup.feature_dim) + " channels, the model " +
           std::to_string(cfg_.feature_dim));
    if (optimizer_ != "adam" && optimizer_ != "sgd") fail("--optimizer: must be 'adam' or 'sgd'");
    model_.upload_params(params_);
    model_.upload_moments(m_, v_);
  }

  void step(const std::vector<size_t>& rows, const std::vector<float>& labels, int B, int T, long step) override {
    const int C = cfg_.num_classes;
    AICL_CHECK(B >= 1 && B <= max_batch_ && T == segments_, "CudaTrainBackend::step: batch shape outside the setup");
    AICL_CHECK(rows.size() == static_cast<size_t>(B) * T && labels.size() >= static_cast<size_t>(B) * C,
               "CudaTrainBackend::step: rows/labels sizes do not match the batch");
    check_aicl_labels(labels.data(), B, C);
    if (pending_ == window_) drain();  // only if the caller reads less often than the window: one early read
    assembler_.assemble(dataset_, rows.data(), B * T, labels.data(), B * C, x_.data(), labels_.data(), stream_);
    model_.zero_grad();
    model_.forward_backward(x_.data(), labels_.data(), B, T, act_,
                            loss_terms_.data() + static_cast<size_t>(pending_) * kNumLossTerms);
    if (optimizer_ == "adam") model_.adam_step(lr_, 0.9, 0.999, 1e-8, weight_decay_, step);
    else model_.sgd_step(lr_, momentum_, weight_decay_, step);
    ++pending_;
  }

  std::vector<AiclLosses> take_losses() override {
    drain();
    std::vector<AiclLosses> out;
    out.swap(drained_);
    return out;
  }

  void sync_to_host() override {
    model_.download_params(params_);
    model_.download_moments(m_, v_);
  }

  void params_changed_on_host() override { model_.upload_params(params_); }

  LocalizeResult localize(const Dataset& ds, const std::vector<size_t>& videos, int T,
                          const PostprocessConfig& cfg) override {
    return localize_videos_cuda(model_, infer_act_, ds, videos, &dataset_, T, cfg);
  }

 private:
  // Reads the loss terms of the pending steps (waits for the stream).
  void drain() {
    if (pending_ == 0) return;
    std::vector<float> h(static_cast<size_t>(pending_) * kNumLossTerms);
    loss_terms_.download(h.data(), h.size(), stream_);
    AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
    for (int i = 0; i < pending_; ++i) drained_.push_back(aicl_losses_from_terms(h.data() + i * kNumLossTerms, cfg_));
    pending_ = 0;
  }

  AiclConfig cfg_;
  std::string optimizer_;
  double lr_, weight_decay_, momentum_;
  int max_batch_, segments_, window_;
  ParameterSet& params_;
  std::vector<float>& m_;
  std::vector<float>& v_;
  CudaStream stream_;  // declared before every member that queues work on it (destroyed after them)
  AiclModelCuda model_;
  DeviceDataset dataset_;
  DeviceBatchAssembler assembler_;
  DeviceBuffer<float> x_, labels_, loss_terms_;
  AiclActivationsCuda act_, infer_act_;
  int pending_ = 0;  // steps whose loss terms are in loss_terms_ and not yet read
  std::vector<AiclLosses> drained_;
};

}  // namespace

std::unique_ptr<TrainBackend> make_cuda_train_backend(const TrainBackendSetup& setup, ParameterSet& params,
                                                      std::vector<float>& m, std::vector<float>& v) {
  return std::make_unique<CudaTrainBackend>(setup, params, m, v);
}

}  // namespace aicl
