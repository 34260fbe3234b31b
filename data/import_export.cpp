// Conversion between the aicl dataset file and the npy feature layouts (per stream, joint, concatenated).
#include "data/import_export.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/error.h"
#include "core/base/io.h"
#include "data/npy.h"
#include "data/wtalc.h"

namespace aicl {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_split_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<std::string> names;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    size_t b = 0, e = line.size();
    while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
    if (b == e) continue;
    std::string name = line.substr(b, e - b);
    if (!seen.insert(name).second) fail(path + ": video '" + name + "' is listed twice");
    names.push_back(name);
  }
  return names;
}

std::vector<Instance> parse_annotations(const json& entry, const std::string& name,
                                        const std::vector<std::string>& classes, const std::string& gt_path) {
  std::vector<Instance> out;
  if (!entry.is_object()) fail(gt_path + ": entry of video '" + name + "' is not an object");
  if (!entry.contains("annotations")) return out;
  const json& annos = entry["annotations"];
  if (!annos.is_array()) fail(gt_path + ": video '" + name + "': 'annotations' is not a list");
  for (const json& a : annos) {
    if (!a.is_object() || !a.contains("label") || !a["label"].is_string() || !a.contains("segment") ||
        !a["segment"].is_array() || a["segment"].size() != 2 || !a["segment"][0].is_number() ||
        !a["segment"][1].is_number())
      fail(gt_path + ": video '" + name + "': an annotation lacks a string 'label' or a numeric 'segment' [start, end]");
    const std::string label = a["label"].get<std::string>();
    auto it = std::lower_bound(classes.begin(), classes.end(), label);
    if (it == classes.end() || *it != label)
      fail(gt_path + ": video '" + name + "': unknown label '" + label + "' (not one of the " +
           std::to_string(classes.size()) + " classes)");
    Instance in{a["segment"][0].get<double>(), a["segment"][1].get<double>(), static_cast<int>(it - classes.begin())};
    if (!(in.end >= in.start)) fail(gt_path + ": video '" + name + "': segment end before start");
    out.push_back(in);
  }
  return out;
}

std::vector<std::string> classes_for(const std::string& option, const json& db, const std::string& gt_path) {
  if (option == "thumos14") return thumos14_class_names();
  if (option != "from-gt") fail("--classes: '" + option + "' is not 'thumos14' or 'from-gt'");
  std::set<std::string> labels;
  for (auto it = db.begin(); it != db.end(); ++it)
    if (it.value().is_object() && it.value().contains("annotations") && it.value()["annotations"].is_array())
      for (const json& a : it.value()["annotations"])
        if (a.is_object() && a.contains("label") && a["label"].is_string()) labels.insert(a["label"].get<std::string>());
  if (labels.empty()) fail(gt_path + ": no labels found (--classes from-gt)");
  return {labels.begin(), labels.end()};
}

// The profile's two subsets must occur in gt.json (when it names subsets at all): otherwise the profile does not
// fit this ground truth, e.g. --profile thumos14 on ActivityNet annotations.
void check_gt_subsets(const json& db, const DatasetProfile& p, const std::string& gt_path) {
  std::set<std::string> have;
  for (auto it = db.begin(); it != db.end(); ++it)
    if (it.value().is_object() && it.value().contains("subset") && it.value()["subset"].is_string())
      have.insert(it.value()["subset"].get<std::string>());
  if (have.empty()) return;
  std::string list;
  for (const std::string& s : have) list += (list.empty() ? "" : ", ") + s;
  for (const std::string& s : {p.train_subset, p.test_subset})
    if (!have.count(s))
      fail(gt_path + ": no video has subset '" + s + "', which profile " + p.name + " " +
           (s == p.train_subset ? "trains" : "tests") + " on (gt.json has: " + list + ")");
}

// One split file of the layout: its mode (train/test), the subset it becomes, its feature folder, its videos.
struct Part {
  std::string mode, subset, folder;
  std::vector<std::string> names;
};

