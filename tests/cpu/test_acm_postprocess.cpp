// The "acm" post-processing (official ACM-Net / FTCL test_thu.py; spec ftcl.md 4.1) against hand-computed cases:
// class selection (> for prediction, >= for accuracy, argmax fallback), the CAS branch scored on the thresholded
// CAS, the attention branch on the raw CAS, runs of one point dropped, the index-0 rule, extrapolated upsampling,
// hard NMS, and the overrides a method declares it with.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/eval/postprocess.h"
#include "core/methods/registry.h"
#include "test_util.h"

using aicl::Detection;
using aicl::PostprocessConfig;

namespace {

// scale 1 (no interpolation: point i = segment i), one CAS and one attention threshold, FTCL's OIC and NMS.
PostprocessConfig plain_cfg() {
  PostprocessConfig c;
  c.kind = "acm";
  c.scale = 1;
  c.act_thresh = {0.5};
  c.att_thresh = {0.5};
  c.outer_ratio = 0.2;
  c.class_score_weight = 0;
  c.nms_thresh = 0.55;
  c.soft_nms = false;
  return c;
}

// T = 12 segments; class 1 of 2, with a background column last (stride 3): class 1 peaks on 2..6 and has a lone
// point at 9; the attention [T, 3] is 0.6 on 3..5 in column 0.
const std::vector<float> kCol = {0, 0.25f, 0.5f, 0.75f, 1.0f, 0.75f, 0.5f, 0.25f, 0, 0.75f, 0, 0};

std::vector<float> cas_rows() {
  std::vector<float> cas(12 * 3, 0.0f);
  for (int t = 0; t < 12; ++t) cas[size_t(t) * 3 + 1] = kCol[size_t(t)], cas[size_t(t) * 3 + 2] = 0.5f;
  return cas;
}

std::vector<float> att_rows() {
  std::vector<float> att(12 * 3, 0.1f);
  for (int t = 3; t <= 5; ++t) att[size_t(t) * 3] = 0.6f;
  return att;
}

// One video's detections against the official ones (labels by name, segments and scores exactly): the counts of
// detections and bit-exact scores and the worst score difference accumulate in the arguments.
void compare_official(const std::vector<Detection>& d, const aicl::json& off, const std::vector<std::string>& names,
                      size_t& n_det, size_t& n_exact, double& worst) {
  REQUIRE(d.size() == off.size());
  for (size_t i = 0; i < d.size(); ++i) {
    CHECK(names[size_t(d[i].label)] == off[i]["label"].get<std::string>());
    CHECK(d[i].t_start == off[i]["segment"][0].get<double>());
    CHECK(d[i].t_end == off[i]["segment"][1].get<double>());
    const double s = off[i]["score"].get<double>();
    worst = std::max(worst, std::abs(d[i].score - s));
    n_exact += d[i].score == s;
    ++n_det;
  }
}

}  // namespace

TEST_CASE("acm postprocess: classes above the threshold are predicted, at it only counted for accuracy, else argmax",
          "[acm]") {
  PostprocessConfig c = plain_cfg();
  c.class_thresh = 0.25;
  const float a[3] = {0.25f, 0.1f, 0.3f};
  aicl::ClassSelection s = aicl::select_classes_acm(a, 3, c);
  CHECK(s.binarized == std::vector<float>{1, 0, 1});  // pred_np: >= 0.25
  CHECK(s.predicted == std::vector<int>{2});           // np.where(score > 0.25)
  const float b[3] = {0.2f, 0.25f, 0.25f};  // none above: the first argmax, no fallback in the accuracy vector
  s = aicl::select_classes_acm(b, 3, c);
  CHECK(s.binarized == std::vector<float>{0, 1, 1});
  CHECK(s.predicted == std::vector<int>{1});
  const float labels[3] = {0, 1, 1};
  CHECK(aicl::class_prediction_exact(s, labels, 3));
}

