// The HDF5 layer: RAII handles and whole-dataset/attribute helpers (aicl::h5), and H5File, a file as an object.
//
// Datasets, weights and checkpoints all go through here, so every message names the file and says what HDF5
// object failed, never what kind of aicl file it should have been (the callers add that).
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aicl::h5 {

// Owns one HDF5 identifier and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = -1;
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = -1;
  }
  hid_t release() {  // gives up ownership without closing
    hid_t id = id_;
    id_ = -1;
    return id;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// `context` is the file path: each helper throws aicl::Error "<context>: <what>" when an HDF5 call fails.
Handle file_create(const std::string& path);     // truncates
Handle file_open_read(const std::string& path);  // checks existence and the HDF5 signature first
Handle group_create(hid_t loc, const std::string& name, const std::string& context);
bool exists(hid_t loc, const std::string& path);  // every component of "a/b/c" checked
Handle dataset_open(hid_t loc, const std::string& path, const std::string& context);
std::vector<hsize_t> dataset_dims(hid_t dset, const std::string& context);

// Whole-dataset writers (contiguous; a chunked, growing table is the caller's own, e.g. data/dataset.cpp).
void write_doubles(hid_t loc, const std::string& name, const std::vector<double>& v, const std::string& context);
void write_int64s(hid_t loc, const std::string& name, const std::vector<int64_t>& v, const std::string& context);
void write_int32s(hid_t loc, const std::string& name, const std::vector<int32_t>& v, const std::string& context);
void write_floats_2d(hid_t loc, const std::string& name, const std::vector<float>& v, hsize_t rows, hsize_t cols,
                     const std::string& context);
// Fixed-length, NUL-padded UTF-8 strings (width = longest string, at least 1).
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v, const std::string& context);

// Whole-dataset readers; the rank and the type class are checked.
std::vector<double> read_doubles(hid_t loc, const std::string& path, const std::string& context);
std::vector<int64_t> read_int64s(hid_t loc, const std::string& path, const std::string& context);
std::vector<int32_t> read_int32s(hid_t loc, const std::string& path, const std::string& context);
std::vector<float> read_floats_2d(hid_t loc, const std::string& path, hsize_t& rows, hsize_t& cols,
                                  const std::string& context);
std::vector<std::string> read_strings(hid_t loc, const std::string& path, const std::string& context);

// Scalar attributes on an object (setting one that exists replaces it).
void set_attr_int(hid_t obj, const std::string& name, int64_t value, const std::string& context);
void set_attr_double(hid_t obj, const std::string& name, double value, const std::string& context);
void set_attr_string(hid_t obj, const std::string& name, const std::string& value, const std::string& context);
bool has_attr(hid_t obj, const std::string& name);
int64_t get_attr_int(hid_t obj, const std::string& name, const std::string& context);
double get_attr_double(hid_t obj, const std::string& name, const std::string& context);
std::string get_attr_string(hid_t obj, const std::string& name, const std::string& context);

}  // namespace aicl::h5

namespace aicl {

// An open HDF5 file addressed by paths ("grad/x"); every error message starts with the file path.
class H5File {
 public:
  static H5File open_read(const std::string& path);
  static H5File create(const std::string& path);  // truncates

  const std::string& path() const { return path_; }
  hid_t id() const { return file_.get(); }
  bool exists(const std::string& name) const;  // dataset or group path, e.g. "grad/x" (parents checked)
  std::vector<int64_t> shape(const std::string& name) const;
  // Reads a numeric dataset; any stored float/int type is converted.
  std::vector<float> read_floats(const std::string& name, std::vector<int64_t>* shape = nullptr) const;
  std::vector<int64_t> read_ints(const std::string& name, std::vector<int64_t>* shape = nullptr) const;
  // Missing parent groups are created.
  void write_floats(const std::string& name, const float* data, const std::vector<int64_t>& shape,
                    int deflate_level = 0);
  void write_ints(const std::string& name, const int64_t* data, const std::vector<int64_t>& shape);
  // Scalar / string attributes on the root group ("/") or on an object path.
  void create_group(const std::string& name);  // with its parents; an existing group is kept
  void set_attr_string(const std::string& obj, const std::string& key, const std::string& value);
  void set_attr_double(const std::string& obj, const std::string& key, double value);
  bool has_attr(const std::string& obj, const std::string& key) const;
  std::string attr_string(const std::string& obj, const std::string& key) const;
  double attr_double(const std::string& obj, const std::string& key) const;
  // Names of the children of a group (none when it does not exist).
  std::vector<std::string> list(const std::string& group) const;

 private:
  H5File(h5::Handle f, std::string path) : file_(std::move(f)), path_(std::move(path)) {}
  void ensure_parent_groups(const std::string& name);
  h5::Handle file_;
  std::string path_;
};

}  // namespace aicl
