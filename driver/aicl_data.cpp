// aicl_data: make, convert and look at dataset files (import/export the npy layout, synth, inspect).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "core/base/cli.h"
#include "core/base/error.h"
#include "core/base/io.h"
#include "data/dataset.h"
#include "data/import_export.h"
#include "data/synth.h"

namespace {

const char* kUsage = R"(usage: aicl_data <command> [options]

Commands:
  import  --root DIR --out D.h5 [--layout split|joint] [--truncate] [--classes thumos14|from-gt] [--compress 0-9]
          [--profile thumos14]
          Reads the feature layout of AICL/CoLA/BaS-Net/ASL: DIR/features/{train,test}/{rgb,flow}/<video>.npy
          (float32/float64 [T,1024] each; --layout joint: DIR/features/{train,test}/<video>.npy [T,2048]),
          DIR/gt.json (ActivityNet format) and DIR/split_{train,test}.txt. split_train.txt becomes subset
          "validation" (the official training split), split_test.txt "test". --truncate cuts RGB/flow of
          different lengths to the shorter one (with a warning) instead of failing. The file records the
          dataset profile (subsets, streams, fps, tIoUs, post-processing; only thumos14 exists so far).
  export  --in D.h5 --out DIR [--layout split|joint]
          Writes the same npy layout (+ gt.json, split files) into DIR, which must not exist or be empty,
          so the official PyTorch code can run on it. float32 values and NumPy header bytes are exact.
  synth   --out D.h5 [--train N] [--test M] [--seed S] [--max-segments L] [--anno DIR] [--difficulty X (0.5)]
          [--classes N (20)] [--stream-width W (1024)] [--compress 0-9]
          A THUMOS14-like synthetic dataset (RGB = appearance + venue, flow = motion, context without motion
          around actions, noise, values >= 0). Defaults: 200 + 210 videos, seed 0, no length cap, the 20 real
          class names, RGB and flow 1024 wide each. --classes N takes the first N THUMOS14 names (N <= 20)
          or adds class_20, class_21, ...; --stream-width W makes each stream W columns wide. --anno DIR
          takes names, durations and instances from real annotations (DIR/gt.json, DIR/split_{train,test}.txt;
          --train/--test then default to the whole splits). Records THUMOS14's profile with W-wide streams.
  inspect D.h5 [--json]
          Counts, lengths (min/median/max), classes, instances per class, file size, the dataset profile.
          A file made before profiles existed reads as THUMOS14 (a note on stderr says so).

Examples:
  aicl_data synth --out synth.h5
  aicl_data synth --out small.h5 --train 40 --test 40 --max-segments 400 --seed 1
  aicl_data synth --out real_layout.h5 --anno ../shared/data/thumos14
  aicl_data import --root /data/THUMOS14 --out thumos14.h5
  aicl_data export --in small.h5 --out small_npy
  aicl_data inspect thumos14.h5 --json

Errors print one line "aicl_data: error: ..." and exit with status 2; outputs are written atomically.
)";

int count_positional_none(const aicl::Flags& f, const std::string& cmd) {
  if (!f.positional().empty()) aicl::fail(cmd + ": unexpected argument '" + f.positional()[0] + "' (see --help)");
  return 0;
}

int cmd_import(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2, {"root", "out", "layout", "classes", "compress", "profile"}, {"truncate"});
  count_positional_none(f, "import");
  aicl::ImportOptions o;
  o.root = f.required("root");
  o.out = f.required("out");
  o.layout = f.str("layout", "split");
  o.classes = f.str("classes", "thumos14");
  o.truncate = f.has("truncate");
  o.compression = f.integer("compress", 0, 0, 9);
  o.profile = f.str("profile", "thumos14");
  aicl::ImportReport r = aicl::import_npy_root(o);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "aicl_data: warning: %s\n", w.c_str());
  std::printf("wrote %s: %zu videos, %zu segments, %zu annotation-only videos\n", o.out.c_str(), r.videos, r.segments,
              r.annotation_only);
  return 0;
}

int cmd_export(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2, {"in", "out", "layout"}, {});
  count_positional_none(f, "export");
  aicl::Dataset ds(f.required("in"));
  const std::string out = f.required("out");
  size_t files = aicl::export_npy_root(ds, out, f.str("layout", "split"));
  std::printf("wrote %s: %zu files (%zu videos)\n", out.c_str(), files, ds.num_videos());
  return 0;
}

int cmd_synth(int argc, char** argv) {
  aicl::Flags f(argc, argv, 2,
                {"out", "train", "test", "seed", "max-segments", "anno", "difficulty", "compress", "classes",
                 "stream-width"},
                {});
  count_positional_none(f, "synth");
  aicl::SynthOptions o;
  const std::string out = f.required("out");
  o.anno_dir = f.str("anno", "");
  const int default_count_train = o.anno_dir.empty() ? 200 : -1, default_count_test = o.anno_dir.empty() ? 210 : -1;
  o.train_videos = f.integer("train", default_count_train, 0, 1000000);
  o.test_videos = f.integer("test", default_count_test, 0, 1000000);
  o.seed = static_cast<uint64_t>(f.integer("seed", 0, 0, 2147483647));
  o.max_segments = f.integer("max-segments", 0, 0, 1 << 24);
  o.difficulty = f.real("difficulty", o.difficulty, 0.0, 100.0);
  o.compression = f.integer("compress", 0, 0, 9);
  o.num_classes = f.integer("classes", 20, 1, aicl::kMaxSynthClasses);
  o.stream_dim = f.integer("stream-width", 1024, 16, 65536);
  if (!o.anno_dir.empty() && !std::filesystem::is_directory(o.anno_dir))
    aicl::fail("--anno " + o.anno_dir + ": no such directory");
  size_t segments = aicl::write_synth(o, out);
  aicl::Dataset ds(out);
  std::printf("wrote %s: %zu videos (%zu validation, %zu test), %zu segments\n", out.c_str(), ds.num_videos(),
              ds.subset_indices("validation").size(), ds.subset_indices("test").size(), segments);
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
    if (argc < 2) aicl::fail("missing command (import, export, synth, inspect; see --help)");
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
    aicl::fail("unknown command '" + cmd + "' (expected import, export, synth or inspect; see --help)");
  });
}
