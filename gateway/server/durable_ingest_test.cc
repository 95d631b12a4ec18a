// DurableIngest against a real SQLite file and the real mapping profiles: ACK codes, what the
// journal keeps, patient matching across messages, duplicates, and group commit.
#include "server/durable_ingest.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>

#include "hl7v2/message.h"
#include "store/fault.h"
#include "store/options.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace midhurst;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "midhurst-ingest-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A store, the repository's profiles and a DurableIngest over them.
struct Rig {
  TempDir dir;
  std::unique_ptr<store::Store> store;
  mapping::ProfileStore profiles;
  std::unique_ptr<server::DurableIngest> ingest;

  explicit Rig(store::FaultInjection* faults = nullptr) {
    store::StoreOptions options;
    options.faults = faults;
    auto s = store::open_store("sqlite:" + (dir.path / "midhurst.db").string(), options);
    REQUIRE(s.ok());
    store = std::move(*s);
    REQUIRE(profiles.reload(MIDHURST_MAPPINGS_DIR).ok());
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
  hl7v2::Message ack = rig.send(read_file(kExamples / "adt_a01_admit.hl7"));
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
  const std::string a01 = read_file(kExamples / "adt_a01_admit.hl7");
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
  CHECK(rig.send(read_file(kExamples / "adt_a01_admit.hl7")).text("MSA-1") == "AA");
  auto first = rig.patient_by_nhs_number("9449305552");
  REQUIRE(first);
  CHECK(rig.send(read_file(kExamples / "adt_a08_eol_preferences.hl7")).text("MSA-1") == "AA");
  auto second = rig.patient_by_nhs_number("9449305552");
  REQUIRE(second);
  CHECK(second->id == first->id);
  CHECK(second->version == 2);
}

TEST_CASE("an invalid NHS number gets AE naming PID-3 and is journaled as rejected") {
  Rig rig;
  const fs::path bad = fs::path(MIDHURST_MAPPINGS_DIR) / "hl7v2-care" / "fixtures" / "a31-invalid-nhs-number.hl7";
  hl7v2::Message ack = rig.send(read_file(bad));
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
  const std::string a01 = read_file(kExamples / "adt_a01_admit.hl7");
  constexpr int kMessages = 40;
  std::vector<std::promise<std::string>> acks(kMessages);
  for (int i = 0; i < kMessages; ++i)
    rig.ingest->submit(with_control_id(a01, "BATCH" + std::to_string(i)),
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
}

TEST_CASE("after stop, messages are refused with AR instead of being lost silently") {
  Rig rig;
  rig.ingest->stop();
  hl7v2::Message ack = rig.send(read_file(kExamples / "adt_a01_admit.hl7"));
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
  hl7v2::Message ack = rig.send(read_file(kExamples / "adt_a01_admit.hl7"));
  CHECK(ack.text("MSA-1") == "AR");
  CHECK(ack.text("MSA-2") == "RYJ0000000001");
  REQUIRE(ack.find("ERR"));
  CHECK(ack.text("ERR-3.1") == "207");
  CHECK(ack.text("MSA-3").find("resend") != std::string::npos);
  CHECK(rig.journal().empty());
  CHECK_FALSE(rig.patient_by_nhs_number("9449305552"));
}
