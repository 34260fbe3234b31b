// File helpers: JSON reading with clear errors, and atomic writes (temp file, fsync, rename, directory fsync).
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace aicl {

using json = nlohmann::json;

// Reads and parses a JSON file; throws aicl::Error "<path>: <problem>" on any failure.
json read_json_file(const std::string& path);

// Writes `content` to `path` as is (not atomic; for files inside a temporary directory that is renamed later).
void write_file(const std::string& path, const std::string& content);

// The one atomic-write protocol of the project: the caller writes `tmp_path()` (`path.tmp.<pid>`), then
// commit() fsyncs it, renames it over `path` and fsyncs the directory, so a crash leaves the old or the new
// file, never a half-written one. Without commit() (an exception, an early return) the destructor removes
// the temporary file and `path` is untouched. Close the temporary file before commit().
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& tmp_path() const { return tmp_; }
  bool committed() const { return committed_; }
  // Throws aicl::Error naming `path` when the fsync or the rename fails (the temporary file is then removed).
  void commit();

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

// Writes `content` to `path` atomically (AtomicFile).
void write_file_atomic(const std::string& path, const std::string& content);

// Same for a file produced by a writer callback given the temporary path (e.g. an HDF5 writer).
void write_atomic_with(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer);

// Serialises JSON (indent -1 = compact) and writes it atomically.
void write_json_file(const std::string& path, const json& j, int indent = 1);

// Makes a rename or a new entry in the directory holding `path` durable (best effort: errors are ignored).
void fsync_parent_directory(const std::string& path);

}  // namespace aicl
