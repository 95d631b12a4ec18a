// The FHIR REST tests' world: a real SQLite store in a temporary directory, the shipped
// care→fhir profiles, an AuditWriter, and an HttpApp with the REST routes, called directly.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "care/json.h"
#include "mapping/fhir_render.h"
#include "mapping/profile.h"
#include "server/fhir_rest.h"
#include "server/fhir_rest_audit.h"
#include "server/http_app.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/render_cache.h"
#include "server/server_metrics.h"
#include "store/test_support.h"

namespace midhurst::server::testing {

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The repository's care→fhir profiles and every ConceptMap: with `all`, every profile in
// mappings/care-fhir (what `midhurst serve` renders with); otherwise only the Patient and
// end-of-life ones, whose resources these tests use. (The other directions are left out so
// that these tests stay about the REST layer while those profiles change.)
inline std::shared_ptr<const mapping::ProfileSet> care_fhir_profiles(bool all = false) {
  namespace fs = std::filesystem;
  auto load = [](bool every) {
    std::vector<mapping::ProfileSet::SourceFile> profiles, maps;
    const fs::path dir = MIDHURST_MAPPINGS_DIR;
    for (const auto& e : fs::directory_iterator(dir / "care-fhir")) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() == ".json" && (every || name == "patient.json" || name == "end-of-life.json"))
        profiles.push_back({"care-fhir/" + name, read_text(e.path())});
    }
    for (const auto& e : fs::directory_iterator(dir / "concepts"))
      if (e.path().extension() == ".json") maps.push_back({"concepts/" + e.path().filename().string(), read_text(e.path())});
    mapping::LoadOptions options;
    options.fhir_profiles_dir = MIDHURST_SOURCE_DIR "/profiles";
    auto r = mapping::ProfileSet::load(profiles, maps, options);
    if (!r.ok())
      for (const mapping::LoadError& e : r.error()) FAIL(e.to_string());
    return *r;
  };
  static const std::shared_ptr<const mapping::ProfileSet> some = load(false);
  if (!all) return some;
  static const std::shared_ptr<const mapping::ProfileSet> every = load(true);
  return every;
}

struct QuietLog {
  QuietLog() {
    if (!std::getenv("MIDHURST_TEST_LOG")) set_log_sink([](std::string_view) {});
  }
  ~QuietLog() { set_log_sink(nullptr); }
};

struct Reply {
  HttpResponse r;
  rapidjson::Document json;  // the body parsed when it is JSON
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  int status() const { return r.status; }
};

struct RestEnv {
  QuietLog quiet;
  store::test::TempDir dir;
  std::unique_ptr<store::Store> store;
  std::shared_ptr<const mapping::FhirRenderer> renderer;
  std::unique_ptr<AuditWriter> audit;
  // On by default, so that every REST test also checks the cached path's answers.
  std::unique_ptr<RenderCache> cache;
  MetricsRegistry registry;
  ServerMetrics metrics{registry};
  std::unique_ptr<HttpApp> app;
  int control = 0;

  // `faults`: injected into the store (for the audit writer's failure paths). `cache_bytes`:
  // the render cache's bound (0: no cache).
  explicit RestEnv(std::shared_ptr<const mapping::ProfileSet> profiles = care_fhir_profiles(),
                   store::FaultInjection* faults = nullptr, std::size_t cache_bytes = std::size_t{64} << 20) {
    store::StoreOptions options;
    options.faults = faults;
    auto s = store::open_store("sqlite:" + (dir.path() / "store.db").string(), options);
    if (!s.ok()) FAIL(s.error().message);
    store = std::move(*s);
    auto r = mapping::FhirRenderer::create(std::move(profiles));
    if (!r.ok()) FAIL(r.error());
    renderer = *r;
    audit = std::make_unique<AuditWriter>(*store);
    app = std::make_unique<HttpApp>(
        Authenticator({{"reader", sha256_hex("all"), {"system/*.read"}},
                       {"patients-only", sha256_hex("pat"), {"system/Patient.read"}},
                       {"auditor", sha256_hex("audit"), {"system/AuditEvent.read"}}}),
        metrics);
    cache = std::make_unique<RenderCache>(cache_bytes);
    FhirRestDeps deps;
    deps.store = store.get();
    // Reads `renderer` on each request: a test swaps it as a profile reload would.
    deps.renderer = [this] { return renderer; };
    deps.audit = audit.get();
    deps.render_cache = cache.get();
    add_fhir_rest_routes(*app, deps);
  }
  ~RestEnv() {
    audit.reset();  // drains before the store closes
  }

  // Writes entities as one accepted message; returns their versions.
  std::vector<store::WrittenVersion> write(std::vector<store::EntityWrite> writes) {
    auto result = store::test::apply_ok(*store, store::test::batch({store::test::message("m" + std::to_string(++control), std::move(writes))}));
    REQUIRE(result.messages.size() == 1);
    INFO(result.messages[0].reason);
    REQUIRE(result.messages[0].status == store::JournalStatus::kAccepted);
    return result.messages[0].versions;
  }

  Reply call(std::string method, std::string target, std::string token = "all",
             std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = {}) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers.emplace_back("host", "gw.test");
    if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
    for (auto& h : headers) req.headers.push_back(h);
    req.body = std::move(body);
    Reply out;
    bool called = false;
    app->handle(std::move(req), [&](HttpResponse r) {
      CHECK_FALSE(called);
      called = true;
      out.r = std::move(r);
    });
    REQUIRE(called);
    if (out.r.content_type.starts_with("application/fhir+json")) {
      out.json.Parse(out.r.body.c_str());
      INFO(out.r.body);
      REQUIRE_FALSE(out.json.HasParseError());
    }
    return out;
  }
  Reply get(std::string target, std::string token = "all", std::vector<std::pair<std::string, std::string>> headers = {}) {
    return call("GET", std::move(target), std::move(token), std::move(headers));
  }
};

// An end-of-life plan for `patient_id` from the care example, with its own id and no links to
// entities the test store does not hold.
inline care::EndOfLifePlan eol_plan(const std::string& id, const std::string& patient_id) {
  auto plan = care::from_json<care::EndOfLifePlan>(read_text(MIDHURST_SOURCE_DIR "/gateway/care/examples/eol.json"));
  if (!plan.ok()) FAIL(plan.error().to_string());
  care::EndOfLifePlan p = std::move(*plan);
  p.id = id;
  p.version = 1;
  p.provenance.reset();
  p.patient = store::test::patient_ref(patient_id);
  return p;
}

// The entries of a Bundle whose search.mode is `mode` ("" = all), as "Type/id".
inline std::vector<std::string> entry_refs(const rapidjson::Value& bundle, std::string_view mode = "") {
  std::vector<std::string> out;
  if (!bundle.HasMember("entry")) return out;
  for (const auto& e : bundle["entry"].GetArray()) {
    if (!mode.empty() && (!e.HasMember("search") || e["search"]["mode"].GetString() != mode)) continue;
    if (!e.HasMember("resource") || !e["resource"].HasMember("id")) continue;
    out.push_back(std::string(e["resource"]["resourceType"].GetString()) + "/" + e["resource"]["id"].GetString());
  }
  return out;
}

inline std::string link(const rapidjson::Value& bundle, std::string_view relation) {
  if (!bundle.HasMember("link")) return {};
  for (const auto& l : bundle["link"].GetArray())
    if (l["relation"].GetString() == relation) return l["url"].GetString();
  return {};
}

}  // namespace midhurst::server::testing
