// The training loop: batches from a dataset, one optimizer step per batch, periodic evaluation, run directory.
#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/methods/aicl/aicl_model.h"
#include "core/base/error.h"
#include "core/eval/evaluator.h"
#include "core/base/h5.h"
#include "core/eval/localize.h"
#include "core/base/rng.h"
#include "core/runtime/sampling.h"
#include "core/runtime/train_backend.h"
#include "core/runtime/weights.h"
#include "data/dataset.h"
#include "kernels/gemm.h"

namespace aicl {

namespace fs = std::filesystem;

json TrainOptions::to_json() const {
  return json{{"data", data},         {"run_dir", run_dir},       {"steps", steps},
              {"batch", batch},       {"segments", segments},     {"infer_segments", infer_segments},
              {"lr", lr},             {"weight_decay", weight_decay}, {"optimizer", optimizer},
              {"momentum", momentum}, {"seed", seed},             {"eval_every", eval_every},
              {"threads", threads},   {"val_fraction", val_fraction}, {"select", select},
              {"init_weights", init_weights}, {"checkpoint_every", checkpoint_every},
              {"device", device},     {"log_every", log_every}};
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
    else if (k == "lr") get_real(o.lr);
    else if (k == "weight_decay") get_real(o.weight_decay);
    else if (k == "optimizer") get_str(o.optimizer);
    else if (k == "momentum") get_real(o.momentum);
    else if (k == "seed") get_int(o.seed);
    else if (k == "eval_every") get_int(o.eval_every);
    else if (k == "threads") get_int(o.threads);
    else if (k == "val_fraction") get_real(o.val_fraction);
    else if (k == "select") get_str(o.select);
    else if (k == "init_weights") get_str(o.init_weights);
    else if (k == "checkpoint_every") get_int(o.checkpoint_every);
    else if (k == "device") get_str(o.device);
    else if (k == "log_every") get_int(o.log_every);
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
  if (o.segments < 20) fail("--segments: must be >= 20 (AICL picks T/20 snippets; T/20 would be 0)");
  if (o.infer_segments == 0) o.infer_segments = o.segments;
  if (o.infer_segments < 20) fail("--infer-segments: must be >= 20");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail("--lr: must be a positive finite number");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) fail("--weight-decay: must be >= 0");
  if (o.optimizer != "adam" && o.optimizer != "sgd") fail("--optimizer: must be 'adam' or 'sgd'");
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) fail("--val-fraction: must be in [0, 1)");
  if (o.eval_every < 0) fail("--eval-every: must be >= 0");
  if (o.checkpoint_every < 1) fail("--checkpoint-every: must be >= 1");
  if (o.select.empty()) o.select = o.val_fraction > 0 ? "val" : "last";
  if (o.select != "val" && o.select != "test" && o.select != "last") fail("--select: must be val, test or last");
  if (o.select == "val" && o.val_fraction <= 0) fail("--select val: needs --val-fraction > 0");
  if (o.log_every < 1) fail("--log-every: must be >= 1");
  check_device_option(o.device, "--device");
}

// Features of every used video, loaded once (the dataset is small enough: THUMOS14 is ~1.1 GB).
struct FeatureCache {
  std::vector<float> rows;
  std::vector<size_t> offset;  // per dataset video index, in rows
  std::vector<int> length;
  int dim = 0;
};

FeatureCache load_features(const Dataset& ds) {
  FeatureCache fc;
  fc.dim = ds.feature_dim();
  fc.rows.resize(ds.total_segments() * static_cast<size_t>(fc.dim));
  ds.read_all_features(fc.rows.data());
  for (size_t i = 0; i < ds.num_videos(); ++i) {
    fc.offset.push_back(ds.row_offset(i));
    fc.length.push_back(ds.video(i).num_segments);
  }
  for (size_t i = 0; i < fc.rows.size(); ++i)
    if (!std::isfinite(fc.rows[i])) {
      size_t row = i / fc.dim, v = 0;
      while (v + 1 < fc.offset.size() && fc.offset[v + 1] <= row) ++v;
      fail(ds.path() + ": video '" + ds.video(v).name + "' has a non-finite feature at segment " +
           std::to_string(row - fc.offset[v]) + ", channel " + std::to_string(i % fc.dim));
    }
  return fc;
}

