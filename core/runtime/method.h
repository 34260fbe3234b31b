// The interface every method implements (its parameters, hyper-parameters, loss names, batch forming, state, one
// training step and inference), written once against the op table so that it runs on every device.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/base/rng.h"
#include "core/runtime/parameters.h"
#include "kernels/ops.h"

namespace aicl {

class H5File;

// What a method is built for: the dataset's classes and feature layout (core/runtime never reads a dataset).
struct MethodContext {
  int num_classes = 20;
  int feature_dim = 2048;
  std::vector<int> stream_widths = {1024, 1024};  // concatenated per row (THUMOS14: RGB, then flow)
  std::string profile;  // the dataset profile's name ("" when unknown); a method may pick its defaults by it
};

// The parameters as a method's step sees them: the layout (names, shapes, offsets) and the device buffers.
struct ParamView {
  const ParameterSet* layout = nullptr;
  float* values = nullptr;
  float* grads = nullptr;  // null at inference
  const float* value(int i) const { return values + layout->tensor(i).offset; }
  float* grad(int i) const { return grads + layout->tensor(i).offset; }
};

// One training batch on the device: x [B,T,feature_dim], labels [B,C]; labels_host is the host copy.
struct StepBatch {
  const float* x = nullptr;
  const float* labels = nullptr;
  const float* labels_host = nullptr;
  int B = 0, T = 0;
  long step = 0;  // 1-based optimizer step
  unsigned long long seed = 0;  // the run's seed (keys of counter-based draws such as dropout masks)
};

// Inference outputs on the device, valid until the next call: video [B, video_outputs()] (raw, before the
// method's normalisation) and the localization activation [B,T,C].
struct InferScores {
  const float* video = nullptr;
  const float* activation = nullptr;
  // Floats per row of `activation` (0: C). A method whose activation has more columns (e.g. a background column
  // last) gives its width; post-processing reads the first C of each row.
  int activation_stride = 0;
  // Optional per-segment attention [B,T,attention_stride], its column 0 the localization attention; needed by the
  // post-processing kinds that threshold an attention (PostprocessConfig::kind "acm"), null otherwise.
  const float* attention = nullptr;
  int attention_stride = 1;
};

// A method's activations and scratch, allocated through the op table it was made for.
class Workspace {
 public:
  virtual ~Workspace() = default;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  // The hyper-parameters (every settable key with its value): written into config.json and checkpoints.
  virtual json config() const = 0;
  // The parameter layout in the official state_dict order (values unused; may be layout-only: a copy of it gets
  // buffers, see ParameterSet::finalize_layout).
  virtual const ParameterSet& layout() const = 0;
  virtual void init_params(ParameterSet& p, unsigned long long seed) const { p.init_uniform(seed); }

  // Loss names: [0] is the total ("loss"), then the reported terms (metrics.jsonl keys, in this order).
  virtual const std::vector<std::string>& loss_names() const = 0;
  // A step writes num_loss_slots() raw floats; losses() turns them into values aligned with loss_names().
  virtual int num_loss_slots() const = 0;
  virtual std::vector<double> losses(const float* slots) const = 0;

