// The aicl dataset file (one HDF5 file per dataset, see docs/data-format.md): its reader and its writer.
#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"

namespace aicl {

const std::vector<std::string>& thumos14_class_names() {
  static const std::vector<std::string> names = {
      "BaseballPitch", "BasketballDunk", "Billiards",    "CleanAndJerk",  "CliffDiving",
      "CricketBowling", "CricketShot",   "Diving",       "FrisbeeCatch",  "GolfSwing",
      "HammerThrow",   "HighJump",       "JavelinThrow", "LongJump",      "PoleVault",
      "Shotput",       "SoccerPenalty",  "TennisSwing",  "ThrowDiscus",   "VolleyballSpiking"};
  return names;
}

namespace {

void check_class_names(const std::vector<std::string>& names, const std::string& context) {
  if (names.empty()) fail(context + ": no class names");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) fail(context + ": empty class name");
    if (i > 0 && !(names[i - 1] < names[i]))
      fail(context + ": class names must be unique and sorted alphabetically ('" + names[i - 1] + "' before '" +
           names[i] + "')");
  }
}

// Checks one video's metadata; returns its multi-hot labels (derived from the instances when empty).
std::vector<float> checked_labels(const VideoInfo& v, int num_classes, const std::string& context) {
  const std::string where = context + ": video '" + v.name + "'";
  if (v.name.empty()) fail(context + ": a video has an empty name");
  if (v.subset.empty()) fail(where + ": empty subset");
  if (v.num_segments < 0) fail(where + ": negative num_segments");
  if (!std::isfinite(v.duration) || v.duration < 0) fail(where + ": bad duration");
  for (const Instance& in : v.instances) {
    if (in.label < 0 || in.label >= num_classes) fail(where + ": instance label " + std::to_string(in.label) + " out of range");
    if (!std::isfinite(in.start) || !std::isfinite(in.end) || in.end < in.start)
      fail(where + ": bad instance segment [" + std::to_string(in.start) + ", " + std::to_string(in.end) + "]");
  }
  if (v.labels.empty()) {
    std::vector<float> labels(static_cast<size_t>(num_classes), 0.f);
    for (const Instance& in : v.instances) labels[static_cast<size_t>(in.label)] = 1.f;
    return labels;
  }
  if (v.labels.size() != static_cast<size_t>(num_classes))
    fail(where + ": " + std::to_string(v.labels.size()) + " labels, expected " + std::to_string(num_classes));
  for (float x : v.labels)
    if (x != 0.f && x != 1.f) fail(where + ": labels must be 0 or 1");
  return v.labels;
}

// The tables every dataset file has; checked up front so that a file of another kind is named as such.
const char* const kRequiredTables[] = {"classes",         "videos/name",     "videos/subset",   "videos/num_segments",
                                       "videos/duration", "videos/labels",   "instances/video", "instances/start",
                                       "instances/end",   "instances/label", "features"};

void check_required_tables(hid_t f, const std::string& ctx) {
  for (const char* t : kRequiredTables)
    if (!h5::exists(f, t)) fail(ctx + ": missing dataset '/" + std::string(t) + "' (not an aicl dataset, or a damaged one)");
}

std::string streams_text(const DatasetProfile& p) {
  std::string s;
  for (const FeatureStream& st : p.streams) s += (s.empty() ? "" : " + ") + st.name + " " + std::to_string(st.width);
  return s;
}

void check_profile_fits(const DatasetProfile& p, int feature_dim, const std::string& ctx) {
  if (p.feature_dim() != feature_dim)
    fail(ctx + ": the profile's streams (" + streams_text(p) + " = " + std::to_string(p.feature_dim()) +
         " columns) do not add up to feature_dim " + std::to_string(feature_dim));
}

// What a file without a recorded profile is read as: THUMOS14, with the file's own timing and width.
DatasetProfile fallback_profile(int feature_dim, double fps, int segment_frames) {
  DatasetProfile p = DatasetProfile::thumos14();
  p.fps = fps;
  p.segment_frames = segment_frames;
  if (feature_dim % 2 == 0) p.streams = {{"rgb", feature_dim / 2}, {"flow", feature_dim / 2}};
  else p.streams = {{"features", feature_dim}};
  return p;
}

