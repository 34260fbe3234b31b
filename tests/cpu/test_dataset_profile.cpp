// Tests of the dataset profile: JSON round trip and errors, its place in the .h5, the THUMOS14 fallback, and
// the post-processing settings it yields (bit-identical to today's PostprocessConfig for THUMOS14).
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <limits>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/eval/evaluator.h"
#include "core/eval/postprocess.h"
#include "data/dataset.h"
#include "data/profile.h"
#include "data/synth.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl::Dataset;
using aicl::DatasetProfile;
using aicl::json;

namespace {

uint64_t bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (bits(a[i]) != bits(b[i])) return false;
  return true;
}

// THUMOS14's sampling: every video resampled to 750 segments, in training and at test time.
bool t_sampling_defaults_are_thumos() {
  const DatasetProfile t;
  return t.test_sampling == "uniform" && t.train_segments == 750 && t.test_segments == 750;
}

std::string error_of(const json& j) {
  try {
    DatasetProfile::from_json(j, "p.json");
  } catch (const aicl::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A small dataset file (feature_dim 4, streams a 1 + b 3) written with `profile`.
std::string write_file(const fs::path& dir, DatasetProfile profile) {
  const std::string p = (dir / "d.h5").string();
  aicl::DatasetWriterOptions o;
  o.profile = std::move(profile);
  aicl::DatasetWriter w(p, {"A", "B"}, 4, o);
  std::vector<float> f(3 * 4, 0.5f);
  w.add_video({"v1", "train", 3, 2.0, {}, {{0.5, 1.0, 0}}}, f.data());
  w.add_video({"v2", "eval", 3, 2.0, {}, {{0.2, 1.5, 1}}}, f.data());
  w.finish();
  return p;
}

DatasetProfile small_profile() {
  DatasetProfile p;
  p.name = "tiny";
  p.train_subset = "train";
  p.test_subset = "eval";
  p.fps = 30;
  p.segment_frames = 8;
  p.streams = {{"a", 1}, {"b", 3}};
  return p;
}

// Replaces (or with value "" deletes) a root attribute of an existing file.
void edit_root_attr(const std::string& path, const std::string& name, const std::string& value) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  if (value.empty()) H5Adelete(f, name.c_str());
  else aicl::h5::set_attr_string(f, name, value, path);
  H5Fclose(f);
}

}  // namespace

TEST_CASE("profile: THUMOS14 values, and a JSON round trip keeps every bit") {
  const DatasetProfile t = DatasetProfile::thumos14();
  CHECK(t == DatasetProfile{});
  CHECK(t.name == "thumos14");
  CHECK(t.train_subset == "validation");
  CHECK(t.test_subset == "test");
  CHECK(t.feature_dim() == 2048);
  CHECK(t.streams[0].name == "rgb");
  CHECK(t.streams[1].name == "flow");
  // The tIoUs are the evaluator's, bit for bit: aicl_eval's default spec and EvalOptions' default list.
  CHECK(same_bits(t.tiou, aicl::parse_tiou_spec("0.1:0.7:7")));
  CHECK(same_bits(t.tiou, aicl::EvalOptions().tiou_thresholds));
  CHECK(DatasetProfile::from_json(json::parse(t.to_json().dump()), "x") == t);
  CHECK(DatasetProfile::from_json(json::object(), "x") == t);  // missing keys are THUMOS14's

  DatasetProfile odd = small_profile();
  odd.tiou = {0.30000000000000004, 0.5, 0.95};
  odd.act_thresh = {0.1, 0.7000000000000001};
  odd.soft_nms = false;
  odd.nms_alpha = 0.1 + 0.2;
  const DatasetProfile back = DatasetProfile::from_json(json::parse(odd.to_json().dump()), "x");
  CHECK(back == odd);
  CHECK(same_bits(back.tiou, odd.tiou));
  CHECK(bits(back.nms_alpha) == bits(0.1 + 0.2));
  CHECK(DatasetProfile::named("thumos14") == t);
  CHECK_THROWS_WITH(DatasetProfile::named("anet"),
                    "--profile: unknown dataset profile 'anet' (known: thumos14, anet12, anet13)");
  CHECK_THROWS_WITH(DatasetProfile::named("THUMOS14", "--data"),
                    "--data: unknown dataset profile 'THUMOS14' (known: thumos14, anet12, anet13)");
}

