// Synthetic datasets like THUMOS14 or ActivityNet (deterministic for a seed, portable across standard libraries).
//
// Portability: only our own RNG (splitmix64 + xoshiro256**) and IEEE + - * / sqrt floor are used for
// anything that reaches the file (no std distributions, no libm exp/log/sin), and floating-point
// contraction into FMA is switched off here, so a seed gives the same bytes with any compiler flags/libc.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "data/synth.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/base/error.h"
#include "core/base/rng.h"
#include "core/base/io.h"

namespace aicl {
namespace {

constexpr double kSecondsPerSegment = 16.0 / 25.0;

// The project RNG (xoshiro256**), one independent stream per (seed, stream, index), plus libm-free helpers.
class SynthRng : public Rng {
 public:
  SynthRng(uint64_t seed, uint64_t stream, uint64_t index)
      : Rng(seed ^ (stream * 0xD1B54A32D192ED03ULL) ^ (index * 0x8CB92BA72F3D8DD7ULL)) {}
  uint64_t next() { return next_u64(); }
  // floor(uniform() * n): part of the generator's fixed, versioned stream (every synthetic dataset and the
  // pinned hashes depend on it), which is why it is not Rng::below (unbiased, rejection-based, other values).
  int scaled_below(int n) { return static_cast<int>(uniform() * n); }
  // Approximately standard normal: Irwin-Hall sum of 12 uniforms (exact arithmetic, no libm).
  double gauss() {
    double s = 0;
    for (int i = 0; i < 12; ++i) s += uniform();
    return s - 6.0;
  }
  // Fast unit-variance noise for features: 4 uniforms from 16-bit slices of one draw.
  float noise() {
    uint64_t x = next();
    uint32_t a = static_cast<uint32_t>(x & 0xffff), b = static_cast<uint32_t>((x >> 16) & 0xffff),
             c = static_cast<uint32_t>((x >> 32) & 0xffff), d = static_cast<uint32_t>(x >> 48);
    int32_t sum = static_cast<int32_t>(a + b + c + d) - 131070;  // centred: 4 * 32767.5
    return static_cast<float>(sum) * (1.7320508075688772f / 65536.0f);  // sqrt(3)/65536: unit variance
  }
};

// exp() from + - * / and exact scaling only, so layouts do not depend on the libm.
double portable_exp(double x) {
  if (x > 700) x = 700;
  if (x < -700) x = -700;
  const double ln2 = 0.6931471805599453;
  double k = std::floor(x / ln2 + 0.5);
  double r = x - k * ln2;
  double term = 1, sum = 1;
  for (int i = 1; i <= 16; ++i) {
    term = term * r / i;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

double lognormal(SynthRng& rng, double median, double sigma) { return median * portable_exp(sigma * rng.gauss()); }

// Scene groups: classes that share a venue in RGB and part of their motion in flow.
const int kClassGroup[20] = {0, 1, 2, 3, 4, 5, 5, 4, 6, 7, 8, 9, 8, 9, 9, 8, 10, 11, 8, 12};
constexpr int kNumGroups = 13;
constexpr int kBackgroundTopics = 8;
constexpr int kCameraTopics = 4;

using Vec = std::vector<float>;

Vec sparse_vector(SynthRng& rng, int dim, int active, double lo, double hi) {
  Vec v(static_cast<size_t>(dim), 0.f);
  for (int k = 0; k < active; ++k) v[static_cast<size_t>(rng.scaled_below(dim))] = static_cast<float>(rng.uniform(lo, hi));
  return v;
}

// Everything shared by all videos of a seed: class appearance/motion, venues, background topics.
struct Prototypes {
  std::vector<Vec> appearance, motion;          // per class (RGB / flow)
  std::vector<Vec> scene, group_motion;         // per group
  std::vector<Vec> background, camera;          // RGB background topics, flow camera-motion topics
  Vec generic_motion;                           // flow of any moving person: the flow-stream distractor
  std::vector<double> class_length_scale;       // per class: typical instance length factor
};

Prototypes make_prototypes(uint64_t seed, int dim, int num_classes) {
  SynthRng rng(seed, 1, 0);
  Prototypes p;
  const int active = std::max(4, dim / 16);
  for (int c = 0; c < num_classes; ++c) {
    p.appearance.push_back(sparse_vector(rng, dim, active, 0.2, 0.55));
    p.motion.push_back(sparse_vector(rng, dim, active, 0.2, 0.55));
    p.class_length_scale.push_back(portable_exp(0.35 * rng.gauss()));
  }
  for (int g = 0; g < kNumGroups; ++g) {
    p.scene.push_back(sparse_vector(rng, dim, active, 0.2, 0.5));
    p.group_motion.push_back(sparse_vector(rng, dim, active / 2, 0.2, 0.5));
  }
  for (int k = 0; k < kBackgroundTopics; ++k) p.background.push_back(sparse_vector(rng, dim, dim / 4, 0.1, 0.6));
  for (int k = 0; k < kCameraTopics; ++k) p.camera.push_back(sparse_vector(rng, dim, dim / 4, 0.05, 0.4));
  p.generic_motion = sparse_vector(rng, dim, active, 0.2, 0.5);
  return p;
}

std::string numbered(const char* prefix, int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%07d", prefix, i);
  return buf;
}

double round_tenth(double x) { return std::floor(x * 10 + 0.5) / 10; }

// Random THUMOS-like layout for one video: length, 1-3 classes, ~15 instances of ~3 s with gaps.
VideoInfo random_video_layout(SynthRng& rng, const Prototypes& p, int max_segments, int num_classes) {
  VideoInfo v;
  int T = static_cast<int>(lognormal(rng, 240, 0.75));
  T = std::min(2600, std::max(24, T));
  if (max_segments > 0) T = std::min(T, max_segments);
  v.num_segments = T;
  v.duration = (T + 0.98 * rng.uniform()) * kSecondsPerSegment;

  const double u = rng.uniform();
  const int ncls = std::min(num_classes, u < 0.75 ? 1 : (u < 0.95 ? 2 : 3));  // the cap only bites below 3 classes
  std::vector<int> classes{rng.scaled_below(num_classes)};
  while (static_cast<int>(classes.size()) < ncls) {
    int c = rng.scaled_below(num_classes);
    if (rng.uniform() < 0.5) {  // prefer a class of the same venue (CliffDiving with Diving, ...)
      std::vector<int> same;
      for (int k = 0; k < num_classes; ++k)
        if (k != classes[0] && kClassGroup[k % 20] == kClassGroup[classes[0] % 20]) same.push_back(k);
      if (!same.empty()) c = same[static_cast<size_t>(rng.scaled_below(static_cast<int>(same.size())))];
    }
    if (std::find(classes.begin(), classes.end(), c) == classes.end()) classes.push_back(c);
  }

  // Instance lengths first, then distribute the background between them.
  const double total = T * kSecondsPerSegment;
  int n = static_cast<int>(lognormal(rng, 9, 1.1) + 0.5);
  n = std::max(1, std::min(n, static_cast<int>(total * 0.5 / 3.0)));
  std::vector<int> labels(static_cast<size_t>(n));
  std::vector<double> lengths(static_cast<size_t>(n));
  double action_time = 0;
  for (int i = 0; i < n; ++i) {
    // The first class dominates; others appear less often (but at least once each if they fit).
    int c = i < static_cast<int>(classes.size()) ? classes[static_cast<size_t>(i)]
                                                  : classes[rng.uniform() < 0.6 ? 0 : static_cast<size_t>(rng.scaled_below(static_cast<int>(classes.size())))];
    labels[static_cast<size_t>(i)] = c;
    double len = lognormal(rng, 3.0 * p.class_length_scale[static_cast<size_t>(c)], 0.6);
    lengths[static_cast<size_t>(i)] = std::min(40.0, std::max(0.5, len));
    action_time += lengths[static_cast<size_t>(i)];
  }
  if (action_time > 0.6 * total) {  // short video: shrink the actions to leave background between them
    for (double& len : lengths) len = std::max(0.3, len * 0.6 * total / action_time);
    action_time = 0;
    for (double len : lengths) action_time += len;
  }
  std::vector<double> gaps(static_cast<size_t>(n) + 1);
  double gsum = 0;
  for (double& g : gaps) gsum += (g = 0.2 + rng.uniform());
  const double background = std::max(0.0, total - action_time);
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += background * gaps[static_cast<size_t>(i)] / gsum;
    double s = round_tenth(t), e = round_tenth(t + lengths[static_cast<size_t>(i)]);
    e = std::min(e, std::floor(total * 10) / 10);
    if (e - s >= 0.2) v.instances.push_back({s, e, labels[static_cast<size_t>(i)]});
    t += lengths[static_cast<size_t>(i)];
  }
  if (v.instances.empty()) v.instances.push_back({0.0, round_tenth(std::min(total, 2.0)), classes[0]});
  return v;
}

// Random ActivityNet-like layout: about 100-200 segments, one class, 1-3 long instances covering 25-75% of the
// video (ActivityNet videos are ~2 minutes with few, long actions).
VideoInfo random_anet_layout(SynthRng& rng, int max_segments, int num_classes) {
  VideoInfo v;
  int T = static_cast<int>(lognormal(rng, 150, 0.3));
  T = std::min(600, std::max(24, T));
  if (max_segments > 0) T = std::min(T, max_segments);
  v.num_segments = T;
  v.duration = (T + 0.98 * rng.uniform()) * kSecondsPerSegment;
  const int cls = rng.scaled_below(num_classes);
  const double u = rng.uniform();
  const int n = u < 0.6 ? 1 : (u < 0.85 ? 2 : 3);
  const double total = T * kSecondsPerSegment, action = total * rng.uniform(0.25, 0.75);
  std::vector<double> share(static_cast<size_t>(n)), gaps(static_cast<size_t>(n) + 1);
  double ssum = 0, gsum = 0;
  for (double& x : share) ssum += (x = 0.5 + rng.uniform());
  for (double& g : gaps) gsum += (g = 0.2 + rng.uniform());
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += (total - action) * gaps[static_cast<size_t>(i)] / gsum;
    const double len = action * share[static_cast<size_t>(i)] / ssum;
    const double s = round_tenth(t), e = std::min(round_tenth(t + len), std::floor(total * 10) / 10);
    if (e - s >= 0.2) v.instances.push_back({s, e, cls});
    t += len;
  }
  if (v.instances.empty()) v.instances.push_back({0.0, round_tenth(std::min(total, 2.0)), cls});
  return v;
}

// Real layouts: names, durations and instances from gt.json; cropped to max_segments around the actions.
// The classes of real annotations: THUMOS14's 20 for its profile, else the sorted labels of gt.json.
std::vector<std::string> real_classes(const json& db, const DatasetProfile& profile) {
  if (profile.name == "thumos14") return thumos14_class_names();
  std::set<std::string> labels;
  for (auto it = db.begin(); it != db.end(); ++it)
    for (const json& a : it.value().value("annotations", json::array())) labels.insert(a.at("label").get<std::string>());
  return {labels.begin(), labels.end()};
}

void real_layouts(const SynthOptions& o, const DatasetProfile& profile, SynthLayout& out) {
  const std::string gt_path = o.anno_dir + "/gt.json";
  json gt = read_json_file(gt_path);
  if (!gt.contains("database") || !gt["database"].is_object()) fail(gt_path + ": missing 'database'");
  const json& db = gt["database"];
  out.classes = real_classes(db, profile);
  const auto& classes = out.classes;
  auto class_index = [&](const std::string& label) {
    auto it = std::lower_bound(classes.begin(), classes.end(), label);
    if (it == classes.end() || *it != label)
      fail(gt_path + ": unknown label '" + label + "' (not one of profile " + profile.name + "'s " +
           std::to_string(classes.size()) + " classes)");
    return static_cast<int>(it - classes.begin());
  };
  auto read_entry = [&](const std::string& name, const std::string& subset) {
    if (!db.contains(name)) fail(gt_path + ": no entry for video '" + name + "'");
    const json& e = db[name];
    VideoInfo v;
    v.name = name;
    v.subset = subset;
    v.duration = e.value("duration", 0.0);
    if (!(v.duration > 0)) fail(gt_path + ": video '" + name + "' has no positive duration");
    for (const json& a : e.value("annotations", json::array()))
      v.instances.push_back({a.at("segment").at(0).get<double>(), a.at("segment").at(1).get<double>(),
                             class_index(a.at("label").get<std::string>())});
    return v;
  };
  std::set<std::string> in_split;
  bool complete_test = false;
  for (int part = 0; part < 2; ++part) {
    const std::string split_path = o.anno_dir + (part == 0 ? "/split_train.txt" : "/split_test.txt");
    std::string text;
    {
      std::FILE* f = std::fopen(split_path.c_str(), "rb");
      if (!f) fail(split_path + ": cannot open");
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    std::vector<std::string> names;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
      if (!line.empty()) names.push_back(line);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    const int want = part == 0 ? o.train_videos : o.test_videos;
    const size_t count = want < 0 ? names.size() : std::min(names.size(), static_cast<size_t>(want));
    if (part == 1) complete_test = count == names.size();
    for (const std::string& name : names) in_split.insert(name);
    for (size_t i = 0; i < count; ++i) {
      VideoInfo v = read_entry(names[i], part == 0 ? profile.train_subset : profile.test_subset);
      int T = std::max(1, static_cast<int>(std::floor(v.duration * profile.fps / profile.segment_frames)));
      if (o.max_segments > 0 && T > o.max_segments) {
        T = o.max_segments;
        const double window = T * kSecondsPerSegment;
        double first = v.instances.empty() ? 0.0 : v.instances[0].start;
        for (const Instance& in : v.instances) first = std::min(first, in.start);
        const double w0 = std::max(0.0, std::min(first - 5.0, v.duration - window));
        std::vector<Instance> kept;
        for (Instance in : v.instances) {
          double s = round_tenth(std::max(0.0, in.start - w0)), e = round_tenth(std::min(window, in.end - w0));
          if (e - s >= 0.2) kept.push_back({s, e, in.label});
        }
        v.instances = kept;
        v.duration = window;
      }
      v.num_segments = T;
      out.videos.push_back(std::move(v));
    }
  }
  // Real gt entries outside both splits still count in the official evaluation: keep them when the whole
  // test split is present and uncropped, so that evaluation matches the real protocol.
  if (complete_test && o.max_segments == 0) {
    for (auto it = db.begin(); it != db.end(); ++it) {
      if (in_split.count(it.key())) continue;
      VideoInfo v = read_entry(it.key(), it.value().value("subset", std::string("test")));
      out.annotation_only.push_back(std::move(v));
    }
  }
}

}  // namespace

std::vector<std::string> synth_class_names(int num_classes) {
  if (num_classes < 1 || num_classes > kMaxSynthClasses)
    fail("--classes: must be in [1, " + std::to_string(kMaxSynthClasses) + "]");
  const std::vector<std::string>& real = thumos14_class_names();
  std::vector<std::string> names(real.begin(), real.begin() + std::min<std::ptrdiff_t>(num_classes, 20));
  // Lower-case "class_" sorts after the capitalised real names; the padding keeps the numbers in order.
  const size_t digits = std::max<size_t>(2, std::to_string(num_classes - 1).size());
  for (int c = 20; c < num_classes; ++c) {
    const std::string number = std::to_string(c);
    names.push_back("class_" + std::string(digits - number.size(), '0') + number);
  }
  return names;
}

DatasetProfile synth_profile(const SynthOptions& o) {
  DatasetProfile p = DatasetProfile::named(o.profile);
  p.streams = {{"rgb", o.stream_dim}, {"flow", o.stream_dim}};
  return p;
}

namespace {

// An ActivityNet-like set: random layouts named v_<subset>_NNNNNNN, classes class_000, class_001, ...
void random_anet_layouts(const SynthOptions& o, const DatasetProfile& profile, SynthLayout& layout) {
  const size_t digits = std::max<size_t>(3, std::to_string(o.num_classes - 1).size());
  for (int c = 0; c < o.num_classes; ++c) {
    const std::string number = std::to_string(c);
    layout.classes.push_back("class_" + std::string(digits - number.size(), '0') + number);
  }
  for (int part = 0; part < 2; ++part) {
    const int count = part == 0 ? o.train_videos : o.test_videos;
    const std::string& subset = part == 0 ? profile.train_subset : profile.test_subset;
    for (int i = 0; i < count; ++i) {
      SynthRng rng(o.seed, 12 + static_cast<uint64_t>(part), static_cast<uint64_t>(i));  // streams apart from THUMOS's
      VideoInfo v = random_anet_layout(rng, o.max_segments, o.num_classes);
      v.name = numbered(("v_" + subset + "_").c_str(), i + 1);
      v.subset = subset;
      layout.videos.push_back(std::move(v));
    }
  }
}

}  // namespace

SynthLayout make_synth_layout(const SynthOptions& o) {
  if (o.stream_dim < 16 || o.stream_dim > 65536) fail("--stream-width: must be in [16, 65536]");
  synth_class_names(o.num_classes);  // checks the count
  const DatasetProfile profile = synth_profile(o);
  if (profile.segment_frames / profile.fps != kSecondsPerSegment)
    fail("synth: profile " + profile.name + " is not 16 frames per segment at 25 fps (the generator's timing)");
  const bool thumos = profile.name == "thumos14";
  if (!o.anno_dir.empty() && thumos && o.num_classes != 20)
    fail("--classes: must be 20 with --anno (the real annotations use the 20 THUMOS14 classes)");
  if (o.max_segments < 0) fail("--max-segments: must be >= 0");
  if (!(o.difficulty >= 0)) fail("--difficulty: must be >= 0");
  SynthLayout layout;
  if (!o.anno_dir.empty()) {
    real_layouts(o, profile, layout);
  } else if (!thumos) {
    if (o.train_videos < 0 || o.test_videos < 0) fail("--train/--test: must be >= 0");
    random_anet_layouts(o, profile, layout);
  } else {
    layout.classes = synth_class_names(o.num_classes);
    if (o.train_videos < 0 || o.test_videos < 0) fail("--train/--test: must be >= 0");
    Prototypes p = make_prototypes(o.seed, o.stream_dim, o.num_classes);
    for (int part = 0; part < 2; ++part) {
      const int count = part == 0 ? o.train_videos : o.test_videos;
      for (int i = 0; i < count; ++i) {
        SynthRng rng(o.seed, 2 + static_cast<uint64_t>(part), static_cast<uint64_t>(i));
        VideoInfo v = random_video_layout(rng, p, o.max_segments, o.num_classes);
        v.name = numbered(part == 0 ? "video_validation_" : "video_test_", i + 1);
        v.subset = part == 0 ? "validation" : "test";
        layout.videos.push_back(std::move(v));
      }
    }
  }
  if (layout.videos.empty()) fail("synth: no videos requested (--train and --test are both 0)");
  for (std::vector<VideoInfo>* list : {&layout.videos, &layout.annotation_only})
    for (VideoInfo& v : *list) {
      v.labels.assign(layout.classes.size(), 0.f);
      for (const Instance& in : v.instances) v.labels[static_cast<size_t>(in.label)] = 1.f;
    }
  return layout;
}

static std::vector<float> features_with(const SynthOptions& o, const Prototypes& p, const VideoInfo& v,
                                        uint64_t video_key) {
  const int D = o.stream_dim;
  const int T = v.num_segments;
  const size_t W = 2 * static_cast<size_t>(D);
  SynthRng rng(o.seed, 7, video_key);

  // Per-video style: background mixture, camera-motion topic, gains.
  Vec bg(static_cast<size_t>(D), 0.f);
  {
    int a = rng.scaled_below(kBackgroundTopics), b = rng.scaled_below(kBackgroundTopics);
    float wa = static_cast<float>(rng.uniform(0.4, 0.9)), wb = static_cast<float>(rng.uniform(0.1, 0.5));
    for (int k = 0; k < D; ++k) bg[static_cast<size_t>(k)] = wa * p.background[static_cast<size_t>(a)][static_cast<size_t>(k)] + wb * p.background[static_cast<size_t>(b)][static_cast<size_t>(k)];
  }
  const Vec& cam = p.camera[static_cast<size_t>(rng.scaled_below(kCameraTopics))];
  const float rgb_gain = static_cast<float>(rng.uniform(0.8, 1.2)), flow_gain = static_cast<float>(rng.uniform(0.8, 1.2));

  // The venue: the group of the most frequent class.
  int counts[20] = {0};
  for (const Instance& in : v.instances) ++counts[in.label % 20];
  const int main_class = static_cast<int>(std::max_element(counts, counts + 20) - counts);
  const Vec& scene = p.scene[static_cast<size_t>(kClassGroup[main_class])];

  // Per-segment weights of each component.
  std::vector<float> action(static_cast<size_t>(T), 0.f), context(static_cast<size_t>(T), 0.f);
  std::vector<int> act_class(static_cast<size_t>(T), -1), ctx_class(static_cast<size_t>(T), -1);
  for (const Instance& in : v.instances) {
    const float strength = static_cast<float>(rng.uniform(0.35, 1.15));  // some instances are faint
    const double before = rng.uniform() < 0.7 ? rng.uniform(1.0, 3.0) : 0.0;
    const double after = rng.uniform() < 0.7 ? rng.uniform(1.0, 3.0) : 0.0;
    const int t0 = std::max(0, static_cast<int>(std::floor((in.start - before) / kSecondsPerSegment)));
    const int t1 = std::min(T - 1, static_cast<int>(std::floor((in.end + after) / kSecondsPerSegment)));
    for (int t = t0; t <= t1; ++t) {
      const double s0 = t * kSecondsPerSegment, s1 = s0 + kSecondsPerSegment;
      const double overlap = std::max(0.0, std::min(s1, in.end) - std::max(s0, in.start)) / kSecondsPerSegment;
      const size_t ti = static_cast<size_t>(t);
      if (overlap > 0) {
        const double mid = (s0 + s1) / 2, rel = (mid - in.start) / std::max(0.1, in.end - in.start);
        const double shape = 1.0 - 0.4 * std::min(1.0, std::fabs(2 * rel - 1));
        const float a = static_cast<float>(overlap * shape) * strength;
        if (a > action[ti]) {
          action[ti] = a;
          act_class[ti] = in.label;
        }
      } else if (context[ti] < strength) {  // just before/after: looks like the action, does not move
        context[ti] = strength;
        ctx_class[ti] = in.label;
      }
    }
  }
  // Camera motion drifts slowly; bursts of generic (non-action) motion now and then.
  std::vector<float> camera(static_cast<size_t>(T)), burst(static_cast<size_t>(T), 0.f);
  {
    double level = rng.uniform(0.2, 0.8);
    for (int t = 0; t < T; ++t) {
      level = std::min(1.0, std::max(0.1, level + 0.08 * rng.gauss()));
      camera[static_cast<size_t>(t)] = static_cast<float>(level);
    }
    const int bursts = T / 60 + rng.scaled_below(3);
    for (int b = 0; b < bursts; ++b) {
      const int t0 = rng.scaled_below(T), len = 2 + rng.scaled_below(7);
      const float amp = static_cast<float>(rng.uniform(0.5, 1.1));
      for (int t = t0; t < std::min(T, t0 + len); ++t)
        if (action[static_cast<size_t>(t)] == 0.f) burst[static_cast<size_t>(t)] = amp;
    }
  }

  const float sigma = static_cast<float>(0.6 * o.difficulty);
  const float rho = 0.6f, innov = 0.8f;  // AR(1) noise in time: sqrt(1 - rho^2) = 0.8
  std::vector<float> out(static_cast<size_t>(T) * W);
  Vec noise(W, 0.f);
  for (size_t k = 0; k < W; ++k) noise[k] = rng.noise();
  for (int t = 0; t < T; ++t) {
    const size_t ti = static_cast<size_t>(t);
    float* rgb = out.data() + ti * W;
    float* flow = rgb + D;
    const float a = action[ti], c = context[ti];
    const float venue = 0.3f + 0.7f * std::max(std::min(1.f, a * 1.5f), c);
    const float bg_w = 1.0f - 0.4f * std::min(1.f, a);
    const Vec* app = act_class[ti] >= 0 ? &p.appearance[static_cast<size_t>(act_class[ti])] : nullptr;
    const Vec* ctx_app = ctx_class[ti] >= 0 ? &p.appearance[static_cast<size_t>(ctx_class[ti])] : nullptr;
    const Vec* mot = act_class[ti] >= 0 ? &p.motion[static_cast<size_t>(act_class[ti])] : nullptr;
    const Vec* gmot = act_class[ti] >= 0 ? &p.group_motion[static_cast<size_t>(kClassGroup[act_class[ti] % 20])] : nullptr;
    const float ctx_w = 0.6f * c, cam_w = camera[ti], gen_w = burst[ti] + 0.3f * a;
    for (int k = 0; k < D; ++k) {
      const size_t kk = static_cast<size_t>(k);
      float m = bg_w * bg[kk] + venue * scene[kk];
      if (app) m += a * (*app)[kk];
      if (ctx_app) m += ctx_w * (*ctx_app)[kk];
      noise[kk] = rho * noise[kk] + innov * rng.noise();
      rgb[k] = std::max(0.f, rgb_gain * m + sigma * noise[kk]);
    }
    for (int k = 0; k < D; ++k) {
      const size_t kk = static_cast<size_t>(k);
      float m = cam_w * cam[kk] + gen_w * p.generic_motion[kk];
      if (mot) m += a * ((*mot)[kk] + 0.6f * (*gmot)[kk]);
      const size_t nk = kk + static_cast<size_t>(D);
      noise[nk] = rho * noise[nk] + innov * rng.noise();
      flow[k] = std::max(0.f, flow_gain * m + sigma * noise[nk]);
    }
  }
  return out;
}

static uint64_t video_key(const VideoInfo& v) {  // a video's RNG stream follows its name, not its position
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : v.name) h = (h ^ ch) * 1099511628211ULL;
  return h;
}

std::vector<float> make_synth_features(const SynthOptions& o, const SynthLayout& layout, size_t index) {
  if (index >= layout.videos.size()) fail("synth: video index out of range");
  Prototypes p = make_prototypes(o.seed, o.stream_dim, static_cast<int>(layout.classes.size()));
  return features_with(o, p, layout.videos[index], video_key(layout.videos[index]));
}

size_t write_synth(const SynthOptions& o, const std::string& out_path) {
  SynthLayout layout = make_synth_layout(o);
  const Prototypes p = make_prototypes(o.seed, o.stream_dim, static_cast<int>(layout.classes.size()));
  DatasetWriterOptions wo;
  wo.compression = o.compression;
  wo.gt_version = "aicl-synth";
  char src[256];
  std::snprintf(src, sizeof src, "aicl_data synth seed=%llu train=%d test=%d max_segments=%d difficulty=%g%s",
                static_cast<unsigned long long>(o.seed), o.train_videos, o.test_videos, o.max_segments, o.difficulty,
                o.anno_dir.empty() ? "" : " anno=real");
  wo.source = src;
  if (layout.classes.size() != 20) wo.source += " classes=" + std::to_string(layout.classes.size());
  if (o.stream_dim != 1024) wo.source += " stream_width=" + std::to_string(o.stream_dim);
  if (o.profile != "thumos14") wo.source += " profile=" + o.profile;
  wo.profile = synth_profile(o);
  DatasetWriter writer(out_path, layout.classes, 2 * o.stream_dim, wo);
  // Generate in parallel batches, write in order (the file does not depend on the thread count).
  const size_t n = layout.videos.size(), batch = 32;
  size_t segments = 0;
  std::vector<std::vector<float>> feats(batch);
  for (size_t b0 = 0; b0 < n; b0 += batch) {
    const size_t b1 = std::min(n, b0 + batch);
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = static_cast<long>(b0); i < static_cast<long>(b1); ++i)
      feats[static_cast<size_t>(i) - b0] = features_with(o, p, layout.videos[static_cast<size_t>(i)], video_key(layout.videos[static_cast<size_t>(i)]));
    for (size_t i = b0; i < b1; ++i) {
      writer.add_video(layout.videos[i], feats[i - b0].data());
      segments += static_cast<size_t>(layout.videos[i].num_segments);
    }
  }
  for (const VideoInfo& v : layout.annotation_only) writer.add_annotation_only(v);
  writer.finish();
  return segments;
}

}  // namespace aicl
