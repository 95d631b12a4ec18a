// Structural validation of HL7v2 messages: what every message must satisfy whatever its type.
//
// Message::parse() is lenient about content (see message.h); validate() lists everything that
// is structurally wrong with a parsed message, all at once, each problem as an Issue with its
// location (segment index and id, field, repetition, component, byte offset) and the reason.
// Codes are from HL7 table 0357 (issue.h).
//
// What is checked, and the code used:
//   * MSH-9 (message type): missing (101); its message code (MSH-9.1) or trigger event
//     (MSH-9.2) missing (101) or not three letters/digits (102). A general acknowledgment
//     "ACK" may omit the trigger event: versions before 2.4 defined it without one and many
//     systems still send it so.
//   * MSH-10 (message control id): missing (101).
//   * MSH-12 (version id): missing (101), or not a published v2.x version, 2.1 to 2.9.1 (203).
//   * MSH-18 (character set): a set this gateway cannot read (103, table 0211 value).
//   * Every segment id: three characters [A-Z][A-Z0-9][A-Z0-9] (100).
//   * An MSH, BHS, FHS, BTS or FTS after the first segment: a second message or a batch
//     envelope inside this one, i.e. a batch that was not split (100).
//   * Bytes invalid in the effective charset (Message::charset()): one error per field that
//     holds some, at the first such byte (102). Not checked when MSH-18 is unsupported.
//   * Message::notes() (e.g. "MSH-18 says 8859/1 but the bytes are UTF-8") are passed through
//     with their own severity, which is warning or information.
// Nothing here depends on the message type or on a profile: required segments, field
// lengths and table values per message structure belong to the mapping profiles.
//
// Threading: the functions are pure; a const Message may be validated from many threads.
#pragma once

#include <string_view>

#include "hl7v2/issue.h"
#include "hl7v2/message.h"

namespace midhurst::hl7v2 {

// The structural issues of `message`, ordered by location (segment, then field, repetition,
// component). Empty iff nothing is wrong; has_errors() tells errors from warnings.
Issues validate(const Message& message);

// Parses one message's bytes (as Message::parse: MSH first, no byte-order mark; use
// split_batch() for files) and validates it. A parse failure is the single issue returned.
Issues check_message(std::string_view bytes);

// Checks a whole file: split_batch() (batches, envelopes, counts), then check_message() for
// every message found. Every location is counted within the file (MessageSpan::to_file), so
// segment_index is the segment's position in the file; segment_occurrence stays counted
// within its message. Issues are ordered by segment index.
Issues check_file(std::string_view bytes);

}  // namespace midhurst::hl7v2
