// Temporal-detection mAP, numerically identical to the official AICL/ActivityNet evaluator (ANETEval).
//
// Every floating-point step follows the official numpy code in the same order (see docs/evaluator.md):
// tIoU without +1, numpy's unstable argsort reversed for the score order and the GT candidate order,
// VOC all-point interpolated AP summed with numpy's pairwise summation, class means likewise.
// numpy never fuses a multiply and an add, so neither may we.
#pragma GCC optimize("fp-contract=off")

#include "core/eval/evaluator.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/base/error.h"
#include "core/eval/json_fast_reader.h"
#include "core/eval/numpy_compat.h"
#include "core/eval/protocol_scoring.h"

namespace aicl {


std::vector<double> parse_tiou_spec(const std::string& spec) {
  auto number = [&](const std::string& s) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
      fail("--tiou: '" + s + "' is not a finite number (expected a:b:n or a comma list, e.g. 0.1:0.7:7)");
    return v;
  };
  std::vector<double> out;
  if (spec.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream ss(spec);
    std::string p;
    while (std::getline(ss, p, ':')) parts.push_back(p);
    if (parts.size() != 3 || spec.back() == ':')
      fail("--tiou: '" + spec + "' must be start:stop:count, e.g. 0.1:0.7:7");
    const double start = number(parts[0]), stop = number(parts[1]);
    char* end = nullptr;
    errno = 0;
    long count = std::strtol(parts[2].c_str(), &end, 10);
    if (parts[2].empty() || *end != '\0' || errno == ERANGE || count < 1 || count > 1000)
      fail("--tiou: count '" + parts[2] + "' must be an integer in [1, 1000]");
    // numpy.linspace(start, stop, count): arange * step + start, each step rounded, last = stop.
    const double delta = stop - start;
    const long div = count - 1;
    for (long i = 0; i < count; ++i) {
      double y;
      if (div > 0) {
        const double step = delta / static_cast<double>(div);
        y = step == 0 ? (static_cast<double>(i) / static_cast<double>(div)) * delta : static_cast<double>(i) * step;
      } else {
        y = static_cast<double>(i) * delta;
      }
      out.push_back(y + start);
    }
    if (count > 1) out.back() = stop;
  } else {
    std::stringstream ss(spec);
    std::string p;
    while (std::getline(ss, p, ',')) out.push_back(number(p));
    if (out.empty() || spec.back() == ',') fail("--tiou: '" + spec + "' is not a comma list of thresholds");
  }
  for (double t : out)
    if (!(t > 0 && t <= 1)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", t);
      fail("--tiou: threshold " + std::string(buf) + " is outside (0, 1]");
    }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON input
// ---------------------------------------------------------------------------------------------

namespace {

std::string num_str(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

template <class J>
double finite_number(const J& x, const std::string& where, const char* what) {
  if (!x.is_number()) fail(where + ": " + what + " is not a number");
  double v = x.template get<double>();
  if (!std::isfinite(v)) fail(where + ": " + what + " is not finite");
  return v;
}

template <class J>
std::pair<double, double> read_segment(const J& obj, const std::string& where, bool allow_inverted) {
  auto it = obj.find("segment");
  if (it == obj.end()) fail(where + ": missing 'segment'");
  if (!it->is_array() || it->size() != 2) fail(where + ": 'segment' must be [start, end]");
  double s = finite_number((*it)[0], where, "segment start");
  double e = finite_number((*it)[1], where, "segment end");
  if (s > e && !allow_inverted) fail(where + ": segment start " + num_str(s) + " > end " + num_str(e));
  return {s, e};
}

template <class J>
const std::string& read_label(const J& obj, const std::string& where) {
  auto it = obj.find("label");
  if (it == obj.end() || !it->is_string()) fail(where + ": missing string 'label'");
  return it->template get_ref<const std::string&>();
}

template <class J>
EvalGroundTruth gt_from_json(const J& gt, const std::string& subset, const std::string& name, bool allow_inverted) {
  if (!gt.is_object()) fail(name + ": expected a JSON object with a 'database' map");
  auto db = gt.find("database");
  if (db == gt.end()) fail(name + ": missing 'database' (ActivityNet-style ground truth expected)");
  if (!db->is_object()) fail(name + ": 'database' is not an object {video: {...}}");
  EvalGroundTruth out;
  for (auto it = db->begin(); it != db->end(); ++it) {
    const std::string where = name + ": database['" + it.key() + "']";
    const J& v = it.value();
    if (!v.is_object()) fail(where + " is not an object");
    auto s = v.find("subset");
    if (s == v.end() || !s->is_string()) fail(where + ": missing string 'subset'");
    auto anns = v.find("annotations");
    if (s->template get_ref<const std::string&>() != subset) {
      if (anns != v.end() && anns->is_array())
        for (const J& a : *anns)
          if (a.is_object() && a.contains("label") && a["label"].is_string())
            out.labels_elsewhere.insert(a["label"].template get<std::string>());
      continue;
    }
    ++out.num_videos;
    out.videos.push_back(it.key());
    if (anns == v.end() || !anns->is_array()) fail(where + ": missing 'annotations' list");
    for (std::size_t i = 0; i < anns->size(); ++i) {
      const J& a = (*anns)[i];
      const std::string w = where + ".annotations[" + std::to_string(i) + "]";
      if (!a.is_object()) fail(w + " is not an object");
      EvalGtInstance g;
      g.video = it.key();
      g.label = read_label(a, w);
      std::tie(g.start, g.end) = read_segment(a, w, allow_inverted);
      out.instances.push_back(std::move(g));
    }
  }
  return out;
}

template <class J>
std::vector<EvalDetection> dets_from_json(const J& dets, const std::string& name, bool allow_inverted) {
  if (!dets.is_object()) fail(name + ": expected a JSON object with a 'results' map");
  auto res = dets.find("results");
  if (res == dets.end()) fail(name + ": missing 'results' ({video: [detections]} expected)");
  if (!res->is_object()) fail(name + ": 'results' is not an object {video: [detections]}");
  std::vector<EvalDetection> out;
  for (auto it = res->begin(); it != res->end(); ++it) {
    const J& list = it.value();
    if (!list.is_array()) fail(name + ": results['" + it.key() + "'] is not a list");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const J& d = list[i];
      const std::string w = name + ": results['" + it.key() + "'][" + std::to_string(i) + "]";
      if (!d.is_object()) fail(w + " is not an object");
      EvalDetection x;
      x.video = it.key();
      x.label = read_label(d, w);
      std::tie(x.start, x.end) = read_segment(d, w, allow_inverted);
      auto sc = d.find("score300");  // the official key; the standard 'score' otherwise
      if (sc == d.end()) sc = d.find("score");
      if (sc == d.end()) fail(w + ": has neither 'score' nor 'score300'");
      x.score = finite_number(*sc, w, "score");
      out.push_back(std::move(x));
    }
  }
  return out;
}

}  // namespace

EvalGroundTruth ground_truth_from_json(const json& gt, const std::string& subset, const std::string& name,
                                       bool allow_inverted) {
  return gt_from_json(gt, subset, name, allow_inverted);
}
EvalGroundTruth ground_truth_from_json(const ordered_json& gt, const std::string& subset, const std::string& name,
                                       bool allow_inverted) {
  return gt_from_json(gt, subset, name, allow_inverted);
}
std::vector<EvalDetection> detections_from_json(const json& dets, const std::string& name, bool allow_inverted) {
  return dets_from_json(dets, name, allow_inverted);
}
std::vector<EvalDetection> detections_from_json(const ordered_json& dets, const std::string& name,
                                                bool allow_inverted) {
  return dets_from_json(dets, name, allow_inverted);
}

namespace {

// The bytes of a file; errors name it.
std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path + ": is a directory, not a JSON file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  // One read of the whole file: a character-by-character copy costs as much as a tenth of the evaluation.
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    text.resize(static_cast<std::size_t>(size));
    in.read(&text[0], size);
  } else {  // not seekable (a pipe): read it as a stream
    in.clear();
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (in.bad()) fail(path + ": read error");
  return text;
}

ordered_json parse_ordered(const std::string& text, const std::string& path) {
  try {
    return ordered_json::parse(text);
  } catch (const ordered_json::exception& e) {  // parse errors, and number overflow such as 1e999
    fail(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

// A THUMOS14 kit detection file ("video start end classid score" lines) rather than JSON.
bool is_kit_text(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] != '{' && text[first] != '[';
}

}  // namespace

ordered_json read_ordered_json_file(const std::string& path) { return parse_ordered(read_text_file(path), path); }

// ---------------------------------------------------------------------------------------------
// The evaluation
// ---------------------------------------------------------------------------------------------

namespace {

struct ClassData {
  // Ground truth of the class in official order; `video_gt[v]` lists, in that order, the class-local
  // indices of the GT in video v (the official groupby('video-id') + reset_index()).
  std::vector<double> gt_start, gt_end;
  std::unordered_map<int, std::vector<int>> video_gt;
  // Detections of the class in reading order (groupby('label') keeps row order).
  std::vector<int> det_video;  // -1: video has no GT at all
  std::vector<double> det_start, det_end, det_score;
};

// VOC-2011 all-point interpolated AP exactly as numpy computes it from the 0/1 TP sequence.
double interpolated_ap(const std::vector<std::uint8_t>& tp, double npos) {
  const std::size_t n = tp.size();
  std::vector<double> mprec(n + 2), mrec(n + 2);
  mprec[0] = 0;
  mrec[0] = 0;
  double tp_cum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    tp_cum += tp[i];
    mrec[i + 1] = tp_cum / npos;
    mprec[i + 1] = tp_cum / static_cast<double>(i + 1);  // tp_cum + fp_cum == i + 1 exactly
  }
  mprec[n + 1] = 0;
  mrec[n + 1] = 1;
  for (std::size_t i = n + 1; i-- > 0;) mprec[i] = std::max(mprec[i], mprec[i + 1]);
  std::vector<double> terms;
  terms.reserve(n + 1);
  for (std::size_t i = 1; i < n + 2; ++i)
    if (mrec[i] != mrec[i - 1]) terms.push_back((mrec[i] - mrec[i - 1]) * mprec[i]);
  return numpy_sum(terms.data(), terms.size());
}

// The official compute_average_precision_detection for one class at all thresholds.
std::vector<double> class_average_precision(const ClassData& c, const std::vector<double>& thresholds) {
  const std::size_t nt = thresholds.size();
  std::vector<double> ap(nt, 0.0);
  const std::size_t n = c.det_score.size();
  if (n == 0) return ap;
  const std::size_t npos = c.gt_start.size();
  // Ascending numpy argsort, walked backwards: the official argsort()[::-1].
  const std::vector<std::int64_t> asc = numpy_argsort(c.det_score);
  std::vector<std::vector<std::uint8_t>> tp(nt, std::vector<std::uint8_t>(n, 0));
  std::vector<std::uint8_t> locked(nt * npos, 0);
  std::vector<double> tiou;
  for (std::size_t rank = 0; rank < n; ++rank) {
    const std::size_t d = static_cast<std::size_t>(asc[n - 1 - rank]);
    if (c.det_video[d] < 0) continue;  // no GT of this class in the video: FP everywhere
    auto found = c.video_gt.find(c.det_video[d]);
    if (found == c.video_gt.end()) continue;
    const std::vector<int>& cand = found->second;
    const double ps = c.det_start[d], pe = c.det_end[d];
    tiou.resize(cand.size());
    for (std::size_t k = 0; k < cand.size(); ++k) {
      const double gs = c.gt_start[cand[k]], ge = c.gt_end[cand[k]];
      const double overlap = std::min(pe, ge) - std::max(ps, gs);
      const double inter = overlap >= 0.0 ? overlap : 0.0;  // numpy clip(0)
      const double uni = (ge - gs) + (pe - ps) - inter;
      tiou[k] = inter / uni;  // 0/0 = NaN for two zero-length segments, as in numpy
    }
    const std::vector<std::int64_t> cand_asc = numpy_argsort(tiou);
    for (std::size_t t = 0; t < nt; ++t) {
      std::uint8_t* lock_t = locked.data() + t * npos;
      for (std::size_t r = cand_asc.size(); r-- > 0;) {
        const std::size_t k = static_cast<std::size_t>(cand_asc[r]);
        if (tiou[k] < thresholds[t]) break;  // FP (NaN passes, as in the official code)
        const int g = cand[k];
        if (lock_t[g]) continue;
        lock_t[g] = 1;
        tp[t][rank] = 1;
        break;
      }
    }
  }
  for (std::size_t t = 0; t < nt; ++t) ap[t] = interpolated_ap(tp[t], static_cast<double>(npos));
  return ap;
}

}  // namespace

void score_anet(const ScoringInput& in, EvalReport& rep) {
  // Class index in order of first appearance (the official activity_index), videos interned.
  std::unordered_map<std::string, int> class_of, video_of;
  std::vector<ClassData> classes;
  for (const EvalGtInstance& g : in.gt.instances) {
    auto ci = class_of.emplace(g.label, static_cast<int>(classes.size()));
    if (ci.second) {
      classes.emplace_back();
      rep.class_names.push_back(g.label);
    }
    auto vi = video_of.emplace(g.video, static_cast<int>(video_of.size()));
    ClassData& c = classes[ci.first->second];
    c.video_gt[vi.first->second].push_back(static_cast<int>(c.gt_start.size()));
    c.gt_start.push_back(g.start);
    c.gt_end.push_back(g.end);
  }
  for (const EvalDetection* d : in.detections) {
    ClassData& c = classes[class_of.at(d->label)];
    auto vi = video_of.find(d->video);
    c.det_video.push_back(vi == video_of.end() ? -1 : vi->second);
    c.det_start.push_back(d->start);
    c.det_end.push_back(d->end);
    c.det_score.push_back(d->score);
  }
  const int num_classes = static_cast<int>(classes.size());
  rep.class_ap.assign(classes.size(), {});
#pragma omp parallel for schedule(dynamic) num_threads(std::max(1, in.options.threads)) if (in.options.threads > 1)
  for (int ci = 0; ci < num_classes; ++ci) rep.class_ap[ci] = class_average_precision(classes[ci], rep.tiou);

  // ap.mean(axis=1) then mAP.mean(): numpy sums (pairwise) then divides.
  const std::size_t nt = rep.tiou.size();
  std::vector<double> row(classes.size());
  for (std::size_t t = 0; t < nt; ++t) {
    for (std::size_t ci = 0; ci < classes.size(); ++ci) row[ci] = rep.class_ap[ci][t];
    rep.mAP.push_back(numpy_sum(row.data(), row.size()) / static_cast<double>(row.size()));
  }
  rep.average_mAP = numpy_sum(rep.mAP.data(), nt) / static_cast<double>(nt);
  const std::vector<std::string> videos = subset_videos(in.gt);
  rep.num_evaluated_videos = videos.size();
  rep.video_list_sha256 = video_list_sha256(videos);
}

std::vector<std::string> subset_videos(const EvalGroundTruth& gt) {
  if (!gt.videos.empty()) return gt.videos;
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const EvalGtInstance& g : gt.instances)
    if (seen.insert(g.video).second) out.push_back(g.video);
  return out;
}

