// fhir→care and care→hl7v2: the loader's checks with file:line:column, the engines on small
// inputs (a bad NHS number rejects with its FHIR location; references resolve inside a Bundle;
// values are escaped by the HL7v2 library), the time conversion, the Provenance sender (input
// Provenance, meta.source, caller), and every fixture of both directions through the fixture runner.
#include <cstdlib>
#include <sstream>

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "care/model.h"
#include "fhir/r4.h"
#include "mapping/care_v2_engine.h"
#include "mapping/fhir_care_engine.h"
#include "mapping/fixtures.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

LoadOptions with_model() {
  LoadOptions o;
  o.fhir_model = fhir_model();
  return o;
}

std::shared_ptr<const ProfileSet> load_one(const std::string& text, LoadErrors* errors = nullptr) {
  auto r = ProfileSet::load({{"p.json", text}}, {}, with_model());
  if (!r.ok()) {
    if (errors) *errors = r.error();
    else
      for (const LoadError& e : r.error()) UNSCOPED_INFO(e.to_string());  // shown with the failing REQUIRE
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
  return translate_from_fhir(set, d, {"", "2026-01-01T00:00:00+00:00", "", {}});
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

const char* kDirectoryProfile = R"({"name": "p", "version": "1", "direction": "fhir→care",
 "rules": [{"id": "team", "resource": "CareTeam", "target": "careTeamMember", "rules": [
   {"id": "part", "source": "participant[]", "rules": [
     {"id": "prac", "source": "member", "target": "practitioner",
      "reference": {"systems": [], "types": ["Practitioner"]}},
     {"id": "org", "source": "member", "target": "organization",
      "reference": {"systems": ["https://fhir.nhs.uk/Id/ods-organization-code"], "type": "Organization", "types": ["Organization"]}}]}]},
  {"id": "organization", "resource": "Organization", "target": "organization", "rules": [
   {"id": "ods", "source": "identifier[system=https://fhir.nhs.uk/Id/ods-organization-code].value", "target": "odsCode"}]},
  {"id": "leave", "resource": "Encounter", "target": "encounter", "rules": [
   {"id": "hist", "source": "statusHistory[]", "target": "leaveOfAbsence[]", "distinct": true,
    "when": {"path": "status", "equals": "onleave"}, "rules": [
     {"id": "hist.start", "source": "period.start", "target": "start"}]},
   {"id": "start-date", "source": "period.start", "target": "period.start", "when": {"path": "period.start", "matches": "^[0-9-]+$"}}]}]})";

TEST_CASE("fhir→care: a reference goes to the rule that takes its resource type", "[fhir_care]") {
  auto set = load_one(kDirectoryProfile);
  REQUIRE(set);
  const Translation t = from_fhir(*set, R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:t", "resource": {"resourceType": "CareTeam", "participant": [
      {"member": {"reference": "urn:uuid:o"}}]}},
    {"fullUrl": "urn:uuid:o", "resource": {"resourceType": "Organization",
      "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RYJ"}]}}]})");
  CHECK(t.accepted);
  const care::CareTeamMember* m = t.record.get<care::CareTeamMember>();
  REQUIRE(m);
  CHECK_FALSE(m->practitioner);
  REQUIRE(m->organization);
  CHECK(m->organization->type == care::EntityType::kOrganization);
  REQUIRE(m->organization->identifier);
  CHECK(m->organization->identifier->value == "RYJ");
  // The member was read by "org" only: the ledger names the rule that took it.
  bool ledger_ok = false;
  for (const LedgerEntry& e : t.ledger.entries)
    if (e.field == "Bundle.entry[0].resource.participant[0].member.reference")
      ledger_ok = e.status == LedgerEntry::Status::kMapped && e.rules == std::vector<std::string>{"org"};
  CHECK(ledger_ok);
}

