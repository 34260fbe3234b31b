// Optional live check of protocol th14: the ORIGINAL THUMOS14 kit under GNU Octave on the real THUMOS14 ground
// truth and generated detections, against aicl::evaluate_detection. Skips without octave-cli, the kit
// (AICL_TH14_KIT=folder with TH14evaldet.m, or the fetched demianzhang/weakly-action-localization mirror) or
// ../shared. Slow (the kit takes minutes), hence tests/slow.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "core/eval/evaluator.h"
#include "../cpu/eval_detections_gen.h"
#include "test_util.h"

using aicl::ordered_json;

namespace {

const char* kMirror = "/work/.mirror/demianzhang+weakly-action-localization/repo/.git";

// A folder holding the kit's .m files, or skip.
std::string kit_dir_or_skip(const std::filesystem::path& work) {
  if (aicl_test::run_command("command -v octave-cli").exit_code != 0) aicl_test::skip("octave-cli not installed");
  if (const char* env = std::getenv("AICL_TH14_KIT")) return env;
  if (!std::filesystem::exists(kMirror)) aicl_test::skip("no THUMOS14 kit (set AICL_TH14_KIT or fetch the mirror)");
  const auto r = aicl_test::run_command("git --git-dir " + std::string(kMirror) + " archive HEAD TH14evalkit | tar -x -C " +
                                        work.string());
  if (r.exit_code != 0) aicl_test::skip("cannot extract the kit: " + r.output);
  return (work / "TH14evalkit").string();
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The kit's groundtruth folder: <Class>_test.txt from the subset in database order, the Ambiguous file, and
// detclasslist.txt with the official class ids.
std::string write_groundtruth(const std::filesystem::path& work, const aicl::EvalGroundTruth& gt,
                              const std::string& ambiguous) {
  const auto dir = work / "groundtruth";
  std::filesystem::create_directories(dir);
  std::map<int, std::string> classes;
  std::map<std::string, std::string> files;
  for (const auto& g : gt.instances) {
    classes[aicl::th14_class_id(g.label)] = g.label;
    files[g.label] += g.video + "  " + num(g.start) + " " + num(g.end) + "\n";
  }
  for (const auto& [label, text] : files) std::ofstream(dir / (label + "_test.txt")) << text;
  std::filesystem::copy_file(ambiguous, dir / "Ambiguous_test.txt");
  std::ofstream list(dir / "detclasslist.txt");
  for (const auto& [id, label] : classes) list << id << " " << label << "\n";
  return dir.string();
}

std::string write_detections(const std::filesystem::path& work, const std::vector<aicl::EvalDetection>& dets) {
  const auto path = work / "detections.txt";
  std::ofstream out(path);
  for (const auto& d : dets)
    out << d.video << "\t" << num(d.start) << "\t" << num(d.end) << "\t" << aicl::th14_class_id(d.label) << "\t"
        << num(d.score) << "\n";
  return path.string();
}

// The kit's map, printed by Octave with 17 digits.
std::vector<double> run_kit(const std::string& kit, const std::string& gtdir, const std::string& dets) {
  const std::string script = "addpath('" + kit + "'); [p, a, m] = TH14evaldet('" + dets + "', '" + gtdir +
                             "', 'test'); printf('MAP'); printf(' %.17g', m); printf('\\n');";
  const auto r = aicl_test::run_command("octave-cli --no-gui -q --no-init-file --eval \"" + script + "\"");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<double> out;
  std::istringstream in(r.output.substr(r.output.rfind("MAP") + 3));
  for (double v; in >> v;) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("th14 vs the original THUMOS14 kit under Octave, live", "[evaluator][protocols][octave]") {
  const std::string anno = aicl_test::thumos_anno_or_skip();
  const auto work = aicl_test::temp_dir("th14_octave");
  const std::string kit = kit_dir_or_skip(work);
  const ordered_json gt_json = aicl::read_ordered_json_file(anno + "/gt.json");
  const auto gt = aicl::ground_truth_from_json(gt_json, "test", "gt.json");
  // 1,500 jittered-GT detections with 16 score levels: ties, duplicates, zero lengths, videos outside the subset.
  const auto dets = aicl::detections_from_json(aicl_test::generate_detections(gt_json, 7, 1500, 70, 16), "dets");
  const std::vector<double> kit_map =
      run_kit(kit, write_groundtruth(work, gt, anno + "/Ambiguous_test.txt"), write_detections(work, dets));
  aicl::EvalOptions o;
  o.protocol = aicl::EvalProtocol::th14;
  o.tiou_thresholds = aicl::default_tiou(o.protocol);
  o.ambiguous = aicl::read_ambiguous_file(anno + "/Ambiguous_test.txt");
  const aicl::EvalReport r = aicl::evaluate_detection(gt, dets, o);
  REQUIRE(kit_map.size() == r.mAP.size());
  for (std::size_t t = 0; t < r.mAP.size(); ++t) CHECK(r.mAP[t] == Approx(kit_map[t]).margin(1e-9).epsilon(0));
  std::filesystem::remove_all(work);
}
