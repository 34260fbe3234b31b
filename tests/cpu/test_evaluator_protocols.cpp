// Evaluation protocols th14 (THUMOS14 kit) and wtalc (W-TALC) on hand-made cases whose numbers follow from the
// reference code by hand, plus the shared pieces: default tIoUs, SHA-256, Ambiguous files, kit text input.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/base/error.h"
#include "core/eval/evaluator.h"
#include "core/eval/json_fast_reader.h"
#include "core/eval/protocols.h"
#include "core/eval/sha256.h"
#include "eval_detections_gen.h"
#include "test_util.h"

using aicl::json;

namespace {

// One video V with the given ground truth of class X (and one Y instance so that two classes exist).
json gt_of(const std::vector<std::pair<double, double>>& xs) {
  json anns = json::array();
  for (auto [s, e] : xs) anns.push_back({{"label", "X"}, {"segment", {s, e}}});
  anns.push_back({{"label", "Y"}, {"segment", {100, 110}}});
  return {{"database", {{"V", {{"subset", "test"}, {"annotations", anns}}}}}};
}

// Detections of class X in V (score, start, end), plus a perfect Y detection.
json dets_of(const std::vector<std::array<double, 3>>& xs) {
  json list = json::array();
  for (const auto& d : xs) list.push_back({{"label", "X"}, {"score", d[0]}, {"segment", {d[1], d[2]}}});
  list.push_back({{"label", "Y"}, {"score", 0.1}, {"segment", {100, 110}}});
  return {{"results", {{"V", list}}}};
}

aicl::EvalOptions protocol(aicl::EvalProtocol p, std::vector<double> tiou,
                           std::vector<aicl::AmbiguousInterval> amb = {}) {
  aicl::EvalOptions o;
  o.protocol = p;
  o.tiou_thresholds = std::move(tiou);
  o.ambiguous = std::move(amb);
  return o;
}

double ap_x(const json& gt, const json& dets, const aicl::EvalOptions& o, std::size_t t = 0) {
  const aicl::EvalReport r = aicl::evaluate_detection(gt, dets, o);
  REQUIRE(r.class_names.at(0) == "X");
  return r.class_ap[0].at(t);
}

std::string write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace

TEST_CASE("protocols: names and each reference's default thresholds, bit for bit", "[evaluator][protocols]") {
  CHECK(aicl::parse_protocol("anet") == aicl::EvalProtocol::anet);
  CHECK(aicl::parse_protocol("th14") == aicl::EvalProtocol::th14);
  CHECK(aicl::parse_protocol("wtalc") == aicl::EvalProtocol::wtalc);
  CHECK_THROWS_WITH(aicl::parse_protocol("thumos"), Catch::Contains("--protocol: unknown protocol 'thumos'"));
  CHECK(aicl::default_tiou(aicl::EvalProtocol::anet) == aicl::EvalOptions().tiou_thresholds);
  // Octave 7.3 prints .1:.1:.5 as 0.10000000000000001 0.20000000000000001 0.30000000000000004 0.40000000000000002 0.5.
  CHECK(aicl::default_tiou(aicl::EvalProtocol::th14) ==
        std::vector<double>{0.10000000000000001, 0.20000000000000001, 0.30000000000000004, 0.40000000000000002, 0.5});
  CHECK(aicl::default_tiou(aicl::EvalProtocol::wtalc) == std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5});
  CHECK(aicl::th14_class_id("BaseballPitch") == 7);
  CHECK(aicl::th14_class_name(97) == "VolleyballSpiking");
  CHECK(aicl::th14_class_name(1).empty());
}

