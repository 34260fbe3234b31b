// What inference produced, kept in a file so that post-processing and evaluation can run again without the model
// (aicl_eval --save-activations / --activations): every video's class scores, activation and attention.
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/eval/localize.h"

namespace aicl {

struct SavedActivations {
  // {"method", "method_config", "weights", "data", "subset", "segments", "class_names", "kind", ...}: what made them
  json meta;
  std::vector<VideoScores> videos;
};

// Writes an activations file atomically: format "aicl-activations" version 1 (docs/inference.md).
void save_activations(const std::string& path, const SavedActivations& a);
// Reads one; a file of another format, version or inconsistent sizes is a one-line error naming it.
SavedActivations load_activations(const std::string& path);

}  // namespace aicl
