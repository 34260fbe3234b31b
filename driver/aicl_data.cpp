// aicl_data: make, convert, check and look at dataset files (import/export the feature layouts, synth, check, inspect).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "core/base/cli.h"
#include "core/base/error.h"
#include "core/base/io.h"
#include "data/dataset.h"
#include "data/check.h"
#include "data/import_export.h"
#include "data/synth.h"
#include "data/wtalc.h"

namespace {

const char* kUsage = R"(usage: aicl_data <command> [options]

Commands:
  import  --root DIR --out D.h5 [--profile thumos14|anet12|anet13] [--layout split|joint|concat|wtalc] [--truncate]
          [--classes thumos14|from-gt] [--name NAME] [--stream-width W] [--compress 0-9]
          Reads a feature layout into one dataset file and records the dataset profile (subsets, streams, fps,
          tIoUs, post-processing, segment counts):
            split   DIR/features/{train,test}/{rgb,flow}/<video>.npy, [T,1024] each (AICL, CoLA, BaS-Net, ASL)
            joint   DIR/features/{train,test}/<video>.npy, [T,2048]
            concat  DIR/train/<video>.npy and DIR/test/ or DIR/validation/<video>.npy, [T,2048], RGB first
                    (ACM-Net, FTCL, SAL_ActivityNet)
            wtalc   DIR/<Name>-I3D-JOINTFeatures.npy (an object array of [T,2048]) and DIR/<Name>-Annotations/
                    (videoname, subset, segments, labels, duration, classlist .npy) (W-TALC, CO2-Net, DELU);
                    the pickles are read without executing anything; --name picks <Name> among several
          The npy layouts also need DIR/gt.json (ActivityNet format) and DIR/split_{train,test}.txt, which become
          the profile's train and test subsets (thumos14: validation/test, anet: training/validation). --classes
          defaults to thumos14 for the thumos14 profile and to the sorted labels of gt.json (from-gt) otherwise.
          --truncate cuts RGB/flow of different lengths to the shorter one (with a warning) instead of failing.
          --stream-width W reads RGB and flow of W columns each instead of the profile's 1024.
          Every video is checked as it is read (see check); an error stops the import and nothing is written.
  export  --in D.h5 --out DIR [--layout split|joint|concat|wtalc] [--name NAME]
          Writes a layout above (+ gt.json, split files; wtalc: the annotation arrays) into DIR, which must not
          exist or be empty, so the official code can run on it. float32 values and NumPy bytes are exact.
  synth   --out D.h5 [--profile thumos14|anet12|anet13] [--train N] [--test M] [--seed S] [--max-segments L]
          [--anno DIR] [--difficulty X (0.5)] [--classes N] [--stream-width W (1024)] [--compress 0-9]
          A synthetic dataset (RGB = appearance + venue, flow = motion, context without motion around actions,
          noise, values >= 0). thumos14 (default): THUMOS14-like, 200 + 210 videos, the 20 real class names
          (--classes N takes the first N or adds class_20, ...). anet12/anet13: ActivityNet-like, 600 + 300
          videos of 100-200 segments, one class each with 1-3 long instances, 100/200 classes class_000, ...
          --stream-width W makes each stream W columns wide. --anno DIR takes names, durations, instances and
          classes from real annotations (DIR/gt.json, DIR/split_{train,test}.txt; --train/--test then default to
          the whole splits), e.g. --profile anet13 --anno ../shared/data/anet13.
  check   D.h5 [--limit N]
          Reads every video and prints one line per finding, naming the video: T against duration x fps /
          frames per segment (off by more than one segment), a width other than 1024/2048, a stream padded
          with zeros, constant or all-zero videos, videos without labels, labels without instances and
          ground truth without features (warnings); NaN/Inf and unlabeled training videos (errors). --limit N
          prints at most N findings of each kind. Exit status 1 when there are errors.
  inspect D.h5 [--json]
          Counts, lengths (min/median/max), classes, instances per class, file size, the dataset profile.
          A file made before profiles existed reads as THUMOS14 (a note on stderr says so).

Examples:
  aicl_data synth --out synth.h5
  aicl_data synth --out small.h5 --train 40 --test 40 --max-segments 400 --seed 1
  aicl_data synth --out real_layout.h5 --anno ../shared/data/thumos14
  aicl_data synth --out anet13.h5 --profile anet13 --anno ../shared/data/anet13 --stream-width 64
  aicl_data import --root /data/THUMOS14 --out thumos14.h5
  aicl_data import --root /data/ActivityNet13 --layout concat --profile anet13 --out anet13.h5
  aicl_data import --root /data/wtalc --layout wtalc --profile anet12 --out anet12.h5
  aicl_data export --in small.h5 --out small_npy
  aicl_data check anet13.h5 --limit 5
  aicl_data inspect thumos14.h5 --json

Errors print one line "aicl_data: error: ..." and exit with status 2; outputs are written atomically.
)";

