// Synthetic datasets like THUMOS14 or ActivityNet (deterministic for a seed, portable across standard libraries).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace aicl {

struct SynthOptions {
  int train_videos = 200;   // subset "validation" (the official training split); with anno_dir, -1 = whole split
  int test_videos = 210;    // subset "test"
  uint64_t seed = 0;
  int max_segments = 0;     // cap on a video's length in segments (0 = no cap); cropped, not squeezed
  std::string anno_dir;     // optional real annotations (gt.json, split_{train,test}.txt): names/durations/instances
  double difficulty = 0.5;  // scales the feature noise (0.5: AICL learns it in minutes, far from 100%)
  int stream_dim = 1024;    // RGB and flow widths (--stream-width); the file holds 2*stream_dim columns
  int num_classes = 20;     // --classes; with anno_dir the annotations' classes
  int compression = 0;      // deflate level of the written file
  // The dataset profile imitated and recorded (thumos14, anet12, anet13): its subset names, timing and protocol.
  // ActivityNet profiles generate ActivityNet-like layouts: 100-200 segments, 1-3 long instances of one class.
  std::string profile = "thumos14";
};

constexpr int kMaxSynthClasses = 1000;

// The class names of a synthetic set: the first `num_classes` THUMOS14 names, then "class_20", "class_21", ...
// (zero-padded past 100 so that they stay sorted).
std::vector<std::string> synth_class_names(int num_classes);

// The profile a synthetic file records: options.profile's protocol with rgb + flow streams of `stream_dim`
// columns each.
DatasetProfile synth_profile(const SynthOptions& options);

// The layout (names, lengths, instances) of every video, without features. Cheap; used by write_synth.
struct SynthLayout {
  std::vector<VideoInfo> videos;           // with features, the train subset first, then the test subset
  std::vector<VideoInfo> annotation_only;  // real gt entries outside the splits (with anno_dir only)
  std::vector<std::string> classes;        // sorted class names (labels index them)
};
SynthLayout make_synth_layout(const SynthOptions& options);

// The features of video `index` of `layout`: [num_segments, 2*stream_dim], RGB then flow, all >= 0.
std::vector<float> make_synth_features(const SynthOptions& options, const SynthLayout& layout, size_t index);

// Generates the whole dataset and writes it atomically to `out_path`. Returns the number of segments.
size_t write_synth(const SynthOptions& options, const std::string& out_path);

}  // namespace aicl
