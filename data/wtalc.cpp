// The W-TALC / CO2-Net / DELU feature layout: import through the restricted unpickler, export with np.save's bytes.
#include "data/wtalc.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "core/base/error.h"
#include "core/base/io.h"
#include "data/npy.h"

namespace aicl {
namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------------ reading arrays

namespace {

uint64_t file_size_of(std::ifstream& in) {
  in.seekg(0, std::ios::end);
  const uint64_t n = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  return n;
}

// Raw element bytes in host order (the host is little-endian: data/npy.cpp asserts it).
void element_bytes(const PyArray& a, size_t i, unsigned char out[8]) {
  const size_t w = std::min<size_t>(a.dtype.itemsize, 8);  // numeric dtypes are at most 8 bytes (parse_numpy_descr)
  const unsigned char* src = reinterpret_cast<const unsigned char*>(a.data.data()) + i * a.dtype.itemsize;
  for (size_t k = 0; k < w; ++k) out[k] = src[a.dtype.order == '>' ? w - 1 - k : k];
}

double number_at(const PyArray& a, size_t i) {
  unsigned char b[8] = {0};
  element_bytes(a, i, b);
  const size_t w = a.dtype.itemsize;
  if (a.dtype.kind == 'f') {
    if (w == 4) {
      float f;
      std::memcpy(&f, b, 4);
      return f;
    }
    double d;
    std::memcpy(&d, b, 8);
    return d;
  }
  if (a.dtype.kind == 'b') return b[0] != 0;
  uint64_t u = 0;
  std::memcpy(&u, b, w);
  if (a.dtype.kind == 'u' || w == 8) return a.dtype.kind == 'u' ? static_cast<double>(u) : static_cast<double>(static_cast<int64_t>(u));
  const uint64_t sign = uint64_t{1} << (8 * w - 1);  // sign-extend a narrower signed integer
  return static_cast<double>(static_cast<int64_t>((u ^ sign) - sign));
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Element i of an |S or <U array, without numpy's trailing NUL padding, as UTF-8.
std::string string_at(const PyArray& a, size_t i) {
  const size_t w = a.dtype.itemsize;
  const char* p = a.data.data() + i * w;
  std::string out;
  if (a.dtype.kind == 'S') {
    out.assign(p, w);
  } else {
    for (size_t k = 0; k + 4 <= w; k += 4) {
      unsigned char b[4];
      std::memcpy(b, p + k, 4);
      if (a.dtype.order == '>') std::reverse(b, b + 4);
      append_utf8(static_cast<uint32_t>(b[0]) | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24), out);
    }
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

bool is_numeric(const PyDtype& t) { return t.kind == 'f' || t.kind == 'i' || t.kind == 'u' || t.kind == 'b'; }

// A plain number, or a numpy scalar (a 0-d array from numpy.core.multiarray.scalar).
bool as_number(const PyValue& v, double& out) {
  switch (v.kind) {
    case PyValue::Kind::kInt: out = static_cast<double>(v.integer); return true;
    case PyValue::Kind::kFloat: out = v.real; return true;
    case PyValue::Kind::kBool: out = v.flag; return true;
    case PyValue::Kind::kArray:
      if (!is_numeric(v.array->dtype) || v.array->count() != 1 || v.array->lazy) return false;
      out = number_at(*v.array, 0);
      return true;
    default: return false;
  }
}

bool as_string(const PyValue& v, std::string& out) {
  if (v.kind == PyValue::Kind::kStr || (v.kind == PyValue::Kind::kBytes && !v.lazy)) {
    out = v.text;
    return true;
  }
  if (v.kind == PyValue::Kind::kArray && (v.array->dtype.kind == 'S' || v.array->dtype.kind == 'U') &&
      v.array->count() == 1) {
    out = string_at(*v.array, 0);
    return true;
  }
  return false;
}

// Arrays of annotations are [N] (or [N, 1], as W-TALC's THUMOS14 duration.npy).
size_t column_length(const PyArray& a, const std::string& file) {
  if (a.shape.size() == 1) return a.shape[0];
  if (a.shape.size() == 2 && a.shape[1] == 1) return a.shape[0];
  std::string s;
  for (size_t d : a.shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
  fail(file + ": expected a 1-D array, got shape (" + s + ")");
}

}  // namespace

PyArray load_npy_array(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  const uint64_t size = file_size_of(in);
  const NpyHeader h = read_npy_header(in, path);
  if (h.fortran_order && h.shape.size() > 1) fail(path + ": fortran_order=True is not supported");
  if (h.descr == "|O") {
    const PyPtr v = unpickle(in, h.data_offset, size, path);
    if (v->kind != PyValue::Kind::kArray || v->array->dtype.kind != 'O')
      fail(path + ": the pickle holds " + describe_value(*v) + ", not an object array");
    if (v->array->shape != h.shape) fail(path + ": the pickled array's shape differs from the .npy header's");
    return *v->array;
  }
  PyArray a;
  if (!parse_numpy_descr(h.descr, a.dtype) || a.dtype.kind == 'O')
    fail(path + ": dtype '" + h.descr + "' is not supported (numbers and strings only)");
  a.shape = h.shape;
  a.built = true;
  const uint64_t need = h.count() * a.dtype.itemsize, have = size - h.data_offset;
  if (have != need)
    fail(path + ": " + std::to_string(have) + " bytes of data, the shape needs " + std::to_string(need));
  a.data.resize(need);
  in.read(&a.data[0], static_cast<std::streamsize>(need));
  if (!in) fail(path + ": read error");
  return a;
}

std::vector<std::string> npy_strings(const PyArray& a, const std::string& file) {
  const size_t n = column_length(a, file);
  std::vector<std::string> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (a.dtype.kind == 'S' || a.dtype.kind == 'U') out[i] = string_at(a, i);
    else if (a.dtype.kind != 'O') fail(file + ": dtype " + a.dtype.descr() + " holds no strings");
    else if (!as_string(*a.objects[i], out[i]))
      fail(file + ": element " + std::to_string(i) + " is " + describe_value(*a.objects[i]) + ", expected a string");
  }
  return out;
}

std::vector<double> npy_numbers(const PyArray& a, const std::string& file) {
  const size_t n = column_length(a, file);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (is_numeric(a.dtype)) out[i] = number_at(a, i);
    else if (a.dtype.kind != 'O') fail(file + ": dtype " + a.dtype.descr() + " holds no numbers");
    else if (!as_number(*a.objects[i], out[i]))
      fail(file + ": element " + std::to_string(i) + " is " + describe_value(*a.objects[i]) + ", expected a number");
  }
  return out;
}

std::vector<std::string> string_list(const PyValue& v, const std::string& context) {
  std::vector<std::string> out;
  if (v.kind == PyValue::Kind::kArray) return npy_strings(*v.array, context);
  if (v.kind != PyValue::Kind::kList && v.kind != PyValue::Kind::kTuple)
    fail(context + ": expected a list of class names, got " + describe_value(v));
  for (const PyPtr& item : v.items) {
    out.emplace_back();
    if (!as_string(*item, out.back()))
      fail(context + ": expected a list of class names, got " + describe_value(*item) + " in it");
  }
  return out;
}

std::vector<std::pair<double, double>> segment_list(const PyValue& v, const std::string& context) {
  std::vector<std::pair<double, double>> out;
  if (v.kind == PyValue::Kind::kArray && is_numeric(v.array->dtype) && !v.array->lazy) {  // a [n, 2] array
    const PyArray& a = *v.array;
    if (a.shape.size() != 2 || a.shape[1] != 2) fail(context + ": expected [n, 2] segments, got another shape");
    for (size_t k = 0; k < a.shape[0]; ++k) out.emplace_back(number_at(a, 2 * k), number_at(a, 2 * k + 1));
    return out;
  }
  const std::vector<PyPtr>* items = v.kind == PyValue::Kind::kArray && v.array->dtype.kind == 'O' ? &v.array->objects
                                    : (v.kind == PyValue::Kind::kList || v.kind == PyValue::Kind::kTuple) ? &v.items
                                                                                                          : nullptr;
  if (!items) fail(context + ": expected a list of [start, end] segments, got " + describe_value(v));
  for (const PyPtr& seg : *items) {
    std::vector<double> se;
    if (seg->kind == PyValue::Kind::kList || seg->kind == PyValue::Kind::kTuple) {
      for (const PyPtr& x : seg->items) {
        se.push_back(0);
        if (!as_number(*x, se.back())) se.clear();
        if (se.empty()) break;
      }
    } else if (seg->kind == PyValue::Kind::kArray && is_numeric(seg->array->dtype) && !seg->array->lazy) {
      for (size_t k = 0; k < seg->array->count(); ++k) se.push_back(number_at(*seg->array, k));
    }
    if (se.size() != 2) fail(context + ": a segment is " + describe_value(*seg) + ", expected [start, end]");
    out.emplace_back(se[0], se[1]);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ the features file

JointFeaturesFile::JointFeaturesFile(const std::string& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  const uint64_t size = file_size_of(in_);
  const NpyHeader h = read_npy_header(in_, path);
  if (h.descr != "|O" || h.shape.size() != 1)
    fail(path + ": expected an object array of per-video feature arrays (dtype |O, 1-D), got dtype '" + h.descr + "'");
  UnpickleOptions o;
  o.lazy_bytes = 4096;  // feature matrices stay in the file: one video in memory at a time
  const PyPtr v = unpickle(in_, h.data_offset, size, path, o);
  if (v->kind != PyValue::Kind::kArray || v->array->dtype.kind != 'O' || v->array->shape.size() != 1)
    fail(path + ": the pickle holds " + describe_value(*v) + ", not a 1-D object array");
  elements_ = v->array->objects;
}

NpyMatrix JointFeaturesFile::read(size_t i, const std::string& video, size_t width) const {
  const std::string ctx = path_ + ": video '" + video + "' (element " + std::to_string(i) + ")";
  const PyValue& e = *elements_.at(i);
  if (e.kind != PyValue::Kind::kArray || e.array->dtype.kind != 'f')
    fail(ctx + ": features are " + describe_value(e) + ", expected a float array [T, " + std::to_string(width) + "]");
  const PyArray& a = *e.array;
  if (a.shape.size() != 2 || a.shape[1] != width || a.fortran || a.dtype.order == '>')
    fail(ctx + ": features are not a C-order little-endian float array [T, " + std::to_string(width) + "]");
  if (a.shape[0] == 0) fail(ctx + ": no feature rows (shorter than one segment)");
  NpyMatrix m;
  m.rows = a.shape[0];
  m.cols = width;
  m.was_float64 = a.dtype.itemsize == 8;
  std::string raw = a.data;
  if (a.lazy) {
    raw.resize(a.span.size);
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(a.span.offset));
    in_.read(&raw[0], static_cast<std::streamsize>(raw.size()));
    if (!in_) fail(ctx + ": read error");
  }
  m.data.resize(m.rows * m.cols);
  if (!m.was_float64) {
    std::memcpy(m.data.data(), raw.data(), raw.size());
  } else {
    for (size_t k = 0; k < m.data.size(); ++k) {
      double d;
      std::memcpy(&d, raw.data() + 8 * k, 8);
      m.data[k] = static_cast<float>(d);
    }
  }
  return m;
}

// ------------------------------------------------------------------------------------------ import

std::string default_wtalc_name(const DatasetProfile& p) {
  if (p.name == "thumos14") return "Thumos14reduced";
  if (p.name == "anet12") return "ActivityNet1.2";
  if (p.name == "anet13") return "ActivityNet1.3";
  return p.name;
}

namespace {

constexpr const char* kFeaturesSuffix = "-JOINTFeatures.npy";

struct WtalcPaths {
  std::string features, annotations;
};

// <Name>-<type>-JOINTFeatures.npy in ROOT (W-TALC: '%s-%s-JOINTFeatures.npy' % (dataset_name, feature_type)) and
// its <Name>-Annotations folder.
WtalcPaths find_wtalc(const std::string& root, const std::string& want) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail("--root " + root + ": no such directory");
  std::map<std::string, std::string> found;  // name -> features file
  const std::string suffix = kFeaturesSuffix;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string stem = f.substr(0, f.size() - suffix.size());  // Name-I3D
    const size_t dash = stem.rfind('-');
    found[dash == std::string::npos ? stem : stem.substr(0, dash)] = e.path().string();
  }
  std::string names;
  for (const auto& kv : found) names += (names.empty() ? "" : ", ") + kv.first;
  if (found.empty()) fail(root + ": no <Name>-I3D-JOINTFeatures.npy (the W-TALC layout)");
  if (want.empty() && found.size() > 1) fail(root + ": several feature files (" + names + "); choose one with --name");
  const auto it = want.empty() ? found.begin() : found.find(want);
  if (it == found.end()) fail(root + ": no features file for --name " + want + " (found: " + names + ")");
  WtalcPaths p{it->second, root + "/" + it->first + "-Annotations"};
  if (!fs::is_directory(p.annotations, ec)) fail(p.annotations + ": missing (the annotations of " + p.features + ")");
  return p;
}

struct WtalcAnnotations {
  std::string dir;
  std::vector<std::string> videos, subsets, classes;
  std::vector<double> durations;
  PyArray segments, labels, labels_all;
  bool has_labels_all = false;
  std::string file(const char* n) const { return dir + "/" + n + ".npy"; }
};

WtalcAnnotations read_annotations(const std::string& dir) {
  WtalcAnnotations a;
  a.dir = dir;
  a.videos = npy_strings(load_npy_array(a.file("videoname")), a.file("videoname"));
  a.subsets = npy_strings(load_npy_array(a.file("subset")), a.file("subset"));
  a.classes = npy_strings(load_npy_array(a.file("classlist")), a.file("classlist"));
  a.durations = npy_numbers(load_npy_array(a.file("duration")), a.file("duration"));
  a.segments = load_npy_array(a.file("segments"));
  a.labels = load_npy_array(a.file("labels"));
  std::error_code ec;
  a.has_labels_all = fs::exists(a.file("labels_all"), ec);
  if (a.has_labels_all) a.labels_all = load_npy_array(a.file("labels_all"));
  const size_t V = a.videos.size();
  auto same_length = [&](size_t n, const char* name) {
    if (n != V)
      fail(a.file(name) + ": " + std::to_string(n) + " entries, but videoname.npy lists " + std::to_string(V) + " videos");
  };
  same_length(a.subsets.size(), "subset");
  same_length(a.durations.size(), "duration");
  for (auto* arr : {&a.segments, &a.labels})
    if (arr->dtype.kind != 'O' || arr->shape.size() != 1)
      fail(a.file(arr == &a.segments ? "segments" : "labels") + ": expected a 1-D object array");
  same_length(a.segments.count(), "segments");
  same_length(a.labels.count(), "labels");
  if (a.has_labels_all) same_length(a.labels_all.count(), "labels_all");
  return a;
}

// The profile's two subsets must both occur: otherwise the profile does not fit this ground truth.
void check_subsets(const WtalcAnnotations& a, const DatasetProfile& p) {
  const std::set<std::string> have(a.subsets.begin(), a.subsets.end());
  std::string list;
  for (const std::string& s : have) list += (list.empty() ? "" : ", ") + s;
  for (const std::string& s : {p.train_subset, p.test_subset})
    if (!have.count(s))
      fail(a.file("subset") + ": no video has subset '" + s + "', which profile " + p.name + " " +
           (s == p.train_subset ? "trains" : "tests") + " on (subset.npy has: " + list + ")");
}

std::vector<std::string> sorted_classes(const WtalcAnnotations& a) {
  std::vector<std::string> c = a.classes;
  std::sort(c.begin(), c.end());
  for (size_t i = 1; i < c.size(); ++i)
    if (c[i] == c[i - 1]) fail(a.file("classlist") + ": class '" + c[i] + "' is listed twice");
  if (c.empty()) fail(a.file("classlist") + ": no classes");
  return c;
}

// Video i's instances from segments.npy and labels.npy (one label per segment, each one of classlist.npy).
std::vector<Instance> video_instances(const WtalcAnnotations& a, size_t i, const std::vector<std::string>& classes) {
  const std::string& v = a.videos[i];
  const auto segs = segment_list(*a.segments.objects[i], a.file("segments") + ": video '" + v + "'");
  const auto labs = string_list(*a.labels.objects[i], a.file("labels") + ": video '" + v + "'");
  if (segs.size() != labs.size())
    fail(a.file("labels") + ": video '" + v + "': " + std::to_string(labs.size()) + " labels, but segments.npy has " +
         std::to_string(segs.size()) + " segments");
  std::vector<Instance> out;
  for (size_t k = 0; k < segs.size(); ++k) {
    const auto it = std::lower_bound(classes.begin(), classes.end(), labs[k]);
    if (it == classes.end() || *it != labs[k])
      fail(a.file("labels") + ": video '" + v + "': label '" + labs[k] + "' is not in classlist.npy (" +
           std::to_string(classes.size()) + " classes)");
    if (!(segs[k].second >= segs[k].first))
      fail(a.file("segments") + ": video '" + v + "': segment [" + json(segs[k].first).dump() + ", " +
           json(segs[k].second).dump() + "] ends before it starts");
    out.push_back({segs[k].first, segs[k].second, static_cast<int>(it - classes.begin())});
  }
  return out;
}

// The video-level labels: the segment labels' classes plus labels_all.npy's, which W-TALC's loader trains on
// (its 101-class THUMOS14 arrays hold classification videos with labels but no segments). Counts the videos
// whose two label sets differ.
std::vector<float> video_labels(const WtalcAnnotations& a, size_t i, const std::vector<Instance>& inst,
                                const std::vector<std::string>& classes, size_t& differing, std::string& first) {
  std::vector<float> labels(classes.size(), 0.f);
  for (const Instance& in : inst) labels[static_cast<size_t>(in.label)] = 1.f;
  if (!a.has_labels_all) return labels;
  const std::string ctx = a.file("labels_all") + ": video '" + a.videos[i] + "'";
  std::vector<float> all(classes.size(), 0.f);
  for (const std::string& l : string_list(*a.labels_all.objects[i], ctx)) {
    const auto it = std::lower_bound(classes.begin(), classes.end(), l);
    if (it == classes.end() || *it != l)
      fail(ctx + ": label '" + l + "' is not in classlist.npy (" + std::to_string(classes.size()) + " classes)");
    all[static_cast<size_t>(it - classes.begin())] = 1.f;
  }
  if (all != labels && differing++ == 0) first = a.videos[i];
  for (size_t c = 0; c < labels.size(); ++c) labels[c] = std::max(labels[c], all[c]);
  return labels;
}

}  // namespace

ImportReport import_wtalc(const ImportOptions& o) {
  const DatasetProfile profile = import_profile(o);
  if (!o.classes.empty()) fail("--classes: not used with --layout wtalc (the classes are classlist.npy's)");
  const WtalcPaths paths = find_wtalc(o.root, o.name);
  const WtalcAnnotations a = read_annotations(paths.annotations);
  check_subsets(a, profile);
  const std::vector<std::string> classes = sorted_classes(a);
  const JointFeaturesFile features(paths.features);
  if (features.size() != a.videos.size())
    fail(paths.features + ": " + std::to_string(features.size()) + " feature arrays, but videoname.npy lists " +
         std::to_string(a.videos.size()) + " videos");

  DatasetWriterOptions wo;
  wo.compression = o.compression;
  wo.source = "aicl_data import --layout wtalc " + paths.features;
  wo.gt_version = fs::path(paths.annotations).filename().string();
  wo.profile = profile;
  DatasetWriter writer(o.out, classes, profile.feature_dim(), wo);
  ImportReport report;
  ImportSink sink(o, profile, classes, writer, report, a.videos.size());
  size_t differing = 0, float64 = 0;
  std::string first_differing;
  const double seconds_per_segment = profile.segment_frames / profile.fps;
  for (size_t i = 0; i < a.videos.size(); ++i) {
    if (a.subsets[i] != profile.train_subset && a.subsets[i] != profile.test_subset) {
      ++report.skipped;
      continue;
    }
    VideoInfo v{a.videos[i], a.subsets[i], 0, a.durations[i], {}, video_instances(a, i, classes)};
    v.labels = video_labels(a, i, v.instances, classes, differing, first_differing);
    const NpyMatrix m = features.read(i, v.name, static_cast<size_t>(profile.feature_dim()));
    float64 += m.was_float64;
    v.num_segments = static_cast<int>(m.rows);
    if (!(v.duration > 0)) v.duration = static_cast<double>(m.rows) * seconds_per_segment;
    sink.add(v, m.data.data());
  }
  sink.finish();
  writer.finish();
  if (report.skipped)
    report.warnings.push_back(std::to_string(report.skipped) + " video(s) of other subsets than '" +
                              profile.train_subset + "' and '" + profile.test_subset + "' skipped");
  if (differing)
    report.warnings.push_back(a.file("labels_all") + ": " + std::to_string(differing) +
                              " video(s) whose labels_all differ from their segment labels (e.g. '" + first_differing +
                              "'); their video labels are the union of both");
  if (float64) report.warnings.push_back(std::to_string(float64) + " float64 feature array(s) converted to float32");
  return report;
}

// ------------------------------------------------------------------------------------------ export (encoders)

namespace {

// np.save of a 1-D object array, written element by element the way pickle visits it: the ndarray's reduction,
// its state tuple whose last item is the list of elements (one APPEND for a single element, else MARK ...
// APPENDS per 1000, CPython's batch size), then BUILD and STOP.
class ObjectArrayPickler {
 public:
  ObjectArrayPickler(std::string& out, size_t count) : p_(out), count_(count) {
    out += npy_header_bytes("|O", {count});
    p_.proto();
    reconstruct_ = p_.global("numpy.core.multiarray", "_reconstruct");
    ndarray_ = p_.global("numpy", "ndarray");
    p_.integer(0);
    p_.tuple(1);
    p_.bytes_header(1);
    out.push_back('b');
    b_ = p_.memoize();
    p_.tuple(3);
    p_.reduce();
    p_.mark();  // the state tuple (1, shape, dtype, False, list)
    p_.integer(1);
    p_.integer(static_cast<int64_t>(count));
    p_.tuple(1);
    dtype_ = p_.global("numpy", "dtype");
    dtype_body("O8", "|", 63);
    p_.boolean(false);
    p_.empty_list();
  }
  Pickler3& pickler() { return p_; }
  void begin_element() {
    if (count_ > 1 && done_ % 1000 == 0) p_.mark();
  }
  void end_element() {
    ++done_;
    if (count_ == 1) p_.append();
    else if (done_ % 1000 == 0 || done_ == count_) p_.appends();
  }
  void finish() {
    p_.tuple(5);
    p_.build();
    p_.stop();
  }
  // A float32 [rows, cols] element up to its payload; the caller writes rows*cols*4 bytes, then end_matrix().
  void begin_matrix(size_t rows, size_t cols) {
    p_.get(reconstruct_);
    p_.get(ndarray_);
    p_.integer(0);
    p_.tuple(1);
    p_.get(b_);
    p_.tuple(3);
    p_.reduce();
    p_.mark();
    p_.integer(1);
    p_.integer(static_cast<int64_t>(rows));
    p_.integer(static_cast<int64_t>(cols));
    p_.tuple(2);
    if (f4_ < 0) {  // the first float32 dtype is reduced once; pickle refers to the same object afterwards
      p_.get(dtype_);
      f4_ = dtype_body("f4", "<", 0);
    } else {
      p_.get(static_cast<uint32_t>(f4_));
    }
    p_.boolean(false);
    p_.bytes_header(static_cast<uint64_t>(rows) * cols * 4);
  }
  void end_matrix() {
    p_.memoize();  // the payload's bytes object
    p_.tuple(5);
    p_.build();
  }

