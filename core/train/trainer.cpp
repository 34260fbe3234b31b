// The training loop for any method: batches, one optimizer step each, periodic evaluation, checkpoints.
#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <unistd.h>


#include "core/base/error.h"
#include "core/base/rng.h"
#include "core/eval/localize.h"
#include "core/methods/registry.h"
#include "core/runtime/backend.h"
#include "core/runtime/device.h"
#include "core/runtime/sampling.h"
#include "core/runtime/weights.h"
#include "core/train/checkpoint.h"
#include "core/train/provenance.h"
#include "core/train/run_data.h"
#include "core/train/run_dir.h"
#include "data/dataset.h"
#include "kernels/gemm.h"

namespace aicl {

namespace fs = std::filesystem;

json TrainOptions::to_json() const {
  return json{{"data", data},         {"run_dir", run_dir},       {"steps", steps},
              {"batch", batch},       {"segments", segments},     {"infer_segments", infer_segments},
              {"lr", lr},             {"weight_decay", weight_decay}, {"optimizer", optimizer},
              {"momentum", momentum}, {"seed", seed},             {"eval_every", eval_every},
              {"eval_start", eval_start},
              {"threads", threads},   {"val_fraction", val_fraction}, {"select", select},
              {"init_weights", init_weights}, {"replay_batches", replay_batches},
              {"checkpoint_every", checkpoint_every},
              {"device", device},     {"precision", precision}, {"log_every", log_every}, {"method", method},
              {"method_config", method_config}, {"train_sampling", train_sampling}, {"stages", stages}};
}

TrainOptions TrainOptions::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) fail(source + ": the config must be a JSON object");
  TrainOptions o;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    auto need = [&](bool ok, const char* what) {
      if (!ok) fail(source + ": key '" + k + "' must be " + what);
    };
    auto get_int = [&](int& dst) {
      need(v.is_number_integer(), "an integer");
      // Unsigned JSON integers above INT64_MAX fail the signed test too; nothing is silently narrowed.
      need(v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max())
                                  : v.get<int64_t>() >= std::numeric_limits<int>::min() &&
                                        v.get<int64_t>() <= std::numeric_limits<int>::max(),
           "an integer within the int range");
      dst = v.get<int>();
    };
    auto get_real = [&](double& dst) {
      need(v.is_number(), "a number");
      dst = v.get<double>();
    };
    auto get_str = [&](std::string& dst) {
      need(v.is_string(), "a string");
      dst = v.get<std::string>();
    };
    if (k == "data") get_str(o.data);
    else if (k == "run_dir") get_str(o.run_dir);
    else if (k == "steps") get_int(o.steps);
    else if (k == "batch") get_int(o.batch);
    else if (k == "segments") get_int(o.segments);
    else if (k == "infer_segments") get_int(o.infer_segments);
    else if (k == "train_sampling") get_str(o.train_sampling);
    else if (k == "lr") get_real(o.lr);
    else if (k == "weight_decay") get_real(o.weight_decay);
    else if (k == "optimizer") get_str(o.optimizer);
    else if (k == "momentum") get_real(o.momentum);
    else if (k == "seed") get_int(o.seed);
    else if (k == "eval_every") get_int(o.eval_every);
    else if (k == "eval_start") get_int(o.eval_start);
    else if (k == "threads") get_int(o.threads);
    else if (k == "val_fraction") get_real(o.val_fraction);
    else if (k == "select") get_str(o.select);
    else if (k == "init_weights") get_str(o.init_weights);
    else if (k == "replay_batches") get_str(o.replay_batches);
    else if (k == "checkpoint_every") get_int(o.checkpoint_every);
    else if (k == "device") get_str(o.device);
    else if (k == "precision") get_str(o.precision);
    else if (k == "log_every") get_int(o.log_every);
    else if (k == "method") get_str(o.method);
    else if (k == "method_config") {
      need(v.is_object() || v.is_null(), "a JSON object");
      o.method_config = v;
    }
    else if (k == "stages") {
      need(v.is_null() || (v.is_array() && !v.empty()), "a non-empty list of stages");
      o.stages = v;
    }
    else fail(source + ": unknown key '" + k + "'");
  }
  return o;
}

