// Inference post-processing (official AICL inference_thumos.py semantics) with numpy/scipy float64 arithmetic.
#include "core/eval/postprocess.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/base/error.h"

namespace aicl {

PostprocessConfig postprocess_config_for(const DatasetProfile& p) {
  PostprocessConfig c;
  c.class_thresh = p.class_thresh;
  c.act_thresh = p.act_thresh.empty()
                     ? numpy_arange(p.act_thresh_arange.start, p.act_thresh_arange.stop, p.act_thresh_arange.step)
                     : p.act_thresh;
  c.scale = p.scale;
  c.feature_fps = p.fps;
  c.frames_per_feature = p.segment_frames;
  c.outer_ratio = p.outer_ratio;
  c.class_score_weight = p.class_score_weight;
  c.nms_thresh = p.nms_thresh;
  c.soft_nms = p.soft_nms;
  c.nms_alpha = p.nms_alpha;
  return c;  // test_sampling stays "": localize_videos reads the dataset's profile unless a method sets it
}

void apply_postprocess_overrides(PostprocessConfig& c, const nlohmann::json& o, const std::string& who) {
  if (!o.is_object()) fail(who + ": post-processing overrides must be a JSON object");
  for (const auto& item : o.items()) {
    // Named references, not a structured binding: C++17 lambdas cannot capture bindings (clang refuses).
    const std::string& key = item.key();
    const nlohmann::json& v = item.value();
    auto number = [&](double lo, bool open_lo) {
      const bool ok = v.is_number() && std::isfinite(v.get<double>()) &&
                      (open_lo ? v.get<double>() > lo : v.get<double>() >= lo);
      if (!ok) fail(who + ": post-processing key '" + key + "' must be a finite number above " + std::to_string(lo));
      return v.get<double>();
    };
    if (key == "class_thresh") c.class_thresh = number(0, false);
    else if (key == "outer_ratio") c.outer_ratio = number(0, false);
    else if (key == "class_score_weight") c.class_score_weight = number(0, false);
    else if (key == "att_class_score_weight") c.att_class_score_weight = number(0, false);
    else if (key == "acm_cas_weight") c.acm_cas_weight = number(0, false);
    else if (key == "acm_att_weight") c.acm_att_weight = number(0, false);
    else if (key == "nms_thresh") c.nms_thresh = number(0, false);
    else if (key == "nms_alpha") c.nms_alpha = number(0, true);
    else if (key == "scale") c.scale = static_cast<int>(number(1, false));
    else if (key == "soft_nms" && v.is_boolean()) c.soft_nms = v.get<bool>();
    else if (key == "kind" && v.is_string() && (v == "oic" || v == "acm")) c.kind = v.get<std::string>();
    else if (key == "test_sampling" && v.is_string() &&
             (v == "uniform" || v == "uniform_keep_short"))
      c.test_sampling = v.get<std::string>();
    else if ((key == "act_thresh" || key == "att_thresh" || key == "tiou") && (v.is_array() || v.is_object())) {
      std::vector<double> th;
      auto finite = [](const nlohmann::json& x) { return x.is_number() && std::isfinite(x.get<double>()); };
      if (v.is_object()) {
        const bool ok = v.size() == 1 && v.contains("arange") && v["arange"].is_array() && v["arange"].size() == 3 &&
                        std::all_of(v["arange"].begin(), v["arange"].end(), finite) &&
                        v["arange"][0].get<double>() < v["arange"][1].get<double>() && v["arange"][2].get<double>() > 0;
        if (!ok) fail(who + ": post-processing key '" + key + "' must be {\"arange\": [start, stop, step]} with start < stop, step > 0");
        th = numpy_arange(v["arange"][0].get<double>(), v["arange"][1].get<double>(), v["arange"][2].get<double>());
      } else {
        if (!std::all_of(v.begin(), v.end(), finite))
          fail(who + ": post-processing key '" + key + "' must be a list of finite numbers");
        for (const auto& x : v) th.push_back(x.get<double>());
      }
      if (key == "tiou" && !std::all_of(th.begin(), th.end(), [](double t) { return t > 0 && t <= 1; }))
        fail(who + ": post-processing key 'tiou' must hold thresholds in (0, 1]");
      (key == "act_thresh" ? c.act_thresh : key == "att_thresh" ? c.att_thresh : c.tiou) = std::move(th);
    }
    else fail(who + ": unknown or malformed post-processing key '" + key + "'");
  }
}

std::vector<double> upsample_linear(const float* y, int T, int stride, int scale) {
  AICL_CHECK(T >= 2, "upsample_linear: need at least 2 segments, got " + std::to_string(T));
  AICL_CHECK(scale >= 1, "upsample_linear: scale must be >= 1");
  const double step = 1.0 / scale;
  // np.arange(0, T, 1/scale): ceil(T / step) points, point i = i*step.
  const auto n = static_cast<size_t>(std::ceil(static_cast<double>(T) / step));
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i) * step;
    // searchsorted(arange(T), x, 'left') = ceil(x), clipped to [1, T-1]
    double above = std::ceil(x);
    int64_t hi = above < 1 ? 1 : (above > T - 1 ? T - 1 : static_cast<int64_t>(above));
    int64_t lo = hi - 1;
    const float y_lo = y[lo * stride];
    const float rise = y[hi * stride] - y_lo;  // float32 subtraction, as numpy on the float32 y
    const double slope = static_cast<double>(rise) / 1.0;  // x[hi] - x[lo] == 1
    out[i] = rounded_product(slope, x - static_cast<double>(lo)) + static_cast<double>(y_lo);
  }
  return out;
}