TEST_CASE("protocols: SHA-256 and the video-list hash", "[evaluator][protocols]") {
  CHECK(aicl::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(aicl::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding needs a second block.
  CHECK(aicl::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // printf 'a\nb\n' | sha256sum, whatever the order given.
  CHECK(aicl::video_list_sha256({"b", "a"}) == aicl::sha256_hex("a\nb\n"));
  const aicl::EvalReport r = aicl::evaluate_detection(gt_of({{0, 10}}), dets_of({}), aicl::EvalOptions{});
  CHECK(r.video_list_sha256 == aicl::sha256_hex("V\n"));
  CHECK(r.num_evaluated_videos == 1);
  CHECK(r.protocol == "anet");
}

TEST_CASE("protocols: Ambiguous files and THUMOS14 kit detection files", "[evaluator][protocols]") {
  const auto dir = aicl_test::temp_dir("protocols_files");
  const auto amb = aicl::read_ambiguous_file(write_file(dir / "amb.txt", "video_a  0.0 1.4\n\nvideo_b\t95.7 97.2\n"));
  REQUIRE(amb.size() == 2);
  CHECK(amb[1].video == "video_b");
  CHECK(amb[1].start == 95.7);
  CHECK(amb[1].end == 97.2);
  CHECK_THROWS_WITH(aicl::read_ambiguous_file(write_file(dir / "bad.txt", "v 1 2\nv 1\n")),
                    Catch::Contains("bad.txt:2: expected 3 fields"));
  CHECK_THROWS_WITH(aicl::read_ambiguous_file(write_file(dir / "bad2.txt", "v 1 x\n")),
                    Catch::Contains("bad2.txt:1: 'x' is not a finite number"));
  CHECK_THROWS_WITH(aicl::read_ambiguous_file((dir / "missing.txt").string()), Catch::Contains("cannot open"));

  const auto dets = aicl::th14_detections_from_text("video_test_0000001.mpeg\t7.5\t10.1\t45\t0.09\n", "run.txt");
  REQUIRE(dets.size() == 1);
  CHECK(dets[0].video == "video_test_0000001");
  CHECK(dets[0].label == "JavelinThrow");
  CHECK(dets[0].start == 7.5);
  CHECK(dets[0].score == 0.09);
  CHECK_THROWS_WITH(aicl::th14_detections_from_text("v 1 2 3 0.5\n", "run.txt"),
                    Catch::Contains("run.txt:1: class id '3' is not a THUMOS14 detection class id"));
  CHECK_THROWS_WITH(aicl::th14_detections_from_text("v 1 2 7\n", "run.txt"), Catch::Contains("expected 5 fields"));
}

TEST_CASE("th14: ground truth takes its best free detection, whatever the detection's rank", "[evaluator][protocols]") {
  // One X instance [0,10]; 0.9 [0,6] (overlap 0.6) and 0.5 [0,10] (overlap 1). The kit gives the instance the
  // 0.5 detection, so the 0.9 one is a false positive ranked first: precision 1/2 at every recall point.
  // ActivityNet walks the detections by score: 0.9 matches, AP 1.
  const json gt = gt_of({{0, 10}});
  const json dets = dets_of({{0.9, 0, 6}, {0.5, 0, 10}});
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::th14, {0.5})) == Approx(0.5).epsilon(1e-15));
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::anet, {0.5})) == 1.0);
}

TEST_CASE("th14: the overlap must be strictly above the threshold", "[evaluator][protocols]") {
  const json gt = gt_of({{0, 10}});
  const json dets = dets_of({{0.9, 0, 5}});  // overlap exactly 0.5
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::th14, {0.5})) == 0.0);
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::th14, {0.4})) == Approx(1.0).epsilon(1e-15));
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::anet, {0.5})) == 1.0);  // >= there
}

TEST_CASE("th14: 11-point interpolated AP over recall 0:0.1:1", "[evaluator][protocols]") {
  // TP, FP, TP of 3 instances: recall 1/3, 1/3, 2/3 with precision 1, 1/2, 2/3. Recall points 0 .. 0.3 see
  // precision 1, 0.4 .. 0.6 see 2/3, 0.7 .. 1 none: AP = (4 + 3 * 2/3) / 11, summed as the kit does.
  const json gt = gt_of({{0, 10}, {20, 30}, {40, 50}});
  const json dets = dets_of({{0.9, 0, 10}, {0.8, 60, 70}, {0.7, 20, 30}});
  double expected = 0;
  for (double p : {1.0, 1.0, 1.0, 1.0, 2.0 / 3, 2.0 / 3, 2.0 / 3, 0.0, 0.0, 0.0, 0.0}) expected = expected + p / 11;
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::th14, {0.5})) == expected);
}

