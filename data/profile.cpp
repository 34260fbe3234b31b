// A dataset profile: what a dataset's protocol fixes (splits, timing, feature streams, tIoUs, post-processing).
#include "data/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/base/error.h"

namespace aicl {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string short_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Reads the keys of one JSON object into a profile, with one-line errors naming the source and the key.
class KeyReader {
 public:
  KeyReader(const json& obj, std::string source, std::string prefix)
      : obj_(obj), source_(std::move(source)), prefix_(std::move(prefix)) {
    if (!obj_.is_object()) fail(source_ + ": " + where() + " must be a JSON object");
  }
  // Fails on keys outside `known`.
  void only(const std::set<std::string>& known) const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it)
      if (!known.count(it.key())) fail(source_ + ": unknown profile key '" + prefix_ + it.key() + "'");
  }
  void text(const char* key, std::string& out) const {
    if (const json* v = find(key)) {
      if (!v->is_string() || v->get<std::string>().empty()) bad(key, "a non-empty string");
      out = v->get<std::string>();
    }
  }
  void number(const char* key, double& out) const {
    if (const json* v = find(key)) {
      if (!v->is_number()) bad(key, "a number");
      out = v->get<double>();
    }
  }
  void integer(const char* key, int& out) const {
    if (const json* v = find(key)) {
      if (!v->is_number_integer() || v->get<long long>() < -(1LL << 30) || v->get<long long>() > (1LL << 30))
        bad(key, "an integer");
      out = v->get<int>();
    }
  }
  void boolean(const char* key, bool& out) const {
    if (const json* v = find(key)) {
      if (!v->is_boolean()) bad(key, "true or false");
      out = v->get<bool>();
    }
  }
  void numbers(const char* key, std::vector<double>& out) const {
    if (const json* v = find(key)) out = number_list(*v, key);
  }
  std::vector<double> number_list(const json& v, const std::string& key) const {
    if (!v.is_array()) bad(key, "a list of numbers");
    std::vector<double> list;
    for (const json& x : v) {
      if (!x.is_number()) bad(key, "a list of numbers");
      list.push_back(x.get<double>());
    }
    return list;
  }
  const json* find(const std::string& key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }
  [[noreturn]] void bad(const std::string& key, const std::string& what) const {
    fail(source_ + ": profile key '" + prefix_ + key + "' must be " + what);
  }
  const std::string& source() const { return source_; }

 private:
  std::string where() const {  // the prefix without its trailing '.'
    return prefix_.empty() ? "the dataset profile" : "profile key '" + prefix_.substr(0, prefix_.size() - 1) + "'";
  }
  const json& obj_;
  std::string source_, prefix_;
};

std::vector<FeatureStream> read_streams(const json& v, const KeyReader& top) {
  if (!v.is_array() || v.empty()) top.bad("streams", "a non-empty list of {\"name\", \"width\"}");
  std::vector<FeatureStream> out;
  for (size_t i = 0; i < v.size(); ++i) {
    KeyReader r(v[i], top.source(), "streams[" + std::to_string(i) + "].");
    r.only({"name", "width"});
    FeatureStream s;
    if (!r.find("name") || !r.find("width")) top.bad("streams", "a list of {\"name\", \"width\"}");
    r.text("name", s.name);
    r.integer("width", s.width);
    out.push_back(s);
  }
  return out;
}

// "act_thresh": a list of thresholds, or {"arange": [start, stop, step]} (numpy.arange, rebuilt exactly).
void read_act_thresh(const json& v, const KeyReader& pp, DatasetProfile& p) {
  if (v.is_array()) {
    p.act_thresh = pp.number_list(v, "act_thresh");
    return;
  }
  const std::string what = "a list of numbers or {\"arange\": [start, stop, step]}";
  if (!v.is_object() || v.size() != 1 || !v.contains("arange")) pp.bad("act_thresh", what);
  const std::vector<double> a = pp.number_list(v["arange"], "act_thresh");
  if (a.size() != 3) pp.bad("act_thresh", what);
  p.act_thresh.clear();
  p.act_thresh_arange = {a[0], a[1], a[2]};
}

