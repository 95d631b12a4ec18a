#include "fhir/issue.h"

namespace midhurst::fhir {

std::string_view to_code(Severity severity) {
  switch (severity) {
    case Severity::kFatal: return "fatal";
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInformation: return "information";
  }
  return "error";
}

std::string_view to_code(IssueType type) {
  // Indexed by the enum; the order is the spec's, checked by issue_test.
  static constexpr std::string_view kCodes[] = {
      "invalid", "structure", "required", "value", "invariant",
      "security", "login", "unknown", "expired", "forbidden", "suppressed",
      "processing", "not-supported", "duplicate", "multiple-matches", "not-found", "deleted",
      "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict",
      "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled",
      "informational",
  };
  return kCodes[static_cast<size_t>(type)];
}

bool has_errors(const std::vector<Issue>& issues) {
  for (const auto& i : issues) {
    if (i.severity == Severity::kError || i.severity == Severity::kFatal) return true;
  }
  return false;
}

std::string to_string(const std::vector<Issue>& issues) {
  std::string out;
  for (const auto& i : issues) {
    out += to_code(i.severity);
    out += ' ';
    if (!i.expression.empty()) out += i.expression + ": ";
    out += i.diagnostics + "\n";
  }
  return out;
}

}  // namespace midhurst::fhir
