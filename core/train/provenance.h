// What produced a result, recorded in every eval.json, aicl_eval report, summary.json and checkpoint: the aicl
// build, the method and its configuration, the data, the device and precision, the seed.
#pragma once
#include <string>

#include "core/base/io.h"

namespace aicl {

class Dataset;

struct ProvenanceInput {
  std::string method;
  json method_config;
  const Dataset* dataset = nullptr;
  std::string device = "cpu";
  std::string precision = "fp32";
  int threads = 0;   // 0 = all cores
  long seed = -1;    // -1: none (inference)
  std::string weights;  // inference: the weights file
};

// {"aicl_commit", "aicl_dirty", "created_utc", "method", "method_config", "dataset" {path, profile, source, videos,
// file_bytes, fingerprint_sha256}, "device", "device_description", "precision", "seed", ...}. The dataset's
// fingerprint is the SHA-256 of its size and its first and last MiB (a full checksum of a multi-GB file would cost a
// minute per run); the report's video_list_sha256 names the evaluated videos exactly.
json provenance(const ProvenanceInput& in);

// The fingerprint above of any file ("" when it cannot be read).
std::string file_fingerprint(const std::string& path);

}  // namespace aicl
