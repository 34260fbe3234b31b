// Tests of the W-TALC / CO2-Net / DELU layout: import, export back to the same bytes, and each bad input as one
// line naming the file and the video, with nothing written.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/base/error.h"
#include "core/base/io.h"
#include "data/dataset.h"
#include "data/import_export.h"
#include "data/wtalc.h"
#include "test_dataset_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

const char* const kAnnotationFiles[] = {"videoname", "subset", "classlist", "segments", "labels", "labels_all"};
const int kRows[] = {7, 4, 5, 3};  // the fixture videos' T (their durations are T * 0.64 + 0.1 s)

std::string fixture(const std::string& name) { return aicl_test::source_dir() + "/tests/data/wtalc/" + name; }

std::vector<aicl::NpyMatrix> tiny_matrices(size_t width = 2048) {
  std::vector<aicl::NpyMatrix> ms;
  float seed = 0.f;
  for (int T : kRows) {
    aicl::NpyMatrix m;
    m.rows = static_cast<size_t>(T);
    m.cols = width;
    m.data = aicl_test::tiny_features(T, width, seed += 1.f);
    ms.push_back(m);
  }
  return ms;
}

// ROOT/Tiny-I3D-JOINTFeatures.npy + ROOT/Tiny-Annotations/ from the numpy-made fixtures (THUMOS14-like subsets).
void make_wtalc_root(const fs::path& root) {
  fs::create_directories(root / "Tiny-Annotations");
  for (const char* f : kAnnotationFiles)
    fs::copy_file(fixture(std::string(f) + ".npy"), root / "Tiny-Annotations" / (std::string(f) + ".npy"));
  fs::copy_file(fixture("duration_col.npy"), root / "Tiny-Annotations/duration.npy");  // W-TALC THUMOS14: [V, 1]
  aicl::write_file((root / "Tiny-I3D-JOINTFeatures.npy").string(), aicl::npy_of_float_matrices(tiny_matrices()));
}

aicl::ImportReport import_root(const fs::path& root, const fs::path& out, const std::string& profile = "thumos14") {
  aicl::ImportOptions o;
  o.root = root.string();
  o.out = out.string();
  o.layout = "wtalc";
  o.profile = profile;
  return aicl::import_npy_root(o);
}

}  // namespace

