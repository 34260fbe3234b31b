// The FTCL method: parameters, loss terms, contrast pairs and the forward/backward composition of the ops for both
// stages, once for every device (../shared/specs/ftcl.md sections 1-2 give the official behaviour this follows).
#include "core/methods/ftcl/ftcl.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"

namespace aicl {

FtclLosses ftcl_losses_from_slots(const float* t, const FtclConfig& cfg) {
  const int sides = cfg.stage_b() ? 2 : 1;
  auto term = [&](int k) {  // stage B: (loss_0 + loss_1) / 2, term by term
    double s = 0;
    for (int side = 0; side < sides; ++side) s += t[side * kFtclAcmTerms + k];
    return s / sides;
  };
  FtclLosses L;
  L.cls_ins = term(kFtclClsIns);
  L.cls_con = term(kFtclClsCon);
  L.cls_bak = term(kFtclClsBak);
  L.guide = term(kFtclGuide);
  L.feat = term(kFtclFeat);
  L.sparse = term(kFtclSparse);
  L.lcs = t[kFtclLcs];
  L.fsd = t[kFtclFsd];
  const double acm = L.cls_ins + L.cls_con + L.cls_bak + cfg.lamb_guide * L.guide + cfg.lamb_feat * L.feat +
                     cfg.lamb_sparse * L.sparse;
  L.total = acm + (cfg.use_lcs ? cfg.lamb_lcs * L.lcs : 0.0) + (cfg.use_fsd ? cfg.lamb_fsd * L.fsd : 0.0);
  return L;
}

FtclConfig ftcl_activitynet_config() {
  FtclConfig c;
  c.variant = "activitynet";
  c.ins_topk_seg = 2, c.con_topk_seg = 10, c.bak_topk_seg = 10;
  c.lamb_guide = 5e-3, c.lamb_feat = 5e-5, c.lamb_sparse = 0;
  return c;
}

ParameterSet ftcl_parameters(const FtclConfig& cfg, bool with_buffers) {
  const int F = cfg.feature_dim, C = cfg.classes(), H = cfg.fc_dim;
  // On ActivityNet the embedding is Sequential(Dropout, Conv, ReLU): the conv is its module 1
  const std::string emb = cfg.activitynet() ? "feature_embedding.1." : "feature_embedding.0.";
  ParameterSet p;  // ACMNet's registration order (model/ACMNet.py): the state_dict order
  p.add(emb + "weight", {F, F, 3}, F * 3);
  p.add(emb + "bias", {F}, F * 3);
  p.add("att_branch.weight", {3, F, 1}, F);
  p.add("att_branch.bias", {3}, F);
  p.add("snippet_cls.weight", {C, F}, F);
  p.add("snippet_cls.bias", {C}, F);
  p.add("feature_trans.weight", {H, F}, F);
  p.add("feature_trans.bias", {H}, F);
  if (with_buffers) p.finalize();
  else p.finalize_layout();
  return p;
}

namespace {

const float* label_row(const float* labels, int K, int b) { return labels + static_cast<size_t>(b) * K; }

// Σ_c y_i·y_j and whether the two rows are equal.
std::pair<double, bool> compare_labels(const float* yi, const float* yj, int K) {
  double dot = 0;
  bool same = true;
  for (int c = 0; c < K; ++c) dot += double(yi[c]) * yj[c], same = same && yi[c] == yj[c];
  return {dot, same};
}

}  // namespace

FtclPairs ftcl_stage_a_pairs(const float* labels, int B, int K, Rng& rng) {
  FtclPairs out;
  std::vector<std::array<int, 2>> neg;
  for (int i = 0; i + 1 < B; ++i)
    for (int j = i + 1; j < B; ++j) {
      const auto [dot, same] = compare_labels(label_row(labels, K, i), label_row(labels, K, j), K);
      if (dot == 1 && same) out.pos.push_back({i, j});
      else if (dot == 0) neg.push_back({i, j});
    }
  // random.sample(neg_pair, len(pos_pair)): a partial Fisher-Yates shuffle with our generator.
  const size_t k = std::min(out.pos.size(), neg.size());
  for (size_t i = 0; i < k; ++i) std::swap(neg[i], neg[i + rng.below(neg.size() - i)]);
  out.neg.assign(neg.begin(), neg.begin() + static_cast<long>(k));
  return out;
}

FtclPairs ftcl_stage_b_pairs(const float* labels, int B, int K) {
  FtclPairs out;
  const int P = B / 2;
  for (int p = 0; p < P; ++p) {  // pair_label = any shared class
    const bool shared = compare_labels(label_row(labels, K, p), label_row(labels, K, P + p), K).first > 0;
    (shared ? out.pos : out.neg).push_back({p, P + p});
  }
  return out;
}

std::vector<std::array<size_t, 2>> ftcl_stage_b_epoch(const std::vector<const float*>& labels, int K, Rng& rng) {
  std::vector<std::array<size_t, 2>> pos, neg;
  for (size_t i = 0; i + 1 < labels.size(); ++i)
    for (size_t j = i + 1; j < labels.size(); ++j) {
      const auto [dot, same] = compare_labels(labels[i], labels[j], K);
      if (same) pos.push_back({i, j});
      else if (dot == 0) neg.push_back({i, j});
    }
  if (pos.empty())
    fail("FTCL stage B: no two training videos have the same labels, so there is no positive pair to train on");
  // random.sample(negatives, len(positives)) once (frozen for the run): a partial Fisher-Yates with our generator
  const size_t k = std::min(pos.size(), neg.size());
  for (size_t i = 0; i < k; ++i) std::swap(neg[i], neg[i + rng.below(neg.size() - i)]);
  neg.resize(k);
  neg.insert(neg.end(), pos.begin(), pos.end());
  return neg;
}

int ftcl_min_segments(const FtclConfig& cfg) {
  return std::max({cfg.use_lcs ? cfg.lcs_len : 1, cfg.use_fsd ? 2 * cfg.fsd_len : 1, 1});
}

void check_ftcl_batch(const FtclConfig& cfg, int B, int T, bool inference) {
  if (B <= 0) fail("batch size must be positive (got " + std::to_string(B) + ")");
  if (inference) {
    if (T < 1) fail("FTCL inference needs at least 1 segment");
    return;
  }
  if (T < ftcl_min_segments(cfg))
    fail("--segments: FTCL needs at least " + std::to_string(ftcl_min_segments(cfg)) +
         " segments per video (its LCS and FSD candidate sets: " + std::to_string(cfg.lcs_len) + " and 2 x " +
         std::to_string(cfg.fsd_len) + " instance-attention ranks); got " + std::to_string(T));
  if (cfg.stage_b() && B % 2 != 0)
    fail("FTCL stage B takes pairs: the batch holds the first videos then their partners, so B must be even (got " +
         std::to_string(B) + ")");
}

void FtclActivations::reserve(int B_, int T_, const FtclConfig& cfg, bool with_backward) {
  if (T_ == cap_T_ && B_ <= cap_B_ && (!with_backward || cap_backward_)) {
    B = B_, T = T_;
    return;
  }
  if (cap_T_ != 0) ops->sync();  // queued work may still use the old buffers
  Ops& o = *ops;
  const bool bw = with_backward || cap_backward_;
  const size_t Bs = std::max(B_, cap_T_ == T_ ? cap_B_ : 0), n = Bs * T_, D = cfg.feature_dim,
               C = cfg.classes(), H = cfg.fc_dim, L = cfg.lcs_len, F2 = 2 * cfg.fsd_len,
               kmax = std::max({cfg.k_ins(T_), cfg.k_con(T_), cfg.k_bak(T_)}), P = std::max<size_t>(Bs * Bs / 2, 1);
  auto f = [&](size_t count, bool train_only = false) { return Buf<float>(o, train_only && !bw ? 0 : count); };
  auto i = [&](size_t count, bool train_only = false) { return Buf<int>(o, train_only && !bw ? 0 : count); };
  const bool an = cfg.activitynet() && cfg.dropout > 0;
  emb = f(n * D), emb_drop = f(n * D, true), x_drop = f(an ? n * D : 0, true), emb_att = f(an ? n * D : 0, true);
  att_logit = f(n * 3), att = f(n * 3), logits = f(n * C);
  branch_logits = f(3 * n * C), combined = f(n * C), video = f(3 * Bs * C), cas = f(n * C);
  topk_ins = i(Bs * cfg.k_ins(T_) * C), topk_con = i(Bs * cfg.k_con(T_) * C), topk_bak = i(Bs * cfg.k_bak(T_) * C);
  feat_idx = i(3 * Bs * kmax, true), feat = f(3 * Bs * D, true);
  lcs_idx = i(Bs * L, true), fsd_idx = i(Bs * F2, true);
  lcs_x = f(Bs * L * D, true), fsd_raw = f(Bs * F2 * D, true), fsd_x = f(Bs * F2 * H, true);
  pair_idx = i(5 * P, true), S = f(P * L * L, true), m = f(P * F2 * F2 / 4, true), g = f(P * F2 * F2 / 4, true);
  lcs_val = f(P, true), fsd_val = f(P, true);
  d_emb = f(n * D, true), d_att_logit = f(n * 3, true), d_att = f(n * 3, true), d_logits = f(n * C, true);
  d_branch = f(3 * n * C, true), d_cas = f(n * C, true), d_video = f(3 * Bs * C, true), d_feat = f(3 * Bs * D, true);
  d_lcs_x = f(Bs * L * D, true), d_fsd_raw = f(Bs * F2 * D, true), d_fsd_x = f(Bs * F2 * H, true);
  dS = f(P * L * L, true), dm = f(P * F2 * F2 / 4, true), dg = f(P * F2 * F2 / 4, true);
  d_lcs_val = f(P, true), d_fsd_val = f(P, true);
  cap_B_ = static_cast<int>(Bs), cap_T_ = T_, cap_backward_ = bw;
  B = B_, T = T_;
}

namespace {

// Dropout sites: the snippet mask, then the element mask (the official RNG order); ActivityNet adds the input and
// the attention input (drawn before those two officially; numbered after them so THUMOS masks stay as they were).
enum FtclDropSite { kDropSnippet, kDropElement, kDropInput, kDropAttention };

DropoutKey drop_key(const StepBatch& b, int site) {
  return DropoutKey{b.seed, static_cast<std::uint32_t>(b.step), static_cast<std::uint32_t>(site)};
}

// The per-batch shapes every stage of the composition uses.
struct Dims {
  int B, T, N, D, C, K, H, L, F, kmax, sides, Bs;
  int k[3];
  size_t nd() const { return size_t(N) * D; }
  size_t nc() const { return size_t(N) * C; }
};

Dims dims_of(const FtclConfig& cfg, int B, int T) {
  Dims d{B, T, B * T, cfg.feature_dim, cfg.classes(), cfg.num_classes, cfg.fc_dim, cfg.lcs_len, cfg.fsd_len,
         0, cfg.stage_b() ? 2 : 1, 0, {cfg.k_ins(T), cfg.k_con(T), cfg.k_bak(T)}};
  d.kmax = std::max({d.k[0], d.k[1], d.k[2]});
  d.Bs = B / d.sides;
  return d;
}

int* topk_of(FtclActivations& a, int branch) {
  return branch == 0 ? a.topk_ins.data() : branch == 1 ? a.topk_con.data() : a.topk_bak.data();
}

// Whether this step drops the input and the attention's input (ActivityNet training).
bool drops_inputs(const FtclConfig& cfg, const StepBatch* train) {
  return train && cfg.activitynet() && cfg.dropout > 0;
}

// The conv's input and the attention branch's input: x and E, or (ActivityNet training) their dropped copies.
const float* conv_input(const FtclActivations& a, const StepBatch& b, const FtclConfig& cfg) {
  return drops_inputs(cfg, &b) ? a.x_drop.data() : b.x;
}
const float* att_input(const FtclActivations& a, const StepBatch* b, const FtclConfig& cfg) {
  return drops_inputs(cfg, b) ? a.emb_att.data() : a.emb.data();
}

// E, the attention, the classifier on the (dropped) E, the three attention-weighted logits, their top-k video
// scores and P_ins = softmax(Z_ins). Returns the classifier's input.
const float* backbone_forward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const float* x, const Dims& d,
                              FtclActivations& a, const StepBatch* train) {
  if (drops_inputs(cfg, train)) {
    ops.dropout_forward(a.x_drop.data(), x, d.nd(), cfg.dropout, drop_key(*train, kDropInput));
    x = a.x_drop.data();
  }
  ops.conv1d_k3_forward(a.emb.data(), x, d.D, p.value(kFtclEmbW), p.value(kFtclEmbB), d.B, d.T, d.D, d.D, 3, true);
  if (drops_inputs(cfg, train))
    ops.dropout_forward(a.emb_att.data(), a.emb.data(), d.nd(), cfg.dropout, drop_key(*train, kDropAttention));
  ops.conv1d_k1_forward(a.att_logit.data(), att_input(a, train, cfg), p.value(kFtclAttW), p.value(kFtclAttB), d.N,
                        d.D, 3);
  ops.softmax_rows_forward(a.att.data(), a.att_logit.data(), d.N, 3);
  const float* cls_in = a.emb.data();
  if (train && cfg.dropout > 0) {  // E·r (r: a dropped ones tensor [B,T,1]), then an element-wise dropout
    ops.dropout_forward(a.emb_drop.data(), a.emb.data(), d.nd(), cfg.dropout, drop_key(*train, kDropSnippet),
                        static_cast<size_t>(d.D));
    ops.dropout_forward(a.emb_drop.data(), a.emb_drop.data(), d.nd(), cfg.dropout, drop_key(*train, kDropElement));
    cls_in = a.emb_drop.data();
  }
  ops.conv1d_k1_forward(a.logits.data(), cls_in, p.value(kFtclClsW), p.value(kFtclClsB), d.N, d.D, d.C);
  for (int b = 0; b < 3; ++b) {  // mean of the k_b largest Z_b over time, per class (torch.sort + mean)
    float* zb = a.branch_logits.data() + b * d.nc();
    ops.row_scale_forward(zb, a.logits.data(), a.att.data(), 3, b, d.N, d.C);
    ops.topk_mil_weighted_forward(a.video.data() + size_t(b) * d.B * d.C, topk_of(a, b), a.combined.data(), zb,
                                  nullptr, nullptr, MilSelection{false, 1, 0, 0}, d.B, d.T, d.C, d.k[b]);
  }
  ops.softmax_rows_forward(a.cas.data(), a.branch_logits.data(), d.N, d.C);
  return cls_in;
}

// The attention-top-k mean features (per side: [side][3][Bs][D]) and the LCS/FSD candidate sets of E.
void candidates_forward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const Dims& d, FtclActivations& a) {
  for (int x = 0; x < 3; ++x) {
    int* idx = a.feat_idx.data() + size_t(x) * d.B * d.kmax;
    ops.rank_select_forward(idx, d.kmax, a.att.data(), 3, x, d.B, d.T, 0, d.k[x], false);
    for (int s = 0; s < d.sides; ++s)
      ops.gather_rows_forward(a.feat.data() + size_t(s * 3 + x) * d.Bs * d.D,
                              a.emb.data() + size_t(s) * d.Bs * d.T * d.D,
                              idx + size_t(s) * d.Bs * d.kmax, d.kmax, d.Bs, d.T, d.D, d.k[x], true);
  }
  if (cfg.use_lcs) {  // instance-attention ranks 1..L, in time order
    ops.rank_select_forward(a.lcs_idx.data(), d.L, a.att.data(), 3, 0, d.B, d.T, 0, d.L, true);
    ops.gather_rows_forward(a.lcs_x.data(), a.emb.data(), a.lcs_idx.data(), d.L, d.B, d.T, d.D, d.L, false);
  }
  if (cfg.use_fsd) {  // ranks 1..F ("action") and F+1..2F ("background", quirk Q1), each in time order
    ops.rank_select_forward(a.fsd_idx.data(), 2 * d.F, a.att.data(), 3, 0, d.B, d.T, 0, d.F, true);
    ops.rank_select_forward(a.fsd_idx.data() + d.F, 2 * d.F, a.att.data(), 3, 0, d.B, d.T, d.F, d.F, true);
    ops.gather_rows_forward(a.fsd_raw.data(), a.emb.data(), a.fsd_idx.data(), 2 * d.F, d.B, d.T, d.D, 2 * d.F,
                            false);
    ops.conv1d_k1_forward(a.fsd_x.data(), a.fsd_raw.data(), p.value(kFtclTransW), p.value(kFtclTransB),
                          d.B * 2 * d.F, d.D, d.H);
  }
}

