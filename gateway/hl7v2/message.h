// Message: one HL7v2 message, parsed without copying.
//
// A Message owns its bytes (as received, or as built) and an index of every delimiter in
// them, made in one pass: segments, fields, repetitions, components and sub-components. All
// access returns views (Segment, Element) into those bytes; escape sequences and the character
// set are decoded only when a value is read as text.
//
// Lifetime: a Segment or Element borrows from its Message. It stays valid until the Message
// is destroyed, moved from, re-parsed (reset) or modified (set*, append_segment).
//
// Threading: a const Message may be read from many threads at once; modifying it needs
// exclusive access.
//
// Parsing is deliberately lenient about content and strict about framing: parse() fails only
// when the message cannot be indexed at all (no MSH, bad MSH-1/MSH-2, too large). Everything
// else (missing MSH-9, bad segment ids, invalid bytes for the charset...) is reported by
// validate() in validate.h, so that a feed's problems can all be listed at once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hl7v2/charset.h"
#include "hl7v2/delimiters.h"
#include "hl7v2/issue.h"
#include "hl7v2/path.h"

namespace midhurst::hl7v2 {

class Message;

// Depth in the message tree. The numeric value is also the kind of delimiter token that
// ends an element of that level (segment terminator, field separator, ...).
enum class Level : uint8_t { kSegment = 1, kField = 2, kRepetition = 3, kComponent = 4, kSubcomponent = 5 };

// A view of one field, repetition, component or sub-component. A default-constructed or
// out-of-range Element is "absent": present() is false and every read gives "".
class Element {
 public:
  Element() = default;

  bool present() const { return msg_ != nullptr; }
  Level level() const { return level_; }
  // The bytes as they stand in the message, escape sequences and delimiters included.
  std::string_view raw() const;
  bool empty() const { return begin_ == end_; }
  // HL7 "null": the value "" (two double quotes), meaning "delete the stored value".
  bool is_null() const { return raw() == "\"\""; }

  // Number of parts at the next level (repetitions of a field, components of a repetition,
  // sub-components of a component): 0 when absent, 1 for a plain value.
  size_t size() const;
  // The n-th part (1-based) at the next level; absent when n is out of range.
  Element part(size_t n) const;

  // Calls fn(part) for every part at the next level, in order: part(1) .. part(size()) in
  // one pass over the index (part(n) alone walks from the start each time).
  template <typename F>
  void for_each_part(F&& fn) const;

  // On a field: calls fn(leaf, repetition, component, subcomponent, split) for every
  // sub-component of every component of every repetition, empty ones included, in one pass
  // over the index (numbers 1-based; split: the component holds more than one sub-component).
  // The same leaves as three nested for_each_part, without re-walking each level.
  template <typename F>
  void for_each_leaf(F&& fn) const;

  // True iff some byte of the element is not a delimiter: a value in it holds text ("^^~^"
  // holds none). From the index alone: every delimiter byte inside is one token.
  bool holds_text() const { return msg_ && end_ - begin_ > tok_end_ - tok_begin_; }

  // Navigation that skips levels as HL7 paths do: on a field, component(n) is the n-th
  // component of its first repetition; on a field or repetition, subcomponent(n) is the n-th
  // sub-component of its first component.
  Element repetition(size_t n) const;
  Element component(size_t n) const;
  Element subcomponent(size_t n) const;

  // The value as UTF-8 text, escapes decoded. Invalid bytes for the charset become U+FFFD
  // (validate() reports them with their location).
  std::string text() const;
  // Same, without allocating when the value needs no decoding: returns a view of the
  // message's bytes or of `scratch` (which it overwrites).
  std::string_view text(std::string& scratch) const;

  // Where this element is, for error reports.
  Location location() const;

 private:
  friend class Message;
  friend class Segment;
  const Message* msg_ = nullptr;
  uint32_t begin_ = 0, end_ = 0;          // byte range [begin_, end_)
  uint32_t tok_begin_ = 0, tok_end_ = 0;  // tokens strictly inside the range
  Level level_ = Level::kField;
  uint32_t segment_ = 0;                  // 0-based segment index
  uint16_t field_ = 0, rep_ = 0, comp_ = 0, sub_ = 0;

  void set_part_number(size_t n);
  std::string_view text_slow(std::string& scratch) const;
  // True iff a value inside this element holds an escape character (from the index's flags).
  bool holds_escape() const;
};

// A view of one segment.
class Segment {
 public:
  Segment(const Message* msg, uint32_t index) : msg_(msg), index_(index) {}

