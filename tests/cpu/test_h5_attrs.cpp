// String attributes as other tools write them: h5py's variable-length UTF-8 str, fixed-length ASCII, and an array
// of strings (refused with the attribute named).
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <filesystem>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "test_util.h"

namespace {

void write_attr(hid_t file, const char* name, hid_t type, hid_t space, const void* buf) {
  const hid_t a = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  REQUIRE(H5Awrite(a, type, buf) >= 0);
  H5Aclose(a);
}

}  // namespace

TEST_CASE("h5: variable-length (h5py) and fixed-length string attributes read, string arrays are refused") {
  const auto dir = aicl_test::temp_dir("h5_attrs");
  const std::string path = (dir / "a.h5").string();
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const hid_t vtype = H5Tcopy(H5T_C_S1);
  H5Tset_size(vtype, H5T_VARIABLE);
  H5Tset_cset(vtype, H5T_CSET_UTF8);
  const char* v = "ftcl \xce\xbb";  // UTF-8, as h5py writes a str
  write_attr(f, "method", vtype, scalar, &v);
  const hid_t ftype = H5Tcopy(H5T_C_S1);
  H5Tset_size(ftype, 5);
  write_attr(f, "fixed", ftype, scalar, "abcde");
  const hsize_t two = 2;
  const hid_t vec = H5Screate_simple(1, &two, nullptr);
  const char* pair[2] = {"a", "b"};
  write_attr(f, "list", vtype, vec, pair);
  H5Sclose(vec), H5Tclose(ftype), H5Tclose(vtype), H5Sclose(scalar), H5Fclose(f);
  const aicl::H5File h = aicl::H5File::open_read(path);
  CHECK(h.attr_string("/", "method") == "ftcl \xce\xbb");
  CHECK(h.attr_string("/", "fixed") == "abcde");
  CHECK_THROWS_WITH(h.attr_string("/", "list"), Catch::Contains("attribute 'list' should be one string, not an array"));
  std::filesystem::remove_all(dir);
}