namespace {

void validate(TrainOptions& o) {
  if (o.data.empty()) fail("--data: required");
  if (o.run_dir.empty()) fail("--run-dir: required");
  if (o.steps < 1) fail("--steps: must be >= 1");
  if (o.batch < 1) fail("--batch: must be >= 1");
  if (o.segments < 1) fail("--segments: must be >= 1");
  if (o.infer_segments == 0) o.infer_segments = o.segments;
  if (o.infer_segments < 1) fail("--infer-segments: must be >= 1");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail("--lr: must be a positive finite number");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) fail("--weight-decay: must be >= 0");
  if (o.optimizer != "adam" && o.optimizer != "sgd") fail("--optimizer: must be 'adam' or 'sgd'");
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) fail("--val-fraction: must be in [0, 1)");
  if (o.eval_every < 0) fail("--eval-every: must be >= 0");
  if (o.eval_start < 0) fail("--eval-start: must be >= 0");
  if (o.checkpoint_every < 1) fail("--checkpoint-every: must be >= 1");
  if (o.select.empty()) o.select = o.val_fraction > 0 ? "val" : "last";
  if (o.select != "val" && o.select != "test" && o.select != "last" && o.select != "all")
    fail("--select: must be val, test, last or all");
  if ((o.select == "val" || o.select == "all") && o.val_fraction <= 0)
    fail("--select " + o.select + ": needs --val-fraction > 0");
  if (o.log_every < 1) fail("--log-every: must be >= 1");
  if (!o.train_sampling.empty() && !DatasetProfile::known_train_sampling(o.train_sampling))
    fail("--train-sampling: must be random_perturb or random_sample (or empty: the dataset profile's)");
  check_device_option(o.device, "--device");
  check_precision_option(o.device, o.precision, "--precision");
}

// The segment counts against the method's smallest T (its top-k sizes).
void validate_for_method(const TrainOptions& o, const Method& m) {
  const int t = m.min_segments();
  if (o.segments < t)
    fail("--segments: must be >= " + std::to_string(t) + " for method " + m.name() + " (its top-k sizes would be 0)");
  if (o.infer_segments < t) fail("--infer-segments: must be >= " + std::to_string(t) + " for method " + m.name());
}

// One training run: the state the loop carries and its pieces (batch, losses, evaluation, checkpoint).
class TrainRun {
 public:
  TrainRun(TrainOptions o, Dataset& ds)
      : o_(std::move(o)), ds_(ds), data_rng_(static_cast<uint64_t>(o_.seed) * 0x9E3779B97F4A7C15ull + 1),
        split_(split_run_videos(ds, o_.val_fraction, data_rng_)),
        method_(make_method(o_.method, method_context(ds), o_.method_config, "method_config")),
        post_(postprocess_for(ds, *method_)), params_(method_->layout()) {
    o_.method_config = method_->config();
    validate_for_method(o_, *method_);
    make_units();
    if (static_cast<size_t>(o_.batch) > unit_ids_.size())
      fail("--batch: " + std::to_string(o_.batch) + " is larger than the " + std::to_string(unit_ids_.size()) +
           (units_.empty() ? " training videos" : " training units (" + method_->name() + " trains on groups)"));
    if ((o_.select == "test" || o_.select == "all") && split_.test.empty())
      fail(o_.data + ": --select " + o_.select + " but the dataset has no test videos");
    if (!o_.replay_batches.empty())  // checked before the run directory is written
      replay_ = load_replay_batches(o_.replay_batches, ds_, split_.train, o_.segments, o_.batch, o_.steps);
  }

  json run();

