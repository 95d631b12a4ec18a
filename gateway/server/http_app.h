// HttpApp: the HTTP API without the sockets. Routing, authentication, scopes, content
// negotiation, error replies and metrics, on plain request/response structs.
//
// http_server.cc (Beast) turns each parsed request into an HttpRequest, calls handle(), and
// writes the HttpResponse back; nothing here knows Beast, so this compiles fast, is tested
// without sockets, and FHIR REST handlers can be written against it.
//
// The pipeline of handle(), in order (each step's failure is the reply, an OperationOutcome):
//   1. target: path and query percent-decoded (400 when malformed);
//   2. route: method + path matched against the table ({name} segments capture);
//   3. auth: unless the route is public (/metadata, /healthz, /readyz), a valid
//      `Authorization: Bearer <token>` is required (401 with WWW-Authenticate). Unknown paths
//      are authenticated too, so that a caller without a token learns nothing of the API;
//   4. no route: 404, or 405 with Allow when the path exists for other methods;
//   5. scope: the route's resource type and access (403);
//   6. body: Content-Type among the route's types (415);
//   7. format: for FHIR routes, `_format` then `Accept`: FHIR JSON or FHIR XML (XML needs the
//      FHIR model of set_model_source(); 406 without one, and for anything else);
//   8. the handler, which answers through Respond (any thread, exactly once).
// The OperationOutcomes of steps 1-6 (and a 500 from a throwing handler) are FHIR XML when the
// client asked for XML by `_format` or `Accept`, else JSON; a 406 is always JSON, since the
// client's ask is what failed. Errors a server finds before a request is whole (413 body too
// large, 431 headers too large, 400 malformed HTTP, 503 busy) are built with error_response()
// so they look alike (error_format() picks their format from what was read of the request).
//
// Threading: add() during set-up only; handle() and error_response() concurrently afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/issue.h"
#include "fhir/model.h"
#include "server/auth.h"
#include "server/server_metrics.h"

namespace midhurst::server {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // as received: "/Patient?name=smith"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string peer;  // "127.0.0.1:50123"
  uint64_t connection_id = 0;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  // Filled by HttpApp::handle: the decoded path and query parameters (in order).
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  // The first header with this lower-case name; "" when absent.
  std::string_view header(std::string_view lower_name) const;
  // The first query parameter with this name, or nullptr.
  const std::string* query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // close the connection after this response
};

using Respond = std::function<void(HttpResponse)>;

enum class Format { kFhirJson, kFhirXml };

inline constexpr std::string_view kFhirJson = "application/fhir+json; charset=utf-8";
inline constexpr std::string_view kFhirXml = "application/fhir+xml; charset=utf-8";
inline constexpr std::string_view kHl7v2Er7 = "x-application/hl7-v2+er7";

struct RequestContext {
  const Principal* principal = nullptr;  // nullptr on public routes
  std::map<std::string, std::string> params;  // {name} captures
  Format format = Format::kFhirJson;
  bool pretty = false;  // _pretty=true
  // FHIR routes answering in XML: the model to write it with (never null then).
  std::shared_ptr<const fhir::Model> model;
};

// The request and context are valid only during the call: a handler that answers later
// copies what it needs.
using Handler = std::function<void(const HttpRequest&, const RequestContext&, Respond)>;

struct Route {
  std::string method;   // "GET"
  std::string pattern;  // "/Patient/{id}"; also the metrics label
  bool public_route = false;
  // Scope needed, for non-public routes: resource type ("*": every type) and access;
  // nullopt: any authenticated client (e.g. /metrics).
  std::string resource = "*";
  std::optional<Access> access;
  bool fhir = true;  // negotiate _format / Accept
  // Accepted request media types (parameters ignored); empty: any, or no body.
  std::vector<std::string> content_types;
  Handler handler;
};

class HttpApp {
 public:
  HttpApp(Authenticator authenticator, ServerMetrics& metrics);
  ~HttpApp();

  void add(Route route);

  // Where FHIR routes get the model XML is written with (the profiles' current one); without
  // it, FHIR routes refuse XML with 406.
  using ModelSource = std::function<std::shared_ptr<const fhir::Model>()>;
  void set_model_source(ModelSource source);

  // The metrics the app counts into, for route sets that add their own series.
  ServerMetrics& metrics() const { return metrics_; }

  // Runs the pipeline above; `respond` is called exactly once (maybe before returning).
  void handle(HttpRequest request, Respond respond) const;

  // An OperationOutcome reply with one issue, recorded in the metrics under `route`.
  HttpResponse error_response(int status, fhir::IssueType type, std::string diagnostics,
                              std::string_view route = "unmatched", Format format = Format::kFhirJson) const;

 private:
  // A route's metric series, looked up in the families once and then read without a lock
  // (Family::with takes the family's mutex, which every request would contend on).
  struct RouteSeries;

  // A route with its pattern split into segments once, at add(): matching runs per request.
  struct Entry {
    Route route;
    std::vector<std::string> segments;
    std::unique_ptr<RouteSeries> series;
  };

  struct Match {
    const Entry* entry = nullptr;
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // methods for the path when `route` is null
  };
  Match match(std::string_view method, const std::vector<std::string>& segments) const;
  // `entry`: the matched route (its cached series), or null ("unmatched").
  void record(const Entry* entry, std::string_view route, int status,
              std::chrono::steady_clock::time_point since) const;

  Authenticator authenticator_;
  ServerMetrics& metrics_;
  std::vector<Entry> routes_;
  ModelSource model_source_;
};

// A JSON OperationOutcome with one issue (fhir/operation_outcome.h) as text.
std::string operation_outcome_json(fhir::IssueType type, std::string_view diagnostics,
                                   fhir::Severity severity = fhir::Severity::kError);

// The same as FHIR XML, written directly (its shape is fixed), so that it needs no model.
std::string operation_outcome_xml(fhir::IssueType type, std::string_view diagnostics,
                                  fhir::Severity severity = fhir::Severity::kError);

// An OperationOutcome reply with one issue in `format`, not recorded anywhere.
HttpResponse outcome_reply(int status, fhir::IssueType type, std::string_view diagnostics, Format format);

// Percent-decodes `in` ('+' as space iff form). False on a bad escape.
bool percent_decode(std::string_view in, bool form, std::string* out);

// Splits a target into decoded path segments and query parameters. False on bad escapes.
bool parse_target(std::string_view target, std::string* path, std::vector<std::string>* segments,
                  std::vector<std::pair<std::string, std::string>>* query);

// Content negotiation (https://hl7.org/fhir/R4/http.html#mime-type): `_format` (the first one
// in `params`) wins over `Accept`. JSON: application/fhir+json, application/json, json,
// text/json, application/json+fhir; XML: application/fhir+xml, application/xml, xml, text/xml,
// application/xml+fhir. In Accept, `*/*` and `application/*` mean JSON, q=0 refuses a type and
// the first acceptable type wins. The format to answer in, or the 406 reason.
Result<Format, std::string> negotiate_format(const std::vector<std::pair<std::string, std::string>>& params,
                                             std::string_view accept);
inline Result<Format, std::string> negotiate_format(const HttpRequest& request) {
  return negotiate_format(request.query, request.header("accept"));
}

// The format of an error reply: what negotiation gives, JSON when it fails. For a request
// that was only partly read (a server's 413), from its raw target and Accept header.
Format error_format(const HttpRequest& request);
Format error_format(std::string_view raw_target, std::string_view accept);

// The reason phrase for a status ("Not Found").
std::string_view status_reason(int status);

}  // namespace midhurst::server
