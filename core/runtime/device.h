// --device cpu|cuda -> the op table of that device. The CUDA one lives in libaicl_cuda.so, opened only here, only
// when asked for: CPU runs and the evaluator never load the CUDA libraries, and one build serves machines with
// and without a GPU.
#pragma once
#include <string>

#include "kernels/ops.h"

namespace aicl {

// Checks a --device value: "cpu", or "cuda" when libaicl_cuda.so can be opened and a device is present
// (aicl::Error "<flag>: must be cpu or cuda", "<flag> cuda: this aicl was built without CUDA ...",
// "<flag> cuda: no CUDA device found" otherwise).
void check_device_option(const std::string& device, const std::string& flag);

// The op table of a checked device (loads the CUDA library on first use).
Ops& ops_for_device(const std::string& device, const std::string& flag);

// True when --device cuda can work here (the library opens and a device is present); never throws.
bool cuda_usable();

}  // namespace aicl
