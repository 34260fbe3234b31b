// Tests of import/export between the npy layout and the dataset file: exact round trips and clear failures.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "core/base/error.h"
#include "data/dataset.h"
#include "data/import_export.h"
#include "test_dataset_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl::Dataset;

namespace {

aicl::ImportReport do_import(const fs::path& root, const fs::path& out, bool truncate = false,
                             const std::string& layout = "split") {
  aicl::ImportOptions o;
  o.root = root.string();
  o.out = out.string();
  o.truncate = truncate;
  o.layout = layout;
  return aicl::import_npy_root(o);
}

void check_same_contents(const Dataset& a, const Dataset& b) {
  REQUIRE(a.num_videos() == b.num_videos());
  CHECK(a.class_names() == b.class_names());
  CHECK(a.feature_dim() == b.feature_dim());
  CHECK(a.ground_truth_json() == b.ground_truth_json());
  for (size_t i = 0; i < a.num_videos(); ++i) {
    CHECK(a.video(i).name == b.video(i).name);
    CHECK(a.video(i).subset == b.video(i).subset);
    CHECK(a.video(i).num_segments == b.video(i).num_segments);
    CHECK(a.video(i).labels == b.video(i).labels);
    auto fa = a.read_features(i), fb = b.read_features(i);
    REQUIRE(fa.size() == fb.size());
    CHECK(std::memcmp(fa.data(), fb.data(), fa.size() * 4) == 0);
  }
}

}  // namespace

TEST_CASE("import: npy layout into a dataset file") {
  auto dir = aicl_test::temp_dir("imp_basic");
  aicl_test::make_tiny_root(dir / "root");
  auto report = do_import(dir / "root", dir / "d.h5");
  CHECK(report.videos == 4);
  CHECK(report.segments == 19);
  CHECK(report.annotation_only == 1);
  Dataset ds((dir / "d.h5").string());
  CHECK(ds.class_names() == aicl::thumos14_class_names());
  CHECK(ds.gt_version() == "TINY");
  CHECK(ds.subset_indices("validation").size() == 2);
  CHECK(ds.subset_indices("test").size() == 2);
  const auto& v0 = ds.video(0);
  CHECK(v0.name == "video_validation_0000001");
  CHECK(v0.num_segments == 7);
  CHECK(v0.labels[4] == 1.f);  // CliffDiving
  CHECK(v0.labels[7] == 1.f);  // Diving
  CHECK(v0.instances[0].label == 7);
  // Row t = RGB row t then flow row t.
  auto f = ds.read_features(0);
  auto rgb = aicl_test::tiny_features(7, 1024, 1.f), flow = aicl_test::tiny_features(7, 1024, 2.f);
  CHECK(f[3 * 2048 + 5] == rgb[3 * 1024 + 5]);
  CHECK(f[3 * 2048 + 1024 + 5] == flow[3 * 1024 + 5]);
  REQUIRE(ds.annotation_only_videos().size() == 1);
  CHECK(ds.ground_truth_json()["database"].contains("video_test_0000270"));
}

TEST_CASE("import -> export reproduces every npy byte and export -> import the file contents") {
  auto dir = aicl_test::temp_dir("imp_roundtrip");
  aicl_test::make_tiny_root(dir / "root");
  do_import(dir / "root", dir / "a.h5");
  Dataset a((dir / "a.h5").string());
  CHECK(aicl::export_npy_root(a, (dir / "out").string()) == 4 * 2 + 3);
  for (const auto& v : aicl_test::tiny_videos())
    for (const char* s : {"rgb", "flow"}) {
      const fs::path rel = fs::path("features") / v.mode / s / (v.name + ".npy");
      INFO(rel.string());
      CHECK(aicl_test::read_bytes(dir / "out" / rel) == aicl_test::read_bytes(dir / "root" / rel));
    }
  CHECK(aicl_test::read_bytes(dir / "out/split_train.txt") == aicl_test::read_bytes(dir / "root/split_train.txt"));
  CHECK(aicl_test::read_bytes(dir / "out/split_test.txt") == aicl_test::read_bytes(dir / "root/split_test.txt"));
  auto gt_in = aicl::read_json_file((dir / "root/gt.json").string());
  auto gt_out = aicl::read_json_file((dir / "out/gt.json").string());
  CHECK(gt_out["database"] == gt_in["database"]);

  do_import(dir / "out", dir / "b.h5");
  check_same_contents(a, Dataset((dir / "b.h5").string()));

  // The joint layout holds the same numbers.
  CHECK(aicl::export_npy_root(a, (dir / "joint").string(), "joint") == 4 + 3);
  do_import(dir / "joint", dir / "c.h5", false, "joint");
  check_same_contents(a, Dataset((dir / "c.h5").string()));
  // An existing non-empty output directory is refused.
  CHECK_THROWS_WITH(aicl::export_npy_root(a, (dir / "out").string()), Catch::Contains("not an empty directory"));
}

