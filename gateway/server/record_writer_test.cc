// RecordWriter against a real SQLite store: matching, merging, the encounter state machine,
// A40 merges and batch-created entities, with care Records built here (the ingest tests drive
// the same code with real messages through the profiles).
#include "server/record_writer.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "care/codes.h"
#include "care/json.h"
#include "store/index_terms.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace midhurst;
using care::EncounterStatus;
using care::EntityType;
using server::RecordWriter;

namespace {

const std::string kVisitSystem = "https://fhir.ryj.nhs.uk/Id/visit-number";
const std::string kMrnSystem = "https://fhir.ryj.nhs.uk/Id/mrn";

// A valid NHS number (Modulus 11) built from a 9-digit stem.
std::string nhs_number(int stem) {
  std::string s = std::to_string(100000000 + stem);
  for (;;) {
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (s[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check != 10) return s + std::to_string(check);
    s = std::to_string(std::stol(s) + 1);
  }
}

struct Rig {
  fs::path dir;
  std::unique_ptr<store::Store> store;
  int sent = 0;

  Rig() {
    std::string tmpl = (fs::temp_directory_path() / "midhurst-writer-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
    auto s = store::open_store("sqlite:" + (dir / "midhurst.db").string());
    REQUIRE(s.ok());
    store = std::move(*s);
  }
  ~Rig() {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // Writes the records through one RecordWriter and commits them in one batch, as the ingest
  // does; returns each record's outcome.
  std::vector<RecordWriter::Outcome> commit(std::vector<care::Record> records) {
    RecordWriter writer(*store);
    store::Batch batch;
    std::vector<RecordWriter::Outcome> outcomes;
    for (care::Record& r : records) {
      auto out = writer.write(std::move(r));
      REQUIRE(out.ok());
      store::Message m;
      m.journal.control_id = "MSG" + std::to_string(++sent);
      m.journal.sender = {"PAS", "RYJ"};
      m.journal.payload = "test";
      m.journal.status = out->refused  ? store::JournalStatus::kRejected
                         : out->failed ? store::JournalStatus::kFailed
                                       : store::JournalStatus::kAccepted;
      if (m.journal.status == store::JournalStatus::kAccepted) m.writes = out->writes;
      batch.messages.push_back(std::move(m));
      outcomes.push_back(std::move(*out));
    }
    auto applied = store->apply(batch);
    REQUIRE(applied.ok());
    for (size_t i = 0; i < outcomes.size(); ++i)  // none fails in the store, only as the writer said
      CHECK((applied->messages[i].status == store::JournalStatus::kFailed) == outcomes[i].failed.has_value());
    return outcomes;
  }
  RecordWriter::Outcome commit(care::Record record) {
    std::vector<care::Record> one;
    one.push_back(std::move(record));
    return commit(std::move(one)).front();
  }

  template <class T>
  std::vector<T> all(EntityType type) {
    store::Query q;
    q.type = type;
    q.count = 1000;
    q.sort = store::SortOrder::kId;
    auto page = store->search(q);
    REQUIRE(page.ok());
    std::vector<T> out;
    for (const store::EntityVersion& v : page->entries) {
      auto e = care::from_json<T>(v.json);
      REQUIRE(e.ok());
      out.push_back(std::move(*e));
    }
    return out;
  }
  care::Encounter only_encounter() {
    auto encounters = all<care::Encounter>(EntityType::kEncounter);
    REQUIRE(encounters.size() == 1);
    return encounters.front();
  }
};

care::Patient patient(const std::string& nhs, const std::string& mrn, const std::string& family) {
  care::Patient p;
  if (!nhs.empty()) p.nhs_number = care::NhsNumber{nhs, std::nullopt};
  if (!mrn.empty()) p.identifiers.push_back(care::Identifier{kMrnSystem, mrn, "MR", "RYJ", std::nullopt});
  care::HumanName n;
  n.family = family;
  n.given = {"Margaret"};
  p.names.push_back(n);
  return p;
}

care::Provenance provenance(const std::string& event, const std::string& at) {
  care::Provenance p;
  p.sender = {"PAS", "RYJ"};
  p.message_id = "X";
  p.message_type = "ADT^" + event;
  p.received_at = at;
  return p;
}

care::EncounterLocation ward(const std::string& name) {
  care::EncounterLocation l;
  l.site_ods = "RYJ01";
  l.ward = name;
  l.status = care::LocationStatus::kActive;
  return l;
}

// What the default profile makes of an ADT event with PV1 for visit `visit`.
care::Record adt(const std::string& event, const std::string& at, const std::string& visit, const std::string& ward_name,
                 const std::string& nhs = nhs_number(1)) {
  care::Record r;
  r.ensure<care::Patient>() = patient(nhs, "633", "JONES");
  care::Encounter& e = r.ensure<care::Encounter>();
  e.patient.identifier = care::Identifier{std::string(care::codes::kNhsNumber), nhs, "", "", std::nullopt};
  e.identifiers.push_back(care::Identifier{kVisitSystem, visit, "VN", "RYJ", std::nullopt});
  e.status = EncounterStatus::kInProgress;
  if (!ward_name.empty()) e.locations.push_back(ward(ward_name));
  care::StatusChange transition;
  transition.period = care::Period{at, ""};
  e.status_history.push_back(transition);
  r.ensure<care::Provenance>() = provenance(event, at);
  return r;
}

}  // namespace

TEST_CASE("A01, A02, A03 on one visit make one encounter with its status and location history") {
  Rig rig;
  CHECK(!rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7")).refused);
  CHECK(!rig.commit(adt("A02", "2026-11-03T11:00+00:00", "2139", "WARD 12")).refused);
  care::Record a03 = adt("A03", "2026-11-08T16:00+00:00", "2139", "WARD 12");
  a03.get<care::Encounter>()->discharge_destination = care::CodeableConcept{{care::Coding{"", "19", ""}}, ""};
  CHECK(!rig.commit(std::move(a03)).refused);

  care::Encounter e = rig.only_encounter();
  CHECK(e.status == EncounterStatus::kFinished);
  REQUIRE(e.status_history.size() == 1);
  CHECK(e.status_history[0].status == EncounterStatus::kInProgress);
  CHECK(e.status_history[0].period->end == "2026-11-08T16:00+00:00");
  REQUIRE(e.locations.size() == 2);
  CHECK(e.locations[0].ward == "WARD 7");
  CHECK(e.locations[0].status == care::LocationStatus::kCompleted);
  CHECK(e.locations[0].period->end == "2026-11-03T11:00+00:00");
  CHECK(e.locations[1].ward == "WARD 12");
  CHECK(e.locations[1].status == care::LocationStatus::kCompleted);
  CHECK(e.locations[1].period->start == "2026-11-03T11:00+00:00");
  REQUIRE(e.period);
  CHECK(e.period->end == "2026-11-08T16:00+00:00");
  CHECK(e.discharge_destination);
  CHECK(e.version == 3);
  // The encounter points at the stored patient by gateway id.
  auto patients = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(patients.size() == 1);
  CHECK(e.patient.id == patients[0].id);
}

TEST_CASE("cancels revert: A11 cancels an admission, A13 reopens a discharge, A12 undoes a transfer") {
  SECTION("A11 then A03 is refused at PV1-19") {
    Rig rig;
    rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
    CHECK(!rig.commit(adt("A11", "2026-11-01T10:00+00:00", "2139", "WARD 7")).refused);
    care::Encounter e = rig.only_encounter();
    CHECK(e.status == EncounterStatus::kCancelled);
    REQUIRE(e.status_history.size() == 1);
    CHECK(e.status_history[0].status == EncounterStatus::kInProgress);
    auto refused = rig.commit(adt("A03", "2026-11-02T10:00+00:00", "2139", "WARD 7"));
    REQUIRE(refused.refused);
    CHECK(refused.refused->field == "PV1-19");
    CHECK(refused.refused->reason.find("cancelled") != std::string::npos);
    CHECK(refused.writes.empty());
    CHECK(rig.only_encounter().version == 2);
  }
  SECTION("A13 reopens a discharged visit") {
    Rig rig;
    rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
    rig.commit(adt("A03", "2026-11-02T09:15+00:00", "2139", "WARD 7"));
    CHECK(!rig.commit(adt("A13", "2026-11-02T10:00+00:00", "2139", "WARD 7")).refused);
    care::Encounter e = rig.only_encounter();
    CHECK(e.status == EncounterStatus::kInProgress);
    CHECK((!e.period || e.period->end.empty()));
    REQUIRE(e.locations.size() == 1);
    CHECK(e.locations[0].status == care::LocationStatus::kActive);
    REQUIRE(e.status_history.size() == 2);
    CHECK(e.status_history[1].status == EncounterStatus::kFinished);
  }
  SECTION("A12 returns the patient to the location before the transfer") {
    Rig rig;
    rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
    rig.commit(adt("A02", "2026-11-01T12:00+00:00", "2139", "WARD 12"));
    CHECK(!rig.commit(adt("A12", "2026-11-01T12:30+00:00", "2139", "WARD 7")).refused);
    care::Encounter e = rig.only_encounter();
    REQUIRE(e.locations.size() == 1);
    CHECK(e.locations[0].ward == "WARD 7");
    CHECK(e.locations[0].status == care::LocationStatus::kActive);
    // Nothing left to undo.
    auto again = rig.commit(adt("A12", "2026-11-01T12:40+00:00", "2139", "WARD 7"));
    REQUIRE(again.refused);
    CHECK(again.refused->field == "PV1-19");
  }
  SECTION("a cancel for a visit never stored is refused") {
    Rig rig;
    auto r = rig.commit(adt("A11", "2026-11-01T10:00+00:00", "9999", "WARD 7"));
    REQUIRE(r.refused);
    CHECK(r.refused->code == 204);
    CHECK(rig.all<care::Encounter>(EntityType::kEncounter).empty());
  }
}

TEST_CASE("impossible transitions are refused and change nothing") {
  Rig rig;
  rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  rig.commit(adt("A03", "2026-11-02T09:15+00:00", "2139", "WARD 7"));
  for (const char* event : {"A01", "A02", "A21", "A11"}) {
    auto r = rig.commit(adt(event, "2026-11-03T09:15+00:00", "2139", "WARD 9"));
    INFO(event);
    REQUIRE(r.refused);
    CHECK(r.refused->reason.find("finished") != std::string::npos);
  }
  // A08 after discharge is an update, and a repeated A03 too.
  CHECK(!rig.commit(adt("A08", "2026-11-03T09:15+00:00", "2139", "WARD 7")).refused);
  CHECK(!rig.commit(adt("A03", "2026-11-03T09:20+00:00", "2139", "WARD 7")).refused);
  care::Encounter e = rig.only_encounter();
  CHECK(e.status == EncounterStatus::kFinished);
  CHECK(e.version == 2);  // both repeat what is stored: accepted, no new version
}

TEST_CASE("leave of absence: A21 then A22") {
  Rig rig;
  rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  rig.commit(adt("A21", "2026-11-02T09:00+00:00", "2139", "WARD 7"));
  CHECK(rig.only_encounter().status == EncounterStatus::kOnLeave);
  rig.commit(adt("A22", "2026-11-02T18:00+00:00", "2139", "WARD 7"));
  care::Encounter e = rig.only_encounter();
  CHECK(e.status == EncounterStatus::kInProgress);
  REQUIRE(e.leave_of_absence.size() == 1);
  CHECK(e.leave_of_absence[0].start == "2026-11-02T09:00+00:00");
  CHECK(e.leave_of_absence[0].end == "2026-11-02T18:00+00:00");
  REQUIRE(e.status_history.size() == 2);
  CHECK(e.status_history[1].status == EncounterStatus::kOnLeave);
}

TEST_CASE("two messages about one new patient and visit in one batch make one of each") {
  Rig rig;
  std::vector<care::Record> records;
  records.push_back(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  records.push_back(adt("A02", "2026-11-01T12:00+00:00", "2139", "WARD 12"));
  auto outcomes = rig.commit(std::move(records));
  CHECK(!outcomes[0].refused);
  CHECK(!outcomes[1].refused);
  CHECK(rig.all<care::Patient>(EntityType::kPatient).size() == 1);
  care::Encounter e = rig.only_encounter();
  CHECK(e.version == 2);
  CHECK(e.locations.size() == 2);
  // Another visit of the same patient is another encounter.
  rig.commit(adt("A01", "2026-12-01T09:15+00:00", "3000", "WARD 7"));
  CHECK(rig.all<care::Encounter>(EntityType::kEncounter).size() == 2);
}

TEST_CASE("a refused message in a batch leaves the batch state as it was") {
  Rig rig;
  std::vector<care::Record> records;
  records.push_back(adt("A11", "2026-11-01T09:00+00:00", "2139", "WARD 7"));  // refused: nothing to cancel
  records.push_back(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  auto outcomes = rig.commit(std::move(records));
  CHECK(outcomes[0].refused);
  CHECK(!outcomes[1].refused);
  CHECK(rig.only_encounter().status == EncounterStatus::kInProgress);
  CHECK(rig.only_encounter().version == 1);
}

TEST_CASE("patient: what the message carries replaces, what it leaves out is kept") {
  Rig rig;
  care::Record first;
  care::Patient& p = first.ensure<care::Patient>() = patient(nhs_number(7), "633", "JONES");
  p.registered_gp = care::RegisteredGp{"E87024", "G8133438", std::nullopt, std::nullopt, std::nullopt};
  p.telecoms.push_back(care::ContactPoint{care::ContactSystem::kPhone, "020 7946 0018", std::nullopt, std::nullopt, std::nullopt});
  first.ensure<care::Provenance>() = provenance("A28", "2026-11-01T09:00+00:00");
  rig.commit(std::move(first));

  care::Record second;  // another trust's message: new MRN, new name, no PD1, no phone
  care::Patient& q = second.ensure<care::Patient>() = patient(nhs_number(7), "", "SMITH");
  q.identifiers.push_back(care::Identifier{"https://fhir.rv3.nhs.uk/Id/mrn", "X1", "MR", "RV3", std::nullopt});
  second.ensure<care::Provenance>() = provenance("A31", "2026-11-02T09:00+00:00");
  rig.commit(std::move(second));

  auto patients = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(patients.size() == 1);
  const care::Patient& s = patients[0];
  CHECK(s.version == 2);
  CHECK(s.names.at(0).family == "SMITH");
  REQUIRE(s.registered_gp);
  CHECK(s.registered_gp->practice_ods == "E87024");
  CHECK(s.telecoms.size() == 1);
  CHECK(s.identifiers.size() == 2);
}

TEST_CASE("end-of-life plan: one per patient; items in the message replace, others are kept") {
  Rig rig;
  auto eol_message = [&](const std::string& at) {
    care::Record r;
    r.ensure<care::Patient>() = patient(nhs_number(9), "", "JONES");
    r.ensure<care::Provenance>() = provenance("A08", at);
    return r;
  };
  care::Record first = eol_message("2026-11-03T14:30+00:00");
  care::EndOfLifePlan& a = first.ensure<care::EndOfLifePlan>();
  a.cpr_decision = care::CprDecision{};
  a.cpr_decision->decision = care::CprDecisionCode::kDnacpr;
  a.preferred_place_of_care = care::PlaceChoice{};
  a.preferred_place_of_care->location_type = care::DeathLocationType::k21OwnHome;
  a.wishes.push_back(care::Wish{care::WishCategory::kOtherPreference, "Cat and music", std::nullopt, std::nullopt});
  rig.commit(std::move(first));

  care::Record second = eol_message("2026-11-10T10:00+00:00");
  care::EndOfLifePlan& b = second.ensure<care::EndOfLifePlan>();
  b.preferred_place_of_care = care::PlaceChoice{};
  b.preferred_place_of_care->location_type = care::DeathLocationType::k30Hospice;
  rig.commit(std::move(second));

  auto plans = rig.all<care::EndOfLifePlan>(EntityType::kEndOfLifePlan);
  REQUIRE(plans.size() == 1);
  const care::EndOfLifePlan& plan = plans[0];
  CHECK(plan.version == 2);
  CHECK(plan.preferred_place_of_care->location_type == care::DeathLocationType::k30Hospice);
  REQUIRE(plan.cpr_decision);
  CHECK(plan.cpr_decision->decision == care::CprDecisionCode::kDnacpr);
  CHECK(plan.wishes.size() == 1);
  CHECK(plan.created_at == "2026-11-03T14:30+00:00");
  CHECK(plan.last_amended_at == "2026-11-10T10:00+00:00");
  CHECK(!plan.patient.id.empty());
}

TEST_CASE("related person: matched by name and relationship within the patient") {
  Rig rig;
  auto nk1 = [&](const std::string& phone) {
    care::Record r;
    care::Patient& p = r.ensure<care::Patient>() = patient(nhs_number(11), "", "JONES");
    care::RelatedPerson& rp = r.ensure<care::RelatedPerson>();
    rp.name = care::HumanName{};
    rp.name->family = "JONES";
    rp.name->given = {"DAVID"};
    rp.relationships.push_back(care::CodeableConcept{{care::Coding{"", "02", "Spouse"}}, ""});
    rp.telecoms.push_back(care::ContactPoint{care::ContactSystem::kPhone, phone, std::nullopt, std::nullopt, std::nullopt});
    care::PatientContact c;
    c.name = rp.name;
    p.contacts.push_back(c);
    r.ensure<care::Provenance>() = provenance("A08", "2026-11-03T14:30+00:00");
    return r;
  };
  rig.commit(nk1("07700 900456"));
  rig.commit(nk1("07700 900999"));
  auto people = rig.all<care::RelatedPerson>(EntityType::kRelatedPerson);
  REQUIRE(people.size() == 1);
  CHECK(people[0].telecoms.at(0).value == "07700 900999");
  auto patients = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(patients.size() == 1);
  CHECK(people[0].patient.id == patients[0].id);
  REQUIRE(patients[0].contacts.size() == 1);
  REQUIRE(patients[0].contacts[0].related_person);
  CHECK(patients[0].contacts[0].related_person->id == people[0].id);
}

TEST_CASE("A40: the record MRG-1 names is merged into the PID patient") {
  Rig rig;
  care::Record old_record;
  old_record.ensure<care::Patient>() = patient("", "OLD-1", "JONES");
  old_record.ensure<care::Provenance>() = provenance("A28", "2026-11-01T09:00+00:00");
  rig.commit(std::move(old_record));
  care::Record survivor_record;
  survivor_record.ensure<care::Patient>() = patient(nhs_number(21), "NEW-1", "JONES");
  survivor_record.ensure<care::Provenance>() = provenance("A28", "2026-11-01T09:05+00:00");
  rig.commit(std::move(survivor_record));

  care::Record a40;
  care::Patient& p = a40.ensure<care::Patient>() = patient(nhs_number(21), "NEW-1", "JONES");
  care::Reference mrg;
  mrg.type = EntityType::kPatient;
  mrg.identifier = care::Identifier{kMrnSystem, "OLD-1", "MR", "", std::nullopt};
  p.replaces.push_back(mrg);
  a40.ensure<care::Provenance>() = provenance("A40", "2026-11-02T09:00+00:00");
  auto out = rig.commit(std::move(a40));
  CHECK(!out.refused);
  CHECK(out.warnings.empty());

  store::Query q;
  q.identifier = std::make_pair(kMrnSystem, std::string("OLD-1"));
  auto page = rig.store->search(q);
  REQUIRE(page.ok());
  REQUIRE(page->entries.size() == 1);
  auto survivor = care::from_json<care::Patient>(page->entries[0].json);
  REQUIRE(survivor.ok());
  CHECK(survivor->nhs_number->value == nhs_number(21));
  REQUIRE(survivor->replaces.size() == 1);
  auto old = rig.store->read(EntityType::kPatient, survivor->replaces[0].id);
  REQUIRE(old.ok());
  REQUIRE(*old);
  CHECK((*old)->json.find("\"replacedBy\"") != std::string::npos);
  auto resolved = rig.store->resolve_patient(survivor->replaces[0].id);
  REQUIRE(resolved.ok());
  CHECK(*resolved == survivor->id);

  // A later message by the old identifier updates the survivor.
  care::Record later;
  later.ensure<care::Patient>() = patient("", "OLD-1", "JONES-SMITH");
  later.ensure<care::Provenance>() = provenance("A31", "2026-11-03T09:00+00:00");
  rig.commit(std::move(later));
  auto again = rig.store->read(EntityType::kPatient, survivor->id);
  REQUIRE(again.ok());
  CHECK((*again)->json.find("JONES-SMITH") != std::string::npos);

  // Merging a record that is not stored is a warning at MRG-1, not a failure.
  care::Record unknown;
  care::Patient& u = unknown.ensure<care::Patient>() = patient(nhs_number(21), "", "JONES");
  mrg.identifier->value = "NEVER-SEEN";
  u.replaces.push_back(mrg);
  unknown.ensure<care::Provenance>() = provenance("A40", "2026-11-04T09:00+00:00");
  auto warned = rig.commit(std::move(unknown));
  CHECK(!warned.refused);
  REQUIRE(warned.warnings.size() == 1);
  CHECK(warned.warnings[0].field == "MRG-1");
}

TEST_CASE("an encounter without a patient is refused; one without a visit number is not stored") {
  Rig rig;
  care::Record no_patient = adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7");
  no_patient.erase(EntityType::kPatient);
  auto r = rig.commit(std::move(no_patient));
  REQUIRE(r.refused);
  CHECK(r.refused->field == "PID-3");

  care::Record no_visit = adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7");
  no_visit.get<care::Encounter>()->identifiers.clear();
  auto w = rig.commit(std::move(no_visit));
  CHECK(!w.refused);
  REQUIRE(w.warnings.size() == 1);
  CHECK(w.warnings[0].field == "PV1-19");
  CHECK(rig.all<care::Encounter>(EntityType::kEncounter).empty());
  CHECK(rig.all<care::Patient>(EntityType::kPatient).size() == 1);
}

TEST_CASE("patient: death merges as one unit, so every merged version reads back") {
  Rig rig;
  auto death_message = [&](std::optional<bool> deceased, const std::string& at, const std::string& received) {
    care::Record r;
    care::Patient& p = r.ensure<care::Patient>() = patient(nhs_number(11), "633", "JONES");
    p.deceased = deceased;
    p.deceased_at = at;
    if (deceased == true) p.death_notification_status = care::Coding{"https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus", "2", "Formal"};
    r.ensure<care::Provenance>() = provenance("A08", received);
    return r;
  };
  // all() REQUIREs that each stored version reads back.
  auto current = [&] {
    auto patients = rig.all<care::Patient>(EntityType::kPatient);
    REQUIRE(patients.size() == 1);
    return patients.front();
  };

  rig.commit(death_message(true, "2026-11-05T03:10+00:00", "2026-11-05T04:00+00:00"));
  CHECK(current().deceased == true);
  CHECK(current().deceased_at == "2026-11-05T03:10+00:00");

  // "Deceased" again without a time keeps the stored time.
  rig.commit(death_message(true, "", "2026-11-05T05:00+00:00"));
  CHECK(current().deceased_at == "2026-11-05T03:10+00:00");

  // Not deceased (PID-30 N, no PID-29): the time and notification status go with the flag.
  rig.commit(death_message(false, "", "2026-11-05T06:00+00:00"));
  CHECK(current().deceased == false);
  CHECK(current().deceased_at.empty());
  CHECK_FALSE(current().death_notification_status);

  // A message saying nothing of death keeps that.
  rig.commit(death_message(std::nullopt, "", "2026-11-05T07:00+00:00"));
  CHECK(current().deceased == false);

  // A time of death alone replaces the stored "not deceased" with unknown (as the message left it).
  rig.commit(death_message(std::nullopt, "2026-11-06T01:00+00:00", "2026-11-06T02:00+00:00"));
  CHECK_FALSE(current().deceased.has_value());
  CHECK(current().deceased_at == "2026-11-06T01:00+00:00");
  CHECK(current().version == 3);  // the second and fourth messages changed nothing stored
}

TEST_CASE("a write that would not read back fails its message alone, before it joins the batch") {
  Rig rig;
  std::vector<care::Record> records;
  care::Record contradictory;  // not deceased, yet a time of death: the model refuses it
  care::Patient& p = contradictory.ensure<care::Patient>() = patient(nhs_number(12), "", "JONES");
  p.deceased = false;
  p.deceased_at = "2026-11-05T03:10+00:00";
  contradictory.ensure<care::Provenance>() = provenance("A28", "2026-11-05T04:00+00:00");
  records.push_back(std::move(contradictory));
  records.push_back(adt("A01", "2026-11-05T04:00+00:00", "2140", "WARD 7", nhs_number(13)));
  auto outcomes = rig.commit(std::move(records));
  REQUIRE(outcomes[0].failed);
  CHECK(outcomes[0].failed->code == 207);
  CHECK(outcomes[0].failed->reason.find("deceasedAt is set but deceased is false") != std::string::npos);
  CHECK(outcomes[0].writes.empty());
  CHECK_FALSE(outcomes[0].refused);
  CHECK_FALSE(outcomes[1].failed);
  auto patients = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(patients.size() == 1);
  CHECK(patients[0].nhs_number->value == nhs_number(13));
}

TEST_CASE("a stored entity that does not read back fails only the message that touches it") {
  Rig rig;
  care::Patient broken = patient(nhs_number(14), "", "JONES");
  broken.deceased = false;
  broken.deceased_at = "2026-11-05T03:10+00:00";
  store::Batch seed;
  store::Message sm;
  sm.journal.sender = {"OLD", "RYJ"};
  sm.journal.control_id = "SEED";
  sm.journal.payload = "seed";
  sm.journal.status = store::JournalStatus::kAccepted;
  sm.writes.push_back(store::EntityWrite::put(store::AnyEntity(broken)));
  seed.messages.push_back(std::move(sm));
  REQUIRE(rig.store->apply(seed).ok());

  RecordWriter writer(*rig.store);
  care::Record touching;
  touching.ensure<care::Patient>() = patient(nhs_number(14), "", "JONES");
  touching.ensure<care::Provenance>() = provenance("A08", "2026-11-05T04:00+00:00");
  auto out = writer.write(std::move(touching));
  REQUIRE(out.ok());  // not an error for the whole batch
  REQUIRE(out->failed);
  CHECK(out->failed->reason.find("does not read back") != std::string::npos);
  CHECK(out->writes.empty());
  auto other = writer.write(adt("A01", "2026-11-05T04:00+00:00", "2141", "WARD 7", nhs_number(15)));
  REQUIRE(other.ok());
  CHECK_FALSE(other->failed);
  CHECK_FALSE(other->refused);
  CHECK_FALSE(other->writes.empty());
}

namespace {

// The writes of `out` for entities of `type`.
std::vector<const store::EntityWrite*> writes_of(const RecordWriter::Outcome& out, EntityType type) {
  std::vector<const store::EntityWrite*> found;
  for (const store::EntityWrite& w : out.writes)
    if (w.type == type) found.push_back(&w);
  return found;
}

store::Batch batch_of(const RecordWriter::Outcome& out, const std::string& control_id) {
  store::Batch batch;
  store::Message m;
  m.journal.control_id = control_id;
  m.journal.sender = {"PAS", "RYJ"};
  m.journal.payload = "test";
  m.journal.status = store::JournalStatus::kAccepted;
  m.writes = out.writes;
  batch.messages.push_back(std::move(m));
  return batch;
}

}  // namespace

TEST_CASE("related persons: each of a patient's contacts is matched by its own name and relationship") {
  Rig rig;
  auto nk1 = [&](const std::string& family, const std::string& given, const std::string& relationship,
                 const std::string& phone) {
    care::Record r;
    r.ensure<care::Patient>() = patient(nhs_number(12), "", "JONES");
    care::RelatedPerson& rp = r.ensure<care::RelatedPerson>();
    rp.name = care::HumanName{};
    rp.name->family = family;
    rp.name->given = {given};
    rp.relationships.push_back(care::CodeableConcept{{care::Coding{"", relationship, ""}}, ""});
    rp.telecoms.push_back(care::ContactPoint{care::ContactSystem::kPhone, phone, std::nullopt, std::nullopt, std::nullopt});
    r.ensure<care::Provenance>() = provenance("A08", "2026-11-03T14:30+00:00");
    return r;
  };
  // A name that starts like another (the index finds names by prefix), the same name in
  // another relationship, and another first name: four people.
  rig.commit(nk1("JONES", "DAVID", "02", "1"));
  rig.commit(nk1("JONESWORTH", "DAVID", "02", "2"));
  rig.commit(nk1("Jones", "David", "03", "3"));
  rig.commit(nk1("JONES", "ANN", "02", "4"));
  REQUIRE(rig.all<care::RelatedPerson>(EntityType::kRelatedPerson).size() == 4);
  // Case and accents do not make another person; each update reaches only its own.
  rig.commit(nk1("jones", "dávid", "02", "5"));
  rig.commit(nk1("JONESWORTH", "DAVID", "02", "6"));
  auto people = rig.all<care::RelatedPerson>(EntityType::kRelatedPerson);
  REQUIRE(people.size() == 4);
  std::map<std::string, std::string> phones;  // family|given|relationship -> phone
  for (const care::RelatedPerson& p : people)
    phones[store::normalise_text(p.name->family) + "|" + store::normalise_text(p.name->given.front()) + "|" +
           p.relationships.front().codings.front().code] = p.telecoms.front().value;
  CHECK(phones["jones|david|02"] == "5");
  CHECK(phones["jonesworth|david|02"] == "6");
  CHECK(phones["jones|david|03"] == "3");
  CHECK(phones["jones|ann|02"] == "4");
}

TEST_CASE("one writer across batches: batches still committing are remembered, committed ones forgotten, a failed one's writes void") {
  Rig rig;
  RecordWriter writer(*rig.store);
  // Batch 1 admits a new patient; batch 2 is built before batch 1 commits and builds on it.
  writer.begin_batch(1);
  auto first = writer.write(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  REQUIRE(first.ok());
  writer.begin_batch(2);
  auto second = writer.write(adt("A02", "2026-11-01T12:00+00:00", "2139", "WARD 12"));
  REQUIRE(second.ok());
  auto encounter_writes = writes_of(*second, EntityType::kEncounter);
  REQUIRE(encounter_writes.size() == 1);
  CHECK(encounter_writes[0]->if_version == 1);
  CHECK(encounter_writes[0]->id == writes_of(*first, EntityType::kEncounter).at(0)->id);

  auto applied = rig.store->apply(batch_of(*first, "B1"));
  REQUIRE(applied.ok());
  writer.forget_through(1);
  // Batch 2's writes are still remembered: a third batch builds on them.
  writer.begin_batch(3);
  auto third = writer.write(adt("A08", "2026-11-01T13:00+00:00", "2139", ""));
  REQUIRE(third.ok());
  CHECK(writes_of(*third, EntityType::kEncounter).at(0)->if_version == 2);
  applied = rig.store->apply(batch_of(*second, "B2"));
  REQUIRE(applied.ok());
  applied = rig.store->apply(batch_of(*third, "B3"));
  REQUIRE(applied.ok());
  CHECK(applied->messages[0].status == store::JournalStatus::kAccepted);
  writer.forget_through(3);
  CHECK(rig.only_encounter().version == 3);
  CHECK(rig.only_encounter().locations.size() == 2);

  // Once forgotten, the store answers.
  writer.begin_batch(4);
  auto fourth = writer.write(adt("A03", "2026-11-02T09:00+00:00", "2139", "WARD 12"));
  REQUIRE(fourth.ok());
  CHECK(writes_of(*fourth, EntityType::kEncounter).at(0)->if_version == 3);
  // Batch 4 is never stored (its commit failed): forget_all, and the next batch builds on the
  // store again, not on the discharge that never happened.
  writer.forget_all();
  writer.begin_batch(5);
  // (A ward correction, so that the A08 changes the stored encounter and is written.)
  auto fifth = writer.write(adt("A08", "2026-11-02T10:00+00:00", "2139", "WARD 14"));
  REQUIRE(fifth.ok());
  auto e5 = writes_of(*fifth, EntityType::kEncounter);
  REQUIRE(e5.size() == 1);
  CHECK(e5[0]->if_version == 3);
  CHECK(std::get<care::Encounter>(*e5[0]->entity).status == EncounterStatus::kInProgress);
  CHECK(rig.all<care::Patient>(EntityType::kPatient).size() == 1);
}

TEST_CASE("a message that changes nothing stored writes no new version; one that changes something does") {
  Rig rig;
  rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  // The same admission again (another control id): patient, visit and their index rows stay.
  RecordWriter::Outcome same = rig.commit(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  CHECK(!same.refused);
  CHECK(!same.failed);
  CHECK(writes_of(same, EntityType::kPatient).empty());
  CHECK(writes_of(same, EntityType::kEncounter).empty());
  // On record in the journal only: a Provenance would cite nothing.
  CHECK(writes_of(same, EntityType::kProvenance).empty());
  auto patients = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(patients.size() == 1);
  CHECK(patients[0].version == 1);
  CHECK(rig.only_encounter().version == 1);
  auto history = rig.store->history(EntityType::kPatient, patients[0].id, store::HistoryQuery{});
  REQUIRE(history.ok());
  CHECK(history->entries.size() == 1);

  // A changed name is a new version of the patient only; the visit is unchanged.
  care::Record renamed = adt("A08", "2026-11-01T10:00+00:00", "2139", "WARD 7");
  renamed.get<care::Patient>()->names.at(0).given = {"Maggie"};
  RecordWriter::Outcome changed = rig.commit(std::move(renamed));
  auto patient_writes = writes_of(changed, EntityType::kPatient);
  REQUIRE(patient_writes.size() == 1);
  CHECK(patient_writes[0]->if_version == 1);
  CHECK(writes_of(changed, EntityType::kEncounter).empty());
  patients = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(patients.size() == 1);
  CHECK(patients[0].version == 2);
  CHECK(patients[0].names.at(0).given.at(0) == "Maggie");
  CHECK(rig.only_encounter().version == 1);
  // The unchanged visit still answers searches by its terms (no index row was touched).
  store::Query q;
  q.type = EntityType::kEncounter;
  q.identifier = std::make_pair(kVisitSystem, std::string("2139"));
  q.patient = patients[0].id;
  auto found = rig.store->search(q);
  REQUIRE(found.ok());
  CHECK(found->entries.size() == 1);
}

TEST_CASE("an unchanged merge on a version still committing is written, tied to that version") {
  Rig rig;
  RecordWriter writer(*rig.store);
  writer.begin_batch(1);
  auto first = writer.write(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  REQUIRE(first.ok());
  // Batch 2 repeats batch 1's content before batch 1 has committed: it is written as version 2
  // with if_version 1, so that it fails should batch 1's write fail, instead of being ACKed with
  // nothing of it stored.
  writer.begin_batch(2);
  auto second = writer.write(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  REQUIRE(second.ok());
  auto patient_writes = writes_of(*second, EntityType::kPatient);
  REQUIRE(patient_writes.size() == 1);
  CHECK(patient_writes[0]->if_version == 1);
  REQUIRE(writes_of(*second, EntityType::kEncounter).size() == 1);
  CHECK(writes_of(*second, EntityType::kEncounter)[0]->if_version == 1);

  // Once batch 1 is committed and forgotten, the same content again writes nothing.
  REQUIRE(rig.store->apply(batch_of(*first, "B1")).ok());
  REQUIRE(rig.store->apply(batch_of(*second, "B2")).ok());
  writer.forget_through(2);
  writer.begin_batch(3);
  auto third = writer.write(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  REQUIRE(third.ok());
  CHECK(writes_of(*third, EntityType::kPatient).empty());
  CHECK(writes_of(*third, EntityType::kEncounter).empty());
}

TEST_CASE("one writer across batches merges with the stored version, even one another writer stored meanwhile") {
  // The writer keeps the parse of each stored version it reads; a version written by someone
  // else (the FHIR API, another gateway) must be read and merged with, not the kept parse.
  Rig rig;
  RecordWriter writer(*rig.store);
  writer.begin_batch(1);
  auto first = writer.write(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));
  REQUIRE(first.ok());
  REQUIRE(rig.store->apply(batch_of(*first, "B1")).ok());
  writer.forget_through(1);
  writer.begin_batch(2);
  auto repeat = writer.write(adt("A01", "2026-11-01T09:15+00:00", "2139", "WARD 7"));  // reads version 1
  REQUIRE(repeat.ok());
  CHECK(writes_of(*repeat, EntityType::kPatient).empty());

  auto stored = rig.all<care::Patient>(EntityType::kPatient);
  REQUIRE(stored.size() == 1);
  REQUIRE(stored[0].version == 1);
  care::Patient elsewhere = stored[0];
  elsewhere.telecoms.push_back(care::ContactPoint{care::ContactSystem::kPhone, "020 7946 0999", std::nullopt, std::nullopt, std::nullopt});
  store::Batch other = batch_of(RecordWriter::Outcome{}, "ELSEWHERE");
  other.messages[0].writes.push_back(store::EntityWrite::put(store::AnyEntity(elsewhere), 1));
  REQUIRE(rig.store->apply(other).ok());

  writer.begin_batch(3);
  care::Record renamed = adt("A08", "2026-11-01T10:00+00:00", "2139", "WARD 7");
  renamed.get<care::Patient>()->names.at(0).given = {"Maggie"};
  auto third = writer.write(std::move(renamed));
  REQUIRE(third.ok());
  auto patient_writes = writes_of(*third, EntityType::kPatient);
  REQUIRE(patient_writes.size() == 1);
  CHECK(patient_writes[0]->if_version == 2);
  const auto& merged = std::get<care::Patient>(*patient_writes[0]->entity);
  REQUIRE(merged.telecoms.size() == 1);
  CHECK(merged.telecoms[0].value == "020 7946 0999");
  CHECK(merged.names.at(0).given.at(0) == "Maggie");
  REQUIRE(rig.store->apply(batch_of(*third, "B3")).ok());

  // And the same message once more, with version 3 stored: nothing to write.
  writer.forget_through(3);
  writer.begin_batch(4);
  care::Record again = adt("A08", "2026-11-01T10:00+00:00", "2139", "WARD 7");
  again.get<care::Patient>()->names.at(0).given = {"Maggie"};
  auto fourth = writer.write(std::move(again));
  REQUIRE(fourth.ok());
  CHECK(writes_of(*fourth, EntityType::kPatient).empty());
}
