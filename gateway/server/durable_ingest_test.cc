// DurableIngest against a real SQLite file and the repository's inbound (hl7v2→care) profiles:
// ACK codes, what the journal keeps, patient matching across messages, duplicates, group
// commit, and every entity of the record (encounter state machine, end-of-life items, A40).
#include "server/durable_ingest.h"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <mutex>

#include "care/json.h"
#include "hl7v2/message.h"
#include "hl7v2/path.h"
#include "store/fault.h"
#include "store/options.h"
#include "store/store.h"
#include "server/test_files.h"

namespace fs = std::filesystem;
using namespace midhurst;

namespace {

using server::testing::slurp;
using server::testing::TempDir;

// The repository's hl7v2→care profiles (with their concept maps and site overlays) copied to
// `to`: what the ingest translates with, without the other directions' profiles.
void copy_inbound_profiles(const fs::path& to) {
  fs::create_directories(to);
  for (const char* sub : {"hl7v2-care", "concepts", "sites"})
    if (fs::exists(fs::path(MIDHURST_MAPPINGS_DIR) / sub))
      fs::copy(fs::path(MIDHURST_MAPPINGS_DIR) / sub, to / sub, fs::copy_options::recursive);
}

// A store, the repository's inbound profiles and a DurableIngest over them.
struct Rig {
  TempDir dir;
  std::unique_ptr<store::Store> store;
  mapping::ProfileStore profiles;
  std::unique_ptr<server::DurableIngest> ingest;

  TempDir maps;

  explicit Rig(store::FaultInjection* faults = nullptr, std::string mappings = "") {
    if (mappings.empty()) {
      copy_inbound_profiles(maps.path);
      mappings = maps.path.string();
    }
    store::StoreOptions options;
    options.faults = faults;
    auto s = store::open_store("sqlite:" + (dir.path / "midhurst.db").string(), options);
    REQUIRE(s.ok());
    store = std::move(*s);
    auto loaded = profiles.reload(mappings);
    if (!loaded.ok())
      for (const auto& e : loaded.error()) UNSCOPED_INFO(e.to_string());
    REQUIRE(loaded.ok());
    ingest = std::make_unique<server::DurableIngest>(*store, profiles);
  }

  // Submits and waits for the ACK.
  hl7v2::Message send(const std::string& message) {
    std::promise<std::string> ack;
    ingest->submit(message, server::IngestSource{"test", "local", "", 1, 1},
                   [&](std::string a) { ack.set_value(std::move(a)); });
    std::string bytes = ack.get_future().get();
    auto parsed = hl7v2::Message::parse(bytes);
    REQUIRE(parsed.ok());
    return std::move(*parsed);
  }

  std::vector<store::JournalRecord> journal() {
    auto j = store->list_journal(0, 1000);
    REQUIRE(j.ok());
    return *j;
  }

  std::optional<store::EntityVersion> patient_by_nhs_number(const std::string& nhs) {
    store::Query q;
    q.type = care::EntityType::kPatient;
    q.identifier = std::make_pair(std::string("https://fhir.nhs.uk/Id/nhs-number"), nhs);
    auto page = store->search(q);
    REQUIRE(page.ok());
    if (page->entries.empty()) return std::nullopt;
    REQUIRE(page->entries.size() == 1);
    return page->entries.front();
  }
};

const fs::path kExamples = fs::path(MIDHURST_SOURCE_DIR) / "examples";

std::string with_control_id(std::string message, const std::string& id) {
  auto m = hl7v2::Message::parse(message);
  REQUIRE(m.ok());
  REQUIRE(m->set("MSH-10", id).ok());
  return m->encode();
}

}  // namespace

TEST_CASE("an accepted ADT is journaled, mapped and stored before its AA") {
  Rig rig;
  hl7v2::Message ack = rig.send(slurp(kExamples / "adt_a01_admit.hl7"));
  CHECK(ack.text("MSA-1") == "AA");
  CHECK(ack.text("MSA-2") == "RYJ0000000001");
  // By the time the ACK exists, the commit is done (I1): the journal and the patient are there.
  auto journal = rig.journal();
  REQUIRE(journal.size() == 1);
  CHECK(journal[0].entry.status == store::JournalStatus::kAccepted);
  CHECK(journal[0].entry.control_id == "RYJ0000000001");
  CHECK(journal[0].entry.sender.application == "PAS");
  CHECK(journal[0].entry.sender.facility == "RYJ");
  CHECK(journal[0].entry.unmapped_json.find("\"unread\"") != std::string::npos);
  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == 1);
  CHECK(patient->json.find("JONES") != std::string::npos);
  CHECK(!patient->provenance_id.empty());
}