// The recorded profile (root attribute "profile"), checked against the file's other attributes.
DatasetProfile read_profile(hid_t f, int feature_dim, double fps, int segment_frames, const std::string& ctx,
                            std::string& note) {
  if (!h5::has_attr(f, "profile")) {
    note = ctx + ": no dataset profile recorded; reading it as THUMOS14 (re-import with aicl_data to record one)";
    return fallback_profile(feature_dim, fps, segment_frames);
  }
  json j;
  try {
    j = json::parse(h5::get_attr_string(f, "profile", ctx));
  } catch (const json::exception& e) {
    fail(ctx + ": attribute 'profile' is not valid JSON (" + std::string(e.what()) + ")");
  }
  DatasetProfile p = DatasetProfile::from_json(j, ctx);
  check_profile_fits(p, feature_dim, ctx);
  auto timing = [](int frames, double rate) {  // json's shortest round-trip form shows any difference
    return std::to_string(frames) + " frames per segment at " + json(rate).dump() + " fps";
  };
  if (p.fps != fps || p.segment_frames != segment_frames)
    fail(ctx + ": the profile says " + timing(p.segment_frames, p.fps) + " but the file's attributes say " +
         timing(segment_frames, fps));
  return p;
}

}  // namespace

void check_features_finite(const std::string& context, const std::string& video, const float* rows,
                           size_t num_segments, size_t feature_dim) {
  // Blocks without a branch per value, testing the exponent bits (vectorises; std::isfinite did not), then the
  // exact place in the first bad block.
  const size_t n = num_segments * feature_dim, block = 4096;
  for (size_t b = 0; b < n; b += block) {
    const size_t e = std::min(n, b + block);
    uint32_t bad = 0;
    for (size_t i = b; i < e; ++i) {
      uint32_t u;
      std::memcpy(&u, rows + i, 4);
      bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    if (!bad) continue;
    for (size_t i = b; i < e; ++i)
      if (!std::isfinite(rows[i]))
        fail(context + ": video '" + video + "' has a non-finite feature at segment " + std::to_string(i / feature_dim) +
             ", channel " + std::to_string(i % feature_dim));
  }
}

void check_features_finite(const Dataset& ds, size_t index, const float* rows) {
  const VideoInfo& v = ds.video(index);
  check_features_finite(ds.path(), v.name, rows, static_cast<size_t>(v.num_segments),
                        static_cast<size_t>(ds.feature_dim()));
}

void check_all_features_finite(const Dataset& ds, const float* table) {
  const size_t D = static_cast<size_t>(ds.feature_dim());
  for (size_t i = 0; i < ds.num_videos(); ++i) check_features_finite(ds, i, table + ds.row_offset(i) * D);
}

bool has_any_label(const VideoInfo& video) {
  return std::any_of(video.labels.begin(), video.labels.end(), [](float l) { return l != 0; });
}

// ------------------------------------------------------------------------------------------ reader

struct Dataset::Impl {
  std::string path;
  h5::Handle file, features;
  int format_version = 0, feature_dim = 0, segment_frames = 16, compression = 0;
  double fps = 25;
  std::string source, gt_version;
  DatasetProfile profile;
  std::string profile_note;
  std::vector<std::string> classes;
  std::vector<VideoInfo> videos, annotation_only;
  std::vector<size_t> offsets;  // row offsets, size num_videos + 1

  void read_header();
  void read_videos();
  void open_features();
};

// Root attributes: format, version, feature_dim, timing, provenance and the profile.
void Dataset::Impl::read_header() {
  const std::string& ctx = path;
  hid_t f = file.get();
  if (!h5::has_attr(f, "format")) fail(ctx + ": not an aicl dataset (no 'format' attribute)");
  std::string format = h5::get_attr_string(f, "format", ctx);
  if (format != kDatasetFormatName) fail(ctx + ": not an aicl dataset (format is '" + format + "')");
  int64_t version = h5::get_attr_int(f, "format_version", ctx);
  if (version != kDatasetFormatVersion)
    fail(ctx + ": dataset format version " + std::to_string(version) + " is not supported (this build reads version " +
         std::to_string(kDatasetFormatVersion) + ")");
  format_version = static_cast<int>(version);
  check_required_tables(f, ctx);
  int64_t dim = h5::get_attr_int(f, "feature_dim", ctx);
  if (dim <= 0 || dim > (1 << 20)) fail(ctx + ": bad feature_dim " + std::to_string(dim));
  feature_dim = static_cast<int>(dim);
  fps = h5::get_attr_double(f, "fps", ctx);
  int64_t sf = h5::get_attr_int(f, "segment_frames", ctx);
  if (!(fps > 0) || !std::isfinite(fps) || sf <= 0 || sf > (1 << 30)) fail(ctx + ": bad fps/segment_frames attributes");
  segment_frames = static_cast<int>(sf);
  source = h5::has_attr(f, "source") ? h5::get_attr_string(f, "source", ctx) : "";
  gt_version = h5::has_attr(f, "gt_version") ? h5::get_attr_string(f, "gt_version", ctx) : "";
  profile = read_profile(f, feature_dim, fps, segment_frames, ctx, profile_note);
}

// Classes, the /videos and /instances tables, checked for consistency.
void Dataset::Impl::read_videos() {
  const std::string& ctx = path;
  hid_t f = file.get();
  classes = h5::read_strings(f, "classes", ctx);
  check_class_names(classes, ctx);
  const size_t C = classes.size();

  auto names = h5::read_strings(f, "videos/name", ctx);
  auto subsets = h5::read_strings(f, "videos/subset", ctx);
  auto segs = h5::read_int64s(f, "videos/num_segments", ctx);
  auto durations = h5::read_doubles(f, "videos/duration", ctx);
  hsize_t lrows = 0, lcols = 0;
  auto labels = h5::read_floats_2d(f, "videos/labels", lrows, lcols, ctx);
  const size_t V = names.size();
  if (subsets.size() != V || segs.size() != V || durations.size() != V || lrows != V || lcols != C)
    fail(ctx + ": the /videos tables have inconsistent lengths");

  auto inst_video = h5::read_int64s(f, "instances/video", ctx);
  auto inst_start = h5::read_doubles(f, "instances/start", ctx);
  auto inst_end = h5::read_doubles(f, "instances/end", ctx);
  auto inst_label = h5::read_int32s(f, "instances/label", ctx);
  const size_t N = inst_video.size();
  if (inst_start.size() != N || inst_end.size() != N || inst_label.size() != N)
    fail(ctx + ": the /instances tables have inconsistent lengths");

  std::vector<VideoInfo> all(V);
  std::set<std::string> seen;
  for (size_t i = 0; i < V; ++i) {
    VideoInfo& v = all[i];
    v.name = names[i];
    v.subset = subsets[i];
    if (segs[i] < 0 || segs[i] > (1LL << 30)) fail(ctx + ": video '" + v.name + "': bad num_segments");
    v.num_segments = static_cast<int>(segs[i]);
    v.duration = durations[i];
    v.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(i * C), labels.begin() + static_cast<std::ptrdiff_t>((i + 1) * C));
    if (!seen.insert(v.name).second) fail(ctx + ": duplicate video name '" + v.name + "'");
  }
  for (size_t k = 0; k < N; ++k) {
    if (inst_video[k] < 0 || static_cast<size_t>(inst_video[k]) >= V)
      fail(ctx + ": instance " + std::to_string(k) + " refers to a missing video");
    all[static_cast<size_t>(inst_video[k])].instances.push_back({inst_start[k], inst_end[k], inst_label[k]});
  }
  for (VideoInfo& v : all) {
    checked_labels(v, static_cast<int>(C), ctx);
    if (v.num_segments > 0) videos.push_back(std::move(v));
    else annotation_only.push_back(std::move(v));
  }
  offsets.assign(1, 0);
  for (const VideoInfo& v : videos) offsets.push_back(offsets.back() + static_cast<size_t>(v.num_segments));
}

