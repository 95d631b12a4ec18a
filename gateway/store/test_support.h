// Helpers for the store tests: temporary directories, a settable clock, entity and message
// builders, and the store factories the shared suite runs against.
//
// The shared suite (suite_*_test.cc) is written once against store.h and instantiated for every
// factory in STORE_FACTORIES with Catch2's TEMPLATE_TEST_CASE. A PostgreSQL backend adds its
// factory (opening a fresh schema per TempDir) to that list and runs the same tests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "care/codes.h"
#include "store/store.h"

namespace midhurst::store::test {

// A fresh directory under the system temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "midhurst-store-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    REQUIRE(p != nullptr);
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A clock tests can move; copies share the time.
class TestClock {
 public:
  TestClock() : ms_(std::make_shared<std::atomic<std::int64_t>>(1709287200000)) {}  // 2024-03-01T10:00Z
  std::chrono::system_clock::time_point operator()() const {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_->load()));
  }
  void advance(std::chrono::milliseconds d) { *ms_ += d.count(); }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> ms_;
};

// --- Factories --------------------------------------------------------------------------------

struct SqliteFactory {
  static constexpr const char* kName = "sqlite";
  static StoreResult<std::unique_ptr<Store>> open(const TempDir& dir, const StoreOptions& o) {
    return open_store("sqlite:" + (dir.path() / "store.db").string(), o);
  }
};

#define STORE_FACTORIES ::midhurst::store::test::SqliteFactory

// A store opened by Factory on a fresh directory with a TestClock; reopen() simulates a restart.
template <class Factory>
struct Fixture {
  TempDir dir;
  TestClock clock;
  StoreOptions options;
  std::unique_ptr<Store> store;

  explicit Fixture(StoreOptions o = {}) : options(std::move(o)) {
    options.clock = clock;
    reopen();
  }
  void reopen() {
    store.reset();
    auto s = Factory::open(dir, options);
    if (!s.ok()) FAIL(s.error().message);
    store = std::move(*s);
  }
  Store& operator*() { return *store; }
  Store* operator->() { return store.get(); }
};

// --- Builders ---------------------------------------------------------------------------------

// A valid NHS number (Modulus 11), distinct for distinct n: the stem is 10n, and a stem whose
// check digit would be 10 moves on within its block of ten.
inline std::string nhs_number(std::int64_t n) {
  for (std::int64_t stem = n * 10;; ++stem) {
    std::string s = std::to_string(100000000 + stem % 900000000);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (s[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check == 10) continue;
    return s + std::to_string(check);
  }
}

inline care::Patient patient(std::string id, std::string nhs, std::string family, std::string given,
                             std::string birth_date = "", std::optional<care::AdministrativeGender> g = {}) {
  care::Patient p;
  p.id = std::move(id);
  if (!nhs.empty()) p.nhs_number = care::NhsNumber{std::move(nhs), std::nullopt};
  care::HumanName n;
  n.family = std::move(family);
  if (!given.empty()) n.given.push_back(std::move(given));
  p.names.push_back(std::move(n));
  p.birth_date = std::move(birth_date);
  p.gender = g;
  return p;
}

inline care::Identifier mrn(std::string value, std::string ods = "RYJ") {
  care::Identifier i;
  i.system = "https://fhir.example.org/Id/mrn-" + ods;
  i.value = std::move(value);
  i.type = "MR";
  i.assigner_ods = std::move(ods);
  return i;
}

inline care::Reference patient_ref(std::string id) {
  return care::Reference{care::EntityType::kPatient, std::move(id), std::nullopt, ""};
}

inline care::Encounter encounter(std::string id, std::string patient_id, std::string start = "",
                                 std::string end = "") {
  care::Encounter e;
  e.id = std::move(id);
  e.patient = patient_ref(std::move(patient_id));
  e.status = care::EncounterStatus::kInProgress;
  if (!start.empty() || !end.empty()) e.period = care::Period{std::move(start), std::move(end)};
  return e;
}

inline care::Provenance provenance(const std::string& app, const std::string& control_id) {
  care::Provenance p;
  p.sender = care::SourceSystem{app, "RYJ"};
  p.message_id = control_id;
  p.message_type = "ADT^A08";
  p.received_at = "2024-03-01T10:00:00Z";
  return p;
}

// An accepted HL7v2 message from (app, "RYJ") with the given writes.
inline Message message(const std::string& control_id, std::vector<EntityWrite> writes = {},
                       const std::string& app = "PAS") {
  Message m;
  m.journal.kind = PayloadKind::kHl7v2;
  m.journal.payload = "MSH|^~\\&|" + app + "|RYJ|MIDHURST|X|20240301100000||ADT^A08|" + control_id + "|P|2.4\r";
  m.journal.sender = Sender{app, "RYJ"};
  m.journal.control_id = control_id;
  m.journal.status = JournalStatus::kAccepted;
  m.writes = std::move(writes);
  return m;
}

inline Batch batch(std::vector<Message> messages) {
  Batch b;
  b.messages = std::move(messages);
  return b;
}

// apply() that must succeed.
inline BatchResult apply_ok(Store& s, const Batch& b) {
  auto r = s.apply(b);
  if (!r.ok()) FAIL(r.error().message);
  return std::move(*r);
}

inline std::vector<std::string> ids_of(const std::vector<EntityVersion>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.id);
  return out;
}

// Every page of q, following next cursors.
inline std::vector<std::string> all_pages(Store& s, Query q) {
  std::vector<std::string> out;
  for (int guard = 0; guard < 10000; ++guard) {
    auto p = s.search(q);
    if (!p.ok()) FAIL(p.error().message);
    for (const auto& e : p->entries) out.push_back(e.id);
    if (p->next_cursor.empty()) break;
    q.cursor = p->next_cursor;
  }
  return out;
}

}  // namespace midhurst::store::test