TEST_CASE("profile: THUMOS14's JSON keeps the keys and bytes it had before the sampling keys existed") {
  const json j = DatasetProfile::thumos14().to_json();
  CHECK(j.dump() ==
        "{\"fps\":25.0,\"name\":\"thumos14\",\"postprocess\":{\"act_thresh\":{\"arange\":[0.1,1.0,0.1]},"
        "\"class_score_weight\":0.2,\"class_thresh\":0.25,\"nms_alpha\":0.35,\"nms_thresh\":0.4,\"outer_ratio\":0.2,"
        "\"scale\":24,\"soft_nms\":true},\"segment_frames\":16,\"streams\":[{\"name\":\"rgb\",\"width\":1024},"
        "{\"name\":\"flow\",\"width\":1024}],\"test_subset\":\"test\",\"tiou\":[0.1,0.2,0.3,0.4,0.5,0.6,0.7],"
        "\"train_subset\":\"validation\"}");
  CHECK(t_sampling_defaults_are_thumos());
}

TEST_CASE("profile: anet12 and anet13 hold SAL_ActivityNet's numbers, their tIoUs are the evaluator's 0.5:0.95:10") {
  for (const char* name : {"anet12", "anet13"}) {
    INFO(name);
    const DatasetProfile p = DatasetProfile::named(name);
    CHECK(p.name == name);
    CHECK(p.train_subset == "training");
    CHECK(p.test_subset == "validation");
    CHECK(p.fps == 25);
    CHECK(p.segment_frames == 16);
    CHECK(p.feature_dim() == 2048);
    CHECK(same_bits(p.tiou, aicl::parse_tiou_spec("0.5:0.95:10")));
    CHECK(p.tiou[8] == 0.8999999999999999);
    CHECK(p.test_sampling == "uniform_keep_short");
    CHECK(p.train_segments == 50);
    CHECK(p.test_segments == 50);
    const aicl::PostprocessConfig c = aicl::postprocess_config_for(p);
    CHECK(c.class_thresh == 0.1);
    CHECK(c.nms_thresh == 0.7);
    CHECK(c.soft_nms);
    CHECK(c.nms_alpha == 0.35);
    CHECK(c.scale == 24);
    CHECK(same_bits(c.act_thresh, aicl::PostprocessConfig().act_thresh));  // np.arange(0.1, 1.0, 0.1)
    CHECK(c.outer_ratio == 0.2);
    CHECK(c.class_score_weight == 0.2);
    const json j = p.to_json();
    CHECK(j["test_sampling"] == "uniform_keep_short");
    CHECK(j["train_segments"] == 50);
    CHECK(DatasetProfile::from_json(json::parse(j.dump()), "x") == p);
  }
  CHECK(DatasetProfile::anet12() != DatasetProfile::anet13());  // the names differ, nothing else
  CHECK_THAT(DatasetProfile::anet13().describe(), Catch::Contains("segments: train 50, test 50 (uniform_keep_short)"));
  CHECK(error_of({{"test_sampling", "random"}}) ==
        "p.json: profile key 'test_sampling' must be \"uniform\" or \"uniform_keep_short\"");
  CHECK(error_of({{"train_segments", 0}}) == "p.json: profile key 'train_segments' must be an integer in [1, 16777216]");
  CHECK(error_of({{"test_segments", "50"}}) == "p.json: profile key 'test_segments' must be an integer");
}

