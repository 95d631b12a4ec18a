// The HTTP side on a real socket: the Gateway in-process on 127.0.0.1 with ephemeral ports.
// Every wait is bounded. (binary_test.cc runs the real `midhurst serve`.)
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include "server/auth.h"
#include "server/gateway.h"
#include "server/http_app.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/server_metrics.h"
#include "server/test_client.h"

namespace midhurst::server {
namespace {

using testing::Connection;
using testing::http;
using testing::http_raw;
using testing::HttpReply;
using testing::msa_field;

// Silences the JSON log, unless MIDHURST_TEST_LOG is set (for debugging a failure).
struct QuietLog {
  QuietLog() {
    if (!std::getenv("MIDHURST_TEST_LOG")) set_log_sink([](std::string_view) {});
  }
  ~QuietLog() { set_log_sink(nullptr); }
};

Config test_config() {
  Config c;
  c.http = {"127.0.0.1", 0};
  c.mllp = {"127.0.0.1", 0};
  c.capability_statement = MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json";
  c.http_limits.max_body_bytes = 4096;
  c.http_limits.max_header_bytes = 2048;
  c.threads = 2;
  c.shutdown_grace = std::chrono::seconds(3);
  if (std::getenv("MIDHURST_TEST_LOG")) c.log_level = "debug";
  c.clients = {{"reader", sha256_hex("reader-token"), {"system/Patient.read"}},
               {"writer", sha256_hex("writer-token"), {"system/*.write"}}};
  return c;
}

struct Running {
  QuietLog quiet;
  Gateway gateway;
  uint16_t port = 0;
  explicit Running(Config c = test_config(), GatewayHooks hooks = {}) : gateway(std::move(c), std::move(hooks)) {
    auto started = gateway.start();
    INFO((started.ok() ? "" : started.error()));
    REQUIRE(started.ok());
    port = gateway.http_endpoint().port;
    REQUIRE(port != 0);
  }
};

bool is_outcome(const HttpReply& r, std::string_view code) {
  return r.header("content-type").rfind("application/fhir+json", 0) == 0 &&
         r.body.find("\"resourceType\":\"OperationOutcome\"") != std::string::npos &&
         r.body.find("\"code\":\"" + std::string(code) + "\"") != std::string::npos;
}

TEST_CASE("http: operational endpoints", "[http][integration]") {
  Running s;
  HttpReply r = http(s.port, "GET", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"up"})");
  r = http(s.port, "GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(r.body.find("\"status\":\"ready\"") != std::string::npos);
  r = http(s.port, "GET", "/metadata");
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "application/fhir+json; charset=utf-8");
  CHECK(r.body.find("\"resourceType\":\"CapabilityStatement\"") != std::string::npos);
  r = http(s.port, "GET", "/metrics", "reader-token");
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body.find("# TYPE midhurst_ack_latency_seconds histogram") != std::string::npos);
  CHECK(r.body.find("midhurst_http_requests_total{route=\"/healthz\",status=\"200\"} 1") != std::string::npos);
  CHECK(r.body.find("midhurst_connections{transport=\"http\"}") != std::string::npos);
  CHECK(r.body.find("midhurst_commit_latency_seconds_count 0") != std::string::npos);
}

TEST_CASE("http: auth, scopes, 404, 405, 406, 415 on the wire", "[http][integration]") {
  Running s;
  HttpReply r = http(s.port, "GET", "/metrics");
  CHECK(r.status == 401);
  CHECK(r.header("www-authenticate") == "Bearer realm=\"midhurst\"");
  CHECK(is_outcome(r, "login"));
  r = http(s.port, "GET", "/metrics", "stolen");
  CHECK(r.status == 401);
  CHECK(r.header("www-authenticate").find("invalid_token") != std::string::npos);
  r = http(s.port, "POST", "/hl7v2", "reader-token", {{"Content-Type", "x-application/hl7-v2+er7"}}, "MSH|");
  CHECK(r.status == 403);
  CHECK(is_outcome(r, "forbidden"));
  r = http(s.port, "GET", "/Patient/123", "reader-token");
  CHECK(r.status == 404);
  CHECK(is_outcome(r, "not-found"));
  r = http(s.port, "PUT", "/metadata", "reader-token", {}, "{}");
  CHECK(r.status == 405);
  CHECK(r.header("allow") == "GET");
  // No FHIR routes, so no model to write XML with: refused, in JSON.
  r = http(s.port, "GET", "/metadata?_format=xml");
  CHECK(r.status == 406);
  CHECK(is_outcome(r, "not-supported"));
  r = http(s.port, "GET", "/nowhere?_format=xml", "reader-token");
  CHECK(r.status == 404);
  CHECK(r.header("content-type").starts_with("application/fhir+xml"));
  r = http(s.port, "POST", "/hl7v2", "writer-token", {{"Content-Type", "text/plain"}}, "MSH|");
  CHECK(r.status == 415);
}