  // The segment id: the bytes before the first field separator ("PID").
  std::string_view id() const;
  std::string_view raw() const;
  size_t index() const { return index_; }  // 0-based position in the message
  // The highest field number present (MSH-1 counts as a field of MSH).
  size_t field_count() const;
  // Field n (1-based); absent when n > field_count(). For MSH, BHS and FHS, field 1 is the
  // field separator and field 2 the encoding characters, as in the standard.
  Element field(size_t n) const;
  // Shorthand for field(f).repetition(r).component(c).subcomponent(s), 0 meaning "whole".
  Element at(size_t f, size_t r = 1, size_t c = 0, size_t s = 0) const;
  // Calls fn(n, field(n)) for every n from `first` (1-based) to field_count(), in order, in one
  // pass over the field table: the way to visit every field of a segment.
  template <typename F>
  void for_each_field(size_t first, F&& fn) const;

  // Calls fn(value) for every leaf value of the segment in order: each sub-component of each
  // component of each repetition of each field, empty ones included, as an Element of level
  // kSubcomponent whose location() names it. One linear pass over the index: the way to read
  // a whole message.
  template <typename F>
  void for_each_value(F&& fn) const;

 private:
  const Message* msg_;
  uint32_t index_;
};

class Message {
 public:
  // Largest message accepted (the byte offsets of the index are 29 bits).
  static constexpr size_t kMaxBytes = (1u << 28) - 1;

  Message() = default;

  // Parses `bytes` (segments ended by \r, \n or \r\n). Fails only when the message cannot be
  // indexed: nothing before the first MSH, a bad MSH-1 or MSH-2, or more than kMaxBytes.
  static Result<Message, Issue> parse(std::string bytes);
  // Parses into this object, reusing its buffers, for hot loops. On failure returns false,
  // sets *error (when non-null) and leaves the message empty.
  bool reset(std::string_view bytes, Issue* error = nullptr);

  // A new message holding only "MSH" and the encoding characters, to be filled with set().
  static Message create(const Delimiters& delimiters = {});

  const std::string& bytes() const { return bytes_; }
  const Delimiters& delimiters() const { return delims_; }
  // The effective charset: the declared one (MSH-18), except that a message declaring an
  // ISO-8859 part whose bytes are valid multi-byte UTF-8 is read as UTF-8 (see notes()).
  const Charset& charset() const { return charset_; }
  // Things noticed while parsing that are not errors (e.g. that charset decision).
  const Issues& notes() const { return notes_; }

  size_t segment_count() const { return segments_.size(); }
  Segment segment(size_t index) const { return Segment(this, static_cast<uint32_t>(index)); }
  // The occurrence-th (1-based) segment with this id, if any.
  std::optional<Segment> find(std::string_view id, size_t occurrence = 1) const;
  // Every segment with this id, in order.
  std::vector<Segment> all(std::string_view id) const;

  // The element a path names; absent when the message does not have it. A path with
  // repetition [*] reads the first repetition.
  Element get(const Path& path) const;
  // Same with a path in text form; absent when the path is malformed.
  Element get(std::string_view path) const;
  // get(path).text(): "" when absent.
  std::string text(std::string_view path) const { return get(path).text(); }

  // The location of the byte at `offset`, as deep as the index can tell.
  Location locate(size_t offset) const;

  // The message as bytes with every segment ended by `terminator`. For a parsed message
  // this equals the bytes received, apart from the segment separators.
  std::string encode(char terminator = '\r') const;

  // Sets the element at `path` to `text`, escaping every delimiter in it. `text` is UTF-8 and
  // is written in the message's charset (MSH-18); characters that charset cannot hold become
  // '?'. Missing segments (the next occurrence only), fields, repetitions and components are
  // created. Fails for MSH-1/MSH-2 (use create()), for [*], and for an occurrence beyond the
  // next one.
  Status<std::string> set(const Path& path, std::string_view text);
  Status<std::string> set(std::string_view path, std::string_view text);
  // Same, but `encoded` is written as it is: it must already be escaped, and its component,
  // repetition and sub-component delimiters are kept as structure ("SMITH^JOHN").
  Status<std::string> set_encoded(const Path& path, std::string_view encoded);
  // Appends a segment written out in full ("NTE|1||text"); it must use this message's
  // delimiters and hold no segment terminator.
  Status<std::string> append_segment(std::string_view raw_segment);