TEST_CASE("a resent message is ACKed again and changes nothing") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  CHECK(rig.send(a01).text("MSA-1") == "AA");
  CHECK(rig.send(a01).text("MSA-1") == "AA");
  auto journal = rig.journal();
  REQUIRE(journal.size() == 2);
  CHECK(journal[1].entry.status == store::JournalStatus::kDuplicate);
  CHECK(journal[1].duplicate_of == journal[0].seq);
  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == 1);
}

TEST_CASE("a later message about the same NHS number becomes a new version of that patient") {
  Rig rig;
  CHECK(rig.send(slurp(kExamples / "adt_a01_admit.hl7")).text("MSA-1") == "AA");
  auto first = rig.patient_by_nhs_number("9449305552");
  REQUIRE(first);
  // The A08 also brings a new telephone number (a message that changes nothing of the patient
  // makes no new version: record_writer.h).
  auto a08 = hl7v2::Message::parse(slurp(kExamples / "adt_a08_eol_preferences.hl7"));
  REQUIRE(a08.ok());
  REQUIRE(a08->set("PID-13", "020 7946 0999").ok());
  CHECK(rig.send(a08->encode()).text("MSA-1") == "AA");
  auto second = rig.patient_by_nhs_number("9449305552");
  REQUIRE(second);
  CHECK(second->id == first->id);
  CHECK(second->version == 2);
}

TEST_CASE("an invalid NHS number gets AE naming PID-3 and is journaled as rejected") {
  Rig rig;
  const fs::path bad = fs::path(MIDHURST_MAPPINGS_DIR) / "hl7v2-care" / "fixtures" / "a31-invalid-nhs-number.hl7";
  hl7v2::Message ack = rig.send(slurp(bad));
  CHECK(ack.text("MSA-1") == "AE");
  REQUIRE(ack.find("ERR"));
  CHECK(ack.find("ERR")->raw().find("PID") != std::string_view::npos);
  auto journal = rig.journal();
  REQUIRE(journal.size() == 1);
  CHECK(journal[0].entry.status == store::JournalStatus::kRejected);
  CHECK(journal[0].entry.reason.find("PID-3") != std::string::npos);
  CHECK(rig.store->count(store::Query{}).value() == 0);
}

TEST_CASE("bytes that are not HL7 get AR and are kept in the journal as rejected") {
  Rig rig;
  hl7v2::Message ack = rig.send("this is not an HL7 message\r");
  CHECK(ack.text("MSA-1") == "AR");
  auto journal = rig.journal();
  REQUIRE(journal.size() == 1);
  CHECK(journal[0].entry.status == store::JournalStatus::kRejected);
  CHECK(journal[0].entry.payload == "this is not an HL7 message\r");
}

TEST_CASE("messages submitted together share transactions and are applied in order") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  constexpr int kMessages = 40;
  std::vector<std::promise<std::string>> acks(kMessages);
  // Each message changes the patient's given name, so each is a new version.
  auto numbered = [&](int i) {
    auto m = hl7v2::Message::parse(with_control_id(a01, "BATCH" + std::to_string(i)));
    REQUIRE(m.ok());
    REQUIRE(m->set("PID-5.2", "GIVEN" + std::to_string(i)).ok());
    return m->encode();
  };
  for (int i = 0; i < kMessages; ++i)
    rig.ingest->submit(numbered(i),
                       server::IngestSource{"test", "local", "", 1, static_cast<uint64_t>(i + 1)},
                       [&acks, i](std::string a) { acks[i].set_value(std::move(a)); });
  for (int i = 0; i < kMessages; ++i) {
    auto ack = hl7v2::Message::parse(acks[i].get_future().get());
    REQUIRE(ack.ok());
    CHECK(ack->text("MSA-1") == "AA");
    CHECK(ack->text("MSA-2") == "BATCH" + std::to_string(i));
  }
  auto journal = rig.journal();
  REQUIRE(journal.size() == kMessages);
  for (int i = 0; i < kMessages; ++i) CHECK(journal[i].entry.control_id == "BATCH" + std::to_string(i));
  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == kMessages);  // one patient, one version per message, in order
  CHECK(patient->json.find("GIVEN" + std::to_string(kMessages - 1)) != std::string::npos);
}

