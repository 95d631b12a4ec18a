// fhir→care and care→hl7v2: the loader's checks with file:line:column, the engines on small
// inputs (a bad NHS number rejects with its FHIR location; references resolve inside a Bundle;
// values are escaped by the HL7v2 library), the time conversion, and every fixture of both
// directions through the fixture runner.
#include <sstream>

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "care/model.h"
#include "fhir/r4.h"
#include "mapping/care_v2_engine.h"
#include "mapping/fhir_care_engine.h"
#include "mapping/fixtures.h"

using namespace midhurst;
using namespace midhurst::mapping;

namespace {

LoadOptions with_model() {
  static const std::shared_ptr<const fhir::Model> m = [] {
    auto r = fhir::r4::load_model(MIDHURST_PROFILES_DIR);
    if (!r.ok()) FAIL(r.error().to_string());
    return std::make_shared<const fhir::Model>(std::move(*r));
  }();
  LoadOptions o;
  o.fhir_model = m;
  return o;
}

std::shared_ptr<const ProfileSet> load_one(const std::string& text, LoadErrors* errors = nullptr) {
  auto r = ProfileSet::load({{"p.json", text}}, {}, with_model());
  if (!r.ok()) {
    if (errors) *errors = r.error();
    return nullptr;
  }
  return *r;
}

const char* kPatientProfile = R"({"name": "p", "version": "1", "direction": "fhir→care",
 "rules": [{"id": "pat", "resource": "Patient", "target": "patient", "rules": [
   {"id": "nhs", "source": "identifier[system=https://fhir.nhs.uk/Id/nhs-number].value",
    "target": "nhsNumber.value", "transform": ["nhsNumber"], "invalid": "reject"},
   {"id": "gp", "source": "generalPractitioner[]", "target": "registeredGp.practiceOds",
    "reference": {"systems": ["https://fhir.nhs.uk/Id/ods-organization-code"]}}]}]})";

Translation from_fhir(const ProfileSet& set, const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  REQUIRE(!d.HasParseError());
  return translate_from_fhir(set, d, {"", "2026-01-01T00:00:00+00:00", ""});
}

}  // namespace

TEST_CASE("fhir→care: a FHIR source the model lacks is refused at its place", "[fhir_care]") {
  LoadErrors e;
  REQUIRE(!load_one("{\"name\": \"p\", \"version\": \"1\", \"direction\": \"fhir→care\",\n"
                    " \"rules\": [{\"id\": \"pat\", \"resource\": \"Patient\", \"target\": \"patient\", \"rules\": [\n"
                    "   {\"id\": \"b\", \"source\": \"birthdate\", \"target\": \"birthDate\"}]}]}",
                    &e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].line == 3);
  CHECK(e[0].reason == "source 'birthdate': Patient has no element 'birthdate'");
}

TEST_CASE("fhir→care: a FHIR type that does not fit the care field is refused", "[fhir_care]") {
  LoadErrors e;
  REQUIRE(!load_one(R"({"name": "p", "version": "1", "direction": "fhir→care",
 "rules": [{"id": "pat", "resource": "Patient", "target": "patient", "rules": [
   {"id": "b", "source": "active", "target": "birthDate"}]}]})", &e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].reason == "the source is FHIR boolean, but the target is date");
}

TEST_CASE("fhir→care: a bad NHS number rejects with its FHIR location", "[fhir_care]") {
  auto set = load_one(kPatientProfile);
  REQUIRE(set);
  const Translation t = from_fhir(*set, R"({"resourceType": "Patient",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305553"}]})");
  CHECK_FALSE(t.accepted);
  REQUIRE(t.issues.size() == 1);
  CHECK(t.issues[0].source == "Patient.identifier[0].value");
  CHECK(t.issues[0].issue.code == hl7v2::ErrorCode::kDataType);
}

TEST_CASE("fhir→care: a reference resolves through the Bundle entry it names", "[fhir_care]") {
  auto set = load_one(kPatientProfile);
  REQUIRE(set);
  const Translation t = from_fhir(*set, R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient",
      "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}],
      "generalPractitioner": [{"reference": "urn:uuid:b"}]}},
    {"fullUrl": "urn:uuid:b", "resource": {"resourceType": "Organization",
      "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y06601"}]}}]})");
  CHECK(t.accepted);
  const care::Patient* p = t.record.get<care::Patient>();
  REQUIRE(p);
  REQUIRE(p->registered_gp);
  CHECK(p->registered_gp->practice_ods == "Y06601");
  REQUIRE(p->nhs_number);
  CHECK(p->nhs_number->value == "9449305552");
}

TEST_CASE("care→hl7v2: a target out of place is refused at load", "[care_v2]") {
  LoadErrors e;
  REQUIRE(!load_one(R"({"name": "p", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "ADT^A31^ADT_A05"},
 "rules": [{"id": "x", "source": "patient.birthDate", "target": "-7"}]})", &e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].line == 3);
  CHECK(e[0].reason.find("relative to a segment") != std::string::npos);
}

TEST_CASE("care→hl7v2: values are escaped by the library, dates written as HL7 DT", "[care_v2]") {
  auto set = load_one(R"({"name": "p", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "ADT^A31^ADT_A05", "version": "2.4"},
 "rules": [{"id": "family", "source": "patient.names[0].family", "target": "PID-5.1"},
           {"id": "birth", "source": "patient.birthDate", "target": "PID-7.1"}]})");
  REQUIRE(set);
  care::Record r;
  care::Patient& p = r.ensure<care::Patient>();
  p.names.push_back(care::HumanName{});
  p.names[0].family = "SMITH^JONES|&";
  p.birth_date = "1942-03-17";
  V2BuildOptions o;
  o.control_id = "C1";
  o.timestamp = "20260101000000+0000";
  auto b = translate_to_hl7v2(r, *set, o);
  REQUIRE(b.ok());
  const std::string text = b->message.encode('\n');
  CHECK(text.find("PID|||||SMITH\\S\\JONES\\F\\\\T\\||19420317\n") != std::string::npos);
  CHECK(b->message.text("PID-5.1") == "SMITH^JONES|&");
  CHECK(text.rfind("MSH|^~\\&|MIDHURST||||20260101000000+0000||ADT^A31^ADT_A05|C1|P|2.4\n", 0) == 0);
}

TEST_CASE("care→hl7v2: care times become HL7 DT and TS", "[care_v2]") {
  CHECK(care_to_hl7_time("2026-11-01") == "20261101");
  CHECK(care_to_hl7_time("2026-11") == "202611");
  CHECK(care_to_hl7_time("2026-11-01T10:30:00+01:00") == "20261101103000+0100");
  CHECK(care_to_hl7_time("2026-11-01T10:30+00:00") == "202611011030+0000");
  CHECK(care_to_hl7_time("2026-11-01T10:30:00.25-05:00") == "20261101103000.25-0500");
}

TEST_CASE("fhir→care and care→hl7v2 fixtures pass", "[fhir_care][care_v2][fixtures]") {
  auto set = ProfileSet::load_dir(MIDHURST_MAPPINGS_DIR);
  REQUIRE(set.ok());
  for (const char* dir : {"/fhir-care", "/care-hl7v2"}) {
    std::ostringstream out;
    const auto results = run_fixtures(**set, std::string(MIDHURST_MAPPINGS_DIR) + dir, out);
    INFO(out.str());
    CHECK(results.size() >= 2);
    for (const auto& r : results) CHECK(r.passed);
  }
}
