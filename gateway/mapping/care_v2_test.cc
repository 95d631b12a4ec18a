// care→hl7v2 with the profiles in mappings/care-hl7v2/: which message a record becomes (ADT^A08
// with an encounter, ADT^A31 without, REF^I12 for a referral, or the profile asked for), the PV1
// written from the care Encounter and read back by the hl7v2→care profiles, Z-segment values
// written where their keys say (and nowhere else), the load-time checks of `targetFrom`, REF^I12
// carrying the patient as A31 does (GP as PRD PP, NK1, the end-of-life OBX under an OBR) and the
// message `structure` that orders segments.
#include <algorithm>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "care/json.h"
#include "care/model.h"
#include "hl7v2/message.h"
#include "mapping/care_v2_engine.h"
#include "mapping/engine.h"
#include "mapping/fixtures.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

std::shared_ptr<const ProfileSet> load(const std::vector<ProfileSet::SourceFile>& files, LoadErrors* errors = nullptr) {
  auto r = ProfileSet::load(files, {});
  if (!r.ok()) {
    if (errors) *errors = r.error();
    return nullptr;
  }
  return *r;
}

// HL7v2 file -> care record, through the default hl7v2→care profiles.
care::Record read_v2(const std::string& bytes) {
  auto m = hl7v2::Message::parse(bytes);
  REQUIRE(m.ok());
  Translation t = translate(*shipped_profiles(), *m);
  REQUIRE(t.accepted);
  return t.record;
}

// The care record rendered as HL7v2 and read back, sent as the input was (PAS at RYJ: the reader
// numbers visits by MSH-4 and records MSH-3/4 as each item's source system), as translate does.
care::Record round_trip(const care::Record& record, std::string* type = nullptr) {
  V2BuildOptions o;
  o.sending_application = "PAS";
  o.sending_facility = "RYJ";
  o.timestamp = "20261105101500+0000";
  auto b = translate_to_hl7v2(record, *shipped_profiles(), o);
  REQUIRE(b.ok());
  if (type) *type = b->message.text("MSH-9.1") + "^" + b->message.text("MSH-9.2");
  return read_v2(b->message.encode('\r'));
}

care::Record patient_record() {
  care::Record r;
  care::Patient& p = r.ensure<care::Patient>();
  p.id = "p1";
  p.names.push_back(care::HumanName{});
  p.names[0].family = "JONES";
  return r;
}

}  // namespace

TEST_CASE("care→hl7v2: A08 for a record in a visit, A31 without one or for a cancelled one, REF^I12 for a referral", "[care_v2]") {
  care::Record r = patient_record();
  auto pick = [&](const std::string& name = "") {
    auto p = select_care_v2_profile(r, *shipped_profiles(), name);
    REQUIRE(p.ok());
    return (*p)->name;
  };
  CHECK(pick() == "care-adt-a31");
  r.ensure<care::Encounter>();
  CHECK(pick() == "care-adt-a08");
  CHECK(pick("care-adt-a31") == "care-adt-a31");  // --profile overrides the choice
  r.get<care::Encounter>()->status = care::EncounterStatus::kCancelled;
  CHECK(pick() == "care-adt-a31");  // an A08 would tell the receiver the visit is current
  r.get<care::Encounter>()->status = care::EncounterStatus::kEnteredInError;
  CHECK(pick() == "care-adt-a31");
  r.get<care::Encounter>()->status = care::EncounterStatus::kFinished;
  CHECK(pick() == "care-adt-a08");
  r.ensure<care::Referral>();
  CHECK(pick() == "care-ref-i12");
  r.erase(care::EntityType::kEncounter);
  CHECK(pick() == "care-ref-i12");
}

TEST_CASE("care→hl7v2: A08 asked for without an encounter says 'no visit' as A31 does", "[care_v2]") {
  V2BuildOptions o;
  o.profile = "care-adt-a08";
  o.timestamp = "20261105101500+0000";
  auto b = translate_to_hl7v2(patient_record(), *shipped_profiles(), o);
  REQUIRE(b.ok());
  CHECK(b->message.text("MSH-9") == "ADT^A08^ADT_A01");
  CHECK(b->message.text("EVN-1") == "A08");
  CHECK(b->message.text("PV1-2") == "N");
}