TEST_CASE("a new message that repeats what is stored is journaled and ACKed but makes no new version") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  CHECK(rig.send(with_control_id(a01, "FIRST")).text("MSA-1") == "AA");
  CHECK(rig.send(with_control_id(a01, "AGAIN")).text("MSA-1") == "AA");
  auto journal = rig.journal();
  REQUIRE(journal.size() == 2);
  CHECK(journal[1].entry.status == store::JournalStatus::kAccepted);
  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == 1);
  CHECK(patient->journal_seq == journal[0].seq);
  // A change to it is a new version again.
  auto changed = hl7v2::Message::parse(with_control_id(a01, "CHANGED"));
  REQUIRE(changed.ok());
  REQUIRE(changed->set("PID-13", "020 7946 0999").ok());
  CHECK(rig.send(changed->encode()).text("MSA-1") == "AA");
  patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == 2);
  CHECK(patient->json.find("020 7946 0999") != std::string::npos);
}

TEST_CASE("after stop, messages are refused with AR instead of being lost silently") {
  Rig rig;
  rig.ingest->stop();
  hl7v2::Message ack = rig.send(slurp(kExamples / "adt_a01_admit.hl7"));
  CHECK(ack.text("MSA-1") == "AR");
  CHECK(rig.journal().empty());
}

namespace {
// Fails every commit, as a full disk or an I/O error would.
struct FailingCommits : store::FaultInjection {
  bool should_fail(std::string_view point) override { return point == "commit"; }
};
}  // namespace

TEST_CASE("when the store cannot commit, the sender is asked to resend and nothing is ACKed as stored") {
  FailingCommits faults;
  Rig rig(&faults);
  hl7v2::Message ack = rig.send(slurp(kExamples / "adt_a01_admit.hl7"));
  CHECK(ack.text("MSA-1") == "AR");
  CHECK(ack.text("MSA-2") == "RYJ0000000001");
  REQUIRE(ack.find("ERR"));
  CHECK(ack.text("ERR-3.1") == "207");
  CHECK(ack.text("MSA-3").find("resend") != std::string::npos);
  CHECK(rig.journal().empty());
  CHECK_FALSE(rig.patient_by_nhs_number("9449305552"));
}

// --- Every entity of the record (record_writer.h), with real messages through the profiles ----

