// Protocol wtalc: the scoring step of W-TALC's detectionMAP.py (getLocMAP after its CAS thresholding) applied
// to a detection list.
//
// Seconds become snippet index ranges [round(s*f), round(e*f)) with Python's round (half to even), f = 25/16.
// Detections overlapping an Ambiguous interval are dropped before matching. The rest are sorted by numpy's
// argsort(-score) and each takes the FIRST remaining ground truth of its video (in annotation order) whose
// snippet-set IoU is >= the threshold. AP is non-interpolated; a class left without detections makes
// getLocMAP return 0 for the whole mAP.
#pragma GCC optimize("fp-contract=off")  // numpy never fuses a multiply and an add

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>

#include "core/eval/numpy_compat.h"
#include "core/eval/protocol_scoring.h"

namespace aicl {

namespace {

// range(a, b) of snippet indices; empty when b <= a.
struct SnippetRange {
  std::int64_t begin, end;
  std::int64_t size() const { return end > begin ? end - begin : 0; }
};

// int(round(seconds * factor)): round() on a float rounds half to even, as nearbyint does in the default mode.
std::int64_t python_round(double x) { return static_cast<std::int64_t>(std::nearbyint(x)); }

SnippetRange to_snippets(double start, double end, double factor) {
  return {python_round(start * factor), python_round(end * factor)};
}

// len(set(a) & set(b)) / len(set(a) | set(b)). W-TALC divides by zero when both are empty; we call that 0
// (no match, not ambiguous): its own detections always span at least two snippets.
double snippet_iou(SnippetRange a, SnippetRange b) {
  const std::int64_t lo = std::max(a.begin, b.begin), hi = std::min(a.end, b.end);
  const std::int64_t inter = (a.size() > 0 && b.size() > 0 && hi > lo) ? hi - lo : 0;
  const std::int64_t uni = a.size() + b.size() - inter;
  if (uni == 0) return 0;
  return static_cast<double>(inter) / static_cast<double>(uni);
}

struct WtalcDet {
  int video;
  SnippetRange range;
  double score;
};

struct WtalcClass {
  std::vector<WtalcDet> dets;                             // reading order, ambiguous ones dropped
  std::unordered_map<int, std::vector<SnippetRange>> gt;  // per video, annotation order
  std::size_t gtpos = 0;
};

// The AP of one class at one threshold: greedy first-fit matching, then sum(prec * tp) / gtpos.
double class_ap(const WtalcClass& c, double threshold) {
  const std::size_t n = c.dets.size();
  std::vector<double> neg(n);
  for (std::size_t i = 0; i < n; ++i) neg[i] = -c.dets[i].score;
  const std::vector<std::int64_t> order = numpy_argsort(neg);  // segment_predict[np.argsort(-score)]
  auto remaining = c.gt;
  std::vector<double> tp(n, 0);
  for (std::size_t r = 0; r < n; ++r) {
    const WtalcDet& d = c.dets[static_cast<std::size_t>(order[r])];
    auto found = remaining.find(d.video);
    if (found == remaining.end()) continue;
    std::vector<SnippetRange>& list = found->second;
    for (std::size_t j = 0; j < list.size(); ++j)
      if (snippet_iou(list[j], d.range) >= threshold) {
        tp[r] = 1;
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(j));
        break;
      }
  }
  double tp_count = 0;
  for (double x : tp) tp_count += x;
  if (tp_count == 0) return 0;
  std::vector<double> terms(n);
  double tp_c = 0, fp_c = 0;
  for (std::size_t i = 0; i < n; ++i) {
    tp_c += tp[i];
    fp_c += 1 - tp[i];
    terms[i] = (tp_c / (fp_c + tp_c)) * tp[i];
  }
  return numpy_sum(terms.data(), n) / static_cast<double>(c.gtpos);
}

// True when a detection's snippets meet those of an Ambiguous interval of its video (filter_segments).
bool is_ambiguous(SnippetRange r, const std::vector<SnippetRange>* amb) {
  if (!amb) return false;
  for (const SnippetRange& a : *amb)
    if (snippet_iou(a, r) > 0) return true;
  return false;
}

}  // namespace

