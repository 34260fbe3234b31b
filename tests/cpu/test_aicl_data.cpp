// Tests of the aicl_data binary: help, synth/inspect/export/import end to end, one-line errors with exit 2.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <filesystem>
#include <fstream>

#include "core/base/io.h"
#include "data/dataset.h"
#include "test_dataset_fixtures.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

std::string bin() {
  const std::string b = aicl_test::bin_dir() + "/aicl_data";
  if (!fs::exists(b)) FAIL("build the aicl_data target first: " << b << " is missing");
  return b;
}

aicl_test::CommandResult run(const std::string& args) { return aicl_test::run_command(bin() + " " + args); }

// One line "aicl_data: error: ...", exit status 2.
void expect_error(const std::string& args, const std::string& message) {
  auto r = run(args);
  INFO(args << "\n" << r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("aicl_data: error: ") && Catch::Contains(message));
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("aicl_data: --help shows commands and examples") {
  auto r = run("--help");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("import") && Catch::Contains("export") && Catch::Contains("synth") &&
                           Catch::Contains("inspect") && Catch::Contains("Examples:"));
  CHECK(run("synth --help").exit_code == 0);
}

TEST_CASE("aicl_data: synth -> inspect -> export -> import round trip through the binary") {
  auto dir = aicl_test::temp_dir("cli_rt");
  const std::string d = dir.string();
  auto r = run("synth --out " + d + "/s.h5 --train 3 --test 2 --max-segments 50 --seed 4");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto i = run("inspect " + d + "/s.h5 --json");
  REQUIRE(i.exit_code == 0);
  auto j = nlohmann::json::parse(i.output);
  CHECK(j["num_videos"] == 5);
  CHECK(j["subsets"]["validation"]["videos"] == 3);
  CHECK(j["subsets"]["test"]["length_max"].get<int>() <= 50);
  CHECK(j["classes"].size() == 20);
  auto text = run("inspect " + d + "/s.h5");
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("instances per class") && Catch::Contains("VolleyballSpiking"));

  REQUIRE(run("export --in " + d + "/s.h5 --out " + d + "/npy").exit_code == 0);
  CHECK(fs::exists(dir / "npy/features/train/rgb/video_validation_0000001.npy"));
  CHECK(fs::exists(dir / "npy/features/test/flow/video_test_0000002.npy"));
  REQUIRE(run("import --root " + d + "/npy --out " + d + "/back.h5").exit_code == 0);
  aicl::Dataset a(d + "/s.h5"), b(d + "/back.h5");
  REQUIRE(a.num_videos() == b.num_videos());
  CHECK(a.ground_truth_json()["database"] == b.ground_truth_json()["database"]);
  for (size_t v = 0; v < a.num_videos(); ++v) CHECK(a.read_features(v) == b.read_features(v));
}

TEST_CASE("aicl_data: import warns about --truncate") {
  auto dir = aicl_test::temp_dir("cli_trunc");
  aicl_test::make_tiny_root(dir / "root");
  auto f = aicl_test::tiny_features(2, 1024, 0.f);
  aicl::write_npy((dir / "root/features/test/rgb/video_test_0000002.npy").string(), f.data(), 2, 1024);
  expect_error("import --root " + (dir / "root").string() + " --out " + (dir / "d.h5").string(),
               "RGB has 2 segments but flow has 3");
  auto r = run("import --truncate --root " + (dir / "root").string() + " --out " + (dir / "d.h5").string());
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("warning: --truncate: cut 1 video(s)") && Catch::Contains("video_test_0000002"));
}

