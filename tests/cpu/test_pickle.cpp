// Tests of the restricted unpickler and the protocol-3 writer: numpy-written fixtures read and re-encoded to the
// same bytes, Python 2 / protocol 2 / protocol 4 pickles read, and every pickle that could execute code refused.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/base/error.h"
#include "data/npy.h"
#include "data/pickle.h"
#include "data/wtalc.h"
#include "test_util.h"

using aicl::PyValue;
using namespace std::string_literals;  // "..."s keeps embedded NUL bytes

namespace {

std::string fixture(const std::string& name) { return aicl_test::source_dir() + "/tests/data/wtalc/" + name; }

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// An object-array .npy around a hand-written pickle (numpy's header, then the opcodes).
std::string object_npy(const std::string& pickle, size_t count = 1) {
  return aicl::npy_header_bytes("|O", {count}) + pickle;
}

// Writes `bytes` to a temp file and loads it as an annotation array; returns the error message or "".
std::string load_error(const std::string& bytes) {
  const auto dir = aicl_test::temp_dir("pickle_bad");
  const std::string p = (dir / "x.npy").string();
  { std::ofstream(p, std::ios::binary) << bytes; }
  try {
    aicl::load_npy_array(p);
  } catch (const aicl::Error& e) {
    return e.what();
  }
  return "";
}

// The opening of numpy's object-array pickle (the array being rebuilt), before its state.
const std::string kArrayHead = "\x80\x03"s + "cnumpy.core.multiarray\n_reconstruct\nq\x00"s + "cnumpy\nndarray\nq\x01"s +
                               "K\x00\x85q\x02" "C\x01" "bq\x03\x87q\x04Rq\x05"s;

// The elements of a pickled list as an object array, for npy_numbers.
aicl::PyArray as_objects(const PyValue& list) {
  aicl::PyArray a;
  a.dtype.kind = 'O';
  a.shape = {list.items.size()};
  a.objects = list.items;
  return a;
}

}  // namespace

TEST_CASE("pickle: numpy-written annotation arrays read back as strings, numbers and lists") {
  const auto names = aicl::npy_strings(aicl::load_npy_array(fixture("videoname.npy")), "videoname.npy");
  CHECK(names == std::vector<std::string>{"video_validation_0000001", "video_validation_0000002", "video_test_0000001",
                                          "video_test_0000002"});
  CHECK(aicl::npy_numbers(aicl::load_npy_array(fixture("duration.npy")), "d") == std::vector<double>{4.58, 2.66, 3.3, 2.02});
  CHECK(aicl::npy_numbers(aicl::load_npy_array(fixture("duration_col.npy")), "d") ==
        std::vector<double>{4.58, 2.66, 3.3, 2.02});
  CHECK(aicl::npy_strings(aicl::load_npy_array(fixture("unicode_array.npy")), "u") == std::vector<std::string>{"a", "bcd"});
  CHECK(aicl::npy_strings(aicl::load_npy_array(fixture("str_objects.npy")), "s") ==
        std::vector<std::string>{"video_a", "video_b"});

  const aicl::PyArray labels = aicl::load_npy_array(fixture("labels.npy"));
  REQUIRE(labels.objects.size() == 4);
  CHECK(aicl::string_list(*labels.objects[0], "l") == std::vector<std::string>{"Diving", "CliffDiving"});
  CHECK(aicl::string_list(*labels.objects[2], "l").empty());
  const aicl::PyArray segs = aicl::load_npy_array(fixture("segments.npy"));
  const auto s0 = aicl::segment_list(*segs.objects[0], "s");
  REQUIRE(s0.size() == 2);
  CHECK(s0[1] == std::make_pair(3.0, 3.5));
  const aicl::PyArray uni = aicl::load_npy_array(fixture("unicode_labels.npy"));
  CHECK(aicl::string_list(*uni.objects[0], "u") == std::vector<std::string>{"Crème brûlée", "Ωmega"});
  CHECK(aicl::string_list(*uni.objects[2], "u") == std::vector<std::string>{"x"});  // a BINGET of the first 'x'

  // numpy scalars in lists (numpy.core.multiarray.scalar) read as their numbers.
  const aicl::PyArray sc = aicl::load_npy_array(fixture("scalars.npy"));
  CHECK(aicl::npy_numbers(as_objects(*sc.objects[0]), "x") == std::vector<double>{1.5, 2.5});
  CHECK(aicl::npy_numbers(as_objects(*sc.objects[1]), "x") == std::vector<double>{-3, 1});
}

