// The default hl7v2→care profiles beyond the Patient: Encounter (PV1/EVN, the per-message ADT
// state machine, Z-segments), next of kin, REF^I12 referrals, the end-of-life OBX convention and
// the site overlays in mappings/sites/, plus the engine features they rely on (segment and field
// wildcards, the "." context path, sourcePath, check-only rules). Everything runs on the real
// mappings directory.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "care/json.h"
#include "hl7v2/batch.h"
#include "mapping/engine.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

hl7v2::Message msg(std::string text) {
  auto m = hl7v2::Message::parse(std::move(text));
  REQUIRE(m.ok());
  return std::move(*m);
}

std::string example(const std::string& name) {
  return read_file(std::string(MIDHURST_MAPPINGS_DIR) + "/../examples/" + name);
}

// The fixtures copy the examples, with three field positions corrected (see the report on
// examples/: PV1-44/45, OBX-16, RF1-11 each sit one field late there).
std::string fixture(const std::string& name) {
  return read_file(std::string(MIDHURST_MAPPINGS_DIR) + "/hl7v2-care/fixtures/" + name);
}

std::string issues_of(const Translation& t) {
  std::string s;
  for (const MappingIssue& i : t.issues) s += i.to_string() + "\n";
  return s;
}

bool has_issue(const Translation& t, const std::string& text) {
  return issues_of(t).find(text) != std::string::npos;
}

// Every entity of the record serialises and reads back as valid care JSON once the store has
// given it an id and lastUpdated.
template <class T>
void check_round_trip(const Translation& t) {
  const T* e = t.record.get<T>();
  if (!e) return;
  T stored = *e;
  stored.id = "x-1";
  stored.last_updated = "2026-01-01T00:00:00+00:00";
  auto back = care::from_json<T>(care::to_json(stored));
  INFO((back.ok() ? std::string() : back.error().to_string()));
  CHECK(back.ok());
}

void check_all_round_trip(const Translation& t) {
  check_round_trip<care::Patient>(t);
  check_round_trip<care::RelatedPerson>(t);
  check_round_trip<care::Encounter>(t);
  check_round_trip<care::Referral>(t);
  check_round_trip<care::EndOfLifePlan>(t);
}

const char* kHead = "MSH|^~\\&|PAS|RYJ|ROUTE|ROUTE|20261101091500||ADT^A01^ADT_A01|C1|P|2.4\r";
const char* kPid = "PID|1||9449305552^^^NHS^NH~633^^^RYJ^MR||JONES^MARGARET||19420317|F\r";

