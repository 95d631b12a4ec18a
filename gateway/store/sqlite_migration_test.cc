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

// How many steps of `sql`'s compiled program are `opcode` (EXPLAIN's second column).
int count_opcode(const std::string& path, const std::string& sql, const std::string& opcode) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("EXPLAIN " + sql).c_str(), -1, &s, nullptr) == SQLITE_OK);
  int n = 0;
  while (sqlite3_step(s) == SQLITE_ROW)
    if (opcode == reinterpret_cast<const char*>(sqlite3_column_text(s, 1))) ++n;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

// Whether `sql` runs without error on a raw connection.
bool runs(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 1000);
  const bool ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
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

TEST_CASE("sqlite: migration 8 rebuilds the journal and the outbox with their rows, seq counters and CHECKs "
          "without IN lists",
          "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "journal.db").string();
  const std::string insert =
      "INSERT INTO journal(kind, sender_app, sender_facility, control_id, received_at, stored_at, status, "
      "payload, payload_size) VALUES('hl7v2', 'PAS', 'RYJ', ?, 't', 't', ?, 'MSH|x', 5)";
  {
    // A version-7 file with three journal rows, the last one pruned: its seq must stay used.
    auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                      std::chrono::milliseconds(1000));
    REQUIRE(c.ok());
    REQUIRE(sqlite::migrate(**c, 7).ok());
    REQUIRE((*c)->exec("INSERT INTO journal(kind, sender_app, sender_facility, control_id, received_at, stored_at, "
                       "status, reason, payload, payload_size) VALUES"
                       "('hl7v2', 'PAS', 'RYJ', 'OLD1', 't1', 't1', 'accepted', '', 'MSH|old1', 8),"
                       "('hl7v2', 'PAS', 'RYJ', 'OLD2', 't2', 't2', 'rejected', 'bad PID', 'MSH|old2', 8),"
                       "('fhir', 'api', '', '', 't3', 't3', 'failed', '', '{}', 2);"
                       "DELETE FROM journal WHERE seq=3;"
                       "INSERT INTO outbox(journal_seq, destination, payload, state, next_attempt_at, created_at, "
                       "updated_at) VALUES(1, 'hospice', 'a', 'delivered', 't1', 't1', 't1'),"
                       "(1, 'hospice', 'b', 'pending', '2000-01-01T00:00:00Z', 't1', 't1'),"
                       "(2, 'hospice', 'c', 'dead', 't1', 't1', 't1');"
                       "DELETE FROM outbox WHERE seq=3")
              .ok());
  }
  const std::string outbox_insert =
      "INSERT INTO outbox(destination, payload, state, next_attempt_at, created_at, updated_at) "
      "VALUES('x', '', ?, 't', 't', 't')";
  CHECK(count_opcode(path, insert, "OpenEphemeral") == 1);  // the five-value IN list, every insert
  CHECK(count_opcode(path, outbox_insert, "OpenEphemeral") == 1);

  auto s = open_store("sqlite:" + path);
  REQUIRE(s.ok());
  CHECK(query_text(path, "SELECT version FROM schema_version") == "8");
  CHECK(count_opcode(path, insert, "OpenEphemeral") == 0);
  CHECK(count_opcode(path, outbox_insert, "OpenEphemeral") == 0);
  CHECK(query_text(path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('outbox_claim', 'outbox_journal')") == "2");
  CHECK(query_text(path, "SELECT group_concat(seq || payload || state, ',') FROM outbox") == "1adelivered,2bpending");
  CHECK(query_text(path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('journal_dedup', 'journal_sender')") ==
        "2");
  CHECK(query_text(path, "SELECT count(*) FROM sqlite_schema WHERE name='journal_v8'") == "0");
  auto old = (*s)->list_journal(0, 10);
  REQUIRE(old.ok());
  REQUIRE(old->size() == 2);
  CHECK((*old)[0].seq == 1);
  CHECK((*old)[0].entry.payload == "MSH|old1");
  CHECK((*old)[0].entry.status == JournalStatus::kAccepted);
  CHECK((*old)[1].seq == 2);
  CHECK((*old)[1].entry.status == JournalStatus::kRejected);
  CHECK((*old)[1].entry.reason == "bad PID");
  // The dedup key still holds for the accepted entry; new rows follow the pruned seq 3.
  auto again = (*s)->apply(batch({message("OLD1")}));
  REQUIRE(again.ok());
  CHECK(again->messages.at(0).status == JournalStatus::kDuplicate);
  CHECK(again->messages.at(0).duplicate_of == 1);
  CHECK(again->messages.at(0).journal_seq == 4);
  auto fresh = (*s)->apply(batch({message("NEW1")}));
  REQUIRE(fresh.ok());
  CHECK(fresh->messages.at(0).journal_seq == 5);
  // The CHECKs still refuse a status outside the five, and any other kind.
  CHECK_FALSE(runs(path, "INSERT INTO journal(kind, sender_app, sender_facility, control_id, received_at, stored_at, "
                         "status, payload, payload_size) "
                         "VALUES('hl7v2', 'PAS', 'RYJ', 'X', 't', 't', 'bogus', '', 0)"));
  CHECK_FALSE(runs(path, "INSERT INTO journal(kind, sender_app, sender_facility, control_id, received_at, stored_at, "
                         "status, payload, payload_size) VALUES('fax', 'PAS', 'RYJ', 'X', 't', 't', 'failed', '', 0)"));
  CHECK(runs(path, "INSERT INTO journal(kind, sender_app, sender_facility, control_id, received_at, stored_at, "
                   "status, payload, payload_size) VALUES('hl7v2', 'PAS', 'RYJ', 'X', 't', 't', 'duplicate', '', 0)"));
  CHECK_FALSE(runs(path, "UPDATE outbox SET state='lost' WHERE seq=2"));
  // The outbox works on, its pending item claimable, its new items after the pruned seq 3.
  auto claimed = (*s)->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);
  CHECK(claimed->front().seq == 2);
  CHECK(claimed->front().state == OutboxState::kInFlight);
  Message with_outbox = message("NEW2");
  with_outbox.outbox.push_back(OutboxMessage{"hospice", "text/plain", "d", ""});
  REQUIRE((*s)->apply(batch({with_outbox})).ok());
  auto item = (*s)->outbox_item(4);
  REQUIRE(item.ok());
  REQUIRE(item->has_value());
  CHECK((*item)->message.payload == "d");
}

}  // namespace midhurst::store::test