TEST_CASE("acm postprocess: the CAS branch scores the thresholded CAS, the attention branch the raw CAS", "[acm]") {
  const std::vector<float> cas = cas_rows(), att = att_rows();
  const float score[2] = {0.1f, 0.9f};
  PostprocessConfig c = plain_cfg();
  c.nms_thresh = 1.5;  // keep both
  const std::vector<Detection> d = aicl::localize_video_acm(cas.data(), 3, att.data(), 3, score, 12, 2, 12, c);
  REQUIRE(d.size() == 2);
  const double f = 16.0 * 12 / (1.0 * 12 * 25);  // t_factor = 0.64
  // CAS at 0.5: the run 2..6 (the lone 9 is dropped); outer = {1, 7} (int(2 - 1.0), int(6 + 1.0)), zeroed there.
  CHECK(d[0].label == 1);
  CHECK(d[0].score == 3.5 / 5);
  CHECK(d[0].t_start == 2 * f);
  CHECK(d[0].t_end == 7 * f);
  // attention at 0.5: the run 3..5; outer = {2} (int(3 - 0.6) = 2, int(5 + 0.6) = 5), the raw CAS 0.5 there.
  CHECK(d[1].score == 2.5 / 3 - 0.5);
  CHECK(d[1].t_start == 3 * f);
  CHECK(d[1].t_end == 6 * f);
  // hard NMS 0.55: IoU (+1 on seconds) = (3.84 - 1.92 + 1) / (4.48 - 1.28 + 1) = 0.695 suppresses the second.
  c.nms_thresh = 0.55;
  const std::vector<Detection> n = aicl::localize_video_acm(cas.data(), 3, att.data(), 3, score, 12, 2, 12, c);
  REQUIRE(n.size() == 1);
  CHECK(n[0].score == 3.5 / 5);
  // gamma: the class-score term (0 in FTCL) is the only place the video score enters
  c.class_score_weight = 0.5;
  const std::vector<Detection> g = aicl::localize_video_acm(cas.data(), 3, att.data(), 3, score, 12, 2, 12, c);
  REQUIRE(g.size() == 1);
  CHECK(g[0].score == 3.5 / 5 + 0.5 * double(0.9f));
}

TEST_CASE("acm postprocess: one-point runs and a run of only index 0 give nothing, a 2-point run at 0 counts",
          "[acm]") {
  PostprocessConfig c = plain_cfg();
  std::vector<Detection> out;
  const std::vector<double> only0 = {0.9, 0.1, 0.1, 0.1};
  aicl::acm_proposals(only0.data(), only0.data(), true, 4, 0.5, 0, 0, 0.0, 1.0, c, out);
  CHECK(out.empty());
  const std::vector<double> lone = {0.1, 0.9, 0.1, 0.9};
  aicl::acm_proposals(lone.data(), lone.data(), false, 4, 0.5, 0, 0, 0.0, 1.0, c, out);
  CHECK(out.empty());
  const std::vector<double> start = {0.9, 0.8, 0.1, 0.1};  // a run starting at 0 counts when it has 2 points
  aicl::acm_proposals(start.data(), start.data(), false, 4, 0.5, 0, 0, 0.0, 1.0, c, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].score == (0.9 + 0.8) / 2);  // outer: [0, 0) and (1, int(1 + 0.4) = 1]: empty, so 0
}

TEST_CASE("acm postprocess: x20 upsampling extrapolates the last 19 points, a run reaching both ends has no outer",
          "[acm]") {
  PostprocessConfig c = plain_cfg();
  c.scale = 20;
  c.act_thresh = {0.15};
  c.att_thresh = {};
  const float cas[2] = {0.5f, 1.0f};  // C = 1, stride 1
  const float att[2] = {0.0f, 0.0f};
  const float score[1] = {0.1f};  // below 0.25: the argmax fallback
  const std::vector<Detection> d = aicl::localize_video_acm(cas, 1, att, 1, score, 2, 1, 7, c);
  REQUIRE(d.size() == 1);
  std::vector<double> up(40);
  for (int i = 0; i < 40; ++i) up[size_t(i)] = 0.5 * (i * (1.0 / 20)) + 0.5;  // up to 1.475: extrapolated
  CHECK(d[0].score == aicl::numpy_mean(up.data(), up.size()));
  const double f = 16.0 * 7 / (20.0 * 2 * 25);
  CHECK(d[0].t_start == 0.0);
  CHECK(d[0].t_end == 40 * f);
}

