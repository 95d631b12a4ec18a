#include "care/json.h"

#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "care/model.h"
#include "care/registry.h"
#include "care/test_util.h"

namespace care = midhurst::care;
using care::from_json;
using care::to_json;
using care::test::read_example;
using care::test::same_json;

namespace {

template <class T>
void check_round_trip(std::string_view entity) {
  const std::string text = read_example(entity);
  REQUIRE_FALSE(text.empty());
  auto parsed = from_json<T>(text);
  INFO((parsed.ok() ? std::string() : parsed.error().to_string()));
  REQUIRE(parsed.ok());
  const std::string out = to_json(*parsed, /*pretty=*/true);
  CHECK(same_json(text, out));
  auto again = from_json<T>(out);
  REQUIRE(again.ok());
  CHECK(*again == *parsed);
  // Compact and pretty forms carry the same value.
  CHECK(same_json(to_json(*parsed), out));
}

// The first error from_json<T> reports for `json`, as "path: message".
template <class T>
std::string error_of(const std::string& json) {
  auto r = from_json<T>(json);
  if (r.ok()) return "(accepted)";
  return r.error().to_string();
}

// A minimal valid patient to mutate in error tests.
const char* const kMinimalPatient =
    R"({"id":"p1","version":1,"lastUpdated":"2024-03-01T14:05:02+00:00")";

std::string patient_with(const std::string& members) {
  return std::string(kMinimalPatient) + "," + members + "}";
}

}  // namespace

TEST_CASE("fully populated examples round-trip exactly", "[json]") {
  SECTION("patient") { check_round_trip<care::Patient>("patient"); }
  SECTION("relatedPerson") { check_round_trip<care::RelatedPerson>("relatedPerson"); }
  SECTION("organization") { check_round_trip<care::Organization>("organization"); }
  SECTION("practitioner") { check_round_trip<care::Practitioner>("practitioner"); }
  SECTION("practitionerRole") { check_round_trip<care::PractitionerRole>("practitionerRole"); }
  SECTION("careTeamMember") { check_round_trip<care::CareTeamMember>("careTeamMember"); }
  SECTION("encounter") { check_round_trip<care::Encounter>("encounter"); }
  SECTION("referral") { check_round_trip<care::Referral>("referral"); }
  SECTION("eol") { check_round_trip<care::EndOfLifePlan>("eol"); }
  SECTION("provenance") { check_round_trip<care::Provenance>("provenance"); }
}

namespace {

// Records "Type.field" for every field present in `v`, walking nested structs.
void collect_fields(const care::StructInfo& s, const rapidjson::Value& v,
                    std::set<std::string>& seen) {
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const care::FieldInfo* f = s.find(m->name.GetString());
    if (!f) continue;  // the round-trip test reports unknown fields
    seen.insert(std::string(s.name) + "." + std::string(f->name));
    if (f->kind != care::Kind::kStruct) continue;
    if (m->value.IsArray()) {
      for (const auto& item : m->value.GetArray()) collect_fields(*f->struct_info(), item, seen);
    } else {
      collect_fields(*f->struct_info(), m->value, seen);
    }
  }
}

void all_fields(const care::StructInfo& s, std::set<const care::StructInfo*>& visited,
                std::set<std::string>& out) {
  if (!visited.insert(&s).second) return;
  for (const care::FieldInfo& f : s.fields) {
    out.insert(std::string(s.name) + "." + std::string(f.name));
    if (f.kind == care::Kind::kStruct) all_fields(*f.struct_info(), visited, out);
  }
}

}  // namespace

TEST_CASE("the examples together use every field of every type", "[json]") {
  std::set<std::string> seen, expected;
  std::set<const care::StructInfo*> visited;
  for (const care::EntityInfo& e : care::entities()) {
    all_fields(e.info(), visited, expected);
    rapidjson::Document doc;
    doc.Parse(read_example(e.path_name).c_str());
    REQUIRE_FALSE(doc.HasParseError());
    collect_fields(e.info(), doc, seen);
  }
  std::string missing;
  for (const std::string& f : expected)
    if (!seen.count(f)) missing += f + " ";
  INFO("fields no example uses: " << missing);
  CHECK(missing.empty());
  CHECK(expected.size() > 250);
}

TEST_CASE("absent values are omitted from the JSON form", "[json]") {
  care::Patient p;
  p.id = "p1";
  p.last_updated = "2024-03-01T14:05:02+00:00";
  CHECK(to_json(p) == R"({"id":"p1","version":1,"lastUpdated":"2024-03-01T14:05:02+00:00"})");
  p.deceased = false;  // an optional bool that is set is written, even when false
  p.names.push_back({});
  p.names.back().family = "SMITH";
  CHECK(to_json(p) == R"({"id":"p1","version":1,"lastUpdated":"2024-03-01T14:05:02+00:00",)"
                      R"("names":[{"family":"SMITH"}],"deceased":false})");
  auto back = from_json<care::Patient>(to_json(p));
  REQUIRE(back.ok());
  CHECK(*back == p);
}

