// --device cpu|cuda -> the op table; the CUDA library is opened with dlopen on first use (see device.h).
#include "core/runtime/device.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

struct CudaLibrary {
  void* handle = nullptr;
  std::string error;  // why it could not be opened
  int (*device_count)() = nullptr;
  Ops* (*ops)() = nullptr;
};

// The directory of the running program: libaicl_cuda.so is built next to the CLIs and tests.
std::string program_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

const CudaLibrary& cuda_library() {
  static const CudaLibrary lib = [] {
    CudaLibrary l;
    const std::string path = program_dir() + "/libaicl_cuda.so";
    l.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!l.handle) l.handle = ::dlopen("libaicl_cuda.so", RTLD_NOW | RTLD_LOCAL);  // LD_LIBRARY_PATH, installs
    if (!l.handle) {
      const char* e = ::dlerror();
      l.error = e ? e : "not found";
      return l;
    }
    l.device_count = reinterpret_cast<int (*)()>(::dlsym(l.handle, "aicl_cuda_device_count"));
    l.ops = reinterpret_cast<Ops* (*)()>(::dlsym(l.handle, "aicl_cuda_ops"));
    if (!l.device_count || !l.ops) l.error = path + " lacks the aicl entry points";
    return l;
  }();
  return lib;
}

bool library_missing(const CudaLibrary& l) {
  return !l.handle && (l.error.find("No such file") != std::string::npos || l.error == "not found" ||
                       l.error.find("cannot open shared object file: No such file") != std::string::npos);
}

}  // namespace

void check_device_option(const std::string& device, const std::string& flag) {
  if (device == "cpu") return;
  if (device != "cuda") fail(flag + ": must be cpu or cuda (got '" + device + "')");
  const CudaLibrary& l = cuda_library();
  if (library_missing(l))
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

bool cuda_usable() {
  const CudaLibrary& l = cuda_library();
  return l.error.empty() && l.device_count() > 0;
}

}  // namespace aicl
