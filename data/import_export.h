// Conversion between the aicl dataset file and the .npy feature layout used by AICL, CoLA, BaS-Net and ASL.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace aicl {

// The npy layout under ROOT:
//   "split": ROOT/features/{train,test}/<stream>/<video>.npy, one per profile stream (THUMOS14: rgb, flow,
//            float [T, 1024] each)
//   "joint": ROOT/features/{train,test}/<video>.npy, the streams side by side (THUMOS14: [T, 2048])
// plus ROOT/gt.json (ActivityNet format) and ROOT/split_{train,test}.txt (one video name per line).
// split_train.txt is the official training split and becomes the profile's train subset (THUMOS14:
// "validation"); split_test.txt its test subset ("test").
struct ImportOptions {
  std::string root;
  std::string out;                // the .h5 to write (atomically)
  std::string layout = "split";   // or "joint"
  bool truncate = false;          // cut RGB/flow to the shorter stream instead of failing
  std::string classes = "thumos14";  // "thumos14" (the official 20) or "from-gt" (sorted labels of gt.json)
  int compression = 0;            // deflate level of the feature table
  std::string profile = "thumos14";  // the dataset profile to record (DatasetProfile::named; only thumos14 so far)
};

struct ImportReport {
  size_t videos = 0, segments = 0, annotation_only = 0;
  std::vector<std::string> warnings;  // one line each (truncations, float64 inputs, subset mismatches, ...)
};

ImportReport import_npy_root(const ImportOptions& options);

// Writes `ds` as an npy-layout root at `out_dir` (which must not exist, or be an empty directory). Everything is
// written under a temporary sibling directory that is renamed into place at the end, so a failure leaves
// nothing behind. Float32 values are written unchanged, with NumPy's own header bytes. Returns the file count.
size_t export_npy_root(const Dataset& ds, const std::string& out_dir, const std::string& layout = "split");

}  // namespace aicl