 private:
  void start();
  TrainBackendSetup backend_setup() const;
  void make_units();
  void next_batch(int& b_now);
  void fill_batch(int& b_now, const std::function<std::vector<int>(int, size_t)>& segments);
  void read_losses(long step, bool log_line);
  void evaluate(long step);
  void evaluate_on(long step, const EvalTarget& tgt, double& best, long& best_step, const std::string& file);
  json test_report(const std::string& weights, json* dets);
  void sync_state(long step);
  json finish();
  InferenceModel inference() { return InferenceModel{method_.get(), &backend_->ops(), backend_->params()}; }
  VideoFeatures features() { return VideoFeatures{&backend_->features(), &fc_.offset}; }

  struct PendingStep {
    long step, epoch;
    int batch;
    bool skipped;
  };
  void note_skip(long step, const std::string& term);

  TrainOptions o_;
  Dataset& ds_;
  Rng data_rng_;
  RunSplit split_;
  std::unique_ptr<Method> method_;
  PostprocessConfig post_;
  ParameterSet params_;
  std::vector<float> m_, v_;
  FeatureCache fc_;
  LoopState st_;
  std::unique_ptr<TrainBackend> backend_;
  std::string metrics_path_, ckpt_path_;
  std::vector<PendingStep> pending_;
  std::vector<size_t> rows_, batch_videos_;
  std::vector<ReplayBatch> replay_;  // --replay-batches: step s's batch is replay_[s - 1]
  // What an epoch permutes: the training videos (units_ empty), or the indices of the method's units of videos.
  std::vector<std::vector<size_t>> units_;
  std::vector<size_t> unit_ids_;
  size_t max_unit_ = 1;
  std::vector<float> labels_;
  json provenance_;  // the run's record (core/train/provenance.h), made at start
  bool tty_ = false;
  long first_step_ = 1;
  int skips_in_row_ = 0;
  long skipped_steps_ = 0;  // this process's skipped (non-finite) steps, reported in eval.json
  std::chrono::steady_clock::time_point t_start_, window_start_;
};

TrainBackendSetup TrainRun::backend_setup() const {
  TrainBackendSetup setup;
  setup.optimizer = o_.optimizer;
  setup.lr = o_.lr;
  setup.weight_decay = o_.weight_decay;
  setup.momentum = o_.momentum;
  setup.max_batch = o_.batch * static_cast<int>(max_unit_);
  setup.segments = o_.segments;
  setup.loss_window = o_.log_every;
  setup.num_classes = ds_.num_classes();
  setup.seed = static_cast<unsigned long long>(o_.seed);
  setup.feature_rows = fc_.rows.data();
  setup.num_rows = fc_.rows.size() / static_cast<size_t>(fc_.dim);
  setup.feature_dim = fc_.dim;
  return setup;
}

void TrainRun::start() {
  metrics_path_ = o_.run_dir + "/metrics.jsonl";
  ckpt_path_ = o_.run_dir + "/checkpoint.h5";
  write_json_file(o_.run_dir + "/config.json", o_.to_json());
  write_json_file(o_.run_dir + "/split.json", split_json(ds_, split_));
  fc_ = load_features(ds_);
  provenance_ = provenance(ProvenanceInput{method_->name(), method_->config(), &ds_, o_.device, o_.precision,
                                           o_.threads, o_.seed, o_.init_weights});
  if (!o_.init_weights.empty()) load_weights(o_.init_weights, params_, method_->name());
  else method_->init_params(params_, static_cast<unsigned long long>(o_.seed));
  m_.assign(params_.size(), 0.0f);
  if (o_.optimizer == "adam") v_.assign(params_.size(), 0.0f);
  if (o_.resume) {
    load_checkpoint(ckpt_path_, *method_, params_, m_, v_, o_.optimizer == "adam", data_rng_, st_);
    truncate_metrics(metrics_path_, st_.step);
    if (!o_.quiet) std::printf("aicl_train: resuming %s at step %ld\n", o_.run_dir.c_str(), st_.step);
  } else {
    write_file_atomic(metrics_path_, "");
  }
  set_device_precision(o_.device, o_.precision, "--precision");
  backend_ = std::make_unique<TrainBackend>(ops_for_device(o_.device, "--device"), *method_, params_, m_, v_,
                                            backend_setup());
  tty_ = ::isatty(STDOUT_FILENO) == 1;
  first_step_ = st_.step + 1;
  if (!o_.quiet)
    std::printf("aicl_train: %s, %zu training videos, %zu validation, %zu test; B=%d T=%d steps=%d %s lr=%g on %s%s\n",
                method_->name().c_str(), split_.train.size(), split_.val.size(), split_.test.size(), o_.batch,
                o_.segments, o_.steps, o_.optimizer.c_str(), o_.lr, o_.device.c_str(),
                o_.precision == "tf32" ? " (TF32)" : "");
}