void read_postprocess(const json& v, const std::string& source, DatasetProfile& p) {
  KeyReader r(v, source, "postprocess.");
  r.only({"scale", "class_thresh", "act_thresh", "nms_thresh", "soft_nms", "nms_alpha", "outer_ratio",
          "class_score_weight"});
  r.integer("scale", p.scale);
  r.number("class_thresh", p.class_thresh);
  if (const json* a = r.find("act_thresh")) read_act_thresh(*a, r, p);
  r.number("nms_thresh", p.nms_thresh);
  r.boolean("soft_nms", p.soft_nms);
  r.number("nms_alpha", p.nms_alpha);
  r.number("outer_ratio", p.outer_ratio);
  r.number("class_score_weight", p.class_score_weight);
}

}  // namespace

DatasetProfile DatasetProfile::thumos14() { return DatasetProfile{}; }

namespace {

// What ActivityNet v1.2 and v1.3 share; the source of each number is in docs/data-format.md.
DatasetProfile activitynet(const std::string& name) {
  DatasetProfile p;
  p.name = name;
  p.train_subset = "training";  // the subsets of the ActivityNet ground truth
  p.test_subset = "validation";  // WTAL papers report on validation (the test labels are not public)
  p.fps = 25;                    // SAL_ActivityNet FEATS_FPS / frames_per_sec; W-TALC factor 25/16
  p.segment_frames = 16;         // SAL_ActivityNet segment_frames_num; t_factor = 16 L / (24 T 25)
  // numpy.linspace(0.5, 0.95, 10) (SAL_ActivityNet TIOU_THRESH), = aicl_eval --tiou 0.5:0.95:10.
  p.tiou = {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95};
  p.scale = 24;                        // UP_SCALE
  p.class_thresh = 0.1;                // CLASS_THRESH
  p.act_thresh_arange = {0.1, 1.0, 0.1};  // CAS_THRESH = np.arange(0.1, 1.0, 0.1)
  p.nms_thresh = 0.7;                  // NMS_THRESH
  p.soft_nms = true;                   // SOFT_NMS
  p.nms_alpha = 0.35;                  // NMS_ALPHA
  p.outer_ratio = 0.2;                 // gamma = 0.2, landing in the OIC ratio as on THUMOS14 (quirk Q2)
  p.class_score_weight = 0.2;
  p.test_sampling = "uniform_keep_short";  // uniform_sample in core/dataset_class13.py
  p.train_sampling = "random_sample";      // random_sample in core/dataset_class13.py
  p.train_segments = 50;                   // NUM_SEGMENTS / sample_segments_num
  p.test_segments = 50;
  return p;
}

const char* const kTestSamplings[] = {"uniform", "uniform_keep_short"};
const char* const kTrainSamplings[] = {"random_perturb", "random_sample"};

}  // namespace

bool DatasetProfile::known_train_sampling(const std::string& rule) {
  return std::find(std::begin(kTrainSamplings), std::end(kTrainSamplings), rule) != std::end(kTrainSamplings);
}

DatasetProfile DatasetProfile::anet12() { return activitynet("anet12"); }
DatasetProfile DatasetProfile::anet13() { return activitynet("anet13"); }

const std::vector<std::string>& DatasetProfile::known_names() {
  static const std::vector<std::string> names = {"thumos14", "anet12", "anet13"};
  return names;
}

DatasetProfile DatasetProfile::named(const std::string& name, const std::string& flag) {
  if (name == "thumos14") return thumos14();
  if (name == "anet12") return anet12();
  if (name == "anet13") return anet13();
  std::string known;
  for (const std::string& n : known_names()) known += (known.empty() ? "" : ", ") + n;
  fail(flag + ": unknown dataset profile '" + name + "' (known: " + known + ")");
}

