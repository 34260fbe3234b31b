// One exception type for every user-facing failure: its message is the one line the CLIs print.
#pragma once
#include <stdexcept>
#include <string>

namespace aicl {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws aicl::Error("<what>"). Messages name the file or flag first: "gt.json: missing 'database'".
[[noreturn]] inline void fail(const std::string& what) { throw Error(what); }

}  // namespace aicl

#define AICL_CHECK(cond, msg)          \
  do {                                 \
    if (!(cond)) ::aicl::fail(msg);    \
  } while (0)