TEST_CASE("import: float64 files are converted, with a warning") {
  auto dir = aicl_test::temp_dir("imp_f64");
  aicl_test::make_tiny_root(dir / "root");
  // Replace one file with a float64 version of the same (float32-representable) values.
  const auto path = dir / "root/features/test/rgb/video_test_0000001.npy";
  auto m = aicl::read_npy(path.string());
  std::vector<double> d(m.data.begin(), m.data.end());
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 1024), }";
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) + '\0' + dict +
                      std::string(reinterpret_cast<const char*>(d.data()), d.size() * 8);
  aicl::write_file_atomic(path.string(), bytes);
  auto report = do_import(dir / "root", dir / "d.h5");
  REQUIRE(report.warnings.size() == 1);
  CHECK_THAT(report.warnings[0], Catch::Contains("float64"));
  Dataset ds((dir / "d.h5").string());
  auto f = ds.read_features(ds.find_video("video_test_0000001"));
  CHECK(f[2 * 2048 + 7] == m.data[2 * 1024 + 7]);
}

TEST_CASE("import: RGB/flow length mismatch fails, or is cut with --truncate") {
  auto dir = aicl_test::temp_dir("imp_trunc");
  aicl_test::make_tiny_root(dir / "root");
  auto shorter = aicl_test::tiny_features(6, 1024, 9.f);
  aicl::write_npy((dir / "root/features/train/flow/video_validation_0000001.npy").string(), shorter.data(), 6, 1024);
  CHECK_THROWS_WITH(do_import(dir / "root", dir / "d.h5"), Catch::Contains("RGB has 7 segments but flow has 6"));
  CHECK_FALSE(fs::exists(dir / "d.h5"));
  auto report = do_import(dir / "root", dir / "d.h5", true);
  REQUIRE_FALSE(report.warnings.empty());
  CHECK_THAT(report.warnings.back(), Catch::Contains("video_validation_0000001 (7 vs 6)"));
  CHECK(Dataset((dir / "d.h5").string()).video(0).num_segments == 6);
}