TEST_CASE("fhir→care: a second resource for an entity the record holds once is left out, said so", "[fhir_care]") {
  auto set = load_one(kDirectoryProfile);
  REQUIRE(set);
  const Translation t = from_fhir(*set, R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "Organization", "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RYJ"}]}},
    {"resource": {"resourceType": "Organization", "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y06601"}]}}]})");
  CHECK(t.accepted);
  REQUIRE(t.record.get<care::Organization>());
  CHECK(t.record.get<care::Organization>()->ods_code == "RYJ");
  REQUIRE(t.issues.size() == 1);
  CHECK(t.issues[0].issue.severity == hl7v2::Severity::kWarning);
  CHECK(t.issues[0].source == "Bundle.entry[1].resource");
  CHECK(t.issues[0].issue.why.find("a second Organization for organization") != std::string::npos);
  bool unread = false;
  for (const LedgerEntry& e : t.ledger.entries)
    if (e.field == "Bundle.entry[1].resource.identifier[0].value") unread = e.status == LedgerEntry::Status::kUnread;
  CHECK(unread);
}

TEST_CASE("fhir→care: 'distinct' keeps a repeated element once; 'matches' tests the text", "[fhir_care]") {
  auto set = load_one(kDirectoryProfile);
  REQUIRE(set);
  const Translation t = from_fhir(*set, R"({"resourceType": "Encounter", "period": {"start": "2026-11-01T10:00:00+00:00"},
    "statusHistory": [{"status": "onleave", "period": {"start": "2026-11-03T09:00:00+00:00"}},
                      {"status": "in-progress", "period": {"start": "2026-11-01T10:00:00+00:00"}},
                      {"status": "onleave", "period": {"start": "2026-11-03T09:00:00+00:00"}},
                      {"status": "onleave", "period": {"start": "2026-11-04T09:00:00+00:00"}}]})");
  const care::Encounter* e = t.record.get<care::Encounter>();
  REQUIRE(e);
  REQUIRE(e->leave_of_absence.size() == 2);
  CHECK(e->leave_of_absence[0].start == "2026-11-03T09:00:00+00:00");
  CHECK(e->leave_of_absence[1].start == "2026-11-04T09:00:00+00:00");
  CHECK_FALSE(e->period);  // a dateTime does not match the date pattern
  const Translation d = from_fhir(*set, R"({"resourceType": "Encounter", "period": {"start": "2026-11-01"}})");
  REQUIRE(d.record.get<care::Encounter>());
  REQUIRE(d.record.get<care::Encounter>()->period);
  CHECK(d.record.get<care::Encounter>()->period->start == "2026-11-01");
}

TEST_CASE("fhir→care: a bad 'matches' pattern, an unknown reference type and a misplaced 'distinct' are refused", "[fhir_care]") {
  LoadErrors e;
  REQUIRE(!load_one(R"({"name": "p", "version": "1", "direction": "fhir→care",
 "rules": [{"id": "enc", "resource": "Encounter", "target": "encounter", "rules": [
   {"id": "a", "source": "period.start", "target": "period.start", "when": {"path": "period.start", "matches": "(["}},
   {"id": "b", "source": "serviceProvider", "target": "serviceProvider", "reference": {"systems": [], "types": ["Hospital"]}},
   {"id": "c", "source": "period", "target": "period", "distinct": true, "rules": [
     {"id": "c.start", "source": "start", "target": "start"}]}]}]})", &e));
  REQUIRE(e.size() == 3);
  CHECK(e[0].line == 3);
  CHECK(e[0].reason.rfind("'matches': not a regular expression", 0) == 0);
  CHECK(e[1].line == 4);
  CHECK(e[1].reason == "'types' lists FHIR resource types");
  CHECK(e[2].line == 5);
  CHECK(e[2].reason.find("'distinct' goes with a group that appends") == 0);
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
    // MIDHURST_UPDATE_FIXTURES=1 rewrites the fhir→care expected files from the actual results.
    const bool update = std::getenv("MIDHURST_UPDATE_FIXTURES") != nullptr && std::string(dir) == "/fhir-care";
    const auto results = run_fixtures(**set, std::string(MIDHURST_MAPPINGS_DIR) + dir, out, update);
    INFO(out.str());
    CHECK(results.size() >= 2);
    for (const auto& r : results) CHECK(r.passed);
  }
}

