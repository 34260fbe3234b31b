// libFuzzer target: the evaluator's JSON readers (ground truth, detections) and the evaluation on parsed input.
// The input is one JSON document, read as the CLI reads files (ordered) and as inference passes it (sorted);
// it may hold both "database" and "results", in which case it is also evaluated against itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/base/error.h"
#include "core/eval/evaluator.h"

namespace {

template <class J>
void read_and_evaluate(const J& doc) {
  aicl::EvalGroundTruth gt;
  std::vector<aicl::EvalDetection> dets;
  bool have_gt = false, have_dets = false;
  for (bool inverted : {false, true}) {
    try {
      gt = aicl::ground_truth_from_json(doc, "test", "fuzz-gt.json", inverted);
      have_gt = true;
    } catch (const aicl::Error&) {
    }
    try {
      dets = aicl::detections_from_json(doc, "fuzz-dets.json", inverted);
      have_dets = true;
    } catch (const aicl::Error&) {
    }
    if (!have_gt || !have_dets) continue;
    aicl::EvalOptions opt;
    opt.allow_inverted_segments = inverted;
    try {
      const aicl::EvalReport rep = aicl::evaluate_detection(gt, dets, opt);
      if (rep.mAP.size() != opt.tiou_thresholds.size()) std::abort();
      for (double ap : rep.mAP)
        if (!(ap >= 0 && ap <= 1)) std::abort();  // the official AP is a fraction (NaN would also land here)
      (void)aicl::report_to_json(rep).dump();
      (void)aicl::format_table(rep, true);
    } catch (const aicl::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // As read_ordered_json_file: any nlohmann exception while parsing becomes "<file>: invalid JSON (...)".
  aicl::ordered_json ordered;
  try {
    ordered = aicl::ordered_json::parse(text);
  } catch (const aicl::ordered_json::exception&) {
    return 0;
  }
  read_and_evaluate(ordered);
  read_and_evaluate(aicl::json::parse(text));  // same text, sorted keys (the inference path)
  return 0;
}