std::string adt(const std::string& event, const std::string& rest) {
  std::string head = kHead;
  head.replace(head.find("A01^"), 3, event);
  return head + "EVN|" + event + "|20261101091500\r" + kPid + rest;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Engine features

TEST_CASE("v2 paths: segment prefix and field wildcards, and the field context itself", "[v2path]") {
  const hl7v2::Message m = msg(std::string(kHead) + "ZU1|a|b~c||d\rPID|1\rZU3|x\rZU1|e\r");
  auto all = [&](const char* text, V2Level ctx = V2Level::kMessage, Cursor from = {}) {
    auto p = V2Path::parse(text, ctx);
    REQUIRE(p.ok());
    std::vector<std::string> out;
    p->expand(m, from, [&](const Cursor& c) { out.push_back(c.to_string(m) + "=" + c.element(m).text()); });
    return out;
  };
  CHECK(all("Z*[*]-*[*]") == std::vector<std::string>{"ZU1-1=a", "ZU1-2=b", "ZU1-2[2]=c", "ZU1-4=d", "ZU3-1=x", "ZU1[2]-1=e"});
  CHECK(all("ZU*[*]-1") == std::vector<std::string>{"ZU1-1=a", "ZU3-1=x", "ZU1[2]-1=e"});
  CHECK(all("Z*-2") == std::vector<std::string>{"ZU1-2=b"});
  CHECK(V2Path::parse("Z*[*]-*", V2Level::kMessage)->iterates());
  Cursor field;
  field.segment = 1;
  field.field = 4;
  field.repetition = 1;
  field.level = V2Level::kField;
  CHECK(all(".", V2Level::kField, field) == std::vector<std::string>{"ZU1-4=d"});
  CHECK(!V2Path::parse(".", V2Level::kSegment).ok());
  CHECK(!V2Path::parse("*", V2Level::kMessage).ok());
  CHECK(!V2Path::parse("Z*[*]-x", V2Level::kMessage).ok());
}

TEST_CASE("a rule with a ConceptMap and no target only checks codes", "[engine]") {
  const std::string profile =
      "{\"name\": \"p\", \"version\": \"1\", \"direction\": \"hl7v2→care\",\n"
      " \"match\": {\"path\": \"MSH-9.1\", \"equals\": \"ADT\"},\n"
      " \"rules\": [{\"id\": \"check\", \"source\": \"OBX[*]-3.1\", \"conceptMap\": \"codes\"},\n"
      "           {\"id\": \"key\", \"source\": \"ZU1-2\", \"target\": \"encounter.zSegments[0].key\", \"transform\": [\"sourcePath\"]}]}";
  const std::string cm =
      "{\"resourceType\": \"ConceptMap\", \"url\": \"u\", \"group\": [{\"source\": \"s\", \"target\": \"t\",\n"
      " \"element\": [{\"code\": \"A\", \"target\": [{\"code\": \"a\", \"equivalence\": \"equivalent\"}]}]}]}";
  auto set = ProfileSet::load({{"p.json", profile}}, {{"codes.json", cm}});
  REQUIRE(set.ok());
  const Translation t = translate(**set, msg(std::string(kHead) + "OBX|1||A\rOBX|2||B\rZU1|x|y\r"));
  CHECK(t.accepted);
  CHECK(has_issue(t, "warning 103 (Table value not found) at OBX[2]-3.1 [rule check]: code 'B' is not in ConceptMap 'codes'"));
  CHECK(!has_issue(t, "'A'"));
  REQUIRE(t.record.get<care::Encounter>());
  CHECK(t.record.get<care::Encounter>()->z_segments[0].key == "ZU1-2");
  // A rule without a target and without a ConceptMap is still refused.
  auto bad = ProfileSet::load({{"p.json", "{\"name\": \"p\", \"version\": \"1\", \"direction\": \"hl7v2→care\", "
                                          "\"match\": {\"path\": \"MSH-9.1\", \"equals\": \"ADT\"}, "
                                          "\"rules\": [{\"id\": \"x\", \"source\": \"PID-3\"}]}"}},
                              {});
  REQUIRE(!bad.ok());
  CHECK(bad.error()[0].to_string().find("needs a 'target'") != std::string::npos);
}

TEST_CASE("loader: a group cannot target a whole entity; '.' needs a field context", "[loader]") {
  auto load = [](const std::string& rules) {
    return ProfileSet::load({{"p.json", "{\"name\": \"p\", \"version\": \"1\", \"direction\": \"hl7v2→care\",\n"
                                        " \"match\": {\"path\": \"MSH-9.1\", \"equals\": \"ADT\"},\n"
                                        " \"rules\": [" + rules + "]}"}},
                            {});
  };
  auto whole = load("{\"id\": \"g\", \"source\": \"OBX[*]\", \"target\": \"eol\", \"rules\": [\n"
                    "  {\"id\": \"g.d\", \"source\": \"-5.1\", \"target\": \"plannedReviewDate\", \"transform\": [\"date\"]}]}");
  REQUIRE(!whole.ok());
  CHECK(whole.error()[0].to_string().find("p.json:3:") == 0);
  CHECK(whole.error()[0].to_string().find("not the entity itself") != std::string::npos);
  auto dot = load("{\"id\": \"z\", \"source\": \"ZU1[*]\", \"target\": \"encounter.zSegments[]\", \"rules\": [\n"
                  "  {\"id\": \"z.k\", \"source\": \".\", \"target\": \"key\"}]}");
  REQUIRE(!dot.ok());
  CHECK(dot.error()[0].to_string().find("needs a field context") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Encounter

TEST_CASE("ADT^A01 example: the Encounter with visit number, class, status, location, doctors", "[encounter]") {
  const Translation t = translate(*shipped_profiles(), msg(example("adt_a01_admit.hl7")));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  const care::Encounter* e = t.record.get<care::Encounter>();
  REQUIRE(e);
  CHECK(e->patient.identifier->system == "https://fhir.nhs.uk/Id/nhs-number");
  CHECK(e->patient.identifier->value == "9449305552");
  REQUIRE(e->identifiers.size() == 1);
  CHECK(e->identifiers[0].value == "2139");
  CHECK(e->identifiers[0].system == "https://fhir.ryj.nhs.uk/Id/visit-number");
  CHECK(e->identifiers[0].type == "VN");
  CHECK(e->identifiers[0].assigner_ods == "RYJ");
  CHECK(e->encounter_class == care::EncounterClass::kInpatient);
  CHECK(e->status == care::EncounterStatus::kInProgress);
  REQUIRE(e->status_history.size() == 1);
  CHECK(e->status_history[0].status == care::EncounterStatus::kInProgress);
  CHECK(e->status_history[0].period->start == "2026-11-01T09:15:00+00:00");
  CHECK(e->period->start == "2026-11-01T09:15:00+00:00");
  REQUIRE(e->locations.size() == 1);
  CHECK(e->locations[0].ward == "WARD 7");
  CHECK(e->locations[0].bed == "BED 4");
  CHECK(e->locations[0].site_ods == "RYJ01");
  CHECK(e->locations[0].status == care::LocationStatus::kActive);
  REQUIRE(e->participants.size() == 1);
  CHECK(e->participants[0].type == care::ParticipantType::kAttending);
  CHECK(e->participants[0].practitioner.identifier->system == "https://fhir.hl7.org.uk/Id/gmc-number");
  CHECK(e->participants[0].practitioner.identifier->value == "C3456789");
  CHECK(e->participants[0].practitioner.display == "Dr Anika Patel");
  CHECK(e->admission_method->codings[0].system == "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland");
  CHECK(e->admission_method->codings[0].code == "21");
  CHECK(e->admission_source->codings[0].code == "19");
  CHECK(e->treatment_function->codings[0].code == "300");
  CHECK(e->service_provider->identifier->value == "RYJ");
  check_all_round_trip(t);
}

TEST_CASE("the ADT event sets the encounter status and records the transition", "[encounter]") {
  const std::pair<const char*, care::EncounterStatus> cases[] = {
      {"A05", care::EncounterStatus::kPlanned},    {"A14", care::EncounterStatus::kPlanned},
      {"A01", care::EncounterStatus::kInProgress}, {"A04", care::EncounterStatus::kInProgress},
      {"A13", care::EncounterStatus::kInProgress}, {"A02", care::EncounterStatus::kInProgress},
      {"A12", care::EncounterStatus::kInProgress}, {"A21", care::EncounterStatus::kOnLeave},
      {"A22", care::EncounterStatus::kInProgress}, {"A03", care::EncounterStatus::kFinished},
      {"A11", care::EncounterStatus::kCancelled},  {"A38", care::EncounterStatus::kCancelled},
  };
  for (const auto& [event, status] : cases) {
    INFO(event);
    const Translation t = translate(*shipped_profiles(), msg(adt(event, "PV1|1|I|RYJ01^WARD 7^BED 4^RYJ01||||||||||||||||2139\r")));
    INFO(issues_of(t));
    REQUIRE(t.accepted);
    const care::Encounter* e = t.record.get<care::Encounter>();
    REQUIRE(e);
    CHECK(e->status == status);
    REQUIRE(e->status_history.size() == 1);
    CHECK(e->status_history[0].status == status);
    CHECK(e->status_history[0].period->start == "2026-11-01T09:15:00+00:00");
    CHECK(care::encounter_transition_allowed(status, status));
  }
  // A21/A22 open and close a leave of absence.
  const Translation out = translate(*shipped_profiles(), msg(adt("A21", "PV1|1|I\r")));
  REQUIRE(out.record.get<care::Encounter>()->leave_of_absence.size() == 1);
  CHECK(out.record.get<care::Encounter>()->leave_of_absence[0].start == "2026-11-01T09:15:00+00:00");
  const Translation back = translate(*shipped_profiles(), msg(adt("A22", "PV1|1|I\r")));
  CHECK(back.record.get<care::Encounter>()->leave_of_absence[0].end == "2026-11-01T09:15:00+00:00");
}

TEST_CASE("an update event keeps the state the visit's times say; person events make no encounter", "[encounter]") {
  const Translation upd = translate(*shipped_profiles(), msg(adt("A08", "PV1|1|O|||||||||||||||||2139|||||||||||||||||||||||||20261101\r")));
  REQUIRE(upd.record.get<care::Encounter>());
  CHECK(upd.record.get<care::Encounter>()->status == care::EncounterStatus::kInProgress);
  CHECK(upd.record.get<care::Encounter>()->encounter_class == care::EncounterClass::kOutpatient);
  CHECK(upd.record.get<care::Encounter>()->status_history.empty());
  const Translation person = translate(*shipped_profiles(), msg(adt("A31", "PV1|1|N\r")));
  REQUIRE(person.accepted);
  CHECK(person.record.get<care::Encounter>() == nullptr);
}

TEST_CASE("A02 transfer: the prior location completed, the new one active, both at the event time", "[encounter]") {
  const Translation t = translate(*shipped_profiles(), msg(adt("A02", "PV1|1|I|RYJ01^WARD 9^BED 1^RYJ01|||RYJ01^WARD 7^BED 4^RYJ01\r")));
  INFO(issues_of(t));
  const care::Encounter* e = t.record.get<care::Encounter>();
  REQUIRE(e);
  REQUIRE(e->locations.size() == 2);
  CHECK(e->locations[0].ward == "WARD 7");
  CHECK(e->locations[0].status == care::LocationStatus::kCompleted);
  CHECK(e->locations[0].period->end == "2026-11-01T09:15:00+00:00");
  CHECK(e->locations[1].ward == "WARD 9");
  CHECK(e->locations[1].status == care::LocationStatus::kActive);
  CHECK(e->locations[1].period->start == "2026-11-01T09:15:00+00:00");
  check_all_round_trip(t);
}

TEST_CASE("A03 discharge: finished, discharge method and destination, times", "[encounter]") {
  const Translation t = translate(*shipped_profiles(), msg(fixture("a03-discharge.hl7")));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  const care::Encounter* e = t.record.get<care::Encounter>();
  REQUIRE(e);
  CHECK(e->status == care::EncounterStatus::kFinished);
  CHECK(e->period->start == "2026-11-01T09:15:00+00:00");
  CHECK(e->period->end == "2026-11-08T16:00:00+00:00");
  CHECK(e->discharge_method->codings[0].code == "1");
  CHECK(e->discharge_destination->codings[0].code == "19");
  CHECK(e->locations[0].status == care::LocationStatus::kCompleted);
  // A discharge to a hospice, and one where the patient died.
  const Translation hospice = translate(*shipped_profiles(), msg(adt("A03", "PV1|1|I||||||||||||||||||||||||||||||||||1|88\r")));
  CHECK(hospice.record.get<care::Encounter>()->discharge_destination->codings[0].display ==
        "Non-NHS (other than Local Authority) run Hospice");
  const Translation died = translate(*shipped_profiles(), msg(adt("A03", "PV1|1|I||||||||||||||||||||||||||||||||||4|79\r")));
  CHECK(died.record.get<care::Encounter>()->discharge_method->codings[0].display == "Patient died");
  CHECK(died.record.get<care::Encounter>()->discharge_destination->codings[0].code == "79");
}

TEST_CASE("every field of every Z-segment is kept on the encounter", "[encounter]") {
  const Translation t = translate(*shipped_profiles(), msg(adt("A01", "PV1|1|I\rZU1|201010071234|1|C\rZU8|U|1|Yes~No\rZXX|local\r")));
  INFO(issues_of(t));
  const care::Encounter* e = t.record.get<care::Encounter>();
  REQUIRE(e);
  std::vector<std::string> kv;
  for (const care::ZSegmentValue& z : e->z_segments) kv.push_back(z.key + "=" + z.value);
  CHECK(kv == std::vector<std::string>{"ZU1-1=201010071234", "ZU1-2=1", "ZU1-3=C", "ZU8-1=U", "ZU8-2=1", "ZU8-3=Yes",
                                       "ZU8-3[2]=No", "ZXX-1=local"});
  for (const LedgerEntry& l : t.ledger.entries)
    if (l.field.rfind("Z", 0) == 0) CHECK(l.status == LedgerEntry::Status::kMapped);
}

// ---------------------------------------------------------------------------------------------
// Next of kin

TEST_CASE("NK1: every next of kin a Patient contact, the first also the RelatedPerson", "[nk1]") {
  const Translation t = translate(*shipped_profiles(), msg(adt("A01", "NK1|1|JONES^DAVID^^^MR|SPO^Spouse^HL70063|12 CHURCH LANE^^LONDON^^W2 1NY^GBR^H|07700 900456||N\r"
                                                              "NK1|2|JONES^SARAH|CHD^Child^HL70063||07700 900789||C\r"
                                                              "NK1|3|SMITH^ANN|CGV^Care giver^HL70063\r")));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  const care::Patient* p = t.record.get<care::Patient>();
  REQUIRE(p->contacts.size() == 3);
  CHECK(p->contacts[0].name->family == "JONES");
  CHECK(p->contacts[0].relationships[0].codings[0].system == "http://terminology.hl7.org/CodeSystem/v3-RoleCode");
  CHECK(p->contacts[0].relationships[0].codings[0].code == "SPS");
  CHECK(p->contacts[0].relationships[1].codings[0].code == "N");
  CHECK(p->contacts[0].next_of_kin == true);
  CHECK(p->contacts[0].telecoms[0].value == "07700 900456");
  CHECK(p->contacts[0].address->postcode == "W2 1NY");
  CHECK(p->contacts[1].relationships[0].codings[0].code == "CHILD");
  CHECK(!p->contacts[1].next_of_kin);
  CHECK(p->contacts[2].relationships[0].codings[0].code == "Carer");
  const care::RelatedPerson* rp = t.record.get<care::RelatedPerson>();
  REQUIRE(rp);
  CHECK(rp->name->given == std::vector<std::string>{"DAVID"});
  CHECK(rp->roles == std::vector<care::RelatedPersonRole>{care::RelatedPersonRole::kNextOfKin});
  CHECK(rp->patient.identifier->value == "9449305552");
  CHECK(rp->addresses[0].city == "LONDON");
  check_all_round_trip(t);
}

// ---------------------------------------------------------------------------------------------
// Referrals

TEST_CASE("REF^I12 example: the Referral with status, priority, parties, reason and note", "[referral]") {
  const Translation t = translate(*shipped_profiles(), msg(fixture("ref-i12-palliative-referral.hl7")));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  CHECK(t.profile->name == "ref-referral");
  const care::Referral* r = t.record.get<care::Referral>();
  REQUIRE(r);
  CHECK(r->status == care::ReferralStatus::kActive);
  CHECK(r->recipient_status == care::RecipientStatus::kRequested);
  CHECK(r->priority == care::ReferralPriority::kUrgent);
  CHECK(r->categories[0].codings[0].code == "SPC");
  CHECK(r->categories[0].original_text == "Specialist palliative care");
  CHECK(r->authored_on == "2026-11-03");
  REQUIRE(r->identifiers.size() == 1);
  CHECK(r->identifiers[0].system == "https://fhir.nhs.uk/Id/UBRN");
  CHECK(r->identifiers[0].value == "000000012345");
  CHECK(r->requester.organization->identifier->value == "RYJ");
  CHECK(r->requester.organization->display == "IMPERIAL COLLEGE HEALTHCARE NHS TRUST");
  CHECK(r->recipient.organization->identifier->value == "RV3");
  REQUIRE(r->reasons.size() == 1);
  CHECK(r->reasons[0].codings[0].system == "http://hl7.org/fhir/sid/icd-10");
  CHECK(r->reasons[0].codings[0].code == "C34.9");
  REQUIRE(r->notes.size() == 1);
  CHECK(r->notes[0].text.rfind("Rapidly declining", 0) == 0);
  CHECK(r->patient.identifier->value == "9449305552");
  CHECK(t.record.get<care::Patient>()->nhs_number->value == "9449305552");
  check_all_round_trip(t);
  // I14 cancels.
  std::string cancel = fixture("ref-i12-palliative-referral.hl7");
  cancel.replace(cancel.find("REF^I12^REF_I12"), 15, "REF^I14^REF_I12");
  const Translation c = translate(*shipped_profiles(), msg(cancel));
  REQUIRE(c.record.get<care::Referral>());
  CHECK(c.record.get<care::Referral>()->status == care::ReferralStatus::kRevoked);
}

TEST_CASE("every REF message of the corpus translates to a Referral or fails with a clear reason", "[referral][corpus]") {
  namespace fs = std::filesystem;
  std::size_t referrals = 0;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2")) {
    if (e.path().filename().string().rfind("msfc__REF", 0) != 0) continue;
    INFO(e.path().filename().string());
    const std::string bytes = read_file(e.path().string());
    for (const hl7v2::MessageSpan& span : hl7v2::split_batch(bytes).messages()) {
      auto m = hl7v2::Message::parse(std::string(span.bytes));
      REQUIRE(m.ok());
      const Translation t = translate(*shipped_profiles(), *m);
      INFO(issues_of(t));
      if (t.accepted) {
        REQUIRE(t.record.get<care::Referral>());
        ++referrals;
        check_all_round_trip(t);
      } else {
        bool has_reason = false;
        for (const MappingIssue& i : t.issues)
          if (i.issue.severity == hl7v2::Severity::kError && !i.issue.why.empty() && !i.source.empty()) has_reason = true;
        CHECK(has_reason);
      }
    }
  }
  CHECK(referrals >= 2);
}

// ---------------------------------------------------------------------------------------------
// End-of-life OBX convention

TEST_CASE("ADT^A08 example: every end-of-life OBX item in the EndOfLifePlan", "[eol]") {
  const Translation t = translate(*shipped_profiles(), msg(fixture("a08-eol-preferences.hl7")));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  const care::EndOfLifePlan* eol = t.record.get<care::EndOfLifePlan>();
  REQUIRE(eol);
  CHECK(eol->patient.identifier->value == "9449305552");
  CHECK(eol->created_at == "2026-11-03T14:30:00+00:00");
  REQUIRE(eol->cpr_decision);
  CHECK(eol->cpr_decision->decision == care::CprDecisionCode::kDnacpr);
  CHECK(eol->cpr_decision->decision_date == "2026-11-03");
  CHECK(eol->cpr_decision->decided_by->identifier->value == "C3456789");
  CHECK(eol->cpr_decision->recorded->recorded_by->display == "Dr Anika Patel");
  CHECK(eol->cpr_decision->recorded->status == care::RecordStatus::kActive);
  CHECK(eol->cpr_decision->recorded->source_system->organization_ods == "RYJ");
  REQUIRE(eol->preferred_place_of_death.size() == 1);
  CHECK(eol->preferred_place_of_death[0].location_type == care::DeathLocationType::k21OwnHome);
  CHECK(eol->preferred_place_of_death[0].code->original_text == "Patient's own home");
  CHECK(eol->preferred_place_of_care->location_type == care::DeathLocationType::k21OwnHome);
  REQUIRE(eol->wishes.size() == 1);
  CHECK(eol->wishes[0].text == "Would like her cat with her & music playing");
  CHECK(eol->wishes[0].category == care::WishCategory::kOtherPreference);
  // Every OBX was read.
  for (const LedgerEntry& l : t.ledger.entries)
    if (l.field.rfind("OBX", 0) == 0) CHECK(l.status != LedgerEntry::Status::kUnread);
  check_all_round_trip(t);
}

TEST_CASE("every MIDHURST-EOL code of END-OF-LIFE-OBX.md, and an unknown one warns", "[eol]") {
  const std::string obx =
      "OBX|1|CE|PPD1^Preferred place of death^MIDHURST-EOL||766391000000108^Patient declined discussion^SCT||||||F|||20261103\r"
      "OBX|2|CE|PPD2^Preferred place of death (2nd)^MIDHURST-EOL||30^Hospice^NHSDD-DLT||||||F|||20261103\r"
      "OBX|3|CE|ADRT^ADRT^MIDHURST-EOL||816321000000109^Has ADRT for life-sustaining treatment^SCT||||||F|||20261020\r"
      "OBX|4|CE|LPA^LPA^MIDHURST-EOL||816361000000101^Has appointed person with personal welfare LPA^SCT||||||F|||20250612\r"
      "OBX|5|CE|PROGNOSIS^Prognosis^MIDHURST-EOL||968211000000101^Last months of life^SCT||||||F|||20261103\r"
      "OBX|6|ID|EOLREG^On EoL register^MIDHURST-EOL||Y||||||F|||20261101\r"
      "OBX|7|CE|CONSENT^Consent^MIDHURST-EOL||882921000000109^Consent given^SCT||||||F|||202611011015\r"
      "OBX|8|XCN|KEYWORKER^Key worker^MIDHURST-EOL||N1234567^Okoro^Grace^^^Ms^^^NMC||||||F|||20261101\r"
      "OBX|9|DT|REVIEW^Plan review date^MIDHURST-EOL||20270201||||||F|||20261103\r"
      "OBX|10|CE|CPR^CPR decision^MIDHURST-EOL||450475007^For CPR^SCT||||||W|||20261103\r"
      "OBX|11|ST|FUNERAL^Funeral wishes^MIDHURST-EOL||Cremation||||||F\r"
      "OBX|12|NM|8867-4^Heart rate^LN||72|/min|||||F\r";
  const Translation t = translate(*shipped_profiles(), msg(adt("A31", obx)));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  const care::EndOfLifePlan* eol = t.record.get<care::EndOfLifePlan>();
  REQUIRE(eol);
  REQUIRE(eol->preferred_place_of_death.size() == 2);
  CHECK(eol->preferred_place_of_death[0].discussion == care::PreferenceDiscussion::kDeclined);
  CHECK(eol->preferred_place_of_death[0].code->codings[0].system == "http://snomed.info/sct");
  CHECK(eol->preferred_place_of_death[1].location_type == care::DeathLocationType::k30Hospice);
  CHECK(eol->adrt->present);
  CHECK(eol->adrt->type == care::AdrtType::kLifeSustaining);
  CHECK(eol->adrt->date == "2026-10-20");
  CHECK(eol->lpa_health_welfare->authority == care::LpaAuthority::kPersonalWelfare);
  CHECK(eol->prognosis->category == care::PrognosisCategory::kLastMonths);
  CHECK(eol->prognosis->text == "Last months of life");
  CHECK(eol->eol_register->on_register);
  CHECK(eol->eol_register->date == "2026-11-01");
  CHECK(eol->consent_to_share->decision == care::ConsentDecision::kGiven);
  CHECK(eol->consent_to_share->date == "2026-11-01T10:15+00:00");
  CHECK(eol->key_worker->identifier->system == "https://fhir.hl7.org.uk/Id/nmc-number");
  CHECK(eol->key_worker->display == "Ms Grace Okoro");
  CHECK(eol->planned_review_date == "2027-02-01");
  CHECK(eol->cpr_decision->decision == care::CprDecisionCode::kForCpr);
  CHECK(eol->cpr_decision->recorded->status == care::RecordStatus::kEnteredInError);
  CHECK(has_issue(t, "warning 103 (Table value not found) at OBX[11]-3.1 [rule eol-item.code]: code 'FUNERAL' is not in ConceptMap 'midhurst-eol-items'"));
  CHECK(t.record.get<care::Encounter>() == nullptr);  // A31
  check_all_round_trip(t);
}

// ---------------------------------------------------------------------------------------------
// Site overlays

TEST_CASE("site rx7-adt: the NHS number in PID-2, sex as 1/2/9/X", "[sites]") {
  const std::string m =
      "MSH|^~\\&|PAS|RX7|ROUTE|ROUTE|20261101091500||ADT^A01^ADT_A01|C1|P|2.4\rEVN|A01|20261101091500\r"
      "PID|1|9449305552|R123456^^^RX7^MR||JONES^MARGARET||19420317|2\rPV1|1|I|||||||||||||||||V77\r";
  const Translation t = translate(*shipped_profiles(), msg(m));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  CHECK(t.profile->name == "rx7-adt");
  const care::Patient* p = t.record.get<care::Patient>();
  CHECK(p->nhs_number->value == "9449305552");
  REQUIRE(p->identifiers.size() == 1);
  CHECK(p->identifiers[0].value == "R123456");
  CHECK(p->gender == care::AdministrativeGender::kFemale);
  CHECK(p->stated_gender->code == "2");
  CHECK(t.record.get<care::Encounter>()->patient.identifier->value == "9449305552");
  // A bad check digit in PID-2 rejects; an HL7 sex code is a warning here.
  std::string bad = m;
  bad.replace(bad.find("9449305552"), 10, "9449305553");
  bad.replace(bad.find("|2\rPV1"), 2, "|F");
  const Translation b = translate(*shipped_profiles(), msg(bad));
  CHECK(!b.accepted);
  CHECK(has_issue(b, "at PID-2"));
  CHECK(has_issue(b, "code 'F' is not in ConceptMap 'nhs-stated-gender-to-administrative-gender'"));
  // Other senders keep the default profile.
  std::string other = m;
  other.replace(other.find("|RX7|"), 5, "|RYJ|");
  CHECK(translate(*shipped_profiles(), msg(other)).profile->name == "adt-patient");
}

TEST_CASE("site rx8-adt-zel: end-of-life items from the ZEL segment", "[sites]") {
  const std::string m =
      "MSH|^~\\&|EPR|RX8|ROUTE|ROUTE|20261103143000||ADT^A08^ADT_A01|C2|P|2.4\rEVN|A08|20261103143000\r"
      "PID|1||9449305552^^^NHS^NH||JONES^MARGARET||19420317|F\rPV1|1|I\r"
      "ZEL|1|DNACPR^DNACPR decision^RX8EOL|Y^Yes|20261101|C3456789^Patel^Anika^^^Dr^^^GMC|20270201\r"
      "ZEL|2|PPD^Preferred place of death^RX8EOL|HOSPICE^St Luke's Hospice|20261101\r"
      "ZEL|3|PPC^Preferred place of care^RX8EOL|HOME^Home|20261101\r"
      "ZEL|4|EOLREG^On register^RX8EOL|Y|20261101\r"
      "ZEL|5|FUNERAL^Funeral^RX8EOL|Burial|20261101\r"
      "ZU8|U|1|Yes\r";
  const Translation t = translate(*shipped_profiles(), msg(m));
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  CHECK(t.profile->name == "rx8-adt-zel");
  const care::EndOfLifePlan* eol = t.record.get<care::EndOfLifePlan>();
  REQUIRE(eol);
  CHECK(eol->cpr_decision->decision == care::CprDecisionCode::kDnacpr);
  CHECK(eol->cpr_decision->review_date == "2027-02-01");
  CHECK(eol->cpr_decision->decided_by->identifier->value == "C3456789");
  CHECK(eol->preferred_place_of_death[0].location_type == care::DeathLocationType::k30Hospice);
  CHECK(eol->preferred_place_of_death[0].code->original_text == "St Luke's Hospice");
  CHECK(eol->preferred_place_of_care->location_type == care::DeathLocationType::k21OwnHome);
  CHECK(eol->eol_register->on_register);
  CHECK(has_issue(t, "code 'FUNERAL' is not in ConceptMap 'rx8-eol-items'"));
  // ZU segments stay opaque on the encounter; ZEL does not.
  std::vector<std::string> keys;
  for (const care::ZSegmentValue& z : t.record.get<care::Encounter>()->z_segments) keys.push_back(z.key);
  CHECK(keys == std::vector<std::string>{"ZU8-1", "ZU8-2", "ZU8-3"});
  check_all_round_trip(t);
}

// ---------------------------------------------------------------------------------------------
// Corpus

TEST_CASE("every corpus ADT message with a PV1 of an encounter event gives a valid Encounter", "[encounter][corpus]") {
  namespace fs = std::filesystem;
  std::size_t encounters = 0;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2")) {
    if (e.path().filename().string().rfind("msfc__ADT", 0) != 0) continue;
    INFO(e.path().filename().string());
    const std::string bytes = read_file(e.path().string());
    for (const hl7v2::MessageSpan& span : hl7v2::split_batch(bytes).messages()) {
      auto m = hl7v2::Message::parse(std::string(span.bytes));
      REQUIRE(m.ok());
      const Translation t = translate(*shipped_profiles(), *m);
      if (!t.accepted) continue;  // the Patient test covers rejections and their reasons
      const std::string event = m->text("MSH-9.2");
      const bool person_only = event == "A28" || event == "A31" || event == "A34" || event == "A40";
      if (!m->find("PV1") || person_only) {
        CHECK(t.record.get<care::Encounter>() == nullptr);
        continue;
      }
      INFO(issues_of(t));
      REQUIRE(t.record.get<care::Encounter>());
      ++encounters;
      check_all_round_trip(t);
    }
  }
  CHECK(encounters >= 15);
  WARN(encounters << " encounters");
}
