// Sanity checks of a dataset's features and labels (aicl_data check, and every import): what users trip over.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace aicl {

// One finding, one line: "<file>: video '<name>': <problem>" (or "<file>: <problem>" for the whole file).
struct CheckFinding {
  bool error = false;  // errors: the data is unusable; warnings: a heuristic thinks something is off
  std::string kind;    // short tag for grouping: "length", "zero", "constant", "padded", "non-finite", ...
  std::string message;
};

// Feeds videos one at a time (so that imports check the rows they already hold; nothing is read twice).
// With `throw_on_error` the first error throws aicl::Error with its message (imports stop there, before
// anything is written); otherwise errors are collected like warnings.
class DatasetChecker {
 public:
  DatasetChecker(std::string source, DatasetProfile profile, std::vector<std::string> classes, bool throw_on_error);

  // A video with features: rows [num_segments, profile.feature_dim()].
  void video(const VideoInfo& v, const float* rows);
  // A ground-truth entry without features.
  void annotation_only(const VideoInfo& v);
  // Adds the file-level findings (feature width, empty subsets) and returns everything, in the order found.
  std::vector<CheckFinding> finish();

 private:
  void add(bool error, const std::string& kind, const std::string& video, const std::string& what);
  void check_length(const VideoInfo& v);
  void check_values(const VideoInfo& v, const float* rows);
  void check_padding(const VideoInfo& v, const float* rows);
  void check_labels(const VideoInfo& v);

  std::string source_;
  DatasetProfile profile_;
  std::vector<std::string> classes_;
  bool throw_on_error_;
  size_t train_videos_ = 0, test_videos_ = 0;
  std::vector<CheckFinding> findings_;
};

struct CheckReport {
  size_t videos = 0, errors = 0, warnings = 0;
  std::vector<CheckFinding> findings;
};

// Reads every video of `ds` once and checks it (the findings above, never throwing for them).
CheckReport check_dataset(const Dataset& ds);

// Counts errors and warnings of `findings` into `report`.
void count_findings(CheckReport& report);

}  // namespace aicl
