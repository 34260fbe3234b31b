// Evaluator speed, in process: parsing (DOM and streaming) + scoring 20,000 detections against a THUMOS14-sized
// ground truth.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "core/eval/evaluator.h"
#include "core/eval/json_fast_reader.h"

namespace {

// A synthetic ground truth shaped like THUMOS14 test (212 videos, ~3,400 instances, 20 classes) and
// 20,000 detections, half near a GT instance, half random; deterministic (splitmix64).
struct Inputs {
  aicl::ordered_json gt, dets;
};

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs x;
    std::uint64_t s = 42;
    auto uniform = [&] { return static_cast<double>(splitmix(s) >> 11) / 9007199254740992.0; };
    aicl::ordered_json db = aicl::ordered_json::object();
    std::vector<std::pair<std::string, aicl::ordered_json>> videos;
    for (int v = 0; v < 212; ++v) {
      const std::string name = "video_test_" + std::to_string(v);
      const double dur = 60 + 300 * uniform();
      aicl::ordered_json anns = aicl::ordered_json::array();
      const int label = static_cast<int>(splitmix(s) % 20);
      for (int k = 0; k < 16; ++k) {
        const double st = dur * uniform();
        anns.push_back({{"label", "class" + std::to_string(label)}, {"segment", {st, st + 2 + 8 * uniform()}}});
      }
      db[name] = {{"subset", "test"}, {"duration", dur}, {"annotations", anns}};
      videos.emplace_back(name, anns);
    }
    x.gt = {{"database", db}};
    aicl::ordered_json res = aicl::ordered_json::object();
    for (int i = 0; i < 20000; ++i) {
      const auto& [name, anns] = videos[splitmix(s) % videos.size()];
      aicl::ordered_json d;
      if (splitmix(s) % 2) {
        const auto& a = anns[splitmix(s) % anns.size()];
        const double st = a["segment"][0].get<double>() + uniform() - 0.5;
        d = {{"label", a["label"]}, {"score", uniform()}, {"segment", {st, st + 5 * uniform()}}};
      } else {
        const double st = 300 * uniform();
        d = {{"label", "class" + std::to_string(splitmix(s) % 20)}, {"score", uniform()},
             {"segment", {st, st + 10 * uniform()}}};
      }
      res[name].push_back(d);
    }
    x.dets = {{"results", res}};
    return x;
  }();
  return in;
}

void BM_EvaluateParsed(benchmark::State& state) {
  const Inputs& in = inputs();
  const auto gt = aicl::ground_truth_from_json(in.gt, "test", "gt");
  const auto dets = aicl::detections_from_json(in.dets, "dets");
  aicl::EvalOptions opt;
  opt.threads = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(aicl::evaluate_detection(gt, dets, opt).average_mAP);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(dets.size()));
}
BENCHMARK(BM_EvaluateParsed)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_EvaluateFromJsonText(benchmark::State& state) {
  // What aicl_eval does per file pair, minus the disk: parse both texts, convert, evaluate.
  const Inputs& in = inputs();
  const std::string gt_text = in.gt.dump(), det_text = in.dets.dump();
  for (auto _ : state) {
    const auto gt = aicl::ordered_json::parse(gt_text);
    const auto dets = aicl::ordered_json::parse(det_text);
    benchmark::DoNotOptimize(aicl::evaluate_detection(gt, dets, aicl::EvalOptions{}).average_mAP);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(gt_text.size() + det_text.size()));
}
BENCHMARK(BM_EvaluateFromJsonText)->Unit(benchmark::kMillisecond);

// Reading the detections file alone: a DOM (ordered_json) then conversion, as before the streaming reader, and
// the streaming (SAX) reader that aicl_eval now uses for well-formed files.
void BM_ReadDetectionsDom(benchmark::State& state) {
  const std::string text = inputs().dets.dump();
  for (auto _ : state)
    benchmark::DoNotOptimize(aicl::detections_from_json(aicl::ordered_json::parse(text), "dets").size());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_ReadDetectionsDom)->Unit(benchmark::kMillisecond);

void BM_ReadDetectionsSax(benchmark::State& state) {
  const std::string text = inputs().dets.dump();
  std::vector<aicl::EvalDetection> dets;
  for (auto _ : state) {
    if (!aicl::fast_read_detections(text, false, dets)) state.SkipWithError("streaming reader refused the text");
    benchmark::DoNotOptimize(dets.size());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_ReadDetectionsSax)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
