// Evaluator unit tests: hand-computed AP, numpy reproductions, tIoU specs, bad input (API and CLI).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/base/error.h"
#include "core/eval/evaluator.h"
#include "core/eval/numpy_compat.h"
#include "test_util.h"

using aicl::json;
using aicl::ordered_json;

namespace {

// Video A: X [0,10] [20,30], Y [5,15]; video B: X [0,10]; video C is in another subset.
json hand_gt() {
  return json::parse(R"({"database": {
    "A": {"subset": "test", "annotations": [
        {"label": "X", "segment": [0, 10]}, {"label": "X", "segment": [20, 30]},
        {"label": "Y", "segment": [5, 15]}]},
    "B": {"subset": "test", "annotations": [{"label": "X", "segment": [0, 10]}]},
    "C": {"subset": "validation", "annotations": [{"label": "Z", "segment": [0, 1]}]}}})");
}

json hand_dets() {
  return json::parse(R"({"results": {
    "A": [{"label": "X", "score": 0.9, "segment": [0, 10]},
          {"label": "X", "score": 0.8, "segment": [1, 11]},
          {"label": "X", "score": 0.7, "segment": [20, 25]},
          {"label": "Y", "score": 0.4, "segment": [5, 15]}],
    "B": [{"label": "X", "score": 0.6, "segment": [5, 10]}],
    "C": [{"label": "X", "score300": 0.5, "segment": [0, 1]}]}})");
}

aicl::EvalOptions opts(std::vector<double> t) {
  aicl::EvalOptions o;
  o.tiou_thresholds = std::move(t);
  o.gt_name = "gt.json";
  o.detections_name = "det.json";
  return o;
}

std::string error_of(const json& gt, const json& dets, const aicl::EvalOptions& o = opts({0.5})) {
  try {
    aicl::evaluate_detection(gt, dets, o);
  } catch (const aicl::Error& e) {
    return e.what();
  }
  return "";
}

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, 8);
  return b;
}

}  // namespace

TEST_CASE("evaluator: hand-computed AP and mAP", "[evaluator]") {
  // Class X (npos 3), ranked 0.9 TP, 0.8 FP (its GT is taken), 0.7 tIoU 0.5, 0.6 tIoU 0.5, 0.5 no GT in C.
  //  @0.5: TP 1,0,1,1,0 -> interpolated precision 1, .75, .75 at recall 1/3, 2/3, 1 -> AP 2.5/3
  //  @0.7: TP 1,0,0,0,0 -> AP 1/3.  Class Y: one perfect detection -> AP 1.
  auto r = aicl::evaluate_detection(hand_gt(), hand_dets(), opts({0.5, 0.7}));
  REQUIRE(r.class_names == std::vector<std::string>{"X", "Y"});
  CHECK(r.class_ap[0][0] == Approx(2.5 / 3).epsilon(1e-14));
  CHECK(r.class_ap[0][1] == Approx(1.0 / 3).epsilon(1e-14));
  CHECK(r.class_ap[1][0] == 1.0);
  CHECK(r.class_ap[1][1] == 1.0);
  CHECK(r.mAP[0] == Approx((2.5 / 3 + 1) / 2).epsilon(1e-14));
  CHECK(r.mAP[1] == Approx((1.0 / 3 + 1) / 2).epsilon(1e-14));
  CHECK(r.average_mAP == Approx(((2.5 / 3 + 1) / 2 + (1.0 / 3 + 1) / 2) / 2).epsilon(1e-14));
  CHECK(r.num_detections == 6);
  CHECK(r.num_gt_instances == 4);
  CHECK(r.num_gt_videos == 2);
  // Same through the ordered front end.
  auto r2 = aicl::evaluate_detection(ordered_json::parse(hand_gt().dump()), ordered_json::parse(hand_dets().dump()),
                                     opts({0.5, 0.7}));
  CHECK(r2.mAP == r.mAP);
}