TEST_CASE("acm postprocess: the overrides a method declares (kind, arange thresholds, test sampling)", "[acm]") {
  PostprocessConfig c;
  aicl::apply_postprocess_overrides(
      c,
      nlohmann::json{{"kind", "acm"},
                 {"act_thresh", {{"arange", {0.15, 0.25, 0.05}}}},
                 {"att_thresh", {{"arange", {0.15, 1.00, 0.05}}}},
                 {"test_sampling", "uniform_keep_short"},
                 {"soft_nms", false}},
      "method x");
  CHECK(c.kind == "acm");
  CHECK(c.test_sampling == "uniform_keep_short");
  CHECK(c.act_thresh == std::vector<double>{0.15, 0.2});
  // np.arange(0.15, 1.00, 0.05), as numpy 1.24 prints it
  CHECK(c.att_thresh == std::vector<double>{0.15, 0.2, 0.25, 0.30000000000000004, 0.3500000000000001,
                                            0.40000000000000013, 0.45000000000000007, 0.5000000000000001,
                                            0.5500000000000002, 0.6000000000000002, 0.6500000000000002,
                                            0.7000000000000002, 0.7500000000000002, 0.8000000000000003,
                                            0.8500000000000002, 0.9000000000000002, 0.9500000000000003});
  aicl::apply_postprocess_overrides(c, nlohmann::json{{"att_thresh", {0.5, 0.25}}}, "method x");
  CHECK(c.att_thresh == std::vector<double>{0.5, 0.25});
  CHECK_THROWS_WITH(aicl::apply_postprocess_overrides(c, nlohmann::json{{"kind", "sal"}}, "method x"),
                    "method x: unknown or malformed post-processing key 'kind'");
  CHECK_THROWS_WITH(aicl::apply_postprocess_overrides(c, nlohmann::json{{"att_thresh", {{"arange", {1, 0, 0.1}}}}}, "m"),
                    Catch::Contains("'att_thresh' must be {\"arange\""));
}

// Parity with the official FTCL test() (test_thu.py) on synthetic model outputs: tests/golden/ftcl_infer/golden.json
// from tools/make_ftcl_infer_golden.py, post-processed with the settings FtclMethod declares on the THUMOS14 profile.
TEST_CASE("acm postprocess golden: FTCL's declared post-processing gives the official test_thu detections",
          "[acm][golden]") {
  const aicl::json g = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/ftcl_infer/golden.json");
  const std::unique_ptr<aicl::Method> m = aicl::make_method("ftcl", aicl::MethodContext{}, aicl::json::object(), "t");
  PostprocessConfig cfg = aicl::postprocess_config_for(aicl::DatasetProfile::thumos14());
  aicl::apply_postprocess_overrides(cfg, m->postprocess_overrides(), "method ftcl");
  REQUIRE(cfg.kind == "acm");
  CHECK(cfg.test_sampling == "uniform_keep_short");
  CHECK(cfg.tiou == std::vector<double>{0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001});
  const std::vector<std::string> names = g["class_names"].get<std::vector<std::string>>();
  const int K = 20;
  size_t n_det = 0, n_exact = 0, correct = 0;
  double worst = 0;
  for (const aicl::json& v : g["videos"]) {
    const int T = v["T"].get<int>(), L = v["L"].get<int>();
    const std::vector<double> cas_d = v["cas"].get<std::vector<double>>(), att_d = v["att"].get<std::vector<double>>(),
                              vid_d = v["video"].get<std::vector<double>>();
    const std::vector<float> cas(cas_d.begin(), cas_d.end()), att(att_d.begin(), att_d.end());
    std::vector<float> score(vid_d.begin(), vid_d.begin() + K);  // the background column dropped
    const std::vector<double> lab_d = v["labels"].get<std::vector<double>>();
    const std::vector<float> labels(lab_d.begin(), lab_d.end());
    if (aicl::class_prediction_exact(aicl::select_classes_acm(score.data(), K, cfg), labels.data(), K)) ++correct;
    const std::vector<Detection> d =
        aicl::localize_video_acm(cas.data(), K + 1, att.data(), 3, score.data(), T, K, L, cfg);
    INFO(v["name"].get<std::string>());
    compare_official(d, g["official"][v["name"].get<std::string>()], names, n_det, n_exact, worst);
  }
  WARN("acm golden: " << n_det << " detections, " << n_exact << " scores bit-exact, worst |diff| " << worst);
  CHECK(n_exact == n_det);
  CHECK(static_cast<double>(correct) / g["videos"].size() == g["test_acc"].get<double>());
}

