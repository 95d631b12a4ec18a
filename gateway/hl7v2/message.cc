#include "hl7v2/message.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hl7v2/escape.h"

namespace midhurst::hl7v2 {
namespace {

bool is_terminator(char c) { return c == '\r' || c == '\n'; }

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_header_id(std::string_view id) { return id == "MSH" || id == "BHS" || id == "FHS"; }

Issue framing_error(ErrorCode code, uint32_t field, std::string why) {
  Issue issue;
  issue.severity = Severity::kError;
  issue.code = code;
  issue.where.segment_index = 1;
  issue.where.segment_id = "MSH";
  issue.where.segment_occurrence = 1;
  issue.where.field = field;
  issue.why = std::move(why);
  return issue;
}

std::string printable(char c) {
  if (c == '\r') return "\\r";
  if (c == '\n') return "\\n";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(c));
    return buf;
  }
  return std::string(1, c);
}

// Replaces the n-th (1-based) part of `s` split by `delim` with `value`, adding empty parts
// when s has fewer than n.
std::string replace_part(std::string_view s, char delim, size_t n, std::string_view value) {
  std::string out;
  size_t start = 0;
  for (size_t part = 1;; ++part) {
    size_t end = s.find(delim, start);
    bool last = end == std::string_view::npos;
    if (last) end = s.size();
    if (part == n) {
      out.append(s.substr(0, start));
      out.append(value);
      out.append(s.substr(end));
      return out;
    }
    if (last) {
      out.assign(s);
      out.append(n - part, delim);
      out.append(value);
      return out;
    }
    start = end + 1;
  }
}

