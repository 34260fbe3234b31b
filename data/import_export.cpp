// Conversion between the aicl dataset file and the .npy feature layout used by AICL, CoLA, BaS-Net and ASL.
#include "data/import_export.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/error.h"
#include "core/base/io.h"
#include "data/npy.h"

namespace aicl {
namespace fs = std::filesystem;

namespace {

constexpr size_t kStreamDim = 1024;

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

void write_plain_file(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail(path + ": cannot write (" + std::strerror(errno) + ")");
  size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
  int rc = std::fclose(f);
  if (n != bytes.size() || rc != 0) fail(path + ": write failed (" + std::strerror(errno) + ")");
}

}  // namespace

ImportReport import_npy_root(const ImportOptions& o) {
  if (o.layout != "split" && o.layout != "joint") fail("--layout: '" + o.layout + "' is not 'split' or 'joint'");
  std::error_code ec;
  if (o.root.empty()) fail("--root: required");
  if (!fs::is_directory(o.root, ec)) fail("--root " + o.root + ": no such directory");
  const std::string gt_path = o.root + "/gt.json";
  const json gt = read_json_file(gt_path);
  if (!gt.is_object() || !gt.contains("database") || !gt["database"].is_object())
    fail(gt_path + ": missing the 'database' object (expected ActivityNet format)");
  const json& db = gt["database"];

  std::vector<std::string> classes;
  if (o.classes == "thumos14") {
    classes = thumos14_class_names();
  } else if (o.classes == "from-gt") {
    std::set<std::string> labels;
    for (auto it = db.begin(); it != db.end(); ++it)
      if (it.value().is_object() && it.value().contains("annotations") && it.value()["annotations"].is_array())
        for (const json& a : it.value()["annotations"])
          if (a.is_object() && a.contains("label") && a["label"].is_string()) labels.insert(a["label"].get<std::string>());
    classes.assign(labels.begin(), labels.end());
    if (classes.empty()) fail(gt_path + ": no labels found (--classes from-gt)");
  } else {
    fail("--classes: '" + o.classes + "' is not 'thumos14' or 'from-gt'");
  }

  ImportReport report;
  struct Part { std::string mode, subset; std::vector<std::string> names; };
  std::vector<Part> parts = {{"train", "validation", {}}, {"test", "test", {}}};
  std::set<std::string> in_split;
  for (Part& p : parts) {
    const std::string split_path = o.root + "/split_" + p.mode + ".txt";
    p.names = read_split_file(split_path);
    for (const std::string& n : p.names) {
      if (!in_split.insert(n).second) fail(split_path + ": video '" + n + "' is in both split files");
      if (!db.contains(n)) fail(gt_path + ": no entry for video '" + n + "' (listed in " + split_path + ")");
      const std::string dir = o.root + "/features/" + p.mode;
      std::vector<std::string> files = o.layout == "split"
                                           ? std::vector<std::string>{dir + "/rgb/" + n + ".npy", dir + "/flow/" + n + ".npy"}
                                           : std::vector<std::string>{dir + "/" + n + ".npy"};
      for (const std::string& f : files)
        if (!fs::is_regular_file(f, ec))
          fail(f + ": missing (video '" + n + "' is listed in split_" + p.mode + ".txt)");
    }
  }
  // Validate all annotations before reading any features, so label errors come fast.
  for (auto it = db.begin(); it != db.end(); ++it) parse_annotations(it.value(), it.key(), classes, gt_path);

  DatasetWriterOptions wo;
  wo.compression = o.compression;
  wo.source = "aicl_data import --root " + o.root + " --layout " + o.layout;
  wo.gt_version = gt.contains("version") && gt["version"].is_string() ? gt["version"].get<std::string>() : "";
  DatasetWriter writer(o.out, classes, static_cast<int>(2 * kStreamDim), wo);

  std::vector<std::string> truncated, float64_files;
  std::vector<float> joint;
  for (const Part& p : parts) {
    const std::string dir = o.root + "/features/" + p.mode;
    for (const std::string& n : p.names) {
      const json& entry = db[n];
      VideoInfo v;
      v.name = n;
      v.subset = p.subset;
      v.instances = parse_annotations(entry, n, classes, gt_path);
      size_t T = 0;
      if (o.layout == "split") {
        NpyMatrix rgb = read_npy(dir + "/rgb/" + n + ".npy", kStreamDim);
        NpyMatrix flow = read_npy(dir + "/flow/" + n + ".npy", kStreamDim);
        if (rgb.was_float64) float64_files.push_back(dir + "/rgb/" + n + ".npy");
        if (flow.was_float64) float64_files.push_back(dir + "/flow/" + n + ".npy");
        T = std::min(rgb.rows, flow.rows);
        if (rgb.rows != flow.rows) {
          if (!o.truncate)
            fail(dir + "/{rgb,flow}/" + n + ".npy: RGB has " + std::to_string(rgb.rows) + " segments but flow has " +
                 std::to_string(flow.rows) + " (use --truncate to cut both to the shorter)");
          truncated.push_back(n + " (" + std::to_string(rgb.rows) + " vs " + std::to_string(flow.rows) + ")");
        }
        joint.resize(T * 2 * kStreamDim);
        for (size_t t = 0; t < T; ++t) {
          std::copy_n(rgb.data.data() + t * kStreamDim, kStreamDim, joint.data() + t * 2 * kStreamDim);
          std::copy_n(flow.data.data() + t * kStreamDim, kStreamDim, joint.data() + t * 2 * kStreamDim + kStreamDim);
        }
      } else {
        NpyMatrix m = read_npy(dir + "/" + n + ".npy", 2 * kStreamDim);
        if (m.was_float64) float64_files.push_back(dir + "/" + n + ".npy");
        T = m.rows;
        joint = std::move(m.data);
      }
      if (T == 0) fail(dir + ": video '" + n + "' has no feature rows");
      v.num_segments = static_cast<int>(T);
      if (entry.contains("duration") && entry["duration"].is_number() && entry["duration"].get<double>() > 0) {
        v.duration = entry["duration"].get<double>();
      } else {
        v.duration = static_cast<double>(T) * 16.0 / 25.0;
        report.warnings.push_back("video '" + n + "': no duration in gt.json, using num_segments * 16/25 s");
      }
      if (entry.contains("subset") && entry["subset"].is_string() && entry["subset"].get<std::string>() != p.subset)
        report.warnings.push_back("video '" + n + "': gt.json says subset '" + entry["subset"].get<std::string>() +
                                  "' but it is in split_" + p.mode + ".txt; using '" + p.subset + "'");
      if (v.instances.empty()) report.warnings.push_back("video '" + n + "': no annotations (all labels 0)");
      for (size_t i = 0; i < joint.size(); ++i)
        if (!std::isfinite(joint[i]))
          fail(dir + ": video '" + n + "': non-finite feature value at segment " + std::to_string(i / (2 * kStreamDim)));
      writer.add_video(v, joint.data());
      ++report.videos;
      report.segments += T;
    }
  }
  // gt entries outside both splits still count in the official evaluation: keep them, without features.
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
    writer.add_annotation_only(v);
    ++report.annotation_only;
  }
  if (report.videos == 0) fail(o.root + ": the split files list no videos");
  writer.finish();

