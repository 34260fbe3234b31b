// Protocol th14: the scoring of the official THUMOS14 MATLAB kit (TH14evalDet.m, TH14eventdetpr.m,
// intervaloverlapvalseconds.m) as GNU Octave runs it, on the evaluator's inputs.
//
// Per class and video the kit sorts the detections by score (stable), then walks the GROUND TRUTH: each
// instance takes the free detection of largest overlap (the first on ties) when that overlap is strictly
// above the threshold. Unmatched detections that overlap an Ambiguous interval are not false positives.
// AP is the 11-point interpolated AP over recall 0:0.1:1; the mAP the plain mean over classes.
#pragma GCC optimize("fp-contract=off")  // Octave never fuses a multiply and an add either

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

#include "core/eval/protocol_scoring.h"

namespace aicl {

namespace {

struct Interval {
  double start, end;
};

// intervaloverlapvalseconds.m with its default normalisation: both intervals ordered (min, max), the
// intersection over the hull, 0 unless the intersection is strictly positive.
double kit_overlap(Interval a, Interval b) {
  const double a0 = std::min(a.start, a.end), a1 = std::max(a.start, a.end);
  const double b0 = std::min(b.start, b.end), b1 = std::max(b.start, b.end);
  const double width = std::min(a1, b1) - std::max(a0, b0);
  if (!(width > 0)) return 0;
  return width / (std::max(a1, b1) - std::min(a0, b0));
}

// One class's ground truth and detections, grouped by video.
struct Th14Video {
  std::vector<Interval> gt;            // file order
  std::vector<Interval> det;           // sorted by score, high to low, stable
  std::vector<double> conf;            // their scores
  std::vector<std::uint8_t> ambiguous; // overlaps an Ambiguous interval of the video
};

struct Th14Class {
  std::size_t npos = 0;
  std::map<std::string, Th14Video> videos;  // ordered as the kit's unique(); the order is not observable
};

// The detection confidences of one class and threshold, split into matched and unmatched (non-ambiguous).
struct Outcome {
  std::vector<double> tp, fp;
  std::size_t excused = 0;
};

// TH14eventdetpr.m's loop body for one video: ground truth in order, each taking its best free detection.
void match_video(const Th14Video& v, double threshold, Outcome& out) {
  const std::size_t n = v.det.size();
  std::vector<std::uint8_t> free(n, 1);
  for (const Interval& g : v.gt) {
    double best = -1;
    std::size_t arg = n;
    for (std::size_t d = 0; d < n; ++d) {
      if (!free[d]) continue;
      const double ov = kit_overlap(g, v.det[d]);
      if (ov > best) best = ov, arg = d;  // max() returns the first maximum
    }
    if (arg < n && best > threshold) free[arg] = 0;
  }
  for (std::size_t d = 0; d < n; ++d) {
    if (!free[d]) out.tp.push_back(v.conf[d]);
    else if (!v.ambiguous[d]) out.fp.push_back(v.conf[d]);
    else ++out.excused;
  }
}

// prap(): 11-point interpolated AP from the kit's stable sort of [tp fp] by -conf (on equal scores the
// matched ones come first), Octave's recall points 0 + k*0.1 and its running sum of p/11.
double eleven_point_ap(const Outcome& o, std::size_t npos) {
  if (o.tp.empty()) return 0;
  std::vector<std::pair<double, int>> all;  // (conf, 0 = TP first on ties, 1 = FP)
  for (double c : o.tp) all.emplace_back(c, 0);
  for (double c : o.fp) all.emplace_back(c, 1);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  const std::size_t n = all.size();
  std::vector<double> rec(n), prec(n);
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < n; ++i) {
    (all[i].second == 0 ? tp : fp) += 1;
    rec[i] = tp / static_cast<double>(npos);
    prec[i] = tp / (fp + tp);
  }
  // rec never decreases, so rec >= t is a suffix: its best precision is a suffix maximum.
  std::vector<double> suffix_max(n + 1, -1);
  for (std::size_t i = n; i-- > 0;) suffix_max[i] = std::max(prec[i], suffix_max[i + 1]);
  double ap = 0;
  for (int k = 0; k <= 10; ++k) {
    const double t = k * 0.1;
    const std::size_t first = static_cast<std::size_t>(std::lower_bound(rec.begin(), rec.end(), t) - rec.begin());
    const double p = first < n ? suffix_max[first] : 0;
    ap = ap + p / 11;
  }
  return ap;
}

// The kit's order within a video: detections sorted by -conf with a stable sort (ties keep reading order),
// each flagged when it overlaps one of the video's Ambiguous intervals.
void sort_video(Th14Video& v, const std::vector<Interval>* amb) {
  std::vector<std::size_t> order(v.det.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v.conf[a] > v.conf[b]; });
  Th14Video sorted{v.gt, {}, {}, {}};
  for (std::size_t i : order) {
    sorted.det.push_back(v.det[i]);
    sorted.conf.push_back(v.conf[i]);
    bool hit = false;
    if (amb)
      for (const Interval& a : *amb) hit = hit || kit_overlap(a, v.det[i]) > 0;
    sorted.ambiguous.push_back(hit);
  }
  v = std::move(sorted);
}

