// Model weights as HDF5 (one dataset per parameter, named and shaped as the official PyTorch state_dict).
#pragma once
#include <string>

#include "core/base/io.h"
#include "core/runtime/parameters.h"

namespace aicl {

// Writes every parameter atomically (temp file + fsync + rename); attribute format = "aicl-weights-1", and
// "method" / "method_config" (JSON) when a method name is given.
void save_weights(const std::string& path, const ParameterSet& params, const std::string& method = "",
                  const json& method_config = json());

// The format attribute of a training checkpoint (core/train/checkpoint.h): its weights are the "params" group.
inline constexpr const char* kCheckpointFormat = "aicl-checkpoint-1";

// Reads every parameter; a missing key, a shape mismatch or a non-finite value is an aicl::Error naming the
// file and the key. Extra datasets in the file are ignored (official checkpoints may carry more). With a method
// name, a file recorded for another method is an error naming both; files without a record (official weights
// converted by tools/pkl_to_h5.py) are accepted. A training checkpoint (RUN/checkpoint.h5) is read as the
// weights it holds (an unfinished one, without its 'complete' mark, is refused).
void load_weights(const std::string& path, ParameterSet& params, const std::string& method = "");

// The method a weights or checkpoint file records ("" and null when none) and its hyper-parameters.
struct WeightsMethod {
  std::string name;
  json config;
};
WeightsMethod read_weights_method(const std::string& path);

// "<path>: holds weights of method 'A'; this run uses method 'B'" when the recorded method differs.
void check_weights_method(const std::string& path, const std::string& recorded, const std::string& wanted);

// Same, from an already-open group of a checkpoint file.
class H5File;
void write_params_to(H5File& f, const std::string& group, const ParameterSet& params);
void read_params_from(const H5File& f, const std::string& group, ParameterSet& params);
// The gradients, as <group>/<state_dict key> in the parameters' shapes (the parity steps' "grad/..." datasets).
void write_grads_to(H5File& f, const std::string& group, const ParameterSet& params);

}  // namespace aicl
