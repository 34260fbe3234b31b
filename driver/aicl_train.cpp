// aicl_train: train a method (AICL by default) on a dataset, or run one parity step; parses flags and calls core/.
#include <cstdio>
#include <string>

#include "core/methods/registry.h"
#include "core/base/cli.h"
#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/seeds.h"
#include "core/train/trainer.h"

static const char* kHelp = R"(aicl_train: train a weakly-supervised temporal action localization method on the CPU or a GPU.

usage:
  aicl_train --data D.h5 --run-dir RUN [options]
  aicl_train --config cfg.json [options that override it]
  aicl_train --resume RUN [--steps N]
  aicl_train --seeds 1-5 --data D.h5 --run-dir RUN [options]
  aicl_train --parity-step [--method NAME] [--method-config F] [--stage S] --weights W.h5 --batch B.h5 --out O.h5

options (defaults are the official AICL settings):
  --method NAME        the method to train (aicl | sal | ftcl); its hyper-parameters are recorded in RUN/config.json,
                       checkpoints and weights files
  --method-config F    a JSON object of the method's hyper-parameters (e.g. {"gce_q": 0.7}); unknown keys are errors
  --stage S            shorthand for the method config key "stage" (methods trained in stages, e.g. ftcl a | b);
                       a method without stages refuses it
  --steps N            optimizer steps (2000)
  --batch N            videos per batch (16)
  --segments T         segments per video after sampling (750); at least the method's top-k sizes allow (AICL: 20, SAL: 19)
  --infer-segments T   segments for inference (= --segments)
  --train-sampling R   how a training video becomes T rows: random_perturb | random_sample (default: the dataset
                       profile's, e.g. random_sample for anet13; core/runtime/sampling.h)
  --lr X               learning rate (1e-4)
  --weight-decay X     L2 decay added to the gradient, as torch Adam (5e-4)
  --optimizer NAME     adam | sgd (adam)
  --seed N             seed of the weight init and the data order (1)
  --seeds LIST         one run per seed (1-5, 1,3,7 or 1-3,9) into RUN/seed-<S>, then RUN/summary.json and
                       summary.md: mAP per tIoU and average as mean ± std [min, max] per selection rule, beside the
                       paper's number (core/train/paper_numbers.json) and the gap in standard deviations. Finished
                       seeds are read, unfinished ones resumed: rerun the same command after a preemption
  --jobs N             with --seeds: N seeds at once, each a child process with threads / N threads (its output in
                       RUN/seed-<S>.log), one progress line for the set (1: one after the other, in this process)
  --eval-every N       evaluate every N steps for model selection (50; 0 = at the end only)
  --eval-start N       no evaluation before step N (0); the official SAL run starts after its first epoch
  --val-fraction F     hold out F of the training videos for honest model selection (0)
  --select RULE        val (best on held-out training videos), test (official: best on the test split),
                       last (no selection), all (the three side by side: best.h5 by val, best_test.h5, last.h5;
                       eval.json's by_rule; needs --val-fraction); default val with --val-fraction, else last
  --init-weights W.h5  start from these weights (official state_dict keys) instead of a random init
  --replay-batches F   diagnostic: each step's videos and segment indices from F (JSON {"steps": [{"videos": [...],
                       "indices": [[T ints], ...]}, ...]}) instead of drawn, e.g. another trainer's data stream
                       (tools/sal_official_train.py --record-batches writes one)
  --threads N          CPU threads for BLAS and OpenMP (all cores)
  --device NAME        cpu | cuda (cpu). cuda runs the whole step on the GPU (features, weights, Adam state and
                       activations stay on the device; needs a CUDA build and a device). Steps are queued without
                       waiting, so a non-finite loss is noticed at the next loss read (every --log-every steps,
                       evaluation or checkpoint) and the weights are checked when a checkpoint downloads them
  --precision P        fp32 | tf32 (fp32). tf32 (--device cuda only) runs every cuBLAS GEMM of the step on tensor
                       cores, as PyTorch's cuDNN convs do by default: faster, ~1e-3 relative error per GEMM; fp32
                       is what the parity tests check
  --log-every N        progress line every N steps (10); with --device cuda the losses are read only then
  --checkpoint-every N write RUN/checkpoint.h5 every N steps and at every evaluation (50)
  --resume RUN         continue a killed run from RUN/checkpoint.h5 with RUN/config.json (--steps may extend
                       it); on the CPU with the same thread count the result is bitwise identical. A run
                       stopped before its first checkpoint starts over from RUN/config.json (same result)
  --config cfg.json    every option above as a JSON key (snake_case: run_dir, weight_decay, ...); configs/ holds the
                       official schedules (e.g. configs/sal-thumos14-official.json)
  --quiet              no progress lines

outputs in RUN: config.json (resolved), metrics.jsonl (a line per step and per evaluation), checkpoint.h5,
best.h5, detections.json (test split), eval.json (mAP per tIoU, selection rule).

examples:
  aicl_data synth --out synth.h5
  aicl_train --data synth.h5 --run-dir runs/a --steps 300 --segments 128 --val-fraction 0.2
  aicl_train --data thumos14.h5 --run-dir runs/gpu --device cuda --select test
  aicl_train --parity-step --weights W.h5 --batch B.h5 --out ours.h5
)";

