// A tiny flag parser shared by the CLIs (--name value / --flag), and the error-to-exit-code wrapper.
#include "core/base/cli.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "core/base/error.h"

namespace aicl {

Flags::Flags(int argc, char** argv, int first, const std::set<std::string>& with_value,
             const std::set<std::string>& switches) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2), value;
      auto eq = name.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (values_.count(name)) fail("--" + name + ": given more than once");
      if (with_value.count(name)) {
        if (!inline_value) {
          if (i + 1 >= argc) fail("--" + name + ": missing value");
          value = argv[++i];
        }
        values_[name] = value;
      } else if (switches.count(name)) {
        if (inline_value) fail("--" + name + ": takes no value");
        values_[name] = "1";
      } else {
        fail("--" + name + ": unknown flag (see --help)");
      }
    } else {
      positional_.push_back(a);
    }
  }
}

std::string Flags::str(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

std::string Flags::required(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) fail("--" + name + ": required (see --help)");
  return it->second;
}

int Flags::integer(const std::string& name, int def, int min_value, int max_value) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) fail("--" + name + ": '" + s + "' is not an integer");
  if (v < min_value || v > max_value)
    fail("--" + name + ": " + s + " is out of range [" + std::to_string(min_value) + ", " +
         std::to_string(max_value) + "]");
  return static_cast<int>(v);
}

double Flags::real(const std::string& name, double def, double min_value, double max_value) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    fail("--" + name + ": '" + s + "' is not a finite number");
  if (v < min_value || v > max_value) {
    char range[64];  // %g: std::to_string would print a bound such as 1e-12 as 0.000000
    std::snprintf(range, sizeof range, "[%g, %g]", min_value, max_value);
    fail("--" + name + ": " + s + " is out of range " + range);
  }
  return v;
}

int run_cli(const char* prog, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", prog, e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", prog);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", prog, e.what());
  }
  return 2;
}

}  // namespace aicl