double seconds_per_point(int vid_num_seg, int T, const PostprocessConfig& cfg) {
  return static_cast<double>(cfg.frames_per_feature) * vid_num_seg /
         (static_cast<double>(cfg.scale) * T * cfg.feature_fps);
}

namespace {

// The official outer-inner-contrast proposals shared by the OIC (AICL/SAL) and ACM (FTCL) post-processing: each run
// of consecutive selected points (at least min_len long) of `v` becomes a detection scored by the mean inside minus
// the mean of the outer_ratio-wide margins, plus class_term. A class whose selected points are none, or index 0
// alone, gives nothing (the official `.any()` test on the selected indices).
template <class Selected>
void scored_runs(const double* v, size_t num_points, Selected selected, size_t min_len, int label, double class_term,
                 double t_factor, const PostprocessConfig& cfg, std::vector<Detection>& out) {
  size_t first = 0;
  while (first < num_points && !selected(first)) ++first;
  if (first == num_points) return;
  if (first == 0) {
    size_t next = 1;
    while (next < num_points && !selected(next)) ++next;
    if (next == num_points) return;
  }
  const auto last_index = static_cast<int64_t>(num_points) - 1;
  thread_local std::vector<double> outer;  // reused: no allocation per proposal
  for (size_t j = first; j < num_points;) {
    if (!selected(j)) {
      ++j;
      continue;
    }
    const size_t s = j;
    while (j < num_points && selected(j)) ++j;
    const size_t e = j - 1;
    const size_t len = e - s + 1;
    if (len < min_len) continue;
    const double inner = numpy_mean(v + s, len);
    const double reach = rounded_product(cfg.outer_ratio, static_cast<double>(len));
    // int() truncates toward zero
    const int64_t outer_s = std::max<int64_t>(0, static_cast<int64_t>(std::trunc(static_cast<double>(s) - reach)));
    const int64_t outer_e = std::min<int64_t>(last_index, static_cast<int64_t>(std::trunc(static_cast<double>(e) + reach)));
    outer.clear();
    for (int64_t k = outer_s; k < static_cast<int64_t>(s); ++k) outer.push_back(v[k]);
    for (int64_t k = static_cast<int64_t>(e) + 1; k <= outer_e; ++k) outer.push_back(v[k]);
    const double outer_score = outer.empty() ? 0.0 : numpy_mean(outer.data(), outer.size());
    Detection d;
    d.label = label;
    d.score = (inner - outer_score) + class_term;
    d.t_start = static_cast<double>(s) * t_factor;
    d.t_end = static_cast<double>(e + 1) * t_factor;
    out.push_back(d);
  }
}

}  // namespace