// Keeps the feature table open, with a larger chunk cache (helps when it is compressed).
void Dataset::Impl::open_features() {
  const std::string& ctx = path;
  h5::Handle dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  H5Pset_chunk_cache(dapl.get(), 1031, 32u << 20, 1.0);
  hid_t fid = H5Dopen2(file.get(), "features", dapl.get());
  if (fid < 0) fail(ctx + ": cannot open dataset '/features' (damaged file?)");
  features = h5::Handle(fid, H5Dclose);
  auto fdims = h5::dataset_dims(fid, ctx);
  if (fdims.size() != 2 || fdims[1] != static_cast<hsize_t>(feature_dim) || fdims[0] != offsets.back())
    fail(ctx + ": /features has the wrong shape for the videos' num_segments and feature_dim");
  h5::Handle ftype(H5Dget_type(fid), H5Tclose);
  if (!ftype.valid() || H5Tget_class(ftype.get()) != H5T_FLOAT) fail(ctx + ": /features is not a float table");
  h5::Handle dcpl(H5Dget_create_plist(fid), H5Pclose);
  int nfilters = dcpl.valid() ? H5Pget_nfilters(dcpl.get()) : 0;
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, cd[8] = {0};
    size_t ncd = 8;
    H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &ncd, cd, 0, nullptr, nullptr);
    if (id == H5Z_FILTER_DEFLATE && ncd > 0) compression = static_cast<int>(cd[0]);
  }
}