  virtual int min_segments() const = 0;  // the smallest T the method's top-k sizes allow
  // The smallest T inference can score. A test video sampled to fewer segments (a profile whose test_sampling
  // keeps short videos whole) gets no detections, as the official code's NaN scores give none.
  virtual int min_infer_segments() const { return min_segments(); }
  // Host checks of a batch before it is queued (every video has a label, T large enough): one-line errors.
  virtual void check_batch(const float* labels_host, int B, int T) const = 0;
  // The units an epoch shuffles, `--batch` of them per step: every training video alone by default (an empty
  // result). A method training on groups of videos (FTCL stage B: pairs) returns them, drawn from `rng` (seeded by
  // the run's seed, so a resumed run draws the same); labels[i] is videos[i]'s label row [num_classes].
  virtual std::vector<std::vector<size_t>> training_units(const std::vector<size_t>& videos,
                                                          const std::vector<const float*>& labels, int num_classes,
                                                          Rng& rng) const {
    (void)videos, (void)labels, (void)num_classes, (void)rng;
    return {};
  }
  // Turns the next units of the epoch, flattened, into the batch (e.g. pairs (a, b) into [a..., b...]).
  virtual void form_batch(std::vector<size_t>& videos, Rng& rng) const {
    (void)videos;
    (void)rng;
  }
  // Whether a step whose loss is not finite is skipped (no update; the official FTCL loop checks isnan before
  // backward) instead of stopping the run. The trainer logs each skip and stops after a few in a row.
  virtual bool skips_nonfinite_steps() const { return false; }
  // The stages a training runs by default when its config names neither stages nor a "stage" (TrainOptions::stages
  // format: [{"name": ..., "method_config": {...}, ...}]); null: one run.
  virtual json default_stages() const { return json(); }
  // Whether every training video keeps one temporal sampling for the whole run (drawn from the run's seed and the
  // video), as a dataset sampled once at construction does (FTCL stage B, quirk Q4), instead of one per batch.
  virtual bool frozen_sampling() const { return false; }

  virtual std::unique_ptr<Workspace> make_workspace(Ops& ops) const = 0;
  // Forward and backward of one step: gradients ACCUMULATED into p.grads (zeroed by the caller), raw loss
  // terms written to the device array loss_slots. Nothing is read back.
  virtual void forward_backward(Ops& ops, const ParamView& p, const StepBatch& batch, Workspace& ws,
                                float* loss_slots) = 0;

  virtual int video_outputs() const = 0;
  virtual InferScores infer(Ops& ops, const ParamView& p, const float* x, int B, int T, Workspace& ws) const = 0;
  // One video's raw scores [video_outputs()] -> class scores [C] (normalised, background dropped), on the host.
  virtual void video_scores(const float* raw, float* scores) const = 0;
  // Per-method post-processing settings on top of the dataset profile's, by PostprocessConfig field name
  // (e.g. {"nms_alpha": 0.3}); core/eval applies them (apply_postprocess_overrides). A method declares its
  // post-processing here too: {"kind": "acm", "att_thresh": {"arange": [...]}, ...} (default kind "oic"), and may
  // set the test sampling rule ("test_sampling") its official inference uses.
  virtual json postprocess_overrides() const { return json::object(); }

  // Training state beyond the parameters and the optimizer (EMA statistics, RNG streams, stages), kept in
  // checkpoints under `group`.
  virtual void save_state(H5File& f, const std::string& group) const {
    (void)f;
    (void)group;
  }
  virtual void load_state(const H5File& f, const std::string& group) {
    (void)f;
    (void)group;
  }
  // Brings state that steps keep on the device (in `ws`) back into the method before save_state reads it.
  virtual void pull_state(Workspace& ws) { (void)ws; }

  // One step on given weights and batch files, written in the layout of the method's official-code oracle
  // (aicl_train --parity-step). Methods without an oracle say so.
  virtual void parity_step(const std::string& weights, const std::string& batch, const std::string& out) const;
};

// "method '<name>' does not take the key '<k>'"-style checks for a method's config reader: every key of `j` must
// be in `known`; `source` names where the JSON came from.
void check_config_keys(const json& j, const std::vector<std::string>& known, const std::string& source);

// A method config's "variant" key: "thumos14" or "activitynet" (anything else an error naming `source` and the
// method), or `fallback` (the method's choice for the dataset profile) when the config has none.
std::string config_variant(const json& config, const std::string& fallback, const std::string& method,
                           const std::string& source);

// The RGB stream's width of a two-stream dataset (RGB then flow, as AICL and SAL read it); fails naming `source`
// and the method when the dataset has another number of streams or an RGB width that leaves no flow channels.
int rgb_stream_width(const MethodContext& ctx, const std::string& method, const std::string& source);

// Fails naming the step and the first loss term that is not finite.
void check_losses_finite(long step, const std::vector<std::string>& names, const std::vector<double>& values);
// The name of the first loss term that is not finite ("total" for [0]), or "" when all are.
std::string first_nonfinite_loss(const std::vector<std::string>& names, const std::vector<double>& values);

}  // namespace aicl