// The n-th (1-based) part of `s` split by `delim`, or "" when there are fewer.
std::string_view nth_part(std::string_view s, char delim, size_t n) {
  size_t start = 0;
  for (size_t part = 1;; ++part) {
    size_t end = s.find(delim, start);
    if (part == n) return s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (end == std::string_view::npos) return {};
    start = end + 1;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parsing

Result<Message, Issue> Message::parse(std::string bytes) {
  Message m;
  m.bytes_ = std::move(bytes);
  Issue error;
  if (!m.index(&error)) return err(std::move(error));
  return m;
}

bool Message::reset(std::string_view bytes, Issue* error) {
  bytes_.assign(bytes.data(), bytes.size());
  Issue local;
  return index(error ? error : &local);
}

Message Message::create(const Delimiters& d) {
  Message m;
  m.bytes_ = "MSH";
  m.bytes_.push_back(d.field);
  m.bytes_ += d.encoding_characters();
  Issue ignored;
  m.index(&ignored);
  return m;
}

bool Message::index(Issue* error) {
  segments_.clear();
  notes_.clear();
  token_count_ = 0;
  field_count_ = 0;
  text_is_valid_ = true;
  plain_text_ = false;
  verbatim_text_ = false;
  charset_ = Charset{};

  auto fail = [&](Issue issue) {
    *error = std::move(issue);
    bytes_.clear();
    segments_.clear();
    token_count_ = 0;
    field_count_ = 0;
    return false;
  };

  const size_t n = bytes_.size();
  if (n > kMaxBytes)
    return fail(framing_error(ErrorCode::kApplicationInternalError, 0,
                              "message is " + std::to_string(n) + " bytes; the limit is " +
                                  std::to_string(kMaxBytes)));
  const char* p = bytes_.data();

  // Blank lines before the header are tolerated (files often start with one).
  size_t start = 0;
  while (start < n && is_terminator(p[start])) ++start;
  if (n - start < 3 || std::memcmp(p + start, "MSH", 3) != 0) {
    std::string seen(p + start, std::min<size_t>(n - start, 3));
    for (char& c : seen)
      if (!is_alnum(c)) c = '?';
    Issue e = framing_error(ErrorCode::kSegmentSequence, 0,
                            n == start ? "the message is empty: it must start with an MSH segment"
                                       : "the message must start with an MSH segment, found \"" + seen + "\"");
    e.where.segment_id.clear();  // what is there is not a segment id; the reason quotes it
    return fail(std::move(e));
  }
  if (n - start < 4 || is_terminator(p[start + 3]))
    return fail(framing_error(ErrorCode::kRequiredFieldMissing, 1, "MSH-1 (the field separator) is missing"));
  const char fs = p[start + 3];
  if (is_alnum(fs) || fs == ' ' || static_cast<unsigned char>(fs) < 0x20 || static_cast<unsigned char>(fs) >= 0x7F)
    return fail(framing_error(ErrorCode::kDataType, 1,
                              "MSH-1 must be a field separator character, found '" + printable(fs) + "'"));

  // MSH-2: component, repetition, escape, sub-component, and from v2.7 an optional truncation
  // character, up to the next field separator.
  size_t enc_begin = start + 4, enc_end = enc_begin;
  while (enc_end < n && p[enc_end] != fs && !is_terminator(p[enc_end])) ++enc_end;
  const size_t enc_len = enc_end - enc_begin;
  std::string_view enc(p + enc_begin, enc_len);
  if (enc_len < 4 || enc_len > 5)
    return fail(framing_error(ErrorCode::kDataType, 2,
                              "MSH-2 must hold 4 encoding characters (component, repetition, escape, "
                              "sub-component; 5 from v2.7 with truncation), found " +
                                  std::to_string(enc_len) + ": \"" + std::string(enc) + "\""));
  for (size_t i = 0; i < enc_len; ++i) {
    char c = enc[i];
    if (is_alnum(c) || c == ' ' || static_cast<unsigned char>(c) >= 0x80)
      return fail(framing_error(ErrorCode::kDataType, 2,
                                "MSH-2 character " + std::to_string(i + 1) + " ('" + printable(c) +
                                    "') cannot be a delimiter"));
    for (size_t j = 0; j < i; ++j)
      if (enc[j] == c)
        return fail(framing_error(ErrorCode::kDataType, 2,
                                  "MSH-2 uses '" + printable(c) + "' twice; every delimiter must differ"));
  }
  delims_.field = fs;
  delims_.component = enc[0];
  delims_.repetition = enc[1];
  delims_.escape = enc[2];
  delims_.subcomponent = enc[3];
  delims_.truncation = enc_len == 5 ? enc[4] : '\0';

  // Pass 1: one token per delimiter byte. The loop is branch-free so that dense delimiters
  // cost no mispredictions; the escape character is not a delimiter (escaped delimiters are
  // written as \F\ and so on, never literally).
  uint8_t cls[256] = {};
  cls[static_cast<unsigned char>('\r')] = static_cast<uint8_t>(Level::kSegment);
  cls[static_cast<unsigned char>('\n')] = static_cast<uint8_t>(Level::kSegment);
  cls[static_cast<unsigned char>(delims_.field)] = static_cast<uint8_t>(Level::kField);
  cls[static_cast<unsigned char>(delims_.repetition)] = static_cast<uint8_t>(Level::kRepetition);
  cls[static_cast<unsigned char>(delims_.component)] = static_cast<uint8_t>(Level::kComponent);
  cls[static_cast<unsigned char>(delims_.subcomponent)] = static_cast<uint8_t>(Level::kSubcomponent);

  if (tokens_.size() < n + 2) tokens_.resize(n + 2);
  uint32_t* tok = tokens_.data();
  uint32_t t = 0;
  // MSH-1 is the separator itself; its token opens MSH-2, which is not scanned.
  tok[t++] = static_cast<uint32_t>((start + 3) << kOffsetShift) | static_cast<uint32_t>(Level::kField);
  unsigned char high = 0;
  bool has_escape = false;
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  const unsigned char esc = static_cast<unsigned char>(delims_.escape);
  // One byte: a token if it is a delimiter (branch-free); an escape character flags the
  // token that opens the value holding it, so reading a value knows whether to unescape.
  auto scan_byte = [&](size_t at) {
    const unsigned char b = u[at];
    const uint32_t kind = cls[b];
    tok[t] = static_cast<uint32_t>(at << kOffsetShift) | kind;
    t += kind != 0;
    high |= b;
    if (b == esc) {
      tok[t - 1] |= kEscapedFlag;
      has_escape = true;
    }
  };
  size_t i = enc_end;
#if defined(__SSE2__)
  // 16 bytes at a time: compare against the six delimiter bytes, then emit a token per set
  // bit. HL7 text has a delimiter every few bytes, so the per-delimiter work dominates and
  // this keeps it to a count-trailing-zeros and one store.
  {
    const __m128i v_cr = _mm_set1_epi8('\r'), v_lf = _mm_set1_epi8('\n');
    const __m128i v_fs = _mm_set1_epi8(delims_.field), v_rep = _mm_set1_epi8(delims_.repetition);
    const __m128i v_cmp = _mm_set1_epi8(delims_.component), v_sub = _mm_set1_epi8(delims_.subcomponent);
    const __m128i v_esc = _mm_set1_epi8(delims_.escape);
    __m128i v_high = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + i));
      v_high = _mm_or_si128(v_high, v);
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_esc))) {
        // Rare: an escape character. Do this block byte by byte so that the value holding
        // it gets its flag.
        for (size_t j = i; j < i + 16; ++j) scan_byte(j);
        continue;
      }
      const __m128i hit = _mm_or_si128(
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, v_cr), _mm_cmpeq_epi8(v, v_lf)),
                       _mm_or_si128(_mm_cmpeq_epi8(v, v_fs), _mm_cmpeq_epi8(v, v_rep))),
          _mm_or_si128(_mm_cmpeq_epi8(v, v_cmp), _mm_cmpeq_epi8(v, v_sub)));
      unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
      while (mask) {
        const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
        tok[t++] = static_cast<uint32_t>(at << kOffsetShift) | cls[u[at]];
        mask &= mask - 1;
      }
    }
    if (_mm_movemask_epi8(v_high)) high = 0x80;
  }