// The method's training units (drawn from their own stream of the run's seed: the same on resume), or none.
void TrainRun::make_units() {
  std::vector<const float*> labels;
  for (size_t v : split_.train) labels.push_back(ds_.video(v).labels.data());
  Rng rng(static_cast<uint64_t>(o_.seed) * 0xD1B54A32D192ED03ull + 0x5EED);
  units_ = method_->training_units(split_.train, labels, ds_.num_classes(), rng);
  unit_ids_.clear();
  if (units_.empty()) unit_ids_ = split_.train;
  for (size_t u = 0; u < units_.size(); ++u) {
    AICL_CHECK(!units_[u].empty(), "method " + method_->name() + " returned an empty training unit");
    unit_ids_.push_back(u);
    max_unit_ = std::max(max_unit_, units_[u].size());
  }
}

// The next batch as rows of the bulk feature table and labels (sampling drawn on the host, the same on every
// device). Epochs as the official DataLoader(shuffle=True, drop_last=False): a fresh permutation, a short last batch.
void TrainRun::next_batch(int& b_now) {
  if (!replay_.empty()) {  // --replay-batches: the recorded videos and segment indices as they are, no draw
    const ReplayBatch& r = replay_.at(static_cast<size_t>(st_.step));
    batch_videos_ = r.videos;
    return fill_batch(b_now, [&](int b, size_t) { return r.indices[b]; });
  }
  if (st_.cursor >= st_.order.size()) {
    st_.order = unit_ids_;
    for (size_t i = st_.order.size(); i > 1; --i) std::swap(st_.order[i - 1], st_.order[data_rng_.below(i)]);
    st_.cursor = 0;
    ++st_.epoch;
  }
  const size_t n = std::min<size_t>(o_.batch, st_.order.size() - st_.cursor);
  batch_videos_.clear();
  for (size_t k = st_.cursor; k < st_.cursor + n; ++k) {
    if (units_.empty()) batch_videos_.push_back(st_.order[k]);
    else batch_videos_.insert(batch_videos_.end(), units_.at(st_.order[k]).begin(), units_.at(st_.order[k]).end());
  }
  st_.cursor += n;
  method_->form_batch(batch_videos_, data_rng_);
  const std::string& rule = o_.train_sampling.empty() ? ds_.profile().train_sampling : o_.train_sampling;
  fill_batch(b_now, [&](int, size_t vi) {
    Rng frozen(static_cast<uint64_t>(o_.seed) * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(vi) + 1) * 0xBF58476D1CE4E5B9ull);
    return sample_train_segments(rule, fc_.length[vi], o_.segments, method_->frozen_sampling() ? frozen : data_rng_);
  });
}

