// The pickles inside numpy object-array .npy files: a restricted reader that executes nothing, and a writer of
// the exact bytes CPython's pickle (protocol 3, as np.save uses) produces for such arrays.
//
// W-TALC / CO2-Net / DELU ship their features and annotations as object arrays (np.save of dtype=object), i.e.
// pickles. Loading them with Python's pickle would run whatever the file asks for. This reader instead
// interprets the opcodes itself and knows only the few callables numpy's array reconstruction names; any other
// global or opcode is refused with one line naming the file, the byte offset and the offender.
#pragma once
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace aicl {

// A byte range of the file, read on demand: large payloads (feature matrices) are not loaded while parsing.
struct FileSpan {
  uint64_t offset = 0, size = 0;
};

// A numpy dtype the reader accepts: numbers, byte strings, unicode strings and objects, one byte order.
struct PyDtype {
  char kind = 0;      // 'f' float, 'i' int, 'u' unsigned, 'b' bool, 'S' bytes, 'U' unicode, 'O' object
  size_t itemsize = 0;  // bytes per element
  char order = '|';   // '<', '>' or '|' (not applicable)
  std::string descr() const;  // numpy's spelling, e.g. "<f4", "|S10", "<U5", "|O"
};

// Parses a dtype string as numpy spells it ("<f4", "f8", "|S10", "<U5", "|O", "|b1"); false for anything else.
bool parse_numpy_descr(const std::string& descr, PyDtype& out);

struct PyValue;
using PyPtr = std::shared_ptr<PyValue>;

// An ndarray rebuilt from its pickle (numpy.core.multiarray._reconstruct + BUILD state).
struct PyArray {
  PyDtype dtype;
  std::vector<size_t> shape;
  bool fortran = false;
  bool built = false;        // its state has been set (a second BUILD is refused)
  std::string data;          // the raw payload of a numeric or string array, when read
  bool lazy = false;         // or: the payload stays in the file at `span`
  FileSpan span;
  std::vector<PyPtr> objects;  // dtype 'O': the elements, in C order
  size_t count() const;      // product of the shape
};

// What a pickle may build here. Globals are kept only as the identity of an allowed callable.
struct PyValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kList, kTuple, kDtype, kArray, kCallable };
  Kind kind = Kind::kNone;
  bool flag = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;  // kStr (UTF-8) or kBytes (when not lazy)
  bool lazy = false;  // kBytes left in the file
  FileSpan span;
  std::vector<PyPtr> items;  // kList, kTuple
  PyDtype dtype;             // kDtype
  std::shared_ptr<PyArray> array;  // kArray
  int callable = 0;          // kCallable: which allowed global (pickle.cpp)
};

// "a list", "a numpy array of dtype <f4", "a str", ...: for messages about unexpected contents.
std::string describe_value(const PyValue& v);

struct UnpickleOptions {
  // Byte strings of at least this many bytes stay in the file (kBytes / array payloads with lazy = true and a
  // span); 0 reads every payload into memory.
  uint64_t lazy_bytes = 0;
};

// Reads the pickle that starts at `offset` of `in` and must end (STOP) exactly at `end`. `name` (the file) starts
// every error: "<name>: pickle byte N: global 'os.system' is not allowed (...)", "...: opcode INST is not
// allowed", truncated input, malformed arrays. Nothing is ever executed or imported.
PyPtr unpickle(std::istream& in, uint64_t offset, uint64_t end, const std::string& name,
               const UnpickleOptions& options = {});

// Same on bytes in memory (the whole string is the pickle).
PyPtr unpickle_bytes(const std::string& bytes, const std::string& name);

// Writes pickle opcodes the way CPython's C pickler does at protocol 3: the same opcode choices and the same
// memo numbering (every non-atomic object is memoized in the order it is first saved). Callers emit objects in
// the order pickle would visit them; see data/wtalc.cpp for numpy's object arrays.
class Pickler3 {
 public:
  explicit Pickler3(std::string& out) : out_(out) {}
  void proto();                 // PROTO 3
  void stop();
  void mark();
  uint32_t global(const std::string& module, const std::string& name);  // GLOBAL + memo
  uint32_t memoize();           // BINPUT / LONG_BINPUT of the next memo index
  void get(uint32_t index);     // BINGET / LONG_BINGET
  void none();
  void boolean(bool v);         // NEWTRUE / NEWFALSE
  void integer(int64_t v);      // BININT1 / BININT2 / BININT / LONG1
  void real(double v);          // BINFLOAT
  // A str (UTF-8): BINUNICODE + memo. One-character Latin-1 strings are one object in CPython, so a repeated
  // one is a BINGET of the first, as pickle writes it.
  void unicode(const std::string& utf8);
  // A bytes object of `size` bytes: the opcode and length only. The caller writes the payload, then memoize().
  void bytes_header(uint64_t size);
  // Closes a tuple of n saved items: EMPTY_TUPLE (no memo) for 0, TUPLE1/2/3 + memo, or for n > 3 (the caller
  // opened it with mark()) TUPLE + memo. Returns the memo index.
  uint32_t tuple(size_t n);
  uint32_t empty_list();        // EMPTY_LIST + memo
  void append();
  void appends();
  uint32_t reduce();            // REDUCE + memo of the result
  void build();
  uint32_t memo_size() const { return next_; }
  std::string& out() { return out_; }

 private:
  std::string& out_;
  uint32_t next_ = 0;
  std::vector<std::pair<std::string, uint32_t>> one_char_;  // one-character strings already written
};

}  // namespace aicl