// The concat layout's test folder: the profile's own (validation for ActivityNet), else the other one.
std::string find_concat_test_folder(const std::string& root, const DatasetProfile& p) {
  const std::string preferred = concat_test_folder(p), other = preferred == "test" ? "validation" : "test";
  std::error_code ec;
  if (fs::is_directory(root + "/" + preferred, ec)) return preferred;
  if (fs::is_directory(root + "/" + other, ec)) return other;
  fail(root + ": neither test/ nor validation/ exists (the concat layout: train/ and test/ or validation/)");
}

// The feature files of one video: one per stream (split layout) or one file (joint, concat).
std::vector<std::string> feature_files(const ImportOptions& o, const DatasetProfile& profile, const Part& part,
                                       const std::string& video) {
  if (o.layout == "concat") return {o.root + "/" + part.folder + "/" + video + ".npy"};
  const std::string dir = o.root + "/features/" + part.mode;
  if (o.layout == "joint") return {dir + "/" + video + ".npy"};
  std::vector<std::string> files;
  for (const FeatureStream& s : profile.streams) files.push_back(dir + "/" + s.name + "/" + video + ".npy");
  return files;
}

// Reads both split files and checks that each video has a gt entry and its feature files.
std::vector<Part> read_parts(const ImportOptions& o, const DatasetProfile& profile, const json& db,
                             const std::string& gt_path, std::set<std::string>& in_split) {
  std::vector<Part> parts = {{"train", profile.train_subset, "train", {}}, {"test", profile.test_subset, "test", {}}};
  if (o.layout == "concat") parts[1].folder = find_concat_test_folder(o.root, profile);
  std::error_code ec;
  for (Part& p : parts) {
    const std::string split_path = o.root + "/split_" + p.mode + ".txt";
    p.names = read_split_file(split_path);
    for (const std::string& n : p.names) {
      if (!in_split.insert(n).second) fail(split_path + ": video '" + n + "' is in both split files");
      if (!db.contains(n)) fail(gt_path + ": no entry for video '" + n + "' (listed in " + split_path + ")");
      for (const std::string& f : feature_files(o, profile, p, n))
        if (!fs::is_regular_file(f, ec))
          fail(f + ": missing (video '" + n + "' is listed in split_" + p.mode + ".txt)");
    }
  }
  return parts;
}

std::string stream_label(const std::string& name) { return name == "rgb" ? "RGB" : name; }

// One video's feature rows, the streams side by side; cuts them to the shortest stream when `truncate`
// (noted in `truncated`), else fails naming both lengths.
std::vector<float> read_video_features(const ImportOptions& o, const DatasetProfile& profile, const Part& part,
                                       const std::string& n, std::vector<std::string>& truncated,
                                       std::vector<std::string>& float64_files) {
  const std::vector<std::string> files = feature_files(o, profile, part, n);
  const size_t W = static_cast<size_t>(profile.feature_dim());
  if (files.size() == 1) {
    NpyMatrix m = read_npy(files[0], W);
    if (m.was_float64) float64_files.push_back(files[0]);
    if (m.rows == 0) fail(files[0] + ": video '" + n + "' has no feature rows (shorter than one segment)");
    return std::move(m.data);
  }
  std::vector<NpyMatrix> parts;
  size_t T = SIZE_MAX;
  for (size_t s = 0; s < files.size(); ++s) {
    parts.push_back(read_npy(files[s], static_cast<size_t>(profile.streams[s].width)));
    if (parts.back().was_float64) float64_files.push_back(files[s]);
    if (parts.back().rows == 0) fail(files[s] + ": video '" + n + "' has no feature rows (shorter than one segment)");
    T = std::min(T, parts.back().rows);
  }
  for (size_t s = 1; s < parts.size(); ++s)
    if (parts[s].rows != parts[0].rows) {
      const std::string a = profile.streams[0].name, b = profile.streams[s].name;
      if (!o.truncate)
        fail(o.root + "/features/" + part.mode + "/{" + a + "," + b + "}/" + n + ".npy: " + stream_label(a) + " has " +
             std::to_string(parts[0].rows) + " segments but " + stream_label(b) + " has " +
             std::to_string(parts[s].rows) + " (use --truncate to cut both to the shorter)");
      truncated.push_back(n + " (" + std::to_string(parts[0].rows) + " vs " + std::to_string(parts[s].rows) + ")");
      break;
    }
  std::vector<float> joint(T * W);
  for (size_t t = 0, col = 0; t < T; ++t, col = 0)
    for (size_t s = 0; s < parts.size(); ++s) {
      const size_t w = parts[s].cols;
      std::copy_n(parts[s].data.data() + t * w, w, joint.data() + t * W + col);
      col += w;
    }
  return joint;
}