// The ground truth of a subset restricted to the given videos (for honest validation on held-out videos).
json restrict_gt(const json& gt, const Dataset& ds, const std::vector<size_t>& videos) {
  json out = gt;
  json db = json::object();
  for (size_t i : videos) {
    const std::string& name = ds.video(i).name;
    db[name] = gt["database"].at(name);
  }
  out["database"] = db;
  return out;
}

struct EvalTarget {
  std::string name;             // "val" or "test"
  std::vector<size_t> videos;   // dataset indices
  json gt;                      // ground truth covering them
  std::string subset;           // subset key inside gt
};

json run_evaluation(TrainBackend& backend, const Dataset& ds, const EvalTarget& target, int T,
                    json* detections_out) {
  LocalizeResult res = backend.localize(ds, target.videos, T, PostprocessConfig());
  // A class without ground truth in the target makes the official evaluator fail (KeyError). For model selection
  // on a small held-out set that is expected, so such detections are dropped here and counted in the report.
  std::set<std::string> gt_labels;
  for (const auto& [name, entry] : target.gt["database"].items())
    if (entry.value("subset", "") == target.subset)
      for (const auto& a : entry["annotations"]) gt_labels.insert(a["label"].get<std::string>());
  size_t dropped = 0;
  for (auto& [name, list] : res.detections["results"].items()) {
    json kept = json::array();
    for (auto& d : list) {
      if (gt_labels.count(d["label"].get<std::string>())) kept.push_back(std::move(d));
      else ++dropped;
    }
    list = std::move(kept);
  }
  EvalOptions eo;
  eo.subset = target.subset;
  eo.gt_name = ds.path();
  eo.detections_name = "detections";
  EvalReport rep = evaluate_detection(target.gt, res.detections, eo);
  json j = report_to_json(rep);
  j["cls_acc"] = res.class_accuracy;
  j["dropped_detections_without_gt_class"] = dropped;
  j["evaluated_on"] = target.name;
  if (detections_out) *detections_out = std::move(res.detections);
  return j;
}

void append_line(const std::string& path, const json& j) {
  std::ofstream out(path, std::ios::app);
  out << j.dump() << "\n";
  if (!out) fail(path + ": cannot append (disk full?)");
}

// Everything a resumed run needs besides the options: the loop position, optimizer moments, RNG, selection.
struct LoopState {
  long step = 0;              // steps done
  long epoch = -1;
  size_t cursor = 0;          // position in `order`
  std::vector<size_t> order;  // this epoch's permutation of the training videos
  double best_metric = -1;
  long best_step = 0;
};

constexpr const char* kCheckpointFormat = "aicl-checkpoint-1";

void save_checkpoint(const std::string& path, const TrainOptions& o, const ParameterSet& params,
                     const std::vector<float>& m, const std::vector<float>& v, const Rng& rng, const LoopState& st) {
  write_atomic_with(path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    write_params_to(f, "params", params);
    const int64_t n = static_cast<int64_t>(params.size());
    f.write_floats("optimizer/m", m.data(), {n});
    f.write_floats("optimizer/v", v.data(), {n});
    std::vector<int64_t> rng_state(4), order(st.order.begin(), st.order.end());
    for (int i = 0; i < 4; ++i) rng_state[i] = static_cast<int64_t>(rng.state()[i]);
    f.write_ints("rng/data", rng_state.data(), {4});
    f.write_ints("loop/order", order.data(), {static_cast<int64_t>(order.size())});
    f.set_attr_string("/", "format", kCheckpointFormat);
    f.set_attr_string("/", "config", o.to_json().dump());
    f.set_attr_double("/", "step", static_cast<double>(st.step));
    f.set_attr_double("/", "epoch", static_cast<double>(st.epoch));
    f.set_attr_double("/", "cursor", static_cast<double>(st.cursor));
    f.set_attr_double("/", "best_metric", st.best_metric);
    f.set_attr_double("/", "best_step", static_cast<double>(st.best_step));
    f.set_attr_string("/", "complete", "yes");  // written last: a file without it is not a checkpoint
  });
}