 private:
  // The arguments and state of numpy.dtype(descr, False, True), after the callable; returns its memo index.
  int64_t dtype_body(const char* descr, const char* order, int flags) {
    p_.unicode(descr);
    p_.boolean(false);
    p_.boolean(true);
    p_.tuple(3);
    const uint32_t id = p_.reduce();
    p_.mark();
    p_.integer(3);
    p_.unicode(order);
    p_.none();
    p_.none();
    p_.none();
    p_.integer(-1);
    p_.integer(-1);
    p_.integer(flags);
    p_.tuple(8);
    p_.build();
    return id;
  }

  Pickler3 p_;
  size_t count_, done_ = 0;
  uint32_t reconstruct_ = 0, ndarray_ = 0, b_ = 0, dtype_ = 0;
  int64_t f4_ = -1;
};

// A Python list of `n` items, each written by item(k): EMPTY_LIST, then APPEND or MARK ... APPENDS batches.
template <typename F>
void pickle_list(Pickler3& p, size_t n, F item) {
  p.empty_list();
  if (n == 1) {
    item(0);
    p.append();
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    if (k % 1000 == 0) p.mark();
    item(k);
    if ((k + 1) % 1000 == 0 || k + 1 == n) p.appends();
  }
}

}  // namespace

std::string npy_of_bytes_strings(const std::vector<std::string>& strings) {
  size_t w = 1;  // numpy gives an array of empty bytes the dtype S1
  for (const std::string& s : strings) w = std::max(w, s.size());
  std::string out = npy_header_bytes("|S" + std::to_string(w), {strings.size()});
  for (const std::string& s : strings) {
    out += s;
    out.append(w - s.size(), '\0');
  }
  return out;
}

std::string npy_of_doubles(const std::vector<double>& values, bool column) {
  std::string out = npy_header_bytes("<f8", column ? std::vector<size_t>{values.size(), 1} : std::vector<size_t>{values.size()});
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * 8);
  return out;
}

