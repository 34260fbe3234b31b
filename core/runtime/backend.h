// The device half of training, for any method on any op table: weights, moments, features and activations where
// the op table keeps them, one optimizer step per call, loss read-back in windows.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/method.h"
#include "core/runtime/parameters.h"
#include "kernels/ops.h"

namespace aicl {

struct TrainBackendSetup {
  std::string optimizer = "adam";  // adam | sgd
  double lr = 1e-4, weight_decay = 5e-4, momentum = 0.9;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // torch.optim.Adam's defaults (the official code's)
  int max_batch = 16;   // B of a full batch (a short last batch may be smaller)
  int segments = 750;   // T of training
  int loss_window = 10; // steps whose loss slots stay on the device between take_losses calls
  int num_classes = 20; // label columns
  unsigned long long seed = 0;  // the run's seed, handed to every step (dropout keys)
  // The dataset's bulk feature table [num_rows, feature_dim] (host, already checked finite).
  const float* feature_rows = nullptr;
  size_t num_rows = 0;
  int feature_dim = 0;
};

// The trainer draws the data order and the sampling on the host (the same RNG calls on every device), so a run's
// batches do not depend on the device. On a synchronous op table (the CPU) every step completes, with its loss
// and gradient checks, before step() returns; otherwise (CUDA) it is queued and nothing waits.
class TrainBackend {
 public:
  // Trains `params` with the moments m, v (v unused by SGD). On the CPU these host buffers ARE the training state;
  // on another device they are uploaded once, and sync_to_host() brings them back.
  TrainBackend(Ops& ops, Method& method, ParameterSet& params, std::vector<float>& m, std::vector<float>& v,
               const TrainBackendSetup& setup);
  ~TrainBackend();
  TrainBackend(const TrainBackend&) = delete;
  TrainBackend& operator=(const TrainBackend&) = delete;

  // One step on B videos sampled to T segments: rows [B*T] index the feature table, labels [B*C] are multi-hot.
  // Forward, backward and the optimizer update number `step` (1-based). Returns "" or, when the method skips
  // non-finite steps and this one's loss is not finite, the first such term (the update was not made; on a queued
  // device such a method's losses are read back every step for this).
  std::string step(const std::vector<size_t>& rows, const std::vector<float>& labels, int B, int T, long step);

  // The losses (aligned with method.loss_names()) of every step since the previous call, oldest first. The one
  // place a queued device is waited for during training.
  std::vector<std::vector<double>> take_losses();

  void sync_to_host();            // host params, moments and the method's state made current
  void params_changed_on_host();  // e.g. the best weights were loaded: upload them

  // For inference with the current weights on the same device.
  Ops& ops() { return ops_; }
  ParamView params() const { return ParamView{&host_params_, values_, nullptr}; }
  FeatureTable& features() { return *table_; }

 private:
  void drain();

  Ops& ops_;
  Method& method_;
  ParameterSet& host_params_;
  std::vector<float>& host_m_;
  std::vector<float>& host_v_;
  TrainBackendSetup setup_;
  Buf<float> dev_values_, dev_grads_, dev_m_, dev_v_;  // unused when the op table works in host memory
  float *values_, *grads_, *m_, *v_;
  std::unique_ptr<FeatureTable> table_;
  Buf<float> x_, labels_, slots_;
  std::unique_ptr<Workspace> ws_;
  int pending_ = 0;  // steps whose loss slots are not read yet
  std::vector<std::vector<double>> drained_;
};

// Fails naming the step and the tensor of the first non-finite entry of buf (values or grads of p); `what`
// begins the message ("parameter", "gradient of").
void check_buffer_finite(long step, const ParameterSet& p, const float* buf, const char* what);

}  // namespace aicl
