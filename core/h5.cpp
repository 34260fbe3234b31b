// Minimal RAII wrapper over the HDF5 C API: open/create files, read/write float arrays, strings and scalars.
#include "core/h5.h"

#include <filesystem>

#include "core/error.h"

namespace aicl {

namespace {
// HDF5 prints error stacks to stderr by default; we report our own one-line errors instead.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const SilenceHdf5 silence_hdf5;
}  // namespace

H5Handle& H5Handle::operator=(H5Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = -1;
  }
  return *this;
}

void H5Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = -1;
}

H5File H5File::open_read(const std::string& path) {
  if (!std::filesystem::exists(path)) fail(path + ": no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path + ": not an HDF5 file (or unreadable/corrupt)");
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) fail(path + ": cannot open as HDF5 (corrupt or truncated?)");
  return H5File(H5Handle(f), path);
}

H5File H5File::create(const std::string& path) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) fail(path + ": cannot create HDF5 file");
  return H5File(H5Handle(f), path);
}

bool H5File::exists(const std::string& name) const {
  // Check every prefix so that a missing parent group is not an HDF5 error.
  size_t pos = 0;
  while (true) {
    pos = name.find('/', pos + 1);
    std::string prefix = name.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

std::vector<int64_t> H5File::shape(const std::string& name) const {
  if (!exists(name)) fail(path_ + ": missing dataset '" + name + "'");
  H5Handle d(H5Dopen2(id(), name.c_str(), H5P_DEFAULT));
  if (!d.valid()) fail(path_ + ": '" + name + "' is not a dataset");
  H5Handle s(H5Dget_space(d.get()));
  int rank = H5Sget_simple_extent_ndims(s.get());
  if (rank < 0) fail(path_ + ": '" + name + "': unreadable dataspace");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(s.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

template <class T>
static std::vector<T> read_as(const H5File& f, const std::string& name, hid_t mem_type, std::vector<int64_t>* shape_out) {
  std::vector<int64_t> shape = f.shape(name);
  size_t n = 1;
  for (auto d : shape) n *= static_cast<size_t>(d);
  H5Handle d(H5Dopen2(f.id(), name.c_str(), H5P_DEFAULT));
  H5Handle t(H5Dget_type(d.get()));
  H5T_class_t cls = H5Tget_class(t.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(f.path() + ": dataset '" + name + "' is not numeric");
  std::vector<T> out(n);
  if (n > 0 && H5Dread(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail(f.path() + ": cannot read dataset '" + name + "' (corrupt or truncated?)");
  if (shape_out) *shape_out = shape;
  return out;
}

std::vector<float> H5File::read_floats(const std::string& name, std::vector<int64_t>* shape) const {
  return read_as<float>(*this, name, H5T_NATIVE_FLOAT, shape);
}
std::vector<double> H5File::read_doubles(const std::string& name, std::vector<int64_t>* shape) const {
  return read_as<double>(*this, name, H5T_NATIVE_DOUBLE, shape);
}
std::vector<int64_t> H5File::read_ints(const std::string& name, std::vector<int64_t>* shape) const {
  return read_as<int64_t>(*this, name, H5T_NATIVE_INT64, shape);
}

void H5File::ensure_parent_groups(const std::string& name) {
  size_t pos = 0;
  while ((pos = name.find('/', pos + 1)) != std::string::npos) {
    std::string g = name.substr(0, pos);
    if (g.empty() || g == "/") continue;
    if (H5Lexists(id(), g.c_str(), H5P_DEFAULT) <= 0) {
      H5Handle h(H5Gcreate2(id(), g.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      if (!h.valid()) fail(path_ + ": cannot create group '" + g + "'");
    }
  }
}

static void write_raw(H5File& f, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
                      const std::vector<int64_t>& shape, int deflate_level) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  size_t n = 1;
  for (auto d : shape) n *= static_cast<size_t>(d);
  if (deflate_level > 0 && n > 0 && !dims.empty()) {
    std::vector<hsize_t> chunk = dims;
    // One chunk per leading index (e.g. per video row block), capped to ~1 MB.
    chunk[0] = 1;
    for (size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(1, dims[i]);
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate_level));
  }
  H5Handle d(H5Dcreate2(f.id(), name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  if (!d.valid()) fail(f.path() + ": cannot create dataset '" + name + "'");
  if (n > 0 && H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(f.path() + ": cannot write dataset '" + name + "' (disk full?)");
}

void H5File::write_floats(const std::string& name, const float* data, const std::vector<int64_t>& shape,
                          int deflate_level) {
  ensure_parent_groups(name);
  write_raw(*this, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, shape, deflate_level);
}
void H5File::write_doubles(const std::string& name, const double* data, const std::vector<int64_t>& shape) {
  ensure_parent_groups(name);
  write_raw(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, shape, 0);
}
void H5File::write_ints(const std::string& name, const int64_t* data, const std::vector<int64_t>& shape) {
  ensure_parent_groups(name);
  write_raw(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, data, shape, 0);
}

static H5Handle open_object(const H5File& f, const std::string& obj) {
  H5Handle o(H5Oopen(f.id(), obj.c_str(), H5P_DEFAULT));
  if (!o.valid()) fail(f.path() + ": no object '" + obj + "'");
  return o;
}

void H5File::set_attr_string(const std::string& obj, const std::string& key, const std::string& value) {
  H5Handle o = open_object(*this, obj);
  if (H5Aexists(o.get(), key.c_str()) > 0) H5Adelete(o.get(), key.c_str());
  H5Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Handle space(H5Screate(H5S_SCALAR));
  H5Handle a(H5Acreate2(o.get(), key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), type.get(), value.empty() ? "" : value.data()) < 0)
    fail(path_ + ": cannot write attribute '" + key + "'");
}

void H5File::set_attr_double(const std::string& obj, const std::string& key, double value) {
  H5Handle o = open_object(*this, obj);
  if (H5Aexists(o.get(), key.c_str()) > 0) H5Adelete(o.get(), key.c_str());
  H5Handle space(H5Screate(H5S_SCALAR));
  H5Handle a(H5Acreate2(o.get(), key.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    fail(path_ + ": cannot write attribute '" + key + "'");
}

bool H5File::has_attr(const std::string& obj, const std::string& key) const {
  if (obj != "/" && !exists(obj)) return false;
  H5Handle o = open_object(*this, obj);
  return H5Aexists(o.get(), key.c_str()) > 0;
}

std::string H5File::attr_string(const std::string& obj, const std::string& key) const {
  if (!has_attr(obj, key)) fail(path_ + ": missing attribute '" + key + "' on '" + obj + "'");
  H5Handle o = open_object(*this, obj);
  H5Handle a(H5Aopen(o.get(), key.c_str(), H5P_DEFAULT));
  H5Handle t(H5Aget_type(a.get()));
  if (H5Tget_class(t.get()) != H5T_STRING) fail(path_ + ": attribute '" + key + "' is not a string");
  if (H5Tis_variable_str(t.get()) > 0) {
    char* s = nullptr;
    H5Handle mt(H5Tcopy(H5T_C_S1));
    H5Tset_size(mt.get(), H5T_VARIABLE);
    if (H5Aread(a.get(), mt.get(), &s) < 0) fail(path_ + ": cannot read attribute '" + key + "'");
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  size_t n = H5Tget_size(t.get());
  std::string out(n, '\0');
  if (H5Aread(a.get(), t.get(), out.data()) < 0) fail(path_ + ": cannot read attribute '" + key + "'");
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

double H5File::attr_double(const std::string& obj, const std::string& key) const {
  if (!has_attr(obj, key)) fail(path_ + ": missing attribute '" + key + "' on '" + obj + "'");
  H5Handle o = open_object(*this, obj);
  H5Handle a(H5Aopen(o.get(), key.c_str(), H5P_DEFAULT));
  double v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) fail(path_ + ": attribute '" + key + "' is not numeric");
  return v;
}

std::vector<std::string> H5File::list(const std::string& group) const {
  std::vector<std::string> names;
  if (group != "/" && !exists(group)) return names;
  H5Handle g(H5Gopen2(id(), group.c_str(), H5P_DEFAULT));
  if (!g.valid()) fail(path_ + ": '" + group + "' is not a group");
  H5G_info_t info;
  H5Gget_info(g.get(), &info);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name(static_cast<size_t>(len), '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), static_cast<size_t>(len) + 1,
                       H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

}  // namespace aicl
