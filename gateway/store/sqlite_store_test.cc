// SqliteStore's connections under concurrent use: the writer keeps the write-ahead log bounded
// while reads overlap and checkpoints it only once per 1000 pages, and SQLite's process-wide
// memory statistics (a global lock on every allocation) are off once a store is open.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "care/json.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kWalFrameBytes = 24 + 4096;  // frame header + one 4 KiB page

// Commit `i` of a test that fills the log: eight new patients in one message.
void commit_eight_patients(Store& store, int i) {
  std::vector<EntityWrite> writes;
  for (int k = 0; k < 8; ++k) {
    const int n = i * 8 + k;
    writes.push_back(EntityWrite::put(patient("p" + std::to_string(n), nhs_number(n), "Family" + std::to_string(n),
                                              "Given", "1950-02-03", care::AdministrativeGender::kFemale)));
  }
  apply_ok(store, batch({message("C" + std::to_string(i), std::move(writes))}));
}

}  // namespace

TEST_CASE("sqlite: the write-ahead log stays bounded while reads overlap without a break",
          "[sqlite][wal]") {
  // Two read transactions, taken in turn so that one is always open, keep SQLite's passive
  // checkpoint from ever rewinding the log; the store must rewind it anyway once it holds
  // wal_restart_pages.
  TempDir dir;
  const fs::path path = dir.path() / "store.db";
  StoreOptions o;
  o.durable = false;
  o.wal_restart_pages = 64;
  auto s = open_store("sqlite:" + path.string(), o);
  REQUIRE(s.ok());
  Store& store = **s;
  apply_ok(store, batch({message("C0", {EntityWrite::put(patient("p0", nhs_number(0), "Smith", "Ann", "1950-02-03",
                                                                  care::AdministrativeGender::kFemale))})}));

  sqlite3* readers[2] = {nullptr, nullptr};
  for (sqlite3*& r : readers) REQUIRE(sqlite3_open_v2(path.c_str(), &r, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  // Catch's assertions are not for other threads: the reader counts its failures instead.
  std::atomic<int> read_failures{0};
  auto begin_read = [&](sqlite3* r) {
    if (sqlite3_exec(r, "BEGIN; SELECT count(*) FROM sqlite_master;", nullptr, nullptr, nullptr) != SQLITE_OK)
      ++read_failures;
  };
  auto end_read = [&](sqlite3* r) {
    if (sqlite3_exec(r, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) ++read_failures;
  };

  std::atomic<bool> stop{false};
  std::thread reading([&] {
    int open = 0;
    begin_read(readers[open]);
    while (!stop) {
      begin_read(readers[1 - open]);  // the other one is still open
      end_read(readers[open]);
      open = 1 - open;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    end_read(readers[open]);
  });
  std::uintmax_t written = 0;
  for (int i = 1; i <= 400; ++i) {
    commit_eight_patients(store, i);
    std::error_code ec;
    written = std::max(written, fs::file_size(path.string() + "-wal", ec));
  }
  stop = true;
  reading.join();
  for (sqlite3* r : readers) sqlite3_close(r);

  // Without the rewind the log holds every page written (several MiB here); with it, at most
  // the threshold plus one commit's pages.
  const std::uintmax_t db_size = fs::file_size(path);
  INFO("largest log " << written << " bytes; database " << db_size << " bytes");
  CHECK(read_failures == 0);
  CHECK(db_size > 1024 * 1024);
  CHECK(written < 1024 * 1024);
}

TEST_CASE("sqlite: the writer checkpoints once per 1000 log pages, not after every commit",
          "[sqlite][wal]") {
  // A reader keeps one transaction open throughout, so the log is never rewound and stays over
  // SQLite's 1000-page threshold for most of the commits below. Every commit past it used to
  // run a checkpoint (two more fsyncs on the writer's path); now one runs per 1000 pages added.
  TempDir dir;
  const fs::path path = dir.path() / "store.db";
  StoreOptions o;
  o.durable = false;
  o.wal_restart_pages = 1 << 30;  // passive checkpoints only (the rewind has its own test)
  auto opened = SqliteStore::open(path.string(), o);
  REQUIRE(opened.ok());
  SqliteStore& store = **opened;
  apply_ok(store, batch({message("C0", {EntityWrite::put(patient("p0", nhs_number(0), "Smith", "Ann", "1950-02-03",
                                                                  care::AdministrativeGender::kFemale))})}));
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM sqlite_master;", nullptr, nullptr, nullptr) == SQLITE_OK);

  const int commits = 200;
  for (int i = 1; i <= commits; ++i) {
    commit_eight_patients(store, i);
  }
  const std::uintmax_t pages = fs::file_size(path.string() + "-wal") / kWalFrameBytes;
  REQUIRE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(reader);

  const std::uint64_t checkpoints = store.wal_checkpoints();
  INFO(commits << " commits wrote " << pages << " log pages; " << checkpoints << " checkpoints");
  REQUIRE(pages > 2000);  // the test means something only when the log went well past 1000 pages
  CHECK(checkpoints >= pages / 1000 - 1);
  CHECK(checkpoints <= pages / 1000);
}

TEST_CASE("sqlite: SQLite's global memory statistics are off once a store is open", "[sqlite]") {
  // With them on, every sqlite3_malloc and sqlite3_free of every connection takes one
  // process-wide mutex, and readers queue behind the writer on it.
  TempDir dir;
  auto s = open_store("sqlite:" + (dir.path() / "store.db").string());
  REQUIRE(s.ok());
  apply_ok(**s, batch({message("C1", {EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Ann", "1950-02-03",
                                                                care::AdministrativeGender::kFemale))})}));
  REQUIRE((*s)->read(care::EntityType::kPatient, "p1").ok());
  if (!sqlite::disable_memory_statistics()) {
    // Another test of this process initialised SQLite before any store opened (ctest runs each
    // test case in its own process, where the store is first).
    WARN("SQLite was initialised before the first store opened: statistics cannot be turned off");
    return;
  }
  sqlite3_int64 used = -1, highwater = -1;
  REQUIRE(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &highwater, 0) == SQLITE_OK);
  CHECK(used == 0);
  CHECK(highwater == 0);
}

TEST_CASE("sqlite: a read scope shares one snapshot on its thread and no other", "[sqlite][scope]") {
  TempDir dir;
  auto s = open_store("sqlite:" + (dir.path() / "store.db").string());
  REQUIRE(s.ok());
  Store& store = **s;
  auto put_patient = [&](const std::string& id, int n, const std::string& family) {
    apply_ok(store, batch({message("C" + id + family, {EntityWrite::put(patient(id, nhs_number(n), family, "Ann", "1950-02-03",
                                                                                  care::AdministrativeGender::kFemale))})}));
  };
  auto family_of = [&](const std::string& id) -> std::string {
    auto r = store.read(care::EntityType::kPatient, id);
    REQUIRE(r.ok());
    if (!*r) return "(none)";
    auto p = care::from_json<care::Patient>((*r)->json);
    REQUIRE(p.ok());
    return p->names.empty() ? "" : p->names.front().family;
  };
  // Read on another thread (its own snapshot per call, scope or not on this one).
  auto family_elsewhere = [&](const std::string& id) {
    std::string out;
    std::thread([&] {
      auto r = store.read(care::EntityType::kPatient, id);
      if (!r.ok() || !*r) {
        out = "(none)";
        return;
      }
      auto p = care::from_json<care::Patient>((*r)->json);
      out = p.ok() && !p->names.empty() ? p->names.front().family : "(unreadable)";
    }).join();
    return out;
  };
  put_patient("p1", 1, "Smith");
  {
    const auto scope = store.read_scope();
    // Committed before the scope: seen.
    CHECK(family_of("p1") == "Smith");
    // Committed during it, after its first read: the scope's reads keep their snapshot, search
    // included (one connection, one read transaction) ...
    put_patient("p2", 2, "Jones");
    put_patient("p1", 1, "Brown");
    CHECK(family_of("p2") == "(none)");
    CHECK(family_of("p1") == "Smith");
    Query q;
    q.type = care::EntityType::kPatient;
    q.identifier = std::make_pair(std::string(care::codes::kNhsNumber), nhs_number(2));
    auto found = store.search(q);
    REQUIRE(found.ok());
    CHECK(found->entries.empty());
    // ... a nested scope changes nothing ...
    {
      const auto inner = store.read_scope();
      CHECK(family_of("p1") == "Smith");
    }
    CHECK(family_of("p1") == "Smith");
    // ... and another thread sees every commit.
    CHECK(family_elsewhere("p1") == "Brown");
    CHECK(family_elsewhere("p2") == "Jones");
  }
  // Once it ends, this thread's reads see the latest commit again.
  CHECK(family_of("p1") == "Brown");
  CHECK(family_of("p2") == "Jones");
  // A new scope starts from the state at its first read, not from the last scope's.
  {
    const auto scope = store.read_scope();
    put_patient("p3", 3, "Green");
    CHECK(family_of("p3") == "Green");
  }
}

}  // namespace midhurst::store::test
