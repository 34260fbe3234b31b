// The fuzz input as a file, for targets whose code under test reads a path (read_json_file): one file per fuzzing
// process, rewritten for each input, memory-backed where /dev/shm is writable.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace aicl_fuzz {

inline const std::string& write_input(const uint8_t* data, size_t size, const char* tag) {
  static const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  static const std::string path = dir + "/aicl_fuzz_" + tag + "_" + std::to_string(::getpid()) + ".json";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace aicl_fuzz