namespace {

// The example A01 turned into another event of the same visit: MSH-9.2, EVN-1, MSH-10 and the
// event time, and PV1-3 when `location` is given (encoded, e.g. "RYJ01^WARD 12^BED 1^RYJ01").
std::string event_of(const std::string& base, const std::string& event, const std::string& control_id,
                     const std::string& at, const std::string& location = "") {
  auto m = hl7v2::Message::parse(base);
  REQUIRE(m.ok());
  REQUIRE(m->set("MSH-9.2", event).ok());
  REQUIRE(m->set("MSH-10", control_id).ok());
  REQUIRE(m->set("EVN-1", event).ok());
  REQUIRE(m->set("EVN-2", at).ok());
  if (!location.empty()) REQUIRE(m->set_encoded(*hl7v2::Path::parse("PV1-3"), location).ok());
  return m->encode();
}

// The message without the segments for which `drop` holds.
std::string without_segments(const std::string& message, const std::function<bool(const std::string&)>& drop) {
  std::string out, segment;
  for (char c : message) {
    if (c == '\r' || c == '\n') {
      if (!segment.empty() && !drop(segment)) out += segment + '\r';
      segment.clear();
    } else {
      segment += c;
    }
  }
  if (!segment.empty() && !drop(segment)) out += segment + '\r';
  return out;
}

template <class T>
std::vector<T> stored(store::Store& s, care::EntityType type) {
  store::Query q;
  q.type = type;
  q.count = 1000;
  auto page = s.search(q);
  REQUIRE(page.ok());
  std::vector<T> out;
  for (const store::EntityVersion& v : page->entries) {
    auto e = care::from_json<T>(v.json);
    REQUIRE(e.ok());
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace

TEST_CASE("A01, A02 and A03 on one visit make one encounter with its history") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  CHECK(rig.send(a01).text("MSA-1") == "AA");
  CHECK(rig.send(event_of(a01, "A02", "RYJ-A02", "20261103110000", "RYJ01^WARD 12^BED 1^RYJ01")).text("MSA-1") == "AA");
  CHECK(rig.send(slurp(kExamples / "adt_a03_discharge.hl7")).text("MSA-1") == "AA");

  auto encounters = stored<care::Encounter>(*rig.store, care::EntityType::kEncounter);
  REQUIRE(encounters.size() == 1);
  const care::Encounter& e = encounters[0];
  CHECK(e.version == 3);
  CHECK(e.status == care::EncounterStatus::kFinished);
  REQUIRE(!e.status_history.empty());
  CHECK(e.status_history.back().status == care::EncounterStatus::kInProgress);
  REQUIRE(e.locations.size() >= 2);
  CHECK(e.locations.back().ward == "WARD 12");
  CHECK(e.locations.front().status == care::LocationStatus::kCompleted);
  REQUIRE(e.period);
  CHECK(!e.period->end.empty());
  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(e.patient.id == patient->id);
  CHECK(stored<care::Patient>(*rig.store, care::EntityType::kPatient).size() == 1);
}

TEST_CASE("A11 cancels the admission, and a discharge after it is refused with ERR at PV1-19") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  CHECK(rig.send(a01).text("MSA-1") == "AA");
  CHECK(rig.send(event_of(a01, "A11", "RYJ-A11", "20261101100000")).text("MSA-1") == "AA");
  auto encounters = stored<care::Encounter>(*rig.store, care::EntityType::kEncounter);
  REQUIRE(encounters.size() == 1);
  CHECK(encounters[0].status == care::EncounterStatus::kCancelled);

  hl7v2::Message ack = rig.send(slurp(kExamples / "adt_a03_discharge.hl7"));
  CHECK(ack.text("MSA-1") == "AE");
  REQUIRE(ack.find("ERR"));
  CHECK(ack.text("ERR-2.1") == "PV1");
  CHECK(ack.text("ERR-2.3") == "19");
  auto journal = rig.journal();
  REQUIRE(journal.size() == 3);
  CHECK(journal[2].entry.status == store::JournalStatus::kRejected);
  CHECK(journal[2].entry.reason.find("cancelled") != std::string::npos);
  // Nothing of the refused message was stored.
  encounters = stored<care::Encounter>(*rig.store, care::EntityType::kEncounter);
  CHECK(encounters[0].version == 2);
  CHECK(encounters[0].status == care::EncounterStatus::kCancelled);
}

TEST_CASE("an A08 changing one end-of-life item keeps the others") {
  Rig rig;
  const std::string a08 = slurp(kExamples / "adt_a08_eol_preferences.hl7");
  CHECK(rig.send(a08).text("MSA-1") == "AA");
  auto plans = stored<care::EndOfLifePlan>(*rig.store, care::EntityType::kEndOfLifePlan);
  REQUIRE(plans.size() == 1);
  REQUIRE(plans[0].cpr_decision);
  REQUIRE(plans[0].preferred_place_of_care);
  const auto cpr = plans[0].cpr_decision;

  // The second A08 carries only the preferred place of care, now a hospice.
  std::string second = without_segments(a08, [](const std::string& s) {
    return s.rfind("OBX", 0) == 0 && s.find("|PPC^") == std::string::npos;
  });
  const size_t home = second.find("21^Patient's own home^NHSDD-DLT");
  REQUIRE(home != std::string::npos);
  second.replace(home, std::string("21^Patient's own home").size(), "30^Hospice");
  CHECK(rig.send(with_control_id(second, "RYJ-A08-2")).text("MSA-1") == "AA");

  plans = stored<care::EndOfLifePlan>(*rig.store, care::EntityType::kEndOfLifePlan);
  REQUIRE(plans.size() == 1);
  CHECK(plans[0].version == 2);
  REQUIRE(plans[0].preferred_place_of_care);
  CHECK(plans[0].preferred_place_of_care->location_type == care::DeathLocationType::k30Hospice);
  CHECK(plans[0].cpr_decision == cpr);
  CHECK(!plans[0].preferred_place_of_death.empty());
  CHECK(!plans[0].wishes.empty());
}

TEST_CASE("messages about one new patient and visit submitted together make one of each") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  constexpr int kMessages = 30;
  std::vector<std::promise<std::string>> acks(kMessages);
  for (int i = 0; i < kMessages; ++i) {
    const std::string message =
        i == 0 ? a01
               : event_of(a01, "A02", "MOVE" + std::to_string(i), "202611011" + std::to_string(10000 + i),
                          i % 2 ? "RYJ01^WARD 12^BED 1^RYJ01" : "RYJ01^WARD 7^BED 4^RYJ01");
    rig.ingest->submit(message, server::IngestSource{"test", "local", "", 1, static_cast<uint64_t>(i + 1)},
                       [&acks, i](std::string a) { acks[i].set_value(std::move(a)); });
  }
  for (int i = 0; i < kMessages; ++i) {
    auto ack = hl7v2::Message::parse(acks[i].get_future().get());
    REQUIRE(ack.ok());
    CHECK(ack->text("MSA-1") == "AA");
  }
  CHECK(stored<care::Patient>(*rig.store, care::EntityType::kPatient).size() == 1);
  auto encounters = stored<care::Encounter>(*rig.store, care::EntityType::kEncounter);
  REQUIRE(encounters.size() == 1);
  CHECK(encounters[0].version == kMessages);
  CHECK(encounters[0].locations.size() == kMessages);  // every transfer moved the patient
}

