// Generated tests: every registered op case's CUDA twin against its CPU float twin ("op cuda-vs-cpu: <op> <params>").
#include "gpu/gpu_test_util.h"
#include "ops/op_check.h"
#include "ops_catch.h"
#include "test_startup.h"

namespace {

[[maybe_unused]] const bool registered = aicl_test::at_startup([] {
  for (const auto& c : aicl_test::ops::all_cases()) {
    if (!(c.checks & aicl_test::ops::kCuda) || !c.forward_cuda) continue;
    const auto* oc = &c;
    aicl_test::register_test_case("op cuda-vs-cpu: " + c.name(), "[gpu][ops][" + c.op + "]", [oc] {
      aicl_test::require_gpu();  // exit 77 (skipped) without a device
      aicl_test::require_report(aicl_test::ops::run_cuda_vs_cpu(*oc));
    });
  }
});

}  // namespace