#endif
  // The tail (or everything without SSE2): branch-free, one store per byte.
  for (; i < n; ++i) scan_byte(i);
  // Every segment ends with a terminator token: one more at the end of the bytes closes a
  // last segment that has none (after a final terminator it only opens an empty segment,
  // which pass 2 skips).
  tok[t++] = static_cast<uint32_t>(n << kOffsetShift) | static_cast<uint32_t>(Level::kSegment);
  token_count_ = t;

  // Pass 2: segments and the field table. Field separators are written without a branch
  // (they are most tokens); segment ends are rarer and predictable.
  if (fields_.size() < t) fields_.resize(t);
  uint32_t* fld = fields_.data();
  uint32_t f = 0;
  uint32_t seg_begin = static_cast<uint32_t>(start);
  uint32_t seg_tok = 0;
  uint32_t field_first = 0;
  for (uint32_t k = 0; k < t; ++k) {
    const uint32_t v = tok[k];
    const uint8_t kind = tok_kind(v);
    fld[f] = k;
    f += kind == static_cast<uint8_t>(Level::kField);
    if (kind == static_cast<uint8_t>(Level::kSegment)) {
      const uint32_t off = tok_offset(v);
      if (off > seg_begin) {
        const bool header = off - seg_begin >= 3 && is_header_id(std::string_view(p + seg_begin, 3)) &&
                            (off - seg_begin == 3 || p[seg_begin + 3] == delims_.field);
        segments_.push_back({seg_begin, off, seg_tok, k, field_first, f - field_first, header});
      }
      seg_begin = off + 1;
      seg_tok = k + 1;
      field_first = f;
    }
  }
  field_count_ = f;

  // Charset: MSH-18, first repetition, first component.
  Segment msh(this, 0);
  std::string_view msh18 = msh.at(18, 1, 1).raw();
  charset_ = charset_from_msh18(msh18);
  if (high & 0x80) {
    if (charset_.kind == CharsetKind::kIso8859 && is_multibyte_utf8(bytes_)) {
      // Decision (see README, "Character sets"): text that is valid multi-byte UTF-8 is
      // almost never Latin text, and reading it as 8859 would turn "Testpatiënt" into
      // mojibake, so it is read as UTF-8 and the mismatch is reported as a warning.
      Issue note;
      note.severity = Severity::kWarning;
      note.code = ErrorCode::kDataType;
      note.where = msh.field(18).location();
      note.why = "MSH-18 declares " + std::string(msh18) +
                 " but the bytes are valid UTF-8 with multi-byte characters; read as UTF-8";
      notes_.push_back(std::move(note));
      charset_.kind = CharsetKind::kUtf8;
      charset_.iso8859_part = 0;
    }
    text_is_valid_ = find_invalid_byte(bytes_, charset_) == std::string_view::npos;
  }
  plain_text_ = text_is_valid_ && charset_.is_utf8_compatible();
  verbatim_text_ = plain_text_ && !has_escape;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Lookup