// The feature rows and labels of batch_videos_, row b's T segment indices from segments(b, video) (called in order).
void TrainRun::fill_batch(int& b_now, const std::function<std::vector<int>(int, size_t)>& segments) {
  const int T = o_.segments, C = ds_.num_classes();
  b_now = static_cast<int>(batch_videos_.size());
  rows_.resize(static_cast<size_t>(b_now) * T);
  labels_.assign(static_cast<size_t>(b_now) * C, 0.0f);
  for (int b = 0; b < b_now; ++b) {
    const size_t vi = batch_videos_[b];
    const std::vector<int> idx = segments(b, vi);
    for (int t = 0; t < T; ++t) rows_[static_cast<size_t>(b) * T + t] = fc_.offset[vi] + static_cast<size_t>(idx[t]);
    std::copy(ds_.video(vi).labels.begin(), ds_.video(vi).labels.end(), labels_.begin() + static_cast<size_t>(b) * C);
  }
}

// Reads the losses of the pending steps: metrics lines, the non-finite check, the progress line. On a terminal one
// line is rewritten in place every step; otherwise (logs, pipes) a plain line every --log-every steps.
void TrainRun::read_losses(long step, bool log_line) {
  const std::vector<std::vector<double>> losses = backend_->take_losses();
  AICL_CHECK(losses.size() == pending_.size(), "training backend returned the wrong number of losses");
  const std::vector<std::string>& names = method_->loss_names();
  // On the GPU the steps of a window are not timed one by one: each gets the window's mean.
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start_).count() /
                      static_cast<double>(pending_.size());
  for (size_t i = 0; i < losses.size(); ++i) {
    if (!pending_[i].skipped) check_losses_finite(pending_[i].step, names, losses[i]);
    json line{{"step", pending_[i].step}, {"epoch", pending_[i].epoch}, {"batch", pending_[i].batch}};
    if (pending_[i].skipped) line["skipped"] = true;
    for (size_t k = 0; k < names.size(); ++k) line[names[k]] = losses[i][k];
    line["lr"] = o_.lr;
    line["seconds"] = secs;
    append_line(metrics_path_, line);
  }
  pending_.clear();
  if (o_.quiet || !(log_line || tty_)) return;
  const std::vector<double>& L = losses.back();
  std::string terms;
  char num[32];
  for (size_t k = 1; k < names.size(); ++k) {
    std::snprintf(num, sizeof(num), "%.4g", L[k]);
    terms += (k > 1 ? " " : "") + names[k] + " " + num;
  }
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start_).count();
  const double rate = static_cast<double>(step - first_step_ + 1) / std::max(el, 1e-9);
  const long eta = std::lround(static_cast<double>(o_.steps - step) / rate);
  std::printf("%sstep %5ld/%d  loss %.4f (%s)  %.2f steps/s  eta %ld:%02ld:%02ld%s", tty_ ? "\r\033[K" : "", step,
              o_.steps, L[0], terms.c_str(), rate, eta / 3600, eta / 60 % 60, eta % 60,
              tty_ && step != o_.steps ? "" : "\n");
  std::fflush(stdout);
}

// Downloads the device state (a no-op on the CPU) before anything reads the host weights or moments.
void TrainRun::sync_state(long step) {
  backend_->sync_to_host();
  // A queued device cannot check gradients without reading them back; its weights are checked when downloaded.
  if (!backend_->ops().synchronous()) check_buffer_finite(step, params_, params_.values.data(), "parameter");
}

// One evaluation for model selection: a metrics line, and `file` rewritten when the average mAP beats `best`.
void TrainRun::evaluate_on(long step, const EvalTarget& tgt, double& best, long& best_step, const std::string& file) {
  json rep = run_evaluation(inference(), ds_, features(), tgt, o_.infer_segments, post_, nullptr);
  const double metric = rep["average_mAP"];
  append_line(metrics_path_, json{{"step", step}, {"eval", tgt.name}, {"mAP", rep["mAP"]}, {"tiou", rep["tiou"]},
                                  {"average_mAP", metric}, {"cls_acc", rep["cls_acc"]}});
  if (!o_.quiet)
    std::printf("%seval step %ld on %s: average mAP %.2f\n", tty_ && step != o_.steps ? "\n" : "", step,
                tgt.name.c_str(), 100 * metric);
  if (metric > best) {
    best = metric;
    best_step = step;
    sync_state(step);
    save_weights(o_.run_dir + "/" + file, params_, method_->name(), method_->config());
  }
}

