// Training checkpoints (see checkpoint.h).
#include "core/train/checkpoint.h"

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/runtime/weights.h"

namespace aicl {

void save_checkpoint(const std::string& path, const json& options, const Method& method, const ParameterSet& params,
                     const std::vector<float>& m, const std::vector<float>& v, const Rng& rng, const LoopState& st,
                     const json& provenance) {
  write_atomic_with(path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    write_params_to(f, "params", params);
    const int64_t n = static_cast<int64_t>(params.size());
    f.write_floats("optimizer/m", m.data(), {n});
    if (!v.empty()) f.write_floats("optimizer/v", v.data(), {n});
    std::vector<int64_t> rng_state(4), order(st.order.begin(), st.order.end());
    for (int i = 0; i < 4; ++i) rng_state[i] = static_cast<int64_t>(rng.state()[i]);
    f.write_ints("rng/data", rng_state.data(), {4});
    f.write_ints("loop/order", order.data(), {static_cast<int64_t>(order.size())});
    method.save_state(f, "method_state");
    f.set_attr_string("/", "format", kCheckpointFormat);
    f.set_attr_string("/", "config", options.dump());
    f.set_attr_string("/", "provenance", provenance.dump());
    f.set_attr_string("/", "method", method.name());
    f.set_attr_string("/", "method_config", method.config().dump());
    f.set_attr_double("/", "step", static_cast<double>(st.step));
    f.set_attr_double("/", "epoch", static_cast<double>(st.epoch));
    f.set_attr_double("/", "cursor", static_cast<double>(st.cursor));
    f.set_attr_double("/", "best_metric", st.best_metric);
    f.set_attr_double("/", "best_step", static_cast<double>(st.best_step));
    f.set_attr_double("/", "best_test_metric", st.best_test_metric);
    f.set_attr_double("/", "best_test_step", static_cast<double>(st.best_test_step));
    f.set_attr_string("/", "complete", "yes");  // written last: a file without it is not a checkpoint
  });
}

void load_checkpoint(const std::string& path, Method& method, ParameterSet& params, std::vector<float>& m,
                     std::vector<float>& v, bool want_v, Rng& rng, LoopState& st) {
  H5File f = H5File::open_read(path);
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != kCheckpointFormat)
    fail(path + ": not an aicl checkpoint (format attribute missing or not " + std::string(kCheckpointFormat) + ")");
  if (!f.has_attr("/", "complete")) fail(path + ": incomplete checkpoint");
  // Checkpoints from before methods were recorded are AICL's.
  check_weights_method(path, f.has_attr("/", "method") ? f.attr_string("/", "method") : "aicl", method.name());
  read_params_from(f, "params", params);
  m = f.read_floats("optimizer/m");
  if (want_v) v = f.read_floats("optimizer/v");
  if (m.size() != params.size() || (want_v && v.size() != params.size()))
    fail(path + ": optimizer state has the wrong size");
  method.load_state(f, "method_state");
  const std::vector<int64_t> rs = f.read_ints("rng/data");
  if (rs.size() != 4) fail(path + ": bad RNG state");
  uint64_t state[4];
  for (int i = 0; i < 4; ++i) state[i] = static_cast<uint64_t>(rs[i]);
  rng.set_state(state);
  const std::vector<int64_t> order = f.read_ints("loop/order");
  st.order.assign(order.begin(), order.end());
  st.step = static_cast<long>(f.attr_double("/", "step"));
  st.epoch = static_cast<long>(f.attr_double("/", "epoch"));
  st.cursor = static_cast<size_t>(f.attr_double("/", "cursor"));
  st.best_metric = f.attr_double("/", "best_metric");
  st.best_step = static_cast<long>(f.attr_double("/", "best_step"));
  if (f.has_attr("/", "best_test_metric")) {  // checkpoints before --select all have neither
    st.best_test_metric = f.attr_double("/", "best_test_metric");
    st.best_test_step = static_cast<long>(f.attr_double("/", "best_test_step"));
  }
  if (st.cursor > st.order.size()) fail(path + ": inconsistent loop position");
}

}  // namespace aicl