TEST_CASE("th14: on equal scores the matched detections rank first", "[evaluator][protocols]") {
  // Two detections at 0.5: a FP read first, then a TP. The kit's stable sort of [tp fp] puts the TP first.
  const json gt = gt_of({{0, 10}});
  const json dets = dets_of({{0.5, 60, 70}, {0.5, 0, 10}});
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::th14, {0.5})) == Approx(1.0).epsilon(1e-15));
}

TEST_CASE("th14: Ambiguous intervals excuse unmatched detections only", "[evaluator][protocols]") {
  const json gt = gt_of({{0, 10}});
  // 0.9 [30,40] overlaps the ambiguous [35,50]: not a false positive, so the TP at 0.5 has precision 1.
  const json dets = dets_of({{0.9, 30, 40}, {0.5, 0, 10}});
  const std::vector<aicl::AmbiguousInterval> amb = {{"V", 35, 50}, {"V", 8, 9}};
  const auto o = protocol(aicl::EvalProtocol::th14, {0.5}, amb);
  const aicl::EvalReport r = aicl::evaluate_detection(gt, dets, o);
  CHECK(r.class_ap[0][0] == Approx(1.0).epsilon(1e-15));
  CHECK(r.ambiguous_excused == std::vector<std::size_t>{1});  // the TP [0,10] overlaps [8,9] but stays a TP
  // Touching an ambiguous interval (zero-width intersection) excuses nothing.
  const auto touching = protocol(aicl::EvalProtocol::th14, {0.5}, {{"V", 40, 50}});
  CHECK(ap_x(gt, dets, touching) == Approx(0.5).epsilon(1e-15));
}

TEST_CASE("wtalc: snippet sets from Python's round (half to even)", "[evaluator][protocols]") {
  // GT [0, 3.2] -> snippets [0, 5). Detection [1.6, 3.2]: 1.6 * 25/16 is exactly 2.5 in doubles, which Python's
  // round() takes to 2: [2, 5), IoU 3/5 >= 0.5, a TP. Rounding half away from zero would give [3, 5), IoU 0.4.
  const json gt = gt_of({{0, 3.2}});
  const json dets = dets_of({{0.9, 1.6, 3.2}});
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.5})) == 1.0);
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.6})) == 1.0);   // 3/5 == 0.6, >= passes
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.61})) == 0.0);
}

TEST_CASE("wtalc: each detection takes the first remaining ground truth that is good enough", "[evaluator][protocols]") {
  // GT [0,6.4] -> [0,10) then [0,12.8] -> [0,20). 0.9 [0,12.8] meets the first at IoU 0.5 and takes it although
  // the second fits exactly; 0.8 [0,3.2] -> [0,5) then has IoU 0.25 with the second: FP. AP = (1 + 0) / 2.
  // ActivityNet gives 0.9 the best instance (tIoU 1) and 0.8 the first (tIoU 0.5 less a rounding): AP 1.
  const json gt = gt_of({{0, 6.4}, {0, 12.8}});
  const json dets = dets_of({{0.9, 0, 12.8}, {0.8, 0, 3.2}});
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.45})) == 0.5);
  CHECK(ap_x(gt, dets, protocol(aicl::EvalProtocol::anet, {0.45})) == 1.0);
}

TEST_CASE("wtalc: Ambiguous detections are dropped before matching", "[evaluator][protocols]") {
  const json gt = gt_of({{0, 10}});
  const json dets = dets_of({{0.9, 0, 10}, {0.5, 30, 40}});
  const aicl::EvalReport r =
      aicl::evaluate_detection(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.5}, {{"V", 9, 12}}));
  CHECK(r.class_ap[0][0] == 0.0);  // the perfect detection is gone, the other is a FP
  CHECK(r.ambiguous_excused == std::vector<std::size_t>{1});
}