TEST_CASE("fhir→care: the sender comes from the input's Provenance, else meta.source, else the caller", "[fhir_care]") {
  const char* with_provenance = R"({"resourceType": "Bundle", "type": "transaction", "entry": [
    {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient",
      "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}]}},
    {"fullUrl": "urn:uuid:v", "resource": {"resourceType": "Provenance", "target": [{"reference": "urn:uuid:p"}],
      "recorded": "2026-11-01T10:00:00+00:00",
      "agent": [{"who": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RYJ"},
                         "display": "HOSPICE-EPR"}}]}}]})";
  FhirCareOptions caller{"", "2026-01-01T00:00:00+00:00", "", care::SourceSystem{"CLIENT-APP", "X99"}};
  auto run = [&](const char* json, const FhirCareOptions& o) {
    rapidjson::Document d;
    d.Parse(json);
    REQUIRE(!d.HasParseError());
    Translation t = translate_from_fhir(*shipped_profiles(), d, o);
    CHECK(t.accepted);
    REQUIRE(t.record.get<care::Provenance>());
    return t.record.get<care::Provenance>()->sender;
  };
  // The input's own Provenance wins over what the caller says.
  CHECK(run(with_provenance, caller) == care::SourceSystem{"HOSPICE-EPR", "RYJ"});

  // onBehalfOf names the organisation when the agent is a device or a person.
  const char* on_behalf = R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "Provenance", "target": [{"reference": "Patient/1"}], "recorded": "2026-11-01T10:00:00+00:00",
      "agent": [{"who": {"reference": "Device/1", "display": "EMIS Web"},
                 "onBehalfOf": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y06601"}}}]}}]})";
  CHECK(run(on_behalf, {}) == care::SourceSystem{"EMIS Web", "Y06601"});

  // No Provenance: meta.source names the system; the caller fills the organisation.
  const char* meta_source = R"({"resourceType": "Patient", "meta": {"source": "https://hospice.example/fhir"},
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}]})";
  CHECK(run(meta_source, caller) == care::SourceSystem{"https://hospice.example/fhir", "X99"});

  // Nothing in the input: the caller's sender; nothing known at all: none.
  const char* bare = R"({"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}]})";
  CHECK(run(bare, caller) == caller.sender);
  CHECK(run(bare, {}) == care::SourceSystem{});
}

TEST_CASE("fhir→care: a reference's identifier keeps its assigner; a dated activity keeps its date", "[fhir_care]") {
  rapidjson::Document d;
  d.Parse(R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "Patient",
      "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}],
      "link": [{"type": "replaces", "other": {"reference": "Patient?identifier=https://fhir.rcb.nhs.uk/Id/mrn|512",
        "identifier": {"system": "https://fhir.rcb.nhs.uk/Id/mrn", "value": "512",
                       "assigner": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RCB"}}}}}]}},
    {"resource": {"resourceType": "CarePlan", "status": "active", "intent": "plan", "created": "2026-10-01",
      "meta": {"profile": ["https://fhir.midhurst.example/StructureDefinition/Midhurst-EoL-CarePlan"]},
      "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "861411000000103"}]}],
      "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}},
      "activity": [{"detail": {"status": "completed", "scheduledPeriod": {"start": "2026-10-30T09:00:00+00:00"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "376201000000102"}]}}}]}}]})");
  REQUIRE(!d.HasParseError());
  const Translation t = translate_from_fhir(*shipped_profiles(), d, {"", "2026-01-01T00:00:00+00:00", "", {}});
  std::string issues;
  for (const MappingIssue& i : t.issues) issues += i.to_string() + "\n";
  INFO(issues);
  CHECK(t.accepted);
  const care::Patient* p = t.record.get<care::Patient>();
  REQUIRE(p);
  REQUIRE(p->replaces.size() == 1);
  REQUIRE(p->replaces[0].identifier);
  CHECK(p->replaces[0].identifier->value == "512");
  CHECK(p->replaces[0].identifier->assigner_ods == "RCB");
  const care::EndOfLifePlan* plan = t.record.get<care::EndOfLifePlan>();
  REQUIRE(plan);
  REQUIRE(plan->anticipatory_medicines);
  CHECK(plan->anticipatory_medicines->date == "2026-10-30");
}