void load_checkpoint(const std::string& path, ParameterSet& params, std::vector<float>& m, std::vector<float>& v,
                     Rng& rng, LoopState& st) {
  H5File f = H5File::open_read(path);
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != kCheckpointFormat)
    fail(path + ": not an aicl checkpoint (format attribute missing or not " + std::string(kCheckpointFormat) + ")");
  if (!f.has_attr("/", "complete")) fail(path + ": incomplete checkpoint");
  read_params_from(f, "params", params);
  m = f.read_floats("optimizer/m");
  v = f.read_floats("optimizer/v");
  if (m.size() != params.size() || v.size() != params.size()) fail(path + ": optimizer state has the wrong size");
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
  if (st.cursor > st.order.size()) fail(path + ": inconsistent loop position");
}

// Keeps the metrics lines of steps <= last_step (a resumed run rewrites what came after its checkpoint).
void truncate_metrics(const std::string& path, long last_step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step")) continue;  // a torn last line from a killed run
    if (j["step"].get<long>() <= last_step) kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

// An exclusive lock on RUN/.lock for the life of the run (released by the OS when the process dies).
class RunLock {
 public:
  explicit RunLock(const std::string& run_dir) {
    const std::string path = run_dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0) fail(run_dir + ": cannot create the lock file (" + std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fail(run_dir + ": run directory is in use by another aicl_train");
    }
  }
  ~RunLock() { ::close(fd_); }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

TrainOptions load_run_options(const std::string& run_dir) {
  const std::string path = run_dir + "/config.json";
  if (!fs::exists(path)) fail(run_dir + ": not a run directory (no config.json)");
  return TrainOptions::from_json(read_json_file(path), path);
}

json train(const TrainOptions& options) {
  TrainOptions o = options;
  validate(o);
  if (o.threads > 0) set_num_threads(o.threads);
  std::error_code ec;
  fs::create_directories(o.run_dir, ec);
  if (ec || access(o.run_dir.c_str(), W_OK) != 0) fail(o.run_dir + ": run directory cannot be created or written");
  RunLock lock(o.run_dir);
  const std::string metrics_path = o.run_dir + "/metrics.jsonl", ckpt_path = o.run_dir + "/checkpoint.h5";
  if (o.resume && !fs::exists(ckpt_path)) fail(o.run_dir + ": nothing to resume (no checkpoint.h5)");
  if (!o.resume && fs::exists(ckpt_path))
    fail(o.run_dir + ": already holds a run (use --resume to continue it, or another --run-dir)");
  write_json_file(o.run_dir + "/config.json", o.to_json());

  Dataset ds(o.data);
  AiclConfig mcfg;
  if (ds.feature_dim() != mcfg.feature_dim)
    fail(o.data + ": features have " + std::to_string(ds.feature_dim()) + " channels, AICL needs " +
         std::to_string(mcfg.feature_dim));
  if (ds.num_classes() != mcfg.num_classes) mcfg.num_classes = ds.num_classes();
  std::vector<size_t> train_videos = ds.subset_indices("validation");
  const std::vector<size_t> test_videos = ds.subset_indices("test");
  if (train_videos.empty()) fail(o.data + ": no training videos (subset 'validation')");
  for (size_t i : train_videos) {
    const VideoInfo& v = ds.video(i);
    if (v.num_segments <= 0) fail(o.data + ": training video '" + v.name + "' has zero segments");
    if (std::none_of(v.labels.begin(), v.labels.end(), [](float l) { return l != 0; }))
      fail(o.data + ": training video '" + v.name + "' has no label (weak supervision needs one)");
  }

  Rng data_rng(static_cast<uint64_t>(o.seed) * 0x9E3779B97F4A7C15ull + 1);
  std::vector<size_t> val_videos;
  if (o.val_fraction > 0) {
    std::vector<size_t> perm = train_videos;
    for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[data_rng.below(i)]);
    size_t n_val = std::max<size_t>(1, static_cast<size_t>(std::lround(o.val_fraction * perm.size())));
    if (n_val >= perm.size()) fail("--val-fraction: leaves no training videos");
    val_videos.assign(perm.begin(), perm.begin() + n_val);
    train_videos.assign(perm.begin() + n_val, perm.end());
    std::sort(val_videos.begin(), val_videos.end());
    std::sort(train_videos.begin(), train_videos.end());
  }
  if (static_cast<size_t>(o.batch) > train_videos.size())
    fail("--batch: " + std::to_string(o.batch) + " is larger than the " + std::to_string(train_videos.size()) +
         " training videos");

  const FeatureCache fc = load_features(ds);
  const json gt_all = ds.ground_truth_json();
  EvalTarget test_target{"test", test_videos, gt_all, "test"};
  EvalTarget val_target{"val", val_videos, val_videos.empty() ? json() : restrict_gt(gt_all, ds, val_videos),
                        "validation"};
  if (o.select == "test" && test_videos.empty()) fail(o.data + ": --select test but the dataset has no test videos");

  AiclModel model(mcfg);
  ParameterSet& params = model.params();
  if (!o.init_weights.empty()) load_weights(o.init_weights, params);
  else params.init_uniform(static_cast<unsigned long long>(o.seed));
  std::vector<float> m(params.size(), 0.0f), v(params.size(), 0.0f);

  const int B = o.batch, T = o.segments, C = mcfg.num_classes;
  LoopState st;
  if (o.resume) {
    load_checkpoint(ckpt_path, params, m, v, data_rng, st);
    truncate_metrics(metrics_path, st.step);
    if (!o.quiet) std::printf("aicl_train: resuming %s at step %ld\n", o.run_dir.c_str(), st.step);
  } else {
    write_file_atomic(metrics_path, "");
  }
  const bool on_gpu = o.device == "cuda";
  TrainBackendSetup setup;
  setup.config = mcfg;
  setup.optimizer = o.optimizer;
  setup.lr = o.lr;
  setup.weight_decay = o.weight_decay;
  setup.momentum = o.momentum;
  setup.max_batch = B;
  setup.segments = T;
  setup.loss_window = o.log_every;
  setup.feature_rows = fc.rows.data();
  setup.num_rows = fc.rows.size() / static_cast<size_t>(fc.dim);
  setup.feature_dim = fc.dim;
  setup.row_offset = fc.offset;
  std::unique_ptr<TrainBackend> backend;
  if (on_gpu) {
#ifdef AICL_HAVE_CUDA
    backend = make_cuda_train_backend(setup, params, m, v);
#endif
  } else {
    backend = make_cpu_train_backend(setup, model, m, v);
  }
  AICL_CHECK(backend != nullptr, "--device: no training backend for '" + o.device + "'");
  // Downloads the GPU state (a no-op on the CPU) before anything reads the host weights or moments.
  auto sync_state = [&](long step) {
    backend->sync_to_host();
    // The GPU backend cannot check gradients without reading them back; its weights are checked when downloaded.
    if (on_gpu) check_buffer_finite(step, params, params.values, "parameter");
  };
  std::vector<size_t>& order = st.order;
  size_t& cursor = st.cursor;
  long& epoch = st.epoch;
  double& best_metric = st.best_metric;
  long& best_step = st.best_step;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const auto t_start = std::chrono::steady_clock::now();
  if (!o.quiet)
    std::printf("aicl_train: %zu training videos, %zu validation, %zu test; B=%d T=%d steps=%d %s lr=%g on %s\n",
                train_videos.size(), val_videos.size(), test_videos.size(), B, T, o.steps, o.optimizer.c_str(), o.lr,
                o.device.c_str());

  // Steps whose losses have not been read yet (the CPU reads after every step, the GPU every log_every steps).
  struct PendingStep {
    long step, epoch;
    int batch;
  };
  std::vector<PendingStep> pending;
  auto window_start = std::chrono::steady_clock::now();
  std::vector<size_t> rows;
  std::vector<float> labels;
  const long first_step = st.step + 1;
  for (long step = first_step; step <= o.steps; ++step) {
    if (pending.empty()) window_start = std::chrono::steady_clock::now();
    // Epochs as the official DataLoader(shuffle=True, drop_last=False): a fresh permutation, a short last batch.
    if (cursor >= order.size()) {
      order = train_videos;
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[data_rng.below(i)]);
      cursor = 0;
      ++epoch;
    }
    const int b_now = static_cast<int>(std::min<size_t>(B, order.size() - cursor));
    // The batch as rows of the bulk feature table (sampling drawn on the host, the same on every device).
    rows.resize(static_cast<size_t>(b_now) * T);
    labels.assign(static_cast<size_t>(b_now) * C, 0.0f);
    for (int b = 0; b < b_now; ++b) {
      const size_t vi = order[cursor + b];
      const std::vector<int> idx = random_perturb(fc.length[vi], T, data_rng);
      for (int t = 0; t < T; ++t) rows[static_cast<size_t>(b) * T + t] = fc.offset[vi] + static_cast<size_t>(idx[t]);
      std::copy(ds.video(vi).labels.begin(), ds.video(vi).labels.end(), labels.begin() + static_cast<size_t>(b) * C);
    }
    cursor += b_now;

    backend->step(rows, labels, b_now, T, step);
    pending.push_back({step, epoch, b_now});
    const bool do_eval = (o.eval_every > 0 && step % o.eval_every == 0) || step == o.steps;
    const bool do_checkpoint = do_eval || step % o.checkpoint_every == 0;
    const bool log_line = step % o.log_every == 0 || step == 1 || step == o.steps;
    if (!on_gpu || log_line || do_checkpoint) {
      const std::vector<AiclLosses> losses = backend->take_losses();
      AICL_CHECK(losses.size() == pending.size(), "training backend returned the wrong number of losses");
      // On the GPU the steps of a window are not timed one by one: each gets the window's mean.
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count() /
                          static_cast<double>(pending.size());
      for (size_t i = 0; i < losses.size(); ++i) {
        const AiclLosses& L = losses[i];
        check_losses_finite(pending[i].step, L);
        append_line(metrics_path, json{{"step", pending[i].step}, {"epoch", pending[i].epoch},
                                       {"batch", pending[i].batch}, {"loss", L.total},
                                       {"action", L.action},      {"agnostic", L.agnostic},
                                       {"modality", L.modality},  {"contrast", L.contrast},
                                       {"consistency", L.consistency}, {"lr", o.lr},
                                       {"seconds", secs}});
      }
      // On a terminal one progress line is rewritten in place every step; otherwise (logs, pipes) a plain
      // line every --log-every steps.
      if (!o.quiet && (log_line || tty)) {
        const AiclLosses& L = losses.back();
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        const double rate = static_cast<double>(step - first_step + 1) / std::max(el, 1e-9);
        const long eta = std::lround(static_cast<double>(o.steps - step) / rate);
        std::printf("%sstep %5ld/%d  loss %.4f (ce %.4f gce %.4f mod %.5f nce %.3f cons %.5f)  %.2f steps/s  "
                    "eta %ld:%02ld:%02ld%s",
                    tty ? "\r\033[K" : "", step, o.steps, L.total, L.action, L.agnostic, L.modality, L.contrast,
                    L.consistency, rate, eta / 3600, eta / 60 % 60, eta % 60, tty && step != o.steps ? "" : "\n");
        std::fflush(stdout);
      }
      pending.clear();
    }

    if (do_eval && o.select != "last") {
      const EvalTarget& tgt = o.select == "val" ? val_target : test_target;
      json rep = run_evaluation(*backend, ds, tgt, o.infer_segments, nullptr);
      const double metric = rep["average_mAP"];
      append_line(metrics_path, json{{"step", step}, {"eval", tgt.name}, {"mAP", rep["mAP"]},
                                     {"tiou", rep["tiou"]}, {"average_mAP", metric}, {"cls_acc", rep["cls_acc"]}});
      if (!o.quiet)
        std::printf("%seval step %ld on %s: average mAP %.2f\n", tty && step != o.steps ? "\n" : "", step,
                    tgt.name.c_str(), 100 * metric);
      if (metric > best_metric) {
        best_metric = metric;
        best_step = step;
        sync_state(step);
        save_weights(o.run_dir + "/best.h5", params);
      }
    }
    st.step = step;
    if (do_checkpoint) {
      sync_state(step);
      save_checkpoint(ckpt_path, o, params, m, v, data_rng, st);
    }
  }
  if (o.select == "last") {
    best_step = o.steps;
    sync_state(o.steps);
    save_weights(o.run_dir + "/best.h5", params);
  } else {
    load_weights(o.run_dir + "/best.h5", params);
    backend->params_changed_on_host();
  }

  // Final: the selected weights on the test split.
  json report;
  if (!test_videos.empty()) {
    json dets;
    report = run_evaluation(*backend, ds, test_target, o.infer_segments, &dets);
    write_json_file(o.run_dir + "/detections.json", dets, -1);
  }
  report["selection"] = {{"rule", o.select}, {"step", best_step}, {"metric", best_metric},
                         {"note", o.select == "test" ? "best on TEST (official protocol; optimistic)"
                                  : o.select == "val" ? "best on held-out training videos (honest)"
                                                      : "last step (no selection)"}};
  report["steps"] = o.steps;
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  write_json_file(o.run_dir + "/eval.json", report);
  return report;
}

}  // namespace aicl