TEST_CASE("care→hl7v2: an A08 read back gives the same encounter, patient and end-of-life plan", "[care_v2]") {
  const care::Record a = read_v2(read_file(MIDHURST_MAPPINGS_DIR "/hl7v2-care/fixtures/a08-eol-every-item.hl7"));
  REQUIRE(a.get<care::Encounter>());
  std::string type;
  const care::Record b = round_trip(a, &type);
  CHECK(type == "ADT^A08");
  REQUIRE(b.get<care::Encounter>());
  CHECK(care::to_json(*b.get<care::Encounter>(), true) == care::to_json(*a.get<care::Encounter>(), true));
  CHECK(*b.get<care::Patient>() == *a.get<care::Patient>());
  CHECK(care::to_json(*b.get<care::EndOfLifePlan>(), true) == care::to_json(*a.get<care::EndOfLifePlan>(), true));
}

TEST_CASE("care→hl7v2: a transfer as A08 keeps the visit's state; the transition is the A02's", "[care_v2]") {
  const care::Record a = read_v2(read_file(MIDHURST_MAPPINGS_DIR "/hl7v2-care/fixtures/a02-transfer.hl7"));
  const care::Encounter& ea = *a.get<care::Encounter>();
  REQUIRE(ea.locations.size() == 2);  // the prior location, completed, then the new one
  V2BuildOptions o;
  o.sending_facility = "RYJ";
  auto v2 = translate_to_hl7v2(a, *shipped_profiles(), o);
  REQUIRE(v2.ok());
  CHECK(v2->message.text("PV1-3.2") == ea.locations[1].ward);  // current: the last of the history
  CHECK(v2->message.text("PV1-6.2") == ea.locations[0].ward);  // prior: the completed one before it
  CHECK(v2->message.text("PV1-19.1") == ea.identifiers[0].value);
  CHECK(v2->message.text("PV1-19.4") == "RYJ");

  care::Encounter eb = *round_trip(a).get<care::Encounter>();
  care::Encounter expected = ea;
  // An A08 restates the state, not the event: no status history entry, and the location it
  // names is the current one, active, without the A02's period.
  expected.status_history.clear();
  expected.locations.erase(expected.locations.begin());
  expected.locations[0].period.reset();
  CHECK(care::to_json(eb, true) == care::to_json(expected, true));
}

TEST_CASE("care→hl7v2: Z-segment values go back where their keys say, and only into Z-segments", "[care_v2]") {
  care::Record r = patient_record();
  care::Encounter& e = r.ensure<care::Encounter>();
  e.z_segments = {{"ZU1-3", "C"}, {"ZU1[2]-3", "D"}, {"ZU8-3[2]", "No|^"}, {"PID-5", "EVIL"}, {"ZU9-x", "bad"}};
  auto b = translate_to_hl7v2(r, *shipped_profiles());
  REQUIRE(b.ok());
  CHECK(b->message.text("ZU1-3") == "C");
  CHECK(b->message.text("ZU1[2]-3") == "D");
  CHECK(b->message.text("ZU8-3[2]") == "No|^");
  CHECK(b->message.text("PID-5.1") == "JONES");
  CHECK(b->message.all("ZU9").empty());
  REQUIRE(b->issues.size() == 2);
  CHECK(b->issues[0].issue.why.find("'PID-5'") != std::string::npos);
  CHECK(b->issues[1].issue.why.find("'ZU9-x'") != std::string::npos);
}

