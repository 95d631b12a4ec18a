// SqliteStore's connections under concurrent use: how often the writer checkpoints the
// write-ahead log while reads overlap, and SQLite's process-wide memory statistics (a global
// lock on every allocation) being off once a store is open.
#include <filesystem>
#include <string>

#include <sqlite3.h>

#include "store/sqlite_db.h"
#include "store/sqlite_store.h"
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kWalFrameBytes = 24 + 4096;  // frame header + one 4 KiB page

}  // namespace

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
    std::vector<EntityWrite> writes;
    for (int k = 0; k < 8; ++k) {
      const int n = i * 8 + k;
      writes.push_back(EntityWrite::put(patient("p" + std::to_string(n), nhs_number(n), "Family" + std::to_string(n),
                                                "Given", "1950-02-03", care::AdministrativeGender::kFemale)));
    }
    apply_ok(store, batch({message("C" + std::to_string(i), std::move(writes))}));
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

}  // namespace midhurst::store::test
