#include "hl7v2/validate.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "hl7v2/batch.h"
#include "hl7v2/charset.h"

namespace midhurst::hl7v2 {
namespace {

// Published HL7 v2.x versions (table 0104).
constexpr std::array<std::string_view, 15> kVersions = {
    "2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2", "2.9", "2.9.1"};

// Beyond this many invalid-byte issues in one message, the rest are summarised in one issue:
// a message in the wrong charset would otherwise bury everything else.
constexpr size_t kMaxByteIssues = 20;

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_segment_id(std::string_view id) {
  return id.size() == 3 && is_upper(id[0]) && (is_upper(id[1]) || is_digit(id[1])) &&
         (is_upper(id[2]) || is_digit(id[2]));
}

// A message code or trigger event: three letters or digits (ADT, A01, Z99).
bool is_event_code(std::string_view v) {
  if (v.size() != 3) return false;
  for (char c : v)
    if (!is_upper(c) && !is_digit(c)) return false;
  return true;
}

bool is_envelope_or_header(std::string_view id) {
  return id == "MSH" || id == "BHS" || id == "FHS" || id == "BTS" || id == "FTS";
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string hex_bytes(std::string_view s) {
  std::string out;
  for (char c : s) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%s0x%02X", out.empty() ? "" : " ", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

// The location of MSH-f(.c): the element's own when present (it carries the byte offset),
// otherwise built by hand, since an absent element has no location.
Location msh_location(const Message& m, uint32_t field, uint32_t component = 0) {
  Element e = component ? m.segment(0).field(field).component(component) : m.segment(0).field(field);
  if (e.present()) return e.location();
  Location loc;
  loc.segment_index = 1;
  loc.segment_id = "MSH";
  loc.segment_occurrence = 1;
  loc.field = field;
  loc.repetition = component ? 1 : 0;
  loc.component = component;
  return loc;
}

Issue make(ErrorCode code, Location where, std::string why, Severity severity = Severity::kError) {
  Issue issue;
  issue.severity = severity;
  issue.code = code;
  issue.where = std::move(where);
  issue.why = std::move(why);
  return issue;
}

void check_message_type(const Message& m, Issues& out) {
  const Element msh9 = m.segment(0).field(9);
  if (!msh9.present() || msh9.empty()) {
    out.push_back(make(ErrorCode::kRequiredFieldMissing, msh_location(m, 9),
                       "MSH-9 (message type) is missing: it must give the message code and trigger event, "
                       "e.g. ADT^A01"));
    return;
  }
  const std::string_view code = msh9.component(1).raw();
  const std::string_view event = msh9.component(2).raw();
  if (code.empty()) {
    out.push_back(make(ErrorCode::kRequiredFieldMissing, msh_location(m, 9, 1),
                       "MSH-9.1 (message code) is missing, e.g. ADT"));
  } else if (!is_event_code(code)) {
    out.push_back(make(ErrorCode::kDataType, msh_location(m, 9, 1),
                       "MSH-9.1 (message code) must be three capital letters or digits (table 0076), found " +
                           quoted(code)));
  }
  if (event.empty()) {
    if (code != "ACK")
      out.push_back(make(ErrorCode::kRequiredFieldMissing, msh_location(m, 9, 2),
                         "MSH-9.2 (trigger event) is missing, e.g. A01"));
  } else if (!is_event_code(event)) {
    out.push_back(make(ErrorCode::kDataType, msh_location(m, 9, 2),
                       "MSH-9.2 (trigger event) must be three capital letters or digits (table 0003), found " +
                           quoted(event)));
  }
}

void check_control_id_and_version(const Message& m, Issues& out) {
  const Element msh10 = m.segment(0).field(10);
  if (!msh10.present() || msh10.empty())
    out.push_back(make(ErrorCode::kRequiredFieldMissing, msh_location(m, 10),
                       "MSH-10 (message control id) is missing: it identifies the message for its ACK and for "
                       "duplicate detection"));

  const Element msh12 = m.segment(0).field(12);
  if (!msh12.present() || msh12.empty()) {
    out.push_back(make(ErrorCode::kRequiredFieldMissing, msh_location(m, 12),
                       "MSH-12 (version id) is missing, e.g. 2.4"));
    return;
  }
  const std::string_view version = msh12.component(1).raw();
  if (std::find(kVersions.begin(), kVersions.end(), version) == kVersions.end())
    out.push_back(make(ErrorCode::kUnsupportedVersionId, msh_location(m, 12, 1),
                       "MSH-12 (version id) " + quoted(version) +
                           " is not an HL7 v2.x version (2.1, 2.2, 2.3, 2.3.1, 2.4, 2.5, 2.5.1, 2.6, 2.7, 2.7.1, "
                           "2.8, 2.8.1, 2.8.2, 2.9, 2.9.1)"));
}

void check_segments(const Message& m, Issues& out) {
  for (size_t i = 0; i < m.segment_count(); ++i) {
    const Segment seg = m.segment(i);
    const std::string_view id = seg.id();
    Location where;
    where.segment_index = static_cast<uint32_t>(i + 1);
    where.segment_id = std::string(id.substr(0, 3));
    where.segment_occurrence = 1;
    for (size_t j = 0; j < i; ++j)
      if (m.segment(j).id() == id) ++where.segment_occurrence;
    where.byte_offset = seg.raw().data() - m.bytes().data();
    if (!is_segment_id(id)) {
      out.push_back(make(ErrorCode::kSegmentSequence, where,
                         "segment id " + quoted(id) + " is not three characters [A-Z][A-Z0-9][A-Z0-9]"));
    } else if (i > 0 && is_envelope_or_header(id)) {
      out.push_back(make(ErrorCode::kSegmentSequence, where,
                         std::string(id) + " inside a message: " +
                             (id == "MSH" ? "a message has one MSH, at its start; this is a second message "
                                            "(split the input with split_batch)"
                                          : "batch and file envelopes go between messages, not inside one "
                                            "(split the input with split_batch)")));
    }
  }
}

void check_charset(const Message& m, Issues& out) {
  const Charset& cs = m.charset();
  if (cs.kind == CharsetKind::kUnsupported) {
    out.push_back(make(ErrorCode::kTableValueNotFound, msh_location(m, 18),
                       "MSH-18 (character set) " + quoted(cs.declared) +
                           " cannot be read by this gateway (supported: ASCII, 8859/1 to 8859/9, 8859/15, "
                           "UNICODE UTF-8)"));
    return;  // bytes cannot be judged in an unknown charset
  }
  const std::string_view bytes = m.bytes();
  const std::string how = cs.declared.empty() ? "MSH-18 is empty, so the message is read as " + cs.name()
                                              : "the message is read as " + cs.name() + " (MSH-18 " +
                                                    quoted(cs.declared) + ")";
  size_t pos = 0, reported = 0;
  while (pos < bytes.size()) {
    const size_t rel = find_invalid_byte(bytes.substr(pos), cs);
    if (rel == std::string_view::npos) break;
    const size_t off = pos + rel;
    if (reported == kMaxByteIssues) {
      out.push_back(make(ErrorCode::kDataType, m.locate(off),
                         "more bytes invalid in " + cs.name() + " follow; only the first " +
                             std::to_string(kMaxByteIssues) + " fields holding some are listed"));
      return;
    }
    const Location where = m.locate(off);
    out.push_back(make(ErrorCode::kDataType, where,
                       "byte(s) " + hex_bytes(bytes.substr(off, std::min<size_t>(4, bytes.size() - off))) +
                           " at offset " + std::to_string(off) + " are not valid " + cs.name() + "; " + how));
    ++reported;
    // One issue per field is enough to find them all; resume after the field (or segment)
    // that holds this byte. Resuming at a delimiter also keeps UTF-8 decoding aligned.
    size_t next = off + 1;
    if (where.segment_index > 0) {
      const Segment seg = m.segment(where.segment_index - 1);
      const std::string_view span = where.field ? seg.field(where.field).raw() : seg.raw();
      const size_t end = static_cast<size_t>(span.data() - bytes.data()) + span.size();
      next = std::max(next, end);
    }
    pos = next;
  }
}

bool location_less(const Issue& a, const Issue& b) {
  const Location& x = a.where;
  const Location& y = b.where;
  if (x.segment_index != y.segment_index) return x.segment_index < y.segment_index;
  if (x.field != y.field) return x.field < y.field;
  if (x.repetition != y.repetition) return x.repetition < y.repetition;
  return x.component < y.component;
}

}  // namespace

Issues validate(const Message& m) {
  Issues out;
  if (m.segment_count() == 0) {
    out.push_back(make(ErrorCode::kSegmentSequence, Location{}, "the message is empty: it must start with MSH"));
    return out;
  }
  for (const Issue& note : m.notes()) out.push_back(note);
  check_message_type(m, out);
  check_control_id_and_version(m, out);
  check_segments(m, out);
  check_charset(m, out);
  std::stable_sort(out.begin(), out.end(), location_less);
  return out;
}

Issues check_message(std::string_view bytes) {
  auto parsed = Message::parse(std::string(bytes));
  if (!parsed.ok()) return Issues{parsed.error()};
  return validate(*parsed);
}

Issues check_file(std::string_view bytes) {
  const BatchFile file = split_batch(bytes);
  Issues out = file.issues;
  for (const Batch& batch : file.batches) {
    for (const MessageSpan& span : batch.messages) {
      for (Issue& issue : check_message(span.bytes)) {
        issue.where = span.to_file(std::move(issue.where));
        out.push_back(std::move(issue));
      }
    }
  }
  // The framing issues come first from split_batch; interleave them with the messages' by
  // position so a reader goes through the file once.
  std::stable_sort(out.begin(), out.end(),
                   [](const Issue& a, const Issue& b) { return a.where.segment_index < b.where.segment_index; });
  return out;
}

}  // namespace midhurst::hl7v2
