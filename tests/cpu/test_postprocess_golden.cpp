// Parity of the post-processing with the official AICL inference() (tests/golden/post, tools/make_post_golden.py).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/eval/postprocess.h"
#include "test_util.h"

namespace {

// AICL_POST_GOLDEN_DIR overrides the directory (e.g. to check a golden set made with --libm-exp).
const std::string kGoldenDir = std::getenv("AICL_POST_GOLDEN_DIR") ? std::string(std::getenv("AICL_POST_GOLDEN_DIR")) + "/"
                                                                   : aicl_test::source_dir() + "/tests/golden/post/";

const aicl::json& golden() {
  static const aicl::json g = aicl::read_json_file(kGoldenDir + "golden.json");
  return g;
}

// inputs.f32: float32 little-endian, addressed by the offsets in golden.json.
const std::vector<float>& golden_inputs() {
  static const std::vector<float> data = [] {
    std::ifstream f(kGoldenDir + "inputs.f32", std::ios::binary);
    REQUIRE(f.good());
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() % 4 == 0);
    std::vector<float> out(bytes.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
      uint32_t u = 0;
      for (int b = 3; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>(bytes[4 * i + b]);
      std::memcpy(&out[i], &u, 4);
    }
    return out;
  }();
  return data;
}

}  // namespace

TEST_CASE("postprocess golden: official act_thresh values") {
  const auto& expected = golden()["act_thresh"];
  const aicl::PostprocessConfig cfg;
  REQUIRE(cfg.act_thresh.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) CHECK(cfg.act_thresh[i] == expected[i].get<double>());
}

TEST_CASE("postprocess golden: detections equal the official inference() on synthetic videos") {
  const auto& g = golden();
  const std::vector<float>& in = golden_inputs();
  const int C = g["num_classes"];
  const aicl::PostprocessConfig cfg;
  size_t total = 0, exact_scores = 0, exact_segments = 0;
  double max_score_diff = 0, max_segment_diff = 0;
  int correct = 0, videos = 0;
  for (const auto& v : g["videos"]) {
    const std::string name = v["name"];
    INFO("video " << name);
    const int T = v["T"];
    const float* combined = in.data() + v["combined_offset"].get<size_t>();
    const float* score = in.data() + v["score_offset"].get<size_t>();
    REQUIRE(v["score_offset"].get<size_t>() + C <= in.size());
    const auto dets = aicl::localize_video(combined, score, T, C, v["v_len"], cfg);
    const auto& expected = v["detections"];
    REQUIRE(dets.size() == expected.size());
    for (size_t k = 0; k < dets.size(); ++k) {
      INFO("detection " << k);
      const auto& e = expected[k];
      REQUIRE(dets[k].label == e[0].get<int>());
      const double ds = std::abs(dets[k].score - e[1].get<double>());
      const double dt = std::max(std::abs(dets[k].t_start - e[2].get<double>()),
                                 std::abs(dets[k].t_end - e[3].get<double>()));
      CHECK(ds <= 1e-12);
      CHECK(dt <= 1e-12);
      max_score_diff = std::max(max_score_diff, ds);
      max_segment_diff = std::max(max_segment_diff, dt);
      exact_scores += ds == 0;
      exact_segments += dt == 0;
      ++total;
    }
    std::vector<float> labels;
    for (const auto& l : v["labels"]) labels.push_back(l.get<float>());
    correct += aicl::class_prediction_exact(aicl::select_classes(score, C, cfg), labels.data(), C);
    ++videos;
  }
  CHECK(total > 300);
  CHECK(static_cast<double>(correct) / videos == g["cls_acc"].get<double>());
  WARN("golden parity: " << total << " detections, exact scores " << exact_scores << ", exact segments "
                         << exact_segments << ", max |score diff| " << max_score_diff
                         << ", max |segment diff| " << max_segment_diff << " s");
}

TEST_CASE("postprocess golden: numpy argsort tie order") {
  for (const auto& c : golden()["argsort"]) {
    const auto values = c["values"].get<std::vector<double>>();
    const auto expected = c["order"].get<std::vector<int64_t>>();
    INFO("n = " << values.size());
    CHECK(aicl::numpy_argsort(values.data(), values.size()) == expected);
  }
}

TEST_CASE("postprocess golden: numpy mean (pairwise, 8192-item blocks)") {
  bool some_differs_from_sequential = false;
  for (const auto& c : golden()["means"]) {
    const size_t n = c["n"];
    std::vector<double> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<double>((i * 7919) % 1000) / 997.0 + (i % 3 == 0 ? 1e6 : 0.0);
    INFO("n = " << n);
    CHECK(aicl::numpy_mean(x.data(), n) == c["mean"].get<double>());
    some_differs_from_sequential |= c["mean"].get<double>() != c["sequential_mean"].get<double>();
  }
  CHECK(some_differs_from_sequential);  // the cases do tell summation orders apart
}

TEST_CASE("postprocess golden: official basnet_nms on tied and duplicate proposals") {
  for (const auto& c : golden()["nms"]) {
    std::vector<aicl::Detection> props;
    for (const auto& p : c["proposals"])
      props.push_back({p[0].get<int>(), p[1].get<double>(), p[2].get<double>(), p[3].get<double>()});
    const bool soft = c["soft"];
    INFO("n = " << props.size() << (soft ? " soft" : " hard"));
    const auto out = aicl::basnet_nms(props, 0.4, soft, 0.35);
    const auto& expected = c["expected"];
    REQUIRE(out.size() == expected.size());
    for (size_t k = 0; k < out.size(); ++k) {
      INFO("k = " << k);
      CHECK(out[k].label == expected[k][0].get<int>());
      CHECK(out[k].score == Approx(expected[k][1].get<double>()).margin(1e-15).epsilon(1e-15));
      CHECK(out[k].t_start == expected[k][2].get<double>());
      CHECK(out[k].t_end == expected[k][3].get<double>());
    }
  }
}
