// Post-processing unit tests: one per official quirk (Q1-Q6 in shared/oracle/README.md), JSON, accuracy, errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/eval/postprocess.h"

using aicl::Detection;
using aicl::PostprocessConfig;

namespace {

constexpr int kClasses = 20;

// [T, C] activation: 0.05 everywhere, `value` on segments [from, to) of class `c`.
std::vector<float> activation_with_bump(int T, int c, int from, int to, float value) {
  std::vector<float> a(static_cast<size_t>(T) * kClasses, 0.05f);
  for (int t = from; t < to; ++t) a[static_cast<size_t>(t) * kClasses + c] = value;
  return a;
}

std::vector<Detection> oic(const std::vector<double>& up, double thresh, float class_score,
                           const PostprocessConfig& cfg = PostprocessConfig()) {
  std::vector<Detection> out;
  aicl::oic_proposals(up.data(), up.size(), thresh, 3, class_score, 0.5, cfg, out);
  return out;
}

}  // namespace

TEST_CASE("postprocess Q1: GPU semantics, the argmax fallback and the class term use the probabilities") {
  std::vector<float> score(kClasses, 0.04f);
  score[13] = 0.2f;  // below class_thresh 0.25: no class passes
  const PostprocessConfig cfg;
  const auto sel = aicl::select_classes(score.data(), kClasses, cfg);
  REQUIRE(sel.predicted == std::vector<int>{13});  // the argmax, not class 0 (CPU aliasing would pick 0)
  for (int c = 0; c < kClasses; ++c) CHECK(sel.binarized[c] == (c == 13 ? 1.0f : 0.0f));

  const auto act = activation_with_bump(64, 13, 20, 30, 0.9f);
  const auto a = aicl::localize_video(act.data(), score.data(), 64, kClasses, 64, cfg);
  score[13] = 0.15f;  // still the argmax
  const auto b = aicl::localize_video(act.data(), score.data(), 64, kClasses, 64, cfg);
  REQUIRE(!a.empty());
  REQUIRE(a.size() == b.size());
  for (const auto& d : a) CHECK(d.label == 13);
  // the top (kept) detection moves by gamma * (0.2 - 0.15): the class term is gamma * probability, not gamma * 1
  CHECK(a[0].score - b[0].score == Approx(0.2 * (static_cast<double>(0.2f) - static_cast<double>(0.15f))).margin(1e-12));
  CHECK(a[0].t_start == b[0].t_start);
}

TEST_CASE("postprocess Q1: classes at or above class_thresh are predicted, compared in float32") {
  std::vector<float> score(kClasses, 0.01f);
  score[2] = 0.25f;
  score[7] = 0.6f;
  PostprocessConfig cfg;
  CHECK(aicl::select_classes(score.data(), kClasses, cfg).predicted == std::vector<int>{2, 7});
  // numpy compares the float32 score array with float32(class_thresh): 0.25 + 1e-9 rounds to 0.25f
  cfg.class_thresh = 0.25 + 1e-9;
  CHECK(aicl::select_classes(score.data(), kClasses, cfg).predicted == std::vector<int>{2, 7});
  cfg.class_thresh = 0.2500001;
  CHECK(aicl::select_classes(score.data(), kClasses, cfg).predicted == std::vector<int>{7});
}

TEST_CASE("postprocess Q2: gamma lands in lambda_, the outer ratio is 0.2 and the class weight 0.2") {
  const PostprocessConfig defaults;
  CHECK(defaults.outer_ratio == 0.2);
  CHECK(defaults.class_score_weight == 0.2);
  // inner run [10, 19] (length 10) of 1.0; 0.5 on 8, 9, 20, 21; 0 on 7
  std::vector<double> up(40, 0.0);
  for (int j = 10; j <= 19; ++j) up[j] = 1.0;
  for (int j : {8, 9, 20, 21}) up[j] = 0.5;
  const float p = 0.5f;
  auto official = oic(up, 0.6, p, defaults);
  REQUIRE(official.size() == 1);
  CHECK(official[0].score == (1.0 - 0.5) + 0.2 * 0.5);  // outer {8, 9, 20, 21}
  PostprocessConfig signature = defaults;
  signature.outer_ratio = 0.25;  // the signature default that the official call never uses
  auto wider = oic(up, 0.6, p, signature);
  REQUIRE(wider.size() == 1);
  CHECK(wider[0].score == (1.0 - 2.0 / 5) + 0.2 * 0.5);  // outer {7, 8, 9, 20, 21}: int(7.5) = 7, int(21.5) = 21
  PostprocessConfig heavier = defaults;
  heavier.class_score_weight = 0.6;
  CHECK(oic(up, 0.6, p, heavier)[0].score == (1.0 - 0.5) + 0.6 * 0.5);
}

