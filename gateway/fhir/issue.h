// fhir::Issue: one finding about a resource (a validation result, a mapping failure), as an
// OperationOutcome.issue says it.
//
// The validator (validator.h) produces lists of these and operation_outcome.h turns a list into
// an OperationOutcome resource; other modules (mapping, server) can build Issues of their own and
// use the same builder. Unlike fhir::Error (error.h), which stops a conversion, an Issue list is
// data: a resource with warnings is still usable, one with errors is not.
//
// Severity and type are the R4 value sets https://hl7.org/fhir/R4/valueset-issue-severity.html
// and https://hl7.org/fhir/R4/valueset-issue-type.html (system http://hl7.org/fhir/issue-type).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace midhurst::fhir {

enum class Severity {
  kFatal,        // processing could not continue (code or data failure; output untrusted)
  kError,        // the resource breaks a rule: not valid
  kWarning,      // suspicious but valid (an extensible binding missed, an unknown profile)
  kInformation,  // for the reader only
};

// Every code of http://hl7.org/fhir/issue-type (R4), in the order the spec lists them.
enum class IssueType {
  kInvalid, kStructure, kRequired, kValue, kInvariant,
  kSecurity, kLogin, kUnknown, kExpired, kForbidden, kSuppressed,
  kProcessing, kNotSupported, kDuplicate, kMultipleMatches, kNotFound, kDeleted, kTooLong,
  kCodeInvalid, kExtension, kTooCostly, kBusinessRule, kConflict,
  kTransient, kLockError, kNoStore, kException, kTimeout, kIncomplete, kThrottled,
  kInformational,
};

struct Issue {
  Severity severity = Severity::kError;
  IssueType type = IssueType::kProcessing;
  // FHIRPath-like location, JSON names, 0-based indices on repeating elements:
  // "Patient.identifier[0].system". Empty when the issue concerns no element.
  std::string expression;
  // One sentence for a person.
  std::string diagnostics;

  bool operator==(const Issue&) const = default;
};

// The FHIR codes: "fatal", "error", "warning", "information"; "required", "code-invalid", ...
std::string_view to_code(Severity severity);
std::string_view to_code(IssueType type);

// True iff the list holds an issue of severity error or fatal.
bool has_errors(const std::vector<Issue>& issues);

// "error Patient.identifier[0].system: ..." per issue, one per line; for logs and test output.
std::string to_string(const std::vector<Issue>& issues);

}  // namespace midhurst::fhir
