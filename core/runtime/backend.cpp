// The device half of training for any method on any op table (see backend.h).
#include "core/runtime/backend.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"

namespace aicl {

void check_buffer_finite(long step, const ParameterSet& p, const float* buf, const char* what) {
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isfinite(buf[i]))
      fail("step " + std::to_string(step) + ": " + what + " '" + p.tensor(p.tensor_at(i)).name +
           "' is not finite; stopping (last checkpoint kept)");
}

TrainBackend::TrainBackend(Ops& ops, Method& method, ParameterSet& params, std::vector<float>& m,
                           std::vector<float>& v, const TrainBackendSetup& setup)
    : ops_(ops), method_(method), host_params_(params), host_m_(m), host_v_(v), setup_(setup) {
  AICL_CHECK(setup.feature_rows != nullptr && setup.feature_dim > 0, "training backend: no feature table");
  if (setup.optimizer != "adam" && setup.optimizer != "sgd") fail("--optimizer: must be 'adam' or 'sgd'");
  const size_t n = params.size();
  AICL_CHECK(m.size() == n && (setup.optimizer == "sgd" || v.size() == n), "training backend: moments of wrong size");
  if (ops.host_memory()) {  // the host buffers are the training state: no copies
    values_ = params.values.data(), grads_ = params.grads.data(), m_ = m.data(), v_ = v.data();
  } else {
    dev_values_ = Buf<float>(ops, n), dev_grads_ = Buf<float>(ops, n), dev_m_ = Buf<float>(ops, n);
    dev_v_ = Buf<float>(ops, v.size());
    values_ = dev_values_.data(), grads_ = dev_grads_.data(), m_ = dev_m_.data(), v_ = dev_v_.data();
    params_changed_on_host();
    ops.upload(m_, m.data(), n * sizeof(float));
    if (!v.empty()) ops.upload(v_, v.data(), v.size() * sizeof(float));
  }
  const int rows = setup.max_batch * setup.segments, label_cols = setup.max_batch * setup.num_classes;
  table_ = ops.feature_table(setup.feature_rows, setup.num_rows, setup.feature_dim, rows, label_cols);
  x_ = Buf<float>(ops, static_cast<size_t>(rows) * setup.feature_dim);
  labels_ = Buf<float>(ops, static_cast<size_t>(label_cols));
  setup_.loss_window = std::max(1, setup.loss_window);
  slots_ = Buf<float>(ops, static_cast<size_t>(setup_.loss_window) * method.num_loss_slots());
  ws_ = method.make_workspace(ops);
}

TrainBackend::~TrainBackend() = default;

std::string TrainBackend::step(const std::vector<size_t>& rows, const std::vector<float>& labels, int B, int T,
                               long step) {
  const int C = setup_.num_classes, S = method_.num_loss_slots();
  AICL_CHECK(B >= 1 && B <= setup_.max_batch && T == setup_.segments, "training backend: batch outside the setup");
  AICL_CHECK(rows.size() == static_cast<size_t>(B) * T && labels.size() >= static_cast<size_t>(B) * C,
             "training backend: rows/labels sizes do not match the batch");
  method_.check_batch(labels.data(), B, T);
  if (pending_ == setup_.loss_window) drain();  // only if the caller reads less often than the window
  table_->assemble(rows.data(), B * T, labels.data(), B * C, x_.data(), labels_.data());
  ops_.zero(grads_, host_params_.size() * sizeof(float));
  const ParamView p{&host_params_, values_, grads_};
  float* slots = slots_.data() + static_cast<size_t>(pending_) * S;
  method_.forward_backward(ops_, p, StepBatch{x_.data(), labels_.data(), labels.data(), B, T, step, setup_.seed}, *ws_, slots);
  ++pending_;
  // A synchronous device checks the losses before the update, so a bad step never changes the weights; a method
  // that skips such steps (as its official loop does) gets no update for it.
  if (method_.skips_nonfinite_steps()) {
    std::vector<float> h;  // a queued device's slots read back; a synchronous one's are on the host already
    if (!ops_.synchronous()) h.resize(static_cast<size_t>(S)), ops_.download(h.data(), slots, h.size() * sizeof(float));
    const std::string bad =
        first_nonfinite_loss(method_.loss_names(), method_.losses(ops_.synchronous() ? slots : h.data()));
    if (!bad.empty()) return bad;
  } else if (ops_.synchronous()) {
    check_losses_finite(step, method_.loss_names(), method_.losses(slots));
  }
  const size_t n = host_params_.size();
  const bool finite = setup_.optimizer == "adam"
                          ? ops_.adam_step(values_, grads_, m_, v_, n, setup_.lr, setup_.beta1, setup_.beta2,
                                           setup_.eps, setup_.weight_decay, step)
                          : ops_.sgd_step(values_, grads_, m_, n, setup_.lr, setup_.momentum, setup_.weight_decay,
                                          step);
  // The optimizer checks the gradients in its own pass (CPU); on a non-finite one the run stops here, before
  // any checkpoint could save the updated parameters, naming the first tensor at fault.
  if (!finite) check_buffer_finite(step, host_params_, grads_, "gradient of");
  return "";
}

void TrainBackend::drain() {
  if (pending_ == 0) return;
  const int S = method_.num_loss_slots();
  std::vector<float> h(static_cast<size_t>(pending_) * S);
  ops_.download(h.data(), slots_.data(), h.size() * sizeof(float));
  for (int i = 0; i < pending_; ++i) drained_.push_back(method_.losses(h.data() + static_cast<size_t>(i) * S));
  pending_ = 0;
}

std::vector<std::vector<double>> TrainBackend::take_losses() {
  drain();
  std::vector<std::vector<double>> out;
  out.swap(drained_);
  return out;
}

void TrainBackend::sync_to_host() {
  method_.pull_state(*ws_);
  if (ops_.host_memory()) return;
  ops_.download(host_params_.values.data(), values_, host_params_.size() * sizeof(float));
  ops_.download(host_m_.data(), m_, host_m_.size() * sizeof(float));
  if (!host_v_.empty()) ops_.download(host_v_.data(), v_, host_v_.size() * sizeof(float));
}

void TrainBackend::params_changed_on_host() {
  if (!ops_.host_memory()) ops_.upload(values_, host_params_.values.data(), host_params_.size() * sizeof(float));
}

}  // namespace aicl
