// HttpApp without sockets: routing, auth, scopes, negotiation, errors as OperationOutcome,
// and the operational routes (healthz, readyz, metadata, metrics, POST /hl7v2).
#include <catch2/catch.hpp>

#include <thread>

#include <rapidjson/document.h>

#include "fhir/r4.h"
#include "fhir/xml.h"
#include "server/http_app.h"
#include "server/log.h"
#include "server/routes.h"
#include "server/test_client.h"
#include "server/validate_ingest.h"

namespace midhurst::server {
namespace {

// Keeps the access log out of the test output.
struct Quiet {
  Quiet() { set_log_sink([](std::string_view) {}); }
  ~Quiet() { set_log_sink(nullptr); }
};

struct App {
  Quiet quiet;
  MetricsRegistry registry;
  ServerMetrics metrics{registry};
  Readiness readiness;
  ValidateOnlyIngest ingest;
  HttpApp app{Authenticator({{"reader", sha256_hex("r-token"), {"system/Patient.read"}},
                             {"writer", sha256_hex("w-token"), {"system/*.write"}}}),
              metrics};

  App() {
    readiness.add("store", [] { return CheckResult{true, "ok"}; });
    add_operational_routes(app, {&readiness, &metrics, &ingest, R"({"resourceType":"CapabilityStatement"})"});
    Route patient;
    patient.method = "GET";
    patient.pattern = "/Patient/{id}";
    patient.resource = "Patient";
    patient.access = Access::kRead;
    patient.handler = [](const HttpRequest& req, const RequestContext& ctx, Respond respond) {
      HttpResponse r;
      r.content_type = std::string(kFhirJson);
      r.body = "{\"id\":\"" + ctx.params.at("id") + "\",\"client\":\"" + ctx.principal->client + "\",\"q\":\"" +
               (req.query_param("x") ? *req.query_param("x") : "") + "\"}";
      respond(std::move(r));
    };
    app.add(std::move(patient));
  }

  HttpResponse call(std::string method, std::string target, std::string token = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = {}) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
    for (auto& h : headers) req.headers.push_back(h);
    req.body = std::move(body);
    HttpResponse out;
    bool called = false;
    app.handle(std::move(req), [&](HttpResponse r) {
      CHECK_FALSE(called);
      called = true;
      out = std::move(r);
    });
    REQUIRE(called);
    return out;
  }
};

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

// The response is an OperationOutcome whose one issue has this code.
void check_outcome(const HttpResponse& r, std::string_view code) {
  CHECK(r.content_type == kFhirJson);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string_view(doc["resourceType"].GetString()) == "OperationOutcome");
  CHECK(std::string_view(doc["issue"][0]["code"].GetString()) == code);
  CHECK(doc["issue"][0].HasMember("diagnostics"));
}

TEST_CASE("http app: public routes need no token", "[http]") {
  App a;
  HttpResponse r = a.call("GET", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"up"})");
  r = a.call("GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"ready","checks":{"store":{"ready":true,"detail":"ok"}}})");
  r = a.call("GET", "/metadata");
  CHECK(r.status == 200);
  CHECK(r.content_type == kFhirJson);
  CHECK(r.body == R"({"resourceType":"CapabilityStatement"})");
}

TEST_CASE("http app: readiness failure is 503", "[http]") {
  App a;
  a.readiness.add("profiles", [] { return CheckResult{false, "no profiles loaded"}; });
  a.readiness.add("broken", []() -> CheckResult { throw std::runtime_error("boom"); });
  HttpResponse r = a.call("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body.find(R"("status":"not ready")") != std::string::npos);
  CHECK(r.body.find(R"("broken":{"ready":false,"detail":"check failed: boom"})") != std::string::npos);
}

TEST_CASE("http app: 401 without or with a bad token, with WWW-Authenticate", "[http]") {
  App a;
  HttpResponse r = a.call("GET", "/metrics");
  CHECK(r.status == 401);
  CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"midhurst\"");
  check_outcome(r, "login");
  r = a.call("GET", "/metrics", "wrong");
  CHECK(r.status == 401);
  CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"midhurst\", error=\"invalid_token\"");
  // Unknown paths are authenticated first: no token, no map of the API.
  r = a.call("GET", "/nothing/here");
  CHECK(r.status == 401);
}