int count_positional_none(const aicl::Flags& f, const std::string& cmd) {
  if (!f.positional().empty()) aicl::fail(cmd + ": unexpected argument '" + f.positional()[0] + "' (see --help)");
  return 0;
}

// Prints findings, at most `limit` of each kind (0 = all), then how many of each kind were left out.
void print_findings(const std::vector<aicl::CheckFinding>& findings, size_t limit, const std::string& more_hint) {
  std::map<std::string, size_t> shown, left;
  for (const aicl::CheckFinding& f : findings) {
    if (limit && shown[f.kind] >= limit) {
      ++left[f.kind];
      continue;
    }
    ++shown[f.kind];
    std::printf("aicl_data: %s: %s\n", f.error ? "error" : "warning", f.message.c_str());
  }
  for (const auto& kv : left)
    std::printf("aicl_data: ... and %zu more '%s' findings%s\n", kv.second, kv.first.c_str(), more_hint.c_str());
}

// A progress line on stderr at every 10% and at least every 15 s once an import has run 5 s (imports of 14k
// videos take minutes; quick ones stay quiet, so that a failure is still one line), and one at the end.
std::function<void(size_t, size_t, size_t)> progress_printer() {
  using clock = std::chrono::steady_clock;
  auto start = std::make_shared<clock::time_point>(clock::now());
  auto last = std::make_shared<clock::time_point>(clock::now());
  auto decile = std::make_shared<size_t>(0);
  return [=](size_t done, size_t total, size_t segments) {
    const auto now = clock::now();
    const size_t d = total ? done * 10 / total : 10;
    const bool quiet = now - *start < std::chrono::seconds(5) || (d == *decile && now - *last < std::chrono::seconds(15));
    if (done < total && quiet) return;
    *decile = d;
    *last = now;
    std::fprintf(stderr, "aicl_data: import: %zu/%zu videos (%zu%%), %zu segments, %.1f s\n", done, total,
                 total ? done * 100 / total : 100, segments, std::chrono::duration<double>(now - *start).count());
  };
}

int cmd_import(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2, {"root", "out", "layout", "classes", "compress", "profile", "name", "stream-width"},
                {"truncate"});
  count_positional_none(f, "import");
  aicl::ImportOptions o;
  o.root = f.required("root");
  o.out = f.required("out");
  o.layout = f.str("layout", "split");
  o.classes = f.str("classes", "");
  o.truncate = f.has("truncate");
  o.compression = f.integer("compress", 0, 0, 9);
  o.profile = f.str("profile", "thumos14");
  o.name = f.str("name", "");
  o.stream_width = f.integer("stream-width", 0, 1, 65536);
  aicl::DatasetProfile::named(o.profile);  // an unknown name fails before anything is read
  o.progress = progress_printer();
  aicl::ImportReport r = aicl::import_npy_root(o);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "aicl_data: warning: %s\n", w.c_str());
  print_findings(r.findings, 10, " (aicl_data check " + o.out + " lists them all)");
  std::printf("wrote %s: %zu videos, %zu segments, %zu annotation-only videos\n", o.out.c_str(), r.videos, r.segments,
              r.annotation_only);
  return 0;
}

int cmd_export(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2, {"in", "out", "layout", "name"}, {});
  count_positional_none(f, "export");
  aicl::Dataset ds(f.required("in"));
  const std::string out = f.required("out"), layout = f.str("layout", "split");
  std::vector<std::string> warnings;
  const size_t files = layout == "wtalc" ? aicl::export_wtalc(ds, out, f.str("name", ""), &warnings)
                                         : aicl::export_npy_root(ds, out, layout);
  for (const std::string& w : warnings) std::fprintf(stderr, "aicl_data: warning: %s\n", w.c_str());
  std::printf("wrote %s: %zu files (%zu videos)\n", out.c_str(), files, ds.num_videos());
  return 0;
}

