#include "server/http_app.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <exception>

#include "fhir/operation_outcome.h"
#include "server/log.h"

namespace midhurst::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// The media type of a Content-Type or Accept element, lower-case, parameters dropped.
std::string media_type(std::string_view value) {
  const size_t semi = value.find(';');
  return lower(trim(value.substr(0, semi)));
}

bool is_fhir_json_type(std::string_view t) {
  return t == "application/fhir+json" || t == "application/json" || t == "json" || t == "text/json" ||
         t == "application/json+fhir";
}
bool is_fhir_xml_type(std::string_view t) {
  return t == "application/fhir+xml" || t == "application/xml" || t == "xml" || t == "text/xml" ||
         t == "application/xml+fhir";
}

// Text for an XML attribute value. Characters XML 1.0 cannot carry at all become U+FFFD.
void append_xml_attribute(std::string* out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\t': *out += "&#9;"; break;
      case '\n': *out += "&#10;"; break;
      case '\r': *out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) *out += "\xEF\xBF\xBD";
        else out->push_back(c);
    }
  }
}

void split_path(std::string_view path, std::vector<std::string>* out) {
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out->emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

constexpr std::string_view kRealm = "Bearer realm=\"midhurst\"";

}  // namespace

std::string_view HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return {};
}

const std::string* HttpRequest::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

bool percent_decode(std::string_view in, bool form, std::string* out) {
  // Most ids and values hold no escape: copied as they are.
  if (in.find('%') == std::string_view::npos && (!form || in.find('+') == std::string_view::npos)) {
    out->assign(in);
    return true;
  }
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && form) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool parse_target(std::string_view target, std::string* path, std::vector<std::string>* segments,
                  std::vector<std::pair<std::string, std::string>>* query) {
  if (target.empty() || target.front() != '/') return false;
  const size_t q = target.find('?');
  const std::string_view raw_path = target.substr(0, q);
  path->clear();
  // Segments are split before decoding, so an encoded '/' (%2F) stays inside its segment; empty
  // ones are skipped.
  for (size_t i = 1; i <= raw_path.size();) {
    size_t j = raw_path.find('/', i);
    if (j == std::string_view::npos) j = raw_path.size();
    if (j > i) {
      std::string& decoded = segments->emplace_back();
      if (!percent_decode(raw_path.substr(i, j - i), false, &decoded)) return false;
      path->push_back('/');
      path->append(decoded);
    }
    i = j + 1;
  }
  if (path->empty()) *path = "/";
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string k, v;
    if (!percent_decode(pair.substr(0, eq), true, &k)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, &v)) return false;
    query->emplace_back(std::move(k), std::move(v));
  }
  return true;
}

Result<Format, std::string> negotiate_format(const std::vector<std::pair<std::string, std::string>>& params,
                                             std::string_view accept) {
  const std::string* format = nullptr;
  for (const auto& [k, v] : params)
    if (k == "_format") {
      format = &v;
      break;
    }
  if (format) {
    // A '+' the client did not percent-encode arrives as a space (form decoding of the query):
    // "application/fhir json" can only mean application/fhir+json.
    std::string t = media_type(*format);
    std::replace(t.begin(), t.end(), ' ', '+');
    if (is_fhir_json_type(t)) return Format::kFhirJson;
    if (is_fhir_xml_type(t)) return Format::kFhirXml;
    return err("_format=" + *format + " is not a format this server produces (json or xml)");
  }
  // What clients send nearly always, answered without parsing (the same answers as below).
  if (accept.empty() || accept == "application/fhir+json" || accept == "application/json" || accept == "*/*")
    return Format::kFhirJson;
  if (accept == "application/fhir+xml") return Format::kFhirXml;
  if (trim(accept).empty()) return Format::kFhirJson;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    if (comma == std::string_view::npos) comma = accept.size();
    const std::string_view element = accept.substr(start, comma - start);
    start = comma + 1;
    const std::string type = media_type(element);
    // A q=0 element means "not this one" (RFC 9110 section 12.4.2).
    bool refused = false;
    const std::string params_text = lower(element);
    for (size_t at = params_text.find(';'); at != std::string::npos; at = params_text.find(';', at + 1)) {
      const std::string p = trim(std::string_view(params_text).substr(at + 1, params_text.find(';', at + 1) - at - 1));
      if (p.rfind("q=", 0) == 0 && std::strtod(p.c_str() + 2, nullptr) <= 0) refused = true;
    }
    if (refused || type.empty()) continue;
    if (is_fhir_json_type(type) || type == "*/*" || type == "application/*") return Format::kFhirJson;
    if (is_fhir_xml_type(type)) return Format::kFhirXml;
  }
  return err("Accept: " + std::string(accept) +
             " names no format this server produces (application/fhir+json or application/fhir+xml)");
}

Format error_format(const HttpRequest& request) {
  auto f = negotiate_format(request);
  return f ? *f : Format::kFhirJson;
}

