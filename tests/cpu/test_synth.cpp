// Tests of the synthetic dataset: deterministic bytes for a seed, THUMOS-like statistics, the evidence it carries.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "data/dataset.h"
#include "data/synth.h"
#include "test_util.h"

using aicl::SynthOptions;

namespace {

uint64_t fnv1a(const std::vector<float>& v) {
  uint64_t h = 1469598103934665603ULL;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size() * 4; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

SynthOptions small(uint64_t seed) {
  SynthOptions o;
  o.train_videos = 6;
  o.test_videos = 6;
  o.seed = seed;
  o.max_segments = 300;
  o.difficulty = 1.0;  // pinned so that the byte hash below does not depend on the default
  return o;
}

}  // namespace

TEST_CASE("synth: same seed gives the same data, another seed other data") {
  auto a = aicl::make_synth_layout(small(3)), b = aicl::make_synth_layout(small(3)), c = aicl::make_synth_layout(small(4));
  REQUIRE(a.videos.size() == 12);
  bool any_diff = false;
  for (size_t i = 0; i < a.videos.size(); ++i) {
    CHECK(a.videos[i].num_segments == b.videos[i].num_segments);
    CHECK(a.videos[i].instances.size() == b.videos[i].instances.size());
    any_diff |= a.videos[i].num_segments != c.videos[i].num_segments;
  }
  CHECK(any_diff);
  auto fa = aicl::make_synth_features(small(3), a, 2), fb = aicl::make_synth_features(small(3), b, 2);
  CHECK(std::memcmp(fa.data(), fb.data(), fa.size() * 4) == 0);
  // Written files hold the same features as make_synth_features.
  auto dir = aicl_test::temp_dir("synth_det");
  aicl::write_synth(small(3), (dir / "s.h5").string());
  aicl::Dataset ds((dir / "s.h5").string());
  CHECK(ds.read_features(2) == fa);
}

TEST_CASE("synth: bytes are pinned for a seed (portable RNG, no libm, no FMA contraction)") {
  // If this changes, the generator changed: old datasets and documented numbers no longer reproduce.
  SynthOptions o = small(11);
  o.stream_dim = 32;
  auto layout = aicl::make_synth_layout(o);
  std::vector<int> lengths;
  size_t instances = 0;
  for (const auto& v : layout.videos) {
    lengths.push_back(v.num_segments);
    instances += v.instances.size();
  }
  CHECK(lengths == std::vector<int>{204, 147, 160, 300, 207, 114, 145, 144, 239, 131, 120, 130});
  CHECK(instances == 103);
  CHECK(fnv1a(aicl::make_synth_features(o, layout, 0)) == 0x798b92a512c55eb0ULL);
}

TEST_CASE("synth: looks like THUMOS14 where it matters") {
  SynthOptions o;
  o.train_videos = 60;
  o.test_videos = 0;
  o.seed = 5;
  auto layout = aicl::make_synth_layout(o);
  std::vector<int> lengths;
  std::vector<double> inst_len;
  size_t inst = 0;
  int multi_class = 0;
  for (const auto& v : layout.videos) {
    CHECK(v.name.rfind("video_validation_", 0) == 0);
    CHECK(v.subset == "validation");
    lengths.push_back(v.num_segments);
    inst += v.instances.size();
    const float ncls = std::accumulate(v.labels.begin(), v.labels.end(), 0.f);
    CHECK(ncls >= 1);
    CHECK(ncls <= 3);
    multi_class += ncls > 1;
    double prev_end = -1;
    for (const auto& in : v.instances) {
      inst_len.push_back(in.end - in.start);
      CHECK(in.start >= prev_end);  // sorted, non-overlapping, background between
      CHECK(in.end <= v.duration + 1e-9);
      prev_end = in.end;
    }
    CHECK(std::floor(v.duration * 25 / 16) == v.num_segments);
  }
  std::sort(lengths.begin(), lengths.end());
  std::sort(inst_len.begin(), inst_len.end());
  CHECK(lengths.front() < 100);
  CHECK(lengths.back() > 600);
  const double per_video = static_cast<double>(inst) / layout.videos.size();
  CHECK(per_video > 8);
  CHECK(per_video < 25);
  const double median_len = inst_len[inst_len.size() / 2];
  CHECK(median_len > 2.0);
  CHECK(median_len < 4.5);
  CHECK(multi_class > 3);
  CHECK(multi_class < 40);
}

TEST_CASE("synth: RGB context without motion, flow motion only inside actions, values >= 0") {
  SynthOptions o = small(8);
  o.train_videos = 4;
  o.test_videos = 0;
  o.difficulty = 0.0;  // no noise: look at the signal itself
  auto layout = aicl::make_synth_layout(o);
  const int D = o.stream_dim;
  double rgb_act = 0, rgb_bg = 0, flow_act = 0, flow_bg = 0, rgb_ctx = 0, flow_ctx = 0;
  int n_act = 0, n_bg = 0, n_ctx = 0;
  for (size_t i = 0; i < layout.videos.size(); ++i) {
    const auto& v = layout.videos[i];
    auto f = aicl::make_synth_features(o, layout, i);
    CHECK(*std::min_element(f.begin(), f.end()) >= 0.f);
    for (int t = 0; t < v.num_segments; ++t) {
      const double mid = (t + 0.5) * 0.64;
      bool inside = false, far = true, near = false;
      for (const auto& in : v.instances) {
        inside |= mid >= in.start - 0.32 && mid <= in.end + 0.32;
        far &= mid < in.start - 4 || mid > in.end + 4;
        near |= (mid > in.start - 1.3 && mid < in.start - 0.4) || (mid > in.end + 0.4 && mid < in.end + 1.3);
      }
      double r = 0, fl = 0;
      for (int k = 0; k < D; ++k) {
        r += f[static_cast<size_t>(t * 2 * D + k)];
        fl += f[static_cast<size_t>(t * 2 * D + D + k)];
      }
      if (inside) rgb_act += r, flow_act += fl, ++n_act;
      else if (far) rgb_bg += r, flow_bg += fl, ++n_bg;
      else if (near) rgb_ctx += r, flow_ctx += fl, ++n_ctx;
    }
  }
  REQUIRE(n_ctx > 10);
  // Context ("the diving platform without the dive"): RGB close to the action, flow close to the background.
  CHECK(rgb_ctx / n_ctx > 1.1 * rgb_bg / n_bg);
  CHECK(flow_ctx / n_ctx < 0.9 * flow_act / n_act);
  UNSCOPED_INFO("rgb act/ctx/bg " << rgb_act / n_act << " " << rgb_ctx / n_ctx << " " << rgb_bg / n_bg);
  UNSCOPED_INFO("flow act/ctx/bg " << flow_act / n_act << " " << flow_ctx / n_ctx << " " << flow_bg / n_bg);
  REQUIRE(n_act > 10);
  REQUIRE(n_bg > 10);
  CHECK(rgb_act / n_act > 1.1 * rgb_bg / n_bg);
  CHECK(flow_act / n_act > 1.2 * flow_bg / n_bg);
}

TEST_CASE("synth: --classes and --stream-width set the shapes, the names and the recorded profile") {
  SynthOptions o = small(2);
  o.num_classes = 5;
  o.stream_dim = 64;
  auto dir = aicl_test::temp_dir("synth_shapes");
  const std::string p = (dir / "s.h5").string();
  aicl::write_synth(o, p);
  aicl::Dataset ds(p);
  CHECK(ds.feature_dim() == 128);
  CHECK(ds.class_names() == std::vector<std::string>(aicl::thumos14_class_names().begin(),
                                                     aicl::thumos14_class_names().begin() + 5));
  CHECK(ds.profile().streams == std::vector<aicl::FeatureStream>{{"rgb", 64}, {"flow", 64}});
  CHECK(ds.profile().tiou == aicl::DatasetProfile::thumos14().tiou);
  CHECK(ds.profile_note().empty());
  for (size_t i = 0; i < ds.num_videos(); ++i) {
    CHECK(ds.video(i).labels.size() == 5);
    for (const auto& in : ds.video(i).instances) CHECK(in.label < 5);
  }
  CHECK(ds.read_features(0).size() == static_cast<size_t>(ds.video(0).num_segments) * 128);

  auto names = aicl::synth_class_names(23);
  CHECK(names.size() == 23);
  CHECK(names[19] == "VolleyballSpiking");
  CHECK(names[20] == "class_20");
  CHECK(names[22] == "class_22");
  auto many = aicl::synth_class_names(120);
  CHECK(many[20] == "class_020");
  CHECK(std::is_sorted(many.begin(), many.end()));
  CHECK(aicl::synth_class_names(1) == std::vector<std::string>{"BaseballPitch"});
  CHECK_THROWS_WITH(aicl::synth_class_names(0), Catch::Contains("--classes"));
  // A single class still works (1 class per video at most), and many classes fill the labels.
  o.num_classes = 1;
  CHECK(aicl::make_synth_layout(o).videos.size() == 12);
  o.num_classes = 40;
  for (const auto& v : aicl::make_synth_layout(o).videos) CHECK(v.labels.size() == 40);
}

namespace {

// ../shared/data/<name> or skip (exit 77).
std::string shared_anno_or_skip(const std::string& name) {
  const std::string d = aicl_test::shared_dir() + "/data/" + name;
  if (!std::filesystem::exists(d + "/gt.json")) aicl_test::skip("real annotations not found at " + d);
  return d;
}

}  // namespace

TEST_CASE("synth: --profile anet13 without --anno is ActivityNet-like (100-200 segments, 1-3 long instances)") {
  SynthOptions o;
  o.profile = "anet13";
  o.num_classes = 200;
  o.train_videos = 80;
  o.test_videos = 20;
  o.seed = 3;
  const auto layout = aicl::make_synth_layout(o);
  REQUIRE(layout.videos.size() == 100);
  REQUIRE(layout.classes.size() == 200);
  CHECK(layout.classes.front() == "class_000");
  CHECK(layout.classes.back() == "class_199");
  CHECK(layout.videos[0].name == "v_training_0000001");
  CHECK(layout.videos[80].name == "v_validation_0000001");
  CHECK(layout.videos[80].subset == "validation");
  std::vector<int> lengths;
  double covered = 0, total = 0;
  for (const auto& v : layout.videos) {
    lengths.push_back(v.num_segments);
    CHECK(v.instances.size() >= 1);
    CHECK(v.instances.size() <= 3);
    CHECK(std::accumulate(v.labels.begin(), v.labels.end(), 0.f) == 1.f);  // one class per video
    double prev_end = -1;
    for (const auto& in : v.instances) {
      CHECK(in.start >= prev_end);
      CHECK(in.end <= v.duration + 1e-9);
      covered += in.end - in.start;
      prev_end = in.end;
    }
    total += v.duration;
    CHECK(std::floor(v.duration * 25 / 16) == v.num_segments);
  }
  std::sort(lengths.begin(), lengths.end());
  CHECK(lengths[lengths.size() / 2] > 110);
  CHECK(lengths[lengths.size() / 2] < 190);
  CHECK(covered / total > 0.3);  // long instances: about half of each video
  CHECK(covered / total < 0.7);
  // The file records the ActivityNet profile with the chosen stream width.
  o.stream_dim = 16;
  o.train_videos = 3;
  o.test_videos = 2;
  auto dir = aicl_test::temp_dir("synth_anet");
  aicl::write_synth(o, (dir / "a.h5").string());
  aicl::Dataset ds((dir / "a.h5").string());
  aicl::DatasetProfile want = aicl::DatasetProfile::anet13();
  want.streams = {{"rgb", 16}, {"flow", 16}};
  CHECK(ds.profile() == want);
  CHECK(ds.num_classes() == 200);
  CHECK(ds.subset_indices("training").size() == 3);
  CHECK_THAT(ds.source(), Catch::Contains("profile=anet13") && Catch::Contains("classes=200"));
}

TEST_CASE("synth: --profile anet13 --anno takes the real ActivityNet v1.3 names, durations, classes and subsets") {
  SynthOptions o;
  o.profile = "anet13";
  o.anno_dir = shared_anno_or_skip("anet13");
  o.train_videos = 5;
  o.test_videos = 4;
  o.stream_dim = 16;
  const auto layout = aicl::make_synth_layout(o);
  REQUIRE(layout.videos.size() == 9);
  CHECK(layout.classes.size() == 200);
  CHECK(std::is_sorted(layout.classes.begin(), layout.classes.end()));
  CHECK(layout.videos[0].name == "v_QOlSCBRmfWY");  // the first line of split_train.txt
  CHECK(layout.videos[0].subset == "training");
  CHECK(layout.videos[5].subset == "validation");
  CHECK(layout.videos[0].duration == 82.73);
  CHECK(layout.videos[0].num_segments == static_cast<int>(std::floor(82.73 * 25.0 / 16.0)));
  CHECK(layout.annotation_only.empty());
  o.profile = "anet12";  // v1.3's labels are not all v1.2's, but any profile reads its own annotations' classes
  o.anno_dir = shared_anno_or_skip("anet12");
  const auto l12 = aicl::make_synth_layout(o);
  CHECK(l12.classes.size() == 100);
  CHECK(l12.videos[0].name == "video_4");
}
