// Temporal-detection mAP under three protocols: ActivityNet's (numerically identical to the official AICL/ActivityNet
// evaluator, ANETEval), the THUMOS14 MATLAB kit's and W-TALC's (core/eval/protocols.h, docs/evaluator.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/io.h"
#include "core/eval/protocols.h"

namespace aicl {

using ordered_json = nlohmann::ordered_json;

// One ground-truth instance of the evaluated subset, in the official reading order
// (videos in database order, annotations in file order).
struct EvalGtInstance {
  std::string video;
  std::string label;
  double start = 0, end = 0;
};

// One detection, in the official reading order (videos in results order, then list order).
struct EvalDetection {
  std::string video;
  std::string label;
  double start = 0, end = 0, score = 0;
};

struct EvalOptions {
  std::string subset = "test";
  std::vector<double> tiou_thresholds = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};  // == linspace(0.1,0.7,7)
  // Names used in error messages ("gt.json: ..."); the file wrappers set them to the paths.
  std::string gt_name = "ground truth";
  std::string detections_name = "detections";
  int threads = 1;  // classes are independent; >1 spreads them over OpenMP threads
  // The official code accepts segments with start > end (its tIoU is then 0, or NaN = a match when the
  // union is 0). By default they are an error; set this to score them exactly as the official code does
  // (e.g. the oracle's --make-random-dets files contain some).
  bool allow_inverted_segments = false;
  // A detection whose label has no ground truth in the subset, but is a class of the ground truth (it has
  // instances in another subset, or is in known_labels, e.g. the dataset's class list), is left out of the score
  // and counted in EvalReport::dropped_*: the official evaluator raises KeyError instead, which `strict` keeps. A
  // label that is no class at all is always an error.
  bool strict = false;
  std::vector<std::string> known_labels;
  // How detections are matched and AP is computed (docs/evaluator.md has the table of differences). The
  // thresholds above stay as given: default_tiou(protocol) gives each reference's own.
  EvalProtocol protocol = EvalProtocol::anet;
  // th14: unmatched detections overlapping one of these are not counted as false positives; wtalc: detections
  // overlapping one are dropped before matching. anet ignores them (an error through the CLI).
  std::vector<AmbiguousInterval> ambiguous;
  std::string ambiguous_name;  // the file they came from, for the report ("" = none)
  // wtalc: seconds are turned into snippet indices with Python's round(seconds * snippets_per_second)
  // (I3D features: 25 fps, 16 frames per snippet).
  double snippets_per_second = 25.0 / 16.0;
};

struct EvalReport {
  std::vector<double> tiou;                 // thresholds as used
  std::vector<double> mAP;                  // per threshold, a fraction in [0, 1]
  double average_mAP = 0;                   // mean of mAP
  std::vector<std::string> class_names;     // official class order (first appearance in the subset's GT)
  std::vector<std::vector<double>> class_ap;  // [class][threshold]
  std::size_t num_detections = 0;
  std::size_t num_gt_instances = 0;
  std::size_t num_gt_videos = 0;            // videos of the subset (with or without annotations)
  std::string gt_file;                      // set by the file wrapper (else gt_name)
  std::string subset;
  std::size_t dropped_detections = 0;       // left out: their label has no ground truth in the subset
  std::vector<std::string> dropped_labels;  // those labels, sorted
  std::string protocol = "anet";
  // The videos the protocol evaluates (anet, th14: the subset's videos; wtalc: those with annotations), and
  // video_list_sha256() of their names.
  std::size_t num_evaluated_videos = 0;
  std::string video_list_sha256;
  std::string ambiguous_file;               // options.ambiguous_name
  std::size_t num_ambiguous_intervals = 0;
  // Detections the Ambiguous intervals took out, per threshold: th14 unmatched ones not counted as false
  // positives; wtalc ones dropped before matching (the same at every threshold). Empty for anet.
  std::vector<std::size_t> ambiguous_excused;
  std::size_t unscored_detections = 0;      // wtalc: on videos it does not evaluate (not in num_detections)
  std::vector<std::string> notes;           // protocol behaviour worth a line on stderr (e.g. wtalc's zero mAP)
};

// The evaluated ground truth: the subset's instances and its video count.
struct EvalGroundTruth {
  std::vector<EvalGtInstance> instances;
  std::size_t num_videos = 0;
  std::vector<std::string> videos;  // the subset's videos in database order (empty: those of `instances`)
  std::set<std::string> labels_elsewhere;  // labels of instances in the other subsets
};

// Reads an ActivityNet ground truth {"database": {vid: {"subset", "annotations": [{"label","segment"}]}}}
// keeping only videos whose subset equals `subset`. Throws aicl::Error naming `name` on malformed input.
EvalGroundTruth ground_truth_from_json(const json& gt, const std::string& subset, const std::string& name,
                                       bool allow_inverted_segments = false);
EvalGroundTruth ground_truth_from_json(const ordered_json& gt, const std::string& subset, const std::string& name,
                                       bool allow_inverted_segments = false);

// Reads {"results": {vid: [{"label", "segment": [s, e], "score" | "score300"}]}} ("score300" wins when both).
std::vector<EvalDetection> detections_from_json(const json& dets, const std::string& name,
                                                bool allow_inverted_segments = false);
std::vector<EvalDetection> detections_from_json(const ordered_json& dets, const std::string& name,
                                                bool allow_inverted_segments = false);

// Reads a THUMOS14 kit detection file: lines "video start end classid score" (whitespace-separated) with the
// official class ids (7 BaseballPitch ... 97 VolleyballSpiking); ".mpeg" is removed from video names, as
// TH14evalDet.m does. Errors name the file and line. evaluate_detection_files takes such a file for any
// protocol when it does not start with '{'.
std::vector<EvalDetection> th14_detections_from_text(const std::string& text, const std::string& name);

// The evaluation proper. Throws aicl::Error for an empty subset, a detection label without GT in the
// subset, non-finite values or start > end.
EvalReport evaluate_detection(const EvalGroundTruth& gt, const std::vector<EvalDetection>& detections,
                              const EvalOptions& options);

// JSON front ends. nlohmann::json keeps object keys sorted, ordered_json keeps file order; the official
// evaluator iterates in file order, which decides the tie order of equal scores (see docs/evaluator.md).
EvalReport evaluate_detection(const json& ground_truth, const json& detections, const EvalOptions& options);
EvalReport evaluate_detection(const ordered_json& ground_truth, const ordered_json& detections,
                              const EvalOptions& options);

// Reads a JSON file keeping key order; throws aicl::Error "<path>: ..." when missing or invalid.
ordered_json read_ordered_json_file(const std::string& path);

// Reads both files (in file order) and evaluates; error messages name the files. Well-formed files are read
// with a streaming (SAX) reader; anything else goes through the DOM readers above, whose errors name the problem.
EvalReport evaluate_detection_files(const std::string& gt_path, const std::string& detections_path,
                                    const EvalOptions& options);

// "a:b:n" -> numpy.linspace(a, b, n) bit for bit; "x,y,z" -> that list. Throws aicl::Error naming --tiou.
std::vector<double> parse_tiou_spec(const std::string& spec);

// {tiou, mAP, average_mAP, per_class: {name: [AP per tIoU]}, num_detections, gt_file, subset, ...}
json report_to_json(const EvalReport& report);

// Human-readable table: one row of tIoUs, one of mAP (%) and the average; optional per-class rows.
std::string format_table(const EvalReport& report, bool per_class = false);


}  // namespace aicl
