// A tiny synthetic dataset (8 training videos of up to 60 segments, 2 x 16 channels; by default 4 test videos,
// 3 classes, seed 4) for the trainer tests of methods at small widths.
#pragma once
#include <filesystem>
#include <string>

#include "data/synth.h"

namespace aicl_test {

inline std::string small_synth(const std::filesystem::path& dir, const std::string& name = "small.h5",
                               int test_videos = 4, int num_classes = 3, int seed = 4) {
  aicl::SynthOptions so;
  so.train_videos = 8;
  so.test_videos = test_videos;
  so.max_segments = 60;
  so.stream_dim = 16;
  so.num_classes = num_classes;
  so.seed = seed;
  const std::string data = (dir / name).string();
  aicl::write_synth(so, data);
  return data;
}

}  // namespace aicl_test
