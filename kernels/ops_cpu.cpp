// The CPU instance of the op table: host memory, the templated CPU kernels in float, everything done on return.
#include <cstdlib>
#include <cstring>

#include "core/base/error.h"
#include "kernels/actionness.h"
#include "kernels/adam.h"
#include "kernels/bilinear_pool.h"
#include "kernels/broadcast.h"
#include "kernels/ce_loss.h"
#include "kernels/confidence_mask.h"
#include "kernels/conv1d_k1.h"
#include "kernels/conv1d_k3.h"
#include "kernels/gce_loss.h"
#include "kernels/infonce.h"
#include "kernels/kl_uniform.h"
#include "kernels/mse_loss.h"
#include "kernels/ops.h"
#include "kernels/snippet_select.h"
#include "kernels/topk_mask.h"
#include "kernels/topk_mil.h"
// ---- begin FTCL DP losses ----
#include "kernels/fsd_dp.h"
#include "kernels/lcs_dp.h"
// ---- end FTCL DP losses ----
// ---- begin FTCL / ACM-Net ops ----
#include "kernels/softmax_rows.h"
#include "kernels/row_scale.h"
#include "kernels/branch_ce.h"
#include "kernels/attention_losses.h"
#include "kernels/feat_norm_loss.h"
#include "kernels/rank_select.h"
#include "kernels/gather_rows.h"
#include "kernels/cosine_pairs.h"
#include "kernels/pair_contrast.h"
// ---- end FTCL / ACM-Net ops ----

namespace aicl {

namespace {

// The caller's host rows serve as the table: gathering is a memory-bound copy that both cores share.
class CpuFeatureTable final : public FeatureTable {
 public:
  CpuFeatureTable(const float* rows, int dim) : rows_(rows), dim_(dim) {}
  int dim() const override { return dim_; }
  void assemble(const std::size_t* rows, int n, const float* labels, int nl, float* x, float* labels_dev) override {
    const std::size_t F = static_cast<std::size_t>(dim_);
#pragma omp parallel for
    for (long r = 0; r < n; ++r)  // rows are the trainer's (offset + sampled segment), in range by construction
      std::memcpy(x + static_cast<std::size_t>(r) * F, rows_ + rows[r] * F, F * sizeof(float));
    if (labels_dev != labels && nl > 0) std::memcpy(labels_dev, labels, static_cast<std::size_t>(nl) * sizeof(float));
  }

 private:
  const float* rows_;
  int dim_;
};

class CpuOps final : public Ops {
 public:
  std::string device() const override { return "cpu"; }
  bool host_memory() const override { return true; }
  bool synchronous() const override { return true; }

  void* alloc(std::size_t bytes) override {
    // 64-byte alignment for the vectorised loops; aligned_alloc needs a multiple of the alignment.
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) fail("out of host memory (" + std::to_string(bytes) + " bytes)");
    return p;
  }
  void release(void* p) noexcept override { std::free(p); }
  void zero(void* p, std::size_t bytes) override { std::memset(p, 0, bytes); }
  void upload(void* dst, const void* host, std::size_t bytes) override {
    if (dst != host) std::memcpy(dst, host, bytes);
  }
  void download(void* host, const void* src, std::size_t bytes) override {
    if (host != src) std::memcpy(host, src, bytes);
  }
  void sync() override {}
  std::unique_ptr<FeatureTable> feature_table(const float* rows, std::size_t, int dim, int, int) override {
    return std::make_unique<CpuFeatureTable>(rows, dim);
  }