void oic_proposals(const double* up, size_t num_points, double thresh, int label, float class_score,
                   double t_factor, const PostprocessConfig& cfg, std::vector<Detection>& out) {
  // A point is in a run when thresholding keeps it (not < thresh) and the kept value is > 0.
  auto selected = [&](size_t j) { return !(up[j] < thresh) && up[j] > 0; };
  const double class_term = rounded_product(cfg.class_score_weight, static_cast<double>(class_score));
  scored_runs(up, num_points, selected, 1, label, class_term, t_factor, cfg, out);
}

std::vector<Detection> basnet_nms(const std::vector<Detection>& proposals, double thresh, bool soft_nms,
                                  double nms_alpha) {
  const size_t n = proposals.size();
  std::vector<double> scores(n), areas(n);
  for (size_t k = 0; k < n; ++k) {
    scores[k] = proposals[k].score;
    areas[k] = (proposals[k].t_end - proposals[k].t_start) + 1;  // the +1 of quirk Q6, on seconds
  }
  std::vector<int64_t> order = numpy_argsort(scores.data(), n);
  std::reverse(order.begin(), order.end());  // argsort()[::-1]
  std::vector<Detection> keep, suppressed;
  std::vector<int64_t> survivors;
  survivors.reserve(n);
  while (!order.empty()) {
    const Detection& top = proposals[order[0]];
    const double top_area = areas[order[0]];
    keep.push_back(top);
    survivors.clear();
    for (size_t k = 1; k < order.size(); ++k) {
      const Detection& other = proposals[order[k]];
      const double xx1 = std::max(top.t_start, other.t_start);
      const double xx2 = std::min(top.t_end, other.t_end);
      const double inter = std::max(0.0, (xx2 - xx1) + 1);
      const double iou = inter / ((top_area + areas[order[k]]) - inter);
      if (soft_nms && iou >= thresh) {
        Detection decayed = other;
        // libm exp; numpy 1.24 on AVX-512 CPUs uses Intel SVML's exp, which differs by 1-2 ulp on ~27% of inputs
        decayed.score = decayed.score * std::exp(-(iou * iou) / nms_alpha);
        suppressed.push_back(decayed);
      }
      if (iou < thresh) survivors.push_back(order[k]);
    }
    order.swap(survivors);
  }
  if (soft_nms) keep.insert(keep.end(), suppressed.begin(), suppressed.end());
  return keep;
}

ClassSelection select_classes(const float* video_score, int num_classes, const PostprocessConfig& cfg) {
  AICL_CHECK(video_score != nullptr && num_classes >= 1, "select_classes: need a video score of >= 1 classes");
  // numpy compares a float32 array with a Python float in float32 (value-based casting).
  const auto th = static_cast<float>(cfg.class_thresh);
  ClassSelection sel;
  sel.binarized.assign(video_score, video_score + num_classes);
  for (float& b : sel.binarized)
    if (b < th) b = 0;
  for (float& b : sel.binarized)  // second pass on the already zeroed values, as the official
    if (b >= th) b = 1;
  bool all_zero = std::all_of(sel.binarized.begin(), sel.binarized.end(), [](float b) { return b == 0; });
  if (all_zero) {  // argmax of the probabilities (GPU semantics: score_supp was not binarized, quirk Q1)
    int best = 0;
    for (int c = 1; c < num_classes; ++c)
      if (video_score[c] > video_score[best] || (std::isnan(video_score[c]) && !std::isnan(video_score[best])))
        best = c;
    sel.binarized[best] = 1;
  }
  for (int c = 0; c < num_classes; ++c)
    if (sel.binarized[c] > th) sel.predicted.push_back(c);
  return sel;
}

