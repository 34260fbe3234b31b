// The activations file of aicl_eval --save-activations / --activations (see activations.h).
#include "core/eval/activations.h"

#include <cstdint>

#include "core/base/error.h"
#include "core/base/h5.h"

namespace aicl {

namespace {

constexpr const char* kFormat = "aicl-activations";
constexpr int kVersion = 1;

}  // namespace

void save_activations(const std::string& path, const SavedActivations& a) {
  const size_t V = a.videos.size();
  const size_t C = V ? a.videos[0].score.size() : 0;
  int att_stride = 0;
  std::vector<int64_t> rows(V), samples(V);
  std::vector<float> scores, act, att;
  std::vector<std::string> names;
  for (size_t i = 0; i < V; ++i) {
    const VideoScores& v = a.videos[i];
    AICL_CHECK(v.score.size() == C, "save_activations: videos with different class counts");
    names.push_back(v.name);
    rows[i] = v.num_segments, samples[i] = v.samples;
    scores.insert(scores.end(), v.score.begin(), v.score.end());
    act.insert(act.end(), v.activation.begin(), v.activation.end());
    if (v.attention_stride > 0) {
      AICL_CHECK(att_stride == 0 || att_stride == v.attention_stride, "save_activations: mixed attention widths");
      att_stride = v.attention_stride;
      att.insert(att.end(), v.attention.begin(), v.attention.end());
    }
  }
  write_atomic_with(path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    f.set_attr_string("/", "format", kFormat);
    f.set_attr_double("/", "format_version", kVersion);
    f.set_attr_string("/", "meta", a.meta.dump());
    h5::write_strings(f.id(), "names", names, tmp);
    f.write_ints("num_segments", rows.data(), {static_cast<int64_t>(V)});
    f.write_ints("samples", samples.data(), {static_cast<int64_t>(V)});
    f.write_floats("scores", scores.data(), {static_cast<int64_t>(V), static_cast<int64_t>(C)});
    f.write_floats("activation", act.data(), {static_cast<int64_t>(act.size() / (C ? C : 1)), static_cast<int64_t>(C)}, 1);
    if (att_stride > 0)
      f.write_floats("attention", att.data(), {static_cast<int64_t>(att.size() / att_stride), att_stride}, 1);
  });
}

SavedActivations load_activations(const std::string& path) {
  const H5File f = H5File::open_read(path);
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != kFormat)
    fail(path + ": not an aicl activations file (aicl_eval --save-activations writes them)");
  if (f.attr_double("/", "format_version") != kVersion)
    fail(path + ": activations format version " + std::to_string(f.attr_double("/", "format_version")) +
         " (this build reads " + std::to_string(kVersion) + ")");
  SavedActivations a;
  try {
    a.meta = json::parse(f.attr_string("/", "meta"));
  } catch (const json::exception&) {
    fail(path + ": its 'meta' attribute is not JSON");
  }
  const std::vector<std::string> names = h5::read_strings(f.id(), "names", path);
  const std::vector<int64_t> rows = f.read_ints("num_segments"), samples = f.read_ints("samples");
  std::vector<int64_t> sshape, ashape, tshape;
  const std::vector<float> scores = f.read_floats("scores", &sshape), act = f.read_floats("activation", &ashape);
  const bool has_att = f.exists("attention");
  const std::vector<float> att = has_att ? f.read_floats("attention", &tshape) : std::vector<float>();
  const size_t V = names.size();
  if (rows.size() != V || samples.size() != V || sshape.size() != 2 || static_cast<size_t>(sshape[0]) != V)
    fail(path + ": names, num_segments, samples and scores disagree on the number of videos");
  const size_t C = static_cast<size_t>(sshape[1]);
  const size_t att_stride = has_att && tshape.size() == 2 ? static_cast<size_t>(tshape[1]) : 0;
  size_t r = 0;
  for (size_t i = 0; i < V; ++i) {
    if (samples[i] < 0 || rows[i] <= 0) fail(path + ": video '" + names[i] + "' has a bad length");
    const size_t T = static_cast<size_t>(samples[i]);
    if ((r + T) * C > act.size() || (has_att && (r + T) * att_stride > att.size()))
      fail(path + ": the activation rows end before video '" + names[i] + "'");
    VideoScores v{names[i], static_cast<int>(rows[i]), static_cast<int>(T),
                  std::vector<float>(scores.begin() + i * C, scores.begin() + (i + 1) * C),
                  std::vector<float>(act.begin() + r * C, act.begin() + (r + T) * C), {}, 0};
    if (has_att) {
      v.attention.assign(att.begin() + r * att_stride, att.begin() + (r + T) * att_stride);
      v.attention_stride = static_cast<int>(att_stride);
    }
    r += T;
    a.videos.push_back(std::move(v));
  }
  if (r * C != act.size()) fail(path + ": more activation rows than its videos' lengths");
  return a;
}

}  // namespace aicl
