// Tests of the dataset checks (aicl_data check and every import): each finding names the video, errors only where
// the data is unusable.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

#include "data/check.h"
#include "data/dataset.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl::VideoInfo;

namespace {

// Two streams of 2 columns; THUMOS14's subsets and timing (0.64 s per segment).
aicl::DatasetProfile small_profile() {
  aicl::DatasetProfile p;
  p.streams = {{"rgb", 2}, {"flow", 2}};
  return p;
}

std::vector<float> varied(int T, float base = 1.f) {
  std::vector<float> f(static_cast<size_t>(T) * 4);
  for (size_t i = 0; i < f.size(); ++i) f[i] = base + 0.5f * static_cast<float>(i % 7) + 0.01f * static_cast<float>(i);
  return f;
}

VideoInfo video(const std::string& name, const std::string& subset, int T, std::vector<aicl::Instance> inst,
                std::vector<float> labels = {}) {
  return {name, subset, T, T * 0.64 + 0.1, std::move(labels), std::move(inst)};
}

std::vector<aicl::CheckFinding> findings_for(const VideoInfo& v, const std::vector<float>& rows) {
  aicl::DatasetChecker c("d.h5", small_profile(), {"A", "B"}, false);
  VideoInfo w = v;
  if (w.labels.empty()) {
    w.labels.assign(2, 0.f);
    for (const auto& in : w.instances) w.labels[static_cast<size_t>(in.label)] = 1.f;
  }
  c.video(w, rows.data());
  auto all = c.finish();
  std::vector<aicl::CheckFinding> out;
  for (const auto& f : all)
    if (f.message.find("video '") != std::string::npos) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("check: a clean video has no finding") {
  CHECK(findings_for(video("v", "validation", 6, {{0.5, 1.5, 0}}), varied(6)).empty());
}

TEST_CASE("check: length, zero, constant, padding, labels: one line each, naming the video") {
  // T against duration x 25 / 16: 6 segments but 20 s.
  VideoInfo v = video("long", "validation", 6, {{0.5, 1.5, 0}});
  v.duration = 20;
  auto f = findings_for(v, varied(6));
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == "length");
  CHECK_FALSE(f[0].error);
  CHECK(f[0].message == "d.h5: video 'long': 6 segments, but its duration 20.0 s at 25.0 fps and 16 frames per segment "
                        "makes 31.2 (off by -25.2)");
  f = findings_for(video("z", "validation", 5, {{0.5, 1.5, 0}}), std::vector<float>(20, 0.f));
  REQUIRE(f.size() == 1);
  CHECK(f[0].message == "d.h5: video 'z': every feature value is 0 (5 segments)");
  std::vector<float> same(16);
  for (size_t i = 0; i < same.size(); ++i) same[i] = static_cast<float>(i % 4) + 1.f;
  f = findings_for(video("c", "validation", 4, {{0.5, 1.5, 0}}), same);
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == "constant");
  std::vector<float> padded = varied(6);
  for (int t = 4; t < 6; ++t) padded[static_cast<size_t>(t) * 4 + 2] = padded[static_cast<size_t>(t) * 4 + 3] = 0.f;
  f = findings_for(video("p", "validation", 6, {{0.5, 1.5, 0}}), padded);
  REQUIRE(f.size() == 1);
  CHECK(f[0].message == "d.h5: video 'p': stream 'flow' is all zero in its last 2 of 6 segments while another stream "
                        "is not (a shorter stream padded with zeros?)");
  f = findings_for(video("l", "validation", 6, {{0.5, 1.5, 0}}, {1.f, 1.f}), varied(6));
  REQUIRE(f.size() == 1);
  CHECK(f[0].message == "d.h5: video 'l': label 'B' has no instance");
}

TEST_CASE("check: NaN/Inf and unlabeled training videos are errors, unlabeled test videos warnings") {
  std::vector<float> bad = varied(3);
  bad[2 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
  auto f = findings_for(video("n", "test", 3, {{0.5, 1.5, 0}}), bad);
  REQUIRE(f.size() == 1);
  CHECK(f[0].error);
  CHECK(f[0].message == "d.h5: video 'n': non-finite feature at segment 2, channel 1");
  f = findings_for(video("u", "validation", 3, {}), varied(3));
  REQUIRE(f.size() == 1);
  CHECK(f[0].error);
  CHECK(f[0].message == "d.h5: video 'u': no labels in the train subset 'validation' (nothing to learn from)");
  f = findings_for(video("t", "test", 3, {}), varied(3));
  REQUIRE(f.size() == 1);
  CHECK_FALSE(f[0].error);
  // An import stops at the first error.
  aicl::DatasetChecker strict("root", small_profile(), {"A", "B"}, true);
  VideoInfo u = video("u", "validation", 3, {}, {0.f, 0.f});
  CHECK_THROWS_WITH(strict.video(u, varied(3).data()),
                    "root: video 'u': no labels in the train subset 'validation' (nothing to learn from)");
}

TEST_CASE("check: whole files: width, empty subsets, ground truth without features, check_dataset reads every video") {
  auto dir = aicl_test::temp_dir("check_file");
  const std::string p = (dir / "d.h5").string();
  {
    aicl::DatasetWriterOptions o;
    o.profile = small_profile();
    aicl::DatasetWriter w(p, {"A", "B"}, 4, o);
    w.add_video(video("ok", "validation", 6, {{0.5, 1.5, 0}}), varied(6).data());
    w.add_video(video("zero", "validation", 3, {{0.5, 1.5, 1}}), std::vector<float>(12, 0.f).data());
    w.add_video(video("nolabel", "validation", 4, {}), varied(4).data());
    w.add_annotation_only({"gt_only", "test", 0, 10.0, {}, {{1, 2, 0}}});
    w.finish();
  }
  const aicl::CheckReport r = aicl::check_dataset(aicl::Dataset(p));
  CHECK(r.videos == 3);
  CHECK(r.errors == 1);
  std::vector<std::string> messages;
  for (const auto& f : r.findings) messages.push_back(f.message);
  CHECK(messages == std::vector<std::string>{
                        p + ": video 'zero': every feature value is 0 (3 segments)",
                        p + ": video 'nolabel': no labels in the train subset 'validation' (nothing to learn from)",
                        p + ": video 'gt_only': ground truth in the test subset 'test' but no features (its instances "
                            "count as missed)",
                        p + ": feature width 4 is neither 1024 nor 2048 (I3D features are 1024 per stream)",
                        p + ": no video with features in the test subset 'test'"});
}