// The six ACM terms of one side (videos [side·Bs, (side+1)·Bs)) into its slots.
void acm_forward(Ops& ops, const FtclConfig& cfg, const Dims& d, FtclActivations& a, const float* labels, int side,
                 float* slot) {
  const size_t b0 = size_t(side) * d.Bs;
  for (int x = 0; x < 3; ++x)
    ops.branch_ce_forward(slot + kFtclClsIns + x, a.video.data() + (size_t(x) * d.B + b0) * d.C,
                          labels + b0 * d.K, d.Bs, d.K, static_cast<BranchTarget>(x), cfg.eps());
  ops.guide_loss_forward(slot + kFtclGuide, a.cas.data() + b0 * d.T * d.C, a.att.data() + b0 * d.T * 3, d.Bs, d.T,
                         d.C, 3);
  ops.feat_norm_loss_forward(slot + kFtclFeat, a.feat.data() + size_t(side) * 3 * d.Bs * d.D, d.Bs, d.D,
                             cfg.feat_margin);
  ops.att_sparsity_forward(slot + kFtclSparse, a.att.data() + b0 * d.T * 3, d.Bs, d.T, 3, 2);
}

void acm_backward(Ops& ops, const FtclConfig& cfg, const Dims& d, FtclActivations& a, const float* labels, int side,
                  float w) {
  const size_t b0 = size_t(side) * d.Bs;
  for (int x = 0; x < 3; ++x) {
    const size_t v = (size_t(x) * d.B + b0) * d.C;
    ops.branch_ce_backward(a.d_video.data() + v, w, a.video.data() + v, labels + b0 * d.K, d.Bs, d.K,
                           static_cast<BranchTarget>(x), cfg.eps());
  }
  ops.guide_loss_backward(a.d_cas.data() + b0 * d.T * d.C, w * float(cfg.lamb_guide), a.cas.data() + b0 * d.T * d.C,
                          a.att.data() + b0 * d.T * 3, d.Bs, d.T, d.C, 3);
  const size_t f = size_t(side) * 3 * d.Bs * d.D;
  ops.feat_norm_loss_backward(a.d_feat.data() + f, w * float(cfg.lamb_feat), a.feat.data() + f, d.Bs, d.D,
                              cfg.feat_margin);
  ops.att_sparsity_backward(a.d_att.data() + b0 * d.T * 3, w * float(cfg.lamb_sparse), d.Bs, d.T, 3, 2);
}

