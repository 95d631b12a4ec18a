// SQLite-specific: schema migrations, WAL/sync settings, and open errors.
#include <fstream>

#include <sqlite3.h>

#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

// Runs one statement on a raw connection and returns the first column of the first row as text.
std::string query_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("sqlite: opening a version-1 file migrates it and keeps its data", "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    // Build the file as the version-1 code did, with one journal row in it.
    auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                      std::chrono::milliseconds(1000));
    REQUIRE(c.ok());
    REQUIRE(sqlite::migrate(**c, 1).ok());
    REQUIRE((*c)->exec("INSERT INTO journal(kind, sender_app, sender_facility, control_id, "
                       "received_at, stored_at, status, payload, payload_size) VALUES('hl7v2', "
                       "'PAS', 'RYJ', 'OLD1', 't', 't', 'accepted', 'MSH|old', 7)").ok());
  }
  CHECK(query_text(path, "SELECT version FROM schema_version") == "1");
  CHECK(query_text(path, "SELECT count(*) FROM sqlite_schema WHERE name='patient_link'") == "0");

  auto s = open_store("sqlite:" + path);
  REQUIRE(s.ok());
  auto j = (*s)->find_journal(Sender{"PAS", "RYJ"}, "OLD1");
  REQUIRE(j.ok());
  REQUIRE(j->has_value());
  CHECK((*j)->entry.payload == "MSH|old");
  // Version 2's table works: a merge can be recorded.
  auto r = (*s)->apply(batch({message("M1", {EntityWrite::put(patient("b", "", "B", "")),
                                             EntityWrite::put([] {
                                               auto p = patient("a", "", "A", "");
                                               p.replaced_by = patient_ref("b");
                                               return p;
                                             }())})}));
  REQUIRE(r.ok());
  auto resolved = (*s)->resolve_patient("a");
  REQUIRE(resolved.ok());
  CHECK(*resolved == "b");
  s->reset();
  CHECK(query_text(path, "SELECT version FROM schema_version") ==
        std::to_string(sqlite::latest_schema_version()));
}

TEST_CASE("sqlite: a file from a newer version is refused", "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "new.db").string();
  { REQUIRE(open_store("sqlite:" + path).ok()); }
  query_text(path, "UPDATE schema_version SET version=999");
  auto s = open_store("sqlite:" + path);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == StoreError::Code::kCorrupt);
  CHECK(s.error().message.find(path) != std::string::npos);
  CHECK(s.error().message.find("999") != std::string::npos);
}

TEST_CASE("sqlite: a database that is not a Midhurst store is refused", "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "other.db").string();
  {
    auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                      std::chrono::milliseconds(1000));
    REQUIRE(c.ok());
    REQUIRE((*c)->exec("CREATE TABLE t(x)").ok());
  }
  auto s = open_store("sqlite:" + path);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == StoreError::Code::kCorrupt);
  CHECK(s.error().message.find("not a Midhurst store") != std::string::npos);

  std::ofstream(dir.path() / "garbage.db") << std::string(4096, 'g');
  auto g = open_store("sqlite:" + (dir.path() / "garbage.db").string());
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().message.find("garbage.db") != std::string::npos);
}

TEST_CASE("sqlite: an unwritable path fails with the path and the reason", "[sqlite]") {
  TempDir dir;
  // A path below a regular file can never be created, whoever runs the test (root included).
  std::ofstream(dir.path() / "file") << "x";
  const std::string path = (dir.path() / "file" / "store.db").string();
  auto s = open_store("sqlite:" + path);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == StoreError::Code::kIo);
  CHECK(s.error().message.find(path) != std::string::npos);
  CHECK(s.error().message.find("unable to open") != std::string::npos);
  INFO(s.error().message);

  auto missing_dir = open_store("sqlite:" + (dir.path() / "no-such-dir" / "store.db").string());
  REQUIRE_FALSE(missing_dir.ok());
  CHECK(missing_dir.error().message.find("no-such-dir") != std::string::npos);

  auto scheme = open_store("postgres://x");
  REQUIRE_FALSE(scheme.ok());
  CHECK(scheme.error().code == StoreError::Code::kInvalidArgument);
}

