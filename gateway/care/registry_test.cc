#include "care/registry.h"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

namespace care = midhurst::care;
using care::lookup_path;

namespace {

// The type lookup_path reports for `path`, or "error: <message>".
std::string type_of(std::string_view path) {
  auto r = lookup_path(path);
  if (!r.ok()) return "error: " + r.error().message;
  return r->type_name();
}

}  // namespace

TEST_CASE("the registry lists every entity of the design", "[registry]") {
  REQUIRE(care::entities().size() == 10);
  CHECK(care::find_entity("patient")->info().name == "Patient");
  CHECK(care::find_entity("eol")->info().name == "EndOfLifePlan");
  CHECK(care::find_entity("Patient") == nullptr);
  CHECK(care::entity_info(care::EntityType::kCareTeamMember).path_name == "careTeamMember");
  // entity_info indexes by enum value, so the two tables must agree.
  for (const care::EntityInfo& e : care::entities())
    CHECK(&care::entity_info(e.type) == &e);
}

TEST_CASE("lookup_path reports the type at a path", "[registry]") {
  CHECK(type_of("patient") == "Patient");
  CHECK(type_of("patient.nhsNumber") == "NhsNumber");
  CHECK(type_of("patient.nhsNumber.value") == "string");
  CHECK(type_of("patient.nhsNumber.verificationStatus") == "Coding");
  CHECK(type_of("patient.birthDate") == "date");
  CHECK(type_of("patient.deceasedAt") == "dateTime");
  CHECK(type_of("patient.deceased") == "boolean");
  CHECK(type_of("patient.identifiers") == "list of Identifier");
  CHECK(type_of("patient.identifiers[]") == "Identifier");
  CHECK(type_of("patient.identifiers[1]") == "Identifier");
  CHECK(type_of("patient.identifiers[].value") == "string");
  CHECK(type_of("patient.names[0].given") == "list of string");
  CHECK(type_of("patient.names[0].given[0]") == "string");
  CHECK(type_of("patient.gender") == "enum AdministrativeGender");
  CHECK(type_of("patient.addresses[].postcode") == "string");
  CHECK(type_of("patient.telecoms[].rank") == "integer");
  CHECK(type_of("encounter.locations[].ward") == "string");
  CHECK(type_of("encounter.period.start") == "dateTime");
  CHECK(type_of("encounter.status") == "enum EncounterStatus");
  CHECK(type_of("referral.requester.organization") == "Reference");
  CHECK(type_of("eol.preferredPlaceOfDeath[1].code") == "CodeableConcept");
  CHECK(type_of("eol.preferredPlaceOfDeath[0].locationType") == "enum DeathLocationType");
  CHECK(type_of("eol.cprDecision.recorded.recordedBy.identifier.system") == "string");
  CHECK(type_of("eol.lpaHealthWelfare.attorneys") == "list of Reference");
  CHECK(type_of("provenance.profile.version") == "string");
}

TEST_CASE("lookup_path gives the field, enum values and whether many values match",
          "[registry]") {
  auto r = lookup_path("patient.identifiers[].value");
  REQUIRE(r.ok());
  CHECK(r->entity->path_name == "patient");
  CHECK(r->field->name == "value");
  CHECK(r->field->required());
  CHECK(r->repeated);
  CHECK_FALSE(r->is_list);

  auto one = lookup_path("patient.identifiers[0].value");
  REQUIRE(one.ok());
  CHECK_FALSE(one->repeated);

  auto status = lookup_path("encounter.status");
  REQUIRE(status.ok());
  REQUIRE(status->enum_info != nullptr);
  CHECK(status->enum_info->index_of("onleave").has_value());
  CHECK_FALSE(status->enum_info->index_of("admitted").has_value());
  CHECK(status->field->cardinality() == "1..1");

  auto ppd = lookup_path("eol.preferredPlaceOfDeath");
  REQUIRE(ppd.ok());
  CHECK(ppd->field->cardinality() == "0..2");
  CHECK(ppd->is_list);
}

TEST_CASE("lookup_path names the segment that is wrong", "[registry]") {
  SECTION("unknown entity") {
    auto r = lookup_path("patients.nhsNumber");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().offset == 0);
    CHECK(r.error().message ==
          "unknown entity 'patients' (known: patient, relatedPerson, organization, "
          "practitioner, practitionerRole, careTeamMember, encounter, referral, eol, "
          "provenance)");
  }
  SECTION("unknown field") {
    auto r = lookup_path("patient.nhsNumbr.value");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().offset == 8);
    CHECK(r.error().message == "unknown field 'nhsNumbr' in Patient (path so far: patient)");
    auto deep = lookup_path("encounter.locations[].wrd");
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error().offset == 22);
    CHECK(deep.error().message ==
          "unknown field 'wrd' in EncounterLocation (path so far: encounter.locations[])");
  }
  SECTION("indexing a field that is not a list") {
    CHECK(type_of("patient.birthDate[0]") ==
          "error: 'birthDate' is date, not a list; it cannot be indexed");
    CHECK(type_of("patient.nhsNumber[].value") ==
          "error: 'nhsNumber' is NhsNumber, not a list; it cannot be indexed");
  }
  SECTION("going into a list without selecting elements") {
    CHECK(type_of("patient.identifiers.value") ==
          "error: 'identifiers' is a list; select its elements with identifiers[] or "
          "identifiers[n] before '.value'");
  }
  SECTION("going into a value that has no fields") {
    CHECK(type_of("patient.birthDate.year") == "error: 'birthDate' is date and has no field 'year'");
    CHECK(type_of("encounter.status.code") ==
          "error: 'status' is enum EncounterStatus and has no field 'code'");
  }
  SECTION("an index beyond a list's maximum") {
    CHECK(type_of("eol.preferredPlaceOfDeath[2].code") ==
          "error: 'preferredPlaceOfDeath' holds at most 2 items; index 2 is out of range");
  }
  SECTION("malformed paths") {
    CHECK(type_of("") .rfind("error: unknown entity ''", 0) == 0);
    CHECK(type_of("patient.") == "error: empty segment");
    CHECK(type_of("patient..names") == "error: empty segment");
    CHECK(type_of("patient.identifiers[x]") ==
          "error: segment 'identifiers[x]': index must be digits or empty");
    CHECK(type_of("patient.identifiers[0") ==
          "error: segment 'identifiers[0': expected ']' at its end");
    CHECK(type_of("patient.[0]") == "error: empty segment");
  }
}

TEST_CASE("schema_json exports the registry for other tools", "[registry]") {
  rapidjson::Document doc;
  doc.Parse(care::schema_json().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["entities"]["eol"] == "EndOfLifePlan");
  const auto& fields = doc["types"]["Patient"]["fields"];
  REQUIRE(fields.IsArray());
  bool found = false;
  for (const auto& f : fields.GetArray()) {
    if (f["name"] != "identifiers") continue;
    found = true;
    CHECK(f["type"] == "list of Identifier");
    CHECK(f["cardinality"] == "0..*");
    CHECK(f["struct"] == "Identifier");
  }
  CHECK(found);
  CHECK(doc["enums"]["CprDecisionCode"]["values"][1]["code"] == "dnacpr");
}