  void conv1d_k3_forward(float* out, const float* in, int in_stride, const float* w, const float* b, int B, int T,
                         int Cin, int Cout, int K, bool relu) override {
    aicl::conv1d_k3_forward(out, in, in_stride, w, b, B, T, Cin, Cout, K, relu);
  }
  void conv1d_k3_backward(float* dw, float* db, float* din, int din_stride, float* dout, const float* out,
                          const float* in, int in_stride, const float* w, int B, int T, int Cin, int Cout, int K,
                          bool relu) override {
    aicl::conv1d_k3_backward(dw, db, din, din_stride, dout, out, in, in_stride, w, B, T, Cin, Cout, K, relu);
  }
  void conv1d_k1_forward(float* out, const float* in, const float* w, const float* b, int N, int Cin,
                         int Cout) override {
    aicl::conv1d_k1_forward(out, in, w, b, N, Cin, Cout);
  }
  void conv1d_k1_backward(float* dw, float* db, float* din, const float* dout, const float* in, const float* w,
                          int N, int Cin, int Cout) override {
    aicl::conv1d_k1_backward(dw, db, din, dout, in, w, N, Cin, Cout);
  }
  void sigmoid_forward(float* out, const float* in, std::size_t n) override { aicl::sigmoid_forward(out, in, n); }
  void sigmoid_backward(float* din, const float* dout, const float* out, std::size_t n) override {
    aicl::sigmoid_backward(din, dout, out, n);
  }
  void class_aware_actionness_forward(float* a1, const float* cas, int N, int C) override {
    aicl::class_aware_actionness_forward(a1, cas, N, C);
  }
  void class_aware_actionness_backward(float* dcas, const float* da1, const float* a1, int N, int C) override {
    aicl::class_aware_actionness_backward(dcas, da1, a1, N, C);
  }
  void stream_mean_forward(float* out, const float* a, const float* b, std::size_t n) override {
    aicl::stream_mean_forward(out, a, b, n);
  }
  void stream_mean_backward(float* da, float* db, const float* dout, std::size_t n) override {
    aicl::stream_mean_backward(da, db, dout, n);
  }

  void gram_forward(float* G, const float* E, int B, int T, int D) override {
    aicl::gram_forward(G, E, B, T, D);
  }
  void gram_backward(float* dE, const float* dG, const float* E, int B, int T, int D) override {
    aicl::gram_backward(dE, dG, E, B, T, D);
  }
  void signed_sqrt_l2_forward(float* v, float* norm, const float* c, int B, int n, double eps) override {
    aicl::signed_sqrt_l2_forward(v, norm, c, B, n, eps);
  }
  void signed_sqrt_l2_backward(float* dc, const float* dv, const float* v, const float* norm, const float* c, int B,
                               int n, double eps) override {
    aicl::signed_sqrt_l2_backward(dc, dv, v, norm, c, B, n, eps);
  }

  void outer_add_forward(float* out, const float* e, const float* s, const float* a, int B, int T, int D) override {
    aicl::outer_add_forward(out, e, s, a, B, T, D);
  }
  void outer_add_backward(float* de, float* ds, float* da, const float* g, const float* s, const float* a, int B,
                          int T, int D) override {
    aicl::outer_add_backward(de, ds, da, g, s, a, B, T, D);
  }
  void complement_scale_forward(float* out, const float* x, const float* a, int B, int T, int C) override {
    aicl::complement_scale_forward(out, x, a, B, T, C);
  }
  void complement_scale_backward(float* dx, float* da, const float* g, const float* x, const float* a, int B, int T,
                                 int C) override {
    aicl::complement_scale_backward(dx, da, g, x, a, B, T, C);
  }

  void roll_mix_forward(float* out, const float* x, int B, std::size_t n, RollMix mode) override {
    aicl::roll_mix_forward(out, x, B, n, mode);
  }
  void dropout_forward(float* out, const float* x, std::size_t n, double p, const DropoutKey& key,
                       std::size_t group) override {
    aicl::dropout_forward(out, x, n, p, key, group);
  }
  void dropout_backward(float* dx, const float* g, std::size_t n, double p, const DropoutKey& key,
                        std::size_t group) override {
    aicl::dropout_backward(dx, g, n, p, key, group);
  }

  void topk_mil_forward(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                        const float* rgb, int B, int T, int C, int k) override {
    aicl::topk_mil_forward(cas_top, topk_idx, combined, cas, flow, rgb, B, T, C, k);
  }
  void topk_mil_weighted_forward(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                                 const float* rgb, const MilSelection& sel, int B, int T, int C, int k) override {
    aicl::topk_mil_weighted_forward(cas_top, topk_idx, combined, cas, flow, rgb, sel, B, T, C, k);
  }
  void topk_mil_backward(float* dcas, const float* dcas_top, const int* topk_idx, int B, int T, int C,
                         int k) override {
    aicl::topk_mil_backward(dcas, dcas_top, topk_idx, B, T, C, k);
  }
  void pseudo_label_forward(float* y, const int* topk_idx, const float* labels, int B, int T, int C,
                            int k) override {
    aicl::pseudo_label_forward(y, topk_idx, labels, B, T, C, k);
  }
  void snippet_select_forward(int* ca, int* cb, int* ia, int* ib, const float* a1, const float* a2, int B, int T,
                              int k) override {
    aicl::snippet_select_forward(ca, cb, ia, ib, a1, a2, B, T, k);
  }

