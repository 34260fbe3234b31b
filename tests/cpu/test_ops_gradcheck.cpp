// Generated tests: the finite-difference gradient check of every registered op case ("op gradcheck: <op> <params>").
#include "ops/op_check.h"
#include "ops_catch.h"
#include "test_startup.h"

namespace {

[[maybe_unused]] const bool registered = aicl_test::at_startup([] {
  for (const auto& c : aicl_test::ops::all_cases()) {
    if (!(c.checks & aicl_test::ops::kGradCheck)) continue;
    const auto* oc = &c;
    aicl_test::register_test_case("op gradcheck: " + c.name(), "[ops][grad][" + c.op + "]",
                                  [oc] { aicl_test::require_report(aicl_test::ops::run_gradcheck(*oc)); });
  }
});

}  // namespace