TEST_CASE("postprocess Q3: OIC outer region truncation, empty outer region, times") {
  PostprocessConfig cfg;
  // run [10, 16] (length 7): reach 0.2*7 = 1.4 -> outer [int(8.6), 10) + (16, int(17.4)] = {8, 9, 17}
  std::vector<double> up(30, 0.0);
  for (int j = 10; j <= 16; ++j) up[j] = 0.8;
  up[7] = 0.31;  // just outside on the left: not in the outer region
  up[8] = 0.2;
  up[9] = 0.3;
  up[17] = 0.1;
  up[18] = 0.29;  // just outside on the right
  auto d = oic(up, 0.5, 0.25f, cfg);
  REQUIRE(d.size() == 1);
  const double inner = ((((((0.0 + 0.8) + 0.8) + 0.8) + 0.8) + 0.8) + 0.8 + 0.8) / 7;
  CHECK(d[0].score == (inner - ((0.0 + 0.2) + 0.3 + 0.1) / 3) + 0.2 * 0.25);
  CHECK(d[0].t_start == 10 * 0.5);
  CHECK(d[0].t_end == 17 * 0.5);  // (e + 1) * t_factor

  // a run over the whole sequence has no outer region: outer score 0
  std::vector<double> full(12, 0.7);
  auto whole = oic(full, 0.5, 0.25f, cfg);
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].score == aicl::numpy_mean(full.data(), full.size()) + 0.2 * 0.25);

  // t_factor = 16 * v_len / (scale * T * fps), then s * t_factor and (e + 1) * t_factor
  CHECK(aicl::seconds_per_point(1713, 750, cfg) == 16.0 * 1713 / (24.0 * 750 * 25));
}

TEST_CASE("postprocess Q3: proposals from all thresholds are pooled, exact duplicates survive as decayed copies") {
  // class 4 is high over the whole video: thresholds 0.1 .. 0.3 all give the whole-video proposal
  std::vector<float> act(static_cast<size_t>(32) * kClasses, 0.0f);
  for (int t = 0; t < 32; ++t) act[static_cast<size_t>(t) * kClasses + 4] = 0.35f;
  std::vector<float> score(kClasses, 0.0f);
  score[4] = 1.0f;
  const auto dets = aicl::localize_video(act.data(), score.data(), 32, kClasses, 32, PostprocessConfig());
  REQUIRE(dets.size() == 3);
  CHECK(dets[0].t_start == 0);
  CHECK(dets[0].t_end == 32 * 24 * aicl::seconds_per_point(32, 32, PostprocessConfig()));
  for (int k = 1; k < 3; ++k) {
    CHECK(dets[k].t_start == dets[0].t_start);
    CHECK(dets[k].t_end == dets[0].t_end);
    CHECK(dets[k].score == dets[0].score * std::exp(-1.0 / 0.35));  // IoU 1 with the kept copy
  }
}

TEST_CASE("postprocess Q4: scipy linear upsampling in float64 from float32, extrapolated at the end") {
  const std::vector<float> y = {0.2f, 0.9f};
  const auto up = aicl::upsample_linear(y.data(), 2, 1, 24);
  REQUIRE(up.size() == 48);
  const double slope = static_cast<double>(0.9f - 0.2f);  // float32 difference, then float64
  CHECK(up[0] == static_cast<double>(0.2f));
  for (size_t i = 1; i < up.size(); ++i) {
    const double x = static_cast<double>(i) * (1.0 / 24);
    volatile double product = slope * x;  // rounded before the add, as numpy (no FMA)
    CHECK(up[i] == product + static_cast<double>(0.2f));
  }
  CHECK(up[47] > 1.0);  // 23 points beyond index T-1 are extrapolated, out of [0, 1]
  CHECK(up[47] == Approx(0.2 + 0.7 * 47.0 / 24).epsilon(1e-6));
  CHECK(up[1] != static_cast<double>(static_cast<float>(up[1])));  // float64 values, not float32

  // a column of a [T, C] matrix, descending at the end: extrapolation goes below 0
  std::vector<float> m = {0.f, 0.5f, 0.f, 0.6f, 0.f, 0.1f};  // T=3, C=2, column 1 = 0.5, 0.6, 0.1
  const auto col = aicl::upsample_linear(m.data() + 1, 3, 2, 24);
  REQUIRE(col.size() == 72);
  volatile double rise = static_cast<double>(0.6f - 0.5f) * (24 * (1.0 / 24));
  CHECK(col[24] == rise + static_cast<double>(0.5f));
  CHECK(col[71] < 0.0);
}

