// Speed of the inference post-processing (localize_video) on 210 videos of T=750, as in the THUMOS14 test split.
//
// Run: build/bin/bench_postprocess
// The videos cycle through the three T=750 videos of tests/golden/post (combined CAS and video scores captured
// from the official inference(); 2, 1 and 2 predicted classes). The same workload through the official Python
// code: `tools/make_post_golden.py /tmp/x --time-official=210`.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/eval/postprocess.h"

namespace {

struct Video {
  std::vector<float> combined, score;
  int T = 0, v_len = 0;
};

std::string golden_dir() {
  std::string here = __FILE__;  // <repo>/bench/bench_postprocess.cpp
  return here.substr(0, here.rfind("/bench/")) + "/tests/golden/post/";
}

const std::vector<Video>& long_videos() {
  static const std::vector<Video> videos = [] {
    const aicl::json g = aicl::read_json_file(golden_dir() + "golden.json");
    std::ifstream f(golden_dir() + "inputs.f32", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<float> all(bytes.size() / 4);
    std::memcpy(all.data(), bytes.data(), all.size() * 4);  // little-endian host
    const int C = g["num_classes"];
    std::vector<Video> out;
    for (const auto& v : g["videos"]) {
      if (v["T"].get<int>() != 750) continue;
      Video x;
      x.T = v["T"];
      x.v_len = v["v_len"];
      const size_t co = v["combined_offset"], so = v["score_offset"];
      x.combined.assign(all.begin() + co, all.begin() + co + static_cast<size_t>(x.T) * C);
      x.score.assign(all.begin() + so, all.begin() + so + C);
      out.push_back(std::move(x));
    }
    return out;
  }();
  return videos;
}

void BM_Localize210VideosT750(benchmark::State& state) {
  const auto& videos = long_videos();
  if (videos.empty()) {
    state.SkipWithError("no T=750 videos in tests/golden/post");
    return;
  }
  const aicl::PostprocessConfig cfg;
  size_t detections = 0;
  for (auto _ : state) {
    detections = 0;
    for (int k = 0; k < 210; ++k) {
      const Video& v = videos[k % videos.size()];
      auto d = aicl::localize_video(v.combined.data(), v.score.data(), v.T, 20, v.v_len, cfg);
      detections += d.size();
      benchmark::DoNotOptimize(d.data());
    }
  }
  state.counters["detections"] = static_cast<double>(detections);
}
BENCHMARK(BM_Localize210VideosT750)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