std::string npy_of_string_lists(const std::vector<std::vector<std::string>>& lists) {
  std::string out;
  ObjectArrayPickler w(out, lists.size());
  for (const auto& list : lists) {
    w.begin_element();
    pickle_list(w.pickler(), list.size(), [&](size_t k) { w.pickler().unicode(list[k]); });
    w.end_element();
  }
  w.finish();
  return out;
}

std::string npy_of_segment_lists(const std::vector<std::vector<std::pair<double, double>>>& lists) {
  std::string out;
  ObjectArrayPickler w(out, lists.size());
  Pickler3& p = w.pickler();
  for (const auto& list : lists) {
    w.begin_element();
    pickle_list(p, list.size(), [&](size_t k) {
      pickle_list(p, 2, [&](size_t j) { p.real(j == 0 ? list[k].first : list[k].second); });
    });
    w.end_element();
  }
  w.finish();
  return out;
}

std::string npy_of_float_matrices(const std::vector<NpyMatrix>& matrices) {
  std::string out;
  ObjectArrayPickler w(out, matrices.size());
  for (const NpyMatrix& m : matrices) {
    w.begin_element();
    w.begin_matrix(m.rows, m.cols);
    out.append(reinterpret_cast<const char*>(m.data.data()), m.data.size() * 4);
    w.end_matrix();
    w.end_element();
  }
  w.finish();
  return out;
}

