// File helpers: JSON reading with clear errors, and atomic writes (temp file, fsync, rename, directory fsync).
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

namespace {

// Writes `file`; messages say `name`, the path the user knows (the target, not a temporary file).
void write_bytes(const std::string& file, const std::string& content, const std::string& name) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) fail(name + ": cannot write (" + std::strerror(errno) + ")");
  const size_t n = std::fwrite(content.data(), 1, content.size(), f);
  const int close_rc = std::fclose(f);
  if (n != content.size() || close_rc != 0) fail(name + ": write failed (" + std::strerror(errno) + ")");
}

// `name` is the path the user knows (the target), used in messages instead of the temporary one.
void fsync_file(const std::string& file, const std::string& name) {
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) fail(name + ": cannot reopen for fsync (" + std::strerror(errno) + ")");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail(name + ": fsync failed (" + std::strerror(errno) + ")");
}

}  // namespace

void write_file(const std::string& path, const std::string& content) { write_bytes(path, content, path); }

void fsync_parent_directory(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {}

AtomicFile::~AtomicFile() {
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::commit() {
  if (committed_) return;
  fsync_file(tmp_, path_);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail(path_ + ": cannot rename the temporary file into place (" + std::strerror(errno) + ")");
  committed_ = true;
  fsync_parent_directory(path_);
}

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& writer) {
  AtomicFile out(path);
  writer(out.tmp_path());
  out.commit();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) { write_bytes(tmp, content, path); });
}

void write_json_file(const std::string& path, const json& j, int indent) {
  write_file_atomic(path, j.dump(indent) + "\n");
}

}  // namespace aicl
