// The training loop for any method: batches from a dataset, one optimizer step per batch, periodic evaluation, run
// directory.
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"

namespace aicl {

struct TrainOptions {
  std::string data;          // dataset .h5 (aicl_data format)
  std::string run_dir;       // outputs: config.json, metrics.jsonl, checkpoint.h5, best.h5, detections.json, eval.json
  int steps = 2000;
  int batch = 16;
  int segments = 750;        // T for training (random perturbation) and, unless infer_segments is set, for inference
  int infer_segments = 0;    // 0 = segments
  std::string train_sampling;  // "" = the dataset profile's; random_perturb | random_sample (core/runtime/sampling.h)
  double lr = 1e-4;
  double weight_decay = 5e-4;
  std::string optimizer = "adam";  // adam | sgd
  double momentum = 0.9;     // sgd only
  int seed = 1;
  int eval_every = 50;       // 0 = only at the end
  int eval_start = 0;        // no evaluation before this step (the official SAL run skips its first epoch)
  int threads = 0;           // 0 = all cores
  double val_fraction = 0;   // > 0: hold out this part of the training split for model selection
  std::string select;        // "val" (needs val_fraction), "test" (official: best on test) or "last"; "" = auto
  std::string init_weights;  // optional weights .h5 to start from (else PyTorch-style random init from seed)
  // Diagnostic: each step's batch (videos and their sampled segment indices) read from this JSON file instead of
  // drawn, to train on another trainer's data stream (tools/sal_official_train.py --record-batches writes one).
  std::string replay_batches;
  int checkpoint_every = 50; // RUN/checkpoint.h5 (weights, optimizer, RNG, data order) every N steps and at evals
  std::string device = "cpu";  // cpu | cuda (the whole step on the GPU; needs a CUDA build and a device)
  std::string precision = "fp32";  // fp32 | tf32 (cuda only: cuBLAS GEMMs on tensor cores, as PyTorch's cuDNN convs)
  int log_every = 10;        // progress line every N steps; with cuda also the only per-step read of the losses
  bool quiet = false;
  bool resume = false;       // continue RUN from RUN/checkpoint.h5 (options from RUN/config.json)
  std::string method = "aicl";  // a name from the method registry (core/methods/registry.cpp)
  json method_config;        // the method's hyper-parameters (object; null = its defaults); resolved in config.json
  // Training in stages (null = one run): [{"name": "a", <option overrides>...}, ...], each stage a run in
  // RUN/stage-<name> starting from the previous stage's selected weights (core/train/stages.h).
  json stages;

  json to_json() const;
  static TrainOptions from_json(const json& j, const std::string& source);  // unknown keys are errors
};

// Trains and writes the run directory; returns the final report (also written to RUN/eval.json).
// The run directory is locked while in use. With options.resume, the run continues from RUN/checkpoint.h5 and
// (on the CPU, same thread count) ends bitwise identical to an uninterrupted run.
// With device "cuda" the steps are queued on the GPU without waiting; the losses (and the non-finite check) are
// read every log_every steps, at evaluations and at checkpoints, where the weights and moments are downloaded.
// Options with stages (TrainOptions::stages, or the method's default_stages when the config names no "stage") run
// them one after the other (train_stages).
json train(const TrainOptions& options);
// One run, whatever its stages (what each stage of train_stages runs).
json train_one(const TrainOptions& options);
// Each stage's options (run_dir RUN/stage-<name>, init_weights the previous stage's best.h5), checked; nothing run.
std::vector<TrainOptions> plan_stages(const TrainOptions& options);

// Options of an existing run (RUN/config.json), for --resume.
TrainOptions load_run_options(const std::string& run_dir);

}  // namespace aicl
