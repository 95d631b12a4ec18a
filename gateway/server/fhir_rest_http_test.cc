// The REST API through the real Beast server: the Gateway in-process on 127.0.0.1 with an
// ephemeral port, the routes added through GatewayHooks as `midhurst serve` adds them.
#include <rapidjson/document.h>

#include "server/config.h"
#include "server/fhir_rest_test_env.h"
#include "server/gateway.h"
#include "server/test_client.h"

namespace midhurst::server {
namespace {

using store::EntityWrite;
using testing::http;

TEST_CASE("fhir rest: read, search and XML over a real socket", "[http][integration]") {
  testing::RestEnv env;  // the store, renderer and audit writer (its HttpApp is not used here)
  env.write({EntityWrite::put(store::test::patient("p1", store::test::nhs_number(1), "Smith", "Anna"))});

  Config c;
  c.http = {"127.0.0.1", 0};
  c.mllp = {"127.0.0.1", 0};
  c.capability_statement = MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json";
  c.threads = 2;
  c.shutdown_grace = std::chrono::seconds(3);
  c.clients = {{"reader", sha256_hex("reader-token"), {"system/*.read"}}};
  GatewayHooks hooks;
  hooks.add_routes = [&](HttpApp& app) {
    FhirRestDeps deps;
    deps.store = env.store.get();
    deps.renderer = [r = env.renderer] { return r; };
    deps.audit = env.audit.get();
    add_fhir_rest_routes(app, deps);
  };
  Gateway gateway(c, hooks);
  auto started = gateway.start();
  INFO((started.ok() ? "" : started.error()));
  REQUIRE(started.ok());
  const uint16_t port = gateway.http_endpoint().port;

  auto read = http(port, "GET", "/Patient/p1", "reader-token");
  INFO(read.body);
  REQUIRE(read.status == 200);
  CHECK(read.header("etag") == "W/\"1\"");
  rapidjson::Document doc;
  doc.Parse(read.body.c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["id"].GetString()) == "p1");

  auto search = http(port, "GET", "/Patient?family=smith", "reader-token", {{"Accept", "application/fhir+xml"}});
  REQUIRE(search.status == 200);
  CHECK(search.header("content-type").starts_with("application/fhir+xml"));
  CHECK(search.body.find("<Bundle xmlns=\"http://hl7.org/fhir\">") != std::string::npos);

  auto post = http(port, "POST", "/Patient/_search", "reader-token",
                   {{"Content-Type", "application/x-www-form-urlencoded"}}, "given=anna");
  REQUIRE(post.status == 200);
  CHECK(post.body.find("\"id\":\"p1\"") != std::string::npos);

  CHECK(http(port, "GET", "/Patient/p1").status == 401);
  CHECK(http(port, "GET", "/Patient/p1", "reader-token", {{"If-None-Match", "W/\"1\""}}).status == 304);
  gateway.shutdown(true);

  REQUIRE(env.audit->flush());
  auto audited = env.store->list_audit(0, 100, "p1");
  REQUIRE(audited.ok());
  CHECK(audited->size() == 4);  // read, search, POST search, the 304 read
}

}  // namespace
}  // namespace midhurst::server