TEST_CASE("A40 merges the MRG-1 record into the PID patient; its old identifier then finds the survivor") {
  // The repository's profiles plus an overlay mapping MRG-1 to patient.replaces[] (testdata/).
  TempDir maps;
  copy_inbound_profiles(maps.path);
  fs::create_directories(maps.path / "test");
  fs::copy_file(fs::path(MIDHURST_SOURCE_DIR) / "gateway/server/testdata/a40-merge-overlay.json",
                maps.path / "test" / "a40-merge-overlay.json");
  Rig rig(nullptr, maps.path.string());

  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  // The record that will be merged away: only a local identifier, 999 at RYJ.
  std::string old = event_of(a01, "A28", "OLD-A28", "20261001090000");
  const std::string ids = "9449305552^^^NHS^NH~633^^^RYJ^MR";
  REQUIRE(old.find(ids) != std::string::npos);
  old.replace(old.find(ids), ids.size(), "999^^^RYJ^MR");
  CHECK(rig.send(old).text("MSA-1") == "AA");
  CHECK(rig.send(a01).text("MSA-1") == "AA");  // the survivor: NHS number and MRN 633
  CHECK(stored<care::Patient>(*rig.store, care::EntityType::kPatient).size() == 2);

  std::string a40 = without_segments(event_of(a01, "A40", "MERGE-1", "20261102090000"), [](const std::string& s) {
    return s.rfind("PV1", 0) == 0 || s.rfind("NK1", 0) == 0;
  });
  a40 += "MRG|999^^^RYJ^MR\r";
  hl7v2::Message ack = rig.send(a40);
  CHECK(ack.text("MSA-1") == "AA");

  store::Query q;
  q.identifier = std::make_pair(std::string("https://fhir.ryj.nhs.uk/Id/mrn"), std::string("999"));
  auto page = rig.store->search(q);
  REQUIRE(page.ok());
  REQUIRE(page->entries.size() == 1);
  auto survivor = care::from_json<care::Patient>(page->entries[0].json);
  REQUIRE(survivor.ok());
  REQUIRE(survivor->nhs_number);
  CHECK(survivor->nhs_number->value == "9449305552");
  REQUIRE(survivor->replaces.size() == 1);
  auto merged = rig.store->read(care::EntityType::kPatient, survivor->replaces[0].id);
  REQUIRE(merged.ok());
  REQUIRE(*merged);
  auto merged_patient = care::from_json<care::Patient>((*merged)->json);
  REQUIRE(merged_patient.ok());
  REQUIRE(merged_patient->replaced_by);
  CHECK(merged_patient->replaced_by->id == survivor->id);
}