bool Message::is_header_segment(uint32_t index) const { return segments_[index].header; }

std::optional<Segment> Message::find(std::string_view id, size_t occurrence) const {
  size_t seen = 0;
  for (uint32_t i = 0; i < segments_.size(); ++i) {
    if (Segment(this, i).id() == id && ++seen == occurrence) return Segment(this, i);
  }
  return std::nullopt;
}

std::vector<Segment> Message::all(std::string_view id) const {
  std::vector<Segment> out;
  for (uint32_t i = 0; i < segments_.size(); ++i)
    if (Segment(this, i).id() == id) out.emplace_back(this, i);
  return out;
}

Element Message::get(const Path& path) const {
  std::optional<Segment> seg = find(path.segment_id(), path.occurrence);
  if (!seg) return {};
  Element e = seg->field(path.field);
  if (!e.present()) return {};
  e = e.part(path.repetition == Path::kAll ? 1 : path.repetition);
  if (path.component) {
    e = e.part(path.component);
    if (path.subcomponent) e = e.part(path.subcomponent);
  }
  return e;
}

Element Message::get(std::string_view path) const {
  auto p = Path::parse(path);
  if (!p) return {};
  return get(*p);
}

// Inlined into Segment::field, its only caller: every field read goes through it.
[[gnu::always_inline]] inline Element Message::field_element(uint32_t s, size_t n) const {
  const SegmentIndex& seg = segments_[s];
  const bool header = is_header_segment(s);
  Element e;
  if (n == 0) return e;
  e.msg_ = this;
  e.level_ = Level::kField;
  e.segment_ = s;
  e.field_ = static_cast<uint16_t>(std::min<size_t>(n, UINT16_MAX));
  if (header && n <= 2) {
    if (seg.field_count == 0) return {};
    const uint32_t sep = tok_offset(tokens_[fields_[seg.field_first]]);
    if (n == 1) {  // MSH-1: the separator character itself
      e.begin_ = sep;
      e.end_ = sep + 1;
    } else {       // MSH-2: the encoding characters, never split
      e.begin_ = sep + 1;
      e.end_ = seg.field_count > 1 ? tok_offset(tokens_[fields_[seg.field_first + 1]]) : seg.end;
    }
    e.tok_begin_ = e.tok_end_ = 0;
    return e;
  }
  const size_t k = header ? n - 1 : n;  // index of the separator that opens the field, 1-based
  if (k > seg.field_count) return {};
  const uint32_t open = fields_[seg.field_first + k - 1];
  const uint32_t close = k < seg.field_count ? fields_[seg.field_first + k] : seg.tok_end;
  e.begin_ = tok_offset(tokens_[open]) + 1;
  e.end_ = k < seg.field_count ? tok_offset(tokens_[close]) : seg.end;
  e.tok_begin_ = open + 1;
  e.tok_end_ = close;
  return e;
}