TEST_CASE("http: POST /hl7v2 answers with the ACK", "[http][integration]") {
  Running s;
  HttpReply r = http(s.port, "POST", "/hl7v2", "writer-token", {{"Content-Type", "x-application/hl7-v2+er7"}},
                     testing::adt_message("HTTP-1"));
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "x-application/hl7-v2+er7");
  CHECK(msa_field(r.body, 1) == "AA");
  CHECK(msa_field(r.body, 2) == "HTTP-1");
}

TEST_CASE("http: 413 for an oversize body, and the server keeps serving", "[http][integration]") {
  Running s;
  HttpReply r = http(s.port, "POST", "/hl7v2", "writer-token", {{"Content-Type", "x-application/hl7-v2+er7"}},
                     std::string(20000, 'x'));
  CHECK(r.status == 413);
  CHECK(is_outcome(r, "too-long"));
  CHECK(http(s.port, "GET", "/healthz").status == 200);
  // Asked for XML: the same refusal as a FHIR XML OperationOutcome.
  r = http(s.port, "POST", "/hl7v2?_format=xml", "writer-token", {{"Content-Type", "x-application/hl7-v2+er7"}},
           std::string(20000, 'x'));
  CHECK(r.status == 413);
  CHECK(r.header("content-type").starts_with("application/fhir+xml"));
  CHECK(r.body.find("<OperationOutcome xmlns=\"http://hl7.org/fhir\"><issue><severity value=\"error\"/><code value=\"too-long\"/>") !=
        std::string::npos);
  r = http(s.port, "POST", "/hl7v2", "writer-token",
           {{"Content-Type", "x-application/hl7-v2+er7"}, {"Accept", "application/fhir+xml"}}, std::string(20000, 'x'));
  CHECK(r.status == 413);
  CHECK(r.header("content-type").starts_with("application/fhir+xml"));
}

TEST_CASE("http: 431 for oversize headers", "[http][integration]") {
  Running s;
  HttpReply r = http(s.port, "GET", "/healthz", "", {{"X-Padding", std::string(4000, 'p')}});
  CHECK(r.status == 431);
  CHECK(is_outcome(r, "too-long"));
}

