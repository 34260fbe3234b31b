// The W-TALC / CO2-Net / DELU feature layout: one object-array .npy of per-video [T, 2048] features beside a
// folder of annotation arrays. Import reads it through the restricted unpickler (data/pickle.h); export writes
// the bytes np.save (numpy 1.24, pickle protocol 3) writes.
//
//   ROOT/<Name>-I3D-JOINTFeatures.npy      object array [V] of float [T, 2048] (RGB then flow)
//   ROOT/<Name>-Annotations/videoname.npy  |S (or <U / object) [V]
//                          subset.npy     |S [V]: the profile's subset names (THUMOS14 validation/test,
//                                          ActivityNet training/validation)
//                          classlist.npy  |S [C]
//                          duration.npy   <f8 [V] (or [V, 1], as W-TALC's THUMOS14 arrays)
//                          segments.npy   object [V]: lists of [start, end] seconds
//                          labels.npy     object [V]: lists of class names, one per segment
//                          labels_all.npy object [V]: the distinct labels of each video (read by W-TALC's loader)
#pragma once
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/import_export.h"
#include "data/npy.h"
#include "data/pickle.h"

namespace aicl {

// Reads a small .npy of numbers or strings, or an object array (through the restricted unpickler, payloads in
// memory). Throws "<path>: ..." for anything else.
PyArray load_npy_array(const std::string& path);

// The elements of a 1-D (or [N, 1]) array of strings (|S decoded as UTF-8, <U, or objects that are str/bytes);
// "<file>: element I is a dict, expected a string" otherwise.
std::vector<std::string> npy_strings(const PyArray& a, const std::string& file);
// Same for numbers (any numeric dtype, or objects that are numbers / numpy scalars).
std::vector<double> npy_numbers(const PyArray& a, const std::string& file);

// One video's entry of labels.npy / segments.npy: a list (or array) of strings / of [start, end] pairs.
// `context` ("<file>: video 'v'") starts the error for anything else.
std::vector<std::string> string_list(const PyValue& v, const std::string& context);
std::vector<std::pair<double, double>> segment_list(const PyValue& v, const std::string& context);

// The features file, parsed once; each video's matrix stays in the file until read.
class JointFeaturesFile {
 public:
  explicit JointFeaturesFile(const std::string& path);
  size_t size() const { return elements_.size(); }
  // Element i as [T, width] float32 (float64 converted); `video` names it in errors (not an array, not 2-D,
  // another width, no rows = shorter than one segment).
  NpyMatrix read(size_t i, const std::string& video, size_t width) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  mutable std::ifstream in_;
  std::vector<PyPtr> elements_;
};

// The name W-TALC's files carry for a profile: Thumos14reduced, ActivityNet1.2, ActivityNet1.3 (else the name).
std::string default_wtalc_name(const DatasetProfile& profile);

// Imports ROOT (options.root) as above; options.name picks <Name> when ROOT holds several feature files.
// Videos whose subset is neither of the profile's two are skipped (counted in a warning).
ImportReport import_wtalc(const ImportOptions& options);

// Writes the layout for the videos with features (annotation-only videos cannot be held: noted in
// `warnings`). Atomic like export_npy_root. Returns the number of files.
size_t export_wtalc(const Dataset& ds, const std::string& out_dir, const std::string& name,
                    std::vector<std::string>* warnings = nullptr);

// The encoders export uses, each giving np.save's exact bytes (tested against numpy-written files).
std::string npy_of_bytes_strings(const std::vector<std::string>& strings);  // dtype |S<longest>
std::string npy_of_doubles(const std::vector<double>& values, bool column);  // <f8 [N] or [N, 1]
std::string npy_of_string_lists(const std::vector<std::vector<std::string>>& lists);  // object: lists of str
std::string npy_of_segment_lists(const std::vector<std::vector<std::pair<double, double>>>& lists);
std::string npy_of_float_matrices(const std::vector<NpyMatrix>& matrices);  // object: float32 arrays

}  // namespace aicl