TEST_CASE("postprocess Q5: act_thresh holds 0.30000000000000004 and 0.7000000000000001") {
  const PostprocessConfig cfg;
  REQUIRE(cfg.act_thresh.size() == 9);
  CHECK(cfg.act_thresh[2] == 0.30000000000000004);
  CHECK(cfg.act_thresh[2] != 0.3);
  CHECK(cfg.act_thresh[6] == 0.7000000000000001);
  CHECK(cfg.act_thresh[8] == 0.9);
  // values equal to 0.3 are below the official third threshold: no proposal there, one at a literal 0.3
  const std::vector<double> up = {0.0, 0.3, 0.3, 0.3, 0.0, 0.0};
  CHECK(oic(up, cfg.act_thresh[2], 0.5f).empty());
  CHECK(oic(up, 0.3, 0.5f).size() == 1);
}

TEST_CASE("postprocess Q5: a class whose only point above the threshold is index 0 gives no proposal") {
  // the official tests `temp_list.any()` on the indices, which is false for [0]
  CHECK(oic({0.95, 0.1, 0.1, 0.1}, 0.9, 0.5f).empty());
  auto two = oic({0.95, 0.95, 0.1, 0.1}, 0.9, 0.5f);
  REQUIRE(two.size() == 1);
  CHECK(two[0].t_start == 0.0);
  auto later = oic({0.95, 0.1, 0.1, 0.95}, 0.9, 0.5f);  // [0, 3]: any() is true, both runs are kept
  CHECK(later.size() == 2);
}

TEST_CASE("postprocess Q6: NMS IoU with +1 on seconds suppresses disjoint short segments") {
  const std::vector<Detection> props = {{1, 0.9, 0.0, 0.5}, {1, 0.8, 0.6, 1.0}};
  // inter = max(0, 0.5 - 0.6 + 1) = 0.9; IoU = 0.9 / (1.5 + 1.4 - 0.9) = 0.45 >= 0.4
  auto hard = aicl::basnet_nms(props, 0.4, false, 0.35);
  REQUIRE(hard.size() == 1);
  CHECK(hard[0].score == 0.9);
  auto soft = aicl::basnet_nms(props, 0.4, true, 0.35);
  REQUIRE(soft.size() == 2);
  const double iou = (((0.5 - 0.6) + 1)) / ((((0.5 - 0.0) + 1) + ((1.0 - 0.6) + 1)) - ((0.5 - 0.6) + 1));
  CHECK(soft[1].score == 0.8 * std::exp(-(iou * iou) / 0.35));
}

TEST_CASE("postprocess Q6: soft-NMS is one pass, suppressed ones are appended and never re-ranked") {
  const std::vector<Detection> props = {
      {2, 0.9, 0.0, 0.5},  // kept first
      {2, 0.8, 0.6, 1.0},  // suppressed by the first (IoU 0.45): 0.8 * exp(-0.45^2/0.35) = 0.449
      {2, 0.3, 10.0, 12.0},  // kept, although below the decayed score above
      {2, 0.7, 0.55, 1.05},  // suppressed by the first as well; overlaps the second one, never compared to it
  };
  auto out = aicl::basnet_nms(props, 0.4, true, 0.35);
  REQUIRE(out.size() == 4);
  CHECK(out[0].score == 0.9);
  CHECK(out[1].score == 0.3);
  CHECK(out[2].t_start == 0.6);
  CHECK(out[2].score > out[1].score);
  CHECK(out[3].t_start == 0.55);
}