TEST_CASE("http: malformed HTTP gets 400 and the server keeps serving others", "[http][integration]") {
  Running s;
  Connection other(s.port);  // a connection opened before, used after
  HttpReply r = http_raw(s.port, "THIS IS NOT HTTP\r\n\r\n");
  CHECK(r.status == 400);
  CHECK(is_outcome(r, "structure"));
  r = http_raw(s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n");
  CHECK(r.status == 400);
  r = http_raw(s.port, "GET /healthz HTTP/1.1\r\nContent-Length: banana\r\n\r\n");
  CHECK(r.status == 400);
  REQUIRE(other.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  other.read_to_end();
  CHECK(testing::parse_http_reply(other.buffer()).status == 200);
}

TEST_CASE("http: Expect: 100-continue gets 100 Continue before the body is sent", "[http][integration]") {
  Running s;
  Connection c(s.port);
  const std::string body = testing::adt_message("CONT-1");
  REQUIRE(c.send("POST /hl7v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer writer-token\r\n"
                 "Content-Type: x-application/hl7-v2+er7\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  // The interim response comes without the body having been sent.
  REQUIRE(c.read_until("\r\n\r\n"));
  REQUIRE(c.buffer().rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
  c.buffer().clear();
  REQUIRE(c.send(body));
  c.read_to_end();
  const HttpReply r = testing::parse_http_reply(c.buffer());
  CHECK(r.status == 200);
  CHECK(msa_field(r.body, 2) == "CONT-1");
}

TEST_CASE("http: keep-alive serves several requests on one connection", "[http][integration]") {
  Running s;
  Connection c(s.port);
  REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  c.read_to_end();
  const size_t second = c.buffer().find("HTTP/1.1", 1);
  REQUIRE(second != std::string::npos);
  CHECK(testing::parse_http_reply(c.buffer().substr(0, second)).status == 200);
  CHECK(testing::parse_http_reply(c.buffer().substr(second)).body.find("ready") != std::string::npos);
}

TEST_CASE("http: response heads on the wire: length, connection, HEAD, HTTP/1.0 keep-alive", "[http][integration]") {
  Running s;
  // HTTP/1.1, keep-alive by default: no Connection header, Content-Length of the body.
  Connection c(s.port);
  REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(c.read_until(R"({"status":"up"})"));
  const std::string& first = c.buffer();
  CHECK(first.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(first.find("\r\nContent-Length: 15\r\n") != std::string::npos);
  CHECK(first.find("\r\nServer: midhurst\r\n") != std::string::npos);
  CHECK(first.find("\r\nContent-Type: application/json") != std::string::npos);
  CHECK(first.find("Connection:") == std::string::npos);
  c.buffer().clear();
  // HEAD: the GET's headers, Content-Length included, and no body; then close on request.
  REQUIRE(c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  c.read_to_end();
  CHECK(c.buffer().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(c.buffer().find("\r\nContent-Length: 15\r\n") != std::string::npos);
  CHECK(c.buffer().find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(c.buffer().ends_with("\r\n\r\n"));
  // HTTP/1.0 asking for keep-alive gets it said back, and the connection stays open for more.
  Connection old(s.port);
  REQUIRE(old.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  REQUIRE(old.read_until(R"({"status":"up"})"));
  CHECK(old.buffer().rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  CHECK(old.buffer().find("\r\nConnection: keep-alive\r\n") != std::string::npos);
  old.buffer().clear();
  REQUIRE(old.send("GET /nowhere HTTP/1.0\r\n\r\n"));  // no keep-alive: answered, then closed
  old.read_to_end();
  const HttpReply r = testing::parse_http_reply(old.buffer());
  CHECK(r.status == 401);
  CHECK(old.buffer().rfind("HTTP/1.0 401 Unauthorized\r\n", 0) == 0);
  CHECK(r.header("www-authenticate").rfind("Bearer", 0) == 0);
  CHECK(old.buffer().find("Connection:") == std::string::npos);
}

TEST_CASE("http: idle connections are closed, and beyond max_connections comes 503", "[http][integration]") {
  Config c = test_config();
  c.http_limits.idle_timeout = std::chrono::seconds(1);
  c.http_limits.max_connections = 2;
  Running s(c);
  Connection a(s.port), b(s.port);
  for (int i = 0; i < 200 && s.gateway.server_metrics().connections.with({"http"}).value() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  HttpReply busy = http(s.port, "GET", "/healthz");
  CHECK(busy.status == 503);
  CHECK(busy.header("retry-after") == "1");
  CHECK(is_outcome(busy, "transient"));
  // a and b say nothing: the idle timeout closes them.
  CHECK(a.read_to_end());
  CHECK(b.read_to_end());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(http(s.port, "GET", "/healthz").status == 200);
}

TEST_CASE("http: shutdown lets a request in progress finish", "[http][integration]") {
  GatewayHooks hooks;
  hooks.add_routes = [](HttpApp& app) {
    Route slow;
    slow.method = "GET";
    slow.pattern = "/slow";
    slow.public_route = true;
    slow.fhir = false;
    slow.handler = [](const HttpRequest&, const RequestContext&, Respond respond) {
      std::thread([respond] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        HttpResponse r;
        r.body = "done";
        respond(std::move(r));
      }).detach();
    };
    app.add(std::move(slow));
  };
  Running s(test_config(), hooks);
  HttpReply reply;
  std::thread client([&] { reply = http(s.port, "GET", "/slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.gateway.shutdown();
  client.join();
  CHECK(reply.status == 200);
  CHECK(reply.body == "done");
  CHECK_FALSE(Connection(s.port).connected());
}

// A handler's worker may hold on to its Respond after answering, or answer after stop(), and
// drop its copy only once the gateway is gone. Neither may reach the server's freed state
// (the sanitizer build reports it if they do).
Route keeping_route(std::string pattern, bool answer, std::mutex& mutex, Respond& kept) {
  Route r;
  r.method = "GET";
  r.pattern = std::move(pattern);
  r.public_route = true;
  r.fhir = false;
  r.handler = [answer, &mutex, &kept](const HttpRequest&, const RequestContext&, Respond respond) {
    std::lock_guard lock(mutex);
    kept = respond;
    if (!answer) return;
    HttpResponse done;
    done.body = "done";
    respond(std::move(done));
  };
  return r;
}

TEST_CASE("http: a Respond released after the gateway is gone does not touch it", "[http][integration]") {
  std::mutex mutex;
  Respond kept;
  GatewayHooks hooks;
  hooks.add_routes = [&](HttpApp& app) { app.add(keeping_route("/kept", true, mutex, kept)); };
  {
    Running s(test_config(), hooks);
    HttpReply reply = http(s.port, "GET", "/kept");
    CHECK(reply.status == 200);
    CHECK(reply.body == "done");
  }
  std::lock_guard lock(mutex);
  CHECK(kept != nullptr);
  kept = nullptr;  // the last copy
}

TEST_CASE("http: an answer after stop() is dropped", "[http][integration]") {
  std::mutex mutex;
  Respond kept;
  GatewayHooks hooks;
  hooks.add_routes = [&](HttpApp& app) { app.add(keeping_route("/held", false, mutex, kept)); };
  Config c = test_config();
  c.shutdown_grace = std::chrono::seconds(0);
  {
    Running s(c, hooks);
    HttpReply reply;
    std::thread client([&] { reply = http(s.port, "GET", "/held"); });
    bool arrived = false;
    for (int i = 0; i < 500 && !arrived; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::lock_guard lock(mutex);
      arrived = kept != nullptr;
    }
    s.gateway.shutdown();  // no grace: the connection waiting for its answer is cut
    client.join();
    REQUIRE(arrived);
    CHECK(reply.status == 0);
    CHECK(s.gateway.server_metrics().connections.with({"http"}).value() == 0);
    std::lock_guard lock(mutex);
    HttpResponse late;
    late.body = "too late";
    kept(std::move(late));  // the HttpApp still exists; the server is stopped
  }
  std::lock_guard lock(mutex);
  kept = nullptr;
}

}  // namespace
}  // namespace midhurst::server
