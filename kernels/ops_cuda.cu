// The CUDA instance of the op table (in libaicl_cuda.so, opened only when a CUDA device is asked for): device
// memory, every op queued on one stream, nothing waits except upload/download/sync.
#include <cstdio>
#include <algorithm>
#include <memory>
#include <string>

#include "kernels/actionness.h"
#include "kernels/adam.h"
#include "kernels/bilinear_pool.h"
#include "kernels/broadcast.h"
#include "kernels/ce_loss.h"
#include "kernels/confidence_mask.h"
#include "kernels/conv1d_k1.h"
#include "kernels/conv1d_k3.h"
#include "kernels/cuda_common.h"
#include "kernels/device_dataset_cuda.h"
#include "kernels/gce_loss.h"
#include "kernels/infonce.h"
#include "kernels/kl_uniform.h"
#include "kernels/mse_loss.h"
#include "kernels/ops.h"
#include "kernels/ops_cuda.h"
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

// The table uploaded once; batches assembled through pinned staging slots (grown when a larger batch comes).
class CudaFeatureTable final : public FeatureTable {
 public:
  CudaFeatureTable(const float* rows, std::size_t num_rows, int dim, int max_rows, int max_labels, cudaStream_t s)
      : table_(rows, num_rows, dim, {}, s), stream_(s), max_rows_(std::max(1, max_rows)),
        max_labels_(std::max(1, max_labels)), assembler_(std::make_unique<DeviceBatchAssembler>(max_rows_, max_labels_)) {}
  int dim() const override { return table_.dim(); }
  void assemble(const std::size_t* rows, int n, const float* labels, int nl, float* x, float* labels_dev) override {
    if (n > max_rows_ || nl > max_labels_) {  // rare (inference chunks larger than a batch): wait, then regrow
      AICL_CUDA_CHECK(cudaStreamSynchronize(stream_));
      max_rows_ = std::max(max_rows_, n), max_labels_ = std::max(max_labels_, nl);
      assembler_ = std::make_unique<DeviceBatchAssembler>(max_rows_, max_labels_);
    }
    assembler_->assemble(table_, rows, n, labels, nl, x, labels_dev, stream_);
  }

 private:
  DeviceDataset table_;
  cudaStream_t stream_;
  int max_rows_, max_labels_;
  std::unique_ptr<DeviceBatchAssembler> assembler_;
};

class CudaOps final : public Ops {
 public:
  std::string device() const override { return "cuda"; }
  bool host_memory() const override { return false; }
  bool synchronous() const override { return false; }

