// Sanity checks of a dataset's features and labels (aicl_data check, and every import): what users trip over.
#include "data/check.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/base/error.h"

namespace aicl {

namespace {

std::string fixed1(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Whether columns [col, col + width) of row t are all zero.
bool zero_block(const float* rows, size_t D, size_t t, size_t col, size_t width) {
  const float* r = rows + t * D + col;
  for (size_t k = 0; k < width; ++k)
    if (r[k] != 0.f) return false;
  return true;
}

// One pass over n values: any NaN/Inf (exponent bits all ones), all zero (+0 or -0). On the bits and without
// branches, so that it vectorises: imports check every value of every video.
void scan_values(const float* x, size_t n, bool& non_finite, bool& all_zero) {
  uint32_t special = 0, any_bits = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    special |= (u & 0x7f800000u) == 0x7f800000u;
    any_bits |= u << 1;  // the sign bit dropped: -0 counts as zero
  }
  non_finite = special != 0;
  all_zero = any_bits == 0;
}

}  // namespace

DatasetChecker::DatasetChecker(std::string source, DatasetProfile profile, std::vector<std::string> classes,
                               bool throw_on_error)
    : source_(std::move(source)),
      profile_(std::move(profile)),
      classes_(std::move(classes)),
      throw_on_error_(throw_on_error) {}

void DatasetChecker::add(bool error, const std::string& kind, const std::string& video, const std::string& what) {
  const std::string msg = source_ + ": " + (video.empty() ? "" : "video '" + video + "': ") + what;
  if (error && throw_on_error_) fail(msg);
  findings_.push_back({error, kind, msg});
}

void DatasetChecker::video(const VideoInfo& v, const float* rows) {
  if (v.subset == profile_.train_subset) ++train_videos_;
  else if (v.subset == profile_.test_subset) ++test_videos_;
  else
    add(false, "subset", v.name,
        "subset '" + v.subset + "' is neither the train ('" + profile_.train_subset + "') nor the test ('" +
            profile_.test_subset + "') subset of profile " + profile_.name + "; training and evaluation skip it");
  check_values(v, rows);
  check_length(v);
  check_padding(v, rows);
  check_labels(v);
}

// T against duration x fps / frames per segment: features from another extractor or frame rate show up here.
void DatasetChecker::check_length(const VideoInfo& v) {
  if (!(v.duration > 0)) return;
  const double expected = v.duration * profile_.fps / profile_.segment_frames;
  const double off = v.num_segments - expected;
  if (std::fabs(off) <= 1.0) return;
  add(false, "length", v.name,
      std::to_string(v.num_segments) + " segments, but its duration " + json(v.duration).dump() + " s at " +
          json(profile_.fps).dump() + " fps and " + std::to_string(profile_.segment_frames) +
          " frames per segment makes " + fixed1(expected) + " (off by " + fixed1(off) + ")");
}

// NaN/Inf (unusable), all-zero and time-constant videos (a failed extraction, a black or frozen video).
void DatasetChecker::check_values(const VideoInfo& v, const float* rows) {
  const size_t T = static_cast<size_t>(v.num_segments), D = static_cast<size_t>(profile_.feature_dim());
  bool non_finite = false, all_zero = true;
  scan_values(rows, T * D, non_finite, all_zero);
  if (non_finite) {
    for (size_t i = 0; i < T * D; ++i)
      if (!std::isfinite(rows[i]))
        return add(true, "non-finite", v.name,
                   "non-finite feature at segment " + std::to_string(i / D) + ", channel " + std::to_string(i % D));
  }
  if (all_zero) return add(false, "zero", v.name, "every feature value is 0 (" + std::to_string(T) + " segments)");
  if (T < 2) return;
  for (size_t t = 1; t < T; ++t)
    if (std::memcmp(rows, rows + t * D, D * sizeof(float)) != 0) return;
  add(false, "constant", v.name, "all " + std::to_string(T) + " segments have the same features (a frozen video?)");
}

// A stream that is zero in the last rows while another is not: a shorter stream padded to the other's length.
void DatasetChecker::check_padding(const VideoInfo& v, const float* rows) {
  const size_t T = static_cast<size_t>(v.num_segments), D = static_cast<size_t>(profile_.feature_dim());
  if (profile_.streams.size() < 2 || T < 2) return;
  size_t col = 0;
  for (const FeatureStream& s : profile_.streams) {
    const size_t w = static_cast<size_t>(s.width);
    size_t k = 0;
    while (k < T && zero_block(rows, D, T - 1 - k, col, w)) ++k;
    if (k > 0 && k < T && !zero_block(rows, D, T - 1, 0, D)) {
      add(false, "padded", v.name,
          "stream '" + s.name + "' is all zero in its last " + std::to_string(k) + " of " + std::to_string(T) +
              " segments while another stream is not (a shorter stream padded with zeros?)");
    }
    col += w;
  }
}

// Weak supervision needs video labels; evaluation needs ground truth; labels should come with instances.
void DatasetChecker::check_labels(const VideoInfo& v0) {
  VideoInfo v = v0;
  if (v.labels.empty()) {  // as DatasetWriter::add_video derives them: the instances' classes
    v.labels.assign(classes_.size(), 0.f);
    for (const Instance& in : v.instances)
      if (in.label >= 0 && static_cast<size_t>(in.label) < classes_.size()) v.labels[static_cast<size_t>(in.label)] = 1.f;
  }
  if (!has_any_label(v)) {
    if (v.subset == profile_.train_subset)
      add(true, "unlabeled", v.name, "no labels in the train subset '" + v.subset + "' (nothing to learn from)");
    else if (v.subset == profile_.test_subset)
      add(false, "unlabeled", v.name,
          "no ground truth in the test subset '" + v.subset + "' (its detections can only be false positives)");
    return;
  }
  for (size_t c = 0; c < v.labels.size() && c < classes_.size(); ++c) {
    if (v.labels[c] == 0.f) continue;
    bool found = false;
    for (const Instance& in : v.instances) found |= in.label == static_cast<int>(c);
    if (!found) add(false, "label-without-instances", v.name, "label '" + classes_[c] + "' has no instance");
  }
}

void DatasetChecker::annotation_only(const VideoInfo& v) {
  if (v.subset == profile_.train_subset)
    add(false, "no-features", v.name,
        "ground truth in the train subset '" + v.subset + "' but no features (not trained on)");
  else if (v.subset == profile_.test_subset)
    add(false, "no-features", v.name,
        "ground truth in the test subset '" + v.subset + "' but no features (its instances count as missed)");
}

std::vector<CheckFinding> DatasetChecker::finish() {
  const int D = profile_.feature_dim();
  if (D != 1024 && D != 2048)
    add(false, "width", "",
        "feature width " + std::to_string(D) + " is neither 1024 nor 2048 (I3D features are 1024 per stream)");
  if (train_videos_ == 0) add(false, "subset", "", "no video with features in the train subset '" + profile_.train_subset + "'");
  if (test_videos_ == 0) add(false, "subset", "", "no video with features in the test subset '" + profile_.test_subset + "'");
  return findings_;
}

void count_findings(CheckReport& report) {
  report.errors = report.warnings = 0;
  for (const CheckFinding& f : report.findings) ++(f.error ? report.errors : report.warnings);
}

CheckReport check_dataset(const Dataset& ds) {
  DatasetChecker checker(ds.path(), ds.profile(), ds.class_names(), false);
  std::vector<float> rows;
  for (size_t i = 0; i < ds.num_videos(); ++i) {
    rows.resize(static_cast<size_t>(ds.video(i).num_segments) * static_cast<size_t>(ds.feature_dim()));
    ds.read_features(i, rows.data());
    checker.video(ds.video(i), rows.data());
  }
  for (const VideoInfo& v : ds.annotation_only_videos()) checker.annotation_only(v);
  CheckReport report;
  report.videos = ds.num_videos();
  report.findings = checker.finish();
  count_findings(report);
  return report;
}

}  // namespace aicl
