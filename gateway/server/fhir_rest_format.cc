#include "server/fhir_rest_format.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdlib>

#include "fhir/json.h"
#include "fhir/operation_outcome.h"
#include "fhir/xml.h"

namespace midhurst::server {
namespace {

std::string lower_trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type of a header element or _format value, parameters dropped.
std::string media_type(std::string_view value) { return lower_trim(value.substr(0, value.find(';'))); }

bool is_json(std::string_view t) {
  return t == "application/fhir+json" || t == "application/json" || t == "json" || t == "text/json" ||
         t == "application/json+fhir";
}
bool is_xml(std::string_view t) {
  return t == "application/fhir+xml" || t == "application/xml" || t == "xml" || t == "text/xml" ||
         t == "application/xml+fhir";
}

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
  Negotiated n;
  const std::string* format = nullptr;
  for (const auto& [k, v] : params) {
    if (k == "_format" && !format) format = &v;
    if (k == "_pretty") n.pretty = v == "true";
  }
  if (format) {
    // A '+' the client did not percent-encode arrives as a space (form decoding of the query):
    // "application/fhir json" can only mean application/fhir+json.
    std::string t = media_type(*format);
    for (char& c : t)
      if (c == ' ') c = '+';
    if (is_json(t)) return n;
    if (is_xml(t)) {
      n.format = WireFormat::kXml;
      return n;
    }
    return err("_format=" + *format + " is not a format this server produces (json or xml)");
  }
  if (lower_trim(accept).empty()) return n;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    if (comma == std::string_view::npos) comma = accept.size();
    const std::string_view element = accept.substr(start, comma - start);
    start = comma + 1;
    const std::string type = media_type(element);
    // A q=0 element means "not this one" (RFC 9110 section 12.4.2).
    bool refused = false;
    const std::string params_text = lower_trim(element);
    for (size_t at = params_text.find(';'); at != std::string::npos; at = params_text.find(';', at + 1)) {
      const std::string p = lower_trim(std::string_view(params_text).substr(at + 1, params_text.find(';', at + 1) - at - 1));
      if (p.rfind("q=", 0) == 0 && std::strtod(p.c_str() + 2, nullptr) <= 0) refused = true;
    }
    if (refused || type.empty()) continue;
    if (is_json(type) || type == "*/*" || type == "application/*") return n;
    if (is_xml(type)) {
      n.format = WireFormat::kXml;
      return n;
    }
  }
  return err("Accept: " + std::string(accept) +
             " names no format this server produces (application/fhir+json or application/fhir+xml)");
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

HttpResponse outcome_response(int status, fhir::IssueType type, std::string_view diagnostics, const Negotiated& how,
                              const fhir::Model* model, fhir::Severity severity) {
  rapidjson::Document doc = fhir::make_operation_outcome({{severity, type, "", std::string(diagnostics)}});
  return resource_response(status, doc, how, model);
}

}  // namespace midhurst::server