// --- Duplicates and changes that would not read back, inside one group commit ----------------

namespace {

// Holds the writer inside the commit of its next batch until released, so that everything
// submitted meanwhile is taken together as the batch after it (I4).
struct CommitGate : store::FaultInjection {
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, holding = false, released = false;

  bool should_fail(std::string_view point) override {
    if (point != "commit") return false;
    std::unique_lock<std::mutex> lock(mu);
    if (!armed) return false;
    armed = false;
    holding = true;
    cv.notify_all();
    cv.wait(lock, [this] { return released; });
    holding = false;
    return false;
  }
};

// Submits `first` and holds its batch at commit, submits `rest` (which the writer then takes as
// one batch), releases, and returns the ACKs of `rest` in order.
std::vector<hl7v2::Message> send_as_one_batch(Rig& rig, CommitGate& gate, const std::string& first,
                                              const std::vector<std::string>& rest) {
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.armed = true;
    gate.released = false;
  }
  std::vector<std::promise<std::string>> acks(rest.size() + 1);
  auto submit = [&](const std::string& m, size_t i) {
    rig.ingest->submit(m, server::IngestSource{"test", "local", "", 1, i + 1},
                       [&acks, i](std::string a) { acks[i].set_value(std::move(a)); });
  };
  submit(first, 0);
  {
    std::unique_lock<std::mutex> lock(gate.mu);
    gate.cv.wait(lock, [&] { return gate.holding; });
  }
  for (size_t i = 0; i < rest.size(); ++i) submit(rest[i], i + 1);
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.released = true;
  }
  gate.cv.notify_all();
  std::vector<hl7v2::Message> out;
  for (size_t i = 0; i < acks.size(); ++i) {
    auto ack = hl7v2::Message::parse(acks[i].get_future().get());
    REQUIRE(ack.ok());
    if (i > 0) out.push_back(std::move(*ack));
  }
  return out;
}

// The example A01 about another patient (NHS number and RYJ MRN replaced).
std::string for_patient(std::string message, const std::string& nhs, const std::string& mrn) {
  const std::string ids = "9449305552^^^NHS^NH~633^^^RYJ^MR";
  const size_t at = message.find(ids);
  REQUIRE(at != std::string::npos);
  message.replace(at, ids.size(), nhs + "^^^NHS^NH~" + mrn + "^^^RYJ^MR");
  return message;
}

std::string with_fields(const std::string& message, const std::vector<std::pair<std::string, std::string>>& fields) {
  auto m = hl7v2::Message::parse(message);
  REQUIRE(m.ok());
  for (const auto& [path, value] : fields) REQUIRE(m->set(path, value).ok());
  return m->encode();
}

// The journal rows with MSH-10 `control_id`, in commit order.
std::vector<store::JournalRecord> rows_of(Rig& rig, const std::string& control_id) {
  std::vector<store::JournalRecord> out;
  for (store::JournalRecord& r : rig.journal())
    if (r.entry.control_id == control_id) out.push_back(std::move(r));
  return out;
}

}  // namespace

