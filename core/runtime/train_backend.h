// The device-specific half of the training loop (CPU or CUDA): one optimizer step, loss read-back, inference.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/methods/aicl/aicl_model.h"
#include "core/eval/localize.h"

namespace aicl {

class Dataset;

// Where the weights, optimizer moments, features and activations of a training run live. The trainer draws the
// data order and the sampling indices on the host (the same RNG calls on every device), so a run's batches do not
// depend on the backend.
class TrainBackend {
 public:
  virtual ~TrainBackend() = default;

  // One step on B videos sampled to T segments: rows [B*T] index the dataset's bulk feature table
  // (Dataset::row_offset(video) + sampled segment), labels [B*C] are multi-hot (every video has one).
  // Forward, backward and the optimizer update number `step` (1-based). CPU: done on return. CUDA: queued on
  // the device; nothing waits for it.
  virtual void step(const std::vector<size_t>& rows, const std::vector<float>& labels, int B, int T, long step) = 0;

  // The losses of every step since the previous call, oldest first. CUDA: the one place a training step waits
  // for the device; non-finite losses can only be noticed here.
  virtual std::vector<AiclLosses> take_losses() = 0;

  // Makes the host ParameterSet and optimizer moments given at construction current (CUDA: downloads them).
  virtual void sync_to_host() = 0;

  // The host ParameterSet was changed (e.g. the best weights were loaded): CUDA uploads it.
  virtual void params_changed_on_host() = 0;

  // Inference (uniform sampling to T, forward, post-processing) on dataset videos with the current weights.
  virtual LocalizeResult localize(const Dataset& ds, const std::vector<size_t>& videos, int T,
                                  const PostprocessConfig& cfg) = 0;
};

// What a backend needs besides the model's host parameters.
struct TrainBackendSetup {
  AiclConfig config;
  std::string optimizer = "adam";  // adam | sgd
  double lr = 1e-4, weight_decay = 5e-4, momentum = 0.9;
  int max_batch = 16;   // B of a full batch (a short last batch may be smaller)
  int segments = 750;   // T of training
  int loss_window = 10; // steps whose losses the CUDA backend keeps on the device between take_losses calls
  // The dataset's bulk feature table [num_rows, feature_dim] (host, already checked finite), and each video's
  // first row (Dataset::row_offset).
  const float* feature_rows = nullptr;
  size_t num_rows = 0;
  int feature_dim = 0;
  std::vector<size_t> row_offset;
};

// The CPU backend (core/train_backend_cpu.cpp): trains `model` in place (its ParameterSet is the training state)
// with the moments m, v; reads features straight from setup.feature_rows. Every step completes, with its loss and
// gradient checks, before step() returns.
std::unique_ptr<TrainBackend> make_cpu_train_backend(const TrainBackendSetup& setup, AiclModel& model,
                                                     std::vector<float>& m, std::vector<float>& v);

// Fails naming the step and the first loss term that is not finite.
void check_losses_finite(long step, const AiclLosses& L);

// Fails naming the step and the tensor of the first non-finite entry of buf (p.values or p.grads); `what`
// begins the message ("parameter", "gradient of").
void check_buffer_finite(long step, const ParameterSet& p, const std::vector<float>& buf, const char* what);

#ifdef AICL_HAVE_CUDA
// The CUDA backend (core/aicl_model_cuda.cu): uploads params, moments (m, v) and the feature table once; keeps
// references to params, m and v for sync_to_host / params_changed_on_host.
std::unique_ptr<TrainBackend> make_cuda_train_backend(const TrainBackendSetup& setup, ParameterSet& params,
                                                      std::vector<float>& m, std::vector<float>& v);
#endif

}  // namespace aicl