namespace {

// What getLocMAP scores: the annotated videos of the subset (database order) and, per class, its ground truth
// and its detections that survive the Ambiguous filter.
struct WtalcInput {
  std::vector<std::string> videos;
  std::vector<WtalcClass> classes;
  std::size_t ambiguous_dropped = 0, unscored = 0;
};

WtalcInput build_input(const ScoringInput& in, const std::vector<std::string>& class_names) {
  const double f = in.options.snippets_per_second;
  WtalcInput out;
  std::unordered_map<std::string, std::size_t> annotated;
  for (const EvalGtInstance& g : in.gt.instances) annotated.emplace(g.video, 0);
  for (const std::string& v : subset_videos(in.gt))
    if (annotated.count(v)) annotated[v] = out.videos.size(), out.videos.push_back(v);
  std::unordered_map<std::string, std::size_t> class_of;
  for (std::size_t c = 0; c < class_names.size(); ++c) class_of[class_names[c]] = c;
  out.classes.resize(class_names.size());
  for (const EvalGtInstance& g : in.gt.instances) {
    WtalcClass& c = out.classes[class_of.at(g.label)];
    c.gt[static_cast<int>(annotated.at(g.video))].push_back(to_snippets(g.start, g.end, f));
    ++c.gtpos;
  }
  std::unordered_map<std::string, std::vector<SnippetRange>> amb;
  for (const AmbiguousInterval& a : in.options.ambiguous) amb[a.video].push_back(to_snippets(a.start, a.end, f));
  for (const EvalDetection* d : in.detections) {
    auto v = annotated.find(d->video);
    if (v == annotated.end()) {
      ++out.unscored;  // W-TALC only ever scores the annotated videos of the subset
      continue;
    }
    const SnippetRange r = to_snippets(d->start, d->end, f);
    auto a = amb.find(d->video);
    if (is_ambiguous(r, a == amb.end() ? nullptr : &a->second)) {
      ++out.ambiguous_dropped;
      continue;
    }
    out.classes[class_of.at(d->label)].dets.push_back({static_cast<int>(v->second), r, d->score});
  }
  return out;
}

// np.mean(ap) per threshold (pairwise sum, then the division), or getLocMAP's `return 0` when a class has no
// detection left; that case also leaves a note.
void class_means(const WtalcInput& w, EvalReport& rep) {
  const std::size_t nc = w.classes.size(), nt = rep.tiou.size();
  std::string empty_class;
  for (std::size_t c = 0; c < nc && empty_class.empty(); ++c)
    if (w.classes[c].dets.empty()) empty_class = rep.class_names[c];
  std::vector<double> row(nc);
  for (std::size_t t = 0; t < nt; ++t) {
    for (std::size_t c = 0; c < nc; ++c) row[c] = rep.class_ap[c][t];
    rep.mAP.push_back(empty_class.empty() ? numpy_sum(row.data(), nc) / static_cast<double>(nc) : 0.0);
  }
  if (!empty_class.empty())
    rep.notes.push_back("wtalc: class '" + empty_class + "' has no detection left after the Ambiguous filter, so " +
                        "W-TALC's getLocMAP returns 0 at every threshold (per-class APs are still reported)");
  rep.average_mAP = numpy_sum(rep.mAP.data(), nt) / static_cast<double>(nt);  // W-TALC reports no average
}

}  // namespace

void score_wtalc(const ScoringInput& in, EvalReport& rep) {
  rep.class_names = sorted_class_names(in.gt);
  const WtalcInput w = build_input(in, rep.class_names);
  const std::size_t nc = w.classes.size(), nt = rep.tiou.size();
  rep.class_ap.assign(nc, std::vector<double>(nt, 0));
#pragma omp parallel for schedule(dynamic) num_threads(std::max(1, in.options.threads)) if (in.options.threads > 1)
  for (int c = 0; c < static_cast<int>(nc); ++c)
    for (std::size_t t = 0; t < nt; ++t) rep.class_ap[c][t] = class_ap(w.classes[c], rep.tiou[t]);
  class_means(w, rep);
  rep.ambiguous_excused.assign(nt, w.ambiguous_dropped);
  rep.unscored_detections = w.unscored;
  rep.num_evaluated_videos = w.videos.size();
  rep.video_list_sha256 = video_list_sha256(w.videos);
}

}  // namespace aicl
