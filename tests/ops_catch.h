// Catch2 side of the op harness: registers generated test cases at startup and turns a Report into assertions.
#pragma once
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <utility>

#include "ops/op_registry.h"

namespace aicl_test {

// A Catch2 test body held in a std::function (Catch's own invokers take plain function pointers).
class FunctionInvoker : public Catch::ITestInvoker {
 public:
  explicit FunctionInvoker(std::function<void()> f) : f_(std::move(f)) {}
  void invoke() const override { f_(); }

 private:
  std::function<void()> f_;
};

// Registers a test case named `name` (Catch copies the name and tags); call before the Catch session starts.
inline void register_test_case(const std::string& name, const std::string& tags, std::function<void()> body) {
  Catch::AutoReg(new FunctionInvoker(std::move(body)), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                 Catch::NameAndTags{Catch::StringRef(name), Catch::StringRef(tags)});
}

// One failed CHECK per failure, with every note as context; one passing CHECK when there is none.
inline void require_report(const ops::Report& r) {
  std::string context;
  for (const auto& n : r.notes) context += n + "\n";
  INFO(context);
  for (const auto& f : r.failures) FAIL_CHECK(f);
  CHECK(r.failures.empty());
}

}  // namespace aicl_test