// The pair indices on the device: LCS set rows (ra, rb), FSD set rows (the partner's background set for a negative
// pair), the positive flags; negatives first. Sets the pair counts in `a`.
void upload_pairs(Ops& ops, const FtclConfig& cfg, const FtclPairs& pairs, const Dims& d, FtclActivations& a) {
  const bool skip = !cfg.stage_b() && pairs.pos.empty();  // stage A: no positive pair, no contrast at all
  a.P = skip ? 0 : static_cast<int>(pairs.pos.size() + pairs.neg.size());
  a.n_pos = skip ? 0 : static_cast<int>(pairs.pos.size());
  if (a.P == 0) return;
  if (a.pair_idx.size() < size_t(5) * a.P) fail("FTCL: more contrast pairs than the workspace holds");
  std::vector<int> h(size_t(5) * a.P);
  int p = 0;
  for (int positive = 0; positive < 2; ++positive)
    for (const auto& pr : positive ? pairs.pos : pairs.neg) {
      for (int v : pr)
        if (v < 0 || v >= d.B) fail("FTCL: a contrast pair names video " + std::to_string(v) + " of a batch of " +
                                    std::to_string(d.B));
      h[p] = pr[0] * d.L, h[a.P + p] = pr[1] * d.L;
      h[2 * a.P + p] = pr[0] * 2 * d.F, h[3 * a.P + p] = pr[1] * 2 * d.F + (positive ? 0 : d.F);
      h[4 * a.P + p] = positive;
      ++p;
    }
  ops.upload(a.pair_idx.data(), h.data(), h.size() * sizeof(int));
}