TEST_CASE("http app: 404 and 405 are OperationOutcomes", "[http]") {
  App a;
  HttpResponse r = a.call("GET", "/nothing/here", "r-token");
  CHECK(r.status == 404);
  check_outcome(r, "not-found");
  r = a.call("DELETE", "/metadata", "r-token");
  CHECK(r.status == 405);
  CHECK(header(r, "Allow") == "GET");
  check_outcome(r, "not-supported");
  r = a.call("GET", "/hl7v2", "w-token");
  CHECK(r.status == 405);
  CHECK(header(r, "Allow") == "POST");
}

TEST_CASE("http app: scopes decide 403", "[http]") {
  App a;
  HttpResponse r = a.call("GET", "/Patient/p1?x=a%20b", "r-token");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"id":"p1","client":"reader","q":"a b"})");
  r = a.call("GET", "/Patient/p1", "w-token");
  CHECK(r.status == 403);
  check_outcome(r, "forbidden");
  CHECK(header(r, "WWW-Authenticate").find("insufficient_scope") != std::string::npos);
  r = a.call("POST", "/hl7v2", "r-token", {{"content-type", "x-application/hl7-v2+er7"}}, "MSH|");
  CHECK(r.status == 403);
  CHECK(r.body.find("system/*.write") != std::string::npos);
  // /metrics needs a client, any client.
  CHECK(a.call("GET", "/metrics", "r-token").status == 200);
}

// The FHIR R4 model the profiles load, for XML.
std::shared_ptr<const fhir::Model> r4_model() {
  static const std::shared_ptr<const fhir::Model> model = [] {
    auto m = fhir::r4::load_model(MIDHURST_SOURCE_DIR "/profiles");
    REQUIRE(m.ok());
    return std::make_shared<const fhir::Model>(std::move(*m));
  }();
  return model;
}

// The response is an XML OperationOutcome whose one issue has this code.
void check_xml_outcome(const HttpResponse& r, std::string_view code) {
  CHECK(r.content_type == kFhirXml);
  auto doc = fhir::xml_to_json(r.body.substr(r.body.find("?>") + 2), *r4_model());
  REQUIRE(doc.ok());
  CHECK(std::string_view((*doc)["resourceType"].GetString()) == "OperationOutcome");
  CHECK(std::string_view((*doc)["issue"][0]["code"].GetString()) == code);
  CHECK((*doc)["issue"][0].HasMember("diagnostics"));
}

TEST_CASE("http app: _format and Accept", "[http]") {
  App a;
  CHECK(a.call("GET", "/metadata?_format=json").status == 200);
  CHECK(a.call("GET", "/metadata?_format=application/fhir%2Bjson").status == 200);
  // XML needs a model; without one it is refused, in JSON.
  HttpResponse r = a.call("GET", "/metadata?_format=xml");
  CHECK(r.status == 406);
  check_outcome(r, "not-supported");
  CHECK(a.call("GET", "/metadata?_format=text/turtle").status == 406);
  CHECK(a.call("GET", "/metadata", "", {{"accept", "application/fhir+xml"}}).status == 406);
  CHECK(a.call("GET", "/metadata", "", {{"accept", "text/html"}}).status == 406);
  CHECK(a.call("GET", "/metadata", "", {{"accept", "application/fhir+json;q=0, text/html"}}).status == 406);
  CHECK(a.call("GET", "/metadata", "", {{"accept", "application/fhir+xml;q=0, application/fhir+json;q=0.5"}}).status == 200);
  CHECK(a.call("GET", "/metadata", "", {{"accept", "*/*"}}).status == 200);
  CHECK(a.call("GET", "/metadata", "", {{"accept", "application/json"}}).status == 200);
  // _format wins over Accept.
  CHECK(a.call("GET", "/metadata?_format=json", "", {{"accept", "application/fhir+xml"}}).status == 200);
  // Non-FHIR routes do not negotiate.
  CHECK(a.call("GET", "/healthz", "", {{"accept", "text/html"}}).status == 200);
}

