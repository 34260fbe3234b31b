// Inference over dataset videos: uniform sampling, the model's forward, post-processing, detections JSON.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/aicl_model.h"
#include "core/evaluator.h"
#include "core/io.h"
#include "core/postprocess.h"

namespace aicl {

class Dataset;

struct LocalizeResult {
  json detections;              // {"version", "results": {video: [...]}, "external_data"}
  double class_accuracy = 0;    // official cls_acc (Q16)
  size_t num_videos = 0;
};

// Features of dataset video i ([num_segments, feature_dim]); lets callers serve them from memory.
using FeatureSource = std::function<const float*(size_t video_index)>;

// Runs the model on each video sampled uniformly to T segments (the official test loader), in batches, and
// post-processes every video as the official inference does.
LocalizeResult localize_videos(const AiclModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                               const FeatureSource& features, int T, const PostprocessConfig& cfg);

// Same, reading features from the dataset file.
LocalizeResult localize_videos(const AiclModel& model, const Dataset& ds, const std::vector<size_t>& videos, int T,
                               const PostprocessConfig& cfg);

}  // namespace aicl

namespace aicl {

struct InferOptions {
  std::string data;        // dataset .h5
  std::string weights;     // weights .h5 (official state_dict keys)
  std::string out;         // detections JSON to write
  std::string report;      // optional eval report JSON
  std::string subset = "test";
  int segments = 750;      // T of the official test loader (uniform sampling)
  std::string score_key = "score";  // or "score300", as the official file
  PostprocessConfig post;
};

struct InferOutcome {
  EvalReport report;
  double class_accuracy = 0;
};

// Inference on every video of the subset, detections written atomically, then the official evaluation against
// the dataset's ground truth (the JSON report, with cls_acc, is also written to options.report when set).
InferOutcome infer_and_evaluate(const InferOptions& options);

}  // namespace aicl