const int* pair_part(const FtclActivations& a, int part) { return a.pair_idx.data() + size_t(part) * a.P; }

// Stage A: plain means (eps 0); stage B: Σ/(n + 1e-10).
double contrast_eps(const FtclConfig& cfg) { return cfg.stage_b() ? 1e-10 : 0.0; }

void contrast_forward(Ops& ops, const FtclConfig& cfg, const Dims& d, FtclActivations& a, float* loss) {
  if (a.P == 0) return;
  const int P = a.P, h = d.H / 2;
  if (cfg.use_lcs) {
    ops.cosine_pairs_forward(a.S.data(), a.lcs_x.data(), d.B * d.L, d.D, 0, d.D, pair_part(a, 0), pair_part(a, 1),
                             P, d.L);
    ops.lcs_dp_forward(a.lcs_val.data(), a.S.data(), P, d.L, float(cfg.thres), !cfg.stage_b());
    ops.pair_contrast_forward(loss + kFtclLcs, a.lcs_val.data(), pair_part(a, 4), P, contrast_eps(cfg));
  }
  if (cfg.use_fsd) {  // match scores on the first half of feature_trans's output, gap scores on the second
    const int rows = d.B * 2 * d.F;
    ops.cosine_pairs_forward(a.m.data(), a.fsd_x.data(), rows, d.H, 0, h, pair_part(a, 2), pair_part(a, 3), P, d.F);
    ops.cosine_pairs_forward(a.g.data(), a.fsd_x.data(), rows, d.H, h, d.H - h, pair_part(a, 2), pair_part(a, 3), P,
                             d.F);
    ops.fsd_dp_forward(a.fsd_val.data(), a.m.data(), a.g.data(), P, d.F, cfg.fsd_gamma);
    ops.pair_contrast_forward(loss + kFtclFsd, a.fsd_val.data(), pair_part(a, 4), P, contrast_eps(cfg));
  }
}

