// Small RAII wrappers and helpers over the HDF5 C API (files, groups, datasets, attributes, strings).
#include "core/base/h5_raw.h"

#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/base/error.h"

namespace aicl::h5 {

void silence_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

static void check(herr_t rc, const std::string& context, const std::string& what) {
  if (rc < 0) fail(context + ": HDF5 error while " + what);
}

static Handle checked(hid_t id, herr_t (*closer)(hid_t), const std::string& context, const std::string& what) {
  if (id < 0) fail(context + ": HDF5 error while " + what);
  return Handle(id, closer);
}

Handle file_create(const std::string& path) {
  silence_errors();
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, path, "creating the file");
}

Handle file_open_read(const std::string& path) {
  silence_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) fail(path + ": is a directory, expected an HDF5 file");
  htri_t is_h5 = H5Fis_hdf5(path.c_str());
  if (is_h5 <= 0) fail(path + ": not an HDF5 file");
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail(path + ": cannot open as HDF5 (corrupt or truncated file?)");
  return Handle(id, H5Fclose);
}

Handle group_create(hid_t loc, const std::string& name, const std::string& context) {
  return checked(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, context,
                 "creating group '" + name + "'");
}

bool exists(hid_t loc, const std::string& path) {
  std::string prefix;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    prefix += (prefix.empty() ? "" : "/") + part;
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Handle dataset_open(hid_t loc, const std::string& path, const std::string& context) {
  if (!exists(loc, path)) fail(context + ": missing dataset '/" + path + "' (not an aicl dataset, or damaged)");
  hid_t id = H5Dopen2(loc, path.c_str(), H5P_DEFAULT);
  if (id < 0) fail(context + ": cannot open dataset '/" + path + "' (damaged file?)");
  return Handle(id, H5Dclose);
}

std::vector<hsize_t> dataset_dims(hid_t dset, const std::string& context) {
  Handle space = checked(H5Dget_space(dset), H5Sclose, context, "reading a dataspace");
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(context + ": HDF5 error while reading a dataspace");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

static void write_plain(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                        const std::vector<hsize_t>& dims, const void* data, const std::string& context) {
  Handle space = checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, context,
                         "creating a dataspace");
  Handle dset = checked(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        H5Dclose, context, "creating dataset '" + name + "'");
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  if (n > 0) check(H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), context, "writing '" + name + "'");
}

void write_doubles(hid_t loc, const std::string& name, const std::vector<double>& v, const std::string& context) {
  write_plain(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {v.size()}, v.data(), context);
}
void write_int64s(hid_t loc, const std::string& name, const std::vector<int64_t>& v, const std::string& context) {
  write_plain(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {v.size()}, v.data(), context);
}
void write_int32s(hid_t loc, const std::string& name, const std::vector<int32_t>& v, const std::string& context) {
  write_plain(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, {v.size()}, v.data(), context);
}
void write_floats_2d(hid_t loc, const std::string& name, const std::vector<float>& v, hsize_t rows, hsize_t cols,
                     const std::string& context) {
  if (v.size() != rows * cols) fail(context + ": internal error: '" + name + "' size mismatch");
  write_plain(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {rows, cols}, v.data(), context);
}

static Handle string_type(size_t width) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), width);
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v, const std::string& context) {
  size_t width = 1;
  for (const auto& s : v) width = std::max(width, s.size());
  std::vector<char> buf(v.size() * width, '\0');
  for (size_t i = 0; i < v.size(); ++i) std::memcpy(buf.data() + i * width, v[i].data(), v[i].size());
  Handle t = string_type(width);
  write_plain(loc, name, t.get(), t.get(), {v.size()}, buf.data(), context);
}

template <typename T>
static std::vector<T> read_1d(hid_t loc, const std::string& path, hid_t mem_type, H5T_class_t want_class,
                              const std::string& context) {
  Handle dset = dataset_open(loc, path, context);
  auto dims = dataset_dims(dset.get(), context);
  if (dims.size() != 1) fail(context + ": dataset '/" + path + "' should be 1-D");
  Handle ftype = checked(H5Dget_type(dset.get()), H5Tclose, context, "reading a type");
  if (H5Tget_class(ftype.get()) != want_class) fail(context + ": dataset '/" + path + "' has the wrong type");
  std::vector<T> v(dims[0]);
  if (!v.empty()) check(H5Dread(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), context, "reading '/" + path + "'");
  return v;
}

std::vector<double> read_doubles(hid_t loc, const std::string& path, const std::string& context) {
  return read_1d<double>(loc, path, H5T_NATIVE_DOUBLE, H5T_FLOAT, context);
}
std::vector<int64_t> read_int64s(hid_t loc, const std::string& path, const std::string& context) {
  return read_1d<int64_t>(loc, path, H5T_NATIVE_INT64, H5T_INTEGER, context);
}
std::vector<int32_t> read_int32s(hid_t loc, const std::string& path, const std::string& context) {
  return read_1d<int32_t>(loc, path, H5T_NATIVE_INT32, H5T_INTEGER, context);
}