  void* alloc(std::size_t bytes) override {
    void* p = nullptr;
    AICL_CUDA_CHECK(cudaMalloc(&p, std::max<std::size_t>(bytes, 1)));
    return p;
  }
  void release(void* p) noexcept override {
    AICL_CUDA_CHECK_NOTHROW(cudaStreamSynchronize(s_));
    AICL_CUDA_CHECK_NOTHROW(cudaFree(p));
  }
  void zero(void* p, std::size_t bytes) override { AICL_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, s_)); }
  // Uploads come from caller-owned pageable memory and are rare (setup, best weights, inference chunks): they wait.
  void upload(void* dst, const void* host, std::size_t bytes) override {
    AICL_CUDA_CHECK(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, s_));
    sync();
  }
  void download(void* host, const void* src, std::size_t bytes) override {
    AICL_CUDA_CHECK(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, s_));
    sync();
  }
  void sync() override { s_.synchronize(); }
  std::unique_ptr<FeatureTable> feature_table(const float* rows, std::size_t num_rows, int dim, int max_rows,
                                              int max_labels) override {
    return std::make_unique<CudaFeatureTable>(rows, num_rows, dim, max_rows, max_labels, s_);
  }

  void conv1d_k3_forward(float* out, const float* in, int in_stride, const float* w, const float* b, int B, int T,
                         int Cin, int Cout, int K, bool relu) override {
    conv1d_k3_forward_cuda(out, in, in_stride, w, b, B, T, Cin, Cout, K, relu, s_);
  }
  void conv1d_k3_backward(float* dw, float* db, float* din, int din_stride, float* dout, const float* out,
                          const float* in, int in_stride, const float* w, int B, int T, int Cin, int Cout, int K,
                          bool relu) override {
    conv1d_k3_backward_cuda(dw, db, din, din_stride, dout, out, in, in_stride, w, B, T, Cin, Cout, K, relu, s_);
  }
  void conv1d_k1_forward(float* out, const float* in, const float* w, const float* b, int N, int Cin,
                         int Cout) override {
    conv1d_k1_forward_cuda(out, in, w, b, N, Cin, Cout, s_);
  }
  void conv1d_k1_backward(float* dw, float* db, float* din, const float* dout, const float* in, const float* w,
                          int N, int Cin, int Cout) override {
    conv1d_k1_backward_cuda(dw, db, din, dout, in, w, N, Cin, Cout, s_);
  }
  void sigmoid_forward(float* out, const float* in, std::size_t n) override { sigmoid_forward_cuda(out, in, n, s_); }
  void sigmoid_backward(float* din, const float* dout, const float* out, std::size_t n) override {
    sigmoid_backward_cuda(din, dout, out, n, s_);
  }
  void class_aware_actionness_forward(float* a1, const float* cas, int N, int C) override {
    class_aware_actionness_forward_cuda(a1, cas, N, C, s_);
  }
  void class_aware_actionness_backward(float* dcas, const float* da1, const float* a1, int N, int C) override {
    class_aware_actionness_backward_cuda(dcas, da1, a1, N, C, s_);
  }
  void stream_mean_forward(float* out, const float* a, const float* b, std::size_t n) override {
    stream_mean_forward_cuda(out, a, b, n, s_);
  }
  void stream_mean_backward(float* da, float* db, const float* dout, std::size_t n) override {
    stream_mean_backward_cuda(da, db, dout, n, s_);
  }

  void gram_forward(float* G, const float* E, int B, int T, int D) override {
    gram_forward_cuda(G, E, B, T, D, s_);
  }
  void gram_backward(float* dE, const float* dG, const float* E, int B, int T, int D) override {
    gram_backward_cuda(dE, dG, E, B, T, D, s_);
  }
  void signed_sqrt_l2_forward(float* v, float* norm, const float* c, int B, int n, double eps) override {
    signed_sqrt_l2_forward_cuda(v, norm, c, B, n, eps, s_);
  }
  void signed_sqrt_l2_backward(float* dc, const float* dv, const float* v, const float* norm, const float* c, int B,
                               int n, double eps) override {
    signed_sqrt_l2_backward_cuda(dc, dv, v, norm, c, B, n, eps, s_);
  }

  void outer_add_forward(float* out, const float* e, const float* s, const float* a, int B, int T, int D) override {
    outer_add_forward_cuda(out, e, s, a, B, T, D, s_);
  }
  void outer_add_backward(float* de, float* ds, float* da, const float* g, const float* s, const float* a, int B,
                          int T, int D) override {
    outer_add_backward_cuda(de, ds, da, g, s, a, B, T, D, s_);
  }
  void complement_scale_forward(float* out, const float* x, const float* a, int B, int T, int C) override {
    complement_scale_forward_cuda(out, x, a, B, T, C, s_);
  }
  void complement_scale_backward(float* dx, float* da, const float* g, const float* x, const float* a, int B, int T,
                                 int C) override {
    complement_scale_backward_cuda(dx, da, g, x, a, B, T, C, s_);
  }

  void roll_mix_forward(float* out, const float* x, int B, std::size_t n, RollMix mode) override {
    roll_mix_forward_cuda(out, x, B, n, mode, s_);
  }
  void dropout_forward(float* out, const float* x, std::size_t n, double p, const DropoutKey& key,
                       std::size_t group) override {
    dropout_forward_cuda(out, x, n, p, key, s_, group);
  }
  void dropout_backward(float* dx, const float* g, std::size_t n, double p, const DropoutKey& key,
                        std::size_t group) override {
    dropout_backward_cuda(dx, g, n, p, key, s_, group);
  }

  void topk_mil_forward(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                        const float* rgb, int B, int T, int C, int k) override {
    topk_mil_forward_cuda(cas_top, topk_idx, combined, cas, flow, rgb, B, T, C, k, s_);
  }
  void topk_mil_weighted_forward(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                                 const float* rgb, const MilSelection& sel, int B, int T, int C, int k) override {
    topk_mil_weighted_forward_cuda(cas_top, topk_idx, combined, cas, flow, rgb, sel, B, T, C, k, s_);
  }
  void topk_mil_backward(float* dcas, const float* dcas_top, const int* topk_idx, int B, int T, int C,
                         int k) override {
    topk_mil_backward_cuda(dcas, dcas_top, topk_idx, B, T, C, k, s_);
  }
  void pseudo_label_forward(float* y, const int* topk_idx, const float* labels, int B, int T, int C,
                            int k) override {
    pseudo_label_forward_cuda(y, topk_idx, labels, B, T, C, k, s_);
  }
  void snippet_select_forward(int* ca, int* cb, int* ia, int* ib, const float* a1, const float* a2, int B, int T,
                              int k) override {
    snippet_select_forward_cuda(ca, cb, ia, ib, a1, a2, B, T, k, s_);
  }

  void topk_mask_forward(float* mask, const float* score, int B, int T, int k, bool intersect) override {
    topk_mask_forward_cuda(mask, score, B, T, k, intersect, s_);
  }
  void relu_row_sum_forward(float* out, const float* in, int N, int C) override {
    relu_row_sum_forward_cuda(out, in, N, C, s_);
  }
  void confidence_mask_forward(float* m, double* state, const float* cas, int N, int C, double momentum,
                               double var_scale) override {
    confidence_mask_forward_cuda(m, state, cas, N, C, momentum, var_scale, s_);
  }
  void stream_mix_forward(float* out, const float* a, const float* b, double wa, double wb, std::size_t n) override {
    stream_mix_forward_cuda(out, a, b, wa, wb, n, s_);
  }
  void stream_mix_backward(float* da, float* db, const float* dout, double wa, double wb, std::size_t n) override {
    stream_mix_backward_cuda(da, db, dout, wa, wb, n, s_);
  }

  void video_ce_forward(float* loss, const float* logits, const float* labels, int B, int C) override {
    video_ce_forward_cuda(loss, logits, labels, B, C, s_);
  }
  void video_ce_backward(float* dlogits, float dloss, const float* logits, const float* labels, int B,
                         int C) override {
    video_ce_backward_cuda(dlogits, dloss, logits, labels, B, C, s_);
  }
  void gce_forward(float* loss, const float* p, const float* y, int B, int T, double q, const float* m) override {
    gce_forward_cuda(loss, p, y, B, T, q, s_, m);
  }
  void gce_backward(float* dp, float dloss, const float* p, const float* y, int B, int T, double q,
                    const float* m) override {
    gce_backward_cuda(dp, dloss, p, y, B, T, q, s_, m);
  }
  void kl_uniform_forward(float* loss, const float* z, int B, int C) override {
    kl_uniform_forward_cuda(loss, z, B, C, s_);
  }
  void kl_uniform_backward(float* dz, float dloss, const float* z, int B, int C) override {
    kl_uniform_backward_cuda(dz, dloss, z, B, C, s_);
  }
  void mse_forward(float* loss, const float* a, const float* b, std::size_t n) override {
    mse_forward_cuda(loss, a, b, n, s_);
  }
  void mse_backward(float* da, float* db, float dloss, const float* a, const float* b, std::size_t n) override {
    mse_backward_cuda(da, db, dloss, a, b, n, s_);
  }
  void infonce_forward(float* loss, const float* emb, const int* ca, const int* cb, const int* ia, const int* ib,
                       int B, int T, int D, int k, double tau) override {
    infonce_forward_cuda(loss, emb, ca, cb, ia, ib, B, T, D, k, tau, nullptr, s_);
  }
  void infonce_backward(float* demb, float dloss, const float* emb, const int* ca, const int* cb, const int* ia,
                        const int* ib, int B, int T, int D, int k, double tau) override {
    infonce_backward_cuda(demb, dloss, emb, ca, cb, ia, ib, B, T, D, k, tau, s_);
  }

  bool adam_step(float* param, const float* grad, float* m, float* v, std::size_t n, double lr, double beta1,
                 double beta2, double eps, double weight_decay, long step) override {
    adam_step_cuda(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, step, s_);
    return true;  // not known without a read-back; the weights are checked when downloaded
  }
  bool sgd_step(float* param, const float* grad, float* mom, std::size_t n, double lr, double momentum,
                double weight_decay, long step) override {
    sgd_step_cuda(param, grad, mom, n, lr, momentum, weight_decay, step, s_);
    return true;
  }

  // ==== begin FTCL DP losses ====
  void fsd_dp_forward(float* value, const float* m, const float* g, int P, int L, double gamma) override {
    fsd_dp_forward_cuda(value, m, g, P, L, gamma, s_);
  }
  void fsd_dp_backward(float* dm, float* dg, const float* dvalue, const float* m, const float* g, int P, int L,
                       double gamma) override {
    fsd_dp_backward_cuda(dm, dg, dvalue, m, g, P, L, gamma, s_);
  }
  void lcs_dp_forward(float* value, const float* S, int P, int L, float tau, bool stage_a) override {
    lcs_dp_forward_cuda(value, S, P, L, tau, stage_a, s_);
  }
  void lcs_dp_backward(float* dS, const float* dvalue, const float* S, int P, int L, float tau,
                       bool stage_a) override {
    lcs_dp_backward_cuda(dS, dvalue, S, P, L, tau, stage_a, s_);
  }
  // ==== end FTCL DP losses ====

  // ==== begin FTCL / ACM-Net ops ====
  void softmax_rows_forward(float* out, const float* x, int N, int C) override {
    softmax_rows_forward_cuda(out, x, N, C, s_);
  }
  void softmax_rows_backward(float* dx, const float* g, const float* p, int N, int C) override {
    softmax_rows_backward_cuda(dx, g, p, N, C, s_);
  }
  void row_scale_forward(float* out, const float* x, const float* a, int stride, int col, int N, int C) override {
    row_scale_forward_cuda(out, x, a, stride, col, N, C, s_);
  }
  void row_scale_backward(float* dx, float* da, const float* g, const float* x, const float* a, int stride, int col,
                          int N, int C) override {
    row_scale_backward_cuda(dx, da, g, x, a, stride, col, N, C, s_);
  }
  void branch_ce_forward(float* loss, const float* logits, const float* labels, int B, int K, BranchTarget target,
                         double eps) override {
    branch_ce_forward_cuda(loss, logits, labels, B, K, target, eps, s_);
  }
  void branch_ce_backward(float* dlogits, float dloss, const float* logits, const float* labels, int B, int K,
                          BranchTarget target, double eps) override {
    branch_ce_backward_cuda(dlogits, dloss, logits, labels, B, K, target, eps, s_);
  }
  void guide_loss_forward(float* loss, const float* p, const float* att, int B, int T, int C, int A) override {
    guide_loss_forward_cuda(loss, p, att, B, T, C, A, s_);
  }
  void guide_loss_backward(float* dp, float dloss, const float* p, const float* att, int B, int T, int C,
                           int A) override {
    guide_loss_backward_cuda(dp, dloss, p, att, B, T, C, A, s_);
  }
  void att_sparsity_forward(float* loss, const float* att, int B, int T, int A, int cols) override {
    att_sparsity_forward_cuda(loss, att, B, T, A, cols, s_);
  }
  void att_sparsity_backward(float* datt, float dloss, int B, int T, int A, int cols) override {
    att_sparsity_backward_cuda(datt, dloss, B, T, A, cols, s_);
  }
  void feat_norm_loss_forward(float* loss, const float* f, int B, int D, double margin) override {
    feat_norm_loss_forward_cuda(loss, f, B, D, margin, s_);
  }
  void feat_norm_loss_backward(float* df, float dloss, const float* f, int B, int D, double margin) override {
    feat_norm_loss_backward_cuda(df, dloss, f, B, D, margin, s_);
  }
  void rank_select_forward(int* idx, int ld, const float* score, int stride, int col, int B, int T, int r0, int n,
                           bool time_order) override {
    rank_select_forward_cuda(idx, ld, score, stride, col, B, T, r0, n, time_order, s_);
  }
  void gather_rows_forward(float* out, const float* x, const int* idx, int ld, int B, int T, int D, int n,
                           bool mean) override {
    gather_rows_forward_cuda(out, x, idx, ld, B, T, D, n, mean, s_);
  }
  void gather_rows_backward(float* dx, const float* dout, const int* idx, int ld, int B, int T, int D, int n,
                            bool mean) override {
    gather_rows_backward_cuda(dx, dout, idx, ld, B, T, D, n, mean, s_);
  }
  void cosine_pairs_forward(float* S, const float* X, int rows, int ld, int c0, int w, const int* ra, const int* rb,
                            int P, int L) override {
    cosine_pairs_forward_cuda(S, X, rows, ld, c0, w, ra, rb, P, L, s_);
  }
  void cosine_pairs_backward(float* dX, const float* dS, const float* X, int rows, int ld, int c0, int w, const int* ra,
                             const int* rb, int P, int L) override {
    cosine_pairs_backward_cuda(dX, dS, X, rows, ld, c0, w, ra, rb, P, L, s_);
  }
  void pair_contrast_forward(float* loss, const float* value, const int* pos, int P, double eps) override {
    pair_contrast_forward_cuda(loss, value, pos, P, eps, s_);
  }
  void pair_contrast_backward(float* dvalue, float dloss, const int* pos, int P, double eps) override {
    pair_contrast_backward_cuda(dvalue, dloss, pos, P, eps, s_);
  }
  // ==== end FTCL / ACM-Net ops ====

 private:
  CudaStream s_;
};

}  // namespace

Ops& cuda_ops() {
  static CudaOps ops;
  return ops;
}

}  // namespace aicl

// The entry points the runtime looks up with dlsym (core/runtime/device.cpp).
extern "C" {
int aicl_cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}
aicl::Ops* aicl_cuda_ops() { return &aicl::cuda_ops(); }
void aicl_cuda_set_tf32(int on) {
  aicl::set_cuda_math_mode(on ? aicl::CudaMathMode::tf32 : aicl::CudaMathMode::fp32);
}
// "NAME (compute capability M.m, N MiB), driver D, runtime R" of the current device, for provenance records.
const char* aicl_cuda_device_description() {
  static char text[256];
  int dev = 0, driver = 0, runtime = 0;
  cudaDeviceProp p{};
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
    cudaGetLastError();
    return "unknown CUDA device";
  }
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  std::snprintf(text, sizeof text, "%s (compute capability %d.%d, %zu MiB), driver %d.%d, runtime %d.%d", p.name,
                p.major, p.minor, p.totalGlobalMem >> 20, driver / 1000, driver % 1000 / 10, runtime / 1000,
                runtime % 1000 / 10);
  return text;
}
}