std::vector<Detection> localize_video(const float* activation, const float* video_score, int T, int num_classes,
                                      int vid_num_seg, const PostprocessConfig& cfg) {
  AICL_CHECK(activation != nullptr, "localize_video: activation is null");
  AICL_CHECK(T >= 2, "localize_video: need at least 2 segments, got T=" + std::to_string(T));
  AICL_CHECK(vid_num_seg >= 1, "localize_video: vid_num_seg must be >= 1, got " + std::to_string(vid_num_seg));
  AICL_CHECK(cfg.scale >= 1, "localize_video: scale must be >= 1");
  AICL_CHECK(!cfg.soft_nms || cfg.nms_alpha > 0, "localize_video: nms_alpha must be > 0 with soft-NMS");
  const ClassSelection sel = select_classes(video_score, num_classes, cfg);
  const std::vector<int>& pred = sel.predicted;
  std::vector<std::vector<double>> up(pred.size());
  for (size_t p = 0; p < pred.size(); ++p) up[p] = upsample_linear(activation + pred[p], T, num_classes, cfg.scale);
  const double t_factor = seconds_per_point(vid_num_seg, T, cfg);

  // proposals pooled per class over all thresholds; classes in order of first appearance (official dict)
  std::vector<std::vector<Detection>> pool(pred.size());
  std::vector<size_t> class_order;
  for (double th : cfg.act_thresh) {
    for (size_t p = 0; p < pred.size(); ++p) {
      const size_t before = pool[p].size();
      oic_proposals(up[p].data(), up[p].size(), th, pred[p], video_score[pred[p]], t_factor, cfg, pool[p]);
      if (before == 0 && !pool[p].empty()) class_order.push_back(p);
    }
  }
  std::vector<Detection> out;
  for (size_t p : class_order) {
    std::vector<Detection> kept = basnet_nms(pool[p], cfg.nms_thresh, cfg.soft_nms, cfg.nms_alpha);
    out.insert(out.end(), kept.begin(), kept.end());
  }
  return out;
}

ClassSelection select_classes_acm(const float* video_score, int num_classes, const PostprocessConfig& cfg) {
  AICL_CHECK(video_score != nullptr && num_classes >= 1, "select_classes_acm: need a video score of >= 1 classes");
  const auto th = static_cast<float>(cfg.class_thresh);  // numpy: float32 array against a Python float
  ClassSelection sel;
  sel.binarized.resize(static_cast<size_t>(num_classes));
  int best = 0;  // np.argmax: the first maximum, or the first NaN
  for (int c = 0; c < num_classes; ++c) {
    sel.binarized[static_cast<size_t>(c)] = video_score[c] >= th ? 1.0f : 0.0f;
    if (video_score[c] > th) sel.predicted.push_back(c);
    if (!std::isnan(video_score[best]) && (video_score[c] > video_score[best] || std::isnan(video_score[c]))) best = c;
  }
  if (sel.predicted.empty()) sel.predicted.push_back(best);
  return sel;
}

void acm_proposals(const double* own, const double* other, bool cas_branch, size_t num_points, double thresh,
                   int label, float class_score, double class_weight, double t_factor, const PostprocessConfig& cfg,
                   std::vector<Detection>& out) {
  // The branch's own signal with the values < th set to 0 is the mask; the scored values are the official
  // w_c·cas + w_a·att in float64, each product rounded on its own (numpy never fuses). With weights 1 and 0 the
  // official 1.0·x + 0.0·y adds a zero, which changes no value: the scored values are then the CAS (thresholded on
  // the CAS branch), as FTCL's test_thu.py scores them.
  thread_local std::vector<double> masked, scored;
  masked.assign(own, own + num_points);
  for (double& x : masked)
    if (x < thresh) x = 0;
  const double wc = cfg.acm_cas_weight, wa = cfg.acm_att_weight;
  const double* c = cas_branch ? masked.data() : other;
  const double* v = c;
  if (wc != 1 || wa != 0) {
    const double* a = cas_branch ? other : masked.data();
    scored.resize(num_points);
    for (size_t j = 0; j < num_points; ++j) scored[j] = rounded_product(wc, c[j]) + rounded_product(wa, a[j]);
    v = scored.data();
  }
  const double* m = masked.data();
  auto selected = [&](size_t j) { return m[j] >= thresh; };  // np.where(x >= th); NaN is not selected
  const double class_term = class_weight == 0 ? 0.0 : rounded_product(class_weight, static_cast<double>(class_score));
  scored_runs(v, num_points, selected, 2, label, class_term, t_factor, cfg, out);  // a one-point run gives nothing
}

