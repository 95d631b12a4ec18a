#include "mapping/v2_path.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "hl7v2/path.h"

namespace midhurst::mapping {

hl7v2::Element Cursor::element(const hl7v2::Message& m) const {
  if (level == V2Level::kMessage || segment >= m.segment_count()) return {};
  hl7v2::Segment seg = m.segment(segment);
  if (level == V2Level::kSegment) return {};
  return seg.at(field, repetition ? repetition : 1, component, subcomponent);
}

hl7v2::Location Cursor::location(const hl7v2::Message& m, const SegmentIds* ids) const {
  hl7v2::Location loc;
  if (level == V2Level::kMessage || segment >= m.segment_count()) return loc;
  hl7v2::Segment seg = m.segment(segment);
  loc.segment_index = segment + 1;
  const std::string_view id = seg.id();
  loc.segment_id = std::string(id);
  if (ids && id.size() <= 3) {  // a packed id is the whole id: integers compared, not text
    const std::uint32_t key = ids->key(segment);
    for (std::uint32_t i = 0; i <= segment; ++i) loc.segment_occurrence += ids->key(i) == key;
  } else {
    for (std::uint32_t i = 0; i <= segment; ++i)
      if (m.segment(i).id() == id) ++loc.segment_occurrence;
  }
  loc.field = field;
  loc.repetition = field ? (repetition ? repetition : 1) : 0;
  loc.component = component;
  loc.subcomponent = subcomponent;
  return loc;
}

std::string Cursor::to_string(const hl7v2::Message& m) const {
  if (level == V2Level::kMessage || segment >= m.segment_count()) return "message";
  return to_string(location(m));
}

std::string Cursor::to_string(const hl7v2::Location& loc) {
  std::string out = loc.segment_id;
  if (loc.segment_occurrence > 1) out += "[" + std::to_string(loc.segment_occurrence) + "]";
  if (!loc.field) return out;
  out += "-" + std::to_string(loc.field);
  if (loc.repetition > 1) out += "[" + std::to_string(loc.repetition) + "]";
  if (loc.component) out += "." + std::to_string(loc.component);
  if (loc.subcomponent) out += "." + std::to_string(loc.subcomponent);
  return out;
}

std::uint32_t SegmentIds::pack(std::string_view id) {
  std::uint32_t k = static_cast<std::uint32_t>(std::min<std::size_t>(id.size(), 255)) << 24;
  for (std::size_t i = 0; i < 3 && i < id.size(); ++i) k |= static_cast<std::uint32_t>(static_cast<unsigned char>(id[i])) << (8 * i);
  return k;
}

SegmentIds::SegmentIds(const hl7v2::Message& m) {
  keys_.reserve(m.segment_count());
  by_key_.reserve(m.segment_count());
  for (std::size_t i = 0; i < m.segment_count(); ++i) {
    keys_.push_back(pack(m.segment(i).id()));
    by_key_.push_back(std::uint64_t{keys_.back()} << 32 | i);
  }
  std::sort(by_key_.begin(), by_key_.end());
}

namespace {

struct Scanner {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
};

}  // namespace

Result<V2Path, V2PathError> V2Path::parse(std::string_view text, V2Level context) {
  V2Path p;
  p.text_ = std::string(text);
  Scanner sc{text};
  auto fail = [&](std::size_t at, std::string why) { return err(V2PathError{at, std::move(why)}); };
  // A number >= 1, or '*' when star_ok; inside brackets when bracketed.
  auto number = [&](std::uint32_t& out, const char* what) -> bool {
    if (!std::isdigit(static_cast<unsigned char>(sc.peek()))) return false;
    std::uint64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(sc.peek()))) {
      v = v * 10 + static_cast<std::uint64_t>(sc.s[sc.i++] - '0');
      if (v > 99999) return false;
    }
    (void)what;
    if (v == 0) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
  };
  auto bracket = [&](std::uint32_t& out, const char* what) -> std::optional<V2PathError> {
    if (sc.peek() != '[') return std::nullopt;
    const std::size_t at = ++sc.i;
    if (sc.peek() == '*') {
      ++sc.i;
      out = kAll;
    } else if (!number(out, what)) {
      return V2PathError{at, std::string(what) + " must be a number from 1 or '*'"};
    }
    if (sc.peek() != ']') return V2PathError{sc.i, "expected ']'"};
    ++sc.i;
    return std::nullopt;
  };
  if (text.empty()) return fail(0, "empty path");

  V2Level level = V2Level::kMessage;
  if (text == ".") {  // the field context itself (its first repetition as text, or its path)
    if (context != V2Level::kField)
      return fail(0, "'.' alone names the field a group iterates, so it needs a field context, e.g. "
                     "inside a group whose source is \"Z*[*]-*\"");
    p.relative_ = true;
    p.starts_at_ = p.level_ = V2Level::kField;
    return p;
  }
  if (text[0] == '-' || text[0] == '.') {
    p.relative_ = true;
    if (text[0] == '-') {
      if (context != V2Level::kSegment)
        return fail(0, "a relative path starting with '-' (a field) needs a segment context, e.g. "
                       "inside a group whose source is \"OBX[*]\"");
      level = V2Level::kSegment;
    } else {
      if (context != V2Level::kField && context != V2Level::kComponent)
        return fail(0, context == V2Level::kSegment
                           ? "inside a segment context a relative path starts with '-' and a "
                             "field number, e.g. \"-5\""
                           : "a relative path starting with '.' needs a field context, e.g. "
                             "inside a group whose source is \"PID-3[*]\"");
      level = context;
    }
    p.starts_at_ = level;
  } else {
    for (int k = 0; k < 3; ++k) {
      const char c = sc.peek();
      if (k > 0 && c == '*') {  // a segment id prefix: "Z*"
        ++sc.i;
        p.segment_len_ = static_cast<std::uint8_t>(k);
        break;
      }
      if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c))))
        return fail(sc.i, "a path starts with a 3-character segment id (A-Z, 0-9) such as PID, a "
                          "prefix and '*' such as Z*, or '-' or '.' for a relative path");
      p.segment_[k] = c;
      ++sc.i;
    }
    if (auto e = bracket(p.occurrence_, "a segment occurrence")) return err(*e);
    level = V2Level::kSegment;
  }
  // Field.
  if (level == V2Level::kSegment && sc.peek() == '-') {
    ++sc.i;
    const std::size_t at = sc.i;
    if (sc.peek() == '*') {
      ++sc.i;
      p.field_ = kAll;
    } else if (!number(p.field_, "field")) {
      return fail(at, "expected a field number from 1 (or '*', every field) after '-'");
    }
    if (auto e = bracket(p.repetition_, "a repetition")) return err(*e);
    level = V2Level::kField;
  }
  // Components.
  if (level == V2Level::kField && sc.peek() == '.') {
    ++sc.i;
    const std::size_t at = sc.i;
    if (!number(p.component_, "component")) return fail(at, "expected a component number from 1 after '.'");
    level = V2Level::kComponent;
  }
  if (level == V2Level::kComponent && sc.peek() == '.') {
    ++sc.i;
    const std::size_t at = sc.i;
    if (!number(p.subcomponent_, "sub-component"))
      return fail(at, "expected a sub-component number from 1 after '.'");
    level = V2Level::kSubcomponent;
  }
  if (!sc.done()) {
    if (sc.peek() == '[')
      return fail(sc.i, "only a segment occurrence or a field repetition can be indexed");
    return fail(sc.i, std::string("unexpected '") + sc.peek() + "'");
  }
  if (p.relative_ && level == p.starts_at_)
    return fail(text.size(), "a relative path needs at least one number");
  p.level_ = level;
  if (!p.relative_) {
    const std::string_view id(p.segment_, p.segment_len_);
    if (p.segment_len_ == 3) {
      p.segment_key_ = SegmentIds::pack(id);
    } else {
      p.segment_key_ = SegmentIds::pack(id) & 0xFFFFFFu;
      p.prefix_mask_ = (1u << (8 * p.segment_len_)) - 1;
    }
  }
  return p;
}

void V2Path::expand(const hl7v2::Message& m, const Cursor& context,
                    const std::function<void(const Cursor&)>& fn) const {
  visit(m, nullptr, context, fn);
}

}  // namespace midhurst::mapping
