// The whole loop hl7v2 → care → FHIR → care with the default profiles: every hl7v2-care fixture
// the gateway accepts renders as a transaction Bundle (care→fhir), which the fhir→care profiles
// read back without errors, keeping every care field the Bundle holds (the care→fhir ledger's
// "rendered" fields) of the patient, encounter, referral, end-of-life plan, related person and
// care team member. A field care→fhir does not render cannot come back and is not compared; a
// time care→fhir completes with ":00" seconds compares as the same instant.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "care/access.h"
#include "care/json.h"
#include "care/registry.h"
#include "fhir/profile_set.h"
#include "fhir/validator.h"
#include "hl7v2/message.h"
#include "mapping/engine.h"
#include "mapping/fhir_care_engine.h"
#include "mapping/fhir_engine.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

namespace fs = std::filesystem;

// The validation errors of every entry's resource against its meta.profile. The Provenance is
// left out: a FHIR input names no sending system, and care→fhir makes its agent from the sender.
std::vector<std::string> validation_problems(const rapidjson::Value& bundle) {
  std::vector<std::string> out;
  for (const auto& entry : bundle["entry"].GetArray()) {
    if (std::string_view(entry["resource"]["resourceType"].GetString()) == "Provenance") continue;
    const std::vector<fhir::Issue> issues =
        fhir::validate(entry["resource"], fhir_profiles(), {}, fhir::ValidationOptions::strict());
    if (fhir::has_errors(issues)) out.push_back(fhir::to_string(issues));
  }
  return out;
}

constexpr const char* kCompared[] = {"patient", "encounter", "referral", "eol", "relatedPerson", "careTeamMember"};

// care→fhir writes an hh:mm time as hh:mm:00 (FHIR has no minutes-only form): the same instant.
care::Scalar seconds_added(const care::Scalar& v) {
  static const std::regex minutes_only(R"(^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})([+-]\d{2}:\d{2}|Z)$)");
  const auto* s = std::get_if<std::string>(&v);
  return s ? care::Scalar(std::regex_replace(*s, minutes_only, "$1:00$2")) : v;
}

std::vector<care::Scalar> values_at(const void* entity, const std::string& path) {
  std::vector<care::Scalar> out;
  if (entity)
    for (const care::Scalar& v : care::get_path(entity, path)) out.push_back(seconds_added(v));
  return out;
}

std::string text_of(const std::vector<care::Scalar>& values) {
  std::string out;
  for (const care::Scalar& v : values) out += (out.empty() ? "" : ", ") + care::describe_scalar(v);
  return out;
}

// Every rendered field of `before` (per `ledger`) with a different value in `after`, as
// "path: before -> after". Nothing care→fhir renders is exempt: relatives' awareness of the
// prognosis, the anticipatory medicines' date and a merged record's identifier assigner read back
// too (they were the last gaps).
std::vector<std::string> lost_fields(const care::Record& before, const care::Record& after, const FhirLedger& ledger) {
  std::vector<std::string> out;
  for (const std::string& path : ledger.fields(true)) {
    const std::string entity = path.substr(0, path.find_first_of(".["));
    if (std::find(std::begin(kCompared), std::end(kCompared), entity) == std::end(kCompared)) continue;
    const care::EntityInfo* e = care::find_entity(entity);
    REQUIRE(e);
    const void* a = before.find(e->type);
    const void* b = after.find(e->type);
    const std::vector<care::Scalar> was = values_at(a, path);
    const std::vector<care::Scalar> now = values_at(b, path);
    if (was != now) out.push_back(path + ": " + text_of(was) + " -> " + (now.empty() ? "(absent)" : text_of(now)));
  }
  return out;
}

}  // namespace

