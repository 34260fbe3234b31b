// The op case registry: factories registered by AICL_REGISTER_OP at static initialisation, evaluated once on first use.
#include "ops/op_registry.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <utility>

namespace aicl_test::ops {

namespace {

struct Factory {
  std::string file;
  std::vector<OpCase> (*make)();
};

std::vector<Factory>& factories() {
  static std::vector<Factory> f;
  return f;
}

// Test names end up in ctest and Catch test specs: ',', '[', ']', '*', ';' and '"' would be parsed there.
void check_name(const OpCase& c, const std::string& file, std::set<std::string>& seen) {
  const std::string n = c.name();
  if (c.op.empty() || n.find_first_of(",[]*;\"\\") != std::string::npos)
    throw std::logic_error(file + ": op case name '" + n + "' is empty or has one of , [ ] * ; \" \\");
  if (!seen.insert(n).second) throw std::logic_error(file + ": op case '" + n + "' is registered twice");
  if (c.cpu_variants.empty() || c.cuda_variants.empty())
    throw std::logic_error(file + ": op case '" + n + "' needs at least one (possibly empty) variant name");
}

}  // namespace

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

bool register_op(const char* file, std::vector<OpCase> (*factory)()) {
  factories().push_back(Factory{file, factory});
  return true;
}

const std::vector<OpCase>& all_cases() {
  static const std::vector<OpCase> cases = [] {
    std::vector<Factory> fs = factories();
    std::stable_sort(fs.begin(), fs.end(), [](const Factory& a, const Factory& b) { return a.file < b.file; });
    std::vector<OpCase> all;
    std::set<std::string> seen;
    for (const Factory& f : fs)
      for (OpCase& c : f.make()) {
        check_name(c, f.file, seen);
        all.push_back(std::move(c));
      }
    return all;
  }();
  return cases;
}

}  // namespace aicl_test::ops
