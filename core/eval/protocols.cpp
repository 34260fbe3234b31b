// Protocol names, default thresholds, the Ambiguous-interval reader, the video-list hash and the THUMOS14 ids.
#include "core/eval/protocols.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/base/error.h"
#include "core/eval/evaluator.h"
#include "core/eval/sha256.h"

namespace aicl {

EvalProtocol parse_protocol(const std::string& name) {
  if (name == "anet") return EvalProtocol::anet;
  if (name == "th14") return EvalProtocol::th14;
  if (name == "wtalc") return EvalProtocol::wtalc;
  fail("--protocol: unknown protocol '" + name + "' (anet, th14 or wtalc)");
}

const char* protocol_name(EvalProtocol protocol) {
  switch (protocol) {
    case EvalProtocol::th14: return "th14";
    case EvalProtocol::wtalc: return "wtalc";
    default: return "anet";
  }
}

std::string default_tiou_spec(EvalProtocol protocol) {
  switch (protocol) {
    case EvalProtocol::th14: return "0.1:0.5:5";  // linspace's i*0.1 + 0.1 equals Octave's 0.1 + i*0.1
    case EvalProtocol::wtalc: return "0.1,0.2,0.3,0.4,0.5";
    default: return "0.1:0.7:7";
  }
}

std::vector<double> default_tiou(EvalProtocol protocol) { return parse_tiou_spec(default_tiou_spec(protocol)); }

namespace {

// A finite number or an error naming the place (file:line).
double field_number(const std::string& text, const std::string& where) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    fail(where + ": '" + text + "' is not a finite number");
  return v;
}

}  // namespace

std::vector<AmbiguousInterval> read_ambiguous_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<AmbiguousInterval> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    if (f.empty()) continue;
    const std::string where = path + ":" + std::to_string(n);
    if (f.size() != 3) fail(where + ": expected 3 fields 'video start end', got " + std::to_string(f.size()));
    AmbiguousInterval a{f[0], field_number(f[1], where), field_number(f[2], where)};
    out.push_back(std::move(a));
  }
  if (in.bad()) fail(path + ": read error");
  return out;
}

std::vector<EvalDetection> th14_detections_from_text(const std::string& text, const std::string& name) {
  std::vector<EvalDetection> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    if (f.empty()) continue;
    const std::string where = name + ":" + std::to_string(n);
    if (f.size() != 5) fail(where + ": expected 5 fields 'video start end classid score', got " + std::to_string(f.size()));
    const double id = field_number(f[3], where);
    const bool integral = id >= 0 && id <= 1000 && id == std::floor(id);
    const std::string label = integral ? th14_class_name(static_cast<int>(id)) : std::string();
    if (label.empty())
      fail(where + ": class id '" + f[3] + "' is not a THUMOS14 detection class id (7 BaseballPitch ... 97 VolleyballSpiking)");
    EvalDetection d{f[0], label, field_number(f[1], where), field_number(f[2], where),
                    field_number(f[4], where)};
    for (std::size_t at; (at = d.video.find(".mpeg")) != std::string::npos;) d.video.erase(at, 5);
    out.push_back(std::move(d));
  }
  return out;
}

std::string video_list_sha256(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());  // std::string compares bytes as unsigned char, as LC_ALL=C sort
  std::string joined;
  for (const std::string& n : names) joined += n + '\n';
  return sha256_hex(joined);
}

namespace {

// THUMOS14 annotation README: the 20 temporally annotated classes with their UCF101-based ids.
const std::pair<int, const char*> kTh14Classes[] = {
    {7, "BaseballPitch"}, {9, "BasketballDunk"}, {12, "Billiards"},   {21, "CleanAndJerk"},
    {22, "CliffDiving"},  {23, "CricketBowling"}, {24, "CricketShot"}, {26, "Diving"},
    {31, "FrisbeeCatch"}, {33, "GolfSwing"},      {36, "HammerThrow"}, {40, "HighJump"},
    {45, "JavelinThrow"}, {51, "LongJump"},       {68, "PoleVault"},   {79, "Shotput"},
    {85, "SoccerPenalty"}, {92, "TennisSwing"},   {93, "ThrowDiscus"}, {97, "VolleyballSpiking"}};

}  // namespace

int th14_class_id(const std::string& name) {
  for (const auto& c : kTh14Classes)
    if (name == c.second) return c.first;
  return -1;
}

std::string th14_class_name(int id) {
  for (const auto& c : kTh14Classes)
    if (id == c.first) return c.second;
  return "";
}

}  // namespace aicl