std::vector<float> read_floats_2d(hid_t loc, const std::string& path, hsize_t& rows, hsize_t& cols,
                                  const std::string& context) {
  Handle dset = dataset_open(loc, path, context);
  auto dims = dataset_dims(dset.get(), context);
  if (dims.size() != 2) fail(context + ": dataset '/" + path + "' should be 2-D");
  Handle ftype = checked(H5Dget_type(dset.get()), H5Tclose, context, "reading a type");
  if (H5Tget_class(ftype.get()) != H5T_FLOAT) fail(context + ": dataset '/" + path + "' has the wrong type");
  rows = dims[0];
  cols = dims[1];
  std::vector<float> v(rows * cols);
  if (!v.empty())
    check(H5Dread(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), context, "reading '/" + path + "'");
  return v;
}

std::vector<std::string> read_strings(hid_t loc, const std::string& path, const std::string& context) {
  Handle dset = dataset_open(loc, path, context);
  auto dims = dataset_dims(dset.get(), context);
  if (dims.size() != 1) fail(context + ": dataset '/" + path + "' should be 1-D");
  Handle ftype = checked(H5Dget_type(dset.get()), H5Tclose, context, "reading a type");
  if (H5Tget_class(ftype.get()) != H5T_STRING || H5Tis_variable_str(ftype.get()) > 0)
    fail(context + ": dataset '/" + path + "' should hold fixed-length strings");
  size_t width = H5Tget_size(ftype.get());
  if (width == 0) fail(context + ": dataset '/" + path + "' has a zero string width");
  Handle mtype = string_type(width);
  std::vector<char> buf(dims[0] * width);
  if (!buf.empty())
    check(H5Dread(dset.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), context, "reading '/" + path + "'");
  std::vector<std::string> out(dims[0]);
  for (size_t i = 0; i < out.size(); ++i) {
    const char* p = buf.data() + i * width;
    out[i].assign(p, strnlen(p, width));
  }
  return out;
}

static void set_attr(hid_t obj, const std::string& name, hid_t type, const void* value, const std::string& context) {
  Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, context, "creating a dataspace");
  Handle attr = checked(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, context,
                        "creating attribute '" + name + "'");
  check(H5Awrite(attr.get(), type, value), context, "writing attribute '" + name + "'");
}

void set_attr_int(hid_t obj, const std::string& name, int64_t value, const std::string& context) {
  set_attr(obj, name, H5T_NATIVE_INT64, &value, context);
}
void set_attr_double(hid_t obj, const std::string& name, double value, const std::string& context) {
  set_attr(obj, name, H5T_NATIVE_DOUBLE, &value, context);
}
void set_attr_string(hid_t obj, const std::string& name, const std::string& value, const std::string& context) {
  Handle t = string_type(std::max<size_t>(1, value.size()));
  std::string padded = value;
  padded.resize(std::max<size_t>(1, value.size()), '\0');
  set_attr(obj, name, t.get(), padded.data(), context);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

static Handle open_attr(hid_t obj, const std::string& name, H5T_class_t want, const std::string& context) {
  if (!has_attr(obj, name)) fail(context + ": missing attribute '" + name + "' (not an aicl dataset?)");
  Handle attr = checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, context, "opening attribute '" + name + "'");
  Handle t = checked(H5Aget_type(attr.get()), H5Tclose, context, "reading a type");
  if (H5Tget_class(t.get()) != want) fail(context + ": attribute '" + name + "' has the wrong type");
  return attr;
}

int64_t get_attr_int(hid_t obj, const std::string& name, const std::string& context) {
  Handle attr = open_attr(obj, name, H5T_INTEGER, context);
  int64_t v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), context, "reading attribute '" + name + "'");
  return v;
}

double get_attr_double(hid_t obj, const std::string& name, const std::string& context) {
  Handle attr = open_attr(obj, name, H5T_FLOAT, context);
  double v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), context, "reading attribute '" + name + "'");
  return v;
}

std::string get_attr_string(hid_t obj, const std::string& name, const std::string& context) {
  Handle attr = open_attr(obj, name, H5T_STRING, context);
  Handle t = checked(H5Aget_type(attr.get()), H5Tclose, context, "reading a type");
  if (H5Tis_variable_str(t.get()) > 0) fail(context + ": attribute '" + name + "' should be a fixed-length string");
  size_t width = H5Tget_size(t.get());
  Handle mtype = string_type(width);
  std::vector<char> buf(width + 1, '\0');
  check(H5Aread(attr.get(), mtype.get(), buf.data()), context, "reading attribute '" + name + "'");
  return std::string(buf.data(), strnlen(buf.data(), width));
}

}  // namespace aicl::h5