TEST_CASE("evaluator: a class without detections has AP 0 and still counts", "[evaluator]") {
  json dets = hand_dets();
  dets["results"]["A"].erase(3);  // drop the only Y detection
  auto r = aicl::evaluate_detection(hand_gt(), dets, opts({0.5}));
  CHECK(r.class_ap[1][0] == 0.0);
  CHECK(r.mAP[0] == Approx((2.5 / 3) / 2).epsilon(1e-14));
}

TEST_CASE("evaluator: equal scores rank the later detection first (reversed numpy sort)", "[evaluator]") {
  // Both detections score 0.5. numpy's argsort keeps them in file order (n <= 16: insertion sort);
  // [::-1] then puts the second one, [0,4] with tIoU 0.4, first: FP at 0.5, and [0,10] is TP -> AP 0.5.
  json gt = json::parse(R"({"database": {"B": {"subset": "test", "annotations": [{"label": "X", "segment": [0, 10]}]}}})");
  json dets = json::parse(R"({"results": {"B": [{"label": "X", "score": 0.5, "segment": [0, 10]},
                                                {"label": "X", "score": 0.5, "segment": [0, 4]}]}})");
  auto r = aicl::evaluate_detection(gt, dets, opts({0.3, 0.5}));
  CHECK(r.class_ap[0][0] == 1.0);  // @0.3 the first-ranked [0,4] takes the GT: precision 1 at recall 1
  CHECK(r.class_ap[0][1] == 0.5);
}

TEST_CASE("evaluator: GT candidates by tIoU, locked ones skipped, no +1 in tIoU", "[evaluator]") {
  // Two GT [0,10] and [8,20]; detection [0,9] overlaps the first best (0.9) and the second (1/20).
  json gt = json::parse(R"({"database": {"V": {"subset": "test", "annotations": [
      {"label": "X", "segment": [0, 10]}, {"label": "X", "segment": [8, 20]}]}}})");
  json dets = json::parse(R"({"results": {"V": [{"label": "X", "score": 0.9, "segment": [0, 9]},
      {"label": "X", "score": 0.8, "segment": [0, 9]}, {"label": "X", "score": 0.7, "segment": [9, 20]}]}})");
  // @0.9: first TP (tIoU exactly 0.9 is not below), second FP (locked, next candidate too low), third:
  // [9,20] vs [8,20] = 11/12 -> TP.  TP 1,0,1 over npos 2 -> 1*1/2 + (2/3)*1/2.
  auto r = aicl::evaluate_detection(gt, dets, opts({0.9}));
  CHECK(r.class_ap[0][0] == Approx(0.5 + 1.0 / 3).epsilon(1e-14));
  // With a +1 in the union the first tIoU would be 10/11 and the picture would change at 0.905.
  auto r2 = aicl::evaluate_detection(gt, dets, opts({0.905}));
  CHECK(r2.class_ap[0][0] == Approx(0.5 / 3).epsilon(1e-14));  // only [9,20], ranked third, matches
}

TEST_CASE("evaluator: inverted and zero-length segments are scored as the official code does", "[evaluator]") {
  json gt = json::parse(R"({"database": {"V": {"subset": "test", "annotations": [
      {"label": "X", "segment": [0, 10]}, {"label": "X", "segment": [12, 12]}]}}})");
  // [8,2] is inverted: intersection clipped to 0, tIoU 0 -> FP. [12,12] vs the zero-length GT [12,12]:
  // union 0, tIoU 0/0 = NaN, which is never "below" a threshold -> the official code counts a TP.
  json dets = json::parse(R"({"results": {"V": [{"label": "X", "score": 0.9, "segment": [8, 2]},
      {"label": "X", "score": 0.8, "segment": [12, 12]}]}})");
  CHECK(error_of(gt, dets) == "det.json: results['V'][0]: segment start 8 > end 2");
  aicl::EvalOptions o = opts({0.5});
  o.allow_inverted_segments = true;
  auto r = aicl::evaluate_detection(gt, dets, o);
  CHECK(r.class_ap[0][0] == Approx(0.5 * 0.5).epsilon(1e-14));  // TP 0,1 over npos 2: recall 1/2 at precision 1/2
}