TEST_CASE("care→hl7v2: 'last' keeps the last value or run", "[care_v2]") {
  auto set = load({{"p.json", R"({"name": "p", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "ADT^A08^ADT_A01"},
 "rules": [{"id": "loc", "source": "encounter.locations[]", "last": true, "target": "PV1-3",
            "rules": [{"id": "loc.ward", "source": "ward", "target": ".2"}, {"id": "loc.bed", "source": "bed", "target": ".3"}]},
           {"id": "given", "source": "patient.names[0].given", "last": true, "target": "PID-5.2"}]})"}});
  REQUIRE(set);
  care::Record r = patient_record();
  r.ensure<care::Patient>().names[0].given = {"ANN", "MARY"};
  care::Encounter& e = r.ensure<care::Encounter>();
  e.locations.resize(2);
  e.locations[0].ward = "WARD 7";
  e.locations[0].bed = "BED 4";
  e.locations[1].ward = "WARD 9";
  auto b = translate_to_hl7v2(r, *set);
  REQUIRE(b.ok());
  CHECK(b->message.text("PV1-3") == "^WARD 9");  // nothing of the earlier location is left over
  CHECK(b->message.text("PID-5.2") == "MARY");
}

TEST_CASE("care→hl7v2: 'targetFrom' is checked at load", "[care_v2]") {
  auto profile = [](const std::string& rule) {
    return std::vector<ProfileSet::SourceFile>{{"p.json", R"({"name": "p", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "ADT^A08^ADT_A01"},
 "rules": [{"id": "z", "source": "encounter.zSegments[]", "rules": [
)" + rule + "]}]}"}};
  };
  LoadErrors e;
  CHECK(load(profile(R"({"id": "z.v", "source": "value", "target": "Z*", "targetFrom": "key"})")));
  CHECK(load(profile(R"({"id": "z.v", "source": "value", "target": "ZU*", "targetFrom": "key"})")));

  REQUIRE(!load(profile(R"({"id": "z.v", "source": "value", "target": "PID-5", "targetFrom": "key"})"), &e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].line == 4);
  CHECK(e[0].reason.find("as a wildcard") != std::string::npos);

  REQUIRE(!load(profile(R"({"id": "z.v", "source": "value", "target": "MS*", "targetFrom": "key"})"), &e));
  CHECK(e[0].reason.find("as a wildcard") != std::string::npos);

  REQUIRE(!load(profile(R"({"id": "z.v", "source": "value", "target": "Z*", "targetFrom": "nokey"})"), &e));
  CHECK(e[0].reason.find("nokey") != std::string::npos);

  REQUIRE(!load(profile(R"({"id": "z.v", "source": "value", "targetFrom": "key"})"), &e));
  CHECK(e[0].reason.find("needs a 'target'") != std::string::npos);
}

TEST_CASE("care→hl7v2: an overlay without a match of its own always replaces its base", "[care_v2]") {
  const std::string base = R"({"name": "base", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "ADT^A31^ADT_A05"}, "match": {"path": "patient", "exists": true},
 "rules": [{"id": "family", "source": "patient.names[0].family", "target": "PID-5.1"}]})";
  const std::string site = R"({"name": "site", "version": "1", "direction": "care→hl7v2", "extends": "base",
 "rules": [{"id": "family", "value": "SITE", "target": "PID-5.1"}]})";
  const std::string visit = R"({"name": "visit", "version": "1", "direction": "care→hl7v2", "extends": "base",
 "message": {"type": "ADT^A08^ADT_A01"}, "match": {"path": "encounter", "exists": true}, "rules": []})";
  auto set = load({{"base.json", base}, {"site.json", site}});
  REQUIRE(set);
  care::Record r = patient_record();
  CHECK((*select_care_v2_profile(r, *set))->name == "site");

  set = load({{"base.json", base}, {"visit.json", visit}});
  REQUIRE(set);
  CHECK((*select_care_v2_profile(r, *set))->name == "base");
  r.ensure<care::Encounter>();
  CHECK((*select_care_v2_profile(r, *set))->name == "visit");
}

TEST_CASE("care→hl7v2: a referral in a visit carries PV1-19, and reads back to the same visit", "[care_v2]") {
  care::Record r = patient_record();
  care::Referral& ref = r.ensure<care::Referral>();
  ref.id = "r1";
  care::Reference visit;
  visit.type = care::EntityType::kEncounter;
  visit.identifier = care::Identifier{};
  visit.identifier->system = "https://fhir.ryj.nhs.uk/Id/visit-number";
  visit.identifier->value = "2139";
  ref.encounter = visit;
  V2BuildOptions o;
  o.sending_facility = "RYJ";
  auto b = translate_to_hl7v2(r, *shipped_profiles(), o);
  REQUIRE(b.ok());
  CHECK(b->message.text("MSH-9.2") == "I12");
  CHECK(b->message.text("PV1-19.1") == "2139");
  CHECK(b->message.text("PV1-19.4") == "RYJ");
  const care::Record back = read_v2(b->message.encode('\r'));
  REQUIRE(back.get<care::Referral>());
  REQUIRE(back.get<care::Referral>()->encounter);
  CHECK(*back.get<care::Referral>()->encounter == visit);
}

namespace {

care::Record fixture_record(const std::string& name) {
  auto r = record_from_json(read_file(std::string(MIDHURST_MAPPINGS_DIR) + "/care-hl7v2/fixtures/" + name));
  REQUIRE(r.ok());
  return *r;
}

std::vector<std::string> segment_ids(const hl7v2::Message& m) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < m.segment_count(); ++i) out.emplace_back(m.segment(i).id());
  return out;
}

V2BuildOptions fixed_options() {
  V2BuildOptions o;
  o.sending_application = "HOSPICE";
  o.sending_facility = "RYJ";
  o.timestamp = "20261105101500+0000";
  return o;
}

}  // namespace