// λ-weighted contrast gradients down to the candidate sets (d_lcs_x, d_fsd_x) and through feature_trans.
void contrast_backward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const Dims& d, FtclActivations& a) {
  if (a.P == 0) return;
  const int P = a.P, h = d.H / 2, L = d.L, F = d.F;
  if (cfg.use_lcs) {
    ops.zero(a.d_lcs_val.data(), size_t(P) * sizeof(float));
    ops.zero(a.dS.data(), size_t(P) * L * L * sizeof(float));
    ops.pair_contrast_backward(a.d_lcs_val.data(), float(cfg.lamb_lcs), pair_part(a, 4), P, contrast_eps(cfg));
    ops.lcs_dp_backward(a.dS.data(), a.d_lcs_val.data(), a.S.data(), P, L, float(cfg.thres), !cfg.stage_b());
    ops.cosine_pairs_backward(a.d_lcs_x.data(), a.dS.data(), a.lcs_x.data(), d.B * L, d.D, 0, d.D, pair_part(a, 0),
                              pair_part(a, 1), P, L);
  }
  if (cfg.use_fsd) {
    const int rows = d.B * 2 * F;
    ops.zero(a.d_fsd_val.data(), size_t(P) * sizeof(float));
    ops.zero(a.dm.data(), size_t(P) * F * F * sizeof(float));
    ops.zero(a.dg.data(), size_t(P) * F * F * sizeof(float));
    ops.pair_contrast_backward(a.d_fsd_val.data(), float(cfg.lamb_fsd), pair_part(a, 4), P, contrast_eps(cfg));
    ops.fsd_dp_backward(a.dm.data(), a.dg.data(), a.d_fsd_val.data(), a.m.data(), a.g.data(), P, F, cfg.fsd_gamma);
    ops.cosine_pairs_backward(a.d_fsd_x.data(), a.dm.data(), a.fsd_x.data(), rows, d.H, 0, h, pair_part(a, 2),
                              pair_part(a, 3), P, F);
    ops.cosine_pairs_backward(a.d_fsd_x.data(), a.dg.data(), a.fsd_x.data(), rows, d.H, h, d.H - h, pair_part(a, 2),
                              pair_part(a, 3), P, F);
    ops.conv1d_k1_backward(p.grad(kFtclTransW), p.grad(kFtclTransB), a.d_fsd_raw.data(), a.d_fsd_x.data(),
                           a.fsd_raw.data(), p.value(kFtclTransW), rows, d.D, d.H);
  }
}

// d_cas (guide) and d_video (classification) down to d_logits and d_att.
void heads_backward(Ops& ops, const Dims& d, FtclActivations& a) {
  ops.softmax_rows_backward(a.d_branch.data(), a.d_cas.data(), a.cas.data(), d.N, d.C);
  for (int b = 0; b < 3; ++b) {
    float* db = a.d_branch.data() + b * d.nc();
    ops.topk_mil_backward(db, a.d_video.data() + size_t(b) * d.B * d.C, topk_of(a, b), d.B, d.T, d.C, d.k[b]);
    ops.row_scale_backward(a.d_logits.data(), a.d_att.data(), db, a.logits.data(), a.att.data(), 3, b, d.N, d.C);
  }
}

// d_emb = the classifier path's gradient of E (overwritten), back through both dropouts; emb_drop is free once the
// classifier's weight gradient is taken and serves as the scratch between them.
void classifier_backward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const Dims& d, FtclActivations& a,
                         const float* cls_in, const StepBatch& batch) {
  ops.zero(a.d_emb.data(), d.nd() * sizeof(float));
  ops.conv1d_k1_backward(p.grad(kFtclClsW), p.grad(kFtclClsB), a.d_emb.data(), a.d_logits.data(), cls_in,
                         p.value(kFtclClsW), d.N, d.D, d.C);
  if (cls_in == a.emb.data()) return;
  ops.zero(a.emb_drop.data(), d.nd() * sizeof(float));
  ops.dropout_backward(a.emb_drop.data(), a.d_emb.data(), d.nd(), cfg.dropout, drop_key(batch, kDropElement));
  ops.zero(a.d_emb.data(), d.nd() * sizeof(float));
  ops.dropout_backward(a.d_emb.data(), a.emb_drop.data(), d.nd(), cfg.dropout, drop_key(batch, kDropSnippet),
                       static_cast<size_t>(d.D));
}

