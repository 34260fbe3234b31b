// Test fixture: a tiny npy-layout root (features/{train,test}/{rgb,flow}/*.npy, gt.json, split files).
#pragma once
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "data/npy.h"

namespace aicl_test {

struct TinyVideo {
  std::string name, mode;  // mode: train or test
  int T;
  std::vector<std::pair<std::string, std::pair<double, double>>> annos;
};

inline std::vector<TinyVideo> tiny_videos() {
  return {{"video_validation_0000001", "train", 7, {{"Diving", {0.5, 2.0}}, {"CliffDiving", {3.0, 3.5}}}},
          {"video_validation_0000002", "train", 4, {{"GolfSwing", {0.1, 1.3}}}},
          {"video_test_0000001", "test", 5, {{"Billiards", {1.25, 2.75}}}},
          {"video_test_0000002", "test", 3, {{"TennisSwing", {0.0, 1.0}}, {"TennisSwing", {1.2, 1.9}}}}};
}

inline std::vector<float> tiny_features(int T, size_t cols, float seed) {
  std::vector<float> f(static_cast<size_t>(T) * cols);
  for (size_t i = 0; i < f.size(); ++i) f[i] = seed + static_cast<float>(i % 97) * 0.013f + static_cast<float>(i) * 1e-5f;
  return f;
}

// Writes the root; `joint` writes [T, 2048] files instead of rgb/flow. An extra gt entry without features
// (like THUMOS14's video_test_0000270) is added.
inline void make_tiny_root(const std::filesystem::path& root, bool joint = false) {
  namespace fs = std::filesystem;
  aicl::json db = aicl::json::object();
  std::string split[2];
  float seed = 0.f;
  for (const TinyVideo& v : tiny_videos()) {
    const fs::path dir = root / "features" / v.mode;
    if (joint) {
      fs::create_directories(dir);
      auto f = tiny_features(v.T, 2048, seed += 1.f);
      aicl::write_npy((dir / (v.name + ".npy")).string(), f.data(), static_cast<size_t>(v.T), 2048);
    } else {
      fs::create_directories(dir / "rgb");
      fs::create_directories(dir / "flow");
      auto r = tiny_features(v.T, 1024, seed += 1.f);
      auto fl = tiny_features(v.T, 1024, seed += 1.f);
      aicl::write_npy((dir / "rgb" / (v.name + ".npy")).string(), r.data(), static_cast<size_t>(v.T), 1024);
      aicl::write_npy((dir / "flow" / (v.name + ".npy")).string(), fl.data(), static_cast<size_t>(v.T), 1024);
    }
    aicl::json annos = aicl::json::array();
    for (const auto& a : v.annos) annos.push_back({{"label", a.first}, {"segment", {a.second.first, a.second.second}}});
    db[v.name] = {{"subset", v.mode == "train" ? "validation" : "test"}, {"duration", v.T * 0.64 + 0.1}, {"annotations", annos}};
    split[v.mode == "train" ? 0 : 1] += v.name + "\n";
  }
  db["video_test_0000270"] = {{"subset", "test"}, {"duration", 30.0},
                              {"annotations", {{{"label", "Diving"}, {"segment", {1.0, 2.0}}}}}};
  aicl::write_json_file((root / "gt.json").string(), {{"version", "TINY"}, {"database", db}});
  aicl::write_file_atomic((root / "split_train.txt").string(), split[0]);
  aicl::write_file_atomic((root / "split_test.txt").string(), split[1]);
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace aicl_test