Location Message::locate(size_t offset) const {
  Location loc;
  loc.byte_offset = static_cast<int64_t>(offset);
  if (segments_.empty()) return loc;
  // The last segment that begins at or before offset.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](size_t off, const SegmentIndex& s) { return off < s.begin; });
  if (it == segments_.begin()) return loc;
  const uint32_t s = static_cast<uint32_t>(it - segments_.begin() - 1);
  Segment seg(this, s);
  loc.segment_index = s + 1;
  loc.segment_id = std::string(seg.id());
  loc.segment_occurrence = 0;
  for (uint32_t i = 0; i <= s; ++i)
    if (Segment(this, i).id() == seg.id()) ++loc.segment_occurrence;
  for (size_t f = seg.field_count(); f >= 1; --f) {
    Element e = seg.field(f);
    if (e.begin_ > offset || offset > e.end_) continue;
    loc.field = static_cast<uint32_t>(f);
    // Walk down while a part holds the offset.
    Element cur = e;
    for (int depth = 0; depth < 3; ++depth) {
      const size_t parts = cur.size();
      bool found = false;
      for (size_t i = 1; i <= parts; ++i) {
        Element child = cur.part(i);
        if (child.begin_ <= offset && offset <= child.end_) {
          if (depth == 0) loc.repetition = static_cast<uint32_t>(i);
          if (depth == 1) loc.component = static_cast<uint32_t>(i);
          if (depth == 2) loc.subcomponent = static_cast<uint32_t>(i);
          cur = child;
          found = true;
          break;
        }
      }
      if (!found || (is_header_segment(s) && f <= 2)) break;
    }
    break;
  }
  return loc;
}

// ---------------------------------------------------------------------------------------------
// Encoding and building

std::string Message::encode(char terminator) const {
  std::string out;
  out.reserve(bytes_.size() + 1);
  for (const SegmentIndex& s : segments_) {
    out.append(bytes_, s.begin, s.end - s.begin);
    out.push_back(terminator);
  }
  return out;
}

Status<std::string> Message::replace_segment(uint32_t index, std::string_view raw_segment) {
  std::string next;
  if (index < segments_.size()) {
    const SegmentIndex& s = segments_[index];
    next.reserve(bytes_.size() + raw_segment.size());
    next.append(bytes_, 0, s.begin);
    next.append(raw_segment);
    next.append(bytes_, s.end, std::string::npos);
  } else {
    next = bytes_;
    if (!next.empty() && !is_terminator(next.back())) next.push_back('\r');
    next.append(raw_segment);
    next.push_back('\r');
  }
  Message copy;
  copy.bytes_ = std::move(next);
  Issue error;
  if (!copy.index(&error)) return err("the change would break the message: " + error.why);
  *this = std::move(copy);
  return {};
}

Status<std::string> Message::set(const Path& path, std::string_view text) {
  std::string encoded;
  if (charset_.kind == CharsetKind::kUtf8) {
    escape(text, delims_, encoded);
  } else {
    // Text is UTF-8; the message's bytes are in its declared charset.
    std::string converted;
    append_from_utf8(text, charset_, converted);
    escape(converted, delims_, encoded);
  }
  return set_encoded(path, encoded);
}

Status<std::string> Message::set(std::string_view path, std::string_view text) {
  auto p = Path::parse(path);
  if (!p) return err(p.error());
  return set(*p, text);
}

Status<std::string> Message::set_encoded(const Path& path, std::string_view encoded) {
  if (path.repetition == Path::kAll) return err(std::string("cannot set a path with [*]: name one repetition"));
  if (encoded.find_first_of("\r\n") != std::string_view::npos || encoded.find(delims_.field) != std::string_view::npos)
    return err(std::string("an encoded value cannot hold a field separator or a segment terminator"));
  const bool header_id = is_header_id(path.segment_id());
  if (header_id && path.field <= 2)
    return err(path.to_string() + " holds the delimiters; build the message with Message::create() instead");

  // Find the segment, or the place for a new one (only the next occurrence).
  uint32_t index = static_cast<uint32_t>(segments_.size());
  std::string current(path.segment_id());
  size_t seen = 0;
  for (uint32_t i = 0; i < segments_.size(); ++i) {
    if (Segment(this, i).id() == path.segment_id() && ++seen == path.occurrence) {
      index = i;
      current = std::string(Segment(this, i).raw());
      break;
    }
  }
  if (index == segments_.size() && seen + 1 != path.occurrence)
    return err(path.to_string() + ": the message has " + std::to_string(seen) + " " +
               std::string(path.segment_id()) + " segment(s); only the next one can be added");

  // Split off the field, then work down to the part being replaced, and back up.
  const size_t field_index = header_id ? path.field - 1 : path.field;  // index among fs-split parts
  std::string_view field = nth_part(current, delims_.field, field_index + 1);
  std::string value(encoded);
  if (path.component) {
    std::string_view rep = nth_part(field, delims_.repetition, path.repetition);
    if (path.subcomponent) {
      std::string_view comp = nth_part(rep, delims_.component, path.component);
      value = replace_part(comp, delims_.subcomponent, path.subcomponent, value);
    }
    value = replace_part(rep, delims_.component, path.component, value);
  }
  value = replace_part(field, delims_.repetition, path.repetition, value);
  std::string segment = replace_part(current, delims_.field, field_index + 1, value);
  return replace_segment(index, segment);
}

