// Model weights as HDF5 (one dataset per parameter, named and shaped as the official PyTorch state_dict).
#include "core/runtime/weights.h"

#include <cmath>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"

namespace aicl {

static std::string join(const std::string& group, const std::string& name) {
  return group.empty() || group == "/" ? name : group + "/" + name;
}

// Each tensor of `params` (its values or its gradients) as <group>/<name> in its shape.
static void write_tensors(H5File& f, const std::string& group, const ParameterSet& params, bool grads) {
  for (size_t i = 0; i < params.tensors().size(); ++i) {
    const ParamTensor& t = params.tensor(static_cast<int>(i));
    std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
    const int idx = static_cast<int>(i);
    f.write_floats(join(group, t.name), grads ? params.grad(idx) : params.value(idx), shape);
  }
}

void write_params_to(H5File& f, const std::string& group, const ParameterSet& params) {
  write_tensors(f, group, params, false);
}

void write_grads_to(H5File& f, const std::string& group, const ParameterSet& params) {
  write_tensors(f, group, params, true);
}

void read_params_from(const H5File& f, const std::string& group, ParameterSet& params) {
  for (size_t i = 0; i < params.tensors().size(); ++i) {
    const ParamTensor& t = params.tensor(static_cast<int>(i));
    const std::string key = join(group, t.name);
    if (!f.exists(key)) fail(f.path() + ": missing parameter '" + t.name + "'");
    std::vector<int64_t> shape;
    std::vector<float> v = f.read_floats(key, &shape);
    std::vector<int64_t> want(t.shape.begin(), t.shape.end());
    if (shape != want) {
      std::vector<int> got(shape.begin(), shape.end());
      fail(f.path() + ": parameter '" + t.name + "' has shape " + shape_string(got) + ", the model needs " +
           shape_string(t.shape));
    }
    for (size_t j = 0; j < v.size(); ++j)
      if (!std::isfinite(v[j]))
        fail(f.path() + ": parameter '" + t.name + "' has a non-finite value at flat index " + std::to_string(j));
    std::copy(v.begin(), v.end(), params.value(static_cast<int>(i)));
  }
}

void save_weights(const std::string& path, const ParameterSet& params, const std::string& method,
                  const json& method_config) {
  write_atomic_with(path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    write_params_to(f, "/", params);
    f.set_attr_string("/", "format", "aicl-weights-1");
    if (!method.empty()) {
      f.set_attr_string("/", "method", method);
      f.set_attr_string("/", "method_config", method_config.dump());
    }
  });
}

void check_weights_method(const std::string& path, const std::string& recorded, const std::string& wanted) {
  if (!recorded.empty() && !wanted.empty() && recorded != wanted)
    fail(path + ": holds weights of method '" + recorded + "'; this run uses method '" + wanted + "'");
}

static WeightsMethod method_of(const H5File& f) {
  WeightsMethod m;
  if (f.has_attr("/", "method")) m.name = f.attr_string("/", "method");
  if (f.has_attr("/", "method_config")) {
    m.config = json::parse(f.attr_string("/", "method_config"), nullptr, false);
    if (m.config.is_discarded()) fail(f.path() + ": attribute 'method_config' is not valid JSON");
  }
  return m;
}

WeightsMethod read_weights_method(const std::string& path) { return method_of(H5File::open_read(path)); }

void load_weights(const std::string& path, ParameterSet& params, const std::string& method) {
  H5File f = H5File::open_read(path);
  check_weights_method(path, method_of(f).name, method);
  const bool checkpoint = f.has_attr("/", "format") && f.attr_string("/", "format") == kCheckpointFormat;
  if (checkpoint && !(f.has_attr("/", "complete") && f.attr_string("/", "complete") == "yes"))
    fail(path + ": an unfinished training checkpoint (no 'complete' mark): use best.h5 or an earlier checkpoint");
  read_params_from(f, checkpoint ? "params" : "/", params);
}

}  // namespace aicl