Dataset::Dataset(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->file = h5::file_open_read(path);
  impl_->read_header();
  impl_->read_videos();
  impl_->open_features();
}

Dataset::~Dataset() = default;
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;

const std::string& Dataset::path() const { return impl_->path; }
int Dataset::format_version() const { return impl_->format_version; }
const std::vector<std::string>& Dataset::class_names() const { return impl_->classes; }
int Dataset::num_classes() const { return static_cast<int>(impl_->classes.size()); }
int Dataset::feature_dim() const { return impl_->feature_dim; }
double Dataset::fps() const { return impl_->fps; }
int Dataset::segment_frames() const { return impl_->segment_frames; }
const std::string& Dataset::source() const { return impl_->source; }
const std::string& Dataset::gt_version() const { return impl_->gt_version; }
const DatasetProfile& Dataset::profile() const { return impl_->profile; }
const std::string& Dataset::profile_note() const { return impl_->profile_note; }
int Dataset::compression_level() const { return impl_->compression; }
size_t Dataset::num_videos() const { return impl_->videos.size(); }
const std::vector<VideoInfo>& Dataset::annotation_only_videos() const { return impl_->annotation_only; }
size_t Dataset::total_segments() const { return impl_->offsets.back(); }

const VideoInfo& Dataset::video(size_t index) const {
  if (index >= impl_->videos.size())
    fail(impl_->path + ": video index " + std::to_string(index) + " out of range (" +
         std::to_string(impl_->videos.size()) + " videos)");
  return impl_->videos[index];
}

size_t Dataset::row_offset(size_t index) const {
  video(index);
  return impl_->offsets[index];
}

std::vector<size_t> Dataset::subset_indices(const std::string& subset) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < impl_->videos.size(); ++i)
    if (impl_->videos[i].subset == subset) out.push_back(i);
  return out;
}

size_t Dataset::find_video(const std::string& name) const {
  for (size_t i = 0; i < impl_->videos.size(); ++i)
    if (impl_->videos[i].name == name) return i;
  fail(impl_->path + ": no video named '" + name + "'");
}