// The VideoInfo of one split video (features read separately); warnings for gaps in gt.json.
VideoInfo split_video(const json& entry, const std::string& n, const Part& p, size_t T, const DatasetProfile& profile,
                      const std::vector<std::string>& classes, const std::string& gt_path, ImportReport& report) {
  VideoInfo v;
  v.name = n;
  v.subset = p.subset;
  v.instances = parse_annotations(entry, n, classes, gt_path);
  v.num_segments = static_cast<int>(T);
  if (entry.contains("duration") && entry["duration"].is_number() && entry["duration"].get<double>() > 0) {
    v.duration = entry["duration"].get<double>();
  } else {
    v.duration = static_cast<double>(T) * profile.segment_frames / profile.fps;
    report.warnings.push_back("video '" + n + "': no duration in gt.json, using num_segments * " +
                              std::to_string(profile.segment_frames) + "/" + json(profile.fps).dump() + " s");
  }
  if (entry.contains("subset") && entry["subset"].is_string() && entry["subset"].get<std::string>() != p.subset)
    report.warnings.push_back("video '" + n + "': gt.json says subset '" + entry["subset"].get<std::string>() +
                              "' but it is in split_" + p.mode + ".txt; using '" + p.subset + "'");
  return v;
}

// gt entries outside both splits still count in the official evaluation: kept, without features.
void add_annotation_only(const json& db, const std::set<std::string>& in_split, const std::vector<std::string>& classes,
                         const std::string& gt_path, ImportSink& sink) {
  for (auto it = db.begin(); it != db.end(); ++it) {
    if (in_split.count(it.key())) continue;
    VideoInfo v;
    v.name = it.key();
    const json& entry = it.value();
    v.subset = entry.contains("subset") && entry["subset"].is_string() ? entry["subset"].get<std::string>() : "none";
    if (v.subset.empty()) v.subset = "none";
    v.duration = entry.contains("duration") && entry["duration"].is_number() ? entry["duration"].get<double>() : 0.0;
    if (!(v.duration >= 0)) v.duration = 0;
    v.instances = parse_annotations(entry, v.name, classes, gt_path);
    sink.add_annotation_only(v);
  }
}

void add_summary_warnings(const std::vector<std::string>& truncated, const std::vector<std::string>& float64_files,
                          ImportReport& report) {
  if (!truncated.empty()) {
    std::string list;
    for (const std::string& s : truncated) list += (list.empty() ? "" : ", ") + s;
    report.warnings.push_back("--truncate: cut " + std::to_string(truncated.size()) +
                              " video(s) to the shorter stream: " + list);
  }
  if (!float64_files.empty())
    report.warnings.push_back(std::to_string(float64_files.size()) + " float64 file(s) converted to float32, e.g. " +
                              float64_files[0]);
}

}  // namespace

std::string concat_test_folder(const DatasetProfile& profile) {
  return profile.test_subset == "validation" ? "validation" : "test";
}

DatasetProfile import_profile(const ImportOptions& o) {
  DatasetProfile p = DatasetProfile::named(o.profile);
  if (o.stream_width < 0 || o.stream_width > 65536) fail("--stream-width: must be in [1, 65536]");
  if (o.stream_width > 0) p.streams = {{"rgb", o.stream_width}, {"flow", o.stream_width}};
  return p;
}

std::string resolved_classes_option(const std::string& option, const DatasetProfile& profile) {
  if (!option.empty()) return option;
  return profile.name == "thumos14" ? "thumos14" : "from-gt";
}

ImportSink::ImportSink(const ImportOptions& o, const DatasetProfile& profile, const std::vector<std::string>& classes,
                       DatasetWriter& writer, ImportReport& report, size_t total)
    : options_(o), writer_(writer), report_(report), checker_(o.root, profile, classes, true), total_(total) {}

