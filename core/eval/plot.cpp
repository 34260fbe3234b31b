// Figures of results as standalone SVG files and an index.html (see core/plot.h).
#include "core/eval/plot.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/base/error.h"

namespace aicl {

namespace {

// Fixed-precision number for coordinates: deterministic and locale-independent ("%.*f" in the C locale).
std::string num(double v, int digits = 1) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  std::string s = buf;
  if (s == "-0.0" || s == "-0" || s == "-0.00") s = s.substr(1);
  return s;
}

// A short label for axis ticks: up to 4 significant digits.
std::string tick_label(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`.
double nice_step(double span, int target) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string svg_open(double width, double height) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         num(width, 0) + "\" height=\"" + num(height, 0) + "\" viewBox=\"0 0 " + num(width, 0) + " " +
         num(height, 0) + "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
         "fill=\"white\"/>\n";
}

std::string text(double x, double y, const std::string& content, const std::string& extra = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\"" + (extra.empty() ? "" : " " + extra) + ">" +
         escape_xml(content) + "</text>\n";
}

std::string rect(double x, double y, double w, double h, const std::string& style) {
  return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(std::max(w, 0.0)) + "\" height=\"" +
         num(std::max(h, 0.0)) + "\" " + style + "/>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) + "\" " +
         style + "/>\n";
}

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

template <class J>
double number_or(const J& j, const char* key, double def) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->template get<double>() : def;
}

}  // namespace

std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Video timelines
// ------------------------------------------------------------------------------------------------

std::string video_timeline_svg(const VideoPlot& p) {
  constexpr double kLeft = 170, kRight = 20, kTop = 40, kRow = 78, kAxis = 42, kPlotW = 860;
  const double width = kLeft + kPlotW + kRight;
  const size_t rows = std::max<size_t>(p.tracks.size(), 1);
  const double height = kTop + kRow * static_cast<double>(rows) + kAxis;
  const double duration = p.duration > 0 && std::isfinite(p.duration) ? p.duration : 1;
  auto xs = [&](double t) { return kLeft + kPlotW * std::clamp(t / duration, 0.0, 1.0); };

  std::string s = svg_open(width, height);
  s += "<title>" + escape_xml(p.video) + "</title>\n";
  s += text(kLeft, 18, p.video, "font-size=\"14\" font-weight=\"bold\"");
  // Legend.
  s += rect(kLeft + 360, 8, 14, 10, "fill=\"#2ca02c\"") + text(kLeft + 378, 17, "ground truth");
  s += rect(kLeft + 470, 8, 14, 10, "fill=\"#1f77b4\" fill-opacity=\"0.35\" stroke=\"#1f77b4\"") +
       text(kLeft + 488, 17, "class activation (0-1)");
  s += rect(kLeft + 640, 8, 14, 10, "fill=\"#d62728\"") + text(kLeft + 658, 17, "detections (opacity = score)");
  if (p.tracks.empty()) s += text(kLeft, kTop + 30, "no ground truth and no detections", "fill=\"#666\"");

  for (size_t r = 0; r < p.tracks.size(); ++r) {
    const PlotClassTrack& tr = p.tracks[r];
    const double y0 = kTop + kRow * static_cast<double>(r);
    const double act_top = y0 + 4, act_h = 40, gt_y = y0 + 48, det_y = y0 + 60, bar_h = 9;
    s += "<g class=\"track\">\n";
    s += text(kLeft - 8, y0 + 30, tr.name, "text-anchor=\"end\"");
    s += text(kLeft - 8, gt_y + 8, "GT", "text-anchor=\"end\" font-size=\"9\" fill=\"#666\"");
    s += text(kLeft - 8, det_y + 8, "det", "text-anchor=\"end\" font-size=\"9\" fill=\"#666\"");
    s += rect(kLeft, act_top, kPlotW, act_h, "fill=\"#f6f6f6\"");
    if (!tr.activation.empty() && p.seconds_per_sample > 0) {
      // Step curve: sample i covers [i, i+1) * seconds_per_sample, value clamped to [0, 1].
      std::string pts = num(xs(0)) + "," + num(act_top + act_h);
      for (size_t i = 0; i < tr.activation.size(); ++i) {
        const double v = std::isfinite(tr.activation[i]) ? std::clamp<double>(tr.activation[i], 0, 1) : 0;
        const double y = act_top + act_h * (1 - v);
        pts += " " + num(xs(static_cast<double>(i) * p.seconds_per_sample)) + "," + num(y);
        pts += " " + num(xs(static_cast<double>(i + 1) * p.seconds_per_sample)) + "," + num(y);
      }
      pts += " " + num(xs(static_cast<double>(tr.activation.size()) * p.seconds_per_sample)) + "," +
             num(act_top + act_h);
      s += "<polygon class=\"activation\" points=\"" + pts +
           "\" fill=\"#1f77b4\" fill-opacity=\"0.35\" stroke=\"#1f77b4\" stroke-width=\"0.8\"/>\n";
    }
    for (const PlotInterval& g : tr.ground_truth)
      s += "<rect class=\"gt\" x=\"" + num(xs(g.start)) + "\" y=\"" + num(gt_y) + "\" width=\"" +
           num(std::max(xs(g.end) - xs(g.start), 1.0)) + "\" height=\"" + num(bar_h) + "\" fill=\"#2ca02c\"/>\n";
    // The strongest detections, drawn weakest first so the strong ones end on top.
    std::vector<PlotInterval> dets = tr.detections;
    std::stable_sort(dets.begin(), dets.end(), [](const PlotInterval& a, const PlotInterval& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.start < b.start;
    });
    if (p.max_detections_per_class >= 0 && dets.size() > static_cast<size_t>(p.max_detections_per_class))
      dets.resize(static_cast<size_t>(p.max_detections_per_class));
    const double top_score = dets.empty() ? 1 : dets.front().score;
    for (size_t i = dets.size(); i-- > 0;) {
      const PlotInterval& d = dets[i];
      const double alpha = top_score > 0 ? std::clamp(0.15 + 0.85 * d.score / top_score, 0.15, 1.0) : 0.5;
      s += "<rect class=\"det\" x=\"" + num(xs(d.start)) + "\" y=\"" + num(det_y) + "\" width=\"" +
           num(std::max(xs(d.end) - xs(d.start), 1.0)) + "\" height=\"" + num(bar_h) + "\" fill=\"#d62728\" " +
           "fill-opacity=\"" + num(alpha, 2) + "\"><title>" + escape_xml(tr.name) + " " + num(d.start, 2) + "-" +
           num(d.end, 2) + " s, score " + num(d.score, 4) + "</title></rect>\n";
    }
    s += "</g>\n";
  }
  // Time axis.
  const double axis_y = kTop + kRow * static_cast<double>(rows) + 4;
  s += line(kLeft, axis_y, kLeft + kPlotW, axis_y, "stroke=\"black\"");
  const double step = nice_step(duration, 10);
  for (int k = 0; k * step <= duration * (1 + 1e-9) && k < 1000; ++k) {
    const double t = k * step, x = xs(t);
    s += line(x, axis_y, x, axis_y + 5, "stroke=\"black\"");
    s += text(x, axis_y + 18, tick_label(t), "text-anchor=\"middle\"");
  }
  s += text(kLeft + kPlotW / 2, axis_y + 34, "time (s)", "text-anchor=\"middle\"");
  s += "</svg>\n";
  return s;
}

std::vector<VideoPlot> build_video_plots(const json& ground_truth, const json& detections,
                                         const std::vector<std::string>& videos,
                                         const std::vector<std::string>& class_names,
                                         const std::map<std::string, VideoActivation>& activations) {
  const json empty = json::object();
  const json& db = ground_truth.is_object() && ground_truth.contains("database") ? ground_truth["database"] : empty;
  const json& res = detections.is_object() && detections.contains("results") ? detections["results"] : empty;
  std::vector<VideoPlot> out;
  for (const std::string& name : videos) {
    VideoPlot p;
    p.video = name;
    std::vector<std::string> order = class_names;
    std::map<std::string, PlotClassTrack> tracks;
    double furthest = 0;
    auto segment_of = [&](const json& a, PlotInterval& iv) {
      auto seg = a.find("segment");
      if (seg == a.end() || !seg->is_array() || seg->size() != 2 || !(*seg)[0].is_number() || !(*seg)[1].is_number())
        return false;
      iv.start = (*seg)[0].get<double>();
      iv.end = (*seg)[1].get<double>();
      if (!std::isfinite(iv.start) || !std::isfinite(iv.end)) return false;
      furthest = std::max(furthest, iv.end);
      return true;
    };
    auto track = [&](const std::string& label) -> PlotClassTrack& {
      if (std::find(order.begin(), order.end(), label) == order.end()) order.push_back(label);
      PlotClassTrack& t = tracks[label];
      t.name = label;
      return t;
    };
    if (db.is_object() && db.contains(name) && db[name].is_object()) {
      const json& v = db[name];
      p.duration = number_or(v, "duration", 0);
      if (v.contains("annotations") && v["annotations"].is_array())
        for (const json& a : v["annotations"]) {
          PlotInterval iv;
          if (a.is_object() && a.contains("label") && a["label"].is_string() && segment_of(a, iv))
            track(a["label"].get<std::string>()).ground_truth.push_back(iv);
        }
    }
    if (res.is_object() && res.contains(name) && res[name].is_array())
      for (const json& d : res[name]) {
        PlotInterval iv;
        if (!d.is_object() || !d.contains("label") || !d["label"].is_string() || !segment_of(d, iv)) continue;
        iv.score = number_or(d, "score300", number_or(d, "score", 0));
        track(d["label"].get<std::string>()).detections.push_back(iv);
      }
    auto act = activations.find(name);
    if (act != activations.end() && act->second.samples > 0) {
      const VideoActivation& a = act->second;
      p.seconds_per_sample = a.seconds_per_sample;
      furthest = std::max(furthest, a.seconds_per_sample * a.samples);
      const size_t C = a.values.size() / static_cast<size_t>(a.samples);
      for (auto& [label, t] : tracks) {
        const auto it = std::find(class_names.begin(), class_names.end(), label);
        const size_t c = static_cast<size_t>(it - class_names.begin());
        if (it == class_names.end() || c >= C) continue;
        t.activation.resize(static_cast<size_t>(a.samples));
        for (size_t i = 0; i < t.activation.size(); ++i) t.activation[i] = a.values[i * C + c];
      }
    }
    if (!(p.duration > 0)) p.duration = furthest;
    for (const std::string& label : order)
      if (tracks.count(label)) p.tracks.push_back(std::move(tracks[label]));
    out.push_back(std::move(p));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Per-class AP
// ------------------------------------------------------------------------------------------------

std::string class_ap_svg(const EvalReport& rep, int tiou_index) {
  AICL_CHECK(tiou_index >= -1 && tiou_index < static_cast<int>(rep.tiou.size()),
             "class_ap_svg: tIoU index out of range");
  constexpr double kLeft = 170, kTop = 44, kRowH = 20, kPlotW = 560, kRight = 70;
  const size_t n = rep.class_names.size();
  const double height = kTop + kRowH * static_cast<double>(std::max<size_t>(n, 1)) + 44;
  std::string title;
  double mean_ap = 0;
  if (tiou_index < 0) {
    title = "AP per class, mean over tIoU " + tick_label(rep.tiou.empty() ? 0 : rep.tiou.front()) + "-" +
            tick_label(rep.tiou.empty() ? 0 : rep.tiou.back()) + " (average mAP " + num(100 * rep.average_mAP, 2) +
            "%)";
  } else {
    mean_ap = rep.mAP[static_cast<size_t>(tiou_index)];
    title = "AP per class at tIoU " + tick_label(rep.tiou[static_cast<size_t>(tiou_index)]) + " (mAP " +
            num(100 * mean_ap, 2) + "%)";
  }
  std::string s = svg_open(kLeft + kPlotW + kRight, height);
  s += "<title>" + escape_xml(title) + "</title>\n";
  s += text(kLeft, 20, title, "font-size=\"14\" font-weight=\"bold\"");
  for (size_t c = 0; c < n; ++c) {
    double ap = 0;
    const std::vector<double>& row = c < rep.class_ap.size() ? rep.class_ap[c] : std::vector<double>();
    if (tiou_index < 0) {
      for (double v : row) ap += v;
      ap = row.empty() ? 0 : ap / static_cast<double>(row.size());
    } else if (static_cast<size_t>(tiou_index) < row.size()) {
      ap = row[static_cast<size_t>(tiou_index)];
    }
    const double y = kTop + kRowH * static_cast<double>(c);
    s += text(kLeft - 6, y + 14, rep.class_names[c], "text-anchor=\"end\"");
    s += "<rect class=\"bar\" x=\"" + num(kLeft) + "\" y=\"" + num(y + 3) + "\" width=\"" +
         num(kPlotW * std::clamp(ap, 0.0, 1.0)) + "\" height=\"" + num(kRowH - 6) + "\" fill=\"#1f77b4\"/>\n";
    s += text(kLeft + kPlotW * std::clamp(ap, 0.0, 1.0) + 4, y + 14, num(100 * ap, 1));
  }
  const double axis_y = kTop + kRowH * static_cast<double>(std::max<size_t>(n, 1)) + 4;
  s += line(kLeft, axis_y, kLeft + kPlotW, axis_y, "stroke=\"black\"");
  for (int k = 0; k <= 10; ++k) {
    const double x = kLeft + kPlotW * k / 10.0;
    s += line(x, axis_y, x, axis_y + 5, "stroke=\"black\"");
    s += text(x, axis_y + 18, std::to_string(k * 10), "text-anchor=\"middle\"");
  }
  s += text(kLeft + kPlotW / 2, axis_y + 34, "AP (%)", "text-anchor=\"middle\"");
  s += "</svg>\n";
  return s;
}

// ------------------------------------------------------------------------------------------------
// Curves
// ------------------------------------------------------------------------------------------------

namespace {

// Averages consecutive points into at most max_points bins (x and y both averaged).
std::vector<std::pair<double, double>> thin(const std::vector<std::pair<double, double>>& pts, size_t max_points) {
  if (pts.size() <= max_points) return pts;
  std::vector<std::pair<double, double>> out;
  const size_t per = (pts.size() + max_points - 1) / max_points;
  for (size_t i = 0; i < pts.size(); i += per) {
    const size_t end = std::min(pts.size(), i + per);
    double sx = 0, sy = 0;
    for (size_t k = i; k < end; ++k) {
      sx += pts[k].first;
      sy += pts[k].second;
    }
    out.emplace_back(sx / static_cast<double>(end - i), sy / static_cast<double>(end - i));
  }
  return out;
}

}  // namespace

std::string curves_svg(const std::string& title, const std::string& x_label, const std::vector<PlotPanel>& panels) {
  constexpr double kPanelW = 430, kPanelH = 220, kCols = 2, kMarginL = 64, kMarginT = 28, kMarginB = 40;
  const size_t rows = (panels.size() + 1) / 2;
  const double width = kCols * (kPanelW + kMarginL) + 20;
  const double height = 40 + static_cast<double>(std::max<size_t>(rows, 1)) * (kPanelH + kMarginT + kMarginB);
  std::string s = svg_open(width, height);
  s += "<title>" + escape_xml(title) + "</title>\n";
  s += text(20, 22, title, "font-size=\"14\" font-weight=\"bold\"");
  if (panels.empty()) s += text(20, 60, "no data", "fill=\"#666\"");
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const PlotPanel& panel = panels[pi];
    const double ox = kMarginL + static_cast<double>(pi % 2) * (kPanelW + kMarginL);
    const double oy = 40 + static_cast<double>(pi / 2) * (kPanelH + kMarginT + kMarginB) + kMarginT;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const PlotSeries& se : panel.series)
      for (const auto& [x, y] : se.points) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
    s += "<g class=\"panel\">\n";
    s += text(ox, oy - 8, panel.title, "font-weight=\"bold\"");
    s += rect(ox, oy, kPanelW, kPanelH, "fill=\"none\" stroke=\"#999\"");
    if (!(x0 <= x1)) {
      s += text(ox + 10, oy + 20, "no data", "fill=\"#666\"");
      s += "</g>\n";
      continue;
    }
    if (x1 == x0) x0 -= 0.5, x1 += 0.5;
    if (y1 == y0) y0 -= 0.5, y1 += 0.5;
    const double pad = 0.05 * (y1 - y0);
    y0 -= pad, y1 += pad;
    auto X = [&](double x) { return ox + kPanelW * (x - x0) / (x1 - x0); };
    auto Y = [&](double y) { return oy + kPanelH * (1 - (y - y0) / (y1 - y0)); };
    const double ys = nice_step(y1 - y0, 5);
    // Integer tick counters: with extreme values (1e308) `t += step` would not advance.
    for (int k = 0; k < 50 && std::ceil(y0 / ys) * ys + k * ys <= y1; ++k) {
      const double t = std::ceil(y0 / ys) * ys + k * ys;
      s += line(ox - 4, Y(t), ox + kPanelW, Y(t), "stroke=\"#e4e4e4\"");
      s += text(ox - 6, Y(t) + 4, tick_label(t), "text-anchor=\"end\" font-size=\"10\"");
    }
    const double xs = nice_step(x1 - x0, 6);
    for (int k = 0; k < 50 && std::ceil(x0 / xs) * xs + k * xs <= x1; ++k)
      s += text(X(std::ceil(x0 / xs) * xs + k * xs), oy + kPanelH + 14, tick_label(std::ceil(x0 / xs) * xs + k * xs),
                "text-anchor=\"middle\" font-size=\"10\"");
    s += text(ox + kPanelW / 2, oy + kPanelH + 30, x_label, "text-anchor=\"middle\" font-size=\"10\"");
    for (size_t si = 0; si < panel.series.size(); ++si) {
      const PlotSeries& se = panel.series[si];
      const char* color = kPalette[si % (sizeof kPalette / sizeof kPalette[0])];
      std::string pts;
      for (const auto& [x, y] : thin(se.points, 1000)) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        pts += (pts.empty() ? "" : " ") + num(X(x)) + "," + num(Y(y));
      }
      s += std::string("<polyline class=\"series\" fill=\"none\" stroke=\"") + color +
           "\" stroke-width=\"1.2\" points=\"" + pts + "\"/>\n";
      if (se.points.size() == 1)  // a single evaluation still shows
        s += "<circle cx=\"" + num(X(se.points[0].first)) + "\" cy=\"" + num(Y(se.points[0].second)) +
             "\" r=\"3\" fill=\"" + color + "\"/>\n";
      if (panel.series.size() > 1) {
        const double ly = oy + 14 + 14 * static_cast<double>(si);
        s += line(ox + kPanelW - 110, ly - 4, ox + kPanelW - 94, ly - 4, std::string("stroke=\"") + color + "\"");
        s += text(ox + kPanelW - 90, ly, se.name, "font-size=\"10\"");
      }
    }
    s += "</g>\n";
  }
  s += "</svg>\n";
  return s;
}

std::vector<PlotPanel> run_metrics_panels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (a run directory has metrics.jsonl)");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  // The loss terms are whatever numeric keys the method wrote (its loss_names()), in the order of the file.
  const std::set<std::string> kNotTerms = {"step", "epoch", "batch", "lr", "seconds"};
  std::vector<PlotPanel> loss_panels;
  std::map<std::string, size_t> panel_of;
  std::map<std::string, PlotSeries> avg_map;       // per evaluation target
  std::map<std::string, PlotSeries> per_tiou;      // "target tIoU x"
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(lines[i], nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number()) {
      if (i + 1 == lines.size()) break;  // a torn last line from a killed run
      fail(path + ": line " + std::to_string(i + 1) + " is not a metrics record");
    }
    const double step = j["step"].get<double>();
    if (j.contains("eval")) {
      const std::string target = j["eval"].is_string() ? j["eval"].get<std::string>() : "eval";
      if (j.contains("average_mAP") && j["average_mAP"].is_number()) {
        PlotSeries& se = avg_map[target];
        se.name = target;
        se.points.emplace_back(step, 100 * j["average_mAP"].get<double>());
      }
      if (j.contains("mAP") && j["mAP"].is_array() && j.contains("tiou") && j["tiou"].is_array() &&
          j["mAP"].size() == j["tiou"].size())
        for (size_t k = 0; k < j["mAP"].size(); ++k) {
          if (!j["mAP"][k].is_number() || !j["tiou"][k].is_number()) continue;
          const std::string name = target + " @" + tick_label(j["tiou"][k].get<double>());
          PlotSeries& se = per_tiou[name];
          se.name = "tIoU " + tick_label(j["tiou"][k].get<double>());
          se.points.emplace_back(step, 100 * j["mAP"][k].get<double>());
        }
      continue;
    }
    for (const auto& [key, value] : j.items()) {
      if (kNotTerms.count(key) || !value.is_number()) continue;
      if (!panel_of.count(key)) {
        panel_of[key] = loss_panels.size();
        loss_panels.push_back({key == "loss" ? "total loss" : key, {{key, {}}}});
      }
      loss_panels[panel_of[key]].series[0].points.emplace_back(step, value.get<double>());
    }
  }
  std::vector<PlotPanel> out;
  for (PlotPanel& p : loss_panels)
    if (!p.series[0].points.empty()) out.push_back(std::move(p));
  if (!avg_map.empty()) {
    PlotPanel p{"average mAP (%) of the evaluations", {}};
    for (auto& [name, se] : avg_map) p.series.push_back(se);
    out.push_back(std::move(p));
  }
  if (!per_tiou.empty()) {
    PlotPanel p{"mAP (%) per tIoU", {}};
    for (auto& [name, se] : per_tiou) p.series.push_back(se);  // map order = target, then tIoU text
    out.push_back(std::move(p));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Multi-seed summary
// ------------------------------------------------------------------------------------------------

std::string seed_summary_svg(const json& sm) {
  const json& tiou = sm.at("tiou");
  const json& rules = sm.at("rules");
  const size_t cols = tiou.size() + 1;  // every tIoU, then the average
  constexpr double kLeft = 60, kTop = 50, kPlotH = 300, kColW = 70, kRight = 150, kBottom = 60;
  const double plot_w = kColW * static_cast<double>(cols);
  const double width = kLeft + plot_w + kRight, height = kTop + kPlotH + kBottom;
  double ymax = 1;  // percent; rounded up to a multiple of 10 over every value and the paper's
  for (auto it = rules.begin(); it != rules.end(); ++it) {
    for (const json& m : it.value()["mAP"])
      if (!m.is_null()) ymax = std::max(ymax, 100 * m["max"].get<double>());
    ymax = std::max(ymax, 100 * it.value()["average_mAP"]["max"].get<double>());
  }
  const json paper = sm.value("paper", json());
  if (!paper.is_null()) {
    for (const json& v : paper.value("mAP", json::array())) ymax = std::max(ymax, v.get<double>());
    ymax = std::max(ymax, paper.value("average_mAP", 0.0));
  }
  ymax = std::ceil(ymax / 10) * 10;
  auto Y = [&](double pct) { return kTop + kPlotH * (1 - pct / ymax); };
  auto X = [&](size_t col, double offset) { return kLeft + kColW * (static_cast<double>(col) + 0.5) + offset; };
  const std::string title = sm.value("method", std::string("?")) + " on " + sm.value("profile", std::string("?")) +
                            ": mAP over " + std::to_string(sm.value("seeds", json::array()).size()) +
                            " seeds (mean ± std, ticks at min and max)";
  std::string s = svg_open(width, height);
  s += "<title>" + escape_xml(title) + "</title>\n";
  s += text(kLeft, 24, title, "font-size=\"14\" font-weight=\"bold\"");
  for (int k = 0; k <= 5; ++k) {  // y grid
    const double v = ymax * k / 5, y = Y(v);
    s += line(kLeft, y, kLeft + plot_w, y, "stroke=\"#ddd\"");
    s += text(kLeft - 6, y + 4, num(v, 0), "text-anchor=\"end\"");
  }
  s += text(16, kTop + kPlotH / 2, "mAP (%)", "transform=\"rotate(-90 16 " + num(kTop + kPlotH / 2) + ")\"");
  for (size_t c = 0; c < cols; ++c)
    s += text(X(c, 0), kTop + kPlotH + 18, c < tiou.size() ? tick_label(tiou[c].get<double>()) : std::string("average"),
              "text-anchor=\"middle\"");
  s += text(kLeft + plot_w / 2, kTop + kPlotH + 40, "tIoU threshold", "text-anchor=\"middle\"");
  static const char* kColors[] = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
  const size_t nr = rules.size();
  size_t r = 0;
  for (auto it = rules.begin(); it != rules.end(); ++it, ++r) {
    const std::string color = kColors[r % 5];
    const double off = (static_cast<double>(r) - (static_cast<double>(nr) - 1) / 2) * 12;
    auto mark = [&](size_t col, const json& st) {
      if (st.is_null()) return;
      const double mean = 100 * st["mean"].get<double>(), sd = 100 * st["std"].get<double>(), x = X(col, off);
      s += line(x, Y(mean - sd), x, Y(mean + sd), "stroke=\"" + color + "\" stroke-width=\"2\"");
      for (const char* e : {"min", "max"})
        s += line(x - 3, Y(100 * st[e].get<double>()), x + 3, Y(100 * st[e].get<double>()), "stroke=\"" + color + "\"");
      s += "<circle cx=\"" + num(x) + "\" cy=\"" + num(Y(mean)) + "\" r=\"4\" fill=\"" + color + "\"/>\n";
    };
    for (size_t c = 0; c < tiou.size() && c < it.value()["mAP"].size(); ++c) mark(c, it.value()["mAP"][c]);
    mark(tiou.size(), it.value()["average_mAP"]);
    const double ly = kTop + 16 + 18 * static_cast<double>(r);
    s += "<circle cx=\"" + num(kLeft + plot_w + 16) + "\" cy=\"" + num(ly - 4) + "\" r=\"4\" fill=\"" + color + "\"/>\n";
    s += text(kLeft + plot_w + 26, ly, "rule: " + it.key());
  }
  if (!paper.is_null()) {
    auto diamond = [&](size_t col, double pct) {
      const double x = X(col, 0), y = Y(pct);
      s += "<path d=\"M" + num(x) + " " + num(y - 6) + " L" + num(x + 6) + " " + num(y) + " L" + num(x) + " " +
           num(y + 6) + " L" + num(x - 6) + " " + num(y) + " Z\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
    };
    const json ptiou = paper.value("tiou", json::array()), pmap = paper.value("mAP", json::array());
    for (size_t i = 0; i < ptiou.size() && i < pmap.size(); ++i)
      for (size_t c = 0; c < tiou.size(); ++c)
        if (std::fabs(ptiou[i].get<double>() - tiou[c].get<double>()) < 1e-9) diamond(c, pmap[i].get<double>());
    if (paper.contains("average_mAP")) diamond(tiou.size(), paper["average_mAP"].get<double>());
    s += text(kLeft + plot_w + 10, kTop + 16 + 18 * static_cast<double>(nr), "paper (red diamonds)", "fill=\"#d62728\"");
  }
  s += "</svg>\n";
  return s;
}

// ------------------------------------------------------------------------------------------------
// Page and files
// ------------------------------------------------------------------------------------------------

std::string plot_index_html(const std::string& title, const std::vector<PlotPageSection>& sections) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" +
                  escape_xml(title) +
                  "</title>\n<style>body{font-family:sans-serif;margin:24px;max-width:1100px}"
                  "figure{margin:0 0 28px 0}img{max-width:100%;border:1px solid #ddd}"
                  "figcaption{color:#444;font-size:14px}</style>\n</head>\n<body>\n<h1>" +
                  escape_xml(title) + "</h1>\n";
  for (const PlotPageSection& sec : sections) {
    if (sec.entries.empty()) continue;
    h += "<h2>" + escape_xml(sec.heading) + "</h2>\n";
    for (const PlotPageEntry& e : sec.entries)
      h += "<figure><img src=\"" + escape_xml(e.file) + "\" alt=\"" + escape_xml(e.caption) + "\"/><figcaption>" +
           escape_xml(e.caption) + "</figcaption></figure>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

namespace {

// A file name from a video name: [A-Za-z0-9._-] kept, others '_'; the index keeps names unique.
std::string video_file_name(size_t index, const std::string& video) {
  std::string safe;
  for (char c : video) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  if (safe.size() > 80) safe.resize(80);
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "video_%02zu_", index);
  return prefix + safe + ".svg";
}

}  // namespace

std::vector<std::string> write_plots(const std::string& dir, const PlotRequest& rq) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) fail("--plot " + dir + ": cannot create the directory (" + ec.message() + ")");
  std::vector<std::string> written;
  std::vector<PlotPageSection> sections;
  auto put = [&](const std::string& file, const std::string& content) {
    write_file_atomic(dir + "/" + file, content);
    written.push_back(file);
  };

  std::vector<PlotPanel> panels;
  if (!rq.run_dir.empty()) panels = run_metrics_panels(rq.run_dir + "/metrics.jsonl");  // before writing anything

  PlotPageSection vids{"Videos: ground truth, class activation, detections", {}};
  const std::vector<VideoPlot> plots =
      build_video_plots(rq.ground_truth, rq.detections, rq.videos, rq.class_names, rq.activations);
  for (size_t i = 0; i < plots.size(); ++i) {
    const std::string f = video_file_name(i, plots[i].video);
    put(f, video_timeline_svg(plots[i]));
    vids.entries.push_back({f, plots[i].video + (rq.activations.count(plots[i].video) ? "" : " (no activation: scored from files)")});
  }
  sections.push_back(vids);

  if (rq.report) {
    PlotPageSection ap{"AP per class", {}};
    put("ap_average.svg", class_ap_svg(*rq.report, -1));
    ap.entries.push_back({"ap_average.svg", "mean over the tIoU thresholds"});
    for (size_t k = 0; k < rq.report->tiou.size(); ++k) {
      char f[64];
      std::snprintf(f, sizeof f, "ap_tiou_%.2f.svg", rq.report->tiou[k]);
      put(f, class_ap_svg(*rq.report, static_cast<int>(k)));
      ap.entries.push_back({f, "tIoU " + tick_label(rq.report->tiou[k])});
    }
    sections.push_back(ap);
  }
  if (!rq.run_dir.empty()) {
    put("training.svg", curves_svg("training run " + rq.run_dir, "step", panels));
    sections.push_back({"Training", {{"training.svg", "loss terms per step and the evaluations' mAP (" +
                                                          rq.run_dir + "/metrics.jsonl)"}}});
  }
  put("index.html", plot_index_html(rq.title, sections));
  return written;
}

}  // namespace aicl