// Parity with ACM-Net's ActivityNet 1.3 test (main_act.py test()), which FTCL's ActivityNet variant declares (FTCL has
// no ActivityNet test of its own): tests/golden/acm_anet_infer/golden.json from tools/make_acm_anet_infer_golden.py,
// post-processed with FtclMethod's overrides on the anet13 profile: 0.7·CAS + 0.3·attention per branch, λ 0.15,
// class-score weights 0 / 0.25, thresholds 0.005..0.02, hard NMS 0.90, class threshold 0.10.
TEST_CASE("acm postprocess golden: FTCL's ActivityNet post-processing gives ACM-Net's main_act test detections",
          "[acm][golden]") {
  const aicl::json g = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/acm_anet_infer/golden.json");
  aicl::MethodContext ctx;
  ctx.num_classes = 200, ctx.profile = "anet13";
  const std::unique_ptr<aicl::Method> m = aicl::make_method("ftcl", ctx, aicl::json::object(), "t");
  PostprocessConfig cfg = aicl::postprocess_config_for(aicl::DatasetProfile::anet13());
  aicl::apply_postprocess_overrides(cfg, m->postprocess_overrides(), "method ftcl");
  REQUIRE(cfg.kind == "acm");
  CHECK(cfg.feature_fps == 25);
  CHECK(cfg.frames_per_feature == 16);
  CHECK(cfg.tiou.empty());  // the profile's 0.5:0.05:0.95, all 10 averaged
  const std::vector<std::string> names = g["class_names"].get<std::vector<std::string>>();
  const int K = 200;
  REQUIRE(names.size() == size_t(K));
  size_t n_det = 0, n_exact = 0, correct = 0, n_att_term = 0;
  double worst = 0;
  for (const aicl::json& v : g["videos"]) {
    const int T = v["T"].get<int>(), L = v["L"].get<int>();
    const std::vector<double> base = v["cas_base"].get<std::vector<double>>(), att_d = v["att"].get<std::vector<double>>(),
                              vid_d = v["video"].get<std::vector<double>>();
    const std::vector<int> classes = v["classes"].get<std::vector<int>>();
    std::vector<float> cas(size_t(T) * (K + 1));
    for (int t = 0; t < T; ++t)
      std::fill(cas.begin() + long(t) * (K + 1), cas.begin() + long(t + 1) * (K + 1), float(base[size_t(t)]));
    for (size_t i = 0; i < classes.size(); ++i)
      for (int t = 0; t < T; ++t)
        cas[size_t(t) * (K + 1) + size_t(classes[i])] = float(v["cas_cols"][i][size_t(t)].get<double>());
    const std::vector<float> att(att_d.begin(), att_d.end()), score(vid_d.begin(), vid_d.begin() + K);
    const std::vector<double> lab_d = v["labels"].get<std::vector<double>>();
    const std::vector<float> labels(lab_d.begin(), lab_d.end());
    if (aicl::class_prediction_exact(aicl::select_classes_acm(score.data(), K, cfg), labels.data(), K)) ++correct;
    const std::vector<Detection> d =
        aicl::localize_video_acm(cas.data(), K + 1, att.data(), 3, score.data(), T, K, L, cfg);
    INFO(v["name"].get<std::string>());
    compare_official(d, g["detections"][v["name"].get<std::string>()], names, n_det, n_exact, worst);
    for (const Detection& x : d)  // only the attention branch adds the class term
      n_att_term += x.score > 0.25 * double(score[size_t(x.label)]);
  }
  WARN("acm ActivityNet golden: " << n_det << " detections, " << n_exact << " scores bit-exact, worst |diff| "
                                  << worst);
  CHECK(n_det > 20);
  CHECK(n_exact == n_det);
  CHECK(n_att_term > 0);
  CHECK(static_cast<double>(correct) / g["videos"].size() == g["test_acc"].get<double>());
}