// The attention branch, the mean features and the candidate sets: their gradients added into d_emb. With a dropped
// attention input (ActivityNet) its gradient goes through emb_drop (free by now) and back through that mask.
void embedding_backward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const Dims& d, FtclActivations& a,
                        const StepBatch& batch) {
  ops.softmax_rows_backward(a.d_att_logit.data(), a.d_att.data(), a.att.data(), d.N, 3);
  const bool dropped = drops_inputs(cfg, &batch);
  if (dropped) ops.zero(a.emb_drop.data(), d.nd() * sizeof(float));
  ops.conv1d_k1_backward(p.grad(kFtclAttW), p.grad(kFtclAttB), dropped ? a.emb_drop.data() : a.d_emb.data(),
                         a.d_att_logit.data(), att_input(a, &batch, cfg), p.value(kFtclAttW), d.N, d.D, 3);
  if (dropped)
    ops.dropout_backward(a.d_emb.data(), a.emb_drop.data(), d.nd(), cfg.dropout, drop_key(batch, kDropAttention));
  for (int x = 0; x < 3; ++x)
    for (int s = 0; s < d.sides; ++s)
      ops.gather_rows_backward(a.d_emb.data() + size_t(s) * d.Bs * d.T * d.D,
                               a.d_feat.data() + size_t(s * 3 + x) * d.Bs * d.D,
                               a.feat_idx.data() + (size_t(x) * d.B + size_t(s) * d.Bs) * d.kmax, d.kmax, d.Bs, d.T,
                               d.D, d.k[x], true);
  if (a.P > 0 && cfg.use_lcs)
    ops.gather_rows_backward(a.d_emb.data(), a.d_lcs_x.data(), a.lcs_idx.data(), d.L, d.B, d.T, d.D, d.L, false);
  if (a.P > 0 && cfg.use_fsd)
    ops.gather_rows_backward(a.d_emb.data(), a.d_fsd_raw.data(), a.fsd_idx.data(), 2 * d.F, d.B, d.T, d.D, 2 * d.F,
                             false);
}

template <class... Bufs>
void zero_all(Ops& ops, const Bufs&... bufs) {
  (ops.zero(bufs.data(), bufs.size() * sizeof(float)), ...);
}

FtclPairs pairs_for(const FtclConfig& cfg, const StepBatch& batch) {
  if (cfg.stage_b()) return ftcl_stage_b_pairs(batch.labels_host, batch.B, cfg.num_classes);
  Rng rng(batch.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(batch.step));  // one stream per step
  return ftcl_stage_a_pairs(batch.labels_host, batch.B, cfg.num_classes, rng);
}

}  // namespace

void ftcl_infer_forward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const float* x, int B, int T,
                        FtclActivations& a) {
  check_ftcl_batch(cfg, B, T, true);
  a.reserve(B, T, cfg, false);
  backbone_forward(ops, cfg, p, x, dims_of(cfg, B, T), a, nullptr);
}

void ftcl_forward_backward(Ops& ops, const FtclConfig& cfg, const ParamView& p, const StepBatch& batch,
                           FtclActivations& a, float* loss, const FtclPairs* pairs) {
  check_ftcl_batch(cfg, batch.B, batch.T);
  a.reserve(batch.B, batch.T, cfg, true);
  const Dims d = dims_of(cfg, batch.B, batch.T);
  upload_pairs(ops, cfg, pairs ? *pairs : pairs_for(cfg, batch), d, a);
  ops.zero(loss, kNumFtclLossSlots * sizeof(float));

  const float* cls_in = backbone_forward(ops, cfg, p, batch.x, d, a, &batch);
  candidates_forward(ops, cfg, p, d, a);
  for (int s = 0; s < d.sides; ++s) acm_forward(ops, cfg, d, a, batch.labels, s, loss + s * kFtclAcmTerms);
  contrast_forward(ops, cfg, d, a, loss);

  zero_all(ops, a.d_video, a.d_cas, a.d_att, a.d_branch, a.d_logits, a.d_feat, a.d_lcs_x, a.d_fsd_x, a.d_fsd_raw);
  contrast_backward(ops, cfg, p, d, a);
  for (int s = 0; s < d.sides; ++s) acm_backward(ops, cfg, d, a, batch.labels, s, 1.0f / float(d.sides));
  heads_backward(ops, d, a);
  classifier_backward(ops, cfg, p, d, a, cls_in, batch);
  ops.zero(a.d_att_logit.data(), a.d_att_logit.size() * sizeof(float));
  embedding_backward(ops, cfg, p, d, a, batch);
  ops.conv1d_k3_backward(p.grad(kFtclEmbW), p.grad(kFtclEmbB), nullptr, 0, a.d_emb.data(), a.emb.data(),
                         conv_input(a, batch, cfg), d.D, p.value(kFtclEmbW), d.B, d.T, d.D, d.D, 3, true);
}

// ---- the Method ----

const ParameterSet& FtclMethod::layout() const {
  if (!layout_) layout_ = std::make_unique<ParameterSet>(ftcl_parameters(cfg_, false));
  return *layout_;
}

json FtclMethod::config() const {
  return json{{"variant", cfg_.variant},
              {"stage", cfg_.stage},
              {"fc_dim", cfg_.fc_dim},
              {"dropout", cfg_.dropout},
              {"ins_topk_seg", cfg_.ins_topk_seg},
              {"con_topk_seg", cfg_.con_topk_seg},
              {"bak_topk_seg", cfg_.bak_topk_seg},
              {"lcs_len", cfg_.lcs_len},
              {"fsd_len", cfg_.fsd_len},
              {"thres", cfg_.thres},
              {"fsd_gamma", cfg_.fsd_gamma},
              {"feat_margin", cfg_.feat_margin},
              {"lamb_guide", cfg_.lamb_guide},
              {"lamb_feat", cfg_.lamb_feat},
              {"lamb_sparse", cfg_.lamb_sparse},
              {"lamb_lcs", cfg_.lamb_lcs},
              {"lamb_fsd", cfg_.lamb_fsd},
              {"cls_eps", cfg_.cls_eps},
              {"use_lcs", cfg_.use_lcs},
              {"use_fsd", cfg_.use_fsd}};
}

