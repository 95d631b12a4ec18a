// Source paths into HL7v2 messages for mapping rules, with iteration and relative forms.
//
//   absolute  SEG ['[' n | '*' ']'] [ '-' field ['[' n | '*' ']'] ['.' component ['.' sub]] ]
//   relative  '-' field ...          inside a segment context        (a group over "OBX[*]")
//             '.' component ['.' sub] inside a field/repetition context (a group over "PID-3[*]")
//             '.' sub                  inside a component context
//             '.'                      the field context itself (e.g. inside "Z*[*]-*")
// e.g. "PID-5", "PID-3[*]", "OBX[*]", "OBX[2]-5", "PD1-3.3", ".4.1", "-5". '*' iterates every
// segment occurrence or every field repetition; an omitted occurrence or repetition means the
// first, as in hl7v2/path.h (whose syntax this extends with SEG[*] and the relative forms).
// Two wildcards serve segments no profile can list in advance (site Z-segments):
//   a segment id of one or two characters followed by '*' names every segment whose id starts
//   with them ("Z*[*]": every occurrence of every Z-segment), and a field '*' names every
//   populated field of the segment ("Z*[*]-*", "-*" inside a segment context).
//
// A Cursor is one concrete place in a message (a segment, a field repetition, a component...);
// expand() turns a path, read from a context cursor, into the cursors it names.
//
// Thread-safety: V2Path is an immutable value; expand() only reads the Message.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hl7v2/message.h"

namespace midhurst::mapping {

// How deep a context or a path's end is.
enum class V2Level : std::uint8_t { kMessage, kSegment, kField, kComponent, kSubcomponent };

class SegmentIds;

// One place in a message. Numbers are 1-based; 0 means "not that deep".
struct Cursor {
  std::uint32_t segment = 0;  // 0-based segment index in the message; valid when level >= kSegment
  std::uint32_t field = 0;
  std::uint32_t repetition = 0;
  std::uint32_t component = 0;
  std::uint32_t subcomponent = 0;
  V2Level level = V2Level::kMessage;

  hl7v2::Element element(const hl7v2::Message& m) const;
  // "PID-3[2].4", "OBX[2]-5": the path form (hl7v2::Path::to_string style).
  std::string to_string(const hl7v2::Message& m) const;
  // The same from the location() of a cursor below message level.
  static std::string to_string(const hl7v2::Location& loc);
  // `ids`, when given, are the message's (see SegmentIds): the segment's occurrence is then
  // counted without comparing ids as text.
  hl7v2::Location location(const hl7v2::Message& m, const SegmentIds* ids = nullptr) const;
};

// The segment ids of one message packed as numbers, made once per message: absolute paths then
// find their segments by comparing integers, which matters because a profile's hundreds of rules
// each scan the segments.
class SegmentIds {
 public:
  explicit SegmentIds(const hl7v2::Message& m);
  std::size_t size() const { return keys_.size(); }
  std::uint32_t key(std::size_t i) const { return keys_[i]; }
  // The indexes of the segments whose packed id is `key`, in message order: an absolute path
  // visits its own segments without comparing every segment's id.
  template <typename F>
  void for_each_with_key(std::uint32_t key, F&& fn) const {
    auto it = std::lower_bound(by_key_.begin(), by_key_.end(), std::uint64_t{key} << 32);
    for (; it != by_key_.end() && (*it >> 32) == key; ++it)
      if (!fn(static_cast<std::uint32_t>(*it))) return;
  }
  // The first three bytes of `id` and its length (at most 255) in the top byte.
  static std::uint32_t pack(std::string_view id);

 private:
  std::vector<std::uint32_t> keys_;
  std::vector<std::uint64_t> by_key_;  // key << 32 | index, sorted
};

struct V2PathError {
  std::size_t offset = 0;  // character offset in the path text
  std::string message;
};

class V2Path {
 public:
  static constexpr std::uint32_t kAll = 0xFFFFFFFFu;

  // Parses `text`. `context` is the level the path will be read from (kMessage for a top-level
  // rule): a relative path must fit it, an absolute one fits any context.
  static Result<V2Path, V2PathError> parse(std::string_view text, V2Level context);

  const std::string& text() const { return text_; }
  bool relative() const { return relative_; }
  bool iterates() const { return occurrence_ == kAll || repetition_ == kAll || field_ == kAll; }
  // The level of the cursors expand() gives (kSegment for "OBX[*]", kField for "PID-3[*]").
  V2Level level() const { return level_; }

