// The CUDA instance of the op table, for code linked with libaicl_cuda.so (GPU tests, benchmarks); the CLIs reach
// it through core/runtime/device.h, which opens the library only when a CUDA device is asked for.
#pragma once
#include "kernels/ops.h"

namespace aicl {

Ops& cuda_ops();

}  // namespace aicl

extern "C" {
int aicl_cuda_device_count();    // 0 without a driver or device (never throws)
aicl::Ops* aicl_cuda_ops();      // the process-wide instance (one stream)
const char* aicl_cuda_device_description();  // name, compute capability, memory, driver and runtime versions
}
