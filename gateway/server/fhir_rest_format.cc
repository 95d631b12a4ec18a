#include "server/fhir_rest_format.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "fhir/json.h"
#include "fhir/operation_outcome.h"
#include "fhir/xml.h"

namespace midhurst::server {
namespace {

std::string write_plain_json(const rapidjson::Value& v, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    v.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<Negotiated, std::string> negotiate_wire_format(const std::vector<std::pair<std::string, std::string>>& params,
                                                      std::string_view accept) {
  auto format = negotiate_format(params, accept);
  if (!format) return err(std::move(format.error()));
  Negotiated n;
  n.format = *format == Format::kFhirXml ? WireFormat::kXml : WireFormat::kJson;
  for (const auto& [k, v] : params)
    if (k == "_pretty") n.pretty = v == "true";
  return n;
}

HttpResponse resource_response(int status, const rapidjson::Value& resource, const Negotiated& how,
                               const fhir::Model* model) {
  HttpResponse r;
  r.status = status;
  if (how.format == WireFormat::kXml) {
    if (!model) {
      r.status = 500;
      r.content_type = std::string(kFhirJson);
      r.body = operation_outcome_json(fhir::IssueType::kException, "no FHIR model is loaded to write XML with");
      return r;
    }
    auto xml = fhir::json_to_xml(resource, *model, {.pretty = how.pretty});
    if (!xml) {
      r.status = 500;
      r.content_type = std::string(kFhirJson);
      r.body = operation_outcome_json(fhir::IssueType::kException,
                                      "the resource cannot be written as XML: " + xml.error().to_string());
      return r;
    }
    r.content_type = std::string(kFhirXml);
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + std::move(*xml);
    return r;
  }
  r.content_type = std::string(kFhirJson);
  if (!how.pretty) {
    r.body = compact_resource_json(resource, model);
    return r;
  }
  // With a model, numbers held as text (json.h contract) print as numbers.
  if (model) {
    if (auto text = fhir::write_json(resource, *model, {.pretty = how.pretty})) {
      r.body = std::move(*text);
      return r;
    }
  }
  r.body = write_plain_json(resource, how.pretty);
  return r;
}

std::string compact_resource_json(const rapidjson::Value& resource, const fhir::Model* model, bool* plain) {
  if (plain) *plain = false;
  if (model) {
    if (auto text = fhir::write_json(resource, *model)) return std::move(*text);
  }
  if (plain) *plain = true;
  return write_plain_json(resource, false);
}

std::string json_string_literal(std::string_view text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

HttpResponse outcome_response(int status, fhir::IssueType type, std::string_view diagnostics, const Negotiated& how,
                              const fhir::Model* model, fhir::Severity severity) {
  rapidjson::Document doc = fhir::make_operation_outcome({{severity, type, "", std::string(diagnostics)}});
  return resource_response(status, doc, how, model);
}

}  // namespace midhurst::server