TEST_CASE("care→hl7v2: REF^I12 carries what A31 carries of the patient: GP, next of kin, end-of-life items", "[care_v2]") {
  const care::Record record = fixture_record("referral-eol-contacts-i12.care-in.json");
  REQUIRE(record.get<care::Patient>()->registered_gp);
  REQUIRE(record.get<care::Patient>()->contacts.size() >= 2);
  REQUIRE(record.get<care::EndOfLifePlan>());

  auto i12 = translate_to_hl7v2(record, *shipped_profiles(), fixed_options());
  REQUIRE(i12.ok());
  CHECK(i12->profile->name == "care-ref-i12");
  // REF_I12 order (HL7 v2.4 ch. 11): RF1, PRD+, PID, NK1*, OBR + OBX*, PV1, NTE*; no EVN or PD1.
  std::vector<std::string> ids = segment_ids(i12->message);
  INFO(i12->message.encode('\n'));
  std::vector<std::string> kinds;
  for (const std::string& id : ids)
    if (kinds.empty() || kinds.back() != id) kinds.push_back(id);
  CHECK(kinds == std::vector<std::string>{"MSH", "RF1", "PRD", "PID", "NK1", "OBR", "OBX", "NTE"});
  CHECK(std::count(ids.begin(), ids.end(), "PRD") == 4);  // RP, RT, the GP practice, the GP
  CHECK(i12->message.text("PRD[3]-1.1") == "PP");
  CHECK(i12->message.text("PRD[3]-7.1") == record.get<care::Patient>()->registered_gp->practice_ods);
  CHECK(i12->message.text("PRD[4]-7") == record.get<care::Patient>()->registered_gp->gp_gmp + "^GMP");
  CHECK(i12->message.text("OBR-4.3") == "MIDHURST-EOL");

  // Read back, the patient and plan are those the same record gives through A31.
  care::Record person = record;
  person.erase(care::EntityType::kReferral);
  auto a31 = translate_to_hl7v2(person, *shipped_profiles(), fixed_options());
  REQUIRE(a31.ok());
  CHECK(a31->profile->name == "care-adt-a31");
  const care::Record via_i12 = read_v2(i12->message.encode('\r'));
  const care::Record via_a31 = read_v2(a31->message.encode('\r'));
  REQUIRE(via_i12.get<care::Patient>());
  REQUIRE(via_i12.get<care::EndOfLifePlan>());
  CHECK(care::to_json(*via_i12.get<care::Patient>()) == care::to_json(*via_a31.get<care::Patient>()));
  CHECK(care::to_json(*via_i12.get<care::EndOfLifePlan>()) == care::to_json(*via_a31.get<care::EndOfLifePlan>()));
  REQUIRE(via_i12.get<care::RelatedPerson>());
  CHECK(care::to_json(*via_i12.get<care::RelatedPerson>()) == care::to_json(*via_a31.get<care::RelatedPerson>()));
  CHECK(via_i12.get<care::Patient>()->registered_gp == record.get<care::Patient>()->registered_gp);
}

TEST_CASE("care→hl7v2: 'structure' orders the segments; unlisted ones follow; bad entries are refused", "[care_v2]") {
  const std::string profile = R"({"name": "ordered", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "REF^I12^REF_I12", "structure": ["RF1", "PID", "NTE"]}, "match": {"path": "patient", "exists": true},
 "rules": [{"id": "note", "value": "n", "target": "NTE-3"},
           {"id": "extra", "value": "z", "target": "ZZ1-1"},
           {"id": "family", "source": "patient.names[0].family", "target": "PID-5.1"},
           {"id": "status", "value": "P", "target": "RF1-1"}]})";
  auto set = load({{"ordered.json", profile}});
  REQUIRE(set);
  auto b = translate_to_hl7v2(patient_record(), *set);
  REQUIRE(b.ok());
  CHECK(segment_ids(b->message) == std::vector<std::string>{"MSH", "RF1", "PID", "NTE", "ZZ1"});
  CHECK(b->message.text("PID-5.1") == "JONES");

  LoadErrors errors;
  const std::string bad = R"({"name": "bad", "version": "1", "direction": "care→hl7v2",
 "message": {"type": "REF^I12^REF_I12", "structure": ["RF1", "pid", "RF1", "MSH"]}, "match": {"path": "patient", "exists": true},
 "rules": []})";
  CHECK_FALSE(load({{"bad.json", bad}}, &errors));
  std::string all;
  for (const auto& e : errors) all += e.to_string() + "\n";
  INFO(all);
  CHECK(errors.size() == 3);
  CHECK(all.find("bad.json:2:") != std::string::npos);
  CHECK(all.find("lists RF1 twice") != std::string::npos);
}