  if (!truncated.empty()) {
    std::string list;
    for (const std::string& s : truncated) list += (list.empty() ? "" : ", ") + s;
    report.warnings.push_back("--truncate: cut " + std::to_string(truncated.size()) +
                              " video(s) to the shorter stream: " + list);
  }
  if (!float64_files.empty())
    report.warnings.push_back(std::to_string(float64_files.size()) + " float64 file(s) converted to float32, e.g. " +
                              float64_files[0]);
  return report;
}

size_t export_npy_root(const Dataset& ds, const std::string& out_dir, const std::string& layout) {
  if (layout != "split" && layout != "joint") fail("--layout: '" + layout + "' is not 'split' or 'joint'");
  const int D = ds.feature_dim();
  if (layout == "split" && D % 2 != 0) fail(ds.path() + ": feature_dim " + std::to_string(D) + " is odd; use --layout joint");
  for (size_t i = 0; i < ds.num_videos(); ++i) {
    const std::string& s = ds.video(i).subset;
    if (s != "validation" && s != "test")
      fail(ds.path() + ": video '" + ds.video(i).name + "' has subset '" + s +
           "'; the npy layout only has train (validation) and test");
  }
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
  const fs::path tmp = fs::path(out_dir + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  size_t files = 0;
  try {
    const std::string modes[2] = {"train", "test"};
    for (const std::string& m : modes) {
      if (layout == "split") {
        fs::create_directories(tmp / "features" / m / "rgb");
        fs::create_directories(tmp / "features" / m / "flow");
      } else {
        fs::create_directories(tmp / "features" / m);
      }
    }
    std::string split[2];
    std::vector<float> feat, half;
    const size_t T_half = static_cast<size_t>(D / 2);
    for (size_t i = 0; i < ds.num_videos(); ++i) {
      const VideoInfo& v = ds.video(i);
      const int part = v.subset == "validation" ? 0 : 1;
      split[part] += v.name + "\n";
      feat.resize(static_cast<size_t>(v.num_segments) * static_cast<size_t>(D));
      ds.read_features(i, feat.data());
      const fs::path dir = tmp / "features" / modes[part];
      const size_t T = static_cast<size_t>(v.num_segments);
      if (layout == "joint") {
        write_plain_file((dir / (v.name + ".npy")).string(), npy_bytes(feat.data(), T, static_cast<size_t>(D)));
        ++files;
        continue;
      }
      half.resize(T * T_half);
      for (int s = 0; s < 2; ++s) {
        for (size_t t = 0; t < T; ++t)
          std::copy_n(feat.data() + t * static_cast<size_t>(D) + static_cast<size_t>(s) * T_half, T_half, half.data() + t * T_half);
        write_plain_file((dir / (s == 0 ? "rgb" : "flow") / (v.name + ".npy")).string(), npy_bytes(half.data(), T, T_half));
        ++files;
      }
    }
    write_plain_file((tmp / "split_train.txt").string(), split[0]);
    write_plain_file((tmp / "split_test.txt").string(), split[1]);
    write_plain_file((tmp / "gt.json").string(), ds.ground_truth_json().dump() + "\n");
    files += 3;
    if (replace_empty) fs::remove(out);
    fs::rename(tmp, out);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    fail("--out " + out_dir + ": " + e.code().message() + " (" + e.path1().string() + ")");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return files;
}

}  // namespace aicl