TEST_CASE("wtalc: a class left without detections makes the whole mAP 0, as getLocMAP returns 0",
          "[evaluator][protocols]") {
  const json gt = gt_of({{0, 10}});
  json dets = dets_of({{0.9, 0, 10}});
  dets["results"]["V"].erase(1);  // no Y detection
  const aicl::EvalReport r = aicl::evaluate_detection(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.3, 0.5}));
  CHECK(r.mAP == std::vector<double>{0, 0});
  CHECK(r.class_ap[0] == std::vector<double>{1, 1});  // still reported per class
  REQUIRE(r.notes.size() == 1);
  CHECK_THAT(r.notes[0], Catch::Contains("class 'Y' has no detection left"));
}

TEST_CASE("wtalc: only the subset's annotated videos are scored, and empty snippet sets never match",
          "[evaluator][protocols]") {
  json gt = gt_of({{10, 10.2}});  // [16, 16): an empty snippet set (17 such instances in THUMOS14 test)
  gt["database"]["W"] = {{"subset", "test"}, {"annotations", json::array()}};
  json dets = dets_of({{0.9, 10, 10.1}});  // also empty: W-TALC divides by zero here, we call the IoU 0
  dets["results"]["W"] = {{{"label", "X"}, {"score", 0.5}, {"segment", {0, 1}}}};
  dets["results"]["Z"] = {{{"label", "X"}, {"score", 0.5}, {"segment", {0, 1}}}};
  const aicl::EvalReport r = aicl::evaluate_detection(gt, dets, protocol(aicl::EvalProtocol::wtalc, {0.5}));
  CHECK(r.class_ap[0][0] == 0.0);
  CHECK(r.unscored_detections == 2);
  CHECK(r.num_detections == 2);
  CHECK(r.num_evaluated_videos == 1);
  CHECK(r.video_list_sha256 == aicl::sha256_hex("V\n"));
  // anet and th14 evaluate every video of the subset.
  CHECK(aicl::evaluate_detection(gt, dets, protocol(aicl::EvalProtocol::th14, {0.5})).num_evaluated_videos == 2);
}

TEST_CASE("protocols: the report states protocol, thresholds, hash and ambiguous file", "[evaluator][protocols]") {
  auto o = protocol(aicl::EvalProtocol::th14, aicl::default_tiou(aicl::EvalProtocol::th14), {{"V", 35, 50}});
  o.ambiguous_name = "Ambiguous_test.txt";
  const json j = aicl::report_to_json(aicl::evaluate_detection(gt_of({{0, 10}}), dets_of({{0.9, 0, 10}}), o));
  CHECK(j["protocol"] == "th14");
  CHECK(j["tiou"].size() == 5);
  CHECK(j["video_list_sha256"] == aicl::sha256_hex("V\n"));
  CHECK(j["ambiguous_file"] == "Ambiguous_test.txt");
  CHECK(j["num_ambiguous_intervals"] == 1);
  CHECK(j["ambiguous_excused"].size() == 5);
}

