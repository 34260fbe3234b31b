// Reading and writing NumPy .npy files: float matrices, any header, numpy's exact header bytes.
#include "data/npy.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "core/base/error.h"
#include "core/base/io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.cpp assumes a little-endian host (it copies <f4/<f8 bytes directly)"
#endif

namespace aicl {
namespace {

// The header is a Python dict literal; we only need strings, booleans and tuples of integers.
struct HeaderValue {
  enum Kind { kString, kBool, kTuple } kind = kString;
  std::string text;
  bool flag = false;
  std::vector<long long> ints;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& s, const std::string& name) : s_(s), name_(name) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> out;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      out[key] = parse_value(key);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') break;
      bad("expected ',' or '}' in the header");
    }
    return out;
  }

 private:
  [[noreturn]] void bad(const std::string& what) { fail(name_ + ": bad .npy header: " + what); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    ++pos_;
    size_t end = s_.find(q, pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string r = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return r;
  }
  HeaderValue parse_value(const std::string& key) {
    HeaderValue v;
    char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = HeaderValue::kString;
      v.text = parse_string();
    } else if (s_.compare(pos_, 4, "True") == 0) {
      v.kind = HeaderValue::kBool;
      v.flag = true;
      pos_ += 4;
    } else if (s_.compare(pos_, 5, "False") == 0) {
      v.kind = HeaderValue::kBool;
      pos_ += 5;
    } else if (c == '(') {
      v.kind = HeaderValue::kTuple;
      ++pos_;
      for (;;) {
        skip_ws();
        if (peek() == ')') break;
        if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("non-integer in tuple '" + key + "'");
        long long n = 0;
        while (std::isdigit(static_cast<unsigned char>(peek()))) {
          n = n * 10 + (s_[pos_++] - '0');
          if (n > (1LL << 40)) bad("dimension too large in '" + key + "'");
        }
        if (peek() == 'L') ++pos_;  // Python 2 long suffix
        v.ints.push_back(n);
        skip_ws();
        if (peek() == ',') ++pos_;
        else if (peek() != ')') bad("expected ',' or ')' in tuple '" + key + "'");
      }
      ++pos_;
    } else if (c == '[') {
      bad("structured dtypes are not supported (key '" + key + "')");
    } else {
      bad("unexpected value for '" + key + "'");
    }
    return v;
  }

  const std::string& s_;
  const std::string& name_;
  size_t pos_ = 0;
};

uint32_t read_le(const std::string& b, size_t at, int nbytes) {
  uint32_t v = 0;
  for (int i = nbytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

// Magic, version and header length; returns the header length and sets the offset where the header text starts.
size_t header_length(const std::string& bytes, const std::string& name, size_t& header_start) {
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 6 || bytes.compare(0, 6, kMagic, 6) != 0) fail(name + ": not a .npy file (bad magic)");
  if (bytes.size() < 10) fail(name + ": truncated .npy header");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(name + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const size_t len_bytes = major == 1 ? 2 : 4;
  header_start = 8 + len_bytes;
  if (bytes.size() < header_start) fail(name + ": truncated .npy header");
  return read_le(bytes, 8, static_cast<int>(len_bytes));
}

// The float matrix a header describes: checks dtype, order, rank and width; returns the item size (4 or 8).
size_t float_matrix_shape(const NpyHeader& h, const std::string& name, size_t expected_cols, NpyMatrix& m) {
  size_t item = 0;
  if (h.descr == "<f4") item = 4;
  else if (h.descr == "<f8") item = 8;
  else if (h.descr == ">f4" || h.descr == ">f8")
    fail(name + ": big-endian dtype '" + h.descr + "' is not supported (expected '<f4' or '<f8')");
  else
    fail(name + ": dtype '" + h.descr + "' is not supported (expected float32 '<f4' or float64 '<f8')");
  if (h.fortran_order) fail(name + ": fortran_order=True is not supported (save a C-order array)");
  if (h.shape.size() != 2)
    fail(name + ": expected a 2-D array [T, C], got " + std::to_string(h.shape.size()) + "-D");
  m.rows = h.shape[0];
  m.cols = h.shape[1];
  m.was_float64 = item == 8;
  if (expected_cols > 0 && m.cols != expected_cols)
    fail(name + ": expected " + std::to_string(expected_cols) + " columns, got shape (" + std::to_string(m.rows) +
         ", " + std::to_string(m.cols) + ")");
  // The header may claim any shape: rows * cols * item must not wrap around (it would pass the size checks).
  if (m.cols != 0 && m.rows > std::numeric_limits<size_t>::max() / item / m.cols)
    fail(name + ": shape (" + std::to_string(m.rows) + ", " + std::to_string(m.cols) + ") is too large");
  return item;
}

void check_data_size(size_t have, size_t need, const std::string& name) {
  if (have < need)
    fail(name + ": truncated data (" + std::to_string(have) + " bytes, shape needs " + std::to_string(need) + ")");
  if (have > need)
    fail(name + ": " + std::to_string(have - need) + " unexpected bytes after the data (shape/size mismatch)");
}

// float64 -> float32 of n values at src.
void convert_f8(const char* src, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    double d;
    std::memcpy(&d, src + i * 8, 8);
    out[i] = static_cast<float>(d);
  }
}

}  // namespace

size_t NpyHeader::count() const {
  size_t n = 1;
  for (size_t d : shape) {
    if (d != 0 && n > (size_t{1} << 62) / d) fail("npy: shape is too large");
    n *= d;
  }
  return n;
}