TEST_CASE("sqlite: the file is in WAL mode", "[sqlite]") {
  TempDir dir;
  const std::string path = (dir.path() / "wal.db").string();
  auto s = open_store("sqlite:" + path);
  REQUIRE(s.ok());
  // journal_mode=WAL is persistent in the file; synchronous is per connection and set at open
  // (sqlite_store.cc), measured by the benchmark.
  CHECK(query_text(path, "PRAGMA journal_mode") == "wal");
}

TEST_CASE("sqlite: migration 6 moves each audit record's patients into its row and drops audit_patient_seq",
          "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "audit.db").string();
  {
    // A version-5 file with an audit trail written as the version-5 code did.
    auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                      std::chrono::milliseconds(1000));
    REQUIRE(c.ok());
    REQUIRE(sqlite::migrate(**c, 5).ok());
    REQUIRE((*c)->exec("INSERT INTO audit(time, client, interaction, outcome, detail) VALUES"
                       "('t1', 'app', 'read', 'success', 'GET /Patient/p2'),"
                       "('t2', 'app', 'search-type', 'success', ''),"
                       "('t3', 'app', 'read', '404', 'GET /Patient/x\"y');"
                       "INSERT INTO audit_patient(audit_seq, patient_id) VALUES(1, 'p2'), (1, 'p1'), (3, 'x\"y')")
              .ok());
  }
  CHECK(query_text(path, "SELECT count(*) FROM sqlite_schema WHERE name='audit_patient_seq'") == "1");

  auto s = open_store("sqlite:" + path);
  REQUIRE(s.ok());
  CHECK(query_text(path, "SELECT count(*) FROM sqlite_schema WHERE name='audit_patient_seq'") == "0");
  auto all = (*s)->list_audit(0, 10, "");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].patients == std::vector<std::string>{"p1", "p2"});
  CHECK((*all)[1].patients.empty());
  CHECK((*all)[2].patients == std::vector<std::string>{"x\"y"});
  CHECK((*all)[2].outcome == "404");
  // Records written after the migration follow the old ones and are found by patient with them.
  REQUIRE((*s)->append_audit({AuditRecord{0, "t4", "app", "read", "success", {"p1"}, "GET /Patient/p1"}}).ok());
  auto p1 = (*s)->list_audit(0, 10, "p1");
  REQUIRE(p1.ok());
  REQUIRE(p1->size() == 2);
  CHECK(p1->front().time == "t1");
  CHECK(p1->back().time == "t4");
  CHECK(p1->back().seq == 4);
  CHECK(p1->back().patients == std::vector<std::string>{"p1"});
}

TEST_CASE("sqlite: an audit record whose patients column is damaged is reported, not read as no patients",
          "[sqlite]") {
  TempDir dir;
  const std::string path = (dir.path() / "audit-damaged.db").string();
  {
    auto s = open_store("sqlite:" + path);
    REQUIRE(s.ok());
    REQUIRE((*s)->append_audit({AuditRecord{0, "t1", "app", "read", "success", {"p1"}, "GET /Patient/p1"}}).ok());
  }
  {
    auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE, std::chrono::milliseconds(1000));
    REQUIRE(c.ok());
    REQUIRE((*c)->exec("UPDATE audit SET patients = 'p1' WHERE seq = 1").ok());
  }
  auto s = open_store("sqlite:" + path);
  REQUIRE(s.ok());
  for (const std::string patient : {"", "p1"}) {
    auto listed = (*s)->list_audit(0, 10, patient);
    REQUIRE_FALSE(listed.ok());
    CHECK(listed.error().code == StoreError::Code::kCorrupt);
    CHECK(listed.error().message.find("audit record 1") != std::string::npos);
  }
}

}  // namespace midhurst::store::test