Format error_format(std::string_view raw_target, std::string_view accept) {
  std::string path;
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;
  if (!parse_target(raw_target, &path, &segments, &query)) query.clear();
  auto f = negotiate_format(query, accept);
  return f ? *f : Format::kFhirJson;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "";
}

std::string operation_outcome_json(fhir::IssueType type, std::string_view diagnostics, fhir::Severity severity) {
  rapidjson::Document doc = fhir::make_operation_outcome({{severity, type, "", std::string(diagnostics)}});
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string operation_outcome_xml(fhir::IssueType type, std::string_view diagnostics, fhir::Severity severity) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OperationOutcome xmlns=\"http://hl7.org/fhir\">"
                    "<issue><severity value=\"";
  out += fhir::to_code(severity);
  out += "\"/><code value=\"";
  out += fhir::to_code(type);
  out += "\"/>";
  if (!diagnostics.empty()) {
    out += "<diagnostics value=\"";
    append_xml_attribute(&out, diagnostics);
    out += "\"/>";
  }
  out += "</issue></OperationOutcome>";
  return out;
}

HttpResponse outcome_reply(int status, fhir::IssueType type, std::string_view diagnostics, Format format) {
  HttpResponse r;
  r.status = status;
  if (format == Format::kFhirXml) {
    r.content_type = std::string(kFhirXml);
    r.body = operation_outcome_xml(type, diagnostics);
  } else {
    r.content_type = std::string(kFhirJson);
    r.body = operation_outcome_json(type, diagnostics);
  }
  return r;
}

namespace {

// The statuses whose series a route caches; others go through Family::with each time.
constexpr int kCachedStatuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
                                   406, 410, 413, 415, 422, 431, 500, 503};
constexpr size_t kCachedStatusCount = std::size(kCachedStatuses);

int cached_status_slot(int status) {
  for (size_t i = 0; i < kCachedStatusCount; ++i)
    if (kCachedStatuses[i] == status) return static_cast<int>(i);
  return -1;
}

}  // namespace

// Filled on first use, so that a route's series appear in /metrics only once it has answered
// (as before). Two threads racing to fill a slot store the same child: Family children never move.
struct HttpApp::RouteSeries {
  std::atomic<Histogram*> duration{nullptr};
  std::array<std::atomic<Counter*>, kCachedStatusCount> requests{};
};

HttpApp::HttpApp(Authenticator authenticator, ServerMetrics& metrics)
    : authenticator_(std::move(authenticator)), metrics_(metrics) {}

HttpApp::~HttpApp() = default;

void HttpApp::add(Route route) {
  Entry e;
  split_path(route.pattern, &e.segments);
  e.route = std::move(route);
  e.series = std::make_unique<RouteSeries>();
  routes_.push_back(std::move(e));
}

void HttpApp::set_model_source(ModelSource source) { model_source_ = std::move(source); }

HttpApp::Match HttpApp::match(std::string_view method, const std::vector<std::string>& segments) const {
  Match result;
  for (const Entry& e : routes_) {
    const Route& r = e.route;
    const std::vector<std::string>& pattern = e.segments;
    if (pattern.size() != segments.size()) continue;
    // Literal segments first, so that a route that does not match costs no allocation.
    bool ok = true;
    for (size_t i = 0; i < pattern.size() && ok; ++i) {
      const std::string& p = pattern[i];
      ok = (p.size() > 2 && p.front() == '{' && p.back() == '}') || p == segments[i];
    }
    if (!ok) continue;
    std::map<std::string, std::string> params;
    for (size_t i = 0; i < pattern.size(); ++i) {
      const std::string& p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') params[p.substr(1, p.size() - 2)] = segments[i];
    }
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      result.entry = &e;
      result.route = &r;
      result.params = std::move(params);
      return result;
    }
    if (std::find(result.allowed.begin(), result.allowed.end(), r.method) == result.allowed.end())
      result.allowed.push_back(r.method);
  }
  return result;
}

void HttpApp::record(const Entry* entry, std::string_view route, int status,
                     std::chrono::steady_clock::time_point since) const {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  Counter* requests = nullptr;
  Histogram* duration = nullptr;
  const int slot = entry ? cached_status_slot(status) : -1;
  if (slot >= 0) requests = entry->series->requests[static_cast<size_t>(slot)].load(std::memory_order_acquire);
  if (entry) duration = entry->series->duration.load(std::memory_order_acquire);
  if (!requests) {
    requests = &metrics_.http_requests.with({std::string(route), std::to_string(status)});
    if (slot >= 0) entry->series->requests[static_cast<size_t>(slot)].store(requests, std::memory_order_release);
  }
  if (!duration) {
    duration = &metrics_.http_duration.with({std::string(route)});
    if (entry) entry->series->duration.store(duration, std::memory_order_release);
  }
  requests->inc();
  duration->observe(seconds);
}