  void topk_mask_forward(float* mask, const float* score, int B, int T, int k, bool intersect) override {
    aicl::topk_mask_forward(mask, score, B, T, k, intersect);
  }
  void relu_row_sum_forward(float* out, const float* in, int N, int C) override {
    aicl::relu_row_sum_forward(out, in, N, C);
  }
  void confidence_mask_forward(float* m, double* state, const float* cas, int N, int C, double momentum,
                               double var_scale) override {
    aicl::confidence_mask_forward(m, state, cas, N, C, momentum, var_scale);
  }
  void stream_mix_forward(float* out, const float* a, const float* b, double wa, double wb, std::size_t n) override {
    aicl::stream_mix_forward(out, a, b, wa, wb, n);
  }
  void stream_mix_backward(float* da, float* db, const float* dout, double wa, double wb, std::size_t n) override {
    aicl::stream_mix_backward(da, db, dout, wa, wb, n);
  }

  void video_ce_forward(float* loss, const float* logits, const float* labels, int B, int C) override {
    *loss = aicl::video_ce_forward(logits, labels, B, C);
  }
  void video_ce_backward(float* dlogits, float dloss, const float* logits, const float* labels, int B,
                         int C) override {
    aicl::video_ce_backward(dlogits, dloss, logits, labels, B, C);
  }
  void gce_forward(float* loss, const float* p, const float* y, int B, int T, double q, const float* m) override {
    *loss = aicl::gce_forward(p, y, B, T, q, m);
  }
  void gce_backward(float* dp, float dloss, const float* p, const float* y, int B, int T, double q,
                    const float* m) override {
    aicl::gce_backward(dp, dloss, p, y, B, T, q, m);
  }
  void kl_uniform_forward(float* loss, const float* z, int B, int C) override {
    *loss = aicl::kl_uniform_forward(z, B, C);
  }
  void kl_uniform_backward(float* dz, float dloss, const float* z, int B, int C) override {
    aicl::kl_uniform_backward(dz, dloss, z, B, C);
  }
  void mse_forward(float* loss, const float* a, const float* b, std::size_t n) override {
    *loss = aicl::mse_forward(a, b, n);
  }
  void mse_backward(float* da, float* db, float dloss, const float* a, const float* b, std::size_t n) override {
    aicl::mse_backward(da, db, dloss, a, b, n);
  }
  void infonce_forward(float* loss, const float* emb, const int* ca, const int* cb, const int* ia, const int* ib,
                       int B, int T, int D, int k, double tau) override {
    *loss = aicl::infonce_forward(emb, ca, cb, ia, ib, B, T, D, k, tau);
  }
  void infonce_backward(float* demb, float dloss, const float* emb, const int* ca, const int* cb, const int* ia,
                        const int* ib, int B, int T, int D, int k, double tau) override {
    aicl::infonce_backward(demb, dloss, emb, ca, cb, ia, ib, B, T, D, k, tau);
  }

  bool adam_step(float* param, const float* grad, float* m, float* v, std::size_t n, double lr, double beta1,
                 double beta2, double eps, double weight_decay, long step) override {
    return aicl::adam_step(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, step);
  }
  bool sgd_step(float* param, const float* grad, float* mom, std::size_t n, double lr, double momentum,
                double weight_decay, long step) override {
    return aicl::sgd_step(param, grad, mom, n, lr, momentum, weight_decay, step);
  }

  // ==== begin FTCL DP losses ====
  void fsd_dp_forward(float* value, const float* m, const float* g, int P, int L, double gamma) override {
    aicl::fsd_dp_forward(value, m, g, P, L, gamma);
  }
  void fsd_dp_backward(float* dm, float* dg, const float* dvalue, const float* m, const float* g, int P, int L,
                       double gamma) override {
    aicl::fsd_dp_backward(dm, dg, dvalue, m, g, P, L, gamma);
  }
  void lcs_dp_forward(float* value, const float* S, int P, int L, float tau, bool stage_a) override {
    aicl::lcs_dp_forward(value, S, P, L, tau, stage_a);
  }
  void lcs_dp_backward(float* dS, const float* dvalue, const float* S, int P, int L, float tau,
                       bool stage_a) override {
    aicl::lcs_dp_backward(dS, dvalue, S, P, L, tau, stage_a);
  }
  // ==== end FTCL DP losses ====