// best.h5 follows the run's rule (val for --select all); --select all also keeps the best on test in best_test.h5.
void TrainRun::evaluate(long step) {
  const EvalTarget& tgt = o_.select == "test" ? split_.test_target : split_.val_target;
  evaluate_on(step, tgt, st_.best_metric, st_.best_step, "best.h5");
  if (o_.select == "all") evaluate_on(step, split_.test_target, st_.best_test_metric, st_.best_test_step, "best_test.h5");
}

// A step the method skipped (its loss not finite): one line naming the step, the term and the batch's videos; a few
// in a row stop the run (the data or the weights are broken, not one unlucky pair).
void TrainRun::note_skip(long step, const std::string& term) {
  constexpr int kMaxSkipsInRow = 5;
  ++skipped_steps_;
  std::string videos;
  for (size_t i = 0; i < batch_videos_.size() && i < 8; ++i) videos += (i ? ", " : "") + ds_.video(batch_videos_[i]).name;
  if (batch_videos_.size() > 8) videos += ", ...";
  std::fprintf(stderr, "aicl_train: step %ld skipped (no update): loss term '%s' is not finite; batch: %s\n", step,
               term.c_str(), videos.c_str());
  if (++skips_in_row_ > kMaxSkipsInRow)
    fail("step " + std::to_string(step) + ": loss term '" + term + "' is not finite for " +
         std::to_string(skips_in_row_) + " steps in a row; stopping (last checkpoint kept)");
}

json TrainRun::run() {
  start();
  t_start_ = std::chrono::steady_clock::now();
  for (long step = first_step_; step <= o_.steps; ++step) {
    if (pending_.empty()) window_start_ = std::chrono::steady_clock::now();
    int b_now = 0;
    next_batch(b_now);
    const std::string skipped = backend_->step(rows_, labels_, b_now, o_.segments, step);
    pending_.push_back({step, st_.epoch, b_now, !skipped.empty()});
    if (!skipped.empty()) note_skip(step, skipped);
    else skips_in_row_ = 0;
    const bool do_eval =
        (o_.eval_every > 0 && step >= o_.eval_start && step % o_.eval_every == 0) || step == o_.steps;
    const bool do_checkpoint = do_eval || step % o_.checkpoint_every == 0;
    const bool log_line = step % o_.log_every == 0 || step == 1 || step == o_.steps;
    if (backend_->ops().synchronous() || log_line || do_checkpoint) read_losses(step, log_line);
    if (do_eval && o_.select != "last") evaluate(step);
    st_.step = step;
    if (do_checkpoint) {
      sync_state(step);
      save_checkpoint(ckpt_path_, o_.to_json(), *method_, params_, m_, v_, data_rng_, st_, provenance_);
    }
  }
  return finish();
}

// The test-split report of the weights in `weights` (loaded into the backend; "" = the current ones); detections
// into *dets if given.
json TrainRun::test_report(const std::string& weights, json* dets) {
  if (!weights.empty()) {
    load_weights(weights, params_, method_->name());
    backend_->params_changed_on_host();
  }
  if (split_.test.empty()) return json::object();
  return run_evaluation(inference(), ds_, features(), split_.test_target, o_.infer_segments, post_, dets);
}

const char* selection_note(const std::string& rule) {
  return rule == "test"  ? "best on TEST (official protocol; optimistic)"
         : rule == "val" ? "best on held-out training videos (honest)"
                         : "last step (no selection)";
}