TEST_CASE("pickle: float arrays of protocols 2, 3 and 4 read, including _codecs.encode payloads") {
  const aicl::PyArray f = aicl::load_npy_array(fixture("floats.npy"));
  REQUIRE(f.objects.size() == 3);
  const aicl::PyArray& a = *f.objects[2]->array;
  CHECK(a.shape == std::vector<size_t>{24, 3});
  CHECK(a.dtype.descr() == "<f4");
  float x;
  std::memcpy(&x, a.data.data() + 4 * 71, 4);
  CHECK(x == 71.f);
  const aicl::PyArray p2 = aicl::load_npy_array(fixture("proto2_floats.npy"));  // bytes via _codecs.encode
  REQUIRE(p2.objects.size() == 2);
  CHECK(p2.objects[1]->array->dtype.descr() == "<f8");
  double d;
  std::memcpy(&d, p2.objects[1]->array->data.data(), 8);
  CHECK(d == 2.5);
  const aicl::PyArray p4 = aicl::load_npy_array(fixture("proto4_labels.npy"));  // FRAME, MEMOIZE, SHORT_BINUNICODE
  CHECK(aicl::string_list(*p4.objects[1], "l") == std::vector<std::string>{"GolfSwing", "Diving"});
}

TEST_CASE("pickle: the encoders give numpy's exact bytes (re-encoding numpy-written fixtures)") {
  auto strings = [](const char* f) { return aicl::npy_strings(aicl::load_npy_array(fixture(f)), f); };
  CHECK(aicl::npy_of_bytes_strings(strings("videoname.npy")) == bytes_of(fixture("videoname.npy")));
  CHECK(aicl::npy_of_bytes_strings(strings("subset.npy")) == bytes_of(fixture("subset.npy")));
  CHECK(aicl::npy_of_bytes_strings(strings("classlist.npy")) == bytes_of(fixture("classlist.npy")));
  const auto dur = aicl::npy_numbers(aicl::load_npy_array(fixture("duration.npy")), "d");
  CHECK(aicl::npy_of_doubles(dur, false) == bytes_of(fixture("duration.npy")));
  CHECK(aicl::npy_of_doubles(dur, true) == bytes_of(fixture("duration_col.npy")));

  for (const char* f : {"labels.npy", "labels_all.npy", "unicode_labels.npy", "batch1001.npy"}) {
    INFO(f);
    const aicl::PyArray a = aicl::load_npy_array(fixture(f));
    std::vector<std::vector<std::string>> lists;
    for (const auto& o : a.objects) lists.push_back(aicl::string_list(*o, f));
    CHECK(aicl::npy_of_string_lists(lists) == bytes_of(fixture(f)));
  }
  const aicl::PyArray s = aicl::load_npy_array(fixture("segments.npy"));
  std::vector<std::vector<std::pair<double, double>>> seg_lists;
  for (const auto& o : s.objects) seg_lists.push_back(aicl::segment_list(*o, "s"));
  CHECK(aicl::npy_of_segment_lists(seg_lists) == bytes_of(fixture("segments.npy")));

  for (const char* f : {"floats.npy", "one_float.npy"}) {  // BINBYTES past 255 bytes, a single element (APPEND)
    INFO(f);
    const aicl::PyArray a = aicl::load_npy_array(fixture(f));
    std::vector<aicl::NpyMatrix> ms;
    for (const auto& o : a.objects) {
      aicl::NpyMatrix m;
      m.rows = o->array->shape[0];
      m.cols = o->array->shape[1];
      m.data.resize(m.rows * m.cols);
      std::memcpy(m.data.data(), o->array->data.data(), m.data.size() * 4);
      ms.push_back(m);
    }
    CHECK(aicl::npy_of_float_matrices(ms) == bytes_of(fixture(f)));
  }
}

