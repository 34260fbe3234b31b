// aicl_eval: scores temporal detections against an ActivityNet-style ground truth under the ActivityNet (official
// AICL), THUMOS14-kit or W-TALC protocol, or runs a model's inference and scores it.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "core/base/cli.h"
#include "core/methods/registry.h"
#include "core/base/error.h"
#include "core/eval/compare.h"
#include "core/eval/evaluator.h"
#include "core/base/io.h"
#include "core/train/inference.h"
#include "core/eval/plot.h"
#include "core/eval/postprocess.h"
#include "data/dataset.h"
#include "kernels/gemm.h"

namespace {

const char* kHelp = R"(aicl_eval: temporal action detection mAP under the protocol of the official ActivityNet/AICL
evaluator (default), the THUMOS14 MATLAB kit or W-TALC, each equal to its reference

Scoring mode:
  aicl_eval --gt GT.json --detections DETS.json [--protocol anet|th14|wtalc] [--ambiguous FILE]
            [--subset test] [--tiou SPEC] [--report REPORT.json] [--per-class] [--threads N]
            [--allow-inverted] [--strict] [--quiet] [--plot DIR [--plot-videos A,B] [--plot-run RUN]]

  --gt FILE          ground truth {"database": {video: {"subset", "annotations": [{"label", "segment"}]}}}
  --detections FILE  detections {"results": {video: [{"label", "segment": [s, e], "score" | "score300"}]}},
                     or a THUMOS14 kit text file (lines "video start end classid score", official class ids)
  --protocol NAME    anet (default): ActivityNet eval_detection.py (AICL's copy), tIoU 0.1:0.7:7;
                     th14: THUMOS14 TH14evalDet.m (ground truth takes its best free detection when the overlap
                     is > the threshold, 11-point AP, Ambiguous intervals excuse false positives), tIoU
                     0.1:0.5:5; wtalc: W-TALC detectionMAP.py's scoring (snippet sets at 25/16 per second,
                     Ambiguous detections dropped, IoU >= threshold, non-interpolated AP), tIoU 0.1,...,0.5
  --ambiguous FILE   th14 and wtalc: "video start end" intervals (e.g. THUMOS14's Ambiguous_test.txt)
  --subset NAME      ground-truth subset to evaluate (default: test)
  --tiou SPEC        thresholds: start:stop:count as numpy.linspace (gives exactly 0.3 for 0.1:0.7:7), or a
                     comma list such as 0.3,0.5,0.7; each in (0, 1]; default: the protocol's, bit for bit
  --report FILE      also write {protocol, tiou, mAP, average_mAP, per_class, video_list_sha256 (of the
                     sorted evaluated videos), num_detections, gt_file, subset, ...} as JSON (atomically;
                     mAP values are fractions, the table shows percent)
  --per-class        print the AP of every class too
  --threads N        evaluate classes on N threads (default 1)
  --allow-inverted   accept segments with start > end and score them as the official code does
  --strict           refuse detections of a class without ground truth in the subset, as the official code
                     (KeyError); by default they are left out of the score, counted in the report and on stderr
                     (default: such a segment is an error)
  --quiet            print nothing but errors

Figures (both modes; SVG files and DIR/index.html, no Python needed):
  --plot DIR         per-video timelines (ground truth, detections and, in inference mode, the class
                     activation), AP per class (average and per tIoU), and an index.html showing them
  --plot-videos A,B  the videos that get a timeline (default: the first 6 of the subset)
  --plot-run RUN     also the training curves of RUN/metrics.jsonl (loss terms, evaluation mAP)

Inference mode (the method's inference + post-processing as its official code, then the evaluation):
  aicl_eval --data DATA.h5 --weights WEIGHTS.h5 --out DETS.json [--segments 750] [--subset test] [--method NAME]
            [--report REPORT.json] [--score-key score|score300] [--device cpu|cuda] [--precision fp32|tf32]
            [--threads N] [--protocol anet|th14|wtalc] [--ambiguous FILE] [--tiou SPEC] [--strict]
            [--per-class] [--quiet] [--plot DIR [--plot-videos A,B] [--plot-run RUN]]

  --data FILE        dataset (aicl_data format); its ground truth is used for the evaluation
  --weights FILE     weights (.h5 with the official state_dict keys; from aicl_train or tools/pkl_to_h5.py)
  --out FILE         detections JSON to write (official result format)
  --segments T       test videos are sampled uniformly to T segments, as the official test loader (750); under
                     the profile's or the method's uniform_keep_short rule a video of at most T keeps its length
  --subset NAME      the dataset subset to run on (default: the dataset profile's test subset)
  --method NAME      the method of the weights (default: the one the weights file records; aicl for official
                     weights converted with tools/pkl_to_h5.py); a file of another method is an error
  --score-key KEY    detection score key in --out: score (default) or score300 (as the official file)
  --device NAME      cpu (default) or cuda: the model's forward on the GPU (post-processing stays on the CPU)
  --precision P      fp32 (default) or tf32 (cuda only: the GEMMs on tensor cores)
  --protocol, --ambiguous, --tiou, --strict
                     score the written detections as in scoring mode; the default --tiou is the dataset
                     profile's (THUMOS14 0.1:0.7:7, ActivityNet 0.5:0.95:10) under anet, the protocol's own
                     under th14 and wtalc
  --post JSON|FILE   post-processing settings on top of the method's, e.g. '{"nms_thresh": 0.5, "act_thresh":
                     {"arange": [0.1, 1.0, 0.05]}}' (keys: class_thresh, act_thresh, att_thresh, scale,
                     outer_ratio, class_score_weight, att_class_score_weight, acm_cas_weight, acm_att_weight,
                     nms_thresh, soft_nms, nms_alpha, kind, test_sampling, tiou)
  --save-activations FILE
                     also keep what inference produced (every video's class scores, activation, attention and
                     length, with the method, weights and dataset fingerprint) for re-scoring without the model
  --heldout RUN      only the held-out training videos of a run trained with --val-fraction (RUN/split.json),
                     scored against their own ground truth: where --sweep may search settings
  --videos FILE      only these videos of the subset (one name per line)

Re-scoring mode (post-processing and evaluation again, in seconds, without the model):
  aicl_eval --data DATA.h5 --activations A.h5 --out DETS.json [--post JSON|FILE] [--report REPORT.json]
            [--protocol ...] [--ambiguous FILE] [--tiou SPEC] [--strict] [--score-key K] [--plot DIR ...]
                     DATA.h5 must be the file the activations were made on (its fingerprint is checked); with
                     no --post the detections equal those of the original run
  --sweep JSON|FILE  {key: [values, ...]}: every combination of these post-processing settings on top of the
                     method's (and --post), scored on the saved videos, which must not be the test split (save
                     them with --heldout RUN); prints each result, the defaults' and the best, and writes the
                     best one's detections (the report holds the whole sweep). Apply the chosen settings to the
                     test activations with --post.

Examples:
  aicl_eval --gt ../shared/data/thumos14/gt.json --detections dets.json
  aicl_eval --gt gt.json --detections dets.json --tiou 0.5 --report eval.json
  aicl_eval --gt gt.json --detections dets.json --tiou 0.3,0.4,0.5,0.6,0.7 --per-class
  aicl_eval --gt gt.json --detections dets.json --protocol th14 --ambiguous Ambiguous_test.txt
  aicl_eval --data thumos14.h5 --weights runs/a/best.h5 --out dets.json --report eval.json
  aicl_eval --data thumos14.h5 --weights runs/a/best.h5 --out dets.json --plot figs --plot-run runs/a

Comparing two results:
  aicl_eval --compare A.json B.json
                     two reports (--report files or a run's eval.json): first whether they measure the same
                     thing (protocol, tIoU thresholds, the hash of the evaluated video list, subset, classes,
                     ground-truth size); if so the mAP of each per tIoU and B - A (exit 0), else the reasons
                     (exit 1)

Exit status: 0 on success, 2 on any error (one line on stderr naming the file or flag); --compare: 1 when the
reports are not comparable.
)";

// The videos of --plot-videos (checked against `available`), or the first 6 of `available`.
std::vector<std::string> plot_video_names(const aicl::Flags& flags, const std::vector<std::string>& available,
                                          const std::string& subset) {
  std::vector<std::string> out;
  if (!flags.has("plot-videos")) {
    for (size_t i = 0; i < available.size() && i < 6; ++i) out.push_back(available[i]);
    return out;
  }
  const std::string list = flags.str("plot-videos", "");
  for (size_t start = 0; start <= list.size();) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string name = list.substr(start, comma - start);
    if (name.empty()) aicl::fail("--plot-videos: empty video name in '" + list + "'");
    if (std::find(available.begin(), available.end(), name) == available.end())
      aicl::fail("--plot-videos: no video '" + name + "' in subset '" + subset + "'");
    out.push_back(name);
    start = comma + 1;
  }
  return out;
}

// True when --plot is given; --plot-videos/--plot-run without it are errors (checked before any work).
bool plot_requested(const aicl::Flags& flags) {
  if (flags.has("plot-videos") && !flags.has("plot")) aicl::fail("--plot-videos: needs --plot DIR");
  if (flags.has("plot-run") && !flags.has("plot")) aicl::fail("--plot-run: needs --plot DIR");
  return flags.has("plot");
}

// --plot DIR: writes the figures and DIR/index.html; says where unless --quiet.
void write_plots(const aicl::Flags& flags, aicl::PlotRequest& request) {
  const std::string dir = flags.str("plot", "");
  request.run_dir = flags.str("plot-run", "");
  const std::vector<std::string> files = aicl::write_plots(dir, request);
  if (!flags.has("quiet")) std::printf("wrote %zu figures, open %s/index.html\n", files.size() - 1, dir.c_str());
}

// One line on stderr when detections of classes without ground truth in the subset were left out of the score.
void note_dropped(const aicl::EvalReport& rep) {
  if (rep.dropped_detections == 0) return;
  std::string labels;
  for (const std::string& l : rep.dropped_labels) labels += (labels.empty() ? "" : ", ") + l;
  std::fprintf(stderr, "aicl_eval: note: %zu detections of %zu classes without ground truth in subset '%s' were left "
               "out of the score (%s; --strict refuses them)\n", rep.dropped_detections, rep.dropped_labels.size(),
               rep.subset.c_str(), labels.c_str());
}

// One stderr line per protocol note (e.g. W-TALC's zero mAP when a class has no detection).
void print_notes(const aicl::EvalReport& rep) {
  for (const std::string& n : rep.notes) std::fprintf(stderr, "aicl_eval: note: %s\n", n.c_str());
}

// --protocol and --ambiguous into the options; the anet protocol has no ambiguous intervals.
void protocol_options(const aicl::Flags& flags, aicl::EvalOptions& opt) {
  opt.protocol = aicl::parse_protocol(flags.str("protocol", "anet"));
  if (!flags.has("ambiguous")) {
    if (opt.protocol != aicl::EvalProtocol::anet && !flags.has("quiet"))
      std::fprintf(stderr, "aicl_eval: note: no --ambiguous file: no detection is excused by an Ambiguous interval\n");
    return;
  }
  if (opt.protocol == aicl::EvalProtocol::anet)
    aicl::fail("--ambiguous: the anet protocol has no Ambiguous intervals (use --protocol th14 or wtalc)");
  opt.ambiguous_name = flags.str("ambiguous", "");
  opt.ambiguous = aicl::read_ambiguous_file(opt.ambiguous_name);
}

// Scores a detections file: the table on stdout, optionally the JSON report.
int score_mode(const aicl::Flags& flags) {
  aicl::EvalOptions opt;
  opt.subset = flags.str("subset", "test");
  protocol_options(flags, opt);
  opt.tiou_thresholds = aicl::parse_tiou_spec(flags.str("tiou", aicl::default_tiou_spec(opt.protocol)));
  opt.threads = flags.integer("threads", 1, 1, 256);
  opt.allow_inverted_segments = flags.has("allow-inverted");
  opt.strict = flags.has("strict");
  const std::string gt = flags.required("gt");
  const std::string dets = flags.required("detections");
  const bool plotting = plot_requested(flags);
  if (!flags.positional().empty()) aicl::fail("unexpected argument '" + flags.positional()[0] + "' (see --help)");
  const aicl::EvalReport rep = aicl::evaluate_detection_files(gt, dets, opt);
  note_dropped(rep);
  print_notes(rep);
  if (flags.has("report")) aicl::write_json_file(flags.str("report", ""), aicl::report_to_json(rep), 1);
  if (!flags.has("quiet")) {
    std::fputs(aicl::format_table(rep, flags.has("per-class")).c_str(), stdout);
    if (flags.has("report")) std::printf("wrote %s\n", flags.str("report", "").c_str());
  }
  if (plotting) {
    // No per-video activation here: the timelines show ground truth and detections only.
    aicl::PlotRequest rq;
    rq.title = "aicl_eval: " + dets + " vs " + gt + " (subset " + opt.subset + ")";
    const aicl::ordered_json gt_ordered = aicl::read_ordered_json_file(gt);
    std::vector<std::string> names;
    for (auto it = gt_ordered["database"].begin(); it != gt_ordered["database"].end(); ++it)
      if (it.value()["subset"] == opt.subset) names.push_back(it.key());
    rq.videos = plot_video_names(flags, names, opt.subset);
    rq.ground_truth = aicl::json::parse(gt_ordered.dump());
    rq.detections = aicl::read_json_file(dets);
    rq.class_names = rep.class_names;
    rq.report = &rep;
    write_plots(flags, rq);
  }
  return 0;
}

// A JSON object given inline ('{...}') or as a file.
aicl::json json_arg(const std::string& arg, const std::string& flag) {
  aicl::json j;
  if (!arg.empty() && arg[0] == '{') {
    try {
      j = aicl::json::parse(arg);
    } catch (const aicl::json::exception&) {
      aicl::fail(flag + ": '" + arg + "' is not a JSON object");
    }
  } else {
    j = aicl::read_json_file(arg);
  }
  if (!j.is_object()) aicl::fail(flag + ": must be a JSON object");
  return j;
}

// --post: a JSON object of post-processing keys (or a file holding one), checked here so that a typo fails first.
aicl::json post_overrides(const std::string& arg) {
  const aicl::json j = json_arg(arg, "--post");
  aicl::PostprocessConfig check;
  aicl::apply_postprocess_overrides(check, j, "--post");
  return j;
}

// The --sweep table: every combination's average mAP on the held-out videos, the defaults' and the best.
void print_sweep(const aicl::json& sw) {
  std::printf("sweep on %zu videos of '%s' (never the test split):\n", sw["videos"].get<size_t>(),
              sw["subset"].get<std::string>().c_str());
  for (const aicl::json& r : sw["results"])
    std::printf("  %-60s avg mAP %6.2f\n", r["settings"].dump().c_str(), 100 * r["average_mAP"].get<double>());
  std::printf("defaults: avg mAP %.2f; chosen: %s, avg mAP %.2f (the detections written use it)\n",
              100 * sw["default_average_mAP"].get<double>(),
              sw["best"]["settings"].empty() ? "the defaults" : sw["best"]["settings"].dump().c_str(),
              100 * sw["best"]["average_mAP"].get<double>());
}

// `--data D.h5 --weights W.h5 --out det.json`: inference on a subset, detections written, then scored; or
// `--data D.h5 --activations A.h5 --out det.json`: saved activations post-processed and scored again.
int inference_mode(const aicl::Flags& flags) {
  if (!flags.positional().empty()) aicl::fail("unexpected argument '" + flags.positional()[0] + "' (see --help)");
  aicl::InferOptions o;
  o.data = flags.required("data");
  o.activations = flags.str("activations", "");
  if (o.activations.empty()) o.weights = flags.required("weights");
  for (const char* model_only : {"weights", "segments", "method", "device", "precision", "save-activations", "subset",
                                 "heldout", "videos"})
    if (!o.activations.empty() && flags.has(model_only))
      aicl::fail(std::string("--") + model_only + ": not with --activations (the saved run fixed it)");
  o.save_activations = flags.str("save-activations", "");
  if (flags.has("post")) o.post = post_overrides(flags.str("post", ""));
  if (flags.has("sweep")) {
    if (o.activations.empty()) aicl::fail("--sweep: needs --activations (saved held-out activations)");
    o.sweep = json_arg(flags.str("sweep", ""), "--sweep");
  }
  if (flags.has("heldout") && flags.has("videos")) aicl::fail("--heldout: not with --videos");
  if (flags.has("heldout")) {  // the run's held-out training videos (RUN/split.json, written by aicl_train)
    const std::string run = flags.str("heldout", "");
    const aicl::json split = aicl::read_json_file(run + "/split.json");
    if (!split.contains("val") || !split["val"].is_array() || split["val"].empty())
      aicl::fail("--heldout: " + run + " held out no training videos (trained without --val-fraction)");
    o.videos = split["val"].get<std::vector<std::string>>();
    o.heldout = true;
    if (flags.has("subset")) aicl::fail("--heldout: the held-out videos' subset is the run's; drop --subset");
    o.subset = split.value("train_subset", std::string());
  }
  if (flags.has("videos")) {
    std::ifstream in(flags.str("videos", ""));
    if (!in) aicl::fail("--videos: cannot read " + flags.str("videos", ""));
    for (std::string name; std::getline(in, name);) {
      while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
      if (!name.empty()) o.videos.push_back(name);
    }
    if (o.videos.empty()) aicl::fail("--videos: " + flags.str("videos", "") + " names no video");
  }
  o.out = flags.required("out");
  o.report = flags.str("report", "");
  o.subset = flags.str("subset", "");
  o.segments = flags.integer("segments", 750, aicl::smallest_min_segments(), 1000000);
  o.method = flags.str("method", "");
  o.score_key = flags.str("score-key", "score");
  o.device = flags.str("device", "cpu");
  o.precision = flags.str("precision", "fp32");
  if (o.score_key != "score" && o.score_key != "score300") aicl::fail("--score-key: must be score or score300");
  if (flags.has("threads")) aicl::set_num_threads(flags.integer("threads", 1, 1, 1024));
  aicl::EvalOptions scoring;
  protocol_options(flags, scoring);
  o.protocol = scoring.protocol;
  o.ambiguous = scoring.ambiguous;
  o.ambiguous_name = scoring.ambiguous_name;
  if (flags.has("tiou")) o.tiou = aicl::parse_tiou_spec(flags.str("tiou", ""));
  o.strict = flags.has("strict");
  const bool plotting = plot_requested(flags);
  std::vector<std::string> plot_videos;
  if (plotting) {
    const aicl::Dataset ds(o.data);
    if (o.subset.empty()) o.subset = ds.profile().test_subset;
    std::vector<std::string> names;
    for (size_t i : ds.subset_indices(o.subset)) names.push_back(ds.video(i).name);
    plot_videos = plot_video_names(flags, names, o.subset);
    o.keep_activations.insert(plot_videos.begin(), plot_videos.end());
  }
  const aicl::InferOutcome res = aicl::infer_and_evaluate(o);
  if (!res.sweep.is_null() && !flags.has("quiet")) print_sweep(res.sweep);
  note_dropped(res.report);
  print_notes(res.report);
  if (!flags.has("quiet")) {
    std::fputs(aicl::format_table(res.report, flags.has("per-class")).c_str(), stdout);
    std::printf("class accuracy %.2f%%; wrote %s%s%s\n", 100 * res.class_accuracy, o.out.c_str(),
                o.report.empty() ? "" : " and ", o.report.c_str());
  }
  if (plotting) {
    const aicl::Dataset ds(o.data);
    aicl::PlotRequest rq;
    rq.title = "aicl_eval: " + (o.activations.empty() ? o.weights : o.activations) + " (" + res.method + ") on " +
               o.data + " (subset " + o.subset + ")";
    rq.videos = plot_videos;
    rq.ground_truth = ds.ground_truth_json();
    rq.detections = aicl::read_json_file(o.out);
    rq.class_names = ds.class_names();
    rq.report = &res.report;
    for (const auto& [name, values] : res.activations) {
      const aicl::VideoInfo& v = ds.video(ds.find_video(name));
      rq.activations[name] = {values, res.activation_samples,
                              ds.seconds_per_segment() * v.num_segments / res.activation_samples};
    }
    write_plots(flags, rq);
  }
  return 0;
}

// `--compare A.json B.json`: exit 0 and the difference when comparable, exit 1 and the reasons when not.
int compare_mode(const aicl::Flags& flags) {
  const std::string a = flags.required("compare");
  if (flags.positional().size() != 1) aicl::fail("--compare: give two reports: --compare A.json B.json");
  const std::string b = flags.positional()[0];
  const aicl::json cmp = aicl::compare_reports(aicl::read_json_file(a), aicl::read_json_file(b), a, b);
  std::fputs(aicl::format_comparison(cmp, a, b).c_str(), stdout);
  return cmp["comparable"].get<bool>() ? 0 : 1;
}

bool has_arg(int argc, char** argv, const char* name) {
  const size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0 || (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  return aicl::run_cli("aicl_eval", [&]() -> int {
    if (argc < 2 || has_arg(argc, argv, "--help") || has_arg(argc, argv, "-h")) {
      std::fputs(kHelp, argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
    if (has_arg(argc, argv, "--compare")) return compare_mode(aicl::Flags(argc, argv, 1, {"compare"}, {}));
    if (has_arg(argc, argv, "--data")) {
      aicl::Flags flags(argc, argv, 1, {"data", "weights", "out", "threads", "segments", "subset", "report", "score-key",
                                           "device", "plot", "plot-videos", "plot-run", "method", "protocol",
                                           "ambiguous", "tiou", "precision", "save-activations", "activations",
                                           "post", "sweep", "heldout", "videos"},
                        {"quiet", "per-class", "strict"});
      return inference_mode(flags);
    }
    aicl::Flags flags(argc, argv, 1, {"gt", "detections", "subset", "tiou", "report", "threads", "plot", "plot-videos",
                                           "plot-run", "protocol", "ambiguous"},
                      {"per-class", "quiet", "allow-inverted", "strict"});
    return score_mode(flags);
  });
}
