// MappingIssue: a problem found while mapping one message, in a form that both reply channels
// can use: an hl7v2::Issue (severity, table 0357 code, v2 location, reason) for ERR segments in
// the ACK, and a FHIR OperationOutcome.issue (https://hl7.org/fhir/R4/operationoutcome.html) for
// `midhurst translate` and the REST API.
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "hl7v2/issue.h"

namespace midhurst::mapping {

struct MappingIssue {
  hl7v2::Issue issue;    // severity E (rejects the message) or W (the field was left out)
  std::string rule;      // the rule that failed; "" for message-level problems
  std::string source;    // the v2 path, e.g. "PID-3[2].1"
  std::string target;    // the care path it was meant for, e.g. "patient.nhsNumber.value"

  // "error 102 (Data type error) at PID-3[2].1 [rule nhs-number.value]: ..."
  std::string to_string() const;
};

using MappingIssues = std::vector<MappingIssue>;

hl7v2::Issues to_hl7_issues(const MappingIssues& issues);
// Appends one OperationOutcome.issue per issue to `issues_array` (a JSON array): severity
// error/warning/information; code required (101), value (102), code-invalid (103), not-supported
// (200/201), processing (others); diagnostics the reason; location the v2 path; expression the
// care path.
void append_operation_outcome_issues(const MappingIssues& issues, rapidjson::Value& issues_array,
                                     rapidjson::Document::AllocatorType& alloc);
// A whole OperationOutcome resource as JSON text.
std::string operation_outcome_json(const MappingIssues& issues);

}  // namespace midhurst::mapping
