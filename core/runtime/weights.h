// Model weights as HDF5 (one dataset per parameter, named and shaped as the official PyTorch state_dict).
#pragma once
#include <string>

#include "core/runtime/parameters.h"

namespace aicl {

// Writes every parameter atomically (temp file + fsync + rename); attribute format = "aicl-weights-1".
void save_weights(const std::string& path, const ParameterSet& params);

// Reads every parameter; a missing key, a shape mismatch or a non-finite value is an aicl::Error naming the
// file and the key. Extra datasets in the file are ignored (official checkpoints may carry more).
void load_weights(const std::string& path, ParameterSet& params);

// Same, from an already-open group of a checkpoint file.
class H5File;
void write_params_to(H5File& f, const std::string& group, const ParameterSet& params);
void read_params_from(const H5File& f, const std::string& group, ParameterSet& params);

}  // namespace aicl
