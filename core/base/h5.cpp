// The HDF5 layer: RAII handles and whole-dataset/attribute helpers (aicl::h5), and H5File, a file as an object.
#include "core/base/h5.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/base/error.h"

namespace aicl::h5 {

namespace {

// HDF5 prints its error stack by default; we report one line ourselves.
void silence_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

void check(herr_t rc, const std::string& context, const std::string& what) {
  if (rc < 0) fail(context + ": HDF5 error while " + what);
}

Handle checked(hid_t id, herr_t (*closer)(hid_t), const std::string& context, const std::string& what) {
  if (id < 0) fail(context + ": HDF5 error while " + what);
  return Handle(id, closer);
}

size_t element_count(const std::vector<hsize_t>& dims) {
  size_t n = 1;
  for (hsize_t d : dims) n *= static_cast<size_t>(d);
  return n;
}

// Creates and fills one dataset; deflate_level > 0 stores it compressed, one chunk per leading index.
void write_array(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type, const std::vector<hsize_t>& dims,
                 const void* data, const std::string& context, int deflate_level = 0) {
  Handle space = checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, context,
                         "creating a dataspace");
  Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, context, "creating a property list");
  const size_t n = element_count(dims);
  if (deflate_level > 0 && n > 0 && !dims.empty()) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), context, "setting a chunk size");
    check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate_level)), context, "enabling compression");
  }
  Handle dset = checked(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                        H5Dclose, context, "creating dataset '" + name + "'");
  if (n > 0 && H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(context + ": cannot write dataset '" + name + "' (disk full?)");
}

Handle string_type(size_t width) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), width);
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

// Opens `path`, checks its rank (-1: any) and type class, returns its dims.
Handle open_checked(hid_t loc, const std::string& path, int rank, H5T_class_t want_class, const std::string& context,
                    std::vector<hsize_t>& dims) {
  Handle dset = dataset_open(loc, path, context);
  dims = dataset_dims(dset.get(), context);
  if (rank >= 0 && dims.size() != static_cast<size_t>(rank))
    fail(context + ": dataset '/" + path + "' should be " + std::to_string(rank) + "-D");
  Handle ftype = checked(H5Dget_type(dset.get()), H5Tclose, context, "reading a type");
  if (H5Tget_class(ftype.get()) != want_class) fail(context + ": dataset '/" + path + "' has the wrong type");
  return dset;
}

void read_into(hid_t dset, hid_t mem_type, size_t n, void* out, const std::string& path, const std::string& context) {
  if (n > 0 && H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    fail(context + ": cannot read dataset '/" + path + "' (corrupt or truncated file?)");
}

template <typename T>
std::vector<T> read_1d(hid_t loc, const std::string& path, hid_t mem_type, H5T_class_t want_class,
                       const std::string& context) {
  std::vector<hsize_t> dims;
  Handle dset = open_checked(loc, path, 1, want_class, context, dims);
  std::vector<T> v(dims[0]);
  read_into(dset.get(), mem_type, v.size(), v.data(), path, context);
  return v;
}

void set_attr(hid_t obj, const std::string& name, hid_t type, const void* value, const std::string& context) {
  if (has_attr(obj, name)) check(H5Adelete(obj, name.c_str()), context, "replacing attribute '" + name + "'");
  Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, context, "creating a dataspace");
  Handle attr = checked(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, context,
                        "creating attribute '" + name + "'");
  check(H5Awrite(attr.get(), type, value), context, "writing attribute '" + name + "'");
}

Handle open_attr(hid_t obj, const std::string& name, H5T_class_t want, const std::string& context) {
  if (!has_attr(obj, name)) fail(context + ": missing attribute '" + name + "'");
  Handle attr = checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, context, "opening attribute '" + name + "'");
  Handle t = checked(H5Aget_type(attr.get()), H5Tclose, context, "reading a type");
  if (H5Tget_class(t.get()) != want) fail(context + ": attribute '" + name + "' has the wrong type");
  return attr;
}

}  // namespace

Handle file_create(const std::string& path) {
  silence_errors();
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, path, "creating the file");
}

Handle file_open_read(const std::string& path) {
  silence_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) fail(path + ": is a directory, expected an HDF5 file");
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path + ": not an HDF5 file");
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
  if (!exists(loc, path)) fail(context + ": missing dataset '/" + path + "'");
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