std::vector<Detection> localize_video_acm(const float* cas, int cas_stride, const float* attention, int att_stride,
                                          const float* video_score, int T, int num_classes, int vid_num_seg,
                                          const PostprocessConfig& cfg) {
  AICL_CHECK(cas != nullptr && attention != nullptr, "localize_video_acm: the CAS and the attention are needed");
  AICL_CHECK(T >= 2, "localize_video_acm: need at least 2 segments, got T=" + std::to_string(T));
  AICL_CHECK(cas_stride >= num_classes && att_stride >= 1, "localize_video_acm: bad strides");
  AICL_CHECK(vid_num_seg >= 1, "localize_video_acm: vid_num_seg must be >= 1, got " + std::to_string(vid_num_seg));
  AICL_CHECK(cfg.scale >= 1, "localize_video_acm: scale must be >= 1");
  const ClassSelection sel = select_classes_acm(video_score, num_classes, cfg);
  const std::vector<int>& pred = sel.predicted;
  std::vector<std::vector<double>> up(pred.size());
  for (size_t p = 0; p < pred.size(); ++p) up[p] = upsample_linear(cas + pred[p], T, cas_stride, cfg.scale);
  const std::vector<double> att = upsample_linear(attention, T, att_stride, cfg.scale);  // the same for every class
  const double t_factor = seconds_per_point(vid_num_seg, T, cfg);
  std::vector<std::vector<Detection>> pool(pred.size());
  std::vector<size_t> class_order;
  auto pass = [&](const std::vector<double>& thresholds, bool cas_branch) {
    for (double th : thresholds)
      for (size_t p = 0; p < pred.size(); ++p) {
        const size_t before = pool[p].size();
        acm_proposals(cas_branch ? up[p].data() : att.data(), cas_branch ? att.data() : up[p].data(), cas_branch,
                      up[p].size(), th, pred[p], video_score[pred[p]],
                      cas_branch ? cfg.class_score_weight : cfg.att_class_score_weight, t_factor, cfg, pool[p]);
        if (before == 0 && !pool[p].empty()) class_order.push_back(p);
      }
  };
  pass(cfg.act_thresh, true);
  pass(cfg.att_thresh, false);
  std::vector<Detection> out;
  for (size_t p : class_order) {
    std::vector<Detection> kept = basnet_nms(pool[p], cfg.nms_thresh, cfg.soft_nms, cfg.nms_alpha);
    out.insert(out.end(), kept.begin(), kept.end());
  }
  return out;
}

nlohmann::json detections_to_json(const std::vector<VideoDetections>& videos,
                                  const std::vector<std::string>& class_names, const std::string& score_key) {
  nlohmann::json results = nlohmann::json::object();
  for (const VideoDetections& v : videos) {
    nlohmann::json list = nlohmann::json::array();
    for (const Detection& d : v.detections) {
      AICL_CHECK(d.label >= 0 && static_cast<size_t>(d.label) < class_names.size(),
                 "detections_to_json: " + v.video + ": label " + std::to_string(d.label) + " has no class name");
      list.push_back({{"label", class_names[d.label]}, {score_key, d.score}, {"segment", {d.t_start, d.t_end}}});
    }
    AICL_CHECK(!results.contains(v.video), "detections_to_json: video " + v.video + " listed twice");
    results[v.video] = std::move(list);
  }
  return {{"version", "VERSION 1.3"},
          {"results", std::move(results)},
          {"external_data", {{"used", true}, {"details", "Features from I3D Network"}}}};
}

bool class_prediction_exact(const ClassSelection& selection, const float* labels, int num_classes) {
  AICL_CHECK(static_cast<int>(selection.binarized.size()) == num_classes,
             "class_prediction_exact: selection has " + std::to_string(selection.binarized.size()) +
                 " classes, labels " + std::to_string(num_classes));
  for (int c = 0; c < num_classes; ++c)
    if (labels[c] != selection.binarized[c]) return false;
  return true;
}

}  // namespace aicl
