// Batches: splitting the bytes of a file into HL7v2 messages.
//
// A file may hold one message, several messages one after the other, or an HL7 batch file
// (v2.x chapter 2, "Batch protocol"):
//
//     [FHS] { [BHS] { MSH ... } [BTS] } [FTS]
//
// split_batch() finds every message (from its MSH to the end of its last segment) and the
// envelope segments around them, without parsing the messages themselves: each message is
// then parsed on its own (Message::parse / check_message), with its own MSH-1/MSH-2, so one
// bad message does not hide the others.
//
// Lifetime: every std::string_view in a BatchFile (message bytes, envelope segments) borrows
// from the `bytes` given to split_batch(). They stay valid as long as those bytes are alive and
// unchanged; copy a message's bytes (std::string(m.bytes)) to keep it longer.
//
// Threading: split_batch() is a pure function; a BatchFile is a plain value.
//
// Leniency. Real batch files often lack headers or trailers, so (as python-hl7 does):
//   * FHS, BHS, BTS and FTS are all optional. Messages outside any BHS/BTS pair form an
//     implicit batch (header absent); a BTS or FTS with no opener closes the implicit batch,
//     and an FTS or the end of the file closes a batch that has no BTS. None of this is an
//     issue.
//   * Segments may end with \r, \n or \r\n; empty lines are skipped and not counted as
//     segments (as Message does, so segment numbers agree); a leading UTF-8 byte-order mark
//     is skipped. A line of spaces is a segment (with a bad id, for validate() to report).
// It is strict where a guess would attach segments to the wrong message. These are framing
// errors (table 0357 code 100, "segment sequence error"); splitting stops at the first one,
// which is the last issue. The messages completed before it are kept; a message still open
// when it comes is dropped, since the bad segment may have cut it short:
//   * a segment other than MSH (or an envelope segment) where no message is open: at the start
//     of the file or a batch, or after a BTS;
//   * a BHS while a batch opened by a BHS is still open (no BTS), or after the FTS;
//   * an FHS anywhere but as the first segment of the file;
//   * a second BTS closing the same batch, a second FTS, or any segment after the FTS;
//   * a file with no segment at all.
// Count checks do not stop splitting: BTS-1 (batch message count) must equal the number of
// messages in its batch and FTS-1 (file batch count) the number of batches in the file; an
// empty count is not checked (both fields are optional). A mismatch or a count that is not a
// number is an error issue. A bad FHS-1/FHS-2 or BHS-1/BHS-2 is an error issue too; the
// envelope is then read with the default delimiters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "hl7v2/delimiters.h"
#include "hl7v2/issue.h"

namespace midhurst::hl7v2 {

// One FHS, BHS, BTS or FTS segment, as a view into the file's bytes.
struct EnvelopeSegment {
  std::string_view raw;        // the segment, terminator excluded
  uint32_t segment_index = 0;  // 1-based position among the file's segments (empty lines not counted)
  uint32_t line = 0;           // 1-based line number (\r, \n and \r\n each end one line)
  size_t byte_offset = 0;      // offset of the segment in the file's bytes
  // FHS/BHS: from their own field 1 and 2, as MSH. BTS/FTS: those of the BHS/FHS they close
  // (default delimiters when it is absent).
  Delimiters delimiters;

  std::string_view id() const { return raw.substr(0, 3); }
  // Field n (1-based) as it stands, escapes included; "" when absent. For FHS and BHS field 1
  // is the field separator and field 2 the encoding characters, as for MSH.
  std::string_view field(size_t n) const;
  // Component c (1-based) of the first repetition of field n; "" when absent.
  std::string_view component(size_t n, size_t c) const;
};

// One message found in a file.
struct MessageSpan {
  // From the "MSH" to the end of the message's last segment; the terminator after the last
  // segment is excluded, those between segments (\r, \n, \r\n, empty lines) are kept as sent.
  // Message::parse() reads it as it is.
  std::string_view bytes;
  uint32_t segment_index = 0;  // 1-based position of its MSH among the file's segments
  uint32_t segment_count = 0;  // segments in the message (empty lines not counted)
  uint32_t line = 0;           // 1-based line number of its MSH
  size_t byte_offset = 0;      // offset of its MSH in the file's bytes

  // Turns a Location inside the parsed message (as in its Issues) into one inside the file:
  // segment_index and byte_offset are shifted; segment_occurrence stays counted within the
  // message. A location with no segment ("message") becomes the message's MSH.
  Location to_file(Location where) const;
};

struct Batch {
  std::optional<EnvelopeSegment> header;   // BHS; absent for an implicit batch
  std::optional<EnvelopeSegment> trailer;  // BTS; absent when the batch was not closed by one
  std::vector<MessageSpan> messages;
};

struct BatchFile {
  std::optional<EnvelopeSegment> header;   // FHS
  std::optional<EnvelopeSegment> trailer;  // FTS
  std::vector<Batch> batches;              // a plain message or message sequence: one implicit batch
  // Problems with the file's framing and counts, with locations counted within the file
  // (never problems inside a message: parse and validate each message for those).
  Issues issues;
  // False iff splitting stopped at a framing error (then the last issue); the batches hold the
  // messages found before it.
  bool complete = true;

  bool ok() const { return !has_errors(issues); }
  size_t message_count() const;
  // Every message of every batch, in file order.
  std::vector<MessageSpan> messages() const;
};

// Splits `bytes` (a whole file) into messages and envelope segments; see the top of this file
// for what is accepted and what is an issue. Never fails outright: problems are in
// BatchFile::issues. The result borrows from `bytes`.
BatchFile split_batch(std::string_view bytes);

// The bytes after a leading UTF-8 byte-order mark, if there is one; `bytes` otherwise.
std::string_view skip_bom(std::string_view bytes);

}  // namespace midhurst::hl7v2
