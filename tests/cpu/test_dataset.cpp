// Tests of the dataset file: writer/reader round trip, ground-truth JSON, atomicity and every kind of bad file.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <filesystem>
#include <fstream>

#include "core/base/error.h"
#include "data/dataset.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl::Dataset;
using aicl::DatasetWriter;
using aicl::VideoInfo;

namespace {

const std::vector<std::string> kClasses = {"Alpha", "Beta", "Gamma"};

std::vector<float> ramp(int T, int D, float base) {
  std::vector<float> f(static_cast<size_t>(T * D));
  for (size_t i = 0; i < f.size(); ++i) f[i] = base + 0.25f * static_cast<float>(i);
  return f;
}

// Writer options whose profile (THUMOS14's protocol) has two streams of dim/2 columns.
aicl::DatasetWriterOptions options_for(int dim) {
  aicl::DatasetWriterOptions o;
  o.profile.streams = {{"rgb", dim / 2}, {"flow", dim - dim / 2}};
  return o;
}

// Two validation videos, one test video, one annotation-only video; feature_dim 6.
void write_small(const std::string& path, int compression = 0) {
  aicl::DatasetWriterOptions o = options_for(6);
  o.compression = compression;
  o.chunk_rows = 4;
  o.gt_version = "TEST";
  o.source = "unit test";
  DatasetWriter w(path, kClasses, 6, o);
  VideoInfo a{"vid_a", "validation", 5, 3.3, {}, {{0.5, 1.5, 0}, {2.0, 2.5, 2}}};
  VideoInfo b{"vid_b", "validation", 9, 6.0, {}, {{1.0, 4.0, 1}}};
  VideoInfo c{"vid_c", "test", 3, 2.0, {0, 1, 0}, {{0.1, 0.9, 1}}};
  w.add_video(a, ramp(5, 6, 0).data());
  w.add_video(b, ramp(9, 6, 100).data());
  w.add_video(c, ramp(3, 6, 1000).data());
  w.add_annotation_only({"vid_gt_only", "test", 0, 12.5, {}, {{3.0, 4.0, 2}}});
  w.finish();
}

}  // namespace

TEST_CASE("dataset: write then read gives back everything") {
  for (int compression : {0, 4}) {
    auto dir = aicl_test::temp_dir("ds_rt");
    const std::string p = (dir / "d.h5").string();
    write_small(p, compression);
    Dataset ds(p);
    CHECK(ds.format_version() == aicl::kDatasetFormatVersion);
    CHECK(ds.class_names() == kClasses);
    CHECK(ds.feature_dim() == 6);
    CHECK(ds.fps() == 25);
    CHECK(ds.segment_frames() == 16);
    CHECK(ds.compression_level() == compression);
    CHECK(ds.gt_version() == "TEST");
    CHECK(ds.source() == "unit test");
    REQUIRE(ds.num_videos() == 3);
    CHECK(ds.video(0).name == "vid_a");
    CHECK(ds.video(0).labels == std::vector<float>{1, 0, 1});  // derived from instances
    CHECK(ds.video(1).instances.size() == 1);
    CHECK(ds.video(1).instances[0].end == 4.0);
    CHECK(ds.video(2).duration == 2.0);
    CHECK(ds.subset_indices("validation") == std::vector<size_t>{0, 1});
    CHECK(ds.subset_indices("test") == std::vector<size_t>{2});
    CHECK(ds.find_video("vid_c") == 2);
    CHECK(ds.total_segments() == 17);
    CHECK(ds.row_offset(2) == 14);
    REQUIRE(ds.annotation_only_videos().size() == 1);
    CHECK(ds.annotation_only_videos()[0].name == "vid_gt_only");
    CHECK(ds.read_features(1) == ramp(9, 6, 100));
    std::vector<float> all(ds.total_segments() * 6);
    ds.read_all_features(all.data());
    CHECK(std::vector<float>(all.begin() + 14 * 6, all.end()) == ramp(3, 6, 1000));
    CHECK_THROWS_WITH(ds.video(3), Catch::Contains("out of range"));
  }
}

TEST_CASE("dataset: ground_truth_json is ActivityNet format with annotation-only videos") {
  auto dir = aicl_test::temp_dir("ds_gt");
  const std::string p = (dir / "d.h5").string();
  write_small(p);
  auto gt = Dataset(p).ground_truth_json();
  CHECK(gt["version"] == "TEST");
  const auto& db = gt["database"];
  CHECK(db.size() == 4);
  CHECK(db["vid_a"]["subset"] == "validation");
  CHECK(db["vid_a"]["duration"].get<double>() == 3.3);
  CHECK(db["vid_a"]["annotations"][1]["label"] == "Gamma");
  CHECK(db["vid_a"]["annotations"][1]["segment"] == nlohmann::json({2.0, 2.5}));
  CHECK(db["vid_gt_only"]["annotations"][0]["label"] == "Gamma");
}

