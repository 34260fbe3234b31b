// Streaming readers for detections and ground truth (nlohmann's SAX interface). They only need to get
// well-formed files right: on anything unexpected they stop and the caller falls back to the DOM readers,
// which produce the one-line error. A DOM of a 40 MB detections file costs several times the scoring.
#include "core/eval/json_fast_reader.h"

#include <string>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

namespace aicl {

namespace {

using Sax = nlohmann::json_sax<nlohmann::json>;

// What a JSON container (or the value under a key) means to a reader. `skip` covers everything it ignores.
enum class Role { top, results, video_list, detection, segment, database, video, annotations, annotation, skip };

// One scalar value as the SAX callbacks deliver it.
struct Scalar {
  bool is_number = false;
  bool is_string = false;
  double number = 0;
  const std::string* text = nullptr;
};

// [start, end]: the numbers seen so far and whether anything else was.
struct SegmentState {
  bool seen = false, bad = false;
  int count = 0;
  double v[2] = {0, 0};
  void reset() { *this = SegmentState{}; seen = true; }
  void add(const Scalar& s) {
    if (!s.is_number) bad = true;
    else if (count < 2) v[count] = s.number;
    ++count;
  }
  bool valid(bool allow_inverted) const { return seen && !bad && count == 2 && (allow_inverted || v[0] <= v[1]); }
};

// A string field (label, subset) whose last occurrence counts, as in a DOM.
struct StringField {
  bool seen = false, ok = false;
  std::string value;
  void set(const Scalar& s) {
    seen = true;
    ok = s.is_string;
    if (ok) value = *s.text;
  }
  void set_container() { seen = true, ok = false; }
};

// A number field (score, score300), last occurrence wins.
struct NumberField {
  bool seen = false, ok = false;
  double value = 0;
  void set(const Scalar& s) { seen = true, ok = s.is_number, value = s.number; }
  void set_container() { seen = true, ok = false; }
};

// The SAX plumbing shared by both readers: a stack of container roles and the current key of each object.
// Derived readers decide what a container or scalar means from its parent's role and key.
template <class Reader>
class RoleSax : public Sax {
 public:
  bool null() override { return scalar({}); }
  bool boolean(bool) override { return scalar({}); }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool string(string_t& v) override {
    Scalar s;
    s.is_string = true;
    s.text = &v;
    return scalar(s);
  }
  bool binary(binary_t&) override { return scalar({}); }
  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool key(string_t& k) override {
    stack_.back().key = k;
    return true;
  }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 protected:
  struct Frame {
    Role role;
    std::string key;
  };
  std::vector<Frame> stack_;

 private:
  Reader& self() { return static_cast<Reader&>(*this); }
  bool number(double v) {
    Scalar s;
    s.is_number = true;
    s.number = v;
    return scalar(s);
  }
  bool scalar(const Scalar& s) {
    if (stack_.empty()) return false;  // a top-level scalar: not the expected object
    const Frame& parent = stack_.back();
    return parent.role == Role::skip || self().on_scalar(parent, s);
  }
  bool open(bool is_object) {
    Role role = Role::skip;
    if (stack_.empty()) {
      if (!is_object) return false;
      role = Role::top;
    } else if (stack_.back().role != Role::skip && !self().on_open(stack_.back(), is_object, role)) {
      return false;
    }
    stack_.push_back({role, {}});
    return true;
  }
  bool close() {
    const Role role = stack_.back().role;
    stack_.pop_back();
    return role == Role::skip || self().on_close(role);
  }
};

class DetectionsReader : public RoleSax<DetectionsReader> {
 public:
  DetectionsReader(bool allow_inverted, std::vector<EvalDetection>& out) : allow_inverted_(allow_inverted), out_(out) {}
  bool finished() const { return results_seen_; }

  bool on_open(const Frame& parent, bool is_object, Role& role) {
    switch (parent.role) {
      case Role::top:
        if (parent.key != "results") return true;
        if (!is_object || results_seen_) return false;
        results_seen_ = true;
        role = Role::results;
        return true;
      case Role::results:
        if (is_object || !videos_.insert(parent.key).second) return false;
        video_ = parent.key;
        role = Role::video_list;
        return true;
      case Role::video_list:
        if (!is_object) return false;
        label_ = {}, score_ = {}, score300_ = {}, segment_ = {};
        role = Role::detection;
        return true;
      case Role::detection: return open_in_detection(parent.key, is_object, role);
      case Role::segment: segment_.bad = true; return true;
      default: return true;
    }
  }

  bool on_scalar(const Frame& parent, const Scalar& s) {
    switch (parent.role) {
      case Role::top: return parent.key != "results";
      case Role::results:
      case Role::video_list: return false;
      case Role::detection:
        if (parent.key == "label") label_.set(s);
        else if (parent.key == "score") score_.set(s);
        else if (parent.key == "score300") score300_.set(s);
        else if (parent.key == "segment") segment_.seen = segment_.bad = true;
        return true;
      case Role::segment: segment_.add(s); return true;
      default: return true;
    }
  }

  bool on_close(Role role) {
    if (role == Role::top) return results_seen_;
    if (role != Role::detection) return true;
    // detections_from_json: 'score300' wins when present, else 'score'.
    const NumberField& score = score300_.seen ? score300_ : score_;
    if (!label_.ok || !segment_.valid(allow_inverted_) || !score.ok) return false;
    out_.push_back({video_, label_.value, segment_.v[0], segment_.v[1], score.value});
    return true;
  }

