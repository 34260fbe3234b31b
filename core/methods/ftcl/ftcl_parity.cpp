// One FTCL training step on given weights and batch (dropout off), written in the layout of the FTCL oracle's step
// (tools/ftcl_oracle.py): losses, every gradient, the CAS.
#include <cmath>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/methods/ftcl/ftcl.h"
#include "core/runtime/weights.h"

namespace aicl {

namespace {

struct ParityBatch {
  std::vector<float> x, labels;
  int B = 0, T = 0;
  bool has_pairs = false;
  FtclPairs pairs;
};

// A dataset `name` of [n, 2] video indices (n may be 0).
std::vector<std::array<int, 2>> read_pairs(const H5File& f, const std::string& name, int B) {
  std::vector<int64_t> shape;
  const std::vector<int64_t> v = f.read_ints(name, &shape);
  const bool empty = v.empty() && !shape.empty() && shape[0] == 0;
  if (!empty && (shape.size() != 2 || shape[1] != 2))
    fail(f.path() + ": " + name + " must be [n, 2] video indices");
  std::vector<std::array<int, 2>> out;
  for (size_t i = 0; i + 1 < v.size(); i += 2) {
    if (v[i] < 0 || v[i] >= B || v[i + 1] < 0 || v[i + 1] >= B)
      fail(f.path() + ": " + name + " names a video outside the batch of " + std::to_string(B));
    out.push_back({static_cast<int>(v[i]), static_cast<int>(v[i + 1])});
  }
  return out;
}

// Appends dataset `xname` [n,T,F] and `yname` [n,K] to the batch (stage B: side 0, then side 1).
void append_videos(const H5File& bf, const std::string& xname, const std::string& yname, const FtclConfig& cfg,
                   ParityBatch& pb) {
  std::vector<int64_t> xs, ys;
  const std::vector<float> x = bf.read_floats(xname, &xs), y = bf.read_floats(yname, &ys);
  if (xs.size() != 3 || xs[2] != cfg.feature_dim || (pb.B > 0 && xs[1] != pb.T))
    fail(bf.path() + ": " + xname + " must be [B,T," + std::to_string(cfg.feature_dim) + "] (one T for all)");
  if (ys.size() != 2 || ys[0] != xs[0] || ys[1] != cfg.num_classes)
    fail(bf.path() + ": " + yname + " must be [B," + std::to_string(cfg.num_classes) + "] with B = " +
         std::to_string(xs[0]));
  for (float v : x)
    if (!std::isfinite(v)) fail(bf.path() + ": " + xname + " holds NaN or Inf");
  pb.x.insert(pb.x.end(), x.begin(), x.end());
  pb.labels.insert(pb.labels.end(), y.begin(), y.end());
  pb.B += static_cast<int>(xs[0]);
  pb.T = static_cast<int>(xs[1]);
}

// Stage A: features [B,T,F], labels [B,K] (+ pos_pairs / neg_pairs); stage B: features0/1 [P,T,F], labels0/1
// [P,K] (the oracle's layout: pair p is (features0[p], features1[p])).
ParityBatch read_parity_batch(const std::string& path, const FtclConfig& cfg) {
  H5File bf = H5File::open_read(path);
  ParityBatch pb;
  if (cfg.stage_b()) {
    append_videos(bf, "features0", "labels0", cfg, pb);
    append_videos(bf, "features1", "labels1", cfg, pb);
  } else {
    append_videos(bf, "features", "labels", cfg, pb);
  }
  const bool has_pos = bf.exists("pos_pairs"), has_neg = bf.exists("neg_pairs");
  if (has_pos != has_neg) fail(path + ": give both pos_pairs and neg_pairs, or neither");
  if (has_pos && cfg.stage_b()) fail(path + ": stage B pairs are (p, P + p); pos_pairs/neg_pairs are stage A's");
  if (has_pos) {
    pb.has_pairs = true;
    pb.pairs.pos = read_pairs(bf, "pos_pairs", pb.B);
    pb.pairs.neg = read_pairs(bf, "neg_pairs", pb.B);
  }
  check_ftcl_batch(cfg, pb.B, pb.T);
  return pb;
}

}  // namespace

FtclParityResult ftcl_parity_compute(const FtclConfig& cfg_in, ParameterSet& params, const float* x,
                                     const float* labels, int B, int T, const FtclPairs* pairs) {
  FtclConfig cfg = cfg_in;
  cfg.dropout = 0;  // the oracle runs the official model with dropout off
  FtclMethod m(cfg);
  m.check_batch(labels, B, T);
  Ops& ops = cpu_ops();
  auto ws = m.make_workspace(ops);
  auto& a = static_cast<FtclActivations&>(*ws);
  params.zero_grad();
  const ParamView p{&params, params.values.data(), params.grads.data()};
  float slots[kNumFtclLossSlots];
  ftcl_forward_backward(ops, cfg, p, StepBatch{x, labels, labels, B, T, 1, 0}, a, slots, pairs);
  const FtclLosses L = ftcl_losses_from_slots(slots, cfg);
  FtclParityResult r;
  r.skipped_nan = std::isnan(L.total);
  if (r.skipped_nan) params.zero_grad();  // the official step skips backward and update on a NaN loss (Q14)
  r.B = B, r.T = T, r.C = cfg.classes();
  r.losses = {{"total", L.total},     {"cls_ins", L.cls_ins}, {"cls_con", L.cls_con},
              {"cls_bak", L.cls_bak}, {"guide", L.guide},     {"feat", L.feat},
              {"sparse", L.sparse},   {"lcs", L.lcs},         {"fsd", L.fsd}};
  const int sides = cfg.stage_b() ? 2 : 1;  // the oracle writes side 0's CAS in stage B
  r.cas = a.cas.to_host(static_cast<size_t>(B / sides) * T * r.C);
  r.B = B / sides;
  return r;
}

void FtclMethod::parity_step(const std::string& weights_path, const std::string& batch_path,
                             const std::string& out_path) const {
  ParameterSet params = ftcl_parameters(cfg_);
  load_weights(weights_path, params, "ftcl");
  const ParityBatch pb = read_parity_batch(batch_path, cfg_);
  const FtclParityResult r = ftcl_parity_compute(cfg_, params, pb.x.data(), pb.labels.data(), pb.B, pb.T,
                                                 pb.has_pairs ? &pb.pairs : nullptr);
  write_atomic_with(out_path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    for (const auto& [name, v] : r.losses) {
      const float fv = static_cast<float>(v);
      f.write_floats("loss/" + name, &fv, {});
    }
    write_grads_to(f, "grad", params);
    f.write_floats("cas", r.cas.data(), {r.B, r.T, r.C});
    f.set_attr_double("/", cfg_.stage_b() ? "P" : "B", r.B);
    f.set_attr_double("/", "skipped_nan", r.skipped_nan ? 1 : 0);
    f.set_attr_double("/", "T", r.T);
    f.set_attr_string("/", "stage", cfg_.stage);
    f.set_attr_string("/", "dtype", "float32");
  });
}

}  // namespace aicl
