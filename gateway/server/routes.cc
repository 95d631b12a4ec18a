#include "server/routes.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <memory>

#include "fhir/xml.h"

namespace midhurst::server {

namespace {

HttpResponse json_response(int status, std::string body, std::string_view type = "application/json") {
  HttpResponse r;
  r.status = status;
  r.content_type = std::string(type);
  r.body = std::move(body);
  return r;
}

// Each POST /hl7v2 is its own ordering stream: HTTP requests carry no sequence.
std::atomic<uint64_t> g_http_stream{uint64_t{1} << 62};

}  // namespace

void add_operational_routes(HttpApp& app, const OperationalRoutes& deps) {
  Route healthz;
  healthz.method = "GET";
  healthz.pattern = "/healthz";
  healthz.public_route = true;
  healthz.fhir = false;
  healthz.handler = [](const HttpRequest&, const RequestContext&, Respond respond) {
    respond(json_response(200, R"({"status":"up"})"));
  };
  app.add(std::move(healthz));

  Route readyz;
  readyz.method = "GET";
  readyz.pattern = "/readyz";
  readyz.public_route = true;
  readyz.fhir = false;
  readyz.handler = [readiness = deps.readiness](const HttpRequest&, const RequestContext&, Respond respond) {
    const ReadinessReport report = readiness->run();
    respond(json_response(report.ready ? 200 : 503, report.to_json()));
  };
  app.add(std::move(readyz));

  Route metadata;
  metadata.method = "GET";
  metadata.pattern = "/metadata";
  metadata.public_route = true;
  // Parsed once: XML and _pretty are written from the document, compact JSON is the text.
  auto document = std::make_shared<rapidjson::Document>();
  document->Parse(deps.capability_statement.c_str(), deps.capability_statement.size());
  metadata.handler = [body = deps.capability_statement, document](const HttpRequest&, const RequestContext& context,
                                                                  Respond respond) {
    if (context.format == Format::kFhirXml) {
      auto xml = fhir::json_to_xml(*document, *context.model, {.pretty = context.pretty});
      if (!xml)
        return respond(outcome_reply(500, fhir::IssueType::kException,
                                     "the CapabilityStatement cannot be written as XML: " + xml.error().to_string(),
                                     Format::kFhirJson));
      return respond(json_response(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + std::move(*xml), kFhirXml));
    }
    if (!context.pretty) return respond(json_response(200, body, kFhirJson));
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    document->Accept(w);
    respond(json_response(200, std::string(buf.GetString(), buf.GetSize()), kFhirJson));
  };
  app.add(std::move(metadata));

  Route metrics;
  metrics.method = "GET";
  metrics.pattern = "/metrics";
  metrics.fhir = false;
  metrics.handler = [m = deps.metrics](const HttpRequest&, const RequestContext&, Respond respond) {
    respond(json_response(200, m->registry.expose(), kExpositionContentType));
  };
  app.add(std::move(metrics));

  Route hl7v2;
  hl7v2.method = "POST";
  hl7v2.pattern = "/hl7v2";
  hl7v2.resource = "*";
  hl7v2.access = Access::kWrite;
  hl7v2.fhir = false;
  hl7v2.content_types = {std::string(kHl7v2Er7)};
  hl7v2.handler = [ingest = deps.ingest, m = deps.metrics](const HttpRequest& request, const RequestContext& context,
                                                          Respond respond) {
    IngestSource source;
    source.transport = "http";
    source.peer = request.peer;
    source.client = context.principal ? context.principal->client : "";
    source.connection_id = g_http_stream.fetch_add(1);
    source.sequence = 1;
    ingest->submit(request.body, std::move(source),
                   [respond = std::move(respond), m, received = request.received](std::string ack) {
                     const std::string code = ack.empty() ? "none" : ack_code_of(ack);
                     m->hl7v2_messages.with({"http", code.empty() ? "unknown" : code}).inc();
                     m->ack_latency.with({"http"}).observe(
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
                     HttpResponse r;
                     r.status = ack.empty() ? 204 : 200;
                     if (!ack.empty()) r.content_type = std::string(kHl7v2Er7);
                     r.body = std::move(ack);
                     respond(std::move(r));
                   });
  };
  app.add(std::move(hl7v2));
}

Result<std::string, std::string> load_capability_statement(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return err(path + ": cannot open the CapabilityStatement");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError())
    return err(path + ": invalid JSON at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
               rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject() || !doc.HasMember("resourceType") || !doc["resourceType"].IsString() ||
      std::string_view(doc["resourceType"].GetString()) != "CapabilityStatement")
    return err(path + ": not a CapabilityStatement (resourceType)");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace midhurst::server
