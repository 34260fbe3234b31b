// The aicl dataset file (one HDF5 file per dataset, see docs/data-format.md): its reader and its writer.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/profile.h"

namespace aicl {

constexpr const char* kDatasetFormatName = "aicl-wtal-dataset";
constexpr int kDatasetFormatVersion = 1;

// THUMOS14's 20 classes in the official order (alphabetical, = class_dict of the official config).
const std::vector<std::string>& thumos14_class_names();

// One ground-truth action instance, in seconds; `label` indexes Dataset::class_names().
struct Instance {
  double start = 0, end = 0;
  int label = 0;
};

struct VideoInfo {
  std::string name;    // e.g. video_validation_0000051
  std::string subset;  // THUMOS14: "validation" (the official training split) or "test"; see DatasetProfile
  int num_segments = 0;  // feature rows (one per profile().segment_frames frames); 0 = annotation-only video
  double duration = 0;   // seconds
  std::vector<float> labels;  // multi-hot [num_classes]
  std::vector<Instance> instances;
};

// Read-only view of a dataset file. Metadata is loaded at construction; features are read on demand.
// Not thread-safe: call read_features from one thread at a time (HDF5 may be built without thread safety).
class Dataset {
 public:
  // Throws aicl::Error "<path>: <problem>" for a missing/non-HDF5/corrupt file, a wrong format version,
  // missing datasets or inconsistent contents.
  explicit Dataset(const std::string& path);
  ~Dataset();
  Dataset(Dataset&&) noexcept;
  Dataset& operator=(Dataset&&) noexcept;

  const std::string& path() const;
  int format_version() const;
  const std::vector<std::string>& class_names() const;
  int num_classes() const;
  int feature_dim() const;     // = profile().feature_dim(); THUMOS14: 2048, RGB in [0, 1024), flow in [1024, 2048)
  double fps() const;          // = profile().fps (THUMOS14: 25)
  int segment_frames() const;  // = profile().segment_frames (THUMOS14: 16)
  double seconds_per_segment() const { return segment_frames() / fps(); }
  const std::string& source() const;      // free text: how the file was made
  const std::string& gt_version() const;  // the "version" of the ground-truth JSON
  int compression_level() const;          // deflate level of the feature table, 0 = none

  // The dataset's protocol (subsets, streams, tIoUs, post-processing). A file written before profiles existed
  // has none recorded: it reads as THUMOS14 (with its own fps/segment_frames and, when feature_dim is not
  // 2048, two equal streams rgb + flow, or one stream "features" if odd), and profile_note() then says so
  // in one line that CLIs may print to stderr. Empty when the file records its profile.
  const DatasetProfile& profile() const;
  const std::string& profile_note() const;

  // Videos with features, in file order (the official split files' order: validation first, then test).
  size_t num_videos() const;
  const VideoInfo& video(size_t index) const;
  std::vector<size_t> subset_indices(const std::string& subset) const;
  size_t find_video(const std::string& name) const;  // throws if absent
  // Ground-truth entries without features (e.g. THUMOS14's video_test_0000270, in gt.json but not in
  // split_test.txt); they matter for evaluation only (their instances count in the official mAP).
  const std::vector<VideoInfo>& annotation_only_videos() const;

  size_t total_segments() const;              // sum of num_segments over num_videos()
  size_t row_offset(size_t index) const;      // first feature row of a video in the bulk layout
  void read_features(size_t index, float* out) const;  // out: [num_segments, feature_dim]
  std::vector<float> read_features(size_t index) const;
  void read_all_features(float* out) const;   // out: [total_segments, feature_dim], video i at row_offset(i)

  // ActivityNet-style ground truth for the evaluator:
  // {"version", "taxonomy": [], "database": {name: {"subset", "duration", "annotations": [{"label", "segment"}]}}}
  // covering the videos with features and the annotation-only ones.
  nlohmann::json ground_truth_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The first NaN/Inf of one video's features `rows` ([num_segments, feature_dim]) throws
// "<context>: video '<video>' has a non-finite feature at segment S, channel C".
void check_features_finite(const std::string& context, const std::string& video, const float* rows,
                           size_t num_segments, size_t feature_dim);
// Same for video `index` of `ds` (context = the file path).
void check_features_finite(const Dataset& ds, size_t index, const float* rows);
// Same over the bulk table of read_all_features ([total_segments, feature_dim], video i at row_offset(i)).
void check_all_features_finite(const Dataset& ds, const float* table);

// Whether the video has at least one positive video-level label (weak supervision needs one to learn from).
bool has_any_label(const VideoInfo& video);

struct DatasetWriterOptions {
  int compression = 0;     // deflate level 0..9 for the feature table (0 = off; shuffle filter added when on)
  size_t chunk_rows = 64;  // feature-table chunk height (rows of feature_dim floats)
  std::string source;
  std::string gt_version = "aicl";
  // Recorded in the file; its streams must add up to the writer's feature_dim, and its fps/segment_frames
  // become the file's "fps"/"segment_frames" attributes.
  DatasetProfile profile;
};

// Streams videos into `path` through a temporary file; finish() renames it into place. If finish() is
// never reached (an exception, an early return) the temporary file is removed and `path` is untouched.
class DatasetWriter {
 public:
  DatasetWriter(const std::string& path, std::vector<std::string> class_names, int feature_dim,
                DatasetWriterOptions options = {});
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // `features` holds [video.num_segments, feature_dim] floats. Empty `video.labels` are derived from the
  // instances. Names must be unique; labels/instances are validated against the classes.
  void add_video(const VideoInfo& video, const float* features);
  void add_annotation_only(const VideoInfo& video);  // video.num_segments must be 0
  size_t num_videos() const;
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aicl