// ------------------------------------------------------------------------------------------ export

namespace {

// The features file, streamed: the pickle's opcodes go through a small buffer, each video's payload straight
// from the dataset to the file (one video in memory).
void write_features_file(const Dataset& ds, const std::vector<size_t>& videos, const fs::path& path) {
  std::ofstream f(path, std::ios::binary);
  if (!f) fail(path.string() + ": cannot create");
  std::string buf;
  ObjectArrayPickler w(buf, videos.size());
  std::vector<float> rows;
  for (size_t i : videos) {
    const VideoInfo& v = ds.video(i);
    rows.resize(static_cast<size_t>(v.num_segments) * static_cast<size_t>(ds.feature_dim()));
    ds.read_features(i, rows.data());
    w.begin_element();
    w.begin_matrix(static_cast<size_t>(v.num_segments), static_cast<size_t>(ds.feature_dim()));
    f.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.clear();
    f.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * 4));
    w.end_matrix();
    w.end_element();
  }
  w.finish();
  f.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  f.close();
  if (!f) fail(path.string() + ": write error (disk full?)");
}

// labels_all.npy of a video: its segment labels in order of first appearance (as W-TALC's arrays list them),
// then any other video-level label in class order.
std::vector<std::string> labels_all_of(const std::vector<std::string>& segment_labels, const VideoInfo& v,
                                       const std::vector<std::string>& classes) {
  std::vector<std::string> out;
  for (const std::string& l : segment_labels)
    if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
  for (size_t c = 0; c < v.labels.size(); ++c)
    if (v.labels[c] != 0.f && std::find(out.begin(), out.end(), classes[c]) == out.end()) out.push_back(classes[c]);
  return out;
}

