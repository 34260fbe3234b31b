// The op table: every kernel a method composes, behind one interface with a CPU and a CUDA instance.
//
// A method's forward and backward are written once against `Ops` (as ggml's backends are): the CPU instance
// (kernels/ops_cpu.cpp) runs the templated CPU kernels, the CUDA instance (kernels/ops_cuda.cu, in the separately
// loaded libaicl_cuda.so) queues the *_cuda kernels on its stream. Pointers are "device" pointers of the instance
// (host memory for the CPU). Loss ops write their float value into a device slot, so that the GPU never has to
// wait for a loss; the host reads the slots when it needs them. The contracts are those of the kernels' headers.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/branch_ce.h"
#include "kernels/dropout.h"
#include "kernels/roll_mix.h"
#include "kernels/topk_mil.h"

namespace aicl {

class Ops;

// A device array allocated through an Ops instance (move-only; freed through it). On the CPU it is host memory.
template <class T>
class Buf {
 public:
  Buf() = default;
  Buf(Ops& ops, std::size_t n);
  ~Buf() { reset(); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  Buf(Buf&& o) noexcept : ops_(o.ops_), p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  Buf& operator=(Buf&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  T* data() const { return p_; }
  std::size_t size() const { return n_; }
  void reset();
  // The first n entries (all when n = 0) copied to the host (waits for the device).
  std::vector<T> to_host(std::size_t n = 0) const;

 private:
  Ops* ops_ = nullptr;
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

// The bulk feature table [num_rows, dim] resident on a device (CPU: the caller's host rows, not copied).
class FeatureTable {
 public:
  virtual ~FeatureTable() = default;
  virtual int dim() const = 0;
  // Queues x [n, dim] = table rows `rows` (host indices) and labels_dev [nl] = labels (host). The host arrays may
  // be reused as soon as the call returns.
  virtual void assemble(const std::size_t* rows, int n, const float* labels, int nl, float* x, float* labels_dev) = 0;
};

class Ops {
 public:
  virtual ~Ops() = default;
  virtual std::string device() const = 0;     // "cpu" | "cuda"
  virtual bool host_memory() const = 0;       // device pointers are host pointers (the CPU)
  virtual bool synchronous() const = 0;       // every op is complete on return (the CPU)

  // ---- memory (upload/download wait for queued work; zero/copy are queued) ----
  virtual void* alloc(std::size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;  // waits for queued work that may use p
  virtual void zero(void* p, std::size_t bytes) = 0;
  virtual void upload(void* dst, const void* host, std::size_t bytes) = 0;
  virtual void download(void* host, const void* src, std::size_t bytes) = 0;
  virtual void sync() = 0;
  virtual std::unique_ptr<FeatureTable> feature_table(const float* host_rows, std::size_t num_rows, int dim,
                                                      int max_rows, int max_labels) = 0;

  // ---- layers (kernels/conv1d_k3.h, conv1d_k1.h, actionness.h) ----
  // Temporal conv with odd kernel size K, zero padding K/2, weight [Cout,Cin,K]. The name is historical: K = 3 is
  // what AICL and SAL-THUMOS pass (SAL-ActivityNet's base module: K = 7). Even K throws aicl::Error.
  virtual void conv1d_k3_forward(float* out, const float* in, int in_stride, const float* w, const float* b, int B,
                                 int T, int Cin, int Cout, int K, bool relu) = 0;
  virtual void conv1d_k3_backward(float* dw, float* db, float* din, int din_stride, float* dout, const float* out,
                                  const float* in, int in_stride, const float* w, int B, int T, int Cin, int Cout,
                                  int K, bool relu) = 0;
  virtual void conv1d_k1_forward(float* out, const float* in, const float* w, const float* b, int N, int Cin,
                                 int Cout) = 0;
  virtual void conv1d_k1_backward(float* dw, float* db, float* din, const float* dout, const float* in,
                                  const float* w, int N, int Cin, int Cout) = 0;
  virtual void sigmoid_forward(float* out, const float* in, std::size_t n) = 0;
  virtual void sigmoid_backward(float* din, const float* dout, const float* out, std::size_t n) = 0;
  virtual void class_aware_actionness_forward(float* a1, const float* cas, int N, int C) = 0;
  virtual void class_aware_actionness_backward(float* dcas, const float* da1, const float* a1, int N, int C) = 0;
  virtual void stream_mean_forward(float* out, const float* a, const float* b, std::size_t n) = 0;
  virtual void stream_mean_backward(float* da, float* db, const float* dout, std::size_t n) = 0;

  // ---- SAL's second-order pooling and broadcasts (kernels/bilinear_pool.h, broadcast.h) ----
  virtual void gram_forward(float* G, const float* E, int B, int T, int D) = 0;
  virtual void gram_backward(float* dE, const float* dG, const float* E, int B, int T, int D) = 0;
  virtual void signed_sqrt_l2_forward(float* v, float* norm, const float* c, int B, int n, double eps) = 0;
  virtual void signed_sqrt_l2_backward(float* dc, const float* dv, const float* v, const float* norm, const float* c,
                                       int B, int n, double eps) = 0;

  virtual void outer_add_forward(float* out, const float* e, const float* s, const float* a, int B, int T, int D) = 0;
  virtual void outer_add_backward(float* de, float* ds, float* da, const float* g, const float* s, const float* a,
                                  int B, int T, int D) = 0;
  virtual void complement_scale_forward(float* out, const float* x, const float* a, int B, int T, int C) = 0;
  virtual void complement_scale_backward(float* dx, float* da, const float* g, const float* x, const float* a, int B,
                                         int T, int C) = 0;

  virtual void roll_mix_forward(float* out, const float* x, int B, std::size_t n, RollMix mode) = 0;
  // group: consecutive elements sharing one draw (1: element-wise; D: one draw per [.., D] row, FTCL's snippets).
  virtual void dropout_forward(float* out, const float* x, std::size_t n, double p, const DropoutKey& key,
                               std::size_t group = 1) = 0;
  virtual void dropout_backward(float* dx, const float* g, std::size_t n, double p, const DropoutKey& key,
                                std::size_t group = 1) = 0;

  // ---- MIL and selection (kernels/topk_mil.h, snippet_select.h); flow = rgb = nullptr: softmax(cas) alone ----
  virtual void topk_mil_forward(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                                const float* rgb, int B, int T, int C, int k) = 0;
  // The same with a weighted selection score (kernels/topk_mil.h, MilSelection); backward: topk_mil_backward.
  virtual void topk_mil_weighted_forward(float* cas_top, int* topk_idx, float* combined, const float* cas,
                                         const float* flow, const float* rgb, const MilSelection& sel, int B, int T,
                                         int C, int k) = 0;
  virtual void topk_mil_backward(float* dcas, const float* dcas_top, const int* topk_idx, int B, int T, int C,
                                 int k) = 0;
  virtual void pseudo_label_forward(float* y, const int* topk_idx, const float* labels, int B, int T, int C,
                                    int k) = 0;
  virtual void snippet_select_forward(int* ca, int* cb, int* ia, int* ib, const float* a1, const float* a2, int B,
                                      int T, int k) = 0;

  // ---- SAL's selections and mask (kernels/topk_mask.h, confidence_mask.h) ----
  virtual void topk_mask_forward(float* mask, const float* score, int B, int T, int k, bool intersect) = 0;
  virtual void relu_row_sum_forward(float* out, const float* in, int N, int C) = 0;
  virtual void confidence_mask_forward(float* m, double* state, const float* cas, int N, int C, double momentum,
                                       double var_scale) = 0;
  virtual void stream_mix_forward(float* out, const float* a, const float* b, double wa, double wb,
                                  std::size_t n) = 0;
  virtual void stream_mix_backward(float* da, float* db, const float* dout, double wa, double wb,
                                   std::size_t n) = 0;

  // ---- losses: forward writes the value to the device slot `loss` (kernels/*_loss.h, infonce.h) ----
  virtual void video_ce_forward(float* loss, const float* logits, const float* labels, int B, int C) = 0;
  virtual void video_ce_backward(float* dlogits, float dloss, const float* logits, const float* labels, int B,
                                 int C) = 0;
  // m: an optional per-segment mask [B,T] (null: unweighted, AICL's GCE).
  virtual void gce_forward(float* loss, const float* p, const float* y, int B, int T, double q, const float* m) = 0;
  virtual void gce_backward(float* dp, float dloss, const float* p, const float* y, int B, int T, double q,
                            const float* m) = 0;
  virtual void kl_uniform_forward(float* loss, const float* z, int B, int C) = 0;
  virtual void kl_uniform_backward(float* dz, float dloss, const float* z, int B, int C) = 0;
  virtual void mse_forward(float* loss, const float* a, const float* b, std::size_t n) = 0;
  virtual void mse_backward(float* da, float* db, float dloss, const float* a, const float* b, std::size_t n) = 0;
  virtual void infonce_forward(float* loss, const float* emb, const int* ca, const int* cb, const int* ia,
                               const int* ib, int B, int T, int D, int k, double tau) = 0;
  virtual void infonce_backward(float* demb, float dloss, const float* emb, const int* ca, const int* cb,
                                const int* ia, const int* ib, int B, int T, int D, int k, double tau) = 0;

  // ---- optimizers (kernels/adam.h): false when a gradient is not finite (CPU; CUDA cannot tell: true) ----
  virtual bool adam_step(float* param, const float* grad, float* m, float* v, std::size_t n, double lr, double beta1,
                         double beta2, double eps, double weight_decay, long step) = 0;
  virtual bool sgd_step(float* param, const float* grad, float* mom, std::size_t n, double lr, double momentum,
                        double weight_decay, long step) = 0;

  // ==== begin FTCL DP losses (kernels/fsd_dp.h, kernels/lcs_dp.h) ====
  // P pairs of L×L score matrices; value[P] written; the backward ACCUMULATES dvalue[p]·∂value_p (dvalue is a
  // device slot on the GPU: no host sync); a null gradient pointer is skipped.
  virtual void fsd_dp_forward(float* value, const float* m, const float* g, int P, int L, double gamma) = 0;
  virtual void fsd_dp_backward(float* dm, float* dg, const float* dvalue, const float* m, const float* g, int P,
                               int L, double gamma) = 0;
  virtual void lcs_dp_forward(float* value, const float* S, int P, int L, float tau, bool stage_a) = 0;
  virtual void lcs_dp_backward(float* dS, const float* dvalue, const float* S, int P, int L, float tau,
                               bool stage_a) = 0;
  // ==== end FTCL DP losses ====

  // ==== begin FTCL / ACM-Net ops (kernels/softmax_rows.h, row_scale.h, branch_ce.h, attention_losses.h,
  // feat_norm_loss.h, rank_select.h, gather_rows.h, cosine_pairs.h, pair_contrast.h) ====
  // Losses write their value to the device slot `loss`; backwards ACCUMULATE.
  virtual void softmax_rows_forward(float* out, const float* x, int N, int C) = 0;
  virtual void softmax_rows_backward(float* dx, const float* g, const float* p, int N, int C) = 0;
  virtual void row_scale_forward(float* out, const float* x, const float* a, int stride, int col, int N, int C) = 0;
  virtual void row_scale_backward(float* dx, float* da, const float* g, const float* x, const float* a, int stride,
                                  int col, int N, int C) = 0;
  virtual void branch_ce_forward(float* loss, const float* logits, const float* labels, int B, int K,
                                 BranchTarget target, double eps) = 0;
  virtual void branch_ce_backward(float* dlogits, float dloss, const float* logits, const float* labels, int B, int K,
                                  BranchTarget target, double eps) = 0;
  virtual void guide_loss_forward(float* loss, const float* p, const float* att, int B, int T, int C, int A) = 0;
  virtual void guide_loss_backward(float* dp, float dloss, const float* p, const float* att, int B, int T, int C,
                                   int A) = 0;
  virtual void att_sparsity_forward(float* loss, const float* att, int B, int T, int A, int cols) = 0;
  virtual void att_sparsity_backward(float* datt, float dloss, int B, int T, int A, int cols) = 0;
  virtual void feat_norm_loss_forward(float* loss, const float* f, int B, int D, double margin) = 0;
  virtual void feat_norm_loss_backward(float* df, float dloss, const float* f, int B, int D, double margin) = 0;
  virtual void rank_select_forward(int* idx, int ld, const float* score, int stride, int col, int B, int T, int r0,
                                   int n, bool time_order) = 0;
  virtual void gather_rows_forward(float* out, const float* x, const int* idx, int ld, int B, int T, int D, int n,
                                   bool mean) = 0;
  virtual void gather_rows_backward(float* dx, const float* dout, const int* idx, int ld, int B, int T, int D, int n,
                                    bool mean) = 0;
  virtual void cosine_pairs_forward(float* S, const float* X, int rows, int ld, int c0, int w, const int* ra,
                                    const int* rb, int P, int L) = 0;
  virtual void cosine_pairs_backward(float* dX, const float* dS, const float* X, int rows, int ld, int c0, int w,
                                     const int* ra, const int* rb, int P, int L) = 0;
  virtual void pair_contrast_forward(float* loss, const float* value, const int* pos, int P, double eps) = 0;
  virtual void pair_contrast_backward(float* dvalue, float dloss, const int* pos, int P, double eps) = 0;
  // ==== end FTCL / ACM-Net ops ====
};

// The CPU instance (kernels/ops_cpu.cpp).
Ops& cpu_ops();

template <class T>
Buf<T>::Buf(Ops& ops, std::size_t n) : ops_(&ops), n_(n) {
  if (n > 0) p_ = static_cast<T*>(ops.alloc(n * sizeof(T)));
}

template <class T>
void Buf<T>::reset() {
  if (p_ && ops_) ops_->release(p_);
  p_ = nullptr;
  n_ = 0;
}

template <class T>
std::vector<T> Buf<T>::to_host(std::size_t n) const {
  std::vector<T> out(n == 0 ? n_ : n);
  if (!out.empty()) ops_->download(out.data(), p_, out.size() * sizeof(T));
  return out;
}

}  // namespace aicl