TEST_CASE("wtalc: import reads features, names, subsets, segments and labels") {
  const auto dir = aicl_test::temp_dir("wtalc_import");
  make_wtalc_root(dir / "root");
  const aicl::ImportReport r = import_root(dir / "root", dir / "d.h5");
  CHECK(r.videos == 4);
  CHECK(r.segments == 19);
  aicl::Dataset ds((dir / "d.h5").string());
  CHECK(ds.class_names() == std::vector<std::string>{"BaseballPitch", "CliffDiving", "Diving", "GolfSwing", "TennisSwing"});
  CHECK(ds.profile() == aicl::DatasetProfile::thumos14());
  CHECK(ds.video(0).name == "video_validation_0000001");
  CHECK(ds.video(0).subset == "validation");
  CHECK(ds.video(2).subset == "test");
  CHECK(ds.video(0).duration == 4.58);
  REQUIRE(ds.video(0).instances.size() == 2);
  CHECK(ds.video(0).instances[1].start == 3.0);
  CHECK(ds.video(0).instances[1].label == 1);  // CliffDiving
  CHECK(ds.read_features(3) == tiny_matrices()[3].data);
  // video_test_0000001 has no segments: kept, with a warning (the test subset), not an error.
  bool warned = false;
  for (const auto& f : r.findings) warned |= f.kind == "unlabeled" && !f.error && f.message.find("video_test_0000001") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("wtalc: import -> export reproduces every file byte for byte, export -> import the contents") {
  const auto dir = aicl_test::temp_dir("wtalc_roundtrip");
  make_wtalc_root(dir / "root");
  import_root(dir / "root", dir / "a.h5");
  aicl::Dataset a((dir / "a.h5").string());
  CHECK(aicl::export_wtalc(a, (dir / "out").string(), "Tiny") == 8);
  for (const char* f : kAnnotationFiles) {
    INFO(f);
    const std::string rel = std::string("Tiny-Annotations/") + f + ".npy";
    CHECK(aicl_test::read_bytes(dir / "out" / rel) == aicl_test::read_bytes(dir / "root" / rel));
  }
  CHECK(aicl_test::read_bytes(dir / "out/Tiny-Annotations/duration.npy") ==
        aicl_test::read_bytes(dir / "root/Tiny-Annotations/duration.npy"));
  CHECK(aicl_test::read_bytes(dir / "out/Tiny-I3D-JOINTFeatures.npy") ==
        aicl_test::read_bytes(dir / "root/Tiny-I3D-JOINTFeatures.npy"));
  import_root(dir / "out", dir / "b.h5");
  aicl::Dataset b((dir / "b.h5").string());
  REQUIRE(b.num_videos() == a.num_videos());
  CHECK(b.ground_truth_json()["database"] == a.ground_truth_json()["database"]);
  for (size_t i = 0; i < a.num_videos(); ++i) CHECK(a.read_features(i) == b.read_features(i));
  // The default name follows the profile.
  CHECK(aicl::default_wtalc_name(a.profile()) == "Thumos14reduced");
  CHECK(aicl::export_wtalc(a, (dir / "named").string(), "") == 8);
  CHECK(fs::exists(dir / "named/Thumos14reduced-I3D-JOINTFeatures.npy"));
  CHECK(fs::exists(dir / "named/Thumos14reduced-Annotations/labels_all.npy"));
}

TEST_CASE("wtalc: each bad input is one line naming the file and the video, and writes nothing") {
  const auto dir = aicl_test::temp_dir("wtalc_errors");
  const fs::path out = dir / "d.h5";
  auto expect_error = [&](const std::function<void(const fs::path&)>& damage, const std::string& message,
                          const std::string& profile = "thumos14") {
    const fs::path root = dir / "root";
    fs::remove_all(root);
    make_wtalc_root(root);
    damage(root);
    INFO(message);
    CHECK_THROWS_WITH(import_root(root, out, profile), Catch::Contains(message));
    CHECK_FALSE(fs::exists(out));
    for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename() == "root");  // no temp files
  };
  const std::string anno = (dir / "root/Tiny-Annotations").string();
  auto write_labels = [](const fs::path& r, std::vector<std::vector<std::string>> labels) {
    aicl::write_file((r / "Tiny-Annotations/labels.npy").string(), aicl::npy_of_string_lists(labels));
  };
  expect_error([&](const fs::path& r) { write_labels(r, {{"Diving", "CliffDiving"}, {"Juggling"}, {}, {"TennisSwing", "TennisSwing"}}); },
               anno + "/labels.npy: video 'video_validation_0000002': label 'Juggling' is not in classlist.npy (5 classes)");
  expect_error([&](const fs::path& r) { write_labels(r, {{"Diving"}, {"GolfSwing"}, {}, {"TennisSwing", "TennisSwing"}}); },
               anno + "/labels.npy: video 'video_validation_0000001': 1 labels, but segments.npy has 2 segments");
  expect_error([&](const fs::path& r) {
                 aicl::write_file((r / "Tiny-Annotations/classlist.npy").string(),
                                  aicl::npy_of_bytes_strings({"Diving", "Diving", "GolfSwing"}));
               },
               anno + "/classlist.npy: class 'Diving' is listed twice");
  expect_error([&](const fs::path& r) {
                 auto ms = tiny_matrices();
                 ms.pop_back();
                 aicl::write_file((r / "Tiny-I3D-JOINTFeatures.npy").string(), aicl::npy_of_float_matrices(ms));
               },
               "Tiny-I3D-JOINTFeatures.npy: 3 feature arrays, but videoname.npy lists 4 videos");
  expect_error([&](const fs::path& r) {
                 auto ms = tiny_matrices();
                 ms[2].rows = 0;
                 ms[2].data.clear();
                 aicl::write_file((r / "Tiny-I3D-JOINTFeatures.npy").string(), aicl::npy_of_float_matrices(ms));
               },
               "Tiny-I3D-JOINTFeatures.npy: video 'video_test_0000001' (element 2): no feature rows (shorter than one segment)");
  expect_error([&](const fs::path& r) {
                 aicl::write_file((r / "Tiny-I3D-JOINTFeatures.npy").string(), aicl::npy_of_float_matrices(tiny_matrices(1024)));
               },
               "video 'video_validation_0000001' (element 0): features are not a C-order little-endian float array [T, 2048]");
  expect_error([](const fs::path&) {}, anno + "/subset.npy: no video has subset 'training', which profile anet12 trains on "
                                              "(subset.npy has: test, validation)",
               "anet12");
  expect_error([&](const fs::path& r) {
                 // a pickle that would run os.system: refused while reading, before anything is written
                 aicl::write_file((r / "Tiny-Annotations/labels.npy").string(),
                                  aicl::npy_header_bytes("|O", {4}) + std::string("\x80\x03" "cos\nsystem\n)R."));
               },
               anno + "/labels.npy: pickle byte 130: global 'os.system' is not allowed");
  expect_error([&](const fs::path& r) { fs::remove(r / "Tiny-Annotations/segments.npy"); }, "segments.npy: cannot open");
  expect_error([&](const fs::path& r) {
                 aicl::write_file((r / "Tiny-Annotations/subset.npy").string(),
                                  aicl::npy_of_bytes_strings({"validation", "validation", "test"}));
               },
               anno + "/subset.npy: 3 entries, but videoname.npy lists 4 videos");
  expect_error([&](const fs::path& r) { fs::copy_file(r / "Tiny-I3D-JOINTFeatures.npy", r / "Other-I3D-JOINTFeatures.npy"); },
               "several feature files (Other, Tiny); choose one with --name");
}

