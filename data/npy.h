// Reading and writing NumPy .npy files: 2-D float matrices (v1/v2/v3 headers, little-endian <f4/<f8, C order),
// the header of any .npy file, and numpy's exact header bytes for writing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace aicl {

struct NpyMatrix {
  size_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major [rows, cols]; float64 files are converted to float32
  bool was_float64 = false;
};

// The header of a .npy file, as numpy wrote it; the data (or, for descr "|O", a pickle) follows at data_offset.
struct NpyHeader {
  std::string descr;  // e.g. "<f4", "|S10", "<U7", "|O"
  bool fortran_order = false;
  std::vector<size_t> shape;
  size_t data_offset = 0;
  size_t count() const;  // product of the shape (1 for a 0-d array); throws past 2^62 elements
};

// Parses the header at the start of `bytes` (which must hold at least the whole header). Throws aicl::Error
// "<name>: ..." for a bad magic, an unsupported version, a truncated or malformed header.
NpyHeader parse_npy_header(const std::string& bytes, const std::string& name);
// Reads the header from the current position of `in` (left just after it).
NpyHeader read_npy_header(std::istream& in, const std::string& name);

// Reads a 2-D float32/float64 C-order little-endian .npy file, straight into the result (one copy of the data in
// memory). Anything else (bad magic, unknown version, big-endian, fortran_order, other dtypes, not 2-D, truncated
// or over-long data) throws aicl::Error "<path>: <problem>". `expected_cols` > 0 also checks the width.
NpyMatrix read_npy(const std::string& path, size_t expected_cols = 0);

// Same, from bytes already in memory; `name` is used in error messages.
NpyMatrix parse_npy(const std::string& bytes, const std::string& name, size_t expected_cols = 0);

// The header bytes numpy's np.save writes for an array of this descr and shape (C order): format 1.0 (2.0 when
// the header exceeds 65535 bytes), a dict with sorted keys, 21 - len(str(shape[0])) spaces of growth room, padded
// with spaces and '\n' to a multiple of 64 bytes (numpy >= 1.24's _wrap_header, a whole 64 when already aligned).
std::string npy_header_bytes(const std::string& descr, const std::vector<size_t>& shape);

// The bytes NumPy's np.save writes for a C-order float32 array of this shape, so exported files are
// byte-identical to np.save output.
std::string npy_bytes(const float* data, size_t rows, size_t cols);

// Writes npy_bytes(...) to `path` atomically.
void write_npy(const std::string& path, const float* data, size_t rows, size_t cols);

}  // namespace aicl
