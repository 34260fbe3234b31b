// A dataset profile: what a dataset's protocol fixes (splits, timing, feature streams, tIoUs, post-processing).
//
// Stored as JSON in the dataset file (root attribute "profile", docs/data-format.md), so that the trainer,
// inference and the evaluator read these numbers from the data instead of assuming THUMOS14. data/ sits
// below core/eval, so the post-processing settings are plain numbers here; core/eval/postprocess.h turns
// them into a PostprocessConfig (postprocess_config_for).
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"

namespace aicl {

// One feature stream; a feature row is the streams' columns side by side, in profile order.
struct FeatureStream {
  std::string name;  // e.g. "rgb"; also the directory name in the npy split layout
  int width = 0;     // columns
  bool operator==(const FeatureStream& o) const { return name == o.name && width == o.width; }
};

// numpy.arange(start, stop, step), kept as its three numbers so the list can be rebuilt bit for bit.
struct ArangeSpec {
  double start = 0, stop = 0, step = 0;
  bool operator==(const ArangeSpec& o) const { return start == o.start && stop == o.stop && step == o.step; }
};

// Default member values are THUMOS14's (= thumos14()), and so are the values of keys missing from the JSON.
struct DatasetProfile {
  std::string name = "thumos14";
  std::string train_subset = "validation";  // THUMOS14 trains on its validation videos (the official split)
  std::string test_subset = "test";
  double fps = 25;          // frame rate of the feature extractor's input
  int segment_frames = 16;  // frames per feature row
  std::vector<FeatureStream> streams = {{"rgb", 1024}, {"flow", 1024}};
  // Evaluation tIoU thresholds: numpy.linspace(0.1, 0.7, 7), the same doubles as aicl_eval --tiou 0.1:0.7:7.
  std::vector<double> tiou = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};

  // Post-processing (official inference_thumos.py; meanings in core/eval/postprocess.h, PostprocessConfig).
  int scale = 24;             // upsampling points per segment
  double class_thresh = 0.25;  // video-level class selection
  std::vector<double> act_thresh;                // explicit localization thresholds; empty = act_thresh_arange
  ArangeSpec act_thresh_arange = {0.1, 1.0, 0.1};  // official np.arange(0.1, 1.0, 0.1)
  double nms_thresh = 0.4;
  bool soft_nms = true;
  double nms_alpha = 0.35;
  double outer_ratio = 0.2;          // OIC outer-region ratio (the official --gamma, quirk Q2)
  double class_score_weight = 0.2;   // OIC weight of the video-level class score

  // Temporal sampling (docs/data-format.md). Segments per video in training and at test time, and how a test
  // video is brought to test_segments: "uniform" resamples every video to exactly test_segments rows
  // (floor(i*L/T), THUMOS14's official loader); "uniform_keep_short" keeps a video of L <= test_segments rows
  // whole and duplicates a single row (SAL_ActivityNet's uniform_sample).
  std::string test_sampling = "uniform";
  // How a training video is brought to train segments (core/runtime/sampling.h): "random_perturb" (THUMOS14's
  // official loader, AICL-Q14) or "random_sample" (SAL_ActivityNet: sorted draws with replacement for short videos).
  std::string train_sampling = "random_perturb";
  int train_segments = 750;
  int test_segments = 750;

  static DatasetProfile thumos14();
  static DatasetProfile anet12();  // ActivityNet v1.2 (W-TALC's 100-class release)
  static DatasetProfile anet13();  // ActivityNet v1.3 (200 classes)
  // The names named() knows, in the order they are listed in errors and help texts.
  static const std::vector<std::string>& known_names();
  // Whether `rule` is a training sampling rule the trainer knows (random_perturb, random_sample).
  static bool known_train_sampling(const std::string& rule);
  // A known profile by name; anything else throws "<flag>: unknown dataset profile 'x' (known: thumos14, ...)".
  static DatasetProfile named(const std::string& name, const std::string& flag = "--profile");

  int feature_dim() const;  // sum of the stream widths
  // One line for humans, e.g. "thumos14: train 'validation', test 'test', 25 fps, 16 frames/segment, ...".
  std::string describe() const;

  json to_json() const;
  // Missing keys keep THUMOS14's values. An unknown key, a wrong type or a bad value throws one line
  // "<source>: profile key 'fps' must be a positive number" / "<source>: unknown profile key 'x'".
  static DatasetProfile from_json(const json& j, const std::string& source);
  // The checks of from_json on a profile built in code; throws "<source>: ...".
  void validate(const std::string& source) const;

  bool operator==(const DatasetProfile& o) const;
  bool operator!=(const DatasetProfile& o) const { return !(*this == o); }
};

}  // namespace aicl
