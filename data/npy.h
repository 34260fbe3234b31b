// Reading and writing 2-D float NumPy .npy files (v1/v2/v3 headers, little-endian <f4/<f8, C order).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace aicl {

struct NpyMatrix {
  size_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major [rows, cols]; float64 files are converted to float32
  bool was_float64 = false;
};

// Reads a 2-D float32/float64 C-order little-endian .npy file. Anything else (bad magic, unknown version,
// big-endian, fortran_order, other dtypes, not 2-D, truncated or over-long data) throws aicl::Error
// "<path>: <problem>". `expected_cols` > 0 also checks the width.
NpyMatrix read_npy(const std::string& path, size_t expected_cols = 0);

// Same, from bytes already in memory; `name` is used in error messages.
NpyMatrix parse_npy(const std::string& bytes, const std::string& name, size_t expected_cols = 0);

// The bytes NumPy's np.save writes for a C-order float32 array of this shape (format 1.0, header padded to
// a multiple of 64 bytes as numpy >= 1.24 does), so exported files are byte-identical to np.save output.
std::string npy_bytes(const float* data, size_t rows, size_t cols);

// Writes npy_bytes(...) to `path` atomically.
void write_npy(const std::string& path, const float* data, size_t rows, size_t cols);

}  // namespace aicl