HttpResponse HttpApp::error_response(int status, fhir::IssueType type, std::string diagnostics,
                                     std::string_view route, Format format) const {
  HttpResponse r = outcome_reply(status, type, diagnostics, format);
  metrics_.http_requests.with({std::string(route), std::to_string(status)}).inc();
  return r;
}

void HttpApp::handle(HttpRequest request, Respond respond) const {
  const auto started = request.received;
  // Every reply goes through here: one place for metrics and the access log.
  // `entry`: the matched route, whose metric series count the reply (null: "unmatched").
  auto finish = [this, respond, started, method = request.method, target = request.target, peer = request.peer](
                    const Entry* entry, std::string route, std::string client, HttpResponse response) {
    record(entry, route, response.status, started);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const LogLevel level = response.status >= 500 ? LogLevel::kWarn
                           : response.status >= 400 ? LogLevel::kInfo
                                                    : LogLevel::kDebug;
    log(level, "http.request",
        {{"method", method}, {"target", target}, {"route", route}, {"status", response.status},
         {"ms", ms}, {"client", client}, {"peer", peer}});
    respond(std::move(response));
  };
  const Entry* matched = nullptr;  // once routed
  std::string client;  // for the log, once authenticated
  // The format of error replies: JSON until the query is read, then (unset) the client's,
  // worked out only when an error needs it.
  std::optional<Format> errors_in = Format::kFhirJson;
  auto fail = [&](std::string route, int status, fhir::IssueType type, std::string why,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse r = outcome_reply(status, type, why, errors_in ? *errors_in : error_format(request));
    r.headers = std::move(headers);
    finish(matched, std::move(route), client, std::move(r));
  };

  std::vector<std::string> segments;
  if (!parse_target(request.target, &request.path, &segments, &request.query))
    return fail("unmatched", 400, fhir::IssueType::kInvalid, "the request target is not a valid path and query");
  errors_in.reset();

  Match m = match(request.method, segments);
  const std::string route = m.route ? m.route->pattern : "unmatched";
  matched = m.entry;

  const Principal* principal = nullptr;
  if (!m.route || !m.route->public_route) {
    auto auth = authenticator_.identify(request.header("authorization"));
    if (!auth) {
      const bool missing = auth.error() == AuthFailure::kMissing;
      std::string challenge(kRealm);
      if (!missing) challenge += ", error=\"invalid_token\"";
      return fail(route, 401, fhir::IssueType::kLogin,
                  missing ? "this request needs an Authorization: Bearer token"
                          : "the bearer token is not valid",
                  {{"WWW-Authenticate", challenge}});
    }
    principal = *auth;
    client = principal->client;
  }
  if (!m.route) {
    if (!m.allowed.empty())
      return fail(route, 405, fhir::IssueType::kNotSupported,
                  request.method + " is not supported on " + request.path + " (allowed: " + join(m.allowed, ", ") + ")",
                  {{"Allow", join(m.allowed, ", ")}});
    return fail(route, 404, fhir::IssueType::kNotFound, "there is nothing at " + request.path);
  }
  const Route& r = *m.route;
  if (principal && r.access && !principal->may(r.resource, *r.access)) {
    const std::string needed = "system/" + r.resource + (*r.access == Access::kRead ? ".read" : ".write");
    return fail(route, 403, fhir::IssueType::kForbidden,
                "client \"" + principal->client + "\" lacks the scope " + needed,
                {{"WWW-Authenticate", std::string(kRealm) + ", error=\"insufficient_scope\", scope=\"" + needed + "\""}});
  }
  if (!r.content_types.empty()) {
    const std::string type = media_type(request.header("content-type"));
    if (std::find(r.content_types.begin(), r.content_types.end(), type) == r.content_types.end())
      return fail(route, 415, fhir::IssueType::kNotSupported,
                  "Content-Type \"" + type + "\" is not accepted here (use " + join(r.content_types, " or ") + ")");
  }
  RequestContext context;
  if (r.fhir) {
    auto format = negotiate_format(request);
    if (!format) {
      errors_in = Format::kFhirJson;
      return fail(route, 406, fhir::IssueType::kNotSupported, format.error());
    }
    if (*format == Format::kFhirXml) {
      if (model_source_) context.model = model_source_();
      if (!context.model) {
        errors_in = Format::kFhirJson;
        return fail(route, 406, fhir::IssueType::kNotSupported,
                    "XML needs the FHIR model of the mapping profiles, which is not loaded; ask for JSON");
      }
    }
    context.format = *format;
    const std::string* pretty = request.query_param("_pretty");
    context.pretty = pretty && *pretty == "true";
  }
  context.params = std::move(m.params);
  context.principal = principal;
  try {
    r.handler(request, context, [finish, entry = m.entry, route, client](HttpResponse response) mutable {
      finish(entry, route, client, std::move(response));
    });
  } catch (const std::exception& e) {
    log_error("http.handler_failed", {{"route", route}, {"error", e.what()}});
    fail(route, 500, fhir::IssueType::kException, "internal error");
  }
}

}  // namespace midhurst::server
