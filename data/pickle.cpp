// The pickles inside numpy object-array .npy files: a restricted reader that executes nothing, and a protocol-3
// writer with CPython's exact opcode choices and memo numbering.
#include "data/pickle.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "core/base/error.h"

namespace aicl {

namespace {

// The only callables a pickle may name: what numpy's ndarray / dtype / scalar reduction refers to, plus
// _codecs.encode, with which Python 3 pickles bytes at protocol 2 (W-TALC's files use it; only 'latin1').
enum Callable { kReconstruct = 1, kNdarray, kDtype, kScalar, kEncode };

int allowed_global(const std::string& module, const std::string& name) {
  const bool multiarray = module == "numpy.core.multiarray" || module == "numpy._core.multiarray";
  if (multiarray && name == "_reconstruct") return kReconstruct;
  if (multiarray && name == "scalar") return kScalar;
  if (module == "numpy" && name == "ndarray") return kNdarray;
  if (module == "numpy" && name == "dtype") return kDtype;
  if (module == "_codecs" && name == "encode") return kEncode;
  return 0;
}

const char* kAllowedGlobals =
    "numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype, numpy.core.multiarray.scalar, _codecs.encode";

// Names of the opcodes, for the message that refuses one.
const char* opcode_name(uint8_t op) {
  switch (op) {
    case '(': return "MARK";           case '.': return "STOP";           case '0': return "POP";
    case '1': return "POP_MARK";       case '2': return "DUP";            case 'F': return "FLOAT";
    case 'I': return "INT";            case 'J': return "BININT";         case 'K': return "BININT1";
    case 'L': return "LONG";           case 'M': return "BININT2";        case 'N': return "NONE";
    case 'P': return "PERSID";         case 'Q': return "BINPERSID";      case 'R': return "REDUCE";
    case 'S': return "STRING";         case 'T': return "BINSTRING";      case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";        case 'X': return "BINUNICODE";     case 'a': return "APPEND";
    case 'b': return "BUILD";          case 'c': return "GLOBAL";         case 'd': return "DICT";
    case '}': return "EMPTY_DICT";     case 'e': return "APPENDS";        case 'g': return "GET";
    case 'h': return "BINGET";         case 'i': return "INST";           case 'j': return "LONG_BINGET";
    case 'l': return "LIST";           case ']': return "EMPTY_LIST";     case 'o': return "OBJ";
    case 'p': return "PUT";            case 'q': return "BINPUT";         case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";        case 't': return "TUPLE";          case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";       case 'G': return "BINFLOAT";       case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";        case 0x82: return "EXT1";          case 0x83: return "EXT2";
    case 0x84: return "EXT4";          case 0x85: return "TUPLE1";        case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";        case 0x88: return "NEWTRUE";       case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";         case 0x8b: return "LONG4";         case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES"; case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";     case 0x8f: return "EMPTY_SET";     case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";     case 0x92: return "NEWOBJ_EX";     case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";       case 0x95: return "FRAME";         case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";   case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

std::string hex_byte(uint8_t b) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// Buffered reading of [offset, end) of a stream, with skipping (payloads left in the file).
class Input {
 public:
  Input(std::istream& in, uint64_t offset, uint64_t end, const std::string& name)
      : in_(in), pos_(offset), end_(end), name_(name) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
  }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return end_ - pos_; }
  uint8_t byte() {
    if (buf_at_ == buf_.size()) fill();
    ++pos_;
    return static_cast<uint8_t>(buf_[buf_at_++]);
  }
  std::string take(uint64_t n) {
    need(n);
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
      if (buf_at_ == buf_.size()) fill();
      const size_t k = std::min<uint64_t>(n - out.size(), buf_.size() - buf_at_);
      out.append(buf_, buf_at_, k);
      buf_at_ += k;
      pos_ += k;
    }
    return out;
  }
  void skip(uint64_t n) {
    need(n);
    const uint64_t buffered = buf_.size() - buf_at_;
    if (n <= buffered) {
      buf_at_ += n;
    } else {  // past the buffer: seek, and start a new one there
      in_.clear();
      in_.seekg(static_cast<std::streamoff>(pos_ + n));
      buf_.clear();
      buf_at_ = 0;
    }
    pos_ += n;
  }
  uint64_t unsigned_le(int nbytes) {
    const std::string b = take(static_cast<uint64_t>(nbytes));
    uint64_t v = 0;
    for (int i = nbytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
    return v;
  }
  // A payload left in the file earlier (a lazy byte string that turns out to be needed, e.g. a numpy scalar's
  // data); the buffered reading continues where it was.
  std::string read_back(const FileSpan& s) {
    in_.clear();
    const std::streampos here = in_.tellg();
    std::string out(static_cast<size_t>(s.size), '\0');
    in_.seekg(static_cast<std::streamoff>(s.offset));
    in_.read(&out[0], static_cast<std::streamsize>(s.size));
    const bool ok = static_cast<uint64_t>(in_.gcount()) == s.size;
    in_.clear();
    in_.seekg(here);
    if (!ok) fail(name_ + ": read error in the pickle");
    return out;
  }
  std::string line(size_t max_len) {  // GLOBAL's "module\n" and "name\n"
    std::string s;
    for (;;) {
      const char c = static_cast<char>(byte());
      if (c == '\n') return s;
      if (s.size() >= max_len) fail(name_ + ": pickle byte " + std::to_string(pos_) + ": GLOBAL name too long");
      s.push_back(c);
    }
  }

 private:
  void need(uint64_t n) {
    if (n > remaining())
      fail(name_ + ": pickle is truncated (" + std::to_string(n) + " bytes needed at byte " + std::to_string(pos_) +
           ", " + std::to_string(remaining()) + " left)");
  }
  // Called with the buffer used up, when the stream stands at pos_.
  void fill() {
    need(1);
    buf_.resize(static_cast<size_t>(std::min<uint64_t>(remaining(), 1 << 16)));
    in_.read(&buf_[0], static_cast<std::streamsize>(buf_.size()));
    if (static_cast<size_t>(in_.gcount()) != buf_.size()) fail(name_ + ": read error in the pickle");
    buf_at_ = 0;
  }
  std::istream& in_;
  uint64_t pos_, end_;
  const std::string& name_;
  std::string buf_;
  size_t buf_at_ = 0;
};

PyPtr make(PyValue::Kind kind) {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  return v;
}

// UTF-8 -> Latin-1 bytes (_codecs.encode(s, 'latin1')); false if a character is above U+00FF.
bool utf8_to_latin1(const std::string& s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < s.size()) {
      out.push_back(static_cast<char>(((c & 0x1f) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3f)));
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

// "f4", "<f8", "|S10", "U5", "O8", "b1", "?": numbers, strings and objects only.
bool parse_numpy_descr(const std::string& d, PyDtype& t) {
  size_t at = 0;
  t.order = '|';
  if (at < d.size() && (d[at] == '<' || d[at] == '>' || d[at] == '|' || d[at] == '=')) t.order = d[at++] == '>' ? '>' : '<';
  if (at >= d.size()) return false;
  t.kind = d[at++];
  if (t.kind == '?') t.kind = 'b';
  size_t n = 0;
  for (; at < d.size(); ++at) {
    if (d[at] < '0' || d[at] > '9' || n > 100000000) return false;
    n = n * 10 + static_cast<size_t>(d[at] - '0');
  }
  switch (t.kind) {
    case 'f': t.itemsize = n; return n == 4 || n == 8;
    case 'i': case 'u': t.itemsize = n; return n == 1 || n == 2 || n == 4 || n == 8;
    case 'b': t.itemsize = 1; t.order = '|'; return n <= 1;
    case 'S': t.itemsize = n; t.order = '|'; return n >= 1;
    case 'U': t.itemsize = 4 * n; return n >= 1;
    case 'O': t.itemsize = 8; t.order = '|'; return n == 0 || n == 4 || n == 8;
    default: return false;
  }
}

std::string PyDtype::descr() const {
  const char o = kind == 'b' || kind == 'S' || kind == 'O' || itemsize == 1 ? '|' : order;
  if (kind == 'O') return "|O";
  if (kind == 'U') return std::string(1, o) + "U" + std::to_string(itemsize / 4);
  if (kind == 'b') return "|b1";
  return std::string(1, o) + kind + std::to_string(itemsize);
}

size_t PyArray::count() const {
  size_t n = 1;
  for (size_t d : shape) {
    if (d != 0 && n > (size_t{1} << 56) / d) fail("pickle: array shape too large");
    n *= d;
  }
  return n;
}

std::string describe_value(const PyValue& v) {
  switch (v.kind) {
    case PyValue::Kind::kNone: return "None";
    case PyValue::Kind::kBool: return "a bool";
    case PyValue::Kind::kInt: return "an int";
    case PyValue::Kind::kFloat: return "a float";
    case PyValue::Kind::kStr: return "a str";
    case PyValue::Kind::kBytes: return "a bytes object";
    case PyValue::Kind::kList: return "a list of " + std::to_string(v.items.size());
    case PyValue::Kind::kTuple: return "a tuple of " + std::to_string(v.items.size());
    case PyValue::Kind::kDtype: return "a numpy dtype";
    case PyValue::Kind::kArray: return "a numpy array of dtype " + v.array->dtype.descr();
    case PyValue::Kind::kCallable: return "a function";
  }
  return "?";
}

namespace {

// The interpreter: a stack machine over the allowed opcodes. Each handler is short; errors name the byte.
class Unpickler {
 public:
  Unpickler(Input& in, const std::string& name, const UnpickleOptions& o) : in_(in), name_(name), opt_(o) {}

  PyPtr run() {
    for (;;) {
      at_ = in_.pos();
      const uint8_t op = in_.byte();
      if (op == '.') break;
      step(op);
    }
    if (stack_.empty() || !marks_.empty()) bad("STOP with an empty stack or an open MARK");
    return stack_.back();
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(name_ + ": pickle byte " + std::to_string(at_) + ": " + what);
  }

  // Every value built goes through here: a cap on their number bounds the memory a hostile pickle can claim
  // with one-byte opcodes (numpy's arrays of 100k videos need well under a million).
  PyPtr fresh(PyValue::Kind kind) {
    if (++created_ > kMaxValues) bad("more than " + std::to_string(kMaxValues) + " values: not a numpy array of annotations or features");
    return make(kind);
  }
  static constexpr size_t kMaxValues = size_t{8} << 20;

  void step(uint8_t op) {
    switch (op) {
      case 0x80: proto(); return;
      case 0x95: in_.unsigned_le(8); return;  // FRAME: a length hint only
      case '(': marks_.push_back(stack_.size()); return;
      case 'c': global_line(); return;
      case 0x93: stack_global(); return;
      case 'q': put(in_.byte()); return;
      case 'r': put(in_.unsigned_le(4)); return;
      case 0x94: put(memo_.size()); return;
      case 'h': get(in_.byte()); return;
      case 'j': get(in_.unsigned_le(4)); return;
      case 'N': push(fresh(PyValue::Kind::kNone)); return;
      case 0x88: case 0x89: push_bool(op == 0x88); return;
      case 'K': push_int(static_cast<int64_t>(in_.byte())); return;
      case 'M': push_int(static_cast<int64_t>(in_.unsigned_le(2))); return;
      case 'J': push_int(static_cast<int32_t>(static_cast<uint32_t>(in_.unsigned_le(4)))); return;
      case 0x8a: long1(); return;
      case 'G': binfloat(); return;
      case 'U': push_bytes(in_.byte(), true); return;       // Python 2 str: bytes
      case 'T': push_bytes(in_.unsigned_le(4), true); return;
      case 'C': push_bytes(in_.byte(), true); return;
      case 'B': push_bytes(in_.unsigned_le(4), true); return;
      case 0x8e: push_bytes(in_.unsigned_le(8), true); return;
      case 'X': push_str(in_.unsigned_le(4)); return;
      case 0x8c: push_str(in_.byte()); return;
      case 0x8d: push_str(in_.unsigned_le(8)); return;
      case ']': push(fresh(PyValue::Kind::kList)); return;
      case 'l': push_sequence(PyValue::Kind::kList, pop_mark()); return;
      case 'a': append(); return;
      case 'e': appends(); return;
      case ')': push(fresh(PyValue::Kind::kTuple)); return;
      case 't': push_sequence(PyValue::Kind::kTuple, pop_mark()); return;
      case 0x85: case 0x86: case 0x87: push_sequence(PyValue::Kind::kTuple, pop_n(op - 0x84u)); return;
      case '0': pop(); return;
      case '1': pop_mark(); return;
      case 'R': reduce(); return;
      case 'b': build(); return;
      default: refuse(op);
    }
  }

  [[noreturn]] void refuse(uint8_t op) const {
    const char* n = opcode_name(op);
    if (!n) bad("unknown opcode " + hex_byte(op) + " (not a pickle, or a damaged one)");
    bad(std::string("opcode ") + n + " (" + hex_byte(op) + ") is not allowed: only the opcodes of numpy's "
        "object-array pickles are read, nothing is executed");
  }

  void proto() {
    const int v = in_.byte();
    if (v < 2 || v > 5) bad("pickle protocol " + std::to_string(v) + " is not supported (2 to 5)");
  }

  // Memo references (BINGET) add no value but one more pointer each: their total is capped as well.
  void push(PyPtr v) {
    if (stack_.size() > (size_t{1} << 24)) bad("pickle stack too deep");
    if (++pushes_ > 4 * kMaxValues) bad("more than " + std::to_string(4 * kMaxValues) + " stack pushes: not a numpy array");
    stack_.push_back(std::move(v));
  }
  PyPtr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back())) bad("stack underflow");
    PyPtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::vector<PyPtr> pop_mark() {
    if (marks_.empty()) bad("no MARK to pop to");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyPtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  std::vector<PyPtr> pop_n(size_t n) {
    std::vector<PyPtr> items(n);
    for (size_t i = n; i-- > 0;) items[i] = pop();
    return items;
  }
  PyPtr& top() {
    if (stack_.empty()) bad("stack underflow");
    return stack_.back();
  }

  void put(uint64_t index) {
    if (memo_.size() > (size_t{1} << 26)) bad("pickle memo too large");
    memo_[index] = top();
  }
  void get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) bad("memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }

  void push_bool(bool b) {
    PyPtr v = fresh(PyValue::Kind::kBool);
    v->flag = b;
    push(v);
  }
  void push_int(int64_t i) {
    PyPtr v = fresh(PyValue::Kind::kInt);
    v->integer = i;
    push(v);
  }
  void long1() {
    const int n = in_.byte();
    if (n > 8) bad("LONG1 integer of " + std::to_string(n) + " bytes is too large");
    uint64_t u = n ? in_.unsigned_le(n) : 0;
    if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    push_int(static_cast<int64_t>(u));
  }
  void binfloat() {
    const std::string b = in_.take(8);
    uint64_t u = 0;
    for (unsigned char c : b) u = (u << 8) | c;  // big-endian
    double d;
    std::memcpy(&d, &u, 8);
    PyPtr v = fresh(PyValue::Kind::kFloat);
    v->real = d;
    push(v);
  }
  void push_bytes(uint64_t n, bool may_defer) {
    PyPtr v = fresh(PyValue::Kind::kBytes);
    if (may_defer && opt_.lazy_bytes > 0 && n >= opt_.lazy_bytes) {
      v->lazy = true;
      v->span = {in_.pos(), n};
      in_.skip(n);
    } else {
      v->text = in_.take(n);
    }
    push(v);
  }
  void push_str(uint64_t n) {
    PyPtr v = fresh(PyValue::Kind::kStr);
    v->text = in_.take(n);
    push(v);
  }
  void push_sequence(PyValue::Kind kind, std::vector<PyPtr> items) {
    PyPtr v = fresh(kind);
    v->items = std::move(items);
    push(v);
  }
  void append() {
    PyPtr item = pop();
    PyPtr& list = top();
    if (list->kind != PyValue::Kind::kList) bad("APPEND to " + describe_value(*list));
    list->items.push_back(std::move(item));
  }
  void appends() {
    std::vector<PyPtr> items = pop_mark();
    PyPtr& list = top();
    if (list->kind != PyValue::Kind::kList) bad("APPENDS to " + describe_value(*list));
    for (PyPtr& i : items) list->items.push_back(std::move(i));
  }

  void global_named(const std::string& module, const std::string& name) {
    const int id = allowed_global(module, name);
    if (!id)
      bad("global '" + module + "." + name + "' is not allowed (only numpy array reconstruction: " + kAllowedGlobals +
          "); nothing was executed");
    PyPtr v = fresh(PyValue::Kind::kCallable);
    v->callable = id;
    push(v);
  }
  void global_line() {
    const std::string module = in_.line(200);
    const std::string name = in_.line(200);
    global_named(module, name);
  }
  void stack_global() {
    PyPtr name = pop(), module = pop();
    if (module->kind != PyValue::Kind::kStr || name->kind != PyValue::Kind::kStr) bad("STACK_GLOBAL without two str");
    global_named(module->text, name->text);
  }

  void reduce();
  void build();
  PyPtr reconstruct(const std::vector<PyPtr>& args);
  PyPtr dtype_of(const std::vector<PyPtr>& args);
  PyPtr scalar(const std::vector<PyPtr>& args);
  PyPtr encode(const std::vector<PyPtr>& args);
  void build_dtype(PyDtype& t, const std::vector<PyPtr>& state);
  void build_array(PyArray& a, const std::vector<PyPtr>& state);

  Input& in_;
  const std::string& name_;
  UnpickleOptions opt_;
  uint64_t at_ = 0;
  size_t created_ = 0, pushes_ = 0;
  std::vector<PyPtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyPtr> memo_;
};

bool is_int(const PyPtr& v) { return v->kind == PyValue::Kind::kInt || v->kind == PyValue::Kind::kBool; }
bool is_text(const PyPtr& v) { return v->kind == PyValue::Kind::kStr || (v->kind == PyValue::Kind::kBytes && !v->lazy); }

void Unpickler::reduce() {
  PyPtr args = pop();
  PyPtr fn = pop();
  if (fn->kind != PyValue::Kind::kCallable) bad("REDUCE of " + describe_value(*fn) + " (only allowed globals)");
  if (args->kind != PyValue::Kind::kTuple) bad("REDUCE arguments are " + describe_value(*args) + ", not a tuple");
  switch (fn->callable) {
    case kReconstruct: push(reconstruct(args->items)); return;
    case kDtype: push(dtype_of(args->items)); return;
    case kScalar: push(scalar(args->items)); return;
    case kEncode: push(encode(args->items)); return;
    default: bad("REDUCE calls numpy.ndarray directly (only _reconstruct may build arrays)");
  }
}

// _reconstruct(numpy.ndarray, shape, typecode): an empty array, filled in by BUILD.
PyPtr Unpickler::reconstruct(const std::vector<PyPtr>& args) {
  if (args.size() != 3 || args[0]->kind != PyValue::Kind::kCallable || args[0]->callable != kNdarray)
    bad("_reconstruct must be called as _reconstruct(numpy.ndarray, shape, typecode)");
  PyPtr v = fresh(PyValue::Kind::kArray);
  v->array = std::make_shared<PyArray>();
  return v;
}

PyPtr Unpickler::dtype_of(const std::vector<PyPtr>& args) {
  if (args.empty() || args.size() > 3 || !is_text(args[0])) bad("numpy.dtype must be called with a type string");
  PyPtr v = fresh(PyValue::Kind::kDtype);
  if (!parse_numpy_descr(args[0]->text, v->dtype))
    bad("dtype '" + args[0]->text + "' is not supported (only numeric, string and object arrays)");
  return v;
}

// scalar(dtype, payload): a numpy scalar (np.float64(2.5) in a list), read as the plain number or string.
PyPtr Unpickler::scalar(const std::vector<PyPtr>& args) {
  if (args.size() != 2 || args[0]->kind != PyValue::Kind::kDtype) bad("scalar must be called as scalar(dtype, data)");
  const PyDtype& t = args[0]->dtype;
  if (t.kind == 'O') return args[1];
  const PyPtr& data = args[1];
  const uint64_t have = data->lazy ? data->span.size : data->text.size();
  if (data->kind != PyValue::Kind::kBytes || have != t.itemsize)
    bad("scalar of dtype " + t.descr() + " needs " + std::to_string(t.itemsize) + " bytes of data");
  PyArray a;
  a.dtype = t;
  a.shape = {};
  a.data = data->lazy ? in_.read_back(data->span) : data->text;  // a scalar is read whole, however long
  a.built = true;
  PyPtr v = fresh(PyValue::Kind::kArray);
  v->array = std::make_shared<PyArray>(std::move(a));
  return v;  // a 0-d array; readers treat it as its one element
}

PyPtr Unpickler::encode(const std::vector<PyPtr>& args) {
  if (args.size() != 2 || args[0]->kind != PyValue::Kind::kStr || args[1]->kind != PyValue::Kind::kStr ||
      (args[1]->text != "latin1" && args[1]->text != "latin-1"))
    bad("_codecs.encode is only allowed as encode(str, 'latin1') (how Python 3 pickles bytes at protocol 2)");
  PyPtr v = fresh(PyValue::Kind::kBytes);
  if (!utf8_to_latin1(args[0]->text, v->text)) bad("_codecs.encode: a character outside Latin-1");
  return v;
}

void Unpickler::build() {
  PyPtr state = pop();
  PyPtr& target = top();
  if (state->kind != PyValue::Kind::kTuple) bad("BUILD state is " + describe_value(*state) + ", not a tuple");
  if (target->kind == PyValue::Kind::kDtype) return build_dtype(target->dtype, state->items);
  if (target->kind == PyValue::Kind::kArray) return build_array(*target->array, state->items);
  bad("BUILD on " + describe_value(*target) + " (only numpy arrays and dtypes)");
}

// dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]).
void Unpickler::build_dtype(PyDtype& t, const std::vector<PyPtr>& s) {
  if ((s.size() != 8 && s.size() != 9) || !is_text(s[1]) || !is_int(s[5])) bad("malformed numpy dtype state");
  for (size_t i : {size_t{2}, size_t{3}, size_t{4}})
    if (s[i]->kind != PyValue::Kind::kNone) bad("structured or sub-array dtypes are not supported");
  const std::string& order = s[1]->text;
  if (order == ">" || order == "<" || order == "=") t.order = order == ">" ? '>' : '<';
  if ((t.kind == 'S' || t.kind == 'U') && s[5]->integer > 0) t.itemsize = static_cast<size_t>(s[5]->integer);
  if (t.kind == 'U' && t.itemsize % 4) bad("unicode dtype with an item size not a multiple of 4");
}

// ndarray state: ([version,] shape, dtype, is_fortran, data); data is bytes, or a list for dtype object.
void Unpickler::build_array(PyArray& a, const std::vector<PyPtr>& s0) {
  if (a.built) bad("the state of an array is set twice");
  std::vector<PyPtr> s = s0;
  if (s.size() == 5) s.erase(s.begin());
  if (s.size() != 4 || s[0]->kind != PyValue::Kind::kTuple || s[1]->kind != PyValue::Kind::kDtype || !is_int(s[2]))
    bad("malformed numpy array state");
  for (const PyPtr& d : s[0]->items) {
    if (d->kind != PyValue::Kind::kInt || d->integer < 0) bad("array shape holds " + describe_value(*d));
    a.shape.push_back(static_cast<size_t>(d->integer));
  }
  a.dtype = s[1]->dtype;
  a.fortran = s[2]->integer != 0;
  size_t n = 1;
  for (size_t d : a.shape) {
    if (d != 0 && n > (size_t{1} << 56) / d) bad("array shape too large");
    n *= d;
  }
  if (a.dtype.kind == 'O') {
    if (s[3]->kind != PyValue::Kind::kList || s[3]->items.size() != n)
      bad("object array of " + std::to_string(n) + " elements with " + describe_value(*s[3]) + " as data");
    a.objects = s[3]->items;
  } else {
    if (s[3]->kind != PyValue::Kind::kBytes) bad("array data is " + describe_value(*s[3]) + ", not bytes");
    const uint64_t have = s[3]->lazy ? s[3]->span.size : s[3]->text.size();
    if (have != n * a.dtype.itemsize)
      bad("array of " + std::to_string(n) + " x " + std::to_string(a.dtype.itemsize) + " bytes has " +
          std::to_string(have) + " bytes of data");
    a.lazy = s[3]->lazy;
    a.span = s[3]->span;
    a.data = s[3]->text;
  }
  a.built = true;
}

}  // namespace

PyPtr unpickle(std::istream& in, uint64_t offset, uint64_t end, const std::string& name,
               const UnpickleOptions& options) {
  if (end < offset) fail(name + ": pickle is truncated");
  Input input(in, offset, end, name);
  PyPtr v = Unpickler(input, name, options).run();
  if (input.remaining() > 0)
    fail(name + ": " + std::to_string(input.remaining()) + " unexpected bytes after the pickle's STOP");
  return v;
}

PyPtr unpickle_bytes(const std::string& bytes, const std::string& name) {
  std::istringstream in(bytes);
  return unpickle(in, 0, bytes.size(), name);
}

// ------------------------------------------------------------------------------------------------- writer

void Pickler3::proto() { out_ += "\x80\x03"; }
void Pickler3::stop() { out_.push_back('.'); }
void Pickler3::mark() { out_.push_back('('); }
void Pickler3::none() { out_.push_back('N'); }
void Pickler3::boolean(bool v) { out_.push_back(static_cast<char>(v ? 0x88 : 0x89)); }
void Pickler3::append() { out_.push_back('a'); }
void Pickler3::appends() { out_.push_back('e'); }
void Pickler3::build() { out_.push_back('b'); }

static void put_le(std::string& out, uint64_t v, int nbytes) {
  for (int i = 0; i < nbytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t Pickler3::memoize() {
  const uint32_t i = next_++;
  if (i < 256) {
    out_.push_back('q');
    out_.push_back(static_cast<char>(i));
  } else {
    out_.push_back('r');
    put_le(out_, i, 4);
  }
  return i;
}

void Pickler3::get(uint32_t index) {
  if (index < 256) {
    out_.push_back('h');
    out_.push_back(static_cast<char>(index));
  } else {
    out_.push_back('j');
    put_le(out_, index, 4);
  }
}

uint32_t Pickler3::global(const std::string& module, const std::string& name) {
  out_ += "c" + module + "\n" + name + "\n";
  return memoize();
}

void Pickler3::integer(int64_t v) {
  if (v >= 0 && v <= 0xff) {
    out_.push_back('K');
    put_le(out_, static_cast<uint64_t>(v), 1);
  } else if (v >= 0 && v <= 0xffff) {
    out_.push_back('M');
    put_le(out_, static_cast<uint64_t>(v), 2);
  } else if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
    out_.push_back('J');
    put_le(out_, static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(v))), 4);
  } else {  // LONG1: the shortest two's complement that keeps the sign, as pickle.encode_long
    int n = 8;
    while (n > 1) {
      const int64_t hi = v >> (8 * (n - 1) - 1);
      if (hi != 0 && hi != -1) break;
      --n;
    }
    out_.push_back(static_cast<char>(0x8a));
    out_.push_back(static_cast<char>(n));
    put_le(out_, static_cast<uint64_t>(v), n);
  }
}

void Pickler3::real(double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  out_.push_back('G');
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

void Pickler3::unicode(const std::string& utf8) {
  std::string latin1;
  const bool one_char = utf8_to_latin1(utf8, latin1) && latin1.size() <= 1;
  if (one_char) {
    for (const auto& e : one_char_)
      if (e.first == utf8) return get(e.second);
  }
  out_.push_back('X');
  put_le(out_, utf8.size(), 4);
  out_ += utf8;
  const uint32_t id = memoize();
  if (one_char) one_char_.emplace_back(utf8, id);
}

void Pickler3::bytes_header(uint64_t size) {
  if (size < 256) {
    out_.push_back('C');
    out_.push_back(static_cast<char>(size));
  } else {
    if (size > 0xffffffffULL) fail("pickle: a bytes object over 4 GiB needs protocol 4 (numpy writes protocol 3)");
    out_.push_back('B');
    put_le(out_, size, 4);
  }
}

uint32_t Pickler3::tuple(size_t n) {
  if (n == 0) {
    out_.push_back(')');
    return next_;
  }
  if (n <= 3) out_.push_back(static_cast<char>(0x84 + n));
  else out_.push_back('t');
  return memoize();
}

uint32_t Pickler3::empty_list() {
  out_.push_back(']');
  return memoize();
}

uint32_t Pickler3::reduce() {
  out_.push_back('R');
  return memoize();
}

}  // namespace aicl