TEST_CASE("import: each bad input is one clear error and writes nothing") {
  auto dir = aicl_test::temp_dir("imp_errors");
  const fs::path out = dir / "d.h5";
  auto expect_error = [&](const std::function<void(const fs::path&)>& damage, const std::string& message) {
    const fs::path root = dir / "root";
    fs::remove_all(root);
    aicl_test::make_tiny_root(root);
    damage(root);
    INFO(message);
    CHECK_THROWS_WITH(do_import(root, out), Catch::Contains(message));
    CHECK_FALSE(fs::exists(out));
    for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename() == "root");  // no temp files
  };
  CHECK_THROWS_WITH(do_import(dir / "nope", out), Catch::Contains("nope: no such directory"));
  expect_error([](const fs::path& r) { fs::remove(r / "gt.json"); }, "gt.json: cannot open");
  expect_error([](const fs::path& r) { aicl::write_file_atomic((r / "gt.json").string(), "{\"database\": "); },
               "gt.json: invalid JSON");
  expect_error([](const fs::path& r) { fs::remove(r / "split_test.txt"); }, "split_test.txt: cannot open");
  expect_error([](const fs::path& r) { fs::remove(r / "features/test/flow/video_test_0000002.npy"); },
               "video_test_0000002.npy: missing (video 'video_test_0000002' is listed in split_test.txt)");
  expect_error([](const fs::path& r) { aicl::write_file_atomic((r / "features/train/rgb/video_validation_0000002.npy").string(), "garbage"); },
               "video_validation_0000002.npy: not a .npy file");
  expect_error([](const fs::path& r) {
                 auto f = aicl_test::tiny_features(4, 512, 0.f);
                 aicl::write_npy((r / "features/train/rgb/video_validation_0000002.npy").string(), f.data(), 4, 512);
               },
               "expected 1024 columns");
  expect_error([](const fs::path& r) {
                 auto gt = aicl::read_json_file((r / "gt.json").string());
                 gt["database"]["video_test_0000002"]["annotations"][0]["label"] = "Juggling";
                 aicl::write_json_file((r / "gt.json").string(), gt);
               },
               "unknown label 'Juggling'");
  expect_error([](const fs::path& r) {
                 auto gt = aicl::read_json_file((r / "gt.json").string());
                 gt["database"].erase("video_test_0000001");
                 aicl::write_json_file((r / "gt.json").string(), gt);
               },
               "no entry for video 'video_test_0000001'");
  expect_error([](const fs::path& r) { aicl::write_file_atomic((r / "split_test.txt").string(), "video_validation_0000001\n"); },
               "is in both split files");
}

namespace {

// The concatenated layout of SAL_ActivityNet: ROOT/train/, ROOT/validation/ ([T, 2048]), gt.json with ActivityNet
// subsets and classes, split files.
void make_anet_concat_root(const fs::path& root) {
  aicl::json db = aicl::json::object();
  std::string split[2];
  const struct {
    const char* name;
    int part, T;
    const char* label;
  } videos[] = {{"v_a", 0, 6, "Ballet"}, {"v_b", 0, 3, "Zumba"}, {"v_c", 1, 5, "Ballet"}, {"v_d", 1, 1, "Archery"}};
  float seed = 0.f;
  for (const auto& v : videos) {
    const fs::path dir = root / (v.part == 0 ? "train" : "validation");
    fs::create_directories(dir);
    const auto f = aicl_test::tiny_features(v.T, 2048, seed += 1.f);
    aicl::write_npy((dir / (std::string(v.name) + ".npy")).string(), f.data(), static_cast<size_t>(v.T), 2048);
    db[v.name] = {{"subset", v.part == 0 ? "training" : "validation"},
                  {"duration", v.T * 0.64 + 0.1},
                  {"annotations", {{{"label", v.label}, {"segment", {0.0, v.T * 0.5}}}}}};
    split[v.part] += std::string(v.name) + "\n";
  }
  aicl::write_json_file((root / "gt.json").string(), {{"version", "ANET-TINY"}, {"database", db}});
  aicl::write_file_atomic((root / "split_train.txt").string(), split[0]);
  aicl::write_file_atomic((root / "split_test.txt").string(), split[1]);
}

aicl::ImportOptions options(const fs::path& root, const fs::path& out, const std::string& layout,
                            const std::string& profile = "thumos14") {
  aicl::ImportOptions o;
  o.root = root.string();
  o.out = out.string();
  o.layout = layout;
  o.profile = profile;
  return o;
}

}  // namespace

