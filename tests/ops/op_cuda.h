// For the CUDA parts of tests/ops/op_*.cpp (include under #if AICL_HAVE_CUDA): the stream of a device call.
#pragma once
#include <cuda_runtime_api.h>

#include "ops/op_registry.h"

namespace aicl_test::ops {

inline cudaStream_t stream_of(const Args<float>& a) { return static_cast<cudaStream_t>(a.stream); }

}  // namespace aicl_test::ops