TEST_CASE("resends in one group commit with updates to their patient: the resends change nothing, the updates apply") {
  CommitGate gate;
  Rig rig(&gate);
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  CHECK(rig.send(a01).text("MSA-1") == "AA");  // Patient version 1

  // Each update changes the patient's given name, so each applied one is a new version.
  const std::string update1 = with_fields(event_of(a01, "A08", "UPD-1", "20261101100000"), {{"PID-5.2", "UPDATE1"}});
  const std::string update2 = with_fields(event_of(a01, "A08", "UPD-2", "20261101110000"), {{"PID-5.2", "UPDATE2"}});
  // Batch 1: an update held at commit (version 2). Batch 2: a resend of the stored A01, an update,
  // a resend of that update (earlier in the same batch) and another update.
  auto acks = send_as_one_batch(rig, gate, with_fields(event_of(a01, "A08", "FILL-1", "20261101093000"), {{"PID-5.2", "FILL"}}),
                                {a01, update1, update1, update2});
  REQUIRE(acks.size() == 4);
  for (const hl7v2::Message& ack : acks) {
    INFO(ack.text("MSA-2") << ": " << ack.text("MSA-3"));
    CHECK(ack.text("MSA-1") == "AA");
  }
  auto resent = rows_of(rig, "RYJ0000000001");
  REQUIRE(resent.size() == 2);
  CHECK(resent[1].entry.status == store::JournalStatus::kDuplicate);
  auto u1 = rows_of(rig, "UPD-1");
  REQUIRE(u1.size() == 2);
  CHECK(u1[0].entry.status == store::JournalStatus::kAccepted);
  CHECK(u1[1].entry.status == store::JournalStatus::kDuplicate);
  CHECK(u1[1].duplicate_of == u1[0].seq);
  auto u2 = rows_of(rig, "UPD-2");
  REQUIRE(u2.size() == 1);
  CHECK(u2[0].entry.status == store::JournalStatus::kAccepted);
  CHECK(u2[0].entry.reason == "");

  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == 4);  // A01, FILL-1, UPD-1, UPD-2: none for the resends
}

TEST_CASE("PID-30 N after a death with its time: the patient still reads back and later messages are accepted") {
  Rig rig;
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  CHECK(rig.send(a01).text("MSA-1") == "AA");
  CHECK(rig.send(with_fields(event_of(a01, "A08", "DEATH-1", "20261105040000"),
                             {{"PID-29", "20261105031000"}, {"PID-30", "Y"}}))
            .text("MSA-1") == "AA");
  auto dead = rig.patient_by_nhs_number("9449305552");
  REQUIRE(dead);
  auto dead_patient = care::from_json<care::Patient>(dead->json);
  REQUIRE(dead_patient.ok());
  CHECK(dead_patient->deceased == true);
  CHECK(!dead_patient->deceased_at.empty());

  // A correction: not deceased, and no PID-29. The stored time must go with the flag.
  CHECK(rig.send(with_fields(event_of(a01, "A08", "ALIVE-1", "20261105050000"), {{"PID-30", "N"}})).text("MSA-1") == "AA");
  auto alive = rig.patient_by_nhs_number("9449305552");
  REQUIRE(alive);
  auto alive_patient = care::from_json<care::Patient>(alive->json);
  INFO(alive->json);
  REQUIRE(alive_patient.ok());
  CHECK(alive_patient->deceased == false);
  CHECK(alive_patient->deceased_at.empty());

  // (With a new telephone number, so that it is a new version.)
  hl7v2::Message later = rig.send(with_fields(event_of(a01, "A08", "AFTER-1", "20261105060000"), {{"PID-13", "020 7946 0999"}}));
  INFO(later.text("MSA-3"));
  CHECK(later.text("MSA-1") == "AA");
  auto after = rig.patient_by_nhs_number("9449305552");
  REQUIRE(after);
  CHECK(after->version == 4);
  CHECK(care::from_json<care::Patient>(after->json).ok());
}

TEST_CASE("a message whose change would not read back fails alone: AE, journaled failed, the rest of its batch stored") {
  CommitGate gate;
  Rig rig(&gate);
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  // Not deceased, yet a time of death: the model refuses such a Patient.
  const std::string contradictory = with_fields(for_patient(with_control_id(a01, "BAD-1"), "9434765919", "701"),
                                                {{"PID-29", "20261105031000"}, {"PID-30", "N"}});
  // (The update changes the telephone number: an update that changes nothing makes no version.)
  auto acks = send_as_one_batch(
      rig, gate, a01,
      {contradictory, with_fields(event_of(a01, "A08", "UPD-1", "20261101100000"), {{"PID-13", "020 7946 0999"}})});
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].text("MSA-1") == "AE");
  REQUIRE(acks[0].find("ERR"));
  CHECK(acks[0].text("ERR-3.1") == "207");
  CHECK(acks[1].text("MSA-1") == "AA");

  auto bad = rows_of(rig, "BAD-1");
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].entry.status == store::JournalStatus::kFailed);
  CHECK(bad[0].entry.reason.find("deceasedAt is set but deceased is false") != std::string::npos);
  CHECK_FALSE(rig.patient_by_nhs_number("9434765919"));
  auto good = rig.patient_by_nhs_number("9449305552");
  REQUIRE(good);
  CHECK(good->version == 2);
}