TEST_CASE("pickle: npy_header_bytes is numpy's header, including the whole-64 padding when aligned") {
  CHECK(aicl::npy_header_bytes("|S24", {4}) == bytes_of(fixture("videoname.npy")).substr(0, 128));
  for (size_t n : {0u, 1u, 7u, 123u, 99999u})
    for (const char* descr : {"<f4", "|O", "|S5", "<U12"}) {
      const std::string h = aicl::npy_header_bytes(descr, {n});
      CHECK(h.size() % 64 == 0);
      CHECK(h.back() == '\n');
      const aicl::NpyHeader back = aicl::parse_npy_header(h, "h");
      CHECK(back.descr == descr);
      CHECK(back.shape == std::vector<size_t>{n});
      CHECK(back.data_offset == h.size());
    }
}

TEST_CASE("pickle: a global other than numpy's reconstruction is refused, naming it, and nothing runs") {
  // pickle.dumps of an object whose __reduce__ returns (os.system, ('touch PWNED',)), as an object-array element.
  const std::string evil = "\x80\x03"s + "cos\nsystem\nq\x00X\x0b\x00\x00\x00" "touch PWNEDq\x01\x85q\x02Rq\x03."s;
  const std::string e1 = load_error(object_npy(evil));
  CHECK_THAT(e1, Catch::Contains("x.npy: pickle byte 130: global 'os.system' is not allowed") &&
                     Catch::Contains("nothing was executed"));
  for (const char* g : {"posix\nsystem\n", "builtins\neval\n", "subprocess\nPopen\n", "numpy\nload\n",
                        "numpy.core.multiarray\n_reconstruct_evil\n", "__builtin__\napply\n"}) {
    INFO(g);
    CHECK_THAT(load_error(object_npy("\x80\x02"s + "c" + g + ")R.")), Catch::Contains("is not allowed"));
  }
  // The same global reached through STACK_GLOBAL (protocol 4).
  const std::string stack = "\x80\x04\x8c\x02os\x8c\x06system\x93)R."s;
  CHECK_THAT(load_error(object_npy(stack)), Catch::Contains("global 'os.system' is not allowed"));
  // An evil global inside a genuine object array, after numpy's prefix.
  const std::string inside = kArrayHead + "(K\x01K\x01\x85"s + "cnumpy\ndtype\nX\x02\x00\x00\x00" "O8\x89\x88\x87R"s +
                             "(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89]"s +
                             "cos\nsystem\n" + ")Ra" + "tb.";
  CHECK_THAT(load_error(object_npy(inside)), Catch::Contains("global 'os.system' is not allowed"));
  CHECK_FALSE(std::ifstream("PWNED").good());
}

TEST_CASE("pickle: opcodes outside numpy's object arrays are refused by name") {
  auto with_op = [](const std::string& body) { return object_npy(std::string("\x80\x03", 2) + body); };
  CHECK_THAT(load_error(with_op("(cos\nsystem\ni.")), Catch::Contains("global 'os.system'"));  // GLOBAL comes first
  CHECK_THAT(load_error(with_op("(ios\nsystem\n.")), Catch::Contains("opcode INST (0x69) is not allowed"));
  CHECK_THAT(load_error(with_op("}.")), Catch::Contains("opcode EMPTY_DICT (0x7d) is not allowed"));
  CHECK_THAT(load_error(with_op("\x82\x01.")), Catch::Contains("opcode EXT1 (0x82) is not allowed"));
  CHECK_THAT(load_error(with_op("P0\n.")), Catch::Contains("opcode PERSID (0x50) is not allowed"));
  CHECK_THAT(load_error(with_op("\x81.")), Catch::Contains("opcode NEWOBJ (0x81) is not allowed"));
  CHECK_THAT(load_error(with_op("\x97.")), Catch::Contains("opcode NEXT_BUFFER (0x97) is not allowed"));
  CHECK_THAT(load_error(with_op("\xff.")), Catch::Contains("unknown opcode 0xff"));
  CHECK_THAT(load_error(with_op("]")), Catch::Contains("pickle is truncated"));
  CHECK_THAT(load_error(with_op("].junk")), Catch::Contains("4 unexpected bytes after the pickle's STOP"));
  CHECK_THAT(load_error(with_op("].")), Catch::Contains("the pickle holds a list of 0, not an object array"));
  CHECK_THAT(load_error(with_op("h\x05.")), Catch::Contains("memo entry 5 was never stored"));
  CHECK_THAT(load_error(object_npy("\x80\x06]."s)), Catch::Contains("pickle protocol 6 is not supported"));
}