TEST_CASE("evaluator: numpy_argsort reproduces numpy 1.24's tie order", "[evaluator]") {
  // Expected orders printed by numpy 1.24.2: np.array(v, float).argsort().
  std::vector<double> a = {2, 0, 0, 0, 0, 2, 2, 1, 0, 0, 0, 1, 1, 1, 0, 0, 2, 2, 0, 0,
                           1, 1, 2, 1, 1, 1, 1, 1, 0, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 0};
  std::vector<std::int64_t> ea = {19, 34, 33, 28, 18, 15, 14, 10, 9,  39, 1,  2,  3,  4,  8,  7,  36, 35, 27, 26,
                                  25, 23, 24, 21, 20, 11, 12, 13, 37, 6,  32, 31, 30, 29, 5,  16, 17, 38, 22, 0};
  CHECK(aicl::numpy_argsort(a) == ea);
  std::vector<double> b = {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1,
                           1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0,
                           0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0,
                           1, 0, 1, 0, 1, 1, 0, 1, 0, 0};
  std::vector<std::int64_t> eb = {
      49, 40, 42, 44, 46, 47, 98, 50, 51, 54, 57, 58, 59, 60, 68, 38, 69, 73, 74, 76, 77, 78, 79, 82, 85,
      87, 88, 89, 91, 93, 96, 72, 37, 99, 23, 7,  25, 26, 20, 8,  10, 18, 31, 15, 11, 22, 12, 75, 9,  80,
      13, 81, 14, 34, 84, 71, 86, 6,  5,  4,  90, 3,  92, 2,  94, 95, 1,  97, 83, 70, 66, 17, 35, 36, 32,
      39, 30, 41, 29, 43, 28, 45, 27, 48, 16, 24, 53, 55, 56, 21, 19, 61, 62, 63, 64, 65, 33, 67, 52, 0};
  CHECK(aicl::numpy_argsort(b) == eb);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(aicl::numpy_argsort(std::vector<double>{1.0, nan, 0.5, nan, 0.5, 2.0}) == std::vector<std::int64_t>{2, 4, 0, 5, 1, 3});
  CHECK(aicl::numpy_argsort(std::vector<double>{}).empty());
}

TEST_CASE("evaluator: numpy_sum is numpy's pairwise summation", "[evaluator]") {
  std::vector<double> x(17, 1.0);
  x[0] = 1e16;
  x[16] = -1e16;
  CHECK(aicl::numpy_sum(x.data(), x.size()) == 14.0);  // numpy: 14.0; a left-to-right loop gives 0.0
  std::vector<double> few = {0.1, 0.2, 0.3};
  CHECK(aicl::numpy_sum(few.data(), 3) == (0.0 + 0.1 + 0.2) + 0.3);
}

TEST_CASE("evaluator: --tiou specs follow numpy.linspace bit for bit", "[evaluator]") {
  auto t = aicl::parse_tiou_spec("0.1:0.7:7");
  REQUIRE(t.size() == 7);
  CHECK(bits(t[2]) == bits(0.3));  // linspace gives exactly 0.3 (arange would give 0.30000000000000004)
  CHECK(bits(t[6]) == bits(0.7));
  auto u = aicl::parse_tiou_spec("0.1:0.9:9");
  CHECK(bits(u[2]) == bits(0.30000000000000004));
  CHECK(bits(u[6]) == bits(0.7000000000000001));
  auto v = aicl::parse_tiou_spec("0.5:0.95:10");
  CHECK(bits(v[8]) == bits(0.8999999999999999));
  CHECK(aicl::parse_tiou_spec("0.5:0.9:1") == std::vector<double>{0.5});
  CHECK(aicl::parse_tiou_spec("0.3,0.5,0.7") == std::vector<double>{0.3, 0.5, 0.7});
  CHECK(aicl::parse_tiou_spec("0.5") == std::vector<double>{0.5});
  for (const char* bad : {"", "0.1:0.7", "0.1:0.7:0", "0.1:0.7:x", "a,b", "0.3,", "0,0.5", "1.5", "0.1:0.7:7:1", "nan"}) {
    INFO(bad);
    CHECK_THROWS_AS(aicl::parse_tiou_spec(bad), aicl::Error);
  }
}