std::vector<std::string> sorted_class_names(const EvalGroundTruth& gt) {
  std::set<std::string> names;
  for (const EvalGtInstance& g : gt.instances) names.insert(g.label);
  return {names.begin(), names.end()};
}

namespace {

// The checks every protocol shares: thresholds, a non-empty subset, finite values, start <= end.
void check_inputs(const EvalGroundTruth& gt, const std::vector<EvalDetection>& detections,
                  const EvalOptions& options) {
  if (options.tiou_thresholds.empty()) fail("--tiou: no thresholds");
  for (double t : options.tiou_thresholds)
    if (!(t > 0 && t <= 1)) fail("--tiou: threshold " + num_str(t) + " is outside (0, 1]");
  if (gt.instances.empty())
    fail(options.gt_name + ": no ground-truth annotations in subset '" + options.subset + "' (" +
         std::to_string(gt.num_videos) + " videos in that subset)");
  for (const EvalGtInstance& g : gt.instances) {
    if (!std::isfinite(g.start) || !std::isfinite(g.end))
      fail(options.gt_name + ": video '" + g.video + "': non-finite segment");
    if (g.start > g.end && !options.allow_inverted_segments)
      fail(options.gt_name + ": video '" + g.video + "': segment start " + num_str(g.start) + " > end " +
           num_str(g.end));
  }
  for (const EvalDetection& d : detections) {
    if (!std::isfinite(d.start) || !std::isfinite(d.end))
      fail(options.detections_name + ": video '" + d.video + "': non-finite segment");
    if (d.start > d.end && !options.allow_inverted_segments)
      fail(options.detections_name + ": video '" + d.video + "': segment start " + num_str(d.start) + " > end " +
           num_str(d.end));
    if (!std::isfinite(d.score)) fail(options.detections_name + ": video '" + d.video + "': non-finite score");
  }
  if (options.protocol == EvalProtocol::wtalc && !(options.snippets_per_second > 0))
    fail("snippets per second must be positive");
}

// The detections whose label has ground truth in the subset, in reading order. The others are counted in the
// report when their label is a class elsewhere (or a known label), and an error otherwise or with `strict`.
std::vector<const EvalDetection*> scored_detections(const EvalGroundTruth& gt,
                                                    const std::vector<EvalDetection>& detections,
                                                    const EvalOptions& options, EvalReport& rep) {
  std::unordered_set<std::string> labels;
  for (const EvalGtInstance& g : gt.instances) labels.insert(g.label);
  std::set<std::string> dropped;
  std::vector<const EvalDetection*> out;
  out.reserve(detections.size());
  for (const EvalDetection& d : detections) {
    if (labels.count(d.label)) {
      out.push_back(&d);
      continue;
    }
    const bool a_class = gt.labels_elsewhere.count(d.label) ||
                         std::find(options.known_labels.begin(), options.known_labels.end(), d.label) !=
                             options.known_labels.end();
    if (!a_class || options.strict)
      fail(options.detections_name + ": label '" + d.label + "' (video '" + d.video +
           "') has no ground truth in subset '" + options.subset + "' of " + options.gt_name +
           (a_class ? " (the official evaluator raises KeyError; without --strict such detections are left out)"
                    : " (it is no class of the ground truth)"));
    ++rep.dropped_detections;
    dropped.insert(d.label);
  }
  rep.dropped_labels.assign(dropped.begin(), dropped.end());
  return out;
}

}  // namespace

