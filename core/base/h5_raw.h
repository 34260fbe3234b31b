// Small RAII wrappers and helpers over the HDF5 C API (files, groups, datasets, attributes, strings).
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

// Turns off HDF5's automatic error-stack printing (we report one line ourselves). Idempotent.
void silence_errors();

// Each of these throws aicl::Error "<context>: <what>" when the HDF5 call fails.
Handle file_create(const std::string& path);            // truncates
Handle file_open_read(const std::string& path);         // checks existence and HDF5 signature first
Handle group_create(hid_t loc, const std::string& name, const std::string& context);
bool exists(hid_t loc, const std::string& path);        // every component of "a/b/c" checked
Handle dataset_open(hid_t loc, const std::string& path, const std::string& context);
std::vector<hsize_t> dataset_dims(hid_t dset, const std::string& context);

// Whole-dataset writers (contiguous; the big feature table is written separately with chunking).
void write_doubles(hid_t loc, const std::string& name, const std::vector<double>& v, const std::string& context);
void write_int64s(hid_t loc, const std::string& name, const std::vector<int64_t>& v, const std::string& context);
void write_int32s(hid_t loc, const std::string& name, const std::vector<int32_t>& v, const std::string& context);
void write_floats_2d(hid_t loc, const std::string& name, const std::vector<float>& v, hsize_t rows, hsize_t cols,
                     const std::string& context);
// Fixed-length, NUL-padded UTF-8 strings (width = longest string, at least 1).
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v, const std::string& context);

// Whole-dataset readers; `expected_rank` dims are checked and returned through `dims`.
std::vector<double> read_doubles(hid_t loc, const std::string& path, const std::string& context);
std::vector<int64_t> read_int64s(hid_t loc, const std::string& path, const std::string& context);
std::vector<int32_t> read_int32s(hid_t loc, const std::string& path, const std::string& context);
std::vector<float> read_floats_2d(hid_t loc, const std::string& path, hsize_t& rows, hsize_t& cols,
                                  const std::string& context);
std::vector<std::string> read_strings(hid_t loc, const std::string& path, const std::string& context);

// Scalar attributes on an object.
void set_attr_int(hid_t obj, const std::string& name, int64_t value, const std::string& context);
void set_attr_double(hid_t obj, const std::string& name, double value, const std::string& context);
void set_attr_string(hid_t obj, const std::string& name, const std::string& value, const std::string& context);
bool has_attr(hid_t obj, const std::string& name);
int64_t get_attr_int(hid_t obj, const std::string& name, const std::string& context);
double get_attr_double(hid_t obj, const std::string& name, const std::string& context);
std::string get_attr_string(hid_t obj, const std::string& name, const std::string& context);

}  // namespace aicl::h5