int cmd_check(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2, {"limit"}, {});
  if (f.positional().size() != 1) aicl::fail("check: expected one dataset file (see --help)");
  aicl::Dataset ds(f.positional()[0]);
  if (!ds.profile_note().empty()) std::fprintf(stderr, "aicl_data: note: %s\n", ds.profile_note().c_str());
  const aicl::CheckReport r = aicl::check_dataset(ds);
  print_findings(r.findings, static_cast<size_t>(f.integer("limit", 0, 0, 1 << 30)), "");
  std::printf("check %s: %zu videos, %zu errors, %zu warnings\n", ds.path().c_str(), r.videos, r.errors, r.warnings);
  return r.errors ? 1 : 0;
}

int cmd_synth(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2,
                {"out", "train", "test", "seed", "max-segments", "anno", "difficulty", "compress", "classes",
                 "stream-width", "profile"},
                {});
  count_positional_none(f, "synth");
  aicl::SynthOptions o;
  const std::string out = f.required("out");
  o.anno_dir = f.str("anno", "");
  o.profile = f.str("profile", "thumos14");
  const aicl::DatasetProfile profile = aicl::DatasetProfile::named(o.profile);
  const bool thumos = o.profile == "thumos14";
  const int default_count_train = !o.anno_dir.empty() ? -1 : thumos ? 200 : 600;
  const int default_count_test = !o.anno_dir.empty() ? -1 : thumos ? 210 : 300;
  o.train_videos = f.integer("train", default_count_train, 0, 1000000);
  o.test_videos = f.integer("test", default_count_test, 0, 1000000);
  o.seed = static_cast<uint64_t>(f.integer("seed", 0, 0, 2147483647));
  o.max_segments = f.integer("max-segments", 0, 0, 1 << 24);
  o.difficulty = f.real("difficulty", o.difficulty, 0.0, 100.0);
  o.compression = f.integer("compress", 0, 0, 9);
  o.num_classes = f.integer("classes", thumos ? 20 : o.profile == "anet12" ? 100 : 200, 1, aicl::kMaxSynthClasses);
  o.stream_dim = f.integer("stream-width", 1024, 16, 65536);
  if (!o.anno_dir.empty() && !std::filesystem::is_directory(o.anno_dir))
    aicl::fail("--anno " + o.anno_dir + ": no such directory");
  size_t segments = aicl::write_synth(o, out);
  aicl::Dataset ds(out);
  std::printf("wrote %s: %zu videos (%zu %s, %zu %s), %zu segments\n", out.c_str(), ds.num_videos(),
              ds.subset_indices(profile.train_subset).size(), profile.train_subset.c_str(),
              ds.subset_indices(profile.test_subset).size(), profile.test_subset.c_str(), segments);
  return 0;
}