EvalReport evaluate_detection(const EvalGroundTruth& gt, const std::vector<EvalDetection>& detections,
                              const EvalOptions& options) {
  check_inputs(gt, detections, options);
  EvalReport rep;
  rep.tiou = options.tiou_thresholds;
  rep.subset = options.subset;
  rep.gt_file = options.gt_name;
  rep.num_gt_instances = gt.instances.size();
  rep.num_gt_videos = gt.num_videos;
  rep.protocol = protocol_name(options.protocol);
  rep.ambiguous_file = options.ambiguous_name;
  rep.num_ambiguous_intervals = options.ambiguous.size();
  const std::vector<const EvalDetection*> scored = scored_detections(gt, detections, options, rep);
  const ScoringInput in{gt, scored, options};
  switch (options.protocol) {
    case EvalProtocol::th14: score_th14(in, rep); break;
    case EvalProtocol::wtalc: score_wtalc(in, rep); break;
    default: score_anet(in, rep); break;
  }
  rep.num_detections = scored.size() - rep.unscored_detections;  // the ones scored
  return rep;
}

EvalReport evaluate_detection(const json& ground_truth, const json& detections, const EvalOptions& options) {
  return evaluate_detection(
      ground_truth_from_json(ground_truth, options.subset, options.gt_name, options.allow_inverted_segments),
      detections_from_json(detections, options.detections_name, options.allow_inverted_segments), options);
}