TEST_CASE("evaluator: report JSON and table", "[evaluator]") {
  auto r = aicl::evaluate_detection(hand_gt(), hand_dets(), opts({0.5, 0.7}));
  json j = aicl::report_to_json(r);
  CHECK(j["tiou"] == json({0.5, 0.7}));
  CHECK(j["mAP"].get<std::vector<double>>() == r.mAP);
  CHECK(j["average_mAP"].get<double>() == r.average_mAP);
  CHECK(j["per_class"]["X"].get<std::vector<double>>() == r.class_ap[0]);
  CHECK(j["num_detections"] == 6);
  CHECK(j["subset"] == "test");
  CHECK(j["gt_file"] == "gt.json");
  std::string table = aicl::format_table(r, true);
  CHECK(table.find(" 91.67") != std::string::npos);  // mAP@0.5 in percent
  CHECK(table.find(" 79.17") != std::string::npos);  // the average
  CHECK(table.find("\nX ") != std::string::npos);
}

TEST_CASE("evaluator: bad input gives one clear error naming the file", "[evaluator]") {
  json gt = hand_gt(), dets = hand_dets();
  CHECK(error_of(json::object(), dets).find("gt.json: missing 'database'") == 0);
  CHECK(error_of(gt, json::object()).find("det.json: missing 'results'") == 0);
  CHECK(error_of(json::array(), dets).find("gt.json:") == 0);
  {
    json d = dets;
    d["results"]["A"][0]["segment"] = {5, 1};
    CHECK(error_of(gt, d) == "det.json: results['A'][0]: segment start 5 > end 1");
  }
  {
    json d = dets;
    d["results"]["A"][1]["segment"] = {1, "x"};
    CHECK(error_of(gt, d) == "det.json: results['A'][1]: segment end is not a number");
  }
  {
    json d = dets;
    d["results"]["A"][1]["segment"] = {1};
    CHECK(error_of(gt, d) == "det.json: results['A'][1]: 'segment' must be [start, end]");
  }
  {
    json d = dets;
    d["results"]["A"][0].erase("score");
    CHECK(error_of(gt, d) == "det.json: results['A'][0]: has neither 'score' nor 'score300'");
  }
  {
    json d = dets;
    d["results"]["B"][0]["label"] = "Z";  // Z only has GT in the validation subset: refused with --strict
    aicl::EvalOptions strict = opts({0.5});
    strict.strict = true;
    std::string e = error_of(gt, d, strict);
    CHECK(e.find("det.json: label 'Z' (video 'B') has no ground truth in subset 'test' of gt.json") == 0);
  }
  {
    json d = dets;
    d["results"]["B"][0]["label"] = "Nope";  // no class of the ground truth at all: always an error
    CHECK(error_of(gt, d).find("det.json: label 'Nope' (video 'B') has no ground truth in subset 'test' of gt.json "
                               "(it is no class of the ground truth)") == 0);
  }
  {
    json g = gt;
    g["database"]["A"]["annotations"][2]["segment"] = {15, 5};
    CHECK(error_of(g, dets) == "gt.json: database['A'].annotations[2]: segment start 15 > end 5");
  }
  {
    json g = gt;
    g["database"]["B"].erase("subset");
    CHECK(error_of(g, dets) == "gt.json: database['B']: missing string 'subset'");
  }
  {
    aicl::EvalOptions o = opts({0.5});
    o.subset = "nosuch";
    CHECK(error_of(gt, dets, o).find("gt.json: no ground-truth annotations in subset 'nosuch'") == 0);
  }
  // Non-finite values cannot come from JSON text, but they can from the struct API.
  const double inf = std::numeric_limits<double>::infinity();
  auto g = aicl::ground_truth_from_json(gt, "test", "gt.json");
  std::vector<aicl::EvalDetection> d = aicl::detections_from_json(dets, "det.json");
  auto struct_error = [&](std::vector<aicl::EvalDetection> dd) -> std::string {
    try {
      aicl::evaluate_detection(g, dd, opts({0.5}));
    } catch (const aicl::Error& e) {
      return e.what();
    }
    return "";
  };
  auto d1 = d;
  d1[2].score = std::nan("");
  CHECK(struct_error(d1) == "det.json: video 'A': non-finite score");
  auto d2 = d;
  d2[0].end = inf;
  CHECK(struct_error(d2) == "det.json: video 'A': non-finite segment");
  CHECK(struct_error(d).empty());
}