void write_doubles(hid_t loc, const std::string& name, const std::vector<double>& v, const std::string& context) {
  write_array(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {v.size()}, v.data(), context);
}
void write_int64s(hid_t loc, const std::string& name, const std::vector<int64_t>& v, const std::string& context) {
  write_array(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {v.size()}, v.data(), context);
}
void write_int32s(hid_t loc, const std::string& name, const std::vector<int32_t>& v, const std::string& context) {
  write_array(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, {v.size()}, v.data(), context);
}
void write_floats_2d(hid_t loc, const std::string& name, const std::vector<float>& v, hsize_t rows, hsize_t cols,
                     const std::string& context) {
  if (v.size() != rows * cols) fail(context + ": internal error: '" + name + "' size mismatch");
  write_array(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {rows, cols}, v.data(), context);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v, const std::string& context) {
  size_t width = 1;
  for (const auto& s : v) width = std::max(width, s.size());
  std::vector<char> buf(v.size() * width, '\0');
  for (size_t i = 0; i < v.size(); ++i) std::memcpy(buf.data() + i * width, v[i].data(), v[i].size());
  Handle t = string_type(width);
  write_array(loc, name, t.get(), t.get(), {v.size()}, buf.data(), context);
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
  std::vector<hsize_t> dims;
  Handle dset = open_checked(loc, path, 2, H5T_FLOAT, context, dims);
  rows = dims[0];
  cols = dims[1];
  std::vector<float> v(rows * cols);
  read_into(dset.get(), H5T_NATIVE_FLOAT, v.size(), v.data(), path, context);
  return v;
}

std::vector<std::string> read_strings(hid_t loc, const std::string& path, const std::string& context) {
  std::vector<hsize_t> dims;
  Handle dset = open_checked(loc, path, 1, H5T_STRING, context, dims);
  Handle ftype = checked(H5Dget_type(dset.get()), H5Tclose, context, "reading a type");
  if (H5Tis_variable_str(ftype.get()) > 0) fail(context + ": dataset '/" + path + "' should hold fixed-length strings");
  size_t width = H5Tget_size(ftype.get());
  if (width == 0) fail(context + ": dataset '/" + path + "' has a zero string width");
  Handle mtype = string_type(width);
  std::vector<char> buf(dims[0] * width);
  read_into(dset.get(), mtype.get(), dims[0], buf.data(), path, context);
  std::vector<std::string> out(dims[0]);
  for (size_t i = 0; i < out.size(); ++i) {
    const char* p = buf.data() + i * width;
    out[i].assign(p, strnlen(p, width));
  }
  return out;
}

void set_attr_int(hid_t obj, const std::string& name, int64_t value, const std::string& context) {
  set_attr(obj, name, H5T_NATIVE_INT64, &value, context);
}
void set_attr_double(hid_t obj, const std::string& name, double value, const std::string& context) {
  set_attr(obj, name, H5T_NATIVE_DOUBLE, &value, context);
}
void set_attr_string(hid_t obj, const std::string& name, const std::string& value, const std::string& context) {
  const size_t width = std::max<size_t>(1, value.size());
  Handle t = string_type(width);
  std::string padded = value;
  padded.resize(width, '\0');
  set_attr(obj, name, t.get(), padded.data(), context);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

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
  Handle space = checked(H5Aget_space(attr.get()), H5Sclose, context, "reading a dataspace");
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    fail(context + ": attribute '" + name + "' should be one string, not an array");
  if (H5Tis_variable_str(t.get()) > 0) {  // h5py writes a Python str this way
    Handle vtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(vtype.get(), H5T_VARIABLE);
    H5Tset_cset(vtype.get(), H5Tget_cset(t.get()));
    char* p = nullptr;
    check(H5Aread(attr.get(), vtype.get(), &p), context, "reading attribute '" + name + "'");
    const std::string v = p ? p : "";
    H5free_memory(p);
    return v;
  }
  size_t width = H5Tget_size(t.get());
  Handle mtype = string_type(width);
  H5Tset_cset(mtype.get(), H5Tget_cset(t.get()));
  std::vector<char> buf(width + 1, '\0');
  check(H5Aread(attr.get(), mtype.get(), buf.data()), context, "reading attribute '" + name + "'");
  return std::string(buf.data(), strnlen(buf.data(), width));
}

}  // namespace aicl::h5

// ------------------------------------------------------------------------------------------ H5File

