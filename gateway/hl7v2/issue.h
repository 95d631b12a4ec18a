// Issues: what is wrong with a message, where, and why.
//
// Every problem the toolkit reports is an Issue: a severity, an HL7 table 0357 error code,
// a Location (segment, field, repetition, component, sub-component) and a sentence that says
// why. The same list feeds `midhurst hl7 check`, ERR segments in ACKs and, later, FHIR
// OperationOutcomes, so a problem is described once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midhurst::hl7v2 {

// HL7 table 0357 "Message error condition codes" (v2.4+).
enum class ErrorCode : int {
  kAccepted = 0,
  kSegmentSequence = 100,
  kRequiredFieldMissing = 101,
  kDataType = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kUnknownKeyIdentifier = 204,
  kDuplicateKeyIdentifier = 205,
  kApplicationRecordLocked = 206,
  kApplicationInternalError = 207,
};

// The display text of a table 0357 code, e.g. "Segment sequence error".
const char* error_code_text(ErrorCode code);

// HL7 table 0516 "Error severity": E error, W warning, I information.
enum class Severity : char { kError = 'E', kWarning = 'W', kInformation = 'I' };

// Where in a message something is. Indices are 1-based as in HL7; 0 means "not that deep".
// segment_index counts every segment of the message from 1 (MSH is 1); segment_occurrence
// counts segments with the same id (the second OBX is occurrence 2).
struct Location {
  uint32_t segment_index = 0;
  std::string segment_id;
  uint32_t segment_occurrence = 0;
  uint32_t field = 0;
  uint32_t repetition = 0;
  uint32_t component = 0;
  uint32_t subcomponent = 0;
  // Byte offset in the message as received, where known (for tools that show the bytes).
  int64_t byte_offset = -1;

  // "PID[1]-3[2].4.1 (segment 3)" style; "message" when nothing is known.
  std::string to_string() const;
  bool operator==(const Location&) const = default;
};

struct Issue {
  Severity severity = Severity::kError;
  ErrorCode code = ErrorCode::kApplicationInternalError;
  Location where;
  std::string why;

  // "error 102 (Data type error) at PID[1]-7: <why>"
  std::string to_string() const;
};

using Issues = std::vector<Issue>;

bool has_errors(const Issues& issues);

}  // namespace midhurst::hl7v2
