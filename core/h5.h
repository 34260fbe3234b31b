// Minimal RAII wrapper over the HDF5 C API: open/create files, read/write float arrays, strings and scalars.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aicl {

// Owns one HDF5 identifier and closes it with the right H5*close.
class H5Handle {
 public:
  H5Handle() = default;
  explicit H5Handle(hid_t id) : id_(id) {}
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  H5Handle(H5Handle&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  H5Handle& operator=(H5Handle&& o) noexcept;
  ~H5Handle() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
};

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
  H5File(H5Handle f, std::string path) : file_(std::move(f)), path_(std::move(path)) {}
  void ensure_parent_groups(const std::string& name);
  H5Handle file_;
  std::string path_;
};

}  // namespace aicl
