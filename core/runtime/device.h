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

// Checks a --precision value for a device: "fp32" anywhere, "tf32" only on cuda ("<flag>: must be fp32 or tf32",
// "<flag> tf32: only with --device cuda (the CPU backend computes in FP32)").
void check_precision_option(const std::string& device, const std::string& precision, const std::string& flag);

// Sets the GEMM precision of a checked device's op table: on cuda, cuBLAS in FP32 or TF32 (tensor cores) for every
// GEMM of the step (convs, heads, bilinear layers); on the CPU nothing (FP32 always).
void set_device_precision(const std::string& device, const std::string& precision, const std::string& flag);

// True when --device cuda can work here (the library opens and a device is present); never throws.
bool cuda_usable();

// For provenance records: "CPU model, N of M threads" (threads 0 = all), or the CUDA device's name, compute
// capability, memory, driver and runtime versions.
std::string device_description(const std::string& device, int threads);

}  // namespace aicl