EvalReport evaluate_detection(const ordered_json& ground_truth, const ordered_json& detections,
                              const EvalOptions& options) {
  return evaluate_detection(
      ground_truth_from_json(ground_truth, options.subset, options.gt_name, options.allow_inverted_segments),
      detections_from_json(detections, options.detections_name, options.allow_inverted_segments), options);
}

EvalReport evaluate_detection_files(const std::string& gt_path, const std::string& detections_path,
                                    const EvalOptions& options) {
  EvalOptions o = options;
  o.gt_name = gt_path;
  o.detections_name = detections_path;
  EvalGroundTruth gt;
  std::vector<EvalDetection> dets;
  // Well-formed files take the streaming readers. Otherwise both files go through the DOM readers in the
  // order that reports a broken detections file even when the ground truth is fine, and vice versa.
  const std::string gt_text = read_text_file(gt_path);
  bool fast = fast_read_ground_truth(gt_text, o.subset, o.allow_inverted_segments, gt);
  const std::string det_text = fast ? read_text_file(detections_path) : std::string();
  const bool kit_text = fast && is_kit_text(det_text);
  if (kit_text) dets = th14_detections_from_text(det_text, detections_path);
  else fast = fast && fast_read_detections(det_text, o.allow_inverted_segments, dets);
  if (!fast) {
    const ordered_json gt_json = parse_ordered(gt_text, gt_path);
    const std::string text = det_text.empty() ? read_text_file(detections_path) : det_text;
    if (is_kit_text(text)) {
      gt = ground_truth_from_json(gt_json, o.subset, o.gt_name, o.allow_inverted_segments);
      dets = th14_detections_from_text(text, detections_path);
    } else {
      const ordered_json det_json = parse_ordered(text, detections_path);
      gt = ground_truth_from_json(gt_json, o.subset, o.gt_name, o.allow_inverted_segments);
      dets = detections_from_json(det_json, o.detections_name, o.allow_inverted_segments);
    }
  }
  EvalReport rep = evaluate_detection(gt, dets, o);
  rep.gt_file = gt_path;
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

json report_to_json(const EvalReport& r) {
  json j;
  j["tiou"] = r.tiou;
  j["mAP"] = r.mAP;
  j["average_mAP"] = r.average_mAP;
  json per_class = json::object();
  for (std::size_t c = 0; c < r.class_names.size(); ++c) per_class[r.class_names[c]] = r.class_ap[c];
  j["per_class"] = per_class;
  j["class_order"] = r.class_names;
  j["num_detections"] = r.num_detections;
  j["num_gt_instances"] = r.num_gt_instances;
  j["num_gt_videos"] = r.num_gt_videos;
  j["num_classes"] = r.class_names.size();
  j["gt_file"] = r.gt_file;
  j["subset"] = r.subset;
  j["dropped_detections"] = r.dropped_detections;
  j["dropped_labels"] = r.dropped_labels;
  j["protocol"] = r.protocol;
  j["num_evaluated_videos"] = r.num_evaluated_videos;
  j["video_list_sha256"] = r.video_list_sha256;
  if (r.protocol != "anet") {
    j["ambiguous_file"] = r.ambiguous_file.empty() ? json(nullptr) : json(r.ambiguous_file);
    j["num_ambiguous_intervals"] = r.num_ambiguous_intervals;
    j["ambiguous_excused"] = r.ambiguous_excused;
  }
  if (r.protocol == "wtalc") j["unscored_detections"] = r.unscored_detections;
  j["notes"] = r.notes;
  return j;
}

std::string format_table(const EvalReport& r, bool per_class) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "detection mAP (protocol %s) on subset '%s': %zu classes, %zu GT instances in %zu videos, %zu detections\n",
                r.protocol.c_str(), r.subset.c_str(), r.class_names.size(), r.num_gt_instances, r.num_gt_videos,
                r.num_detections);
  out += buf;
  std::size_t name_w = 8;
  if (per_class)
    for (const auto& n : r.class_names) name_w = std::max(name_w, n.size());
  std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_w), "tIoU");
  out += buf;
  for (double t : r.tiou) {
    std::snprintf(buf, sizeof buf, " %6.2f", t);
    out += buf;
  }
  out += "     avg\n";
  auto row = [&](const std::string& name, const std::vector<double>& vals) {
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_w), name.c_str());
    out += buf;
    double sum = 0;
    for (double v : vals) {
      std::snprintf(buf, sizeof buf, " %6.2f", 100 * v);
      out += buf;
      sum += v;
    }
    return sum;
  };
  row("mAP (%)", r.mAP);
  std::snprintf(buf, sizeof buf, "  %6.2f\n", 100 * r.average_mAP);
  out += buf;
  if (per_class)
    for (std::size_t c = 0; c < r.class_names.size(); ++c) {
      double sum = row(r.class_names[c], r.class_ap[c]);
      std::snprintf(buf, sizeof buf, "  %6.2f\n", 100 * sum / static_cast<double>(r.class_ap[c].size()));
      out += buf;
    }
  return out;
}

}  // namespace aicl