TEST_CASE("evaluator: the streaming readers read what the DOM readers read, and refuse the rest",
          "[evaluator][protocols]") {
  const std::string dets_text = R"({"version": "1.3", "external_data": {"used": [1, {"a": 2}]},
    "results": {"V": [{"label": "X", "score": 0.25, "score300": 0.5, "segment": [1, 2.5], "extra": {"k": [1]}},
                      {"segment": [0, 3], "score": 1, "label": "Y"}], "W": []}})";
  std::vector<aicl::EvalDetection> fast;
  REQUIRE(aicl::fast_read_detections(dets_text, false, fast));
  const auto dom = aicl::detections_from_json(aicl::ordered_json::parse(dets_text), "d");
  REQUIRE(fast.size() == dom.size());
  for (std::size_t i = 0; i < dom.size(); ++i) {
    CHECK(fast[i].video == dom[i].video);
    CHECK(fast[i].label == dom[i].label);
    CHECK(fast[i].start == dom[i].start);
    CHECK(fast[i].end == dom[i].end);
    CHECK(fast[i].score == dom[i].score);
  }
  CHECK(fast[0].score == 0.5);  // score300 wins
  for (const char* bad : {R"([])", R"({"results": []})", R"({"results": {"V": [{"label": "X", "score": 1}]}})",
                          R"({"results": {"V": [{"label": 1, "score": 1, "segment": [0, 1]}]}})",
                          R"({"results": {"V": [{"label": "X", "score": "1", "segment": [0, 1]}]}})",
                          R"({"results": {"V": [{"label": "X", "score": 1, "segment": [2, 1]}]}})",
                          R"({"results": {"V": [{"label": "X", "score": 1, "segment": [0, 1, 2]}]}})",
                          R"({"results": {"V": [], "V": []}})", R"({"results": {}} x)", R"({"other": 1})"}) {
    INFO(bad);
    CHECK_FALSE(aicl::fast_read_detections(bad, false, fast));
  }
  const std::string gt_text = R"({"database": {"A": {"annotations": [{"segment": [0, 1], "label": "X"}], "subset": "test"},
    "B": {"subset": "validation", "annotations": [{"label": "Z", "segment": "bad"}, 3]}, "C": {"subset": "test", "annotations": []}}})";
  aicl::EvalGroundTruth g;
  REQUIRE(aicl::fast_read_ground_truth(gt_text, "test", false, g));
  CHECK(g.instances.size() == 1);
  CHECK(g.num_videos == 2);
  CHECK(g.videos == std::vector<std::string>{"A", "C"});
  CHECK(g.labels_elsewhere == std::set<std::string>{"Z"});
  CHECK_FALSE(aicl::fast_read_ground_truth(R"({"database": {"A": {"subset": "test"}}})", "test", false, g));
  CHECK_FALSE(aicl::fast_read_ground_truth(R"({"database": {"A": {"subset": 1, "annotations": []}}})", "test", false, g));
}

TEST_CASE("evaluator: files the streaming reader refuses are scored or reported as before", "[evaluator][protocols]") {
  const auto dir = aicl_test::temp_dir("protocols_fallback");
  const std::string gt = write_file(dir / "gt.json", gt_of({{0, 10}}).dump());
  // A repeated video key: the DOM keeps the last list (in the first one's place), as Python's json does.
  const std::string dup = write_file(dir / "dup.json", R"({"results": {"V": [{"label": "X", "score": 1, "segment": [50, 60]}],
    "V": [{"label": "X", "score": 1, "segment": [0, 10]}, {"label": "Y", "score": 1, "segment": [100, 110]}]}})");
  const aicl::EvalReport r = aicl::evaluate_detection_files(gt, dup, aicl::EvalOptions{});
  CHECK(r.num_detections == 2);
  CHECK(r.average_mAP == 1.0);
  const std::string bad = write_file(dir / "bad.json", R"({"results": {"V": [{"label": "X", "segment": [0, 1]}]}})");
  CHECK_THROWS_WITH(aicl::evaluate_detection_files(gt, bad, aicl::EvalOptions{}),
                    Catch::Contains("has neither 'score' nor 'score300'"));
  // A kit text file is read for any protocol.
  json g = gt_of({{0, 10}});
  g["database"]["V"]["annotations"][0]["label"] = "BaseballPitch";
  g["database"]["V"]["annotations"][1]["label"] = "Billiards";
  const std::string gt2 = write_file(dir / "gt2.json", g.dump());
  const std::string txt = write_file(dir / "run.txt", "V.mpeg 0 10 7 0.9\nV 100 110 12 0.8\n");
  CHECK(aicl::evaluate_detection_files(gt2, txt, aicl::EvalOptions{}).average_mAP == 1.0);
}