static void read_rows(const Dataset& ds, hid_t dset, size_t first_row, size_t rows, int dim, float* out,
                      const std::string& what) {
  if (rows == 0) return;
  h5::Handle fspace(H5Dget_space(dset), H5Sclose);
  hsize_t start[2] = {first_row, 0}, count[2] = {rows, static_cast<hsize_t>(dim)};
  // A memory space of the selection's own shape: HDF5 then copies whole rows (a flat one made it map every
  // element, most of an import's CPU time).
  hsize_t mdims[2] = {rows, static_cast<hsize_t>(dim)};
  h5::Handle mspace(H5Screate_simple(2, mdims, nullptr), H5Sclose);
  if (!fspace.valid() || !mspace.valid() ||
      H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
      H5Dread(dset, H5T_NATIVE_FLOAT, mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0)
    fail(ds.path() + ": cannot read the features of " + what + " (corrupt or truncated file?)");
}

void Dataset::read_features(size_t index, float* out) const {
  const VideoInfo& v = video(index);
  read_rows(*this, impl_->features.get(), impl_->offsets[index], static_cast<size_t>(v.num_segments),
            impl_->feature_dim, out, "video '" + v.name + "'");
}

std::vector<float> Dataset::read_features(size_t index) const {
  std::vector<float> out(static_cast<size_t>(video(index).num_segments) * static_cast<size_t>(impl_->feature_dim));
  read_features(index, out.data());
  return out;
}

void Dataset::read_all_features(float* out) const {
  // In slabs, so a damaged file fails with a clear message and memory for HDF5's conversion stays small.
  const size_t total = total_segments(), slab = 4096;
  for (size_t r = 0; r < total; r += slab)
    read_rows(*this, impl_->features.get(), r, std::min(slab, total - r), impl_->feature_dim,
              out + r * static_cast<size_t>(impl_->feature_dim), "rows " + std::to_string(r) + "+");
}

nlohmann::json Dataset::ground_truth_json() const {
  nlohmann::json db = nlohmann::json::object();
  auto add = [&](const VideoInfo& v) {
    nlohmann::json annos = nlohmann::json::array();
    for (const Instance& in : v.instances)
      annos.push_back({{"label", impl_->classes[static_cast<size_t>(in.label)]}, {"segment", {in.start, in.end}}});
    db[v.name] = {{"subset", v.subset}, {"duration", v.duration}, {"annotations", annos}};
  };
  for (const VideoInfo& v : impl_->videos) add(v);
  for (const VideoInfo& v : impl_->annotation_only) add(v);
  return {{"version", impl_->gt_version}, {"taxonomy", nlohmann::json::array()}, {"database", db}};
}

// ------------------------------------------------------------------------------------------ writer

struct DatasetWriter::Impl {
  std::string path;
  std::vector<std::string> classes;
  int dim = 0;
  DatasetWriterOptions opts;
  std::optional<AtomicFile> out;  // declared before the handles: they close first, then it removes the temp file
  h5::Handle file, features;
  size_t rows = 0;
  bool finished = false;
  std::set<std::string> names_seen;
  std::vector<std::string> names, subsets;
  std::vector<int64_t> segs;
  std::vector<double> durations;
  std::vector<float> labels;
  std::vector<int64_t> inst_video;
  std::vector<double> inst_start, inst_end;
  std::vector<int32_t> inst_label;
  size_t feature_videos = 0;

  void add_meta(const VideoInfo& v) {
    std::vector<float> l = checked_labels(v, static_cast<int>(classes.size()), path);
    if (!names_seen.insert(v.name).second) fail(path + ": duplicate video name '" + v.name + "'");
    const int64_t index = static_cast<int64_t>(names.size());
    names.push_back(v.name);
    subsets.push_back(v.subset);
    segs.push_back(v.num_segments);
    durations.push_back(v.duration);
    labels.insert(labels.end(), l.begin(), l.end());
    for (const Instance& in : v.instances) {
      inst_video.push_back(index);
      inst_start.push_back(in.start);
      inst_end.push_back(in.end);
      inst_label.push_back(in.label);
    }
  }
  void create_feature_table();
  void write_metadata();
};

// An empty, growing [0, dim] table, chunked so that one video is one contiguous hyperslab.
void DatasetWriter::Impl::create_feature_table() {
  hsize_t dims[2] = {0, static_cast<hsize_t>(dim)};
  hsize_t maxdims[2] = {H5S_UNLIMITED, static_cast<hsize_t>(dim)};
  hsize_t chunk[2] = {opts.chunk_rows, static_cast<hsize_t>(dim)};
  h5::Handle space(H5Screate_simple(2, dims, maxdims), H5Sclose);
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  bool ok = space.valid() && dcpl.valid() && H5Pset_chunk(dcpl.get(), 2, chunk) >= 0;
  if (ok && opts.compression > 0)
    ok = H5Pset_shuffle(dcpl.get()) >= 0 && H5Pset_deflate(dcpl.get(), static_cast<unsigned>(opts.compression)) >= 0;
  hid_t fid = ok ? H5Dcreate2(file.get(), "features", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT) : -1;
  if (fid < 0) fail(path + ": cannot create the feature table (is deflate available in this HDF5?)");
  features = h5::Handle(fid, H5Dclose);
}

DatasetWriter::DatasetWriter(const std::string& path, std::vector<std::string> class_names, int feature_dim,
                             DatasetWriterOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  w.path = path;
  w.classes = std::move(class_names);
  w.dim = feature_dim;
  w.opts = std::move(options);
  check_class_names(w.classes, path);
  if (feature_dim <= 0) fail(path + ": feature_dim must be positive");
  if (w.opts.compression < 0 || w.opts.compression > 9) fail(path + ": compression level must be 0..9");
  if (w.opts.chunk_rows == 0) fail(path + ": chunk_rows must be positive");
  w.opts.profile.validate(path);
  check_profile_fits(w.opts.profile, feature_dim, path);
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    fail(path + ": directory " + parent.string() + " does not exist");
  w.out.emplace(path);
  w.file = h5::file_create(w.out->tmp_path());
  w.create_feature_table();
}

DatasetWriter::~DatasetWriter() = default;

size_t DatasetWriter::num_videos() const { return impl_->feature_videos; }

void DatasetWriter::add_video(const VideoInfo& video, const float* features) {
  Impl& w = *impl_;
  if (w.finished) fail(w.path + ": add_video after finish");
  if (video.num_segments <= 0) fail(w.path + ": video '" + video.name + "' has no segments");
  const size_t T = static_cast<size_t>(video.num_segments), D = static_cast<size_t>(w.dim);
  check_features_finite(w.path, video.name, features, T, D);
  w.add_meta(video);
  hsize_t new_dims[2] = {w.rows + T, D};
  if (H5Dset_extent(w.features.get(), new_dims) < 0) fail(w.path + ": cannot extend the feature table");
  h5::Handle fspace(H5Dget_space(w.features.get()), H5Sclose);
  hsize_t start[2] = {w.rows, 0}, count[2] = {T, D};
  h5::Handle mspace(H5Screate_simple(2, count, nullptr), H5Sclose);  // the selection's shape: row copies
  if (!fspace.valid() || !mspace.valid() ||
      H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
      H5Dwrite(w.features.get(), H5T_NATIVE_FLOAT, mspace.get(), fspace.get(), H5P_DEFAULT, features) < 0)
    fail(w.path + ": cannot write the features of '" + video.name + "' (disk full?)");
  w.rows += T;
  ++w.feature_videos;
}

void DatasetWriter::add_annotation_only(const VideoInfo& video) {
  Impl& w = *impl_;
  if (w.finished) fail(w.path + ": add_annotation_only after finish");
  if (video.num_segments != 0) fail(w.path + ": annotation-only video '" + video.name + "' must have num_segments 0");
  w.add_meta(video);
}

// Root attributes (the profile's fps/segment_frames duplicated as attributes), classes, videos, instances.
void DatasetWriter::Impl::write_metadata() {
  const std::string& ctx = path;
  hid_t f = file.get();
  h5::set_attr_string(f, "format", kDatasetFormatName, ctx);
  h5::set_attr_int(f, "format_version", kDatasetFormatVersion, ctx);
  h5::set_attr_int(f, "feature_dim", dim, ctx);
  h5::set_attr_double(f, "fps", opts.profile.fps, ctx);
  h5::set_attr_int(f, "segment_frames", opts.profile.segment_frames, ctx);
  h5::set_attr_string(f, "source", opts.source, ctx);
  h5::set_attr_string(f, "gt_version", opts.gt_version, ctx);
  h5::set_attr_string(f, "profile", opts.profile.to_json().dump(), ctx);
  h5::write_strings(f, "classes", classes, ctx);
  {
    h5::Handle g = h5::group_create(f, "videos", ctx);
    h5::write_strings(g.get(), "name", names, ctx);
    h5::write_strings(g.get(), "subset", subsets, ctx);
    h5::write_int64s(g.get(), "num_segments", segs, ctx);
    h5::write_doubles(g.get(), "duration", durations, ctx);
    h5::write_floats_2d(g.get(), "labels", labels, names.size(), classes.size(), ctx);
  }
  {
    h5::Handle g = h5::group_create(f, "instances", ctx);
    h5::write_int64s(g.get(), "video", inst_video, ctx);
    h5::write_doubles(g.get(), "start", inst_start, ctx);
    h5::write_doubles(g.get(), "end", inst_end, ctx);
    h5::write_int32s(g.get(), "label", inst_label, ctx);
  }
}

void DatasetWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) return;
  if (w.feature_videos == 0) fail(w.path + ": no videos with features to write");
  w.write_metadata();
  w.features.reset();
  if (H5Fflush(w.file.get(), H5F_SCOPE_GLOBAL) < 0) fail(w.path + ": cannot flush (disk full?)");
  hid_t raw = w.file.release();  // a failed close must not be retried by the destructor
  if (H5Fclose(raw) < 0) fail(w.path + ": cannot close the temporary file (disk full?)");
  w.out->commit();
  w.finished = true;
}

}  // namespace aicl