int DatasetProfile::feature_dim() const {
  long long sum = 0;
  for (const FeatureStream& s : streams) sum += s.width;
  return static_cast<int>(sum);
}

json DatasetProfile::to_json() const {
  json streams_j = json::array();
  for (const FeatureStream& s : streams) streams_j.push_back({{"name", s.name}, {"width", s.width}});
  json act = act_thresh.empty()
                 ? json{{"arange", {act_thresh_arange.start, act_thresh_arange.stop, act_thresh_arange.step}}}
                 : json(act_thresh);
  json j = {{"name", name},
          {"train_subset", train_subset},
          {"test_subset", test_subset},
          {"fps", fps},
          {"segment_frames", segment_frames},
          {"streams", streams_j},
          {"tiou", tiou},
          {"postprocess",
           {{"scale", scale},
            {"class_thresh", class_thresh},
            {"act_thresh", act},
            {"nms_thresh", nms_thresh},
            {"soft_nms", soft_nms},
            {"nms_alpha", nms_alpha},
            {"outer_ratio", outer_ratio},
            {"class_score_weight", class_score_weight}}}};
  // Keys added after the first profiles are written only where they differ from THUMOS14's, so that a THUMOS14
  // file keeps the exact bytes it had before they existed (and reads back the same either way).
  const DatasetProfile t;
  if (test_sampling != t.test_sampling) j["test_sampling"] = test_sampling;
  if (train_sampling != t.train_sampling) j["train_sampling"] = train_sampling;
  if (train_segments != t.train_segments) j["train_segments"] = train_segments;
  if (test_segments != t.test_segments) j["test_segments"] = test_segments;
  return j;
}

DatasetProfile DatasetProfile::from_json(const json& j, const std::string& source) {
  DatasetProfile p;
  KeyReader r(j, source, "");
  r.only({"name", "train_subset", "test_subset", "fps", "segment_frames", "streams", "tiou", "postprocess",
          "test_sampling", "train_sampling", "train_segments", "test_segments"});
  r.text("name", p.name);
  r.text("train_subset", p.train_subset);
  r.text("test_subset", p.test_subset);
  r.number("fps", p.fps);
  r.integer("segment_frames", p.segment_frames);
  if (const json* s = r.find("streams")) p.streams = read_streams(*s, r);
  r.numbers("tiou", p.tiou);
  if (const json* pp = r.find("postprocess")) read_postprocess(*pp, source, p);
  r.text("test_sampling", p.test_sampling);
  r.text("train_sampling", p.train_sampling);
  r.integer("train_segments", p.train_segments);
  r.integer("test_segments", p.test_segments);
  p.validate(source);
  return p;
}

