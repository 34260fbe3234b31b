// The evaluation protocols of the WTAL literature (ActivityNet, THUMOS14 MATLAB kit, W-TALC) and their shared
// inputs: protocol names and default tIoUs, the THUMOS14 Ambiguous intervals, the hash of a video list.
#pragma once
#include <string>
#include <vector>

namespace aicl {

// anet: ActivityNet eval_detection.py (AICL's copy); th14: THUMOS14 TH14evalDet.m; wtalc: W-TALC detectionMAP.py.
enum class EvalProtocol { anet, th14, wtalc };

// "anet" | "th14" | "wtalc"; anything else is an error naming --protocol.
EvalProtocol parse_protocol(const std::string& name);
const char* protocol_name(EvalProtocol protocol);

// The thresholds each reference uses by default, bit for bit: anet 0.1:0.7:7 (numpy.linspace, AICL's),
// th14 Octave's .1:.1:.5 (0.1 + i*0.1, so the third is 0.30000000000000004), wtalc the literals 0.1 ... 0.5.
std::vector<double> default_tiou(EvalProtocol protocol);
// The same as a --tiou spec ("0.1:0.7:7", "0.1:0.5:5", "0.1,0.2,0.3,0.4,0.5"): parse_tiou_spec gives default_tiou.
std::string default_tiou_spec(EvalProtocol protocol);

// One interval of a THUMOS14 Ambiguous file: detections overlapping it are excused (th14) or dropped (wtalc).
struct AmbiguousInterval {
  std::string video;
  double start = 0, end = 0;
};

// Reads "video start end" lines (whitespace-separated, as ../shared/data/thumos14/Ambiguous_test.txt and the
// kit's groundtruth/Ambiguous_test.txt). Blank lines are skipped; anything else malformed is an error naming
// the file and line.
std::vector<AmbiguousInterval> read_ambiguous_file(const std::string& path);

// SHA-256 of the names sorted bytewise, each followed by '\n': the same as
// `printf '%s\n' NAMES | LC_ALL=C sort | sha256sum`.
std::string video_list_sha256(std::vector<std::string> names);

// The official THUMOS14 detection class id of a class name (7 BaseballPitch ... 97 VolleyballSpiking), or -1.
int th14_class_id(const std::string& name);
// The class name of an official THUMOS14 detection class id, or "" when it is none of the 20.
std::string th14_class_name(int id);

}  // namespace aicl