TEST_CASE("import: the concatenated layout (train/, test/ or validation/) round trips bit for bit") {
  auto dir = aicl_test::temp_dir("imp_concat");
  // THUMOS14: export the tiny per-stream set as train/ + test/ and read it back.
  aicl_test::make_tiny_root(dir / "root");
  do_import(dir / "root", dir / "a.h5");
  Dataset a((dir / "a.h5").string());
  CHECK(aicl::export_npy_root(a, (dir / "th").string(), "concat") == 4 + 3);
  CHECK(fs::exists(dir / "th/train/video_validation_0000001.npy"));
  CHECK(fs::exists(dir / "th/test/video_test_0000002.npy"));
  aicl::import_npy_root(options(dir / "th", dir / "b.h5", "concat"));
  check_same_contents(a, Dataset((dir / "b.h5").string()));

  // ActivityNet: validation/ as SAL_ActivityNet reads it; classes from gt.json; every npy byte back on export.
  make_anet_concat_root(dir / "anet");
  std::vector<size_t> progress;
  aicl::ImportOptions o = options(dir / "anet", dir / "c.h5", "concat", "anet13");
  o.progress = [&](size_t done, size_t total, size_t) { progress.push_back(done * 10 + total); };
  const auto r = aicl::import_npy_root(o);
  CHECK(r.videos == 4);
  CHECK(progress == std::vector<size_t>{14, 24, 34, 44});
  Dataset c((dir / "c.h5").string());
  CHECK(c.profile() == aicl::DatasetProfile::anet13());
  CHECK(c.class_names() == std::vector<std::string>{"Archery", "Ballet", "Zumba"});
  CHECK(c.subset_indices("training").size() == 2);
  CHECK(c.subset_indices("validation").size() == 2);
  CHECK(aicl::export_npy_root(c, (dir / "anet_out").string(), "concat") == 4 + 3);
  for (const char* rel : {"train/v_a.npy", "train/v_b.npy", "validation/v_c.npy", "validation/v_d.npy",
                          "split_train.txt", "split_test.txt"}) {
    INFO(rel);
    CHECK(aicl_test::read_bytes(dir / "anet_out" / rel) == aicl_test::read_bytes(dir / "anet" / rel));
  }
  CHECK(aicl::read_json_file((dir / "anet_out/gt.json").string())["database"] ==
        aicl::read_json_file((dir / "anet/gt.json").string())["database"]);
}

TEST_CASE("import: profiles that do not fit the data, short videos and unlabeled training videos are refused") {
  auto dir = aicl_test::temp_dir("imp_profile_errors");
  make_anet_concat_root(dir / "anet");
  const fs::path out = dir / "d.h5";
  auto error_of = [&](const aicl::ImportOptions& o) -> std::string {
    try {
      aicl::import_npy_root(o);
    } catch (const aicl::Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string anet = (dir / "anet").string();
  CHECK(error_of(options(dir / "anet", out, "concat", "anet")) ==
        "--profile: unknown dataset profile 'anet' (known: thumos14, anet12, anet13)");
  CHECK(error_of(options(dir / "anet", out, "concat", "thumos14")) ==
        anet + "/gt.json: no video has subset 'test', which profile thumos14 tests on (gt.json has: training, "
               "validation)");
  aicl::ImportOptions th = options(dir / "anet", out, "concat", "anet13");
  th.classes = "thumos14";
  CHECK_THAT(error_of(th), Catch::Contains("gt.json: video 'v_a': unknown label 'Ballet' (not one of the 20 classes)"));
  // A video of zero rows: shorter than one segment.
  const float none = 0.f;
  aicl::write_npy(anet + "/validation/v_d.npy", &none, 0, 2048);
  CHECK(error_of(options(dir / "anet", out, "concat", "anet13")) ==
        anet + "/validation/v_d.npy: video 'v_d' has no feature rows (shorter than one segment)");
  // A training video without annotations.
  make_anet_concat_root(dir / "anet2");
  auto gt = aicl::read_json_file((dir / "anet2/gt.json").string());
  gt["database"]["v_b"]["annotations"] = aicl::json::array();
  aicl::write_json_file((dir / "anet2/gt.json").string(), gt);
  CHECK(error_of(options(dir / "anet2", out, "concat", "anet13")) ==
        (dir / "anet2").string() + ": video 'v_b': no labels in the train subset 'training' (nothing to learn from)");
  fs::remove_all(dir / "anet2/validation");
  CHECK_THAT(error_of(options(dir / "anet2", out, "concat", "anet13")),
             Catch::Contains("neither test/ nor validation/ exists"));
  CHECK_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}