void ImportSink::add(const VideoInfo& v, const float* rows) {
  checker_.video(v, rows);
  writer_.add_video(v, rows);
  ++report_.videos;
  report_.segments += static_cast<size_t>(v.num_segments);
  if (options_.progress) options_.progress(report_.videos, total_, report_.segments);
}

void ImportSink::add_annotation_only(const VideoInfo& v) {
  checker_.annotation_only(v);
  writer_.add_annotation_only(v);
  ++report_.annotation_only;
}

void ImportSink::finish() {
  std::vector<CheckFinding> f = checker_.finish();
  report_.findings.insert(report_.findings.end(), f.begin(), f.end());
}

ImportReport import_npy_root(const ImportOptions& o) {
  if (o.layout == "wtalc") return import_wtalc(o);
  if (o.layout != "split" && o.layout != "joint" && o.layout != "concat")
    fail("--layout: '" + o.layout + "' is not 'split', 'joint', 'concat' or 'wtalc'");
  const DatasetProfile profile = import_profile(o);
  std::error_code ec;
  if (o.root.empty()) fail("--root: required");
  if (!fs::is_directory(o.root, ec)) fail("--root " + o.root + ": no such directory");
  const std::string gt_path = o.root + "/gt.json";
  const json gt = read_json_file(gt_path);
  if (!gt.is_object() || !gt.contains("database") || !gt["database"].is_object())
    fail(gt_path + ": missing the 'database' object (expected ActivityNet format)");
  const json& db = gt["database"];
  check_gt_subsets(db, profile, gt_path);
  const std::vector<std::string> classes = classes_for(resolved_classes_option(o.classes, profile), db, gt_path);

  ImportReport report;
  std::set<std::string> in_split;
  const std::vector<Part> parts = read_parts(o, profile, db, gt_path, in_split);
  // Validate all annotations before reading any features, so label errors come fast.
  for (auto it = db.begin(); it != db.end(); ++it) parse_annotations(it.value(), it.key(), classes, gt_path);

  DatasetWriterOptions wo;
  wo.compression = o.compression;
  wo.source = "aicl_data import --root " + o.root + " --layout " + o.layout;
  wo.gt_version = gt.contains("version") && gt["version"].is_string() ? gt["version"].get<std::string>() : "";
  wo.profile = profile;
  DatasetWriter writer(o.out, classes, profile.feature_dim(), wo);
  ImportSink sink(o, profile, classes, writer, report, parts[0].names.size() + parts[1].names.size());

  std::vector<std::string> truncated, float64_files;
  const size_t W = static_cast<size_t>(profile.feature_dim());
  for (const Part& p : parts) {
    for (const std::string& n : p.names) {  // one video in memory at a time
      const std::vector<float> joint = read_video_features(o, profile, p, n, truncated, float64_files);
      const VideoInfo v = split_video(db[n], n, p, joint.size() / W, profile, classes, gt_path, report);
      sink.add(v, joint.data());
    }
  }
  add_annotation_only(db, in_split, classes, gt_path, sink);
  if (report.videos == 0) fail(o.root + ": the split files list no videos");
  sink.finish();
  writer.finish();
  add_summary_warnings(truncated, float64_files, report);
  return report;
}

