// An HDF5 file as an object (N-d float/int arrays, attributes, groups by path), on the helpers of data/h5.h.
#include "core/base/h5.h"

#include <algorithm>

#include "core/base/error.h"

namespace aicl {

namespace {
std::string relative(const std::string& name) { return name.empty() || name[0] != '/' ? name : name.substr(1); }

h5::Handle open_object(const H5File& f, const std::string& obj) {
  hid_t id = H5Oopen(f.id(), obj.c_str(), H5P_DEFAULT);
  if (id < 0) fail(f.path() + ": no object '" + obj + "'");
  return h5::Handle(id, H5Oclose);
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

template <class T>
static std::vector<T> read_as(const H5File& f, const std::string& name, hid_t mem_type, std::vector<int64_t>* shape_out) {
  std::vector<int64_t> shape = f.shape(name);
  size_t n = 1;
  for (auto d : shape) n *= static_cast<size_t>(d);
  h5::Handle d = h5::dataset_open(f.id(), relative(name), f.path());
  h5::Handle t(H5Dget_type(d.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(t.get());
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
  const std::string rel = relative(name);
  size_t pos = 0;
  while ((pos = rel.find('/', pos + 1)) != std::string::npos) {
    const std::string g = rel.substr(0, pos);
    if (!h5::exists(id(), g)) h5::group_create(id(), g, path_);
  }
}

static void write_raw(H5File& f, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
                      const std::vector<int64_t>& shape, int deflate_level) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  h5::Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  size_t n = 1;
  for (auto d : shape) n *= static_cast<size_t>(d);
  if (deflate_level > 0 && n > 0 && !dims.empty()) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;  // one chunk per leading index
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate_level));
  }
  h5::Handle d(H5Dcreate2(f.id(), name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
               H5Dclose);
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

void H5File::set_attr_string(const std::string& obj, const std::string& key, const std::string& value) {
  h5::Handle o = open_object(*this, obj);
  if (h5::has_attr(o.get(), key)) H5Adelete(o.get(), key.c_str());
  h5::set_attr_string(o.get(), key, value, path_);
}

void H5File::set_attr_double(const std::string& obj, const std::string& key, double value) {
  h5::Handle o = open_object(*this, obj);
  if (h5::has_attr(o.get(), key)) H5Adelete(o.get(), key.c_str());
  h5::set_attr_double(o.get(), key, value, path_);
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
  H5Gget_info(g.get(), &info);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name(static_cast<size_t>(len), '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), static_cast<size_t>(len) + 1,
                       H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

}  // namespace aicl