TEST_CASE("aicl_eval --protocol: th14 and wtalc from the command line, bad flags refused", "[evaluator][protocols][cli]") {
  const std::string bin = aicl_test::bin_dir() + "/aicl_eval";
  if (!std::filesystem::exists(bin)) aicl_test::skip("aicl_eval not built at " + bin);
  const auto dir = aicl_test::temp_dir("protocols_cli");
  const std::string gt = write_file(dir / "gt.json", gt_of({{0, 10}}).dump());
  const std::string det = write_file(dir / "det.json", dets_of({{0.9, 0, 6}, {0.5, 0, 10}}).dump());
  const std::string amb = write_file(dir / "amb.txt", "V 200 300\n");
  const std::string rep = (dir / "eval.json").string();
  auto r = aicl_test::run_command(bin + " --gt " + gt + " --detections " + det + " --protocol th14 --ambiguous " +
                                  amb + " --report " + rep);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("protocol th14") != std::string::npos);
  json j = aicl::read_json_file(rep);
  CHECK(j["protocol"] == "th14");
  CHECK(j["tiou"].size() == 5);
  CHECK(j["tiou"][2].get<double>() == 0.30000000000000004);
  CHECK(j["ambiguous_file"] == amb);
  CHECK(j["per_class"]["X"][4].get<double>() == Approx(0.5).epsilon(1e-15));
  CHECK(j["video_list_sha256"] == aicl::sha256_hex("V\n"));
  r = aicl_test::run_command(bin + " --gt " + gt + " --detections " + det + " --protocol wtalc --report " + rep);
  CHECK(r.output.find("no --ambiguous file") != std::string::npos);
  j = aicl::read_json_file(rep);
  CHECK(j["protocol"] == "wtalc");
  CHECK(j["tiou"] == json({0.1, 0.2, 0.3, 0.4, 0.5}));
  r = aicl_test::run_command(bin + " --gt " + gt + " --detections " + det + " --protocol voc");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--protocol: unknown protocol 'voc'") != std::string::npos);
  r = aicl_test::run_command(bin + " --gt " + gt + " --detections " + det + " --ambiguous " + amb);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("the anet protocol has no Ambiguous intervals") != std::string::npos);
  // Inference mode takes the same flags (scored like this in tests/cpu/test_toy_method.cpp), checked before any
  // file is read.
  r = aicl_test::run_command(bin + " --data none.h5 --weights none.h5 --out " + (dir / "o.json").string() +
                             " --protocol voc");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--protocol: unknown protocol 'voc'") != std::string::npos);
  r = aicl_test::run_command(bin + " --data none.h5 --weights none.h5 --out " + (dir / "o.json").string() +
                             " --ambiguous " + amb);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("the anet protocol has no Ambiguous intervals") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "o.json"));
  std::filesystem::remove_all(dir);
}

