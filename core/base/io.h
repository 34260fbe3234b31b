// File helpers: JSON reading with clear errors, and atomic writes (temp file, fsync, rename).
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace aicl {

using json = nlohmann::json;

// Reads and parses a JSON file; throws aicl::Error "<path>: <problem>" on any failure.
json read_json_file(const std::string& path);

// Writes `content` to `path` atomically: `path.tmp.<pid>` is written, fsync'ed, then renamed over `path`.
// On failure the temp file is removed and `path` is untouched.
void write_file_atomic(const std::string& path, const std::string& content);

// Same for a file produced by a writer callback given the temporary path (e.g. an HDF5 writer).
void write_atomic_with(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer);

// Serialises JSON (indent -1 = compact) and writes it atomically.
void write_json_file(const std::string& path, const json& j, int indent = 1);

}  // namespace aicl