template <typename T>
T median_of(std::vector<T> v) {
  if (v.empty()) return T{};
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Per-subset statistics and instances per class, in the order subsets first appear.
void add_subset_stats(const aicl::Dataset& ds, const std::vector<std::string>& subsets, aicl::json& j) {
  const auto& classes = ds.class_names();
  aicl::json per_class = aicl::json::object();
  for (const auto& c : classes) per_class[c] = aicl::json::object();
  for (const std::string& s : subsets) {
    std::vector<int> lengths, classes_per_video, inst_per_video;
    std::vector<double> inst_len;
    std::vector<int> count(classes.size(), 0);
    size_t segs = 0;
    for (size_t i : ds.subset_indices(s)) {
      const aicl::VideoInfo& v = ds.video(i);
      lengths.push_back(v.num_segments);
      segs += static_cast<size_t>(v.num_segments);
      inst_per_video.push_back(static_cast<int>(v.instances.size()));
      int nc = 0;
      for (float l : v.labels) nc += l > 0;
      classes_per_video.push_back(nc);
      for (const aicl::Instance& in : v.instances) {
        inst_len.push_back(in.end - in.start);
        ++count[static_cast<size_t>(in.label)];
      }
    }
    j["subsets"][s] = {{"videos", lengths.size()},
                       {"segments", segs},
                       {"length_min", *std::min_element(lengths.begin(), lengths.end())},
                       {"length_median", median_of(lengths)},
                       {"length_max", *std::max_element(lengths.begin(), lengths.end())},
                       {"instances", inst_len.size()},
                       {"instances_per_video_median", median_of(inst_per_video)},
                       {"instance_seconds_median", median_of(inst_len)},
                       {"classes_per_video_max", *std::max_element(classes_per_video.begin(), classes_per_video.end())}};
    for (size_t c = 0; c < classes.size(); ++c) per_class[classes[c]][s] = count[c];
  }
  j["instances_per_class"] = per_class;
}

void print_inspect_text(const aicl::Dataset& ds, const std::vector<std::string>& subsets, const aicl::json& j) {
  const double mb = j["bytes"].get<double>() / 1e6;
  std::printf("%s: %.1f MB, aicl dataset format v%d, feature_dim %d, %g fps, %d frames/segment, deflate %d\n",
              ds.path().c_str(), mb, ds.format_version(), ds.feature_dim(), ds.fps(), ds.segment_frames(),
              ds.compression_level());
  if (!ds.source().empty()) std::printf("source: %s\n", ds.source().c_str());
  std::printf("profile%s: %s\n", ds.profile_note().empty() ? "" : " (not recorded, assumed)",
              ds.profile().describe().c_str());
  std::printf("%zu videos, %zu segments, %zu classes\n", ds.num_videos(), ds.total_segments(), ds.class_names().size());
  for (const std::string& s : subsets) {
    const auto& e = j["subsets"][s];
    std::printf("  %-10s %4d videos, %7d segments, length min/median/max %d/%d/%d, %d instances "
                "(median %.1f s, %d per video), up to %d classes per video\n",
                s.c_str(), e["videos"].get<int>(), e["segments"].get<int>(), e["length_min"].get<int>(),
                e["length_median"].get<int>(), e["length_max"].get<int>(), e["instances"].get<int>(),
                e["instance_seconds_median"].get<double>(), e["instances_per_video_median"].get<int>(),
                e["classes_per_video_max"].get<int>());
  }
  if (!ds.annotation_only_videos().empty())
    std::printf("  %zu annotation-only videos (ground truth without features), %d instances\n",
                ds.annotation_only_videos().size(), j["annotation_only"]["instances"].get<int>());
  std::printf("instances per class:");
  for (const std::string& s : subsets) std::printf(" %10s", s.c_str());
  std::printf("\n");
  for (const auto& c : ds.class_names()) {
    std::printf("  %-18s", c.c_str());
    for (const std::string& s : subsets) std::printf(" %10d", j["instances_per_class"][c][s].get<int>());
    std::printf("\n");
  }
}

int cmd_inspect(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2, {}, {"json"});
  if (f.positional().size() != 1) aicl::fail("inspect: expected one dataset file (see --help)");
  const std::string path = f.positional()[0];
  aicl::Dataset ds(path);
  if (!ds.profile_note().empty()) std::fprintf(stderr, "aicl_data: note: %s\n", ds.profile_note().c_str());
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);

  aicl::json j;
  j["file"] = path;
  j["bytes"] = ec ? 0 : bytes;
  j["format_version"] = ds.format_version();
  j["feature_dim"] = ds.feature_dim();
  j["fps"] = ds.fps();
  j["segment_frames"] = ds.segment_frames();
  j["compression"] = ds.compression_level();
  j["source"] = ds.source();
  j["gt_version"] = ds.gt_version();
  j["profile"] = ds.profile().to_json();
  j["profile_recorded"] = ds.profile_note().empty();
  j["classes"] = ds.class_names();
  j["num_videos"] = ds.num_videos();
  j["total_segments"] = ds.total_segments();
  std::vector<std::string> subsets;
  for (size_t i = 0; i < ds.num_videos(); ++i)
    if (std::find(subsets.begin(), subsets.end(), ds.video(i).subset) == subsets.end()) subsets.push_back(ds.video(i).subset);
  add_subset_stats(ds, subsets, j);
  size_t ao_inst = 0;
  for (const auto& v : ds.annotation_only_videos()) ao_inst += v.instances.size();
  j["annotation_only"] = {{"videos", ds.annotation_only_videos().size()}, {"instances", ao_inst}};

  if (f.has("json")) std::cout << j.dump(1) << "\n";
  else print_inspect_text(ds, subsets, j);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return aicl::run_cli("aicl_data", [&]() -> int {
    if (argc < 2) aicl::fail("missing command (import, export, synth, check, inspect; see --help)");
    const std::string cmd = argv[1];
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h" || a == "help") {
        std::fputs(kUsage, stdout);
        return 0;
      }
    }
    if (cmd == "import") return cmd_import(argc, argv);
    if (cmd == "export") return cmd_export(argc, argv);
    if (cmd == "synth") return cmd_synth(argc, argv);
    if (cmd == "inspect") return cmd_inspect(argc, argv);
    if (cmd == "check") return cmd_check(argc, argv);
    aicl::fail("unknown command '" + cmd + "' (expected import, export, synth, check or inspect; see --help)");
  });
}