TEST_CASE("hl7v2 → care → FHIR → care keeps every field the Bundle holds", "[fhir_care][round_trip]") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/hl7v2-care/fixtures"))
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::size_t looped = 0, compared = 0;
  for (const fs::path& f : files) {
    INFO(f.filename().string());
    auto m = hl7v2::Message::parse(read_file(f));
    REQUIRE(m.ok());
    TranslateOptions o;
    o.received_at = "2026-11-01T10:00:00+00:00";
    const Translation care = translate(*shipped_profiles(), *m, o);
    if (!care.accepted) continue;  // a rejected message has no record to render
    auto fhir = translate_to_fhir(care.record, *shipped_profiles(), {"", "", "", true});
    REQUIRE(fhir.ok());
    const Translation back = translate_from_fhir(*shipped_profiles(), fhir->bundle, {"", o.received_at, "", {}});
    std::string issues;
    for (const MappingIssue& i : back.issues) issues += i.to_string() + "\n";
    INFO("fhir→care issues:\n" << issues);
    CHECK(back.accepted);
    CHECK(std::none_of(back.issues.begin(), back.issues.end(),
                       [](const MappingIssue& i) { return i.issue.severity == hl7v2::Severity::kError; }));
    CHECK(lost_fields(care.record, back.record, fhir->ledger) == std::vector<std::string>{});
    for (const char* entity : kCompared)
      if (care.record.find(care::find_entity(entity)->type)) {
        ++compared;
        CHECK(back.record.find(care::find_entity(entity)->type));
      }
    ++looped;
  }
  CHECK(looped >= 10);
  CHECK(compared >= 20);
}

TEST_CASE("FHIR → care → FHIR: every accepted fhir→care fixture renders a valid Bundle that reads back the same",
          "[fhir_care][round_trip]") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/fhir-care/fixtures"))
    if (e.path().string().ends_with(".fhir-in.json")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::size_t looped = 0;
  for (const fs::path& f : files) {
    INFO(f.filename().string());
    rapidjson::Document in;
    in.Parse(read_file(f).c_str());
    REQUIRE(!in.HasParseError());
    const Translation a = translate_from_fhir(*shipped_profiles(), in, {"", "2026-11-01T10:00:00+00:00", "", {}});
    if (!a.accepted) continue;
    auto fhir = translate_to_fhir(a.record, *shipped_profiles(), {"", "", "", true});
    REQUIRE(fhir.ok());
    CHECK(validation_problems(fhir->bundle) == std::vector<std::string>{});
    const Translation b = translate_from_fhir(*shipped_profiles(), fhir->bundle, {"", "2026-11-01T10:00:00+00:00", "", {}});
    CHECK(b.accepted);
    CHECK(lost_fields(a.record, b.record, fhir->ledger) == std::vector<std::string>{});
    ++looped;
  }
  CHECK(looped >= 5);
}

TEST_CASE("care → FHIR → care: the care→fhir fixtures read back", "[fhir_care][round_trip]") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures"))
    if (e.path().string().ends_with(".care.json")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::size_t looped = 0;
  for (const fs::path& f : files) {
    INFO(f.filename().string());
    care::Record record;
    rapidjson::Document in;
    in.Parse(read_file(f).c_str());
    REQUIRE(!in.HasParseError());
    for (const care::EntityInfo& e : care::entities()) {
      const auto m = in.FindMember(std::string(e.path_name).c_str());
      if (m == in.MemberEnd()) continue;
      REQUIRE(care::struct_from_value(e.info(), record.ensure(e.type), m->value).ok());
    }
    auto fhir = translate_to_fhir(record, *shipped_profiles(), {"", "", "", true});
    REQUIRE(fhir.ok());
    CHECK(validation_problems(fhir->bundle) == std::vector<std::string>{});
    const Translation back = translate_from_fhir(*shipped_profiles(), fhir->bundle, {"", "2026-11-01T10:00:00+00:00", "", {}});
    std::string issues;
    for (const MappingIssue& i : back.issues) issues += i.to_string() + "\n";
    INFO("fhir→care issues:\n" << issues);
    CHECK(back.accepted);
    CHECK(lost_fields(record, back.record, fhir->ledger) == std::vector<std::string>{});
    ++looped;
  }
  CHECK(looped >= 5);
}