// The selected weights on the test split: detections.json and eval.json. --select all reports the three rules
// (by_rule), the held-out one at the top level.
json TrainRun::finish() {
  if (o_.select == "last" || o_.select == "all") {
    sync_state(o_.steps);
    save_weights(o_.run_dir + (o_.select == "last" ? "/best.h5" : "/last.h5"), params_, method_->name(),
                 method_->config());
    if (o_.select == "last") st_.best_step = o_.steps;
  }
  json by_rule;
  if (o_.select == "all") {
    auto brief = [](const json& r, long step, double metric) {
      return json{{"mAP", r.value("mAP", json::array())}, {"average_mAP", r.value("average_mAP", 0.0)},
                  {"step", step}, {"metric", metric}};
    };
    by_rule["last"] = brief(test_report(o_.run_dir + "/last.h5", nullptr), o_.steps, -1.0);
    by_rule["test"] = brief(test_report(o_.run_dir + "/best_test.h5", nullptr), st_.best_test_step,
                            st_.best_test_metric);
  }
  json dets;
  json report = test_report(o_.select == "last" ? "" : o_.run_dir + "/best.h5", split_.test.empty() ? nullptr : &dets);
  if (!split_.test.empty()) write_json_file(o_.run_dir + "/detections.json", dets, -1);
  const std::string rule = o_.select == "all" ? "val" : o_.select;
  report["selection"] = {{"rule", rule}, {"step", st_.best_step}, {"metric", st_.best_metric},
                         {"note", selection_note(rule)}};
  if (o_.select == "all") {
    by_rule["val"] = json{{"mAP", report.value("mAP", json::array())},
                          {"average_mAP", report.value("average_mAP", 0.0)},
                          {"step", st_.best_step},
                          {"metric", st_.best_metric}};
    for (auto it = by_rule.begin(); it != by_rule.end(); ++it) it.value()["note"] = selection_note(it.key());
    report["by_rule"] = by_rule;
  }
  report["method"] = method_->name();
  report["steps"] = o_.steps;
  if (skipped_steps_ > 0) report["skipped_steps"] = skipped_steps_;
  report["provenance"] = provenance_;
  report["provenance"]["selection"] = report["selection"];
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start_).count();
  write_json_file(o_.run_dir + "/eval.json", report);
  return report;
}

}  // namespace

TrainOptions load_run_options(const std::string& run_dir) {
  const std::string path = run_dir + "/config.json";
  if (!fs::exists(path)) fail(run_dir + ": not a run directory (no config.json)");
  return TrainOptions::from_json(read_json_file(path), path);
}

json train_one(const TrainOptions& options) {
  TrainOptions o = options;
  if (!o.stages.is_null()) fail("train_one: options with stages (use train)");
  validate(o);
  if (o.threads > 0) set_num_threads(o.threads);
  std::error_code ec;
  fs::create_directories(o.run_dir, ec);
  if (ec || access(o.run_dir.c_str(), W_OK) != 0) fail(o.run_dir + ": run directory cannot be created or written");
  RunLock lock(o.run_dir);
  const std::string ckpt_path = o.run_dir + "/checkpoint.h5";
  if (o.resume && !fs::exists(ckpt_path)) {
    // Killed before its first checkpoint (a preempted cluster job, say): nothing of it is worth keeping, so the
    // run starts over from its config, which gives what an uninterrupted run gives.
    if (!fs::exists(o.run_dir + "/config.json")) fail(o.run_dir + ": nothing to resume (no checkpoint.h5, no config.json)");
    std::fprintf(stderr, "aicl_train: %s has no checkpoint yet (stopped before its first): starting it over from its "
                 "config.json\n", o.run_dir.c_str());
    o.resume = false;
  }
  if (!o.resume && fs::exists(ckpt_path))
    fail(o.run_dir + ": already holds a run (use --resume to continue it, or another --run-dir)");
  Dataset ds(o.data);
  TrainRun run(o, ds);
  return run.run();
}

}  // namespace aicl