TEST_CASE("http app: /metadata in XML", "[http]") {
  App a;
  a.app.set_model_source([] { return r4_model(); });
  for (const auto& [target, accept] : std::vector<std::pair<std::string, std::string>>{
           {"/metadata?_format=xml", ""},
           {"/metadata?_format=application/fhir%2Bxml", ""},
           {"/metadata", "application/fhir+xml"},
           {"/metadata", "text/html, application/xml;q=0.9"}}) {
    HttpResponse r = a.call("GET", target, "", accept.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                                              : std::vector<std::pair<std::string, std::string>>{{"accept", accept}});
    INFO(target << " " << accept);
    CHECK(r.status == 200);
    CHECK(r.content_type == kFhirXml);
    CHECK(r.body == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CapabilityStatement xmlns=\"http://hl7.org/fhir\"/>");
  }
  // _format wins over Accept, JSON stays JSON, and _pretty indents.
  HttpResponse r = a.call("GET", "/metadata?_format=json", "", {{"accept", "application/fhir+xml"}});
  CHECK(r.content_type == kFhirJson);
  r = a.call("GET", "/metadata?_pretty=true");
  CHECK(r.body == "{\n  \"resourceType\": \"CapabilityStatement\"\n}");
  // Something neither JSON nor XML is still 406, in JSON.
  r = a.call("GET", "/metadata", "", {{"accept", "text/html"}});
  CHECK(r.status == 406);
  check_outcome(r, "not-supported");
}

TEST_CASE("http app: errors before the handler come in the format asked for", "[http]") {
  App a;  // no model: these OperationOutcomes need none
  HttpResponse r = a.call("GET", "/Patient/1?_format=xml");
  CHECK(r.status == 401);
  check_xml_outcome(r, "login");
  CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"midhurst\"");
  r = a.call("GET", "/Patient/1", "nope", {{"accept", "application/fhir+xml"}});
  CHECK(r.status == 401);
  check_xml_outcome(r, "login");
  r = a.call("POST", "/hl7v2", "r-token", {{"accept", "application/xml"}, {"content-type", "x-application/hl7-v2+er7"}},
             "MSH|");
  CHECK(r.status == 403);
  check_xml_outcome(r, "forbidden");
  r = a.call("GET", "/nowhere/<&\">?_format=xml", "r-token");
  CHECK(r.status == 404);
  check_xml_outcome(r, "not-found");
  CHECK(r.body.find("/nowhere/&lt;&amp;&quot;&gt;") != std::string::npos);
  r = a.call("DELETE", "/metadata?_format=text/xml", "r-token");
  CHECK(r.status == 405);
  check_xml_outcome(r, "not-supported");
  CHECK(header(r, "Allow") == "GET");
  r = a.call("POST", "/hl7v2?_format=xml", "w-token", {{"content-type", "application/json"}}, "{}");
  CHECK(r.status == 415);
  check_xml_outcome(r, "not-supported");
  // _format wins: JSON asked by _format, XML by Accept.
  r = a.call("GET", "/nowhere?_format=json", "r-token", {{"accept", "application/fhir+xml"}});
  CHECK(r.status == 404);
  check_outcome(r, "not-found");
  // An unusable Accept: the error stays JSON (and a FHIR route answers 406).
  r = a.call("GET", "/nowhere", "r-token", {{"accept", "text/html"}});
  CHECK(r.status == 404);
  check_outcome(r, "not-found");
  // error_response (a server's 413 / 431 / 503) takes the format.
  r = a.app.error_response(413, fhir::IssueType::kTooLong, "too big", "unmatched", error_format("/x?_format=xml", ""));
  CHECK(r.status == 413);
  check_xml_outcome(r, "too-long");
  CHECK(error_format("/x", "application/fhir+xml") == Format::kFhirXml);
  CHECK(error_format("/x?_format=%zz", "application/fhir+xml") == Format::kFhirXml);
  CHECK(error_format("/x", "text/html") == Format::kFhirJson);
}

TEST_CASE("http app: XML outcomes escape what they quote", "[http]") {
  const std::string xml = operation_outcome_xml(fhir::IssueType::kInvalid, "a \"b\" <c> & d\ne\x01");
  CHECK(xml.find("<diagnostics value=\"a &quot;b&quot; &lt;c&gt; &amp; d&#10;e\xEF\xBF\xBD\"/>") != std::string::npos);
  auto doc = fhir::xml_to_json(xml.substr(xml.find("?>") + 2), *r4_model());
  REQUIRE(doc.ok());
  CHECK(std::string_view((*doc)["issue"][0]["diagnostics"].GetString()) == "a \"b\" <c> & d\ne\xEF\xBF\xBD");
  CHECK(std::string_view((*doc)["issue"][0]["severity"].GetString()) == "error");
}