NpyHeader parse_npy_header(const std::string& bytes, const std::string& name) {
  size_t header_start = 0;
  const size_t header_len = header_length(bytes, name, header_start);
  if (bytes.size() < header_start + header_len) fail(name + ": truncated .npy header");
  const std::string header = bytes.substr(header_start, header_len);
  auto dict = HeaderParser(header, name).parse_dict();
  for (const char* key : {"descr", "fortran_order", "shape"})
    if (!dict.count(key)) fail(name + ": bad .npy header: missing '" + key + "'");
  const HeaderValue& descr = dict["descr"];
  const HeaderValue& fortran = dict["fortran_order"];
  const HeaderValue& shape = dict["shape"];
  if (descr.kind != HeaderValue::kString) fail(name + ": bad .npy header: 'descr' is not a string");
  if (fortran.kind != HeaderValue::kBool) fail(name + ": bad .npy header: 'fortran_order' is not a boolean");
  if (shape.kind != HeaderValue::kTuple) fail(name + ": bad .npy header: 'shape' is not a tuple");
  NpyHeader h;
  h.descr = descr.text;
  h.fortran_order = fortran.flag;
  for (long long d : shape.ints) h.shape.push_back(static_cast<size_t>(d));
  h.data_offset = header_start + header_len;
  return h;
}

NpyHeader read_npy_header(std::istream& in, const std::string& name) {
  std::string prefix(8, '\0');
  in.read(&prefix[0], 8);
  prefix.resize(static_cast<size_t>(in.gcount()));
  if (prefix.size() == 8) {  // the header length: 2 bytes in format 1.0, 4 in 2.0 and 3.0
    std::string len(prefix[6] == 1 ? 2 : 4, '\0');
    in.read(&len[0], static_cast<std::streamsize>(len.size()));
    prefix += len.substr(0, static_cast<size_t>(in.gcount()));
  }
  size_t header_start = 0;
  const size_t header_len = header_length(prefix, name, header_start);
  std::string header(header_len, '\0');
  in.read(&header[0], static_cast<std::streamsize>(header_len));
  if (static_cast<size_t>(in.gcount()) != header_len) fail(name + ": truncated .npy header");
  return parse_npy_header(prefix + header, name);
}

NpyMatrix parse_npy(const std::string& bytes, const std::string& name, size_t expected_cols) {
  const NpyHeader h = parse_npy_header(bytes, name);
  NpyMatrix m;
  const size_t item = float_matrix_shape(h, name, expected_cols, m);
  const size_t n = m.rows * m.cols;
  check_data_size(bytes.size() - h.data_offset, n * item, name);
  m.data.resize(n);
  const char* src = bytes.data() + h.data_offset;
  if (item == 4) {
    if (n) std::memcpy(m.data.data(), src, n * 4);
  } else {
    convert_f8(src, n, m.data.data());
  }
  return m;
}

NpyMatrix read_npy(const std::string& path, size_t expected_cols) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  const size_t file_size = static_cast<size_t>(in.tellg());
  in.seekg(0);
  const NpyHeader h = read_npy_header(in, path);
  NpyMatrix m;
  const size_t item = float_matrix_shape(h, path, expected_cols, m);
  const size_t n = m.rows * m.cols;
  check_data_size(file_size - h.data_offset, n * item, path);
  m.data.resize(n);
  if (item == 4) {
    in.read(reinterpret_cast<char*>(m.data.data()), static_cast<std::streamsize>(n * 4));
  } else {  // converted in blocks, so a float64 file never needs twice its float32 size
    std::vector<char> block(size_t{1} << 20);
    for (size_t done = 0; done < n && in;) {
      const size_t k = std::min(block.size() / 8, n - done);
      in.read(block.data(), static_cast<std::streamsize>(k * 8));
      convert_f8(block.data(), k, m.data.data() + done);
      done += k;
    }
  }
  if (!in) fail(path + ": read error");
  return m;
}

std::string npy_header_bytes(const std::string& descr, const std::vector<size_t>& shape) {
  std::string shape_text = "(";
  for (size_t i = 0; i < shape.size(); ++i) shape_text += (i ? ", " : "") + std::to_string(shape[i]);
  shape_text += shape.size() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_text + ", }";
  if (!shape.empty()) dict.append(21 - std::min<size_t>(21, std::to_string(shape[0]).size()), ' ');
  const size_t hlen = dict.size() + 1;
  const bool v2 = hlen + 64 - (10 + hlen) % 64 > 65535;  // numpy falls back to format 2.0 for huge headers
  const size_t padlen = 64 - ((v2 ? 12 : 10) + hlen) % 64;  // numpy pads a whole 64 when already aligned
  dict.append(padlen, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(v2 ? 2 : 1));
  out.push_back('\0');
  for (size_t b = 0; b < (v2 ? 4u : 2u); ++b) out.push_back(static_cast<char>((dict.size() >> (8 * b)) & 0xff));
  return out + dict;
}

std::string npy_bytes(const float* data, size_t rows, size_t cols) {
  std::string out = npy_header_bytes("<f4", {rows, cols});
  out.append(reinterpret_cast<const char*>(data), rows * cols * 4);
  return out;
}

void write_npy(const std::string& path, const float* data, size_t rows, size_t cols) {
  write_file_atomic(path, npy_bytes(data, rows, cols));
}

}  // namespace aicl