Status<std::string> Message::append_segment(std::string_view raw_segment) {
  if (raw_segment.size() < 3 || raw_segment.find_first_of("\r\n") != std::string_view::npos)
    return err(std::string("a segment needs a three-character id and no segment terminator"));
  return replace_segment(static_cast<uint32_t>(segments_.size()), raw_segment);
}

// ---------------------------------------------------------------------------------------------
// Segment

std::string_view Segment::id() const {
  const auto& s = msg_->segments_[index_];
  uint32_t end = s.field_count ? Message::tok_offset(msg_->tokens_[msg_->fields_[s.field_first]]) : s.end;
  return std::string_view(msg_->bytes_).substr(s.begin, end - s.begin);
}

std::string_view Segment::raw() const {
  const auto& s = msg_->segments_[index_];
  return std::string_view(msg_->bytes_).substr(s.begin, s.end - s.begin);
}

size_t Segment::field_count() const {
  const auto& s = msg_->segments_[index_];
  return msg_->is_header_segment(index_) && s.field_count ? s.field_count + 1 : s.field_count;
}

Element Segment::field(size_t n) const { return msg_->field_element(index_, n); }

Element Segment::at(size_t f, size_t r, size_t c, size_t s) const {
  Element e = msg_->field_element(index_, f);  // inlined: the hot path of mapping reads
  if (!e.present()) return e;
  if (r == 0) return {};
  // One pass over the field's tokens, stopping at the end of the element named: the same result
  // as part(r).part(c).part(s), which rescans each level (and the whole field for r = 1).
  // Mapping rules read values this way by the hundred per message, so each level is a tight
  // loop that only looks for its own delimiter.
  const uint8_t level = c == 0 ? 3 : s == 0 ? 4 : 5;  // Level of the element named
  const uint32_t* tok = msg_->tokens_.data();
  uint32_t k = e.tok_begin_;
  const uint32_t tok_last = e.tok_end_;
  uint32_t begin = e.begin_, tok_begin = k;
  // Moves to the n-th part at the level `split` separates, within the part found so far; a
  // delimiter of an outer level first means the part does not exist.
  auto skip_to = [&](size_t n, uint8_t split) {
    for (size_t i = 1; i < n; ++k) {
      if (k == tok_last) return false;
      const uint8_t kind = Message::tok_kind(tok[k]);
      if (kind < split) return false;
      if (kind == split) {
        ++i;
        begin = Message::tok_offset(tok[k]) + 1;
        tok_begin = k + 1;
      }
    }
    return true;
  };
  if (!skip_to(r, 3) || (level >= 4 && !skip_to(c, 4)) || (level == 5 && !skip_to(s, 5))) return {};
  uint32_t end = e.end_, tok_end = tok_last;
  for (; k < tok_last; ++k)
    if (Message::tok_kind(tok[k]) <= level) {  // the delimiter that ends the element
      end = Message::tok_offset(tok[k]);
      tok_end = k;
      break;
    }
  e.begin_ = begin;
  e.end_ = end;
  e.tok_begin_ = tok_begin;
  e.tok_end_ = tok_end;
  e.level_ = static_cast<Level>(level);
  auto number = [](size_t n) { return static_cast<uint16_t>(std::min<size_t>(n, UINT16_MAX)); };
  e.rep_ = number(r);
  if (level >= 4) e.comp_ = number(c);
  if (level == 5) e.sub_ = number(s);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Element

std::string_view Element::raw() const {
  if (!msg_) return {};
  return std::string_view(msg_->bytes_).substr(begin_, end_ - begin_);
}

size_t Element::size() const {
  if (!msg_) return 0;
  if (level_ == Level::kSubcomponent) return 1;
  const uint8_t split = static_cast<uint8_t>(level_) + 1;
  size_t count = 1;
  const uint32_t* tok = msg_->tokens_.data();
  for (uint32_t k = tok_begin_; k < tok_end_; ++k) count += Message::tok_kind(tok[k]) == split;
  return count;
}

Element Element::part(size_t n) const {
  if (!msg_ || n == 0) return {};
  if (level_ == Level::kSubcomponent) return n == 1 ? *this : Element{};
  const uint8_t split = static_cast<uint8_t>(level_) + 1;
  const uint32_t* tok = msg_->tokens_.data();
  Element e = *this;
  e.level_ = static_cast<Level>(split);
  size_t index = 1;
  uint32_t part_begin = begin_, part_tok = tok_begin_;
  for (uint32_t k = tok_begin_; k <= tok_end_; ++k) {
    const bool at_end = k == tok_end_;
    if (!at_end && Message::tok_kind(tok[k]) != split) continue;
    if (index == n) {
      e.begin_ = part_begin;
      e.end_ = at_end ? end_ : Message::tok_offset(tok[k]);
      e.tok_begin_ = part_tok;
      e.tok_end_ = k;
      e.set_part_number(n);
      return e;
    }
    if (at_end) break;
    ++index;
    part_begin = Message::tok_offset(tok[k]) + 1;
    part_tok = k + 1;
  }
  return {};
}

void Element::set_part_number(size_t n) {
  const auto idx = static_cast<uint16_t>(std::min<size_t>(n, UINT16_MAX));
  if (level_ == Level::kRepetition) rep_ = idx;
  else if (level_ == Level::kComponent) comp_ = idx;
  else if (level_ == Level::kSubcomponent) sub_ = idx;
}

Element Element::repetition(size_t n) const {
  return level_ == Level::kField ? part(n) : (n == 1 ? *this : Element{});
}

Element Element::component(size_t n) const {
  if (level_ == Level::kField) return part(1).part(n);
  if (level_ == Level::kRepetition) return part(n);
  return n == 1 ? *this : Element{};
}

Element Element::subcomponent(size_t n) const {
  if (level_ == Level::kField || level_ == Level::kRepetition) return component(1).part(n);
  if (level_ == Level::kComponent) return part(n);
  return n == 1 ? *this : Element{};
}

std::string_view Element::text_slow(std::string& scratch) const {
  if (!msg_) return {};
  std::string_view r = raw();
  const Delimiters& d = msg_->delims_;
  const bool escaped = holds_escape();
  if (!escaped && msg_->plain_text_) return r;
  scratch.clear();
  if (!escaped) {
    append_as_utf8(r, msg_->charset_, scratch);
    return scratch;
  }
  std::string decoded;
  unescape(r, d, decoded);
  // Hex escapes can spell any bytes, so the decoded bytes are converted (and checked) too.
  append_as_utf8(decoded, msg_->charset_, scratch);
  return scratch;
}

std::string Element::text() const {
  std::string scratch;
  std::string_view v = text(scratch);
  if (v.data() == scratch.data()) return scratch;
  return std::string(v);
}

Location Element::location() const {
  Location loc;
  if (!msg_) return loc;
  Segment seg(msg_, segment_);
  loc.segment_index = segment_ + 1;
  loc.segment_id = std::string(seg.id());
  for (uint32_t i = 0; i <= segment_; ++i)
    if (Segment(msg_, i).id() == seg.id()) ++loc.segment_occurrence;
  loc.field = field_;
  loc.repetition = rep_;
  loc.component = comp_;
  loc.subcomponent = sub_;
  loc.byte_offset = begin_;
  return loc;
}

}  // namespace midhurst::hl7v2
