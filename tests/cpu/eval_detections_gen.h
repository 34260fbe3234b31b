// The deterministic detection generator of tools/make_eval_golden.py, call for call, shared by the evaluator
// parity tests (ActivityNet protocol) and the protocol tests (THUMOS14 kit, W-TALC).
#pragma once
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/eval/evaluator.h"

namespace aicl_test {

using aicl::ordered_json;

// splitmix64, as in tools/make_eval_golden.py.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

inline long long tenths(double x) { return std::llround(x * 10); }

// The generator of tools/make_eval_golden.py, call for call: only integer arithmetic and one correctly
// rounded division per value, so Python and C++ build the same doubles.
inline ordered_json generate_detections(const ordered_json& gt, std::uint64_t seed, int n, unsigned jitter_pct, unsigned levels) {
  const ordered_json& db = gt["database"];
  std::vector<std::string> vids;
  std::set<std::string> label_set;
  for (auto it = db.begin(); it != db.end(); ++it)
    if (it.value()["subset"] == "test") {
      vids.push_back(it.key());
      for (const auto& a : it.value()["annotations"]) label_set.insert(a["label"].get<std::string>());
    }
  const std::vector<std::string> labels(label_set.begin(), label_set.end());
  for (const char* extra : {"video_validation_0000051", "video_test_9999999"}) vids.push_back(extra);
  SplitMix64 rng{seed};
  std::vector<ordered_json> res(vids.size(), ordered_json::array());
  ordered_json prev;
  for (int i = 0; i < n; ++i) {
    const std::size_t vi = rng.next() % vids.size();
    const std::string& v = vids[vi];
    const bool known = db.contains(v);
    const ordered_json anns = known ? db[v]["annotations"] : ordered_json::array();
    const long long dur = known ? tenths(db[v]["duration"].get<double>()) : 2000;
    const std::uint64_t kind = rng.next() % 100;
    if (!prev.is_null() && kind < 3) {
      res[vi].push_back(prev);
      continue;
    }
    long long s, e;
    std::string label;
    if (!anns.empty() && kind < jitter_pct) {
      const ordered_json& a = anns[rng.next() % anns.size()];
      s = tenths(a["segment"][0].get<double>()) + static_cast<long long>(rng.next() % 61) - 30;
      e = tenths(a["segment"][1].get<double>()) + static_cast<long long>(rng.next() % 61) - 30;
      label = rng.next() % 5 ? a["label"].get<std::string>() : labels[rng.next() % labels.size()];
    } else {
      s = static_cast<long long>(rng.next() % static_cast<std::uint64_t>(dur));
      e = static_cast<long long>(rng.next() % static_cast<std::uint64_t>(dur));
      label = labels[rng.next() % labels.size()];
    }
    if (s > e) std::swap(s, e);
    if (rng.next() % 50 == 0) e = s;
    const double score = levels ? static_cast<double>(rng.next() % levels) / levels
                                : static_cast<double>(rng.next() >> 11) / 9007199254740992.0;
    prev = ordered_json{{"label", label}, {"score", score}, {"segment", {s / 10.0, e / 10.0}}};
    res[vi].push_back(prev);
  }
  ordered_json results = ordered_json::object();
  for (std::size_t i = 0; i < vids.size(); ++i)
    if (!res[i].empty()) results[vids[i]] = res[i];
  return ordered_json{{"results", results}};
}

// tools/make_protocol_golden.py's without_empty_snippet_sets(): the detections whose snippet range
// [round(s*25/16), round(e*25/16)) is not empty (W-TALC divides by zero on an empty one against an empty GT range).
inline ordered_json without_empty_snippet_sets(const ordered_json& dets) {
  ordered_json results = ordered_json::object();
  for (auto it = dets["results"].begin(); it != dets["results"].end(); ++it) {
    ordered_json kept = ordered_json::array();
    for (const auto& d : it.value())
      if (std::nearbyint(d["segment"][0].get<double>() * 1.5625) < std::nearbyint(d["segment"][1].get<double>() * 1.5625))
        kept.push_back(d);
    if (!kept.empty()) results[it.key()] = kept;
  }
  ordered_json out = dets;
  out["results"] = results;
  return out;
}

}  // namespace aicl_test
