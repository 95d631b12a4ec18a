#include "hl7v2/issue.h"

namespace midhurst::hl7v2 {

const char* error_code_text(ErrorCode code) {
  switch (code) {
    case ErrorCode::kAccepted: return "Message accepted";
    case ErrorCode::kSegmentSequence: return "Segment sequence error";
    case ErrorCode::kRequiredFieldMissing: return "Required field missing";
    case ErrorCode::kDataType: return "Data type error";
    case ErrorCode::kTableValueNotFound: return "Table value not found";
    case ErrorCode::kUnsupportedMessageType: return "Unsupported message type";
    case ErrorCode::kUnsupportedEventCode: return "Unsupported event code";
    case ErrorCode::kUnsupportedProcessingId: return "Unsupported processing id";
    case ErrorCode::kUnsupportedVersionId: return "Unsupported version id";
    case ErrorCode::kUnknownKeyIdentifier: return "Unknown key identifier";
    case ErrorCode::kDuplicateKeyIdentifier: return "Duplicate key identifier";
    case ErrorCode::kApplicationRecordLocked: return "Application record locked";
    case ErrorCode::kApplicationInternalError: return "Application internal error";
  }
  return "Unknown error";
}

std::string Location::to_string() const {
  if (segment_index == 0) return "message";
  std::string s = segment_id.empty() ? std::string("segment") : segment_id;
  if (segment_occurrence > 1) s += "[" + std::to_string(segment_occurrence) + "]";
  if (field) {
    s += "-" + std::to_string(field);
    if (repetition > 1) s += "[" + std::to_string(repetition) + "]";
    if (component) {
      s += "." + std::to_string(component);
      if (subcomponent) s += "." + std::to_string(subcomponent);
    }
  }
  s += " (segment " + std::to_string(segment_index) + ")";
  return s;
}

std::string Issue::to_string() const {
  const char* sev = severity == Severity::kError ? "error" : severity == Severity::kWarning ? "warning" : "info";
  return std::string(sev) + " " + std::to_string(static_cast<int>(code)) + " (" + error_code_text(code) + ") at " +
         where.to_string() + ": " + why;
}

bool has_errors(const Issues& issues) {
  for (const Issue& i : issues)
    if (i.severity == Severity::kError) return true;
  return false;
}

}  // namespace midhurst::hl7v2
