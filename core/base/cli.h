// A tiny flag parser shared by the CLIs (--name value / --flag), and the error-to-exit-code wrapper.
#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace aicl {

class Flags {
 public:
  // Parses argv[first..]; `with_value` lists flags that take a value, `switches` those that don't.
  // Unknown flags, missing values and repeated flags throw aicl::Error naming the flag.
  Flags(int argc, char** argv, int first, const std::set<std::string>& with_value,
        const std::set<std::string>& switches);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string str(const std::string& name, const std::string& def) const;
  std::string required(const std::string& name) const;
  int integer(const std::string& name, int def, int min_value, int max_value) const;
  double real(const std::string& name, double def, double min_value, double max_value) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Runs `body`; an aicl::Error (or any std::exception) becomes "error: <message>" on stderr and exit code 2.
int run_cli(const char* prog, const std::function<int()>& body);

}  // namespace aicl