TEST_CASE("http app: POST /hl7v2 answers with the ACK", "[http]") {
  App a;
  HttpResponse r = a.call("POST", "/hl7v2", "w-token", {{"content-type", "x-application/hl7-v2+er7; charset=utf-8"}},
                          testing::adt_message("CTRL-42"));
  CHECK(r.status == 200);
  CHECK(r.content_type == kHl7v2Er7);
  CHECK(testing::msa_field(r.body, 1) == "AA");
  CHECK(testing::msa_field(r.body, 2) == "CTRL-42");
  // Not HL7 at all: still an answer, AR.
  r = a.call("POST", "/hl7v2", "w-token", {{"content-type", "x-application/hl7-v2+er7"}}, "hello");
  CHECK(r.status == 200);
  CHECK(testing::msa_field(r.body, 1) == "AR");
  r = a.call("POST", "/hl7v2", "w-token", {{"content-type", "application/json"}}, "{}");
  CHECK(r.status == 415);
  check_outcome(r, "not-supported");
  const std::string exposed = a.registry.expose();
  CHECK(exposed.find("midhurst_hl7v2_messages_total{transport=\"http\",status=\"AA\"} 1") != std::string::npos);
  CHECK(exposed.find("midhurst_hl7v2_messages_total{transport=\"http\",status=\"AR\"} 1") != std::string::npos);
}

TEST_CASE("http app: a bad target is 400", "[http]") {
  App a;
  HttpResponse r = a.call("GET", "/Patient/%zz", "r-token");
  CHECK(r.status == 400);
  check_outcome(r, "invalid");
  CHECK(a.call("GET", "*", "r-token").status == 400);
}

TEST_CASE("http app: requests are counted by route, not path", "[http]") {
  App a;
  a.call("GET", "/Patient/1", "r-token");
  a.call("GET", "/Patient/2", "r-token");
  a.call("GET", "/nope", "r-token");
  const std::string exposed = a.registry.expose();
  CHECK(exposed.find("midhurst_http_requests_total{route=\"/Patient/{id}\",status=\"200\"} 2") != std::string::npos);
  CHECK(exposed.find("midhurst_http_requests_total{route=\"unmatched\",status=\"404\"} 1") != std::string::npos);
}

TEST_CASE("http app: route series count exactly from many threads, statuses apart, none before use", "[http]") {
  App a;
  CHECK(a.registry.expose().find("route=\"/Patient/{id}\"") == std::string::npos);  // not yet answered
  constexpr int kThreads = 4, kEach = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&a, t] {
      for (int i = 0; i < kEach; ++i) {
        HttpRequest req;
        req.method = "GET";
        req.target = "/Patient/" + std::to_string(i);
        // Every fifth request of odd threads has no token: a 401 counted under the same route.
        if (t % 2 == 0 || i % 5 != 0) req.headers.emplace_back("authorization", "Bearer r-token");
        a.app.handle(std::move(req), [](HttpResponse) {});
      }
    });
  for (auto& t : threads) t.join();
  const std::string exposed = a.registry.expose();
  const int unauthorised = 2 * (kEach / 5);
  CHECK(exposed.find("midhurst_http_requests_total{route=\"/Patient/{id}\",status=\"200\"} " +
                     std::to_string(kThreads * kEach - unauthorised) + "\n") != std::string::npos);
  CHECK(exposed.find("midhurst_http_requests_total{route=\"/Patient/{id}\",status=\"401\"} " +
                     std::to_string(unauthorised) + "\n") != std::string::npos);
  CHECK(exposed.find("midhurst_http_request_duration_seconds_count{route=\"/Patient/{id}\"} " +
                     std::to_string(kThreads * kEach) + "\n") != std::string::npos);
  // A status outside the cached set is counted too.
  CHECK(a.app.error_response(418, fhir::IssueType::kProcessing, "teapot", "/Patient/{id}").status == 418);
  CHECK(a.registry.expose().find("midhurst_http_requests_total{route=\"/Patient/{id}\",status=\"418\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("http app: target parsing", "[http]") {
  std::string path;
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;
  REQUIRE(parse_target("/Patient/a%2Fb/?name=o%27brien&given=ann+marie&flag", &path, &segments, &query));
  CHECK(segments == std::vector<std::string>{"Patient", "a/b"});
  CHECK(path == "/Patient/a/b");
  REQUIRE(query.size() == 3);
  CHECK(query[0] == std::pair<std::string, std::string>{"name", "o'brien"});
  CHECK(query[1] == std::pair<std::string, std::string>{"given", "ann marie"});
  CHECK(query[2] == std::pair<std::string, std::string>{"flag", ""});
  CHECK_FALSE(parse_target("/a%2", &path, &segments, &query));
  CHECK_FALSE(parse_target("http://x/", &path, &segments, &query));
}

}  // namespace
}  // namespace midhurst::server
