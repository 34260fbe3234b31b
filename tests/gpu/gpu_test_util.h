// Helpers for the GPU tests: skip without a device, host<->device copies, seeded inputs, tolerance comparisons.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compare_util.h"
#include "kernels/cuda_common.h"
#include "test_util.h"

namespace aicl_test {

// Skips this test (exit 77 -> ctest "skipped") when no CUDA device is usable; call first in every GPU test.
inline void require_gpu() {
  if (!aicl::cuda_device_available()) skip("no CUDA device (cudaGetDeviceCount reports 0 or an error)");
}

// Uploads a host vector into a fresh device buffer (synchronous from the caller's view after sync()).
template <class T>
aicl::DeviceBuffer<T> to_device(const std::vector<T>& host, cudaStream_t stream) {
  return aicl::DeviceBuffer<T>(host, stream);
}

// Downloads a device buffer (synchronizes `stream`).
template <class T>
std::vector<T> to_host(const aicl::DeviceBuffer<T>& d, cudaStream_t stream) {
  return d.to_host(stream);
}

// n floats uniform in [lo, hi), seeded (the same seed gives the same values on every machine).
inline std::vector<float> random_floats(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace aicl_test

// Catch2 helper: checks a comparison and prints the report on failure. Needs <catch2/catch.hpp> first.
#define AICL_REQUIRE_CLOSE(got, want, rel_tol, what)                                    \
  do {                                                                                  \
    ::aicl_test::CloseReport aicl_close_report_;                                        \
    const bool aicl_close_ok_ = ::aicl_test::close_to_reference((got), (want), (rel_tol), \
                                                                &aicl_close_report_);   \
    INFO(aicl_close_report_.describe(what));                                            \
    REQUIRE(aicl_close_ok_);                                                            \
  } while (0)

// Same for accumulated outputs (see compare_increment).
#define AICL_REQUIRE_CLOSE_INCREMENT(got, want, before, rel_tol, what)                    \
  do {                                                                                  \
    const ::aicl_test::CloseReport aicl_close_report_ =                                 \
        ::aicl_test::compare_increment((got), (want), (before));                        \
    INFO(aicl_close_report_.describe(what));                                            \
    REQUIRE((!aicl_close_report_.nonfinite && aicl_close_report_.rel_err <= (rel_tol))); \
  } while (0)