TEST_CASE("from_json names the JSON path of a value of the wrong type", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(
            R"("identifiers":[{"system":"a","value":"1"},{"system":5,"value":"2"}])")) ==
        "patient.identifiers[1].system: expected string");
  CHECK(error_of<care::Patient>(patient_with(R"("identifiers":{"system":"a"})")) ==
        "patient.identifiers: expected array");
  CHECK(error_of<care::Patient>(patient_with(R"("deceased":"yes")")) ==
        "patient.deceased: expected boolean");
  CHECK(error_of<care::Patient>(R"({"id":"p1","version":"1","lastUpdated":"2024"})") ==
        "patient.version: expected integer");
  CHECK(error_of<care::Patient>(R"({"id":"p1","version":1.5,"lastUpdated":"2024"})") ==
        "patient.version: expected integer");
  CHECK(error_of<care::Patient>(patient_with(R"("registeredGp":"Y06601")")) ==
        "patient.registeredGp: expected object (RegisteredGp)");
  CHECK(error_of<care::Patient>("[]") == "patient: expected object (Patient)");
  CHECK(error_of<care::EndOfLifePlan>("{}") == "eol.id: required field missing");
}

TEST_CASE("from_json rejects unknown and duplicate fields", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("nhsNumbr":{"value":"9449305552"})")) ==
        "patient.nhsNumbr: unknown field of Patient");
  CHECK(error_of<care::Patient>(patient_with(R"("names":[{"family":"X","middle":"Y"}])")) ==
        "patient.names[0].middle: unknown field of HumanName");
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"1965","birthDate":"1966")")) ==
        "patient.birthDate: duplicate field");
}

TEST_CASE("from_json checks enum values", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("gender":"woman")")) ==
        "patient.gender: 'woman' is not an allowed value of AdministrativeGender "
        "(male | female | other | unknown)");
  CHECK(error_of<care::Patient>(patient_with(R"("gender":2)")) ==
        "patient.gender: expected string (enum AdministrativeGender)");
  const std::string enc =
      R"({"id":"e1","version":1,"lastUpdated":"2024-03-01","patient":{"type":"Patient","id":"p1"},)"
      R"("class":"inpatient","status":"admitted"})";
  CHECK(error_of<care::Encounter>(enc) ==
        "encounter.status: 'admitted' is not an allowed value of EncounterStatus "
        "(planned | in-progress | onleave | finished | cancelled | entered-in-error)");
}

TEST_CASE("from_json reports required fields that are missing", "[json][errors]") {
  CHECK(error_of<care::Patient>(R"({"version":1,"lastUpdated":"2024"})") ==
        "patient.id: required field missing");
  CHECK(error_of<care::Patient>(patient_with(R"("identifiers":[{"system":"a"}])")) ==
        "patient.identifiers[0].value: required field missing");
  // Non-optional struct, enum and integer members are required too.
  CHECK(error_of<care::Encounter>(
            R"({"id":"e1","version":1,"lastUpdated":"2024","class":"inpatient","status":"planned"})") ==
        "encounter.patient: required field missing");
  CHECK(error_of<care::Referral>(
            R"({"id":"r1","version":1,"lastUpdated":"2024","patient":{"type":"Patient","id":"p"},"status":"active",)"
            R"("priority":"routine","requester":{},"recipient":{}})") ==
        "referral.authoredOn: required field missing");
}

TEST_CASE("from_json refuses empty strings and arrays so that round trips stay exact",
          "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"")")) ==
        "patient.birthDate: empty string; omit the field instead");
  CHECK(error_of<care::Patient>(patient_with(R"("names":[])")) ==
        "patient.names: empty array; omit the field instead");
}

TEST_CASE("from_json checks date and dateTime formats", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"1965-13-01")")) ==
        "patient.birthDate: expected date YYYY, YYYY-MM or YYYY-MM-DD");
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"1965-12-13T10:00Z")")) ==
        "patient.birthDate: expected date YYYY, YYYY-MM or YYYY-MM-DD");
  CHECK(error_of<care::Patient>(patient_with(R"("deceasedAt":"2024-03-20T03:10")")) ==
        "patient.deceasedAt: dateTime with a time needs Z or an offset (+hh:mm)");
}

TEST_CASE("check_date and check_date_time", "[json]") {
  for (const char* ok : {"2024", "2024-02", "2024-02-29", "2000-02-29"}) {
    INFO(ok);
    CHECK(care::check_date(ok).empty());
  }
  for (const char* bad : {"24", "2024-2", "2023-02-29", "1900-02-29", "2024-04-31", "2024-00",
                          "2024-01-01 ", "20240101"}) {
    INFO(bad);
    CHECK_FALSE(care::check_date(bad).empty());
  }
  for (const char* ok : {"2024", "2024-03-01", "2024-03-01T14:05Z", "2024-03-01T14:05:02+01:00",
                         "2024-03-01T14:05:02.123-05:30", "2024-03-31T23:59:60Z"}) {
    INFO(ok);
    CHECK(care::check_date_time(ok).empty());
  }
  for (const char* bad : {"2024-03-01T14Z", "2024-03-01T24:00Z", "2024-03-01T14:05+0100",
                          "2024-03-01T14:05:02.Z", "2024-03T14:05Z", "2024-03-01T14:05Zx",
                          "2024-03-01 14:05Z"}) {
    INFO(bad);
    CHECK_FALSE(care::check_date_time(bad).empty());
  }
}

