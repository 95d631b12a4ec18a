// conformance/CapabilityStatement.json: what /metadata serves must be a valid R4
// CapabilityStatement (checked with the fhir module's validator) and must load as the server
// loads it.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "fhir/profile_set.h"
#include "fhir/validator.h"
#include "server/routes.h"

namespace midhurst::server {
namespace {

TEST_CASE("capability statement: loads and is valid R4", "[metadata]") {
  auto text = load_capability_statement(MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json");
  INFO((text.ok() ? "" : text.error()));
  REQUIRE(text.ok());
  rapidjson::Document doc;
  doc.Parse(text->c_str());
  REQUIRE(doc.IsObject());
  auto profiles = fhir::ProfileSet::load(MIDHURST_SOURCE_DIR "/profiles");
  REQUIRE(profiles.ok());
  const std::vector<fhir::Issue> issues = fhir::validate(doc, *profiles);
  INFO(fhir::to_string(issues));
  CHECK_FALSE(fhir::has_errors(issues));
  // It claims no resource interactions: only /metadata works so far.
  CHECK_FALSE(doc["rest"][0].HasMember("resource"));
}

TEST_CASE("capability statement: a file that is not one is refused", "[metadata]") {
  CHECK_FALSE(load_capability_statement("no/such/file.json").ok());
  auto wrong = load_capability_statement(MIDHURST_SOURCE_DIR "/examples/midhurst.json");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().find("not a CapabilityStatement") != std::string::npos);
}

}  // namespace
}  // namespace midhurst::server