TEST_CASE("profile: bad JSON is one line naming the source and the key") {
  CHECK(error_of(json::array()) == "p.json: the dataset profile must be a JSON object");
  CHECK(error_of({{"fpss", 25}}) == "p.json: unknown profile key 'fpss'");
  CHECK(error_of({{"fps", "25"}}) == "p.json: profile key 'fps' must be a number");
  CHECK(error_of({{"fps", -1}}) == "p.json: profile key 'fps' must be a positive number");
  CHECK(error_of({{"segment_frames", 1.5}}) == "p.json: profile key 'segment_frames' must be an integer");
  CHECK(error_of({{"name", ""}}) == "p.json: profile key 'name' must be a non-empty string");
  CHECK(error_of({{"streams", json::array()}}) ==
        "p.json: profile key 'streams' must be a non-empty list of {\"name\", \"width\"}");
  CHECK(error_of({{"streams", {{{"name", "rgb"}, {"width", 4}, {"dtype", "f4"}}}}}) ==
        "p.json: unknown profile key 'streams[0].dtype'");
  CHECK(error_of({{"streams", {{{"name", "rgb"}, {"width", 0}}}}}) ==
        "p.json: profile key 'streams[0].width' must be a positive integer");
  CHECK(error_of({{"streams", {{{"name", "x"}, {"width", 2}}, {{"name", "x"}, {"width", 2}}}}}) ==
        "p.json: profile key 'streams[1].name' must be a unique, non-empty name");
  CHECK(error_of({{"tiou", {0.5, 1.5}}}) == "p.json: profile key 'tiou' must be a list of thresholds in (0, 1], not 1.5");
  CHECK(error_of({{"postprocess", {{"nms", 0.4}}}}) == "p.json: unknown profile key 'postprocess.nms'");
  CHECK(error_of({{"postprocess", {{"soft_nms", 1}}}}) == "p.json: profile key 'postprocess.soft_nms' must be true or false");
  CHECK(error_of({{"postprocess", {{"act_thresh", {{"arange", {0.1, 1.0}}}}}}}) ==
        "p.json: profile key 'postprocess.act_thresh' must be a list of numbers or {\"arange\": [start, stop, step]}");
  CHECK(error_of({{"postprocess", {{"act_thresh", {{"arange", {0.5, 0.1, 0.1}}}}}}}).find("start < stop") !=
        std::string::npos);
  CHECK(error_of({{"postprocess", 3}}) == "p.json: profile key 'postprocess' must be a JSON object");
  CHECK(error_of({{"train_subset", "test"}}).find("profile key 'test_subset'") != std::string::npos);
}

TEST_CASE("profile: post-processing from the THUMOS14 profile equals PostprocessConfig() field by field") {
  const aicl::PostprocessConfig want;
  const aicl::PostprocessConfig got = aicl::postprocess_config_for(DatasetProfile::thumos14());
  CHECK(bits(got.class_thresh) == bits(want.class_thresh));
  REQUIRE(got.act_thresh.size() == want.act_thresh.size());
  for (size_t i = 0; i < want.act_thresh.size(); ++i) CHECK(bits(got.act_thresh[i]) == bits(want.act_thresh[i]));
  CHECK(got.act_thresh.size() == 9);
  CHECK(got.scale == want.scale);
  CHECK(bits(got.feature_fps) == bits(want.feature_fps));
  CHECK(got.frames_per_feature == want.frames_per_feature);
  CHECK(bits(got.outer_ratio) == bits(want.outer_ratio));
  CHECK(bits(got.class_score_weight) == bits(want.class_score_weight));
  CHECK(bits(got.nms_thresh) == bits(want.nms_thresh));
  CHECK(got.soft_nms == want.soft_nms);
  CHECK(bits(got.nms_alpha) == bits(want.nms_alpha));
  // An explicit list wins over the arange; other fields follow the profile.
  DatasetProfile p = small_profile();
  p.act_thresh = {0.2, 0.4};
  p.scale = 8;
  const aicl::PostprocessConfig c = aicl::postprocess_config_for(p);
  CHECK(c.act_thresh == std::vector<double>{0.2, 0.4});
  CHECK(c.scale == 8);
  CHECK(c.feature_fps == 30);
  CHECK(c.frames_per_feature == 8);
}

