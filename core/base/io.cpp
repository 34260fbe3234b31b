// File helpers: JSON reading with clear errors, and atomic writes (temp file, fsync, rename).
#include "core/base/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/base/error.h"

namespace aicl {

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {  // parse errors, and number overflow such as 1e999 (out_of_range)
    fail(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

static void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(path + ": cannot reopen for fsync (" + std::strerror(errno) + ")");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail(path + ": fsync failed (" + std::strerror(errno) + ")");
}

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& writer) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    writer(tmp);
    fsync_path(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail(path + ": cannot rename temporary file into place (" + std::strerror(errno) + ")");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  // Make the rename itself durable.
  auto dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) fail(path + ": cannot write (" + std::strerror(errno) + ")");
    size_t n = std::fwrite(content.data(), 1, content.size(), f);
    int close_rc = std::fclose(f);
    if (n != content.size() || close_rc != 0) fail(path + ": write failed (" + std::strerror(errno) + ")");
  });
}

void write_json_file(const std::string& path, const json& j, int indent) {
  write_file_atomic(path, j.dump(indent) + "\n");
}

}  // namespace aicl
