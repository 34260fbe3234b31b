// Inference over dataset videos: uniform sampling, the model's forward, post-processing, detections JSON.
#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/methods/aicl/aicl_model.h"
#include "core/eval/evaluator.h"
#include "core/base/io.h"
#include "core/eval/postprocess.h"

namespace aicl {

class Dataset;

struct LocalizeResult {
  json detections;              // {"version", "results": {video: [...]}, "external_data"}
  double class_accuracy = 0;    // official cls_acc (Q16)
  size_t num_videos = 0;
  // The `combined` activation [T, C] (row-major, as post-processing saw it) of the videos named in the
  // keep_activations argument; empty unless asked (plots). activation_samples is that T.
  std::map<std::string, std::vector<float>> activations;
  int activation_samples = 0;
};

// Features of dataset video i ([num_segments, feature_dim]); lets callers serve them from memory.
using FeatureSource = std::function<const float*(size_t video_index)>;

// Runs the model on each video sampled uniformly to T segments (the official test loader), in batches, and
// post-processes every video as the official inference does.
// `keep_activations`: video names whose activation is copied into LocalizeResult::activations.
LocalizeResult localize_videos(const AiclModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                               const FeatureSource& features, int T, const PostprocessConfig& cfg,
                               const std::set<std::string>& keep_activations = {});

// Same, reading features from the dataset file.
LocalizeResult localize_videos(const AiclModel& model, const Dataset& ds, const std::vector<size_t>& videos, int T,
                               const PostprocessConfig& cfg, const std::set<std::string>& keep_activations = {});

// What post-processing needs from a forward over a chunk of nb videos (host pointers, valid until the next call):
// cas_top [nb,C] (the top-k mean CAS) and combined [nb,T,C].
struct ChunkScores {
  const float* cas_top = nullptr;
  const float* combined = nullptr;
};
// Runs the forward on the videos of `chunk` (dataset indices), each sampled to T segments by sample[b]
// (uniform_sampling of its length).
using ChunkForward =
    std::function<ChunkScores(const std::vector<size_t>& chunk, const std::vector<std::vector<int>>& sample, int T)>;

// The device-independent part of localize_videos: sampling, chunks of at most chunk_size videos, `forward`, then
// the official post-processing of every video (on the host).
LocalizeResult localize_videos_with(const Dataset& ds, const std::vector<size_t>& videos, int T, int chunk_size,
                                    int num_classes, const PostprocessConfig& cfg, const ChunkForward& forward,
                                    const std::set<std::string>& keep_activations = {});

// Checks a --device value: "cpu", or "cuda" when this build has the CUDA backend and a device is present
// (aicl::Error "<flag>: built without CUDA ..." / "<flag>: no CUDA device found" otherwise).
void check_device_option(const std::string& device, const std::string& flag);

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
  std::string device = "cpu";       // cpu | cuda (the forward on the GPU; post-processing stays on the host)
  PostprocessConfig post;
  std::set<std::string> keep_activations;  // videos whose activation InferOutcome::activations returns (plots)
};

struct InferOutcome {
  EvalReport report;
  double class_accuracy = 0;
  std::map<std::string, std::vector<float>> activations;  // [T, C] per kept video (see LocalizeResult)
  int activation_samples = 0;
};

// Inference on every video of the subset, detections written atomically, then the official evaluation against
// the dataset's ground truth (the JSON report, with cls_acc, is also written to options.report when set).
InferOutcome infer_and_evaluate(const InferOptions& options);

}  // namespace aicl