TEST_CASE("pickle: only numeric and string arrays: structured dtypes, dicts and calls of ndarray are refused") {
  // A structured dtype ('V8' with fields) in an array's state.
  const std::string structured = kArrayHead + "(K\x01K\x01\x85"s + "cnumpy\ndtype\nX\x02\x00\x00\x00" "V8\x89\x88\x87R."s;
  CHECK_THAT(load_error(object_npy(structured)), Catch::Contains("dtype 'V8' is not supported"));
  const std::string fields = kArrayHead + "(K\x01K\x01\x85"s + "cnumpy\ndtype\nX\x02\x00\x00\x00" "f8\x89\x88\x87R"s +
                             "(K\x03X\x01\x00\x00\x00<N(X\x01\x00\x00\x00" "at"s +
                             "NJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb."s;
  CHECK_THAT(load_error(object_npy(fields)), Catch::Contains("structured or sub-array dtypes are not supported"));
  const std::string call = "\x80\x03"s + "cnumpy\nndarray\nK\x01\x85R.";
  CHECK_THAT(load_error(object_npy(call)), Catch::Contains("REDUCE calls numpy.ndarray directly"));
  const std::string encode = "\x80\x02"s + "c_codecs\nencode\nX\x01\x00\x00\x00" "aX\x05\x00\x00\x00" "rot13\x86R."s;
  CHECK_THAT(load_error(object_npy(encode)), Catch::Contains("_codecs.encode is only allowed as encode(str, 'latin1')"));
  // A dict-free but wrong element: an annotation list holding None.
  const aicl::PyPtr v = aicl::unpickle_bytes("\x80\x03]q\x00(X\x01\x00\x00\x00" "aNe."s, "mem");
  CHECK_THROWS_WITH(aicl::string_list(*v, "labels.npy: video 'v1'"),
                    "labels.npy: video 'v1': expected a list of class names, got None in it");
}

TEST_CASE("pickle: lazy payloads stay in the file") {
  std::ifstream in(fixture("floats.npy"), std::ios::binary);
  const auto size = static_cast<uint64_t>(bytes_of(fixture("floats.npy")).size());
  const aicl::NpyHeader h = aicl::read_npy_header(in, "floats.npy");
  aicl::UnpickleOptions o;
  o.lazy_bytes = 100;
  const aicl::PyPtr v = aicl::unpickle(in, h.data_offset, size, "floats.npy", o);
  const aicl::PyArray& big = *v->array->objects[2]->array;
  CHECK(big.lazy);
  CHECK(big.data.empty());
  CHECK(big.span.size == 24 * 3 * 4);
  CHECK_FALSE(v->array->objects[0]->array->lazy);  // 24 bytes: read at once
  CHECK(bytes_of(fixture("floats.npy")).substr(big.span.offset, 8) == "\0\0\0\0\0\0\x80?"s);
}

TEST_CASE("pickle: a numpy scalar whose data was left in the file is read back (found by fuzz_pickle)") {
  // Before the fix the streaming reader refused what the in-memory reader accepted: "scalar of dtype <f8 needs 8
  // bytes of data" when the scalar's 8 bytes were at or above lazy_bytes.
  const std::string all = bytes_of(fixture("scalars.npy"));
  std::ifstream in(fixture("scalars.npy"), std::ios::binary);
  const aicl::NpyHeader h = aicl::read_npy_header(in, "scalars.npy");
  aicl::UnpickleOptions o;
  o.lazy_bytes = 8;
  const aicl::PyPtr v = aicl::unpickle(in, h.data_offset, all.size(), "scalars.npy", o);
  CHECK(aicl::npy_numbers(as_objects(*v->array->objects[0]), "x") == std::vector<double>{1.5, 2.5});
  CHECK(aicl::npy_numbers(as_objects(*v->array->objects[1]), "x") == std::vector<double>{-3, 1});
}
