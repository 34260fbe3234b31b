// Slow tests of the data tools at full THUMOS14 size: the default synth set and the real-annotation layout.
#include <catch2/catch.hpp>

#include "data/dataset.h"
#include "data/synth.h"
#include "test_util.h"

TEST_CASE("data: full-size synth has THUMOS14's size and reads back in bulk") {
  auto dir = aicl_test::temp_dir("slow_synth_full");
  const std::string p = (dir / "full.h5").string();
  const size_t segments = aicl::write_synth(aicl::SynthOptions{}, p);
  aicl::Dataset ds(p);
  CHECK(ds.subset_indices("validation").size() == 200);
  CHECK(ds.subset_indices("test").size() == 210);
  CHECK(ds.total_segments() == segments);
  CHECK(segments > 100000);
  CHECK(segments < 170000);
  std::vector<float> all(ds.total_segments() * static_cast<size_t>(ds.feature_dim()));
  ds.read_all_features(all.data());
  CHECK(std::vector<float>(all.begin() + static_cast<long>(ds.row_offset(7) * 2048),
                           all.begin() + static_cast<long>(ds.row_offset(8) * 2048)) == ds.read_features(7));
  std::filesystem::remove_all(dir);
}

TEST_CASE("data: synth with the real THUMOS14 annotations keeps names, splits and extra gt entries") {
  const std::string anno = aicl_test::thumos_anno_or_skip();
  aicl::SynthOptions o;
  o.anno_dir = anno;
  o.train_videos = -1;
  o.test_videos = -1;
  auto layout = aicl::make_synth_layout(o);
  CHECK(layout.videos.size() == 410);
  CHECK(layout.videos[0].name == "video_validation_0000051");
  CHECK(layout.videos[0].subset == "validation");
  CHECK(layout.annotation_only.size() == 2);  // video_test_0000270 and video_test_0001496
  o.max_segments = 100;
  auto cropped = aicl::make_synth_layout(o);
  for (const auto& v : cropped.videos) CHECK(v.num_segments <= 100);
  CHECK(cropped.annotation_only.empty());
}
