// The inference job of aicl_eval --data --weights: any method's weights on a dataset subset, detections written
// atomically, then scored with the official evaluator.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/eval/protocols.h"

namespace aicl {

struct InferOptions {
  std::string data;        // dataset .h5
  std::string weights;     // weights .h5 (official state_dict keys)
  std::string out;         // detections JSON to write
  std::string report;      // optional eval report JSON
  std::string subset;      // "" = the dataset profile's test subset
  int segments = 750;      // T of the official test loader (uniform sampling)
  std::string score_key = "score";  // or "score300", as the official file
  std::string device = "cpu";       // cpu | cuda (the forward on the GPU; post-processing stays on the host)
  std::string precision = "fp32";   // fp32 | tf32 (cuda only)
  // The method: "" = the one the weights file records (AICL for files without a record, e.g. official weights).
  std::string method;
  std::set<std::string> keep_activations;  // videos whose activation InferOutcome::activations returns (plots)
  std::string save_activations;  // also write every video's scores and activations here (core/eval/activations.h)
  // Re-scoring: read these saved activations instead of running a model (weights and segments unused; data must be
  // the dataset they were made on).
  std::string activations;
  json post;  // post-processing overrides on top of the method's (PostprocessConfig keys; --post)
  // Only these videos of the subset (names; empty = all), scored against their own ground truth; `heldout` says
  // they are a run's held-out training videos (aicl_eval --heldout RUN), recorded with saved activations.
  std::vector<std::string> videos;
  bool heldout = false;
  // Re-scoring only: {key: [values...]} post-processing settings searched (every combination) on the saved videos,
  // which must not be the test split; the best is kept (aicl_eval --sweep).
  json sweep;
  // How the detections are scored (aicl_eval --protocol/--ambiguous/--tiou/--strict). Empty `tiou`: the dataset
  // profile's thresholds under the anet protocol, the protocol's own default under th14 and wtalc.
  EvalProtocol protocol = EvalProtocol::anet;
  std::vector<AmbiguousInterval> ambiguous;
  std::string ambiguous_name;
  std::vector<double> tiou;
  bool strict = false;
};

struct InferOutcome {
  EvalReport report;
  double class_accuracy = 0;
  std::string method;
  std::map<std::string, std::vector<float>> activations;  // [T, C] per kept video (see LocalizeResult)
  int activation_samples = 0;
  json sweep;  // --sweep: {grid, results: [{settings, average_mAP}], best: {...}, default_average_mAP}
};

// Runs the inference (or, with options.activations, re-scores saved activations), writes the detections and scores
// them.
InferOutcome infer_and_evaluate(const InferOptions& options);

}  // namespace aicl