 private:
  bool open_in_detection(const std::string& key, bool is_object, Role& role) {
    if (key == "segment") {
      segment_.reset();
      if (is_object) segment_.bad = true;
      else role = Role::segment;
    } else if (key == "label") {
      label_.set_container();
    } else if (key == "score") {
      score_.set_container();
    } else if (key == "score300") {
      score300_.set_container();
    }
    return true;
  }

  bool allow_inverted_;
  std::vector<EvalDetection>& out_;
  bool results_seen_ = false;
  std::unordered_set<std::string> videos_;
  std::string video_;
  StringField label_;
  NumberField score_, score300_;
  SegmentState segment_;
};

// One annotation of a video while it is read.
struct Annotation {
  bool is_object = false;
  StringField label;
  SegmentState segment;
};

class GroundTruthReader : public RoleSax<GroundTruthReader> {
 public:
  GroundTruthReader(const std::string& subset, bool allow_inverted, EvalGroundTruth& out)
      : subset_(subset), allow_inverted_(allow_inverted), out_(out) {}

  bool on_open(const Frame& parent, bool is_object, Role& role) {
    switch (parent.role) {
      case Role::top:
        if (parent.key != "database") return true;
        if (!is_object || database_seen_) return false;
        database_seen_ = true;
        role = Role::database;
        return true;
      case Role::database:
        if (!is_object || !videos_.insert(parent.key).second) return false;
        video_ = parent.key, subset_field_ = {}, anns_seen_ = anns_array_ = false, anns_.clear();
        role = Role::video;
        return true;
      case Role::video: return open_in_video(parent.key, is_object, role);
      case Role::annotations:
        anns_.emplace_back();
        anns_.back().is_object = is_object;
        if (is_object) role = Role::annotation;
        return true;
      case Role::annotation: return open_in_annotation(parent.key, is_object, role);
      case Role::segment: anns_.back().segment.bad = true; return true;
      default: return true;
    }
  }

  bool on_scalar(const Frame& parent, const Scalar& s) {
    switch (parent.role) {
      case Role::top: return parent.key != "database";
      case Role::database: return false;
      case Role::video:
        if (parent.key == "subset") subset_field_.set(s);
        else if (parent.key == "annotations") anns_seen_ = true, anns_array_ = false, anns_.clear();
        return true;
      case Role::annotations: anns_.emplace_back(); return true;  // not an object
      case Role::annotation:
        if (parent.key == "label") anns_.back().label.set(s);
        else if (parent.key == "segment") anns_.back().segment.seen = anns_.back().segment.bad = true;
        return true;
      case Role::segment: anns_.back().segment.add(s); return true;
      default: return true;
    }
  }

  bool on_close(Role role) {
    if (role == Role::top) return database_seen_;
    if (role != Role::video) return true;
    if (!subset_field_.ok) return false;
    if (subset_field_.value != subset_) {
      // ground_truth_from_json: labels of the other subsets, leniently (string labels of object entries).
      if (anns_array_)
        for (const Annotation& a : anns_)
          if (a.is_object && a.label.ok) out_.labels_elsewhere.insert(a.label.value);
      return true;
    }
    ++out_.num_videos;
    out_.videos.push_back(video_);
    if (!anns_array_) return false;
    for (const Annotation& a : anns_) {
      if (!a.is_object || !a.label.ok || !a.segment.valid(allow_inverted_)) return false;
      out_.instances.push_back({video_, a.label.value, a.segment.v[0], a.segment.v[1]});
    }
    return true;
  }

 private:
  bool open_in_video(const std::string& key, bool is_object, Role& role) {
    if (key == "annotations") {
      anns_seen_ = true, anns_array_ = !is_object, anns_.clear();
      if (!is_object) role = Role::annotations;
    } else if (key == "subset") {
      subset_field_.set_container();
    }
    return true;
  }
  bool open_in_annotation(const std::string& key, bool is_object, Role& role) {
    Annotation& a = anns_.back();
    if (key == "segment") {
      a.segment.reset();
      if (is_object) a.segment.bad = true;
      else role = Role::segment;
    } else if (key == "label") {
      a.label.set_container();
    }
    return true;
  }

  const std::string& subset_;
  bool allow_inverted_;
  EvalGroundTruth& out_;
  bool database_seen_ = false;
  std::unordered_set<std::string> videos_;
  std::string video_;
  StringField subset_field_;
  bool anns_seen_ = false, anns_array_ = false;
  std::vector<Annotation> anns_;
};

}  // namespace

bool fast_read_detections(const std::string& text, bool allow_inverted, std::vector<EvalDetection>& out) {
  out.clear();
  DetectionsReader reader(allow_inverted, out);
  // A pointer range lets the lexer read bytes directly instead of through string iterators.
  return nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &reader) && reader.finished();
}

bool fast_read_ground_truth(const std::string& text, const std::string& subset, bool allow_inverted,
                            EvalGroundTruth& out) {
  out = EvalGroundTruth{};
  GroundTruthReader reader(subset, allow_inverted, out);
  return nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &reader);
}

}  // namespace aicl