TEST_CASE("dataset: the profile is stored in the file and read back") {
  auto dir = aicl_test::temp_dir("profile_file");
  const std::string p = write_file(dir, small_profile());
  {
    Dataset ds(p);  // closed before the edits below (HDF5 will not reopen an open file read-write)
    CHECK(ds.profile() == small_profile());
    CHECK(ds.profile_note().empty());
    CHECK(ds.fps() == 30);
    CHECK(ds.segment_frames() == 8);
    CHECK(ds.subset_indices(ds.profile().test_subset) == std::vector<size_t>{1});
  }
  // The streams must add up to feature_dim when written...
  DatasetProfile wide = small_profile();
  wide.streams = {{"a", 4}, {"b", 4}};
  CHECK_THROWS_WITH(write_file(dir, wide), Catch::Contains("(a 4 + b 4 = 8 columns) do not add up to feature_dim 4"));
  // ... and when read; the fps/segment_frames attributes must agree with the profile; bad JSON is named.
  json j = small_profile().to_json();
  j["streams"][1]["width"] = 2;
  edit_root_attr(p, "profile", j.dump());
  CHECK_THROWS_WITH(Dataset(p), p + ": the profile's streams (a 1 + b 2 = 3 columns) do not add up to feature_dim 4");
  j = small_profile().to_json();
  j["fps"] = 25;
  edit_root_attr(p, "profile", j.dump());
  CHECK_THROWS_WITH(Dataset(p), p + ": the profile says 8 frames per segment at 25.0 fps but the file's attributes say 8 frames "
                                   "per segment at 30.0 fps");
  j = small_profile().to_json();
  j["colour"] = "blue";
  edit_root_attr(p, "profile", j.dump());
  CHECK_THROWS_WITH(Dataset(p), p + ": unknown profile key 'colour'");
  edit_root_attr(p, "profile", "{not json");
  CHECK_THROWS_WITH(Dataset(p), Catch::StartsWith(p + ": attribute 'profile' is not valid JSON"));
}

TEST_CASE("dataset: a file without a profile reads as THUMOS14, with a note") {
  auto dir = aicl_test::temp_dir("profile_old");
  aicl::SynthOptions o;
  o.train_videos = 2;
  o.test_videos = 1;
  o.max_segments = 40;
  o.stream_dim = 16;
  const std::string p = (dir / "old.h5").string();
  aicl::write_synth(o, p);
  edit_root_attr(p, "profile", "");  // as written before profiles existed
  Dataset ds(p);
  CHECK(ds.profile_note() ==
        p + ": no dataset profile recorded; reading it as THUMOS14 (re-import with aicl_data to record one)");
  DatasetProfile want = DatasetProfile::thumos14();
  want.streams = {{"rgb", 16}, {"flow", 16}};  // the file's own width, split as import/export always did
  CHECK(ds.profile() == want);
  CHECK(ds.profile().tiou == DatasetProfile::thumos14().tiou);
}

TEST_CASE("dataset: finite-feature and label checks name the video, segment and channel") {
  auto dir = aicl_test::temp_dir("profile_checks");
  const std::string p = write_file(dir, small_profile());
  Dataset ds(p);
  std::vector<float> table(ds.total_segments() * 4, 1.f);
  CHECK_NOTHROW(aicl::check_all_features_finite(ds, table.data()));
  table[ds.row_offset(1) * 4 + 2 * 4 + 3] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(aicl::check_all_features_finite(ds, table.data()),
                    p + ": video 'v2' has a non-finite feature at segment 2, channel 3");
  CHECK_THROWS_WITH(aicl::check_features_finite(ds, 1, table.data() + ds.row_offset(1) * 4),
                    p + ": video 'v2' has a non-finite feature at segment 2, channel 3");
  CHECK_NOTHROW(aicl::check_features_finite(ds, 0, table.data()));
  std::vector<float> big(5000 * 3, 0.f);  // past the first 4096-value block
  big[4500 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(aicl::check_features_finite("ctx", "v", big.data(), 5000, 3),
                    "ctx: video 'v' has a non-finite feature at segment 4500, channel 1");
  CHECK(aicl::has_any_label(ds.video(0)));
  aicl::VideoInfo none;
  none.labels = {0.f, 0.f};
  CHECK_FALSE(aicl::has_any_label(none));
}