const std::vector<std::string>& FtclMethod::loss_names() const {
  static const std::vector<std::string> names = {"loss",  "cls_ins", "cls_con", "cls_bak", "guide",
                                                 "feat", "sparse",  "lcs",     "fsd"};
  return names;
}

std::vector<double> FtclMethod::losses(const float* slots) const {
  const FtclLosses L = ftcl_losses_from_slots(slots, cfg_);
  return {L.total, L.cls_ins, L.cls_con, L.cls_bak, L.guide, L.feat, L.sparse, L.lcs, L.fsd};
}

void FtclMethod::check_batch(const float* labels, int B, int T) const {
  check_ftcl_batch(cfg_, B, T);
  const int K = cfg_.num_classes;
  for (int b = 0; b < B; ++b)
    if (std::all_of(labels + size_t(b) * K, labels + size_t(b + 1) * K, [](float l) { return l == 0.0f; }))
      fail("video " + std::to_string(b) +
           " of the batch has no label (FTCL's instance target [y, 0] / sum(y) would be 0/0)");
}

std::vector<std::vector<size_t>> FtclMethod::training_units(const std::vector<size_t>& videos,
                                                             const std::vector<const float*>& labels, int num_classes,
                                                             Rng& rng) const {
  if (!cfg_.stage_b()) return {};  // stage A: single videos, pairs formed inside each batch
  std::vector<std::vector<size_t>> units;
  for (const auto& [i, j] : ftcl_stage_b_epoch(labels, num_classes, rng)) units.push_back({videos[i], videos[j]});
  return units;
}

json FtclMethod::default_stages() const {
  // `aicl_train --method ftcl` runs both: ACM-Net with the in-batch terms, then FTCL's pairs from its weights
  return json::array({json{{"name", "a"}, {"method_config", {{"stage", "a"}}}},
                      json{{"name", "b"}, {"method_config", {{"stage", "b"}}}}});
}

void FtclMethod::form_batch(std::vector<size_t>& videos, Rng& rng) const {
  (void)rng;
  if (!cfg_.stage_b()) return;
  // pairs (a_p, b_p) flattened -> [a_0 .. a_{P-1}, b_0 .. b_{P-1}]: the step compares row p with row P + p
  const size_t P = videos.size() / 2;
  std::vector<size_t> out(videos.size());
  for (size_t p = 0; p < P; ++p) out[p] = videos[2 * p], out[P + p] = videos[2 * p + 1];
  videos = std::move(out);
}

std::unique_ptr<Workspace> FtclMethod::make_workspace(Ops& ops) const {
  return std::make_unique<FtclActivations>(ops);
}

void FtclMethod::forward_backward(Ops& ops, const ParamView& p, const StepBatch& b, Workspace& ws, float* slots) {
  ftcl_forward_backward(ops, cfg_, p, b, static_cast<FtclActivations&>(ws), slots);
}

InferScores FtclMethod::infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const {
  // Eval mode (no dropout): the instance branch's video logits [B,K+1] (video_scores: 21-way softmax, background
  // dropped), its CAS P_ins [B,T,K+1] (the post-processing reads the first K columns) and the attention [B,T,3]
  // (column 0: instance), which the "acm" post-processing thresholds (spec 4.1).
  auto& a = static_cast<FtclActivations&>(ws);
  ftcl_infer_forward(ops, cfg_, p, x, B, T, a);
  InferScores out;
  out.video = a.video.data();  // [3,B,K+1]: the instance branch first
  out.activation = a.cas.data();
  out.activation_stride = cfg_.classes();
  out.attention = a.att.data();
  out.attention_stride = 3;
  return out;
}

json FtclMethod::postprocess_overrides() const {
  if (cfg_.activitynet()) {
    // FTCL has no ActivityNet test: its config block reused with test_thu.py would apply the THUMOS thresholds and
    // average only the first 7 tIoUs (spec 4.4). This is ACM-Net's own ActivityNet test (main_act.py), the code
    // that exists for this backbone on ActivityNet: class scores > 0.10, x20 upsampling, CAS and attention
    // thresholds [0.005, 0.01, 0.015, 0.02], each branch scored on 0.7·CAS + 0.3·attention with its own signal
    // thresholded, OIC λ 0.15 with the class score weighted 0 (CAS branch) / 0.25 (attention branch), hard NMS
    // 0.90, test videos kept whole up to T; the tIoUs are the profile's (0.5:0.05:0.95, all 10 averaged).
    const std::vector<double> th = {0.005, 0.01, 0.015, 0.02};
    return json{{"kind", "acm"},        {"class_thresh", 0.10},   {"scale", 20},
                {"act_thresh", th},     {"att_thresh", th},       {"acm_cas_weight", 0.70},
                {"acm_att_weight", 0.30}, {"outer_ratio", 0.150}, {"class_score_weight", 0.0},
                {"att_class_score_weight", 0.250}, {"nms_thresh", 0.90}, {"soft_nms", false},
                {"test_sampling", "uniform_keep_short"}};
  }
  // The official test (FTCL test_thu.py = ACM-Net's THUMOS test; spec 4.1): 21-way class scores > 0.25 (else the
  // argmax), x20 upsampling, CAS thresholds np.arange(0.15, 0.25, 0.05) scored on the thresholded CAS, attention
  // thresholds np.arange(0.15, 1.00, 0.05) scored on the raw CAS, OIC with lamb 0.2 and gamma 0, hard NMS 0.55,
  // test videos kept whole up to the test length (uniform_sample).
  return json{{"kind", "acm"},
              {"class_thresh", 0.25},
              {"scale", 20},
              {"act_thresh", {{"arange", {0.15, 0.25, 0.05}}}},
              {"att_thresh", {{"arange", {0.15, 1.00, 0.05}}}},
              {"outer_ratio", 0.2},
              {"class_score_weight", 0.0},
              {"nms_thresh", 0.55},
              {"soft_nms", false},
              {"test_sampling", "uniform_keep_short"},
              // the evaluator's mean over the first 7 of np.arange(0.1, 1.0, 0.1) (0.30000000000000004, ...)
              {"tiou", {{"arange", {0.1, 0.75, 0.1}}}}};
}

