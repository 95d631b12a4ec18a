// OperationOutcome from an Issue list (issue.h): the reply for a failed translation, a rejected
// FHIR write, or a validation ($validate).
//
// https://hl7.org/fhir/R4/operationoutcome.html: each Issue becomes one `issue` with severity,
// code (http://hl7.org/fhir/issue-type), diagnostics and, when the Issue has a location,
// expression (R4's FHIRPath location; `location` is deprecated). OperationOutcome.issue is 1..*,
// so an empty list gives one `information` / `informational` issue saying that all is well.
// Built as RapidJSON values (no JSON text templates), so any text in diagnostics is safe.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "fhir/issue.h"

namespace midhurst::fhir {

// A new OperationOutcome document. `id` is set when not empty.
rapidjson::Document make_operation_outcome(const std::vector<Issue>& issues,
                                           const std::string& id = {});

// The same as a member of another document (for Bundle.entry.response.outcome).
rapidjson::Value make_operation_outcome(const std::vector<Issue>& issues,
                                        rapidjson::Document::AllocatorType& allocator);

}  // namespace midhurst::fhir