 private:
  friend class Element;
  friend class Segment;

  struct SegmentIndex {
    uint32_t begin, end;          // bytes [begin, end), terminator excluded
    uint32_t tok_begin, tok_end;  // tokens inside; tok_end is the terminator token
    uint32_t field_first;         // first entry in fields_ (the separator that opens field 1)
    uint32_t field_count;         // entries in fields_ for this segment
    bool header;                  // MSH, BHS or FHS: fields 1 and 2 are the delimiters
  };

  // A token is offset << 4 | escaped << 3 | kind: the delimiter's byte offset, whether the
  // value it opens holds an escape character, and the delimiter's Level.
  static constexpr int kOffsetShift = 4;
  static constexpr uint32_t kEscapedFlag = 8;
  static uint32_t tok_offset(uint32_t tok) { return tok >> kOffsetShift; }
  static uint8_t tok_kind(uint32_t tok) { return tok & 7; }
  static bool tok_escaped(uint32_t tok) { return tok & kEscapedFlag; }

  bool index(Issue* error);
  bool is_header_segment(uint32_t index) const;
  Element field_element(uint32_t segment, size_t n) const;
  Status<std::string> replace_segment(uint32_t index, std::string_view raw_segment);

  std::string bytes_;
  Delimiters delims_;
  Charset charset_;
  Issues notes_;
  bool text_is_valid_ = true;       // every byte is valid in charset_
  bool plain_text_ = false;         // valid ASCII or UTF-8: unescaped values need no conversion
  bool verbatim_text_ = false;      // plain_text_ and no escape character at all: text == raw
  std::vector<uint32_t> tokens_;    // one token per delimiter, in order (see tok_offset)
  uint32_t token_count_ = 0;        // tokens_ is only grown, so this is its real length
  std::vector<uint32_t> fields_;    // token indices of field separators (only grown)
  uint32_t field_count_ = 0;        // its real length
  std::vector<SegmentIndex> segments_;
};

inline bool Element::holds_escape() const {
  // MSH-1 and MSH-2 (tok_begin_ == 0) hold the delimiters themselves, never escapes. The
  // token before tok_begin_ opens this element; those inside open its other values.
  if (tok_begin_ == 0) return false;
  const uint32_t* tok = msg_->tokens_.data();
  for (uint32_t k = tok_begin_ - 1; k < tok_end_; ++k)
    if (Message::tok_escaped(tok[k])) return true;
  return false;
}

template <typename F>
void Segment::for_each_field(size_t first, F&& fn) const {
  const Message::SegmentIndex& s = msg_->segments_[index_];
  const size_t count = field_count();
  size_t n = std::max<size_t>(first, 1);
  // MSH-1 and MSH-2 hold the delimiters: no separator of the table opens them.
  const size_t shift = s.header ? 1 : 0;
  if (s.header)
    for (; n <= 2 && n <= count; ++n) fn(n, static_cast<const Element&>(field(n)));
  const uint32_t* tok = msg_->tokens_.data();
  const uint32_t* fld = msg_->fields_.data() + s.field_first;
  Element e;
  e.msg_ = msg_;
  e.level_ = Level::kField;
  e.segment_ = index_;
  // k: the separator that opens the field, 1-based (a header without fields leaves n at 1).
  for (size_t k = std::max<size_t>(n - shift, 1); k <= s.field_count; ++k) {
    const uint32_t open = fld[k - 1];
    const uint32_t close = k < s.field_count ? fld[k] : s.tok_end;
    e.begin_ = Message::tok_offset(tok[open]) + 1;
    e.end_ = k < s.field_count ? Message::tok_offset(tok[close]) : s.end;
    e.tok_begin_ = open + 1;
    e.tok_end_ = close;
    e.field_ = static_cast<uint16_t>(std::min<size_t>(k + shift, UINT16_MAX));
    fn(k + shift, static_cast<const Element&>(e));
  }
}

template <typename F>
void Segment::for_each_value(F&& fn) const {
  const Message::SegmentIndex& s = msg_->segments_[index_];
  if (s.field_count == 0) return;
  const uint32_t* tok = msg_->tokens_.data();
  uint32_t k;
  size_t fno = 0, rep = 1, comp = 1, sub = 1;
  if (s.header) {
    for (size_t f = 1; f <= 2; ++f) {  // MSH-1 and MSH-2 are single values
      Element e = this->field(f);
      e.level_ = Level::kSubcomponent;
      e.rep_ = e.comp_ = e.sub_ = 1;
      fn(static_cast<const Element&>(e));
    }
    if (s.field_count < 2) return;
    k = msg_->fields_[s.field_first + 1];
    fno = 2;
  } else {
    k = msg_->fields_[s.field_first];
  }
  Element e;
  e.msg_ = msg_;
  e.level_ = Level::kSubcomponent;
  e.segment_ = index_;
  for (; k < s.tok_end; ++k) {
    // The delimiter before a value says which counter moves and which restart; written
    // without branches because the kinds follow the data, which no predictor can guess.
    const uint32_t kind = Message::tok_kind(tok[k]);
    fno += kind == 2;
    rep = kind == 2 ? 1 : rep + (kind == 3);
    comp = kind <= 3 ? 1 : comp + (kind == 4);
    sub = kind <= 4 ? 1 : sub + (kind == 5);
    e.begin_ = Message::tok_offset(tok[k]) + 1;
    e.end_ = k + 1 < s.tok_end ? Message::tok_offset(tok[k + 1]) : s.end;
    e.tok_begin_ = e.tok_end_ = k + 1;
    e.field_ = static_cast<uint16_t>(fno);
    e.rep_ = static_cast<uint16_t>(rep);
    e.comp_ = static_cast<uint16_t>(comp);
    e.sub_ = static_cast<uint16_t>(sub);
    fn(static_cast<const Element&>(e));
  }
}

inline std::string_view Element::text(std::string& scratch) const {
  // Most messages hold no escape sequence and are ASCII or UTF-8: then a value's text is its
  // bytes, and reading it costs nothing.
  if (msg_ && msg_->plain_text_) {
    std::string_view raw(msg_->bytes_.data() + begin_, end_ - begin_);
    if (msg_->verbatim_text_ || !holds_escape()) return raw;
  }
  return text_slow(scratch);
}

template <typename F>
void Element::for_each_part(F&& fn) const {
  if (!msg_) return;
  if (level_ == Level::kSubcomponent) {
    fn(*this);
    return;
  }
  const uint8_t split = static_cast<uint8_t>(level_) + 1;
  const uint32_t* tok = msg_->tokens_.data();
  Element e = *this;
  e.level_ = static_cast<Level>(split);
  size_t n = 1;
  e.begin_ = begin_;
  e.tok_begin_ = tok_begin_;
  for (uint32_t k = tok_begin_; k < tok_end_; ++k) {
    if (Message::tok_kind(tok[k]) != split) continue;
    e.end_ = Message::tok_offset(tok[k]);
    e.tok_end_ = k;
    e.set_part_number(n++);
    fn(static_cast<const Element&>(e));
    e.begin_ = e.end_ + 1;
    e.tok_begin_ = k + 1;
  }
  e.end_ = end_;
  e.tok_end_ = tok_end_;
  e.set_part_number(n);
  fn(static_cast<const Element&>(e));
}

template <typename F>
void Element::for_each_leaf(F&& fn) const {
  if (!msg_ || level_ != Level::kField) return;
  const uint32_t* tok = msg_->tokens_.data();
  Element e = *this;
  e.level_ = Level::kSubcomponent;
  uint32_t rep = 1, comp = 1, sub = 1;
  uint32_t begin = begin_, tok_begin = tok_begin_;
  for (uint32_t k = tok_begin_; k <= tok_end_; ++k) {
    const bool at_end = k == tok_end_;
    const uint8_t kind = at_end ? 0 : Message::tok_kind(tok[k]);
    e.begin_ = begin;
    e.end_ = at_end ? end_ : Message::tok_offset(tok[k]);
    e.tok_begin_ = tok_begin;
    e.tok_end_ = k;
    e.rep_ = static_cast<uint16_t>(std::min<uint32_t>(rep, UINT16_MAX));
    e.comp_ = static_cast<uint16_t>(std::min<uint32_t>(comp, UINT16_MAX));
    e.sub_ = static_cast<uint16_t>(std::min<uint32_t>(sub, UINT16_MAX));
    fn(static_cast<const Element&>(e), rep, comp, sub, sub > 1 || kind == 5);
    if (at_end) break;
    if (kind == 3) ++rep, comp = 1, sub = 1;
    else if (kind == 4) ++comp, sub = 1;
    else ++sub;
    begin = e.end_ + 1;
    tok_begin = k + 1;
  }
}

}  // namespace midhurst::hl7v2