namespace aicl {

namespace {

std::string relative(const std::string& name) { return name.empty() || name[0] != '/' ? name : name.substr(1); }

h5::Handle open_object(const H5File& f, const std::string& obj) {
  hid_t id = H5Oopen(f.id(), obj.c_str(), H5P_DEFAULT);
  if (id < 0) fail(f.path() + ": no object '" + obj + "'");
  return h5::Handle(id, H5Oclose);
}

// Any numeric dataset, converted by HDF5 to `mem_type`.
template <class T>
std::vector<T> read_numeric(const H5File& f, const std::string& name, hid_t mem_type, std::vector<int64_t>* shape_out) {
  const std::string rel = relative(name);
  h5::Handle d = h5::dataset_open(f.id(), rel, f.path());
  const std::vector<hsize_t> dims = h5::dataset_dims(d.get(), f.path());
  h5::Handle t(H5Dget_type(d.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(t.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(f.path() + ": dataset '/" + rel + "' is not numeric");
  std::vector<T> out(h5::element_count(dims));
  h5::read_into(d.get(), mem_type, out.size(), out.data(), rel, f.path());
  if (shape_out) shape_out->assign(dims.begin(), dims.end());
  return out;
}

}  // namespace

H5File H5File::open_read(const std::string& path) { return H5File(h5::file_open_read(path), path); }

H5File H5File::create(const std::string& path) { return H5File(h5::file_create(path), path); }

bool H5File::exists(const std::string& name) const {
  const std::string rel = relative(name);
  return rel.empty() || h5::exists(id(), rel);
}

std::vector<int64_t> H5File::shape(const std::string& name) const {
  h5::Handle d = h5::dataset_open(id(), relative(name), path_);
  const std::vector<hsize_t> dims = h5::dataset_dims(d.get(), path_);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

std::vector<float> H5File::read_floats(const std::string& name, std::vector<int64_t>* shape) const {
  return read_numeric<float>(*this, name, H5T_NATIVE_FLOAT, shape);
}
std::vector<int64_t> H5File::read_ints(const std::string& name, std::vector<int64_t>* shape) const {
  return read_numeric<int64_t>(*this, name, H5T_NATIVE_INT64, shape);
}

void H5File::ensure_parent_groups(const std::string& name) {
  const std::string rel = relative(name);
  size_t pos = 0;
  while ((pos = rel.find('/', pos + 1)) != std::string::npos) {
    const std::string g = rel.substr(0, pos);
    if (!h5::exists(id(), g)) h5::group_create(id(), g, path_);
  }
}

void H5File::create_group(const std::string& name) { ensure_parent_groups(name + "/"); }

void H5File::write_floats(const std::string& name, const float* data, const std::vector<int64_t>& shape,
                          int deflate_level) {
  ensure_parent_groups(name);
  h5::write_array(id(), relative(name), H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {shape.begin(), shape.end()}, data, path_,
                  deflate_level);
}
void H5File::write_ints(const std::string& name, const int64_t* data, const std::vector<int64_t>& shape) {
  ensure_parent_groups(name);
  h5::write_array(id(), relative(name), H5T_STD_I64LE, H5T_NATIVE_INT64, {shape.begin(), shape.end()}, data, path_);
}

void H5File::set_attr_string(const std::string& obj, const std::string& key, const std::string& value) {
  h5::set_attr_string(open_object(*this, obj).get(), key, value, path_);
}

void H5File::set_attr_double(const std::string& obj, const std::string& key, double value) {
  h5::set_attr_double(open_object(*this, obj).get(), key, value, path_);
}

bool H5File::has_attr(const std::string& obj, const std::string& key) const {
  if (!exists(obj)) return false;
  return h5::has_attr(open_object(*this, obj).get(), key);
}

std::string H5File::attr_string(const std::string& obj, const std::string& key) const {
  return h5::get_attr_string(open_object(*this, obj).get(), key, path_);
}

double H5File::attr_double(const std::string& obj, const std::string& key) const {
  return h5::get_attr_double(open_object(*this, obj).get(), key, path_);
}

std::vector<std::string> H5File::list(const std::string& group) const {
  std::vector<std::string> names;
  if (!exists(group)) return names;
  h5::Handle g(H5Gopen2(id(), group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail(path_ + ": '" + group + "' is not a group");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) fail(path_ + ": cannot list group '" + group + "'");
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail(path_ + ": cannot list group '" + group + "'");
    std::string name(static_cast<size_t>(len), '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), static_cast<size_t>(len) + 1,
                       H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

}  // namespace aicl
