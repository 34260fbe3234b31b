// The CPU training backend: one aicl_train step (gather, forward, backward, checks, optimizer) on the host.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/runtime/train_backend.h"
#include "kernels/adam.h"

namespace aicl {

void check_losses_finite(long step, const AiclLosses& L) {
  const std::pair<const char*, double> terms[] = {
      {"total", L.total},       {"action", L.action},     {"agnostic", L.agnostic}, {"modality", L.modality},
      {"contrast", L.contrast}, {"consistency", L.consistency}};
  for (const auto& [name, value] : terms)
    if (!std::isfinite(value))
      fail("step " + std::to_string(step) + ": loss term '" + name + "' is not finite (" + std::to_string(value) +
           "); stopping (last checkpoint kept)");
}

void check_buffer_finite(long step, const ParameterSet& p, const std::vector<float>& buf, const char* what) {
  for (size_t i = 0; i < buf.size(); ++i)
    if (!std::isfinite(buf[i]))
      fail("step " + std::to_string(step) + ": " + what + " '" + p.tensor(p.tensor_at(i)).name +
           "' is not finite; stopping (last checkpoint kept)");
}

namespace {

class CpuTrainBackend final : public TrainBackend {
 public:
  CpuTrainBackend(const TrainBackendSetup& setup, AiclModel& model, std::vector<float>& m, std::vector<float>& v)
      : setup_(setup), model_(model), m_(m), v_(v) {}

  void step(const std::vector<size_t>& rows, const std::vector<float>& labels, int B, int T, long step) override {
    // Gather the sampled segments (a memory-bound copy: ~100 MB at B = 16, T = 750; both cores share it).
    const size_t F = static_cast<size_t>(setup_.feature_dim);
    x_.resize(rows.size() * F);
    const float* table = setup_.feature_rows;
#pragma omp parallel for
    for (long r = 0; r < static_cast<long>(rows.size()); ++r)
      std::memcpy(x_.data() + static_cast<size_t>(r) * F, table + rows[static_cast<size_t>(r)] * F,
                  F * sizeof(float));
    ParameterSet& params = model_.params();
    params.zero_grad();
    const AiclLosses L = model_.forward_backward(x_.data(), labels.data(), B, T, act_);
    check_losses_finite(step, L);
    // The optimizer checks the gradients in its own pass; on a non-finite one the run stops here, before any
    // checkpoint could save the updated parameters, naming the first tensor at fault.
    const bool finite =
        setup_.optimizer == "adam"
            ? adam_step(params.values.data(), params.grads.data(), m_.data(), v_.data(), params.size(), setup_.lr,
                        0.9, 0.999, 1e-8, setup_.weight_decay, step)
            : sgd_step(params.values.data(), params.grads.data(), m_.data(), params.size(), setup_.lr,
                       setup_.momentum, setup_.weight_decay, step);
    if (!finite) check_buffer_finite(step, params, params.grads, "gradient of");
    losses_.push_back(L);
  }

  std::vector<AiclLosses> take_losses() override {
    std::vector<AiclLosses> out;
    out.swap(losses_);
    return out;
  }

  void sync_to_host() override {}  // the host buffers are the training state
  void params_changed_on_host() override {}

  LocalizeResult localize(const Dataset& ds, const std::vector<size_t>& videos, int T,
                          const PostprocessConfig& cfg) override {
    const size_t F = static_cast<size_t>(setup_.feature_dim);
    return localize_videos(model_, ds, videos,
                           [&](size_t i) { return setup_.feature_rows + setup_.row_offset[i] * F; }, T, cfg);
  }

 private:
  TrainBackendSetup setup_;
  AiclModel& model_;
  std::vector<float>& m_;
  std::vector<float>& v_;
  std::vector<float> x_;
  AiclActivations act_;
  std::vector<AiclLosses> losses_;
};

}  // namespace

std::unique_ptr<TrainBackend> make_cpu_train_backend(const TrainBackendSetup& setup, AiclModel& model,
                                                     std::vector<float>& m, std::vector<float>& v) {
  AICL_CHECK(setup.feature_rows != nullptr && setup.feature_dim > 0, "CPU backend: no feature table");
  return std::make_unique<CpuTrainBackend>(setup, model, m, v);
}

}  // namespace aicl