TEST_CASE("aicl_data: every bad input is one line and exit 2, with nothing written") {
  auto dir = aicl_test::temp_dir("cli_errors");
  const std::string d = dir.string();
  aicl_test::make_tiny_root(dir / "root");
  expect_error("", "missing command");
  expect_error("frobnicate", "unknown command 'frobnicate'");
  expect_error("synth", "--out: required");
  expect_error("synth --out " + d + "/x.h5 --seed -1", "--seed");
  expect_error("synth --out " + d + "/x.h5 --anno " + d + "/nope", "--anno " + d + "/nope: no such directory");
  expect_error("synth --out " + d + "/no/such/dir/x.h5 --train 1 --test 0", "does not exist");
  expect_error("import --root " + d + "/nope --out " + d + "/x.h5", "no such directory");
  expect_error("import --root " + d + "/root --out " + d + "/x.h5 --layout sideways", "--layout");
  expect_error("inspect " + d + "/missing.h5", "missing.h5: no such file");
  { std::ofstream(dir / "text.h5") << "plain text\n"; }
  expect_error("inspect " + d + "/text.h5", "text.h5: not an HDF5 file");
  expect_error("export --in " + d + "/text.h5 --out " + d + "/o", "text.h5: not an HDF5 file");

  // Damage the npy root in the ways the importer must catch.
  auto gt = aicl::read_json_file(d + "/root/gt.json");
  auto bad_gt = gt;
  bad_gt["database"]["video_test_0000001"]["annotations"][0]["label"] = "Juggling";
  aicl::write_json_file(d + "/root/gt.json", bad_gt);
  expect_error("import --root " + d + "/root --out " + d + "/x.h5", "unknown label 'Juggling'");
  aicl::write_json_file(d + "/root/gt.json", gt);
  fs::rename(dir / "root/features/train/flow/video_validation_0000002.npy", dir / "moved.npy");
  expect_error("import --root " + d + "/root --out " + d + "/x.h5", "video_validation_0000002.npy: missing");
  aicl::write_file_atomic(d + "/root/features/train/flow/video_validation_0000002.npy", "\x93NUMPY\x01");
  expect_error("import --root " + d + "/root --out " + d + "/x.h5", "video_validation_0000002.npy: truncated .npy header");
  CHECK_FALSE(fs::exists(dir / "x.h5"));
  CHECK_FALSE(fs::exists(dir / "o"));
  for (const auto& e : fs::directory_iterator(dir))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("aicl_data: synth --classes/--stream-width, inspect shows the profile, import --profile") {
  auto dir = aicl_test::temp_dir("cli_profile");
  const std::string d = dir.string();
  auto r = run("synth --out " + d + "/s.h5 --train 3 --test 2 --max-segments 40 --classes 5 --stream-width 64");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto i = run("inspect " + d + "/s.h5 --json");
  REQUIRE(i.exit_code == 0);
  auto j = nlohmann::json::parse(i.output);
  CHECK(j["feature_dim"] == 128);
  CHECK(j["classes"].size() == 5);
  CHECK(j["profile_recorded"] == true);
  CHECK(j["profile"]["name"] == "thumos14");
  CHECK(j["profile"]["streams"] == nlohmann::json::parse(R"([{"name":"rgb","width":64},{"name":"flow","width":64}])"));
  auto text = run("inspect " + d + "/s.h5");
  CHECK_THAT(text.output, Catch::Contains("profile: thumos14: train 'validation', test 'test'") &&
                              Catch::Contains("streams rgb 64 + flow 64"));
  // Export splits by the profile's streams; import records THUMOS14's profile and knows no other.
  REQUIRE(run("export --in " + d + "/s.h5 --out " + d + "/npy").exit_code == 0);
  CHECK(fs::exists(dir / "npy/features/train/rgb/video_validation_0000001.npy"));
  // Import reads the profile's 1024-wide streams unless told the width.
  expect_error("import --root " + d + "/npy --out " + d + "/y.h5", "expected 1024 columns, got shape");
  REQUIRE(run("import --root " + d + "/npy --out " + d + "/y.h5 --stream-width 64").exit_code == 0);
  CHECK(aicl::Dataset(d + "/y.h5").profile().streams == std::vector<aicl::FeatureStream>{{"rgb", 64}, {"flow", 64}});
  expect_error("import --root " + d + "/npy --out " + d + "/x.h5 --profile anet",
               "--profile: unknown dataset profile 'anet' (known: thumos14, anet12, anet13)");
  expect_error("synth --out " + d + "/x.h5 --profile anet14", "--profile: unknown dataset profile 'anet14'");
  expect_error("import --root " + d + "/npy --out " + d + "/x.h5 --profile anet13",
               "gt.json: no video has subset 'training', which profile anet13 trains on (gt.json has: test, validation)");
  expect_error("synth --out " + d + "/x.h5 --classes 0", "--classes");
  expect_error("synth --out " + d + "/x.h5 --stream-width 8", "--stream-width");
  CHECK_FALSE(fs::exists(dir / "x.h5"));
}

TEST_CASE("aicl_data: inspect of a file without a profile notes the THUMOS14 fallback on stderr") {
  auto dir = aicl_test::temp_dir("cli_old");
  const std::string d = dir.string();
  REQUIRE(run("synth --out " + d + "/s.h5 --train 2 --test 1 --max-segments 30 --stream-width 16").exit_code == 0);
  hid_t f = H5Fopen((d + "/s.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);  // as written before profiles existed
  REQUIRE(f >= 0);
  CHECK(H5Adelete(f, "profile") >= 0);
  H5Fclose(f);
  auto out = aicl_test::run_command("(" + bin() + " inspect " + d + "/s.h5 2>&1 >/dev/null)");  // stderr only
  CHECK(out.exit_code == 0);
  CHECK(out.output == "aicl_data: note: " + d +
                          "/s.h5: no dataset profile recorded; reading it as THUMOS14 (re-import with aicl_data to "
                          "record one)\n");
  auto text = run("inspect " + d + "/s.h5");
  CHECK_THAT(text.output, Catch::Contains("profile (not recorded, assumed): thumos14"));
}

TEST_CASE("aicl_data: ActivityNet end to end: synth --profile anet13, export/import concat and wtalc, check") {
  auto dir = aicl_test::temp_dir("cli_anet");
  const std::string d = dir.string();
  auto r = run("synth --out " + d + "/s.h5 --profile anet13 --train 6 --test 3 --stream-width 1024 --seed 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("9 videos (6 training, 3 validation)"));
  auto j = nlohmann::json::parse(run("inspect " + d + "/s.h5 --json").output);
  CHECK(j["profile"]["name"] == "anet13");
  CHECK(j["profile"]["test_sampling"] == "uniform_keep_short");
  CHECK(j["classes"].size() == 200);

  REQUIRE(run("export --in " + d + "/s.h5 --out " + d + "/concat --layout concat").exit_code == 0);
  CHECK(fs::exists(dir / "concat/validation/v_validation_0000003.npy"));
  auto imp = run("import --root " + d + "/concat --layout concat --profile anet13 --out " + d + "/c.h5");
  INFO(imp.output);
  REQUIRE(imp.exit_code == 0);
  CHECK_THAT(imp.output, Catch::Contains("aicl_data: import: 9/9 videos (100%)"));
  REQUIRE(run("export --in " + d + "/s.h5 --out " + d + "/wt --layout wtalc").exit_code == 0);
  CHECK(fs::exists(dir / "wt/ActivityNet1.3-I3D-JOINTFeatures.npy"));
  REQUIRE(run("import --root " + d + "/wt --layout wtalc --profile anet13 --out " + d + "/w.h5").exit_code == 0);
  aicl::Dataset a(d + "/s.h5"), c(d + "/c.h5"), w(d + "/w.h5");
  CHECK(c.class_names().size() < a.class_names().size());  // from-gt: only the classes that occur
  CHECK(w.class_names() == a.class_names());                // classlist.npy keeps them all
  for (const aicl::Dataset* b : {&c, &w}) {
    REQUIRE(b->num_videos() == a.num_videos());
    CHECK(b->profile() == aicl::DatasetProfile::anet13());
    for (size_t v = 0; v < a.num_videos(); ++v) CHECK(a.read_features(v) == b->read_features(v));
  }
  auto chk = run("check " + d + "/w.h5");
  CHECK(chk.exit_code == 0);
  CHECK_THAT(chk.output, Catch::Contains("check " + d + "/w.h5: 9 videos, 0 errors, 0 warnings"));
}

TEST_CASE("aicl_data: check prints one line per finding and exits 1 on errors") {
  auto dir = aicl_test::temp_dir("cli_check");
  const std::string p = (dir / "d.h5").string();
  {
    aicl::DatasetWriterOptions o;
    o.profile.streams = {{"rgb", 2}, {"flow", 2}};
    aicl::DatasetWriter wr(p, {"A", "B"}, 4, o);
    std::vector<float> f(12, 1.f), g(12);
    for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(i);
    wr.add_video({"same", "validation", 3, 2.0, {}, {{0.1, 0.5, 0}}}, f.data());
    wr.add_video({"nolabel", "validation", 3, 2.0, {}, {}}, g.data());
    wr.add_video({"short", "test", 3, 30.0, {}, {{0.1, 0.5, 1}}}, g.data());
    wr.finish();
  }
  auto r = run("check " + p);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("aicl_data: warning: " + p + ": video 'same': all 3 segments have the same features") &&
                           Catch::Contains("aicl_data: error: " + p + ": video 'nolabel': no labels in the train subset") &&
                           Catch::Contains("aicl_data: warning: " + p + ": video 'short': 3 segments, but its duration 30.0 s") &&
                           Catch::Contains("check " + p + ": 3 videos, 1 errors, 3 warnings"));
  auto limited = run("check " + p + " --limit 0");
  CHECK(limited.exit_code == 1);
  expect_error("check", "check: expected one dataset file");
}

TEST_CASE("aicl_data: synthetic features on the real ActivityNet layouts import and check clean") {
  for (const char* name : {"anet12", "anet13"}) {
    const std::string anno = aicl_test::shared_dir() + "/data/" + name;
    if (!fs::exists(anno + "/gt.json")) aicl_test::skip("real annotations not found at " + anno);
    INFO(name);
    auto dir = aicl_test::temp_dir(std::string("cli_real_") + name);
    const std::string d = dir.string(), p = std::string(" --profile ") + name;
    auto r = run("synth --out " + d + "/s.h5 --anno " + anno + p + " --train 20 --test 10 --stream-width 16");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("30 videos (20 training, 10 validation)"));
    REQUIRE(run("export --in " + d + "/s.h5 --out " + d + "/c --layout concat").exit_code == 0);
    auto imp = run("import --root " + d + "/c --layout concat --stream-width 16 --out " + d + "/i.h5" + p);
    INFO(imp.output);
    REQUIRE(imp.exit_code == 0);
    auto chk = run("check " + d + "/i.h5");
    CHECK(chk.exit_code == 0);
    CHECK_THAT(chk.output, Catch::Contains("30 videos, 0 errors, 1 warnings"));  // the width (2 x 16)
    aicl::Dataset a(d + "/s.h5"), b(d + "/i.h5");
    CHECK(b.ground_truth_json()["database"] == a.ground_truth_json()["database"]);
  }
}
