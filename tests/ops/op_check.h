// The generic checks and timers run on every registered op case (tests/ops/op_registry.h): gradient check, CUDA vs CPU, perf.
#pragma once
#include <memory>

#include "ops/op_registry.h"

namespace aicl_test::ops {

// Finite differences (double) of every input with a gradient against backward_d, for every CPU variant; also the
// null-gradient variants and the case's grad_invariants.
Report run_gradcheck(const OpCase& c);

// Forward (and backward) of every CUDA variant against the CPU float twin (variant 0) with the case's tolerances.
// Needs a CUDA build and a device (only compiled with AICL_HAVE_CUDA; the caller skips without a device).
Report run_cuda_vs_cpu(const OpCase& c);

// One case prepared for timing on the CPU (float): inputs generated once, every call runs the op once.
class CpuTimer {
 public:
  CpuTimer(const OpCase& c, int variant);
  ~CpuTimer();
  void forward();
  void backward();  // accumulates into the same gradient buffers on every call

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same on the device: milliseconds per call, averaged over `reps` calls between two CUDA events.
class CudaTimer {
 public:
  CudaTimer(const OpCase& c, int variant);
  ~CudaTimer();
  double forward_ms(int reps);
  double backward_ms(int reps);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether this binary has the CUDA backend and a usable device.
bool cuda_usable();

}  // namespace aicl_test::ops