namespace {

// Refuses datasets the npy layouts cannot hold: other subsets than the profile's two, a single stream in "split".
void check_exportable(const Dataset& ds, const std::string& layout) {
  if (layout != "split" && layout != "joint" && layout != "concat")
    fail("--layout: '" + layout + "' is not 'split', 'joint', 'concat' or 'wtalc'");
  const DatasetProfile& pr = ds.profile();
  if (layout == "split" && pr.streams.size() < 2)
    fail(ds.path() + ": the features are one stream ('" + pr.streams[0].name + "'); use --layout joint");
  for (size_t i = 0; i < ds.num_videos(); ++i) {
    const std::string& s = ds.video(i).subset;
    if (s != pr.train_subset && s != pr.test_subset)
      fail(ds.path() + ": video '" + ds.video(i).name + "' has subset '" + s + "'; the npy layout only has train (" +
           pr.train_subset + ") and test (" + pr.test_subset + ")");
  }
}

// The folder of one video's files in a layout ("train"/"test" mode; concat: train/ and test/ or validation/).
fs::path video_folder(const fs::path& root, const std::string& layout, const std::string& mode,
                      const DatasetProfile& pr) {
  if (layout == "concat") return root / (mode == "train" ? std::string("train") : concat_test_folder(pr));
  return root / "features" / mode;
}

void make_folders(const fs::path& root, const std::string& layout, const DatasetProfile& pr) {
  for (const std::string m : {"train", "test"}) {
    const fs::path dir = video_folder(root, layout, m, pr);
    fs::create_directories(dir);
    if (layout == "split")
      for (const FeatureStream& st : pr.streams) fs::create_directories(dir / st.name);
  }
}

// Writes one video's files: the joint rows, or one file per stream.
size_t write_video_files(const fs::path& dir, const std::string& layout, const DatasetProfile& pr,
                         const std::string& name, const std::vector<float>& feat, size_t T, size_t D) {
  if (layout != "split") {
    write_file((dir / (name + ".npy")).string(), npy_bytes(feat.data(), T, D));
    return 1;
  }
  std::vector<float> part_rows;
  size_t col = 0;
  for (const FeatureStream& st : pr.streams) {
    const size_t w = static_cast<size_t>(st.width);
    part_rows.resize(T * w);
    for (size_t t = 0; t < T; ++t) std::copy_n(feat.data() + t * D + col, w, part_rows.data() + t * w);
    write_file((dir / st.name / (name + ".npy")).string(), npy_bytes(part_rows.data(), T, w));
    col += w;
  }
  return pr.streams.size();
}

// Writes the whole npy tree under `root` (an empty directory); returns the file count.
size_t write_npy_tree(const Dataset& ds, const fs::path& root, const std::string& layout) {
  const DatasetProfile& pr = ds.profile();
  make_folders(root, layout, pr);
  const size_t D = static_cast<size_t>(ds.feature_dim());
  std::string split[2];
  std::vector<float> feat;
  size_t files = 0;
  for (size_t i = 0; i < ds.num_videos(); ++i) {  // one video in memory at a time
    const VideoInfo& v = ds.video(i);
    const int part = v.subset == pr.train_subset ? 0 : 1;
    split[part] += v.name + "\n";
    const size_t T = static_cast<size_t>(v.num_segments);
    feat.resize(T * D);
    ds.read_features(i, feat.data());
    files += write_video_files(video_folder(root, layout, part == 0 ? "train" : "test", pr), layout, pr, v.name, feat,
                               T, D);
  }
  write_file((root / "split_train.txt").string(), split[0]);
  write_file((root / "split_test.txt").string(), split[1]);
  write_file((root / "gt.json").string(), ds.ground_truth_json().dump() + "\n");
  return files + 3;
}

}  // namespace

void write_directory_atomically(const std::string& out_dir, const std::function<void(const fs::path&)>& fill) {
  std::error_code ec;
  fs::path out(out_dir);
  if (out_dir.empty()) fail("--out: required");
  bool replace_empty = false;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec) || !fs::is_empty(out, ec))
      fail("--out " + out_dir + ": already exists and is not an empty directory");
    replace_empty = true;
  }
  if (out.has_parent_path() && !fs::is_directory(out.parent_path(), ec))
    fail("--out " + out_dir + ": parent directory does not exist");
  // A directory cannot be renamed over another atomically like AtomicFile does for files, so the tree is
  // built in a temporary sibling directory that is removed on any failure.
  const fs::path tmp = fs::path(out_dir + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp);
    fill(tmp);
    if (replace_empty) fs::remove(out);
    fs::rename(tmp, out);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    fail("--out " + out_dir + ": " + e.code().message() + " (" + e.path1().string() + ")");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fsync_parent_directory(out_dir);
}

size_t export_npy_root(const Dataset& ds, const std::string& out_dir, const std::string& layout) {
  check_exportable(ds, layout);
  size_t files = 0;
  write_directory_atomically(out_dir, [&](const fs::path& tmp) { files = write_npy_tree(ds, tmp, layout); });
  return files;
}

}  // namespace aicl