TEST_CASE("dataset writer: bad input throws and leaves no file behind") {
  auto dir = aicl_test::temp_dir("ds_bad_writer");
  const std::string p = (dir / "d.h5").string();
  {
    DatasetWriter w(p, kClasses, 2, options_for(2));
    std::vector<float> f(4, 1.f);
    w.add_video({"v", "test", 2, 1.0, {}, {}}, f.data());
    CHECK_THROWS_WITH(w.add_video({"v", "test", 2, 1.0, {}, {}}, f.data()), Catch::Contains("duplicate video name 'v'"));
    CHECK_THROWS_WITH(w.add_video({"w", "test", 2, 1.0, {}, {{0, 1, 3}}}, f.data()), Catch::Contains("out of range"));
    CHECK_THROWS_WITH(w.add_video({"x", "test", 2, 1.0, {0.5f, 0, 0}, {}}, f.data()), Catch::Contains("0 or 1"));
    CHECK_THROWS_WITH(w.add_video({"y", "test", 2, 1.0, {}, {{2, 1, 0}}}, f.data()), Catch::Contains("bad instance"));
    f[1] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(w.add_video({"z", "test", 2, 1.0, {}, {}}, f.data()),
                      Catch::Contains(p + ": video 'z' has a non-finite feature at segment 0, channel 1"));
    // Destroyed without finish(): nothing at p, no temporary left.
  }
  CHECK(fs::is_empty(dir));
  CHECK_THROWS_WITH(DatasetWriter(p, {"b", "a"}, 2, options_for(2)), Catch::Contains("sorted"));
  CHECK_THROWS_WITH(DatasetWriter((dir / "no/such/dir/d.h5").string(), kClasses, 2, options_for(2)),
                    Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(DatasetWriter(p, kClasses, 2), Catch::Contains(p + ": the profile's streams (rgb 1024 + flow 1024 = "
                                                                      "2048 columns) do not add up to feature_dim 2"));
  {
    DatasetWriter w(p, kClasses, 2, options_for(2));
    CHECK_THROWS_WITH(w.finish(), Catch::Contains("no videos"));
  }
  CHECK(fs::is_empty(dir));
}

TEST_CASE("dataset reader: missing, non-HDF5, corrupt, wrong version, missing datasets") {
  auto dir = aicl_test::temp_dir("ds_bad_reader");
  const std::string p = (dir / "d.h5").string();
  CHECK_THROWS_WITH(Dataset(p), Catch::Contains(p + ": no such file"));
  { std::ofstream(p) << "this is not HDF5\n"; }
  CHECK_THROWS_WITH(Dataset(p), Catch::Contains(p + ": not an HDF5 file"));

  // A truncated copy of a real file.
  write_small(p);
  const std::string cut = (dir / "cut.h5").string();
  fs::copy_file(p, cut);
  fs::resize_file(cut, fs::file_size(p) / 2);
  CHECK_THROWS_AS(Dataset(cut), aicl::Error);

  // Other HDF5 files: no format attribute, a future version, a missing table.
  auto edit = [&](const std::function<void(hid_t)>& change) {
    const std::string e = (dir / "edited.h5").string();
    fs::remove(e);
    fs::copy_file(p, e);
    hid_t f = H5Fopen(e.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    change(f);
    H5Fclose(f);
    return e;
  };
  auto e1 = edit([](hid_t f) { H5Adelete(f, "format"); });
  CHECK_THROWS_WITH(Dataset(e1), Catch::Contains("not an aicl dataset"));
  auto e2 = edit([](hid_t f) {
    H5Adelete(f, "format_version");
    long long v = 2;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "format_version", H5T_NATIVE_LLONG, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, &v);
    H5Aclose(a);
    H5Sclose(s);
  });
  CHECK_THROWS_WITH(Dataset(e2), Catch::Contains("format version 2 is not supported"));
  auto e3 = edit([](hid_t f) { H5Ldelete(f, "videos/num_segments", H5P_DEFAULT); });
  CHECK_THROWS_WITH(Dataset(e3), Catch::Contains("missing dataset '/videos/num_segments'"));
  auto e4 = edit([](hid_t f) { H5Ldelete(f, "features", H5P_DEFAULT); });
  CHECK_THROWS_WITH(Dataset(e4), Catch::Contains("missing dataset '/features'"));
  auto e5 = edit([](hid_t f) { H5Ldelete(f, "instances", H5P_DEFAULT); });
  CHECK_THROWS_WITH(Dataset(e5), Catch::Contains("missing dataset '/instances/video'"));
}