TEST_CASE("a stored patient that does not read back fails only the messages that touch it") {
  CommitGate gate;
  Rig rig(&gate);
  // A version the model refuses, written past the gateway's checks (as an older build could have).
  care::Patient broken;
  broken.nhs_number = care::NhsNumber{"9449305552", std::nullopt};
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

  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  const std::string other = for_patient(a01, "9434765919", "701");
  auto acks = send_as_one_batch(rig, gate, with_control_id(other, "OTHER-1"),
                                {a01, with_fields(event_of(other, "A08", "OTHER-2", "20261101100000"),
                                                  {{"PID-13", "020 7946 0999"}})});
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].text("MSA-1") == "AE");
  CHECK(acks[0].text("MSA-3").find("does not read back") != std::string::npos);
  CHECK(acks[1].text("MSA-1") == "AA");
  auto touching = rows_of(rig, "RYJ0000000001");
  REQUIRE(touching.size() == 1);
  CHECK(touching[0].entry.status == store::JournalStatus::kFailed);
  auto other_patient = rig.patient_by_nhs_number("9434765919");
  REQUIRE(other_patient);
  CHECK(other_patient->version == 2);
}

namespace {
// Fails the first commit only, as a transient I/O error would.
struct FailFirstCommit : store::FaultInjection {
  int commits = 0;  // called under the store's write lock
  bool should_fail(std::string_view point) override { return point == "commit" && commits++ == 0; }
};
}  // namespace

TEST_CASE("a batch that cannot be stored voids the batches built on it; every AA is stored, every AR is not") {
  FailFirstCommit faults;
  Rig rig(&faults);
  const std::string a01 = slurp(kExamples / "adt_a01_admit.hl7");
  constexpr int kMessages = 60;
  std::vector<std::promise<std::string>> acks(kMessages);
  for (int i = 0; i < kMessages; ++i)
    rig.ingest->submit(with_fields(with_control_id(a01, "PIPE" + std::to_string(i)), {{"PID-5.2", "PIPE" + std::to_string(i)}}),
                       server::IngestSource{"test", "local", "", 1, static_cast<uint64_t>(i + 1)},
                       [&acks, i](std::string a) { acks[i].set_value(std::move(a)); });
  std::vector<std::string> accepted;
  for (int i = 0; i < kMessages; ++i) {
    auto ack = hl7v2::Message::parse(acks[i].get_future().get());
    REQUIRE(ack.ok());
    CHECK(ack->text("MSA-2") == "PIPE" + std::to_string(i));
    const std::string code = ack->text("MSA-1");
    INFO("message " << i << ": " << code << " " << ack->text("MSA-3"));
    if (i == 0) CHECK(code == "AR");  // in the failed batch
    CHECK((code == "AA" || code == "AR"));
    if (code == "AA") accepted.push_back("PIPE" + std::to_string(i));
  }
  // Exactly the AA messages are journaled, in order, and each made one version of the patient.
  auto journal = rig.journal();
  REQUIRE(journal.size() == accepted.size());
  for (size_t i = 0; i < accepted.size(); ++i) CHECK(journal[i].entry.control_id == accepted[i]);
  if (!accepted.empty()) {
    auto patient = rig.patient_by_nhs_number("9449305552");
    REQUIRE(patient);
    CHECK(patient->version == static_cast<std::int64_t>(accepted.size()));
  }
  // The store works again: the next message is stored on top of what was.
  CHECK(rig.send(with_fields(with_control_id(a01, "AFTER"), {{"PID-5.2", "AFTER"}})).text("MSA-1") == "AA");
  auto patient = rig.patient_by_nhs_number("9449305552");
  REQUIRE(patient);
  CHECK(patient->version == static_cast<std::int64_t>(accepted.size()) + 1);
}
