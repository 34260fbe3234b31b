// Figures of results as standalone SVG files (no Python, no JS): per-video timelines (ground truth, class
// activation, detections), per-class AP bars, training curves, and an index.html that shows them all.
// Output is plain string building: deterministic (fixed number formatting, input order) and escaped.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/base/io.h"

namespace aicl {

// Escapes text for XML/HTML content and attribute values (& < > " ').
std::string escape_xml(const std::string& text);

// ---- One video: a row per class with its activation curve, ground-truth instances and detections ----

struct PlotInterval {
  double start = 0, end = 0;  // seconds
  double score = 0;           // detections only
};

struct PlotClassTrack {
  std::string name;
  std::vector<PlotInterval> ground_truth;
  std::vector<PlotInterval> detections;
  std::vector<float> activation;  // one value per sample (empty: not available), drawn on [0, 1]
};

struct VideoPlot {
  std::string video;
  double duration = 0;             // seconds shown on the time axis
  double seconds_per_sample = 0;   // spacing of the activation samples (sample i covers [i, i+1) * this)
  std::vector<PlotClassTrack> tracks;
  int max_detections_per_class = 10;  // the highest-scoring ones are drawn (soft-NMS keeps many faint ones)
};

std::string video_timeline_svg(const VideoPlot& plot);

// A video's class activation as inference computed it (AICL: `combined`), [T, C] row-major.
struct VideoActivation {
  std::vector<float> values;
  int samples = 0;                 // T
  double seconds_per_sample = 0;   // segment seconds * real feature count / T
};

// Builds the timelines of `videos` from ActivityNet-style ground truth ({"database": ...}) and a detections
// file ({"results": ...}); a class gets a row when it has ground truth or detections in that video. Rows follow
// `class_names` (the activation's column order) and then any other label by first appearance. The duration is the
// ground truth's "duration" when given, else the furthest segment end or activation sample.
std::vector<VideoPlot> build_video_plots(const json& ground_truth, const json& detections,
                                         const std::vector<std::string>& videos,
                                         const std::vector<std::string>& class_names,
                                         const std::map<std::string, VideoActivation>& activations);

// ---- Per-class AP ----

// Horizontal bars of AP (%) per class at report.tiou[tiou_index], or the mean over the thresholds with -1.
std::string class_ap_svg(const EvalReport& report, int tiou_index);

// ---- Training curves ----

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y) in x order
};
struct PlotPanel {
  std::string title;
  std::vector<PlotSeries> series;
};

// Small multiples, one panel per entry, sharing the x label; long series are averaged into at most 1000 bins.
std::string curves_svg(const std::string& title, const std::string& x_label, const std::vector<PlotPanel>& panels);

// The panels of a run's metrics.jsonl: each loss term over steps, and the average mAP (and mAP per tIoU) of its
// evaluations. A torn last line (killed run) is skipped; other bad lines are an error naming the file and line.
std::vector<PlotPanel> run_metrics_panels(const std::string& metrics_jsonl_path);

// ---- A multi-seed summary (aicl_train --seeds: summary.json) ----

// mAP (%) per tIoU and the average, mean ± sample std over the seeds as a marker with an error bar per selection
// rule (the rule's min and max as small ticks), and the paper's numbers (summary "paper": its tIoUs and average)
// as red diamonds where it has them.
std::string seed_summary_svg(const json& summary);

// ---- The page ----

struct PlotPageEntry {
  std::string file;     // relative path of the SVG
  std::string caption;
};
struct PlotPageSection {
  std::string heading;
  std::vector<PlotPageEntry> entries;
};

// A self-contained HTML page (relative <img> links, no scripts, no network).
std::string plot_index_html(const std::string& title, const std::vector<PlotPageSection>& sections);

// Everything aicl_eval --plot writes into `dir` (created if needed; files written atomically).
struct PlotRequest {
  std::string title;
  json ground_truth;                   // ActivityNet-style {"database": ...}
  json detections;                     // {"results": ...}
  std::vector<std::string> videos;     // the videos that get a timeline
  std::vector<std::string> class_names;
  std::map<std::string, VideoActivation> activations;  // may be empty (scoring mode)
  const EvalReport* report = nullptr;  // per-class AP charts when set
  std::string run_dir;                 // training curves from RUN/metrics.jsonl when set
};

// Writes the SVGs and index.html; returns the written file names (relative to dir), index.html last.
std::vector<std::string> write_plots(const std::string& dir, const PlotRequest& request);

}  // namespace aicl