  // Calls fn for every cursor the path names from `context`, in message order. Segments and
  // repetitions that do not exist give nothing; a non-iterating path that names a missing field
  // still gives its cursor (which reads as "").
  void expand(const hl7v2::Message& m, const Cursor& context,
              const std::function<void(const Cursor&)>& fn) const;
  // Same, with the message's segment ids made beforehand and fn called directly (the engine's
  // hot path).
  template <typename F>
  void expand(const hl7v2::Message& m, const SegmentIds& ids, const Cursor& context, F&& fn) const {
    visit(m, &ids, context, fn);
  }

 private:
  template <typename F>
  void visit(const hl7v2::Message& m, const SegmentIds* ids, const Cursor& context, F& fn) const;
  bool matches(const hl7v2::Message& m, const SegmentIds* ids, std::size_t i) const {
    const std::uint32_t k = ids ? ids->key(i) : SegmentIds::pack(m.segment(i).id());
    return segment_len_ == 3 ? k == segment_key_ : (k & prefix_mask_) == segment_key_ && (k >> 24) >= segment_len_;
  }

  std::string text_;
  bool relative_ = false;
  V2Level level_ = V2Level::kMessage;
  char segment_[4] = {0, 0, 0, 0};
  std::uint8_t segment_len_ = 3;  // < 3: a prefix ("Z*" matches every segment starting with Z)
  std::uint32_t segment_key_ = 0;  // SegmentIds::pack of the id; of a prefix, its bytes only
  std::uint32_t prefix_mask_ = 0;  // a prefix: the mask of its bytes in a packed id
  std::uint32_t occurrence_ = 1;
  std::uint32_t field_ = 0;
  std::uint32_t repetition_ = 1;
  std::uint32_t component_ = 0;
  std::uint32_t subcomponent_ = 0;
  V2Level starts_at_ = V2Level::kMessage;  // relative: the first level the path sets
};

template <typename F>
void V2Path::visit(const hl7v2::Message& m, const SegmentIds* ids, const Cursor& context, F& fn) const {
  auto from_one_field = [&](Cursor c, std::uint32_t field) {
    // c.segment is set; now field, repetition, component, sub-component.
    auto emit_rep = [&](std::uint32_t rep) {
      Cursor d = c;
      d.field = field;
      d.repetition = rep;
      d.component = component_;
      d.subcomponent = subcomponent_;
      d.level = level_;
      fn(static_cast<const Cursor&>(d));
    };
    if (level_ == V2Level::kSegment) {
      c.level = V2Level::kSegment;
      fn(static_cast<const Cursor&>(c));
      return;
    }
    if (repetition_ == kAll) {
      const hl7v2::Element f = m.segment(c.segment).field(field);
      const std::size_t n = f.present() ? f.size() : 0;
      for (std::uint32_t r = 1; r <= n; ++r) emit_rep(r);
    } else {
      emit_rep(repetition_);
    }
  };
  auto from_field = [&](Cursor c) {
    if (field_ != kAll || level_ == V2Level::kSegment) return from_one_field(c, field_);
    // Every populated field; a segment's own id is not a field.
    const hl7v2::Segment seg = m.segment(c.segment);
    const std::size_t n = seg.field_count();
    for (std::uint32_t f = 1; f <= n; ++f)
      if (seg.field(f).present() && !seg.field(f).empty()) from_one_field(c, f);
  };
  if (!relative_ && ids && segment_len_ == 3) {
    Cursor c;
    std::uint32_t seen = 0;
    ids->for_each_with_key(segment_key_, [&](std::uint32_t i) {
      if (occurrence_ != kAll && ++seen != occurrence_) return true;
      c.segment = i;
      from_field(c);
      return occurrence_ == kAll;
    });
    return;
  }
  if (!relative_) {
    Cursor c;
    std::uint32_t seen = 0;
    for (std::size_t i = 0; i < m.segment_count(); ++i) {
      if (!matches(m, ids, i)) continue;
      if (occurrence_ != kAll && ++seen != occurrence_) continue;
      c.segment = static_cast<std::uint32_t>(i);
      from_field(c);
      if (occurrence_ != kAll) break;
    }
    return;
  }
  // Relative: keep the context's outer parts.
  if (starts_at_ == V2Level::kSegment) {
    Cursor c;
    c.segment = context.segment;
    from_field(c);
    return;
  }
  Cursor d = context;
  if (starts_at_ == V2Level::kField) {
    d.component = component_;
    d.subcomponent = subcomponent_;
  } else {  // component context: only the sub-component is relative
    d.subcomponent = subcomponent_;
  }
  d.level = starts_at_ == V2Level::kField ? level_ : V2Level::kSubcomponent;
  fn(static_cast<const Cursor&>(d));
}

}  // namespace midhurst::mapping