void FtclMethod::video_scores(const float* x, float* out) const {
  // softmax over the K + 1 instance video scores (torch.softmax, float32), background dropped.
  const int n = cfg_.classes();
  const float m = *std::max_element(x, x + n);
  float s = 0;
  std::vector<float> e(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) s += (e[static_cast<size_t>(i)] = std::exp(x[i] - m));
  for (int i = 0; i + 1 < n; ++i) out[i] = e[static_cast<size_t>(i)] / s;
}

namespace {

// The variant's defaults (the config's "variant", else the dataset profile's), then the config's keys.
FtclConfig ftcl_config_from_json(const json& j, const std::string& source, const std::string& profile) {
  if (!j.is_null() && !j.is_object()) fail(source + ": the FTCL method config must be a JSON object");
  const std::string variant =
      config_variant(j, profile == "anet12" || profile == "anet13" ? "activitynet" : "thumos14", "ftcl", source);
  FtclConfig c = variant == "activitynet" ? ftcl_activitynet_config() : FtclConfig{};
  if (j.is_null()) return c;
  check_config_keys(j, {"variant", "stage", "fc_dim", "dropout", "ins_topk_seg", "con_topk_seg", "bak_topk_seg", "lcs_len",
                        "fsd_len", "thres", "fsd_gamma", "feat_margin", "lamb_guide", "lamb_feat", "lamb_sparse",
                        "lamb_lcs", "lamb_fsd", "cls_eps", "use_lcs", "use_fsd"},
                    source + " (method ftcl)");
  auto integer = [&](const char* k, int& dst, int lo, int hi) {
    if (!j.contains(k)) return;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < lo || j[k].get<int64_t>() > hi)
      fail(source + ": method ftcl key '" + k + "' must be an integer in [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    dst = j[k].get<int>();
  };
  auto real = [&](const char* k, double& dst, double lo, double hi) {
    if (!j.contains(k)) return;
    if (!j[k].is_number() || !std::isfinite(j[k].get<double>()) || j[k].get<double>() < lo || j[k].get<double>() > hi)
      fail(source + ": method ftcl key '" + k + "' must be a number in [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    dst = j[k].get<double>();
  };
  auto flag = [&](const char* k, bool& dst) {
    if (!j.contains(k)) return;
    if (!j[k].is_boolean()) fail(source + ": method ftcl key '" + k + "' must be true or false");
    dst = j[k].get<bool>();
  };
  if (j.contains("stage")) {
    if (!j["stage"].is_string() || (j["stage"] != "a" && j["stage"] != "b"))
      fail(source + ": method ftcl key 'stage' must be \"a\" (ACM-Net baseline) or \"b\" (FTCL pairs)");
    c.stage = j["stage"].get<std::string>();
  }
  integer("fc_dim", c.fc_dim, 2, 1 << 16);
  real("dropout", c.dropout, 0, 0.99);
  integer("ins_topk_seg", c.ins_topk_seg, 1, 1000000);
  integer("con_topk_seg", c.con_topk_seg, 1, 1000000);
  integer("bak_topk_seg", c.bak_topk_seg, 1, 1000000);
  integer("lcs_len", c.lcs_len, 1, 64);  // the LCS kernel's wavefront limit
  integer("fsd_len", c.fsd_len, 1, 32);
  real("thres", c.thres, -10, 10);
  real("fsd_gamma", c.fsd_gamma, 1e-6, 1e6);
  real("feat_margin", c.feat_margin, 0, 1e6);
  for (auto [k, dst] : {std::pair{"lamb_guide", &c.lamb_guide}, std::pair{"lamb_feat", &c.lamb_feat},
                        std::pair{"lamb_sparse", &c.lamb_sparse}, std::pair{"lamb_lcs", &c.lamb_lcs},
                        std::pair{"lamb_fsd", &c.lamb_fsd}})
    real(k, *dst, 0, 1e6);
  if (j.contains("cls_eps") && j["cls_eps"].is_number() && j["cls_eps"].get<double>() == -1) c.cls_eps = -1;
  else real("cls_eps", c.cls_eps, 0, 1);
  flag("use_lcs", c.use_lcs);
  flag("use_fsd", c.use_fsd);
  return c;
}

}  // namespace

std::unique_ptr<Method> make_ftcl_method(const MethodContext& ctx, const json& config, const std::string& source) {
  FtclConfig c = ftcl_config_from_json(config, source, ctx.profile);
  c.feature_dim = ctx.feature_dim;
  c.num_classes = ctx.num_classes;
  return std::make_unique<FtclMethod>(c);
}

}  // namespace aicl