TEST_CASE("postprocess Q6: equal scores come out in reversed numpy argsort order") {
  // n <= 16: numpy's insertion sort keeps index order; argsort()[::-1] reverses it
  const std::vector<Detection> props = {{5, 0.5, 0.0, 1.0}, {5, 0.5, 10.0, 11.0}, {5, 0.5, 20.0, 21.0}};
  auto out = aicl::basnet_nms(props, 0.4, true, 0.35);
  REQUIRE(out.size() == 3);
  CHECK(out[0].t_start == 20.0);
  CHECK(out[1].t_start == 10.0);
  CHECK(out[2].t_start == 0.0);
  // n = 17 zeros: numpy's partition step shuffles the ties (checked against numpy 1.24.2)
  std::vector<double> zeros(17, 0.0);
  CHECK(aicl::numpy_argsort(zeros.data(), zeros.size()) ==
        std::vector<int64_t>{0, 14, 13, 12, 11, 10, 9, 15, 8, 6, 5, 4, 3, 2, 1, 7, 16});
}

TEST_CASE("postprocess: numpy_arange matches numpy's element formula") {
  const auto a = aicl::numpy_arange(0, 3, 1.0 / 24);
  REQUIRE(a.size() == 72);
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == static_cast<double>(i) * (1.0 / 24));
  CHECK(aicl::numpy_arange(1, 1, 0.5).empty());
  CHECK_THROWS_AS(aicl::numpy_arange(0, 1, 0), aicl::Error);
}

TEST_CASE("postprocess: result JSON in the official layout, score key configurable") {
  const std::vector<std::string> names = {"A", "B", "C"};
  std::vector<aicl::VideoDetections> videos = {{"v2", {{2, 0.5, 1.0, 2.5}, {0, 0.25, 0.0, 1.0}}}, {"v1", {}}};
  auto j = aicl::detections_to_json(videos, names);
  CHECK(j["version"] == "VERSION 1.3");
  CHECK(j["external_data"]["used"] == true);
  REQUIRE(j["results"]["v2"].size() == 2);
  CHECK(j["results"]["v2"][0]["label"] == "C");
  CHECK(j["results"]["v2"][0]["score"] == 0.5);
  CHECK(j["results"]["v2"][0]["segment"] == nlohmann::json::array({1.0, 2.5}));
  CHECK(j["results"]["v2"][1]["label"] == "A");
  CHECK(j["results"]["v1"].is_array());
  CHECK(j["results"]["v1"].empty());
  auto official = aicl::detections_to_json(videos, names, "score300");
  CHECK(official["results"]["v2"][0]["score300"] == 0.5);
  CHECK_FALSE(official["results"]["v2"][0].contains("score"));
  videos[0].detections[0].label = 3;
  CHECK_THROWS_WITH(aicl::detections_to_json(videos, names), Catch::Contains("label 3 has no class name"));
  videos[0].detections[0].label = 0;
  videos[1].video = "v2";
  CHECK_THROWS_WITH(aicl::detections_to_json(videos, names), Catch::Contains("listed twice"));
}

TEST_CASE("postprocess Q16: class accuracy needs the whole label vector") {
  std::vector<float> score(kClasses, 0.01f);
  score[3] = 0.5f;
  score[11] = 0.3f;
  const auto sel = aicl::select_classes(score.data(), kClasses, PostprocessConfig());
  std::vector<float> labels(kClasses, 0.0f);
  labels[3] = 1;
  CHECK_FALSE(aicl::class_prediction_exact(sel, labels.data(), kClasses));  // class 11 predicted but absent
  labels[11] = 1;
  CHECK(aicl::class_prediction_exact(sel, labels.data(), kClasses));
  labels[5] = 1;
  CHECK_FALSE(aicl::class_prediction_exact(sel, labels.data(), kClasses));  // class 5 missed
}

TEST_CASE("postprocess: bad inputs are clear errors") {
  std::vector<float> act(kClasses, 0.5f), score(kClasses, 0.5f);
  CHECK_THROWS_WITH(aicl::localize_video(act.data(), score.data(), 1, kClasses, 1, PostprocessConfig()),
                    Catch::Contains("need at least 2 segments"));
  std::vector<float> act2(2 * kClasses, 0.5f);
  CHECK_THROWS_WITH(aicl::localize_video(act2.data(), score.data(), 2, kClasses, 0, PostprocessConfig()),
                    Catch::Contains("vid_num_seg must be >= 1"));
  CHECK_THROWS_WITH(aicl::localize_video(nullptr, score.data(), 2, kClasses, 2, PostprocessConfig()),
                    Catch::Contains("activation is null"));
  CHECK_THROWS_AS(aicl::select_classes(score.data(), 0, PostprocessConfig()), aicl::Error);
}
