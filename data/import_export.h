// Conversion between the aicl dataset file and the feature layouts WTAL code reads (AICL/CoLA/BaS-Net/ASL per
// stream, ACM-Net/FTCL/SAL_ActivityNet concatenated, W-TALC/CO2-Net/DELU object arrays in data/wtalc.h).
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/check.h"
#include "data/dataset.h"

namespace aicl {

// The npy layouts under ROOT, with ROOT/gt.json (ActivityNet format) and ROOT/split_{train,test}.txt (one video
// name per line; split_train.txt becomes the profile's train subset, split_test.txt its test subset):
//   "split":  ROOT/features/{train,test}/<stream>/<video>.npy, one per profile stream (THUMOS14: rgb, flow,
//             float [T, 1024] each)
//   "joint":  ROOT/features/{train,test}/<video>.npy, the streams side by side ([T, 2048])
//   "concat": ROOT/train/<video>.npy and ROOT/test/ or ROOT/validation/<video>.npy ([T, 2048]; SAL_ActivityNet
//             reads validation/, ACM-Net and FTCL test/)
//   "wtalc":  data/wtalc.h
struct ImportOptions {
  std::string root;
  std::string out;                // the .h5 to write (atomically)
  std::string layout = "split";   // split, joint, concat or wtalc
  bool truncate = false;          // cut RGB/flow to the shorter stream instead of failing
  // "thumos14" (the official 20), "from-gt" (sorted labels of gt.json), or "" = thumos14 for the thumos14
  // profile and from-gt for the others. The wtalc layout takes classlist.npy.
  std::string classes;
  int compression = 0;            // deflate level of the feature table
  std::string profile = "thumos14";  // the dataset profile to record (DatasetProfile::named)
  std::string name;               // wtalc: the <Name> of <Name>-I3D-JOINTFeatures.npy when ROOT holds several
  int stream_width = 0;           // > 0: the features are rgb + flow of this many columns each (not the profile's)
  // Called after each video with (videos done, videos in all, segments so far), e.g. for a progress line.
  std::function<void(size_t, size_t, size_t)> progress;
};

struct ImportReport {
  size_t videos = 0, segments = 0, annotation_only = 0, skipped = 0;
  std::vector<std::string> warnings;     // one line each (truncations, float64 inputs, subset mismatches, ...)
  std::vector<CheckFinding> findings;    // the checks of data/check.h (warnings only: an error stops the import)
};

// Imports any of the layouts above into options.out. Every video goes through DatasetChecker as it is read
// (one video in memory at a time); an error stops the import before anything is written.
ImportReport import_npy_root(const ImportOptions& options);

// Writes `ds` in a layout ("split", "joint" or "concat"; wtalc: export_wtalc) at `out_dir` (which must not exist,
// or be an empty directory). Everything is written under a temporary sibling directory that is renamed into place
// at the end, so a failure leaves nothing behind. Float32 values are written unchanged, with NumPy's own header
// bytes. Returns the file count.
size_t export_npy_root(const Dataset& ds, const std::string& out_dir, const std::string& layout = "split");

// The directory protocol of the exports: `fill` writes the tree into an empty temporary sibling of `out_dir`,
// which then replaces `out_dir` (absent or an empty directory); any failure removes the temporary tree.
void write_directory_atomically(const std::string& out_dir, const std::function<void(const std::filesystem::path&)>& fill);

// The test folder of the concat layout for a profile: "validation" where the profile tests on a subset of that
// name (ActivityNet, as SAL_ActivityNet reads it), else "test".
std::string concat_test_folder(const DatasetProfile& profile);

// The profile an import records: DatasetProfile::named(options.profile), with options.stream_width applied.
DatasetProfile import_profile(const ImportOptions& options);

// The classes option resolved for a profile ("" -> thumos14 or from-gt).
std::string resolved_classes_option(const std::string& option, const DatasetProfile& profile);

// Progress and bookkeeping shared by the importers: checks and writes one video, counts it, reports progress.
struct ImportSink {
  ImportSink(const ImportOptions& o, const DatasetProfile& profile, const std::vector<std::string>& classes,
             DatasetWriter& writer, ImportReport& report, size_t total);
  void add(const VideoInfo& v, const float* rows);
  void add_annotation_only(const VideoInfo& v);
  void finish();  // the checker's file-level findings into the report

 private:
  const ImportOptions& options_;
  DatasetWriter& writer_;
  ImportReport& report_;
  DatasetChecker checker_;
  size_t total_;
};

}  // namespace aicl
