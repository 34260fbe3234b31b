// --device cpu|cuda -> the op table; the CUDA library is opened with dlopen on first use (see device.h).
#include "core/runtime/device.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <thread>
#include <string>

#include "core/base/error.h"
#include "kernels/gemm.h"

namespace aicl {

namespace {

struct CudaLibrary {
  void* handle = nullptr;
  bool missing = false;  // no libaicl_cuda.so anywhere: a build without CUDA
  std::string error;     // why it could not be opened or used
  int (*device_count)() = nullptr;
  Ops* (*ops)() = nullptr;
  void (*set_tf32)(int) = nullptr;  // cuBLAS math mode of the op table's GEMMs: 0 FP32, 1 TF32
  const char* (*describe)() = nullptr;  // optional: libraries built before it lack it
};

// The directory of the running program: libaicl_cuda.so is built next to the CLIs and tests.
std::string program_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

// Next to the program when it is there (its own load error, e.g. a missing libcudart, is reported as such);
// otherwise by the loader's search (LD_LIBRARY_PATH, an install), and absent there means "built without CUDA".
const CudaLibrary& cuda_library() {
  static const CudaLibrary lib = [] {
    CudaLibrary l;
    const std::string local = program_dir() + "/libaicl_cuda.so";
    const bool here = ::access(local.c_str(), F_OK) == 0;
    l.handle = ::dlopen(here ? local.c_str() : "libaicl_cuda.so", RTLD_NOW | RTLD_LOCAL);
    if (!l.handle) {
      const char* e = ::dlerror();
      l.error = e ? e : "not found";
      l.missing = !here && l.error.find("libaicl_cuda.so: cannot open shared object file") != std::string::npos;
      return l;
    }
    l.device_count = reinterpret_cast<int (*)()>(::dlsym(l.handle, "aicl_cuda_device_count"));
    l.ops = reinterpret_cast<Ops* (*)()>(::dlsym(l.handle, "aicl_cuda_ops"));
    l.set_tf32 = reinterpret_cast<void (*)(int)>(::dlsym(l.handle, "aicl_cuda_set_tf32"));
    l.describe = reinterpret_cast<const char* (*)()>(::dlsym(l.handle, "aicl_cuda_device_description"));
    if (!l.device_count || !l.ops || !l.set_tf32) l.error = "libaicl_cuda.so lacks the aicl entry points";
    return l;
  }();
  return lib;
}

}  // namespace

void check_device_option(const std::string& device, const std::string& flag) {
  if (device == "cpu") return;
  if (device != "cuda") fail(flag + ": must be cpu or cuda (got '" + device + "')");
  const CudaLibrary& l = cuda_library();
  if (l.missing)
    fail(flag + " cuda: this aicl was built without CUDA (no libaicl_cuda.so next to the program; configure with nvcc "
                "available and -DAICL_CUDA=ON)");
  if (!l.error.empty()) fail(flag + " cuda: cannot open the CUDA backend: " + l.error);
  if (l.device_count() <= 0) fail(flag + " cuda: no CUDA device found");
}

Ops& ops_for_device(const std::string& device, const std::string& flag) {
  check_device_option(device, flag);
  if (device == "cpu") return cpu_ops();
  return *cuda_library().ops();
}

void check_precision_option(const std::string& device, const std::string& precision, const std::string& flag) {
  if (precision != "fp32" && precision != "tf32") fail(flag + ": must be fp32 or tf32 (got '" + precision + "')");
  if (precision == "tf32" && device != "cuda")
    fail(flag + " tf32: only with --device cuda (the CPU backend computes in FP32)");
}

void set_device_precision(const std::string& device, const std::string& precision, const std::string& flag) {
  check_precision_option(device, precision, flag);
  if (device != "cuda") return;
  check_device_option(device, "--device");
  cuda_library().set_tf32(precision == "tf32" ? 1 : 0);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      const std::string v = line.substr(line.find(':') + 1);
      return v.substr(v.find_first_not_of(' '));
    }
  return "unknown CPU";
}

std::string device_description(const std::string& device, int threads) {
  if (device == "cuda") {
    const CudaLibrary& l = cuda_library();
    return l.describe ? l.describe() : "CUDA device (libaicl_cuda.so without a description entry)";
  }
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return cpu_model() + ", " + std::to_string(threads > 0 ? threads : cores) + " of " + std::to_string(cores) +
         " threads, OpenBLAS " + blas_core() + " kernels";
}

bool cuda_usable() {
  const CudaLibrary& l = cuda_library();
  return l.error.empty() && l.device_count() > 0;
}

}  // namespace aicl
