// Tests of the .npy reader/writer: NumPy-identical bytes, v1/v2/v3 headers, float64 conversion, clear rejections.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

#include "core/base/error.h"
#include "data/npy.h"
#include "test_util.h"

using aicl::parse_npy;

namespace {

// Bytes of np.save('a.npy', np.arange(6, dtype=np.float32).reshape(2, 3)) with numpy 1.24.2.
std::string numpy_golden_2x3() {
  std::string h("\x93NUMPY\x01\x00\x76\x00", 10);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  const unsigned char data[] = {0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40};
  return h + dict + std::string(reinterpret_cast<const char*>(data), sizeof data);
}

// A file with an arbitrary header dict, version and payload.
std::string make_npy(const std::string& dict, const std::string& payload, int major = 1) {
  std::string header = dict;
  const size_t pre = major == 1 ? 10 : 12;
  while ((pre + header.size() + 1) % 64) header.push_back(' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  const size_t n = header.size();
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  if (major > 1) {
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>((n >> 24) & 0xff));
  }
  return out + header + payload;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

TEST_CASE("npy: writer produces exactly numpy's bytes") {
  std::vector<float> v = {0, 1, 2, 3, 4, 5};
  CHECK(aicl::npy_bytes(v.data(), 2, 3) == numpy_golden_2x3());
  // The header always pads the data start to a multiple of 64 bytes.
  std::vector<float> big(1234 * 4, 1.f);
  CHECK((aicl::npy_bytes(big.data(), 1234, 4).size() - big.size() * 4) % 64 == 0);
}

TEST_CASE("npy: reads v1, v2 and v3 headers and both key orders") {
  auto m = parse_npy(numpy_golden_2x3(), "a.npy");
  CHECK(m.rows == 2);
  CHECK(m.cols == 3);
  CHECK(m.data == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK_FALSE(m.was_float64);
  std::vector<float> v = {1.5f, -2.f};
  for (int major : {2, 3}) {
    auto m2 = parse_npy(make_npy("{'shape': (1, 2), 'fortran_order': False, \"descr\": '<f4'}", raw(v), major), "b.npy");
    CHECK(m2.rows == 1);
    CHECK(m2.data == v);
  }
}

TEST_CASE("npy: float64 is converted to float32") {
  std::vector<double> d = {0.1, 2.5, -3.0, 1e-3};
  auto m = parse_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", raw(d)), "d.npy");
  REQUIRE(m.data.size() == 4);
  CHECK(m.was_float64);
  for (size_t i = 0; i < 4; ++i) CHECK(m.data[i] == static_cast<float>(d[i]));
}

TEST_CASE("npy: bad files are rejected with a message naming the file") {
  std::vector<float> two(2, 0.f);
  auto with = [&](const std::string& dict) { return make_npy(dict, raw(two)); };
  CHECK_THROWS_WITH(parse_npy("hello world, not numpy", "x.npy"), Catch::Contains("x.npy: not a .npy file"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }"), "x.npy"),
                    Catch::Contains("x.npy: big-endian"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }"), "x.npy"),
                    Catch::Contains("fortran_order"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }"), "x.npy"),
                    Catch::Contains("dtype '<i4' is not supported"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"), "x.npy"),
                    Catch::Contains("expected a 2-D array"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }"), "x.npy"),
                    Catch::Contains("expected a 2-D array"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"), "x.npy"),
                    Catch::Contains("x.npy: truncated data"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }"), "x.npy"),
                    Catch::Contains("unexpected bytes"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"), "x.npy", 1024),
                    Catch::Contains("expected 1024 columns"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 2), }"), "x.npy"),
                    Catch::Contains("structured"));
  CHECK_THROWS_WITH(parse_npy(with("{'descr': '<f4', 'shape': (1, 2), }"), "x.npy"), Catch::Contains("missing 'fortran_order'"));
  std::string bad_version = numpy_golden_2x3();
  bad_version[6] = 4;
  CHECK_THROWS_WITH(parse_npy(bad_version, "x.npy"), Catch::Contains("unsupported .npy format version 4.0"));
  CHECK_THROWS_WITH(parse_npy(numpy_golden_2x3().substr(0, 40), "x.npy"), Catch::Contains("truncated .npy header"));
  CHECK_THROWS_WITH(aicl::read_npy("/nonexistent/dir/y.npy"), Catch::Contains("/nonexistent/dir/y.npy: cannot open"));
}

TEST_CASE("npy: write_npy then read_npy is exact") {
  auto dir = aicl_test::temp_dir("npy_rt");
  std::vector<float> v(7 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.37f - 3.f;
  const std::string p = (dir / "m.npy").string();
  aicl::write_npy(p, v.data(), 7, 5);
  auto m = aicl::read_npy(p, 5);
  CHECK(m.rows == 7);
  CHECK(std::memcmp(m.data.data(), v.data(), v.size() * 4) == 0);
}