// Builds every class's per-video data: ground truth in file order, detections as the kit sorts them.
std::vector<Th14Class> group_classes(const ScoringInput& in, const std::vector<std::string>& names) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t c = 0; c < names.size(); ++c) index[names[c]] = c;
  std::vector<Th14Class> classes(names.size());
  for (const EvalGtInstance& g : in.gt.instances) {
    Th14Class& c = classes[index.at(g.label)];
    ++c.npos;
    c.videos[g.video].gt.push_back({g.start, g.end});
  }
  std::unordered_map<std::string, std::vector<Interval>> amb;
  for (const AmbiguousInterval& a : in.options.ambiguous) amb[a.video].push_back({a.start, a.end});
  for (const EvalDetection* d : in.detections) {
    Th14Video& v = classes[index.at(d->label)].videos[d->video];
    v.det.push_back({d->start, d->end});
    v.conf.push_back(d->score);
  }
  for (Th14Class& c : classes)
    for (auto& [name, v] : c.videos) {
      const auto found = amb.find(name);
      sort_video(v, found == amb.end() ? nullptr : &found->second);
    }
  return classes;
}

}  // namespace

void score_th14(const ScoringInput& in, EvalReport& rep) {
  rep.class_names = sorted_class_names(in.gt);
  const std::vector<Th14Class> classes = group_classes(in, rep.class_names);
  const std::size_t nc = classes.size(), nt = rep.tiou.size();
  rep.class_ap.assign(nc, std::vector<double>(nt, 0));
  std::vector<std::vector<std::size_t>> excused(nc, std::vector<std::size_t>(nt, 0));
#pragma omp parallel for schedule(dynamic) num_threads(std::max(1, in.options.threads)) if (in.options.threads > 1)
  for (int c = 0; c < static_cast<int>(nc); ++c)
    for (std::size_t t = 0; t < nt; ++t) {
      Outcome o;
      for (const auto& [name, v] : classes[c].videos)
        if (!v.det.empty()) match_video(v, rep.tiou[t], o);
      rep.class_ap[c][t] = eleven_point_ap(o, classes[c].npos);
      excused[c][t] = o.excused;
    }
  // map = mean(ap_all, 1): Octave sums each column in order, then divides.
  rep.ambiguous_excused.assign(nt, 0);
  for (std::size_t t = 0; t < nt; ++t) {
    double sum = 0;
    for (std::size_t c = 0; c < nc; ++c) sum += rep.class_ap[c][t], rep.ambiguous_excused[t] += excused[c][t];
    rep.mAP.push_back(sum / static_cast<double>(nc));
  }
  double total = 0;
  for (double m : rep.mAP) total += m;
  rep.average_mAP = total / static_cast<double>(nt);  // not the kit's: it reports no average
  const std::vector<std::string> videos = subset_videos(in.gt);
  rep.num_evaluated_videos = videos.size();
  rep.video_list_sha256 = video_list_sha256(videos);
}

}  // namespace aicl