namespace {

// Random detections / ground-truth texts with valid and invalid variants of every field, for the
// differential test of the streaming readers against the DOM readers.
struct TextGen {
  aicl_test::SplitMix64 rng;
  std::uint64_t next() { return rng.next(); }
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  std::string one_of(std::initializer_list<const char*> xs) { return *(xs.begin() + pick(xs.size())); }
  std::string label() { return one_of({"\"X\"", "\"X\"", "\"Y\"", "\"Z\"", "1", "{\"a\": 1}", "null"}); }
  std::string number() { return one_of({"0.5", "1", "0.25", "-3", "1e2", "\"0.5\"", "[1]", "true"}); }
  std::string segment() {
    return one_of({"[0, 10]", "[1.5, 2]", "[2, 1]", "[0]", "[0, 1, 2]", "\"0,1\"", "[0, \"1\"]", "{\"a\": 1}", "[0, [1]]"});
  }
  std::string object(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out = "{";
    for (const auto& [k, v] : fields)
      if (pick(8)) out += (out.size() > 1 ? ", \"" : "\"") + k + "\": " + v;  // each field sometimes missing
    if (!pick(6)) out += (out.size() > 1 ? ", " : "") + std::string("\"extra\": {\"k\": [1, {\"z\": null}]}");
    return out + "}";
  }
  std::string detections() {
    std::string res = "{";
    const std::size_t videos = 1 + pick(3);
    for (std::size_t v = 0; v < videos; ++v) {
      std::string list = "[";
      for (std::size_t i = 0, n = pick(4); i < n; ++i) {
        if (i) list += ", ";
        list += pick(12) ? object({{"label", label()}, {"score", number()}, {"score300", number()}, {"segment", segment()}})
                         : number();
      }
      list += "]";
      if (!pick(15)) list = "{}";
      res += (v ? ", \"" : "\"") + std::string(pick(5) ? "V" : "W") + std::to_string(pick(3)) + "\": " + list;
    }
    res += "}";
    return pick(10) ? "{\"version\": 1, \"results\": " + res + "}" : one_of({"[]", "{\"other\": 1}", "{\"results\": []}"});
  }
  std::string ground_truth() {
    std::string db = "{";
    const std::size_t videos = 1 + pick(3);
    for (std::size_t v = 0; v < videos; ++v) {
      std::string anns = "[";
      for (std::size_t i = 0, n = pick(3); i < n; ++i)
        anns += (i ? ", " : "") + (pick(10) ? object({{"label", label()}, {"segment", segment()}}) : number());
      anns += "]";
      const std::string subset = one_of({"\"test\"", "\"test\"", "\"validation\"", "1"});
      db += (v ? ", \"" : "\"") + std::string("A") + std::to_string(pick(4)) + "\": " +
            object({{"subset", subset}, {"annotations", pick(10) ? anns : number()}, {"duration", "10"}});
    }
    return "{\"database\": " + db + "}}";
  }
};

bool same(const aicl::EvalDetection& a, const aicl::EvalDetection& b) {
  return a.video == b.video && a.label == b.label && a.start == b.start && a.end == b.end && a.score == b.score;
}

}  // namespace

TEST_CASE("evaluator: streaming and DOM readers agree on thousands of random texts", "[evaluator][protocols]") {
  TextGen gen{12345};
  std::size_t fast_ok = 0;
  for (int i = 0; i < 3000; ++i) {
    const bool inverted = i % 2;
    const std::string text = gen.detections();
    INFO(text);
    std::vector<aicl::EvalDetection> fast, dom;
    const bool f = aicl::fast_read_detections(text, inverted, fast);
    bool d = true;
    try {
      dom = aicl::detections_from_json(aicl::ordered_json::parse(text), "d", inverted);
    } catch (const std::exception&) {
      d = false;
    }
    if (f) {  // whatever the streaming reader accepts, the DOM reader reads the same way
      ++fast_ok;
      REQUIRE(d);
      REQUIRE(fast.size() == dom.size());
      for (std::size_t k = 0; k < dom.size(); ++k) CHECK(same(fast[k], dom[k]));
    }
  }
  CHECK(fast_ok > 100);
  std::size_t gt_ok = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = gen.ground_truth();
    INFO(text);
    aicl::EvalGroundTruth fast, dom;
    const bool f = aicl::fast_read_ground_truth(text, "test", false, fast);
    bool d = true;
    try {
      dom = aicl::ground_truth_from_json(aicl::ordered_json::parse(text), "test", "g");
    } catch (const std::exception&) {
      d = false;
    }
    if (!f) continue;
    ++gt_ok;
    REQUIRE(d);
    CHECK(fast.num_videos == dom.num_videos);
    CHECK(fast.videos == dom.videos);
    CHECK(fast.labels_elsewhere == dom.labels_elsewhere);
    REQUIRE(fast.instances.size() == dom.instances.size());
    for (std::size_t k = 0; k < dom.instances.size(); ++k) {
      CHECK(fast.instances[k].video == dom.instances[k].video);
      CHECK(fast.instances[k].label == dom.instances[k].label);
      CHECK(fast.instances[k].start == dom.instances[k].start);
      CHECK(fast.instances[k].end == dom.instances[k].end);
    }
  }
  CHECK(gt_ok > 100);
}