TEST_CASE("wtalc: features are read one video at a time from the file") {
  const auto dir = aicl_test::temp_dir("wtalc_lazy");
  make_wtalc_root(dir / "root");
  aicl::JointFeaturesFile f((dir / "root/Tiny-I3D-JOINTFeatures.npy").string());
  REQUIRE(f.size() == 4);
  const aicl::NpyMatrix m = f.read(1, "video_validation_0000002", 2048);
  CHECK(m.rows == 4);
  CHECK(m.data == tiny_matrices()[1].data);
  CHECK_THROWS_WITH(f.read(1, "v", 1024), Catch::Contains("features are not a C-order little-endian float array [T, 1024]"));
}

TEST_CASE("wtalc: labels_all adds video-level labels (W-TALC trains on them) and survives the round trip") {
  const auto dir = aicl_test::temp_dir("wtalc_labels_all");
  make_wtalc_root(dir / "root");
  // video_test_0000001 has no segments but a video-level label, as W-TALC's classification videos.
  aicl::write_file((dir / "root/Tiny-Annotations/labels_all.npy").string(),
                   aicl::npy_of_string_lists({{"Diving", "CliffDiving"}, {"GolfSwing"}, {"Diving"}, {"TennisSwing"}}));
  const aicl::ImportReport r = import_root(dir / "root", dir / "a.h5");
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("1 video(s) whose labels_all differ from their segment labels (e.g. "
                                            "'video_test_0000001'); their video labels are the union of both"));
  aicl::Dataset a((dir / "a.h5").string());
  CHECK(a.video(2).labels == std::vector<float>{0, 0, 1, 0, 0});  // Diving
  CHECK(a.video(2).instances.empty());
  bool noted = false;
  for (const auto& f : r.findings) noted |= f.kind == "label-without-instances" && f.message.find("'Diving'") != std::string::npos;
  CHECK(noted);
  aicl::export_wtalc(a, (dir / "out").string(), "Tiny");
  CHECK(aicl_test::read_bytes(dir / "out/Tiny-Annotations/labels_all.npy") ==
        aicl_test::read_bytes(dir / "root/Tiny-Annotations/labels_all.npy"));
  aicl::write_file((dir / "root/Tiny-Annotations/labels_all.npy").string(),
                   aicl::npy_of_string_lists({{"Diving"}, {"GolfSwing"}, {"Juggling"}, {"TennisSwing"}}));
  CHECK_THROWS_WITH(import_root(dir / "root", dir / "b.h5"),
                    Catch::Contains("labels_all.npy: video 'video_test_0000001': label 'Juggling' is not in classlist.npy"));
  aicl::ImportOptions o;
  o.root = (dir / "root").string();
  o.out = (dir / "b.h5").string();
  o.layout = "wtalc";
  o.classes = "thumos14";
  CHECK_THROWS_WITH(aicl::import_npy_root(o), "--classes: not used with --layout wtalc (the classes are classlist.npy's)");
}
