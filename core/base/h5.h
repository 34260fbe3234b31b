// An HDF5 file as an object (N-d float/int arrays, attributes, groups by path), on the helpers of data/h5.h.
#pragma once
#include <hdf5.h>

#include "core/base/h5_raw.h"

#include <cstdint>
#include <string>
#include <vector>

namespace aicl {

// An open HDF5 file; every error message starts with the file path.
class H5File {
 public:
  static H5File open_read(const std::string& path);
  static H5File create(const std::string& path);  // truncates

  const std::string& path() const { return path_; }
  hid_t id() const { return file_.get(); }
  bool exists(const std::string& name) const;  // dataset or group path, e.g. "grad/x" (parents checked)
  std::vector<int64_t> shape(const std::string& name) const;
  // Reads a float dataset (any stored float/int type is converted to float32 / float64).
  std::vector<float> read_floats(const std::string& name, std::vector<int64_t>* shape = nullptr) const;
  std::vector<double> read_doubles(const std::string& name, std::vector<int64_t>* shape = nullptr) const;
  std::vector<int64_t> read_ints(const std::string& name, std::vector<int64_t>* shape = nullptr) const;
  void write_floats(const std::string& name, const float* data, const std::vector<int64_t>& shape,
                    int deflate_level = 0);
  void write_doubles(const std::string& name, const double* data, const std::vector<int64_t>& shape);
  void write_ints(const std::string& name, const int64_t* data, const std::vector<int64_t>& shape);
  // Scalar / string attributes on the root group ("/") or on an object path.
  void set_attr_string(const std::string& obj, const std::string& key, const std::string& value);
  void set_attr_double(const std::string& obj, const std::string& key, double value);
  bool has_attr(const std::string& obj, const std::string& key) const;
  std::string attr_string(const std::string& obj, const std::string& key) const;
  double attr_double(const std::string& obj, const std::string& key) const;
  // Names of the children of a group.
  std::vector<std::string> list(const std::string& group) const;

 private:
  H5File(h5::Handle f, std::string path) : file_(std::move(f)), path_(std::move(path)) {}
  void ensure_parent_groups(const std::string& name);
  h5::Handle file_;
  std::string path_;
};

}  // namespace aicl
