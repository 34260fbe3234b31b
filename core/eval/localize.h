// Inference over dataset videos for any method: the profile's test sampling, the method's forward on its device,
// the method's video scores, then the official post-processing on the host.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/eval/postprocess.h"
#include "core/runtime/method.h"
#include "kernels/ops.h"

namespace aicl {

class Dataset;

struct LocalizeResult {
  json detections;              // {"version", "results": {video: [...]}, "external_data"}
  double class_accuracy = 0;    // official cls_acc (Q16)
  size_t num_videos = 0;
  // The localization activation [T, C] (row-major, as post-processing saw it) of the videos named in the
  // keep_activations argument; empty unless asked (plots). activation_samples is that T.
  std::map<std::string, std::vector<float>> activations;
  int activation_samples = 0;
};

// Where a video's features come from: a feature table already on the method's device (each video's first row in
// row_offset, dataset order), or (table null) the dataset file.
struct VideoFeatures {
  FeatureTable* table = nullptr;
  const std::vector<size_t>* row_offset = nullptr;
};

// What is needed to run a method's inference on a device: the method, its op table and weights there.
struct InferenceModel {
  const Method* method = nullptr;
  Ops* ops = nullptr;
  ParamView params;
};

// One video's inference outputs as the post-processing reads them (aicl_eval --save-activations keeps these).
struct VideoScores {
  std::string name;
  int num_segments = 0;            // L: the video's feature rows (times scale with it)
  int samples = 0;                 // T_v; 0 when too short for the method (no detections, as the official NaNs)
  std::vector<float> score;        // [C] class scores (Method::video_scores)
  std::vector<float> activation;   // [T_v, C] localization activation
  std::vector<float> attention;    // [T_v, attention_stride] ("acm" post-processing), else empty
  int attention_stride = 0;
};

// Detections and class accuracy of scored videos under `cfg` (localize_video / localize_video_acm per video, in
// order). labels[i]: video i's multi-hot labels [C] (null: not counted in the accuracy's numerator).
LocalizeResult postprocess_videos(const std::vector<VideoScores>& videos, const std::vector<const float*>& labels,
                                  const std::vector<std::string>& class_names, const PostprocessConfig& cfg);

// Runs the method on each video sampled to T segments by the test sampling rule (cfg.test_sampling, else the dataset
// profile's; the official test
// loader: "uniform" gives every video T rows, "uniform_keep_short" keeps a video of L <= T rows whole), in chunks
// of videos with equal sampled length, and post-processes every video as the official inference does. A video
// sampled to fewer than method.min_infer_segments() rows gets no detections. The kept activations are [T_v, C]
// per video (T_v = T unless the sampling keeps short videos whole). cfg.kind picks the post-processing: "oic"
// (localize_video) or "acm" (localize_video_acm, on the method's activation and attention).
LocalizeResult localize_videos(const InferenceModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                               const VideoFeatures& features, int T, const PostprocessConfig& cfg,
                               const std::set<std::string>& keep_activations = {},
                               std::vector<VideoScores>* scores = nullptr);
// The inference half alone: each video's VideoScores (dataset order of `videos`).
std::vector<VideoScores> score_videos(const InferenceModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                                      const VideoFeatures& features, int T, const PostprocessConfig& cfg);

}  // namespace aicl