void DatasetProfile::validate(const std::string& source) const {
  auto bad = [&](const std::string& key, const std::string& what) {
    fail(source + ": profile key '" + key + "' must be " + what);
  };
  if (name.empty()) bad("name", "a non-empty string");
  if (train_subset.empty() || test_subset.empty() || train_subset == test_subset)
    bad("test_subset", "a non-empty subset name other than train_subset ('" + train_subset + "')");
  if (!(fps > 0) || !std::isfinite(fps)) bad("fps", "a positive number");
  if (segment_frames <= 0) bad("segment_frames", "a positive integer");
  if (streams.empty()) bad("streams", "a non-empty list");
  std::set<std::string> names;
  long long dim = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    const std::string at = "streams[" + std::to_string(i) + "]";
    if (streams[i].name.empty() || !names.insert(streams[i].name).second) bad(at + ".name", "a unique, non-empty name");
    if (streams[i].width <= 0) bad(at + ".width", "a positive integer");
    dim += streams[i].width;
  }
  if (dim > (1 << 20)) bad("streams", "at most 1048576 columns in all");
  if (tiou.empty()) bad("tiou", "a non-empty list");
  for (double t : tiou)
    if (!(t > 0 && t <= 1)) bad("tiou", "a list of thresholds in (0, 1], not " + num(t));
  if (scale < 1 || scale > 10000) bad("postprocess.scale", "an integer in [1, 10000]");
  for (double t : act_thresh)
    if (!std::isfinite(t)) bad("postprocess.act_thresh", "finite");
  const ArangeSpec& a = act_thresh_arange;
  if (act_thresh.empty() && (!std::isfinite(a.start) || !std::isfinite(a.stop) || !(a.step > 0) ||
                             !(a.stop > a.start) || std::ceil((a.stop - a.start) / a.step) > 10000))
    bad("postprocess.act_thresh", "an arange [start, stop, step] with start < stop, step > 0, at most 10000 values");
  if (!std::isfinite(class_thresh)) bad("postprocess.class_thresh", "finite");
  if (!std::isfinite(nms_thresh)) bad("postprocess.nms_thresh", "finite");
  if (!(nms_alpha > 0) || !std::isfinite(nms_alpha)) bad("postprocess.nms_alpha", "a positive number");
  if (!(outer_ratio >= 0) || !std::isfinite(outer_ratio)) bad("postprocess.outer_ratio", "a number >= 0");
  if (!std::isfinite(class_score_weight)) bad("postprocess.class_score_weight", "finite");
  if (std::find(std::begin(kTestSamplings), std::end(kTestSamplings), test_sampling) == std::end(kTestSamplings))
    bad("test_sampling", "\"uniform\" or \"uniform_keep_short\"");
  if (!known_train_sampling(train_sampling))
    bad("train_sampling", "\"random_perturb\" or \"random_sample\"");
  if (train_segments < 1 || train_segments > (1 << 24)) bad("train_segments", "an integer in [1, 16777216]");
  if (test_segments < 1 || test_segments > (1 << 24)) bad("test_segments", "an integer in [1, 16777216]");
}

std::string DatasetProfile::describe() const {
  std::string s = name + ": train '" + train_subset + "', test '" + test_subset + "', " + short_num(fps) + " fps, " +
                  std::to_string(segment_frames) + " frames/segment, streams";
  for (size_t i = 0; i < streams.size(); ++i)
    s += (i ? " + " : " ") + streams[i].name + " " + std::to_string(streams[i].width);
  s += ", tIoU";
  for (double t : tiou) s += " " + short_num(t);
  s += "; post-processing: scale " + std::to_string(scale) + ", class_thresh " + short_num(class_thresh) +
       ", act_thresh ";
  if (act_thresh.empty()) {
    s += "arange(" + short_num(act_thresh_arange.start) + ", " + short_num(act_thresh_arange.stop) + ", " +
         short_num(act_thresh_arange.step) + ")";
  } else {
    for (size_t i = 0; i < act_thresh.size(); ++i) s += (i ? "," : "") + short_num(act_thresh[i]);
  }
  s += ", NMS " + short_num(nms_thresh) + (soft_nms ? " (soft, alpha " + short_num(nms_alpha) + ")" : " (hard)") +
       ", outer_ratio " + short_num(outer_ratio) + ", class_score_weight " + short_num(class_score_weight);
  s += "; segments: train " + std::to_string(train_segments) + ", test " + std::to_string(test_segments) + " (" +
       test_sampling + "), train sampling " + train_sampling;
  return s;
}

bool DatasetProfile::operator==(const DatasetProfile& o) const {
  return name == o.name && train_subset == o.train_subset && test_subset == o.test_subset && fps == o.fps &&
         segment_frames == o.segment_frames && streams == o.streams && tiou == o.tiou && scale == o.scale &&
         class_thresh == o.class_thresh && act_thresh == o.act_thresh && act_thresh_arange == o.act_thresh_arange &&
         nms_thresh == o.nms_thresh && soft_nms == o.soft_nms && nms_alpha == o.nms_alpha &&
         outer_ratio == o.outer_ratio && class_score_weight == o.class_score_weight &&
         test_sampling == o.test_sampling && train_sampling == o.train_sampling && train_segments == o.train_segments && test_segments == o.test_segments;
}

}  // namespace aicl
