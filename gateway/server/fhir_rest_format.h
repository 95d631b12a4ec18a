// Content negotiation and serialisation for the FHIR REST handlers: JSON or XML, compact or
// pretty, for resources and for OperationOutcome errors alike.
//
// Negotiation is HttpApp's (negotiate_format in http_app.h: `_format` wins over `Accept`;
// anything but JSON or XML is 406); `_pretty=true` indents either.
//
// Pure functions apart from the model they read; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.h"
#include "fhir/issue.h"
#include "fhir/model.h"
#include "server/http_app.h"

namespace midhurst::server {

enum class WireFormat { kJson, kXml };

struct Negotiated {
  WireFormat format = WireFormat::kJson;
  bool pretty = false;
};

// The format for a request with these (decoded) parameters and Accept header, or the 406
// reason naming what was asked for.
Result<Negotiated, std::string> negotiate_wire_format(const std::vector<std::pair<std::string, std::string>>& params,
                                                      std::string_view accept);

// A response carrying `resource` in the negotiated format. XML needs `model`; a resource the
// model cannot write (or no model) is a 500 OperationOutcome in JSON naming the element.
HttpResponse resource_response(int status, const rapidjson::Value& resource, const Negotiated& how,
                               const fhir::Model* model);

// The compact JSON body resource_response() writes for `resource` in JSON without _pretty.
// `plain` (optional) is set when the model could not write it (numbers held as text then stay
// strings, as in resource_response()).
std::string compact_resource_json(const rapidjson::Value& resource, const fhir::Model* model, bool* plain = nullptr);

// `text` as a JSON string literal, quotes included, escaped as the JSON writers escape it.
std::string json_string_literal(std::string_view text);

// An OperationOutcome with one issue, in the negotiated format.
HttpResponse outcome_response(int status, fhir::IssueType type, std::string_view diagnostics,
                              const Negotiated& how, const fhir::Model* model,
                              fhir::Severity severity = fhir::Severity::kError);

}  // namespace midhurst::server