  // ==== begin FTCL / ACM-Net ops ====
  void softmax_rows_forward(float* out, const float* x, int N, int C) override {
    aicl::softmax_rows_forward(out, x, N, C);
  }
  void softmax_rows_backward(float* dx, const float* g, const float* p, int N, int C) override {
    aicl::softmax_rows_backward(dx, g, p, N, C);
  }
  void row_scale_forward(float* out, const float* x, const float* a, int stride, int col, int N, int C) override {
    aicl::row_scale_forward(out, x, a, stride, col, N, C);
  }
  void row_scale_backward(float* dx, float* da, const float* g, const float* x, const float* a, int stride, int col,
                          int N, int C) override {
    aicl::row_scale_backward(dx, da, g, x, a, stride, col, N, C);
  }
  void branch_ce_forward(float* loss, const float* logits, const float* labels, int B, int K, BranchTarget target,
                         double eps) override {
    *loss = aicl::branch_ce_forward(logits, labels, B, K, target, eps);
  }
  void branch_ce_backward(float* dlogits, float dloss, const float* logits, const float* labels, int B, int K,
                          BranchTarget target, double eps) override {
    aicl::branch_ce_backward(dlogits, dloss, logits, labels, B, K, target, eps);
  }
  void guide_loss_forward(float* loss, const float* p, const float* att, int B, int T, int C, int A) override {
    *loss = aicl::guide_loss_forward(p, att, B, T, C, A);
  }
  void guide_loss_backward(float* dp, float dloss, const float* p, const float* att, int B, int T, int C,
                           int A) override {
    aicl::guide_loss_backward(dp, dloss, p, att, B, T, C, A);
  }
  void att_sparsity_forward(float* loss, const float* att, int B, int T, int A, int cols) override {
    *loss = aicl::att_sparsity_forward(att, B, T, A, cols);
  }
  void att_sparsity_backward(float* datt, float dloss, int B, int T, int A, int cols) override {
    aicl::att_sparsity_backward(datt, dloss, B, T, A, cols);
  }
  void feat_norm_loss_forward(float* loss, const float* f, int B, int D, double margin) override {
    *loss = aicl::feat_norm_loss_forward(f, B, D, margin);
  }
  void feat_norm_loss_backward(float* df, float dloss, const float* f, int B, int D, double margin) override {
    aicl::feat_norm_loss_backward(df, dloss, f, B, D, margin);
  }
  void rank_select_forward(int* idx, int ld, const float* score, int stride, int col, int B, int T, int r0, int n,
                           bool time_order) override {
    aicl::rank_select_forward(idx, ld, score, stride, col, B, T, r0, n, time_order);
  }
  void gather_rows_forward(float* out, const float* x, const int* idx, int ld, int B, int T, int D, int n,
                           bool mean) override {
    aicl::gather_rows_forward(out, x, idx, ld, B, T, D, n, mean);
  }
  void gather_rows_backward(float* dx, const float* dout, const int* idx, int ld, int B, int T, int D, int n,
                            bool mean) override {
    aicl::gather_rows_backward(dx, dout, idx, ld, B, T, D, n, mean);
  }
  void cosine_pairs_forward(float* S, const float* X, int rows, int ld, int c0, int w, const int* ra, const int* rb,
                            int P, int L) override {
    aicl::cosine_pairs_forward(S, X, rows, ld, c0, w, ra, rb, P, L);
  }
  void cosine_pairs_backward(float* dX, const float* dS, const float* X, int rows, int ld, int c0, int w, const int* ra,
                             const int* rb, int P, int L) override {
    aicl::cosine_pairs_backward(dX, dS, X, rows, ld, c0, w, ra, rb, P, L);
  }
  void pair_contrast_forward(float* loss, const float* value, const int* pos, int P, double eps) override {
    *loss = aicl::pair_contrast_forward(value, pos, P, eps);
  }
  void pair_contrast_backward(float* dvalue, float dloss, const int* pos, int P, double eps) override {
    aicl::pair_contrast_backward(dvalue, dloss, pos, P, eps);
  }
  // ==== end FTCL / ACM-Net ops ====
};

}  // namespace

Ops& cpu_ops() {
  static CpuOps ops;
  return ops;
}

}  // namespace aicl