// ---- the CLI --------------------------------------------------------------------------------

namespace {

std::string eval_bin() { return aicl_test::bin_dir() + "/aicl_eval"; }

void require_binary() {
  if (!std::ifstream(eval_bin()).good()) FAIL("build the aicl_eval target first: " + eval_bin());
}

void write_text(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; }

}  // namespace

TEST_CASE("aicl_eval: scores files, writes the report, prints the table", "[evaluator][cli]") {
  require_binary();
  auto dir = aicl_test::temp_dir("eval_cli_ok");
  write_text(dir / "gt.json", hand_gt().dump());
  write_text(dir / "det.json", hand_dets().dump());
  auto r = aicl_test::run_command(eval_bin() + " --gt " + (dir / "gt.json").string() + " --detections " +
                                  (dir / "det.json").string() + " --tiou 0.5,0.7 --report " +
                                  (dir / "eval.json").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find(" 91.67") != std::string::npos);
  json rep = aicl::read_json_file((dir / "eval.json").string());
  CHECK(rep["average_mAP"].get<double>() == Approx(((2.5 / 3 + 1) / 2 + (1.0 / 3 + 1) / 2) / 2).epsilon(1e-14));
  CHECK(rep["per_class"]["Y"] == json({1.0, 1.0}));
  CHECK(rep["gt_file"] == (dir / "gt.json").string());
  auto h = aicl_test::run_command(eval_bin() + " --help");
  CHECK(h.exit_code == 0);
  CHECK(h.output.find("Examples:") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("aicl_eval: bad input exits non-zero with one clear line", "[evaluator][cli]") {
  require_binary();
  auto dir = aicl_test::temp_dir("eval_cli_bad");
  const std::string gt = (dir / "gt.json").string(), det = (dir / "det.json").string();
  write_text(gt, hand_gt().dump());
  write_text(det, hand_dets().dump());
  auto run = [&](const std::string& args) { return aicl_test::run_command(eval_bin() + " " + args); };
  auto expect_error = [&](const std::string& args, const std::string& needle) {
    auto r = run(args);
    INFO(args << "\n" << r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find("aicl_eval: error: ") == 0);
    CHECK(r.output.find(needle) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  };
  expect_error("--gt " + gt + " --detections " + (dir / "missing.json").string(), "missing.json: cannot open");
  write_text(dir / "broken.json", "{\"results\": [");
  expect_error("--gt " + gt + " --detections " + (dir / "broken.json").string(), "broken.json: invalid JSON");
  write_text(dir / "nores.json", "{\"foo\": 1}");
  expect_error("--gt " + gt + " --detections " + (dir / "nores.json").string(), "nores.json: missing 'results'");
  expect_error("--gt " + (dir / "nores.json").string() + " --detections " + det, "nores.json: missing 'database'");
  json d = hand_dets();
  d["results"]["A"][0]["segment"] = {5, 1};
  write_text(dir / "inverted.json", d.dump());
  expect_error("--gt " + gt + " --detections " + (dir / "inverted.json").string(), "segment start 5 > end 1");
  write_text(dir / "inf.json", R"({"results": {"A": [{"label": "X", "score": 1e999, "segment": [0, 1]}]}})");
  expect_error("--gt " + gt + " --detections " + (dir / "inf.json").string(), "inf.json: invalid JSON");
  d = hand_dets();
  d["results"]["B"][0]["label"] = "Z";
  write_text(dir / "nolabel.json", d.dump());
  expect_error("--gt " + gt + " --detections " + (dir / "nolabel.json").string() + " --strict", "label 'Z' (video 'B')");
  {  // without --strict: scored without Z, one note on stderr, the report counts it
    const auto r = run("--gt " + gt + " --detections " + (dir / "nolabel.json").string() + " --quiet --report " +
                       (dir / "z.json").string());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "aicl_eval: note: 1 detections of 1 classes without ground truth in subset 'test' were left "
                      "out of the score (Z; --strict refuses them)\n");
    CHECK(aicl::read_json_file((dir / "z.json").string())["dropped_labels"] == json({"Z"}));
  }
  expect_error("--gt " + gt + " --detections " + det + " --subset nosuch", "no ground-truth annotations in subset");
  expect_error("--gt " + gt + " --detections " + det + " --tiou 0.1:0.7", "--tiou");
  expect_error("--gt " + gt, "--detections: required");
  expect_error("--data d.h5 --weights w.h5 --out x.json", "d.h5: no such file");
  // No report is left behind by a failed run.
  run("--gt " + gt + " --detections " + (dir / "nolabel.json").string() + " --strict --report " +
      (dir / "r.json").string());
  CHECK(!std::filesystem::exists(dir / "r.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("evaluator: detections of a class without ground truth in the subset are left out and counted", "[evaluator]") {
  // Z has instances only outside the subset, Q is a class only through known_labels (e.g. the dataset's list).
  json gt = hand_gt();
  gt["database"]["W"] = {{"subset", "validation"}, {"duration", 30.0},
                         {"annotations", json::array({{{"label", "Z"}, {"segment", {1.0, 2.0}}}})}};
  const aicl::EvalReport base = aicl::evaluate_detection(gt, hand_dets(), opts({0.5, 0.7}));
  json d = hand_dets();
  const std::string video = d["results"].begin().key();
  d["results"][video].push_back({{"label", "Z"}, {"score", 0.99}, {"segment", {0.0, 4.0}}});
  d["results"][video].push_back({{"label", "Z"}, {"score", 0.5}, {"segment", {1.0, 3.0}}});
  d["results"][video].push_back({{"label", "Q"}, {"score", 0.7}, {"segment", {1.0, 3.0}}});
  aicl::EvalOptions o = opts({0.5, 0.7});
  CHECK(error_of(gt, d, o).find("label 'Q'") != std::string::npos);  // Q is no class without known_labels
  o.known_labels = {"Q"};
  const aicl::EvalReport r = aicl::evaluate_detection(gt, d, o);
  CHECK(r.dropped_detections == 3);
  CHECK(r.dropped_labels == std::vector<std::string>{"Q", "Z"});
  CHECK(r.num_detections == base.num_detections);
  CHECK(r.mAP == base.mAP);  // the other classes' AP is untouched, bit for bit
  const json j = aicl::report_to_json(r);
  CHECK(j["dropped_detections"] == 3);
  CHECK(j["dropped_labels"] == json({"Q", "Z"}));
  o.strict = true;
  CHECK(error_of(gt, d, o).find("the official evaluator raises KeyError") != std::string::npos);
}
