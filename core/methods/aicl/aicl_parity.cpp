// One AICL training step on given weights and batch, written in the layout of the oracle's official_step.py.
#include "core/methods/aicl/aicl_parity.h"

#include <cmath>

#include "core/methods/aicl/aicl.h"
#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/runtime/weights.h"

namespace aicl {

void run_parity_step(const std::string& weights_path, const std::string& batch_path, const std::string& out_path) {
  AiclModel model;
  load_weights(weights_path, model.params(), "aicl");
  H5File bf = H5File::open_read(batch_path);
  std::vector<int64_t> xs, ys;
  std::vector<float> x = bf.read_floats("features", &xs);
  std::vector<float> y = bf.read_floats("labels", &ys);
  const AiclConfig& cfg = model.config();
  if (xs.size() != 3 || xs[2] != cfg.feature_dim)
    fail(batch_path + ": features must be [B,T," + std::to_string(cfg.feature_dim) + "]");
  const int B = static_cast<int>(xs[0]), T = static_cast<int>(xs[1]), C = cfg.num_classes;
  if (ys.size() != 2 || ys[0] != B || ys[1] != C)
    fail(batch_path + ": labels must be [B," + std::to_string(C) + "] with B = " + std::to_string(B));
  for (float v : x)
    if (!std::isfinite(v)) fail(batch_path + ": features hold NaN or Inf");
  check_aicl_batch(cfg, B, T);

  AiclActivations a;
  model.params().zero_grad();
  const AiclLosses L = model.forward_backward(x.data(), y.data(), B, T, a);

  write_atomic_with(out_path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    auto scalar = [&](const std::string& name, double v) {
      const float fv = static_cast<float>(v);
      f.write_floats(name, &fv, {});
    };
    scalar("loss/total", L.total);
    scalar("loss/action", L.action);
    scalar("loss/agnostic", L.agnostic);
    scalar("loss/agnostic_flow", L.agnostic_flow);
    scalar("loss/agnostic_rgb", L.agnostic_rgb);
    scalar("loss/modality", L.modality);
    scalar("loss/contrast", L.contrast);
    scalar("loss/contrast_fused", L.contrast_fused);
    scalar("loss/contrast_rgb", L.contrast_rgb);
    scalar("loss/contrast_flow", L.contrast_flow);
    scalar("loss/consistency", L.consistency);
    write_grads_to(f, "grad", model.params());
    f.write_floats("cas", a.cas.data(), {B, T, C});
    f.write_floats("actionness/class_aware", a.actionness_aware.data(), {B, T});
    f.write_floats("actionness/class_agnostic", a.actionness_agnostic.data(), {B, T});
    f.write_floats("debug/cas_top", a.cas_top.data(), {B, C});
    f.write_floats("debug/pseudo_label", a.pseudo_label.data(), {B, T});
    f.write_floats("debug/action_flow", a.action_flow.data(), {B, T});
    f.write_floats("debug/action_rgb", a.action_rgb.data(), {B, T});
    const int k = T / cfg.topk_ratio;
    const std::vector<int> topk_i = a.topk_idx.to_host(static_cast<size_t>(B) * k * C);
    std::vector<int64_t> topk(topk_i.begin(), topk_i.end());
    f.write_ints("debug/topk_indices", topk.data(), {B, k, C});
    f.set_attr_double("/", "B", B);
    f.set_attr_double("/", "T", T);
    f.set_attr_double("/", "k", k);
    f.set_attr_double("/", "k_C", T / cfg.snippet_ratio);
    f.set_attr_string("/", "dtype", "float32");
  });
}

}  // namespace aicl