int main(int argc, char** argv) {
  return aicl::run_cli("aicl_train", [&]() -> int {
    aicl::Flags f(argc, argv, 1,
                  {"data", "run-dir", "steps", "batch", "segments", "infer-segments", "train-sampling", "lr", "weight-decay",
                   "optimizer", "seed", "eval-every", "eval-start", "val-fraction", "select", "init-weights", "replay-batches", "threads", "config",
                   "weights", "out", "momentum", "checkpoint-every", "resume", "device", "log-every", "method",
                   "method-config", "precision", "seeds", "stage", "jobs"},
                  {"help", "parity-step", "quiet"});
    if (f.has("help")) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (!f.positional().empty()) aicl::fail("unexpected argument '" + f.positional()[0] + "' (see --help)");
    if (f.has("parity-step")) {
      // The official code's dimensions (THUMOS14: 20 classes, 2 x 1024 channels); the batch file is checked against them.
      // --method-config selects the method's hyper-parameters (e.g. SAL's {"variant": "activitynet"}).
      aicl::json config;
      if (f.has("method-config")) {
        config = aicl::read_json_file(f.str("method-config", ""));
        if (!config.is_object()) aicl::fail("--method-config: " + f.str("method-config", "") + " must hold a JSON object");
      }
      if (f.has("stage")) config["stage"] = f.str("stage", "");
      const auto method = aicl::make_method(f.str("method", "aicl"), aicl::MethodContext{}, config, "--method-config");
      method->parity_step(f.required("weights"), f.required("batch"), f.required("out"));
      return 0;
    }
    aicl::TrainOptions o;
    if (f.has("jobs") && !f.has("seeds")) aicl::fail("--jobs: only with --seeds");
    if (f.has("seeds"))
      for (const char* bad : {"seed", "resume"})
        if (f.has(bad)) aicl::fail(std::string("--seeds: cannot be combined with --") + bad);
    if (f.has("resume")) {
      for (const char* bad : {"config", "data", "run-dir", "batch", "segments", "seed", "lr", "optimizer", "method",
                              "method-config", "train-sampling", "stage"})
        if (f.has(bad)) aicl::fail(std::string("--") + bad + ": cannot be changed when resuming (see RUN/config.json)");
      o = aicl::load_run_options(f.str("resume", ""));
      o.run_dir = f.str("resume", "");
      o.resume = true;
    } else if (f.has("config")) o = aicl::TrainOptions::from_json(aicl::read_json_file(f.str("config", "")), f.str("config", ""));
    o.data = f.str("data", o.data);
    o.run_dir = f.str("run-dir", o.run_dir);
    o.steps = f.integer("steps", o.steps, 1, 100000000);
    o.batch = f.integer("batch", o.batch, 1, 4096);
    o.segments = f.integer("segments", o.segments, aicl::smallest_min_segments(), 1000000);
    o.infer_segments = f.integer("infer-segments", o.infer_segments, aicl::smallest_min_segments(), 1000000);
    o.train_sampling = f.str("train-sampling", o.train_sampling);
    o.method = f.str("method", o.method);
    if (f.has("method-config")) {
      o.method_config = aicl::read_json_file(f.str("method-config", ""));
      if (!o.method_config.is_object()) aicl::fail("--method-config: " + f.str("method-config", "") + " must hold a JSON object");
    }
    if (f.has("stage")) {
      if (o.method_config.is_null()) o.method_config = aicl::json::object();
      o.method_config["stage"] = f.str("stage", "");
    }
    o.lr = f.real("lr", o.lr, 1e-12, 10);
    o.weight_decay = f.real("weight-decay", o.weight_decay, 0, 10);
    o.optimizer = f.str("optimizer", o.optimizer);
    o.momentum = f.real("momentum", o.momentum, 0, 0.999999);
    o.seed = f.integer("seed", o.seed, 0, 2147483647);
    o.eval_every = f.integer("eval-every", o.eval_every, 0, 100000000);
    o.eval_start = f.integer("eval-start", o.eval_start, 0, 100000000);
    o.val_fraction = f.real("val-fraction", o.val_fraction, 0, 0.95);
    o.select = f.str("select", o.select);
    o.init_weights = f.str("init-weights", o.init_weights);
    o.replay_batches = f.str("replay-batches", o.replay_batches);
    o.threads = f.integer("threads", o.threads, 0, 1024);
    o.checkpoint_every = f.integer("checkpoint-every", o.checkpoint_every, 1, 100000000);
    o.device = f.str("device", o.device);
    o.precision = f.str("precision", o.precision);
    o.log_every = f.integer("log-every", o.log_every, 1, 100000000);
    o.quiet = f.has("quiet");
    if (f.has("seeds")) {
      const int jobs = f.integer("jobs", 1, 1, 64);
      const aicl::json summary =
          aicl::train_seeds(o, aicl::parse_seed_list(f.str("seeds", ""), "--seeds"), jobs, "/proc/self/exe");
      std::printf("\n%s\nwrote %s/summary.json, summary.md and summary.html\n", aicl::seed_summary_table(summary).c_str(),
                  o.run_dir.c_str());
      return 0;
    }
    aicl::json rep = aicl::train(o);
    std::printf("final (%s): average mAP %.2f\n", rep["selection"]["rule"].get<std::string>().c_str(),
                rep.contains("average_mAP") ? 100 * rep["average_mAP"].get<double>() : 0.0);
    return 0;
  });
}