size_t write_annotations(const Dataset& ds, const std::vector<size_t>& videos, const fs::path& dir) {
  std::vector<std::string> names, subsets;
  std::vector<double> durations;
  std::vector<std::vector<std::pair<double, double>>> segments;
  std::vector<std::vector<std::string>> labels, labels_all;
  for (size_t i : videos) {
    const VideoInfo& v = ds.video(i);
    names.push_back(v.name);
    subsets.push_back(v.subset);
    durations.push_back(v.duration);
    segments.emplace_back();
    labels.emplace_back();
    for (const Instance& in : v.instances) {
      segments.back().emplace_back(in.start, in.end);
      labels.back().push_back(ds.class_names()[static_cast<size_t>(in.label)]);
    }
    labels_all.push_back(labels_all_of(labels.back(), v, ds.class_names()));
  }
  fs::create_directories(dir);
  write_file((dir / "videoname.npy").string(), npy_of_bytes_strings(names));
  write_file((dir / "subset.npy").string(), npy_of_bytes_strings(subsets));
  write_file((dir / "classlist.npy").string(), npy_of_bytes_strings(ds.class_names()));
  // W-TALC's THUMOS14 code reads duration[i, 0]; its ActivityNet arrays are 1-D.
  write_file((dir / "duration.npy").string(), npy_of_doubles(durations, ds.profile().name == "thumos14"));
  write_file((dir / "segments.npy").string(), npy_of_segment_lists(segments));
  write_file((dir / "labels.npy").string(), npy_of_string_lists(labels));
  write_file((dir / "labels_all.npy").string(), npy_of_string_lists(labels_all));
  return 7;
}

}  // namespace

size_t export_wtalc(const Dataset& ds, const std::string& out_dir, const std::string& name,
                    std::vector<std::string>* warnings) {
  const std::string n = name.empty() ? default_wtalc_name(ds.profile()) : name;
  if (n.find('/') != std::string::npos || n.find('-') != std::string::npos)
    fail("--name " + n + ": must not contain '/' or '-' (W-TALC splits the file name at '-')");
  std::vector<size_t> videos(ds.num_videos());
  for (size_t i = 0; i < videos.size(); ++i) videos[i] = i;
  size_t files = 0;
  write_directory_atomically(out_dir, [&](const fs::path& tmp) {
    write_features_file(ds, videos, tmp / (n + "-I3D-JOINTFeatures.npy"));
    files = 1 + write_annotations(ds, videos, tmp / (n + "-Annotations"));
  });
  if (warnings && !ds.annotation_only_videos().empty())
    warnings->push_back(std::to_string(ds.annotation_only_videos().size()) +
                        " annotation-only video(s) not written (the W-TALC layout has no place for ground truth "
                        "without features)");
  return files;
}

}  // namespace aicl
