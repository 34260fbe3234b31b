// Protocols th14 and wtalc against their reference implementations on the real THUMOS14 ground truth: numbers
// from the original THUMOS14 kit under GNU Octave 7.3 and from W-TALC's own detectionMAP.py statements
// (tools/make_protocol_golden.py; docs/evaluator.md says how each was made).
#include <catch2/catch.hpp>

#include "core/eval/evaluator.h"
#include "eval_detections_gen.h"
#include "test_util.h"

using aicl::ordered_json;

namespace {

struct Reference {
  std::vector<double> th14_map;           // the kit's map (fractions)
  std::vector<double> th14_baseballpitch; // the kit's ap_all row of its first class
  std::vector<double> wtalc_map_percent;  // getLocMAP's return values, 100 * mean
};

aicl::EvalOptions options_for(aicl::EvalProtocol p, const std::string& anno_dir) {
  aicl::EvalOptions o;
  o.protocol = p;
  o.tiou_thresholds = aicl::default_tiou(p);
  o.ambiguous = aicl::read_ambiguous_file(anno_dir + "/Ambiguous_test.txt");
  o.ambiguous_name = "Ambiguous_test.txt";
  return o;
}

// Both protocols on one detection set; 1e-9 leaves room for another compiler's rounding (here: bit-identical).
void check_protocols(const aicl::EvalGroundTruth& gt, const std::vector<aicl::EvalDetection>& dets,
                     const std::string& anno_dir, const Reference& ref) {
  const aicl::EvalReport th14 = aicl::evaluate_detection(gt, dets, options_for(aicl::EvalProtocol::th14, anno_dir));
  REQUIRE(th14.mAP.size() == 5);
  REQUIRE(th14.class_names.at(0) == "BaseballPitch");
  for (std::size_t t = 0; t < 5; ++t) {
    INFO("th14, threshold " << th14.tiou[t]);
    CHECK(th14.mAP[t] == Approx(ref.th14_map[t]).margin(1e-9).epsilon(0));
    CHECK(th14.class_ap[0][t] == Approx(ref.th14_baseballpitch[t]).margin(1e-9).epsilon(0));
  }
  const aicl::EvalReport wtalc =
      aicl::evaluate_detection(gt, dets, options_for(aicl::EvalProtocol::wtalc, anno_dir));
  REQUIRE(wtalc.mAP.size() == 5);
  for (std::size_t t = 0; t < 5; ++t) {
    INFO("wtalc, threshold " << wtalc.tiou[t]);
    CHECK(100 * wtalc.mAP[t] == Approx(ref.wtalc_map_percent[t]).margin(1e-9).epsilon(0));
  }
}

// A generated case of tools/make_eval_golden.py without the detections of empty snippet sets ("_nz").
void check_generated(std::uint64_t seed, int n, unsigned jitter, unsigned levels, std::size_t expected_count,
                     const Reference& ref) {
  const std::string anno = aicl_test::thumos_anno_or_skip();
  const ordered_json gt_json = aicl::read_ordered_json_file(anno + "/gt.json");
  const ordered_json dets_json =
      aicl_test::without_empty_snippet_sets(aicl_test::generate_detections(gt_json, seed, n, jitter, levels));
  const auto gt = aicl::ground_truth_from_json(gt_json, "test", "gt.json");
  const auto dets = aicl::detections_from_json(dets_json, "dets");
  REQUIRE(dets.size() == expected_count);
  check_protocols(gt, dets, anno, ref);
}

}  // namespace

TEST_CASE("protocols vs references: random detections (random20k_nz) on the real THUMOS14 gt",
          "[evaluator][protocols][official]") {
  check_generated(1, 20000, 50, 0, 19152,
                  {{0.11654021537599626, 0.10743595676306603, 0.09759540125297707, 0.08584139431086463,
                    0.06721912780326843},
                   {0.046867749419953586, 0.04180552626028265, 0.041067285382830616, 0.03594080338266385,
                    0.035306553911205074},
                   {19.326230225831495, 17.425672359986784, 14.722287950995602, 12.499515458177035,
                    10.194457563199787}});
}

TEST_CASE("protocols vs references: jittered ground truth with tied scores (jitter_ties_nz) on the real THUMOS14 gt",
          "[evaluator][protocols][official]") {
  check_generated(2, 6000, 90, 8, 5672,
                  {{0.281342186479554, 0.26112994313180354, 0.239223026182179, 0.20599394987345546,
                    0.16760773367777002},
                   {0.24313788700011527, 0.22265430225823346, 0.21749192864263303, 0.2018975356312967,
                    0.2014589467333667},
                   {27.910650202546318, 25.26853276698108, 21.400820349597694, 17.769905545580794,
                    14.178664802591204}});
}

TEST_CASE("protocols vs references: the official AICL model's output (official_infer_30videos.json)",
          "[evaluator][protocols][official]") {
  // tests/golden/eval/official_infer_30videos.json (docs/evaluator.md): 30 test videos, 16 of the 20 classes
  // detected, so W-TALC's getLocMAP returns 0 at every threshold (a class without detections).
  const std::string anno = aicl_test::thumos_anno_or_skip();
  const auto gt = aicl::ground_truth_from_json(aicl::read_ordered_json_file(anno + "/gt.json"), "test", "gt.json");
  const auto dets = aicl::detections_from_json(
      aicl::read_ordered_json_file(aicl_test::source_dir() + "/tests/golden/eval/official_infer_30videos.json"), "d");
  REQUIRE(dets.size() == 1559);
  check_protocols(gt, dets, anno,
                  {{0.043090266130321395, 0.03526417809488207, 0.03011193456969417, 0.024079663939283937,
                    0.01983853950109753},
                   {0.022727272727272728, 0.022727272727272728, 0.022727272727272728, 0.022727272727272728,
                    0.022727272727272728},
                   {0, 0, 0, 0, 0}});
}

TEST_CASE("protocols vs references: an AICL model's output (aicl_synth600_top10_nz.json)",
          "[evaluator][protocols][official]") {
  // tests/golden/eval/aicl_synth600_top10_nz.json (docs/evaluator.md): our AICL after 600 steps on synthetic
  // features with the real THUMOS14 names and instances; per video the 10 best detections with a non-empty
  // snippet range. All 20 classes are detected.
  const std::string anno = aicl_test::thumos_anno_or_skip();
  const auto gt = aicl::ground_truth_from_json(aicl::read_ordered_json_file(anno + "/gt.json"), "test", "gt.json");
  const auto dets = aicl::detections_from_json(
      aicl::read_ordered_json_file(aicl_test::source_dir() + "/tests/golden/eval/aicl_synth600_top10_nz.json"), "d");
  REQUIRE(dets.size() == 2100);
  check_protocols(gt, dets, anno,
                  {{0.3728955041392876, 0.30486309188449356, 0.2536792851023008, 0.19435564465661828,
                    0.15374467160652736},
                   {0.2616862831718784, 0.24596028686315963, 0.20392739462506904, 0.18047971676196783,
                    0.07783584508183439},
                   {36.5635872031415, 30.0691585714709, 24.304295517426535, 17.521362081766817,
                    12.648761675412986}});
}
