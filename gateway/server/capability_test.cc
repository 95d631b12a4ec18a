// conformance/CapabilityStatement.json: what /metadata serves must be a valid R4
// CapabilityStatement (checked with the fhir module's validator), must load as the server
// loads it, and must claim exactly what the REST routes answer with the shipped profiles.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "fhir/profile_set.h"
#include "fhir/validator.h"
#include "server/fhir_rest_test_env.h"
#include "fhir/xml.h"
#include "server/routes.h"
#include "server/validate_ingest.h"

namespace midhurst::server {
namespace {

rapidjson::Document capability_statement() {
  auto text = load_capability_statement(MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json");
  INFO((text.ok() ? "" : text.error()));
  REQUIRE(text.ok());
  rapidjson::Document doc;
  doc.Parse(text->c_str());
  REQUIRE(doc.IsObject());
  return doc;
}

TEST_CASE("capability statement: loads and is valid R4", "[metadata]") {
  rapidjson::Document doc = capability_statement();
  auto profiles = fhir::ProfileSet::load(MIDHURST_SOURCE_DIR "/profiles");
  REQUIRE(profiles.ok());
  const std::vector<fhir::Issue> issues = fhir::validate(doc, *profiles);
  INFO(fhir::to_string(issues));
  CHECK_FALSE(fhir::has_errors(issues));
}

TEST_CASE("capability statement: /metadata in XML is the same statement", "[metadata]") {
  testing::RestEnv env;  // its FHIR routes give HttpApp the profiles' model
  Readiness readiness;
  ValidateOnlyIngest ingest;
  auto text = load_capability_statement(MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json");
  REQUIRE(text.ok());
  add_operational_routes(*env.app, {&readiness, &env.metrics, &ingest, *text});
  const fhir::Model* model = env.renderer->profiles().fhir_model();
  REQUIRE(model != nullptr);
  for (const auto& [target, accept] : std::vector<std::pair<std::string, std::string>>{
           {"/metadata?_format=xml", ""}, {"/metadata?_pretty=true", "application/fhir+xml"}}) {
    testing::Reply r = env.get(target, "", accept.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                                          : std::vector<std::pair<std::string, std::string>>{{"accept", accept}});
    INFO(target << " " << r.r.body.substr(0, 400));
    REQUIRE(r.status() == 200);
    CHECK(r.r.content_type == kFhirXml);
    CHECK(r.r.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CapabilityStatement xmlns=\"http://hl7.org/fhir\">"));
    // Read back, it is the JSON statement, element for element.
    auto back = fhir::xml_to_json(r.r.body.substr(r.r.body.find("?>") + 2), *model);
    INFO((back.ok() ? "" : back.error().to_string()));
    REQUIRE(back.ok());
    CHECK(*back == capability_statement());
  }
  CHECK(env.get("/metadata?_pretty=true", "", {{"accept", "application/fhir+xml"}}).r.body.find("\n  <") != std::string::npos);
}

TEST_CASE("capability statement: a file that is not one is refused", "[metadata]") {
  CHECK_FALSE(load_capability_statement("no/such/file.json").ok());
  auto wrong = load_capability_statement(MIDHURST_SOURCE_DIR "/examples/midhurst.json");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().find("not a CapabilityStatement") != std::string::npos);
}

// A value of the right kind for a search parameter type.
std::string sample(std::string_view type) {
  if (type == "date") return "2020";
  if (type == "reference") return "Patient/x";
  return "x";
}

TEST_CASE("capability statement: each claim answers through the registered routes", "[metadata]") {
  // Every shipped care→fhir profile (what the read API renders with).
  testing::RestEnv env(testing::care_fhir_profiles(/*all=*/true));
  rapidjson::Document doc = capability_statement();
  const auto& rest = doc["rest"][0];
  REQUIRE(rest.HasMember("resource"));

  // The handler (not the router) answered: its 404 names the resource.
  auto handled_404 = [&](const std::string& target) {
    testing::Reply r = env.get(target);
    INFO(target << " -> " << r.r.body);
    CHECK(r.status() == 404);
    CHECK(r.r.body.find("is not known") != std::string::npos);
  };
  auto ok = [&](const std::string& target, const std::string& token = "all") {
    testing::Reply r = env.get(target, token);
    INFO(target << " -> " << r.r.body);
    CHECK(r.status() == 200);
  };

  std::set<std::string> claimed;
  for (const auto& res : rest["resource"].GetArray()) {
    const std::string type = res["type"].GetString();
    claimed.insert(type);
    if (type != "AuditEvent") {
      INFO(type);
      CHECK_FALSE(env.renderer->rules_for(type).empty());
    }
    for (const auto& i : res["interaction"].GetArray()) {
      const std::string code = i["code"].GetString();
      if (code == "read") handled_404("/" + type + "/no-such-id");
      else if (code == "vread") handled_404("/" + type + "/no-such-id/_history/1");
      else if (code == "history-instance") handled_404("/" + type + "/no-such-id/_history");
      else if (code == "history-type") ok("/" + type + "/_history");
      else if (code == "search-type") ok("/" + type);
      else FAIL("claimed interaction " << code << " on " << type << " is not checked here");
    }
    if (res.HasMember("searchParam"))
      for (const auto& p : res["searchParam"].GetArray())
        ok("/" + type + "?" + p["name"].GetString() + "=" + sample(p["type"].GetString()));
    for (const char* key : {"searchInclude", "searchRevInclude"})
      if (res.HasMember(key))
        for (const auto& inc : res[key].GetArray())
          ok("/" + type + "?" + (std::string(key) == "searchInclude" ? "_include=" : "_revinclude=") + inc.GetString());
    if (res.HasMember("operation"))
      for (const auto& op : res["operation"].GetArray()) handled_404("/" + type + "/no-such-id/$" + op["name"].GetString());
  }
  for (const auto& f : doc["format"].GetArray()) {
    testing::Reply r = env.get(std::string("/Patient?_format=") + f.GetString());
    CHECK(r.status() == 200);
    CHECK(r.r.content_type.starts_with(f.GetString()));
  }
  // And nothing the routes serve goes unclaimed.
  for (const std::string& type : kDefaultFhirTypes)
    if (!env.renderer->rules_for(type).empty()) {
      INFO(type << " is served but not in the CapabilityStatement");
      CHECK(claimed.count(type) == 1);
    }
}

}  // namespace
}  // namespace midhurst::server