TEST_CASE("from_json applies the cross-field rules", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("nhsNumber":{"value":"3478526985"})")) ==
        "patient.nhsNumber: value: NHS number fails the Modulus 11 check: check digit should "
        "be 1, found 5");
  CHECK(error_of<care::Patient>(patient_with(R"("nhsNumber":{"value":"944 930 5552"})")) ==
        "patient.nhsNumber: value: must be the 10 digits without spaces");
  CHECK(error_of<care::Patient>(patient_with(R"("deceased":false,"deceasedAt":"2024")")) ==
        "patient: deceasedAt is set but deceased is false");
  CHECK(error_of<care::Patient>(R"({"id":"p1","version":0,"lastUpdated":"2024"})") ==
        "patient: version must be 1 or more");
  CHECK(error_of<care::Patient>(patient_with(R"("replacedBy":{"type":"Patient"})")) ==
        "patient.replacedBy: a Reference needs an id or an identifier");

  const std::string eol =
      R"({"id":"x","version":1,"lastUpdated":"2024","patient":{"type":"Patient","id":"p1"},"createdAt":"2024",)";
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("functionalStatus":{"akpsScore":55}})") ==
        "eol.functionalStatus: akpsScore must be 0..100 in steps of 10");
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("respect":{"formPresent":true,"carePriorityScale":10}})") ==
        "eol.respect: carePriorityScale must be 1..9");
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("lpaHealthWelfare":{"attorneys":[{"type":"RelatedPerson","id":"rp1"}]}})") ==
        "eol.lpaHealthWelfare: attorneys are given but authority is not");
  CHECK(error_of<care::EndOfLifePlan>(
            eol + R"("preferredPlaceOfDeath":[{"locationType":"21"},{"locationType":"30"},)"
                  R"({"locationType":"10"}]})") ==
        "eol.preferredPlaceOfDeath: at most 2 items allowed, got 3");
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("preferredPlaceOfDeath":[{"locationType":"60"}]})") ==
        "eol.preferredPlaceOfDeath[0].locationType: '60' is not an allowed value of "
        "DeathLocationType (10 | 20 | 21 | 22 | 30 | 40 | 41 | 42 | 50)");
}

TEST_CASE("from_json reports malformed JSON with its offset", "[json][errors]") {
  CHECK(error_of<care::Patient>(R"({"id":"p1",)") ==
        "patient: invalid JSON at offset 11: Missing a name for object member.");
  CHECK(error_of<care::Patient>(std::string(kMinimalPatient) + "} trailing") ==
        "patient: invalid JSON at offset 66: The document root must not be followed by other "
        "values.");
}

TEST_CASE("non-entity structs have their own JSON form", "[json]") {
  care::Coding c{"http://snomed.info/sct", "450476008", "Not for attempted CPR"};
  const std::string j = to_json(c);
  CHECK(j == R"({"system":"http://snomed.info/sct","code":"450476008","display":"Not for attempted CPR"})");
  auto back = from_json<care::Coding>(j);
  REQUIRE(back.ok());
  CHECK(*back == c);
  CHECK(error_of<care::Coding>(R"({"system":"x"})") == "coding.code: required field missing");
}

TEST_CASE("encounter status transitions follow the ADT state machine", "[model]") {
  using S = care::EncounterStatus;
  using care::encounter_transition_allowed;
  CHECK(encounter_transition_allowed(S::kPlanned, S::kInProgress));    // A01 after A05
  CHECK(encounter_transition_allowed(S::kInProgress, S::kOnLeave));    // A21
  CHECK(encounter_transition_allowed(S::kOnLeave, S::kInProgress));    // A22
  CHECK(encounter_transition_allowed(S::kInProgress, S::kFinished));   // A03
  CHECK(encounter_transition_allowed(S::kFinished, S::kInProgress));   // A13
  CHECK(encounter_transition_allowed(S::kInProgress, S::kCancelled));  // A11
  CHECK(encounter_transition_allowed(S::kInProgress, S::kInProgress)); // A02, A08
  CHECK(encounter_transition_allowed(S::kFinished, S::kEnteredInError));
  CHECK_FALSE(encounter_transition_allowed(S::kFinished, S::kPlanned));
  CHECK_FALSE(encounter_transition_allowed(S::kCancelled, S::kInProgress));
  CHECK_FALSE(encounter_transition_allowed(S::kPlanned, S::kFinished));
  CHECK_FALSE(encounter_transition_allowed(S::kEnteredInError, S::kInProgress));
}
