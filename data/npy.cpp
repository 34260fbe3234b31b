// Reading and writing 2-D float NumPy .npy files (v1/v2/v3 headers, little-endian <f4/<f8, C order).
#include "data/npy.h"

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

}  // namespace

NpyMatrix parse_npy(const std::string& bytes, const std::string& name, size_t expected_cols) {
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 6 || bytes.compare(0, 6, kMagic, 6) != 0) fail(name + ": not a .npy file (bad magic)");
  if (bytes.size() < 10) fail(name + ": truncated .npy header");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(name + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t header_start = 8 + len_bytes;
  if (bytes.size() < header_start) fail(name + ": truncated .npy header");
  const size_t header_len = read_le(bytes, 8, static_cast<int>(len_bytes));
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

  size_t item = 0;
  if (descr.text == "<f4") item = 4;
  else if (descr.text == "<f8") item = 8;
  else if (descr.text == ">f4" || descr.text == ">f8")
    fail(name + ": big-endian dtype '" + descr.text + "' is not supported (expected '<f4' or '<f8')");
  else
    fail(name + ": dtype '" + descr.text + "' is not supported (expected float32 '<f4' or float64 '<f8')");
  if (fortran.flag) fail(name + ": fortran_order=True is not supported (save a C-order array)");
  if (shape.ints.size() != 2)
    fail(name + ": expected a 2-D array [T, C], got " + std::to_string(shape.ints.size()) + "-D");

  NpyMatrix m;
  m.rows = static_cast<size_t>(shape.ints[0]);
  m.cols = static_cast<size_t>(shape.ints[1]);
  m.was_float64 = item == 8;
  if (expected_cols > 0 && m.cols != expected_cols)
    fail(name + ": expected " + std::to_string(expected_cols) + " columns, got shape (" + std::to_string(m.rows) +
         ", " + std::to_string(m.cols) + ")");
  // The header may claim any shape: rows * cols * item must not wrap around (it would pass the size checks below).
  if (m.cols != 0 && m.rows > std::numeric_limits<size_t>::max() / item / m.cols)
    fail(name + ": shape (" + std::to_string(m.rows) + ", " + std::to_string(m.cols) + ") is too large");
  const size_t n = m.rows * m.cols;
  const size_t data_start = header_start + header_len;
  const size_t have = bytes.size() - data_start;
  if (have < n * item)
    fail(name + ": truncated data (" + std::to_string(have) + " bytes, shape needs " + std::to_string(n * item) + ")");
  if (have > n * item)
    fail(name + ": " + std::to_string(have - n * item) + " unexpected bytes after the data (shape/size mismatch)");
  m.data.resize(n);
  const char* src = bytes.data() + data_start;
  if (item == 4) {
    if (n) std::memcpy(m.data.data(), src, n * 4);
  } else {
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + i * 8, 8);
      m.data[i] = static_cast<float>(d);
    }
  }
  return m;
}

NpyMatrix read_npy(const std::string& path, size_t expected_cols) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(path + ": read error");
  return parse_npy(ss.str(), path, expected_cols);
}

std::string npy_bytes(const float* data, size_t rows, size_t cols) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                     std::to_string(cols) + "), }";
  // numpy >= 1.24 leaves room for the first axis to grow to 21 digits, then pads to a multiple of 64.
  const size_t growth = 21 - std::min<size_t>(21, std::to_string(rows).size());
  dict.append(growth, ' ');
  size_t total = 10 + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  std::string out;
  out.reserve(10 + dict.size() + rows * cols * 4);
  out.append("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  out += dict;
  out.append(reinterpret_cast<const char*>(data), rows * cols * 4);
  return out;
}

void write_npy(const std::string& path, const float* data, size_t rows, size_t cols) {
  write_file_atomic(path, npy_bytes(data, rows, cols));
}

}  // namespace aicl
