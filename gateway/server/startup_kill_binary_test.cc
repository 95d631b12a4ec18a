// The real `midhurst serve` killed (SIGKILL) while it opens its store and migrates it, again and
// again, then restarted: the file stays consistent, ends fully migrated, and every message
// stored before is there exactly once.
//
// The store is first filled through the gateway itself (real messages over MLLP), then taken
// back to schema version 2 the way the version-2 code laid it out (five idx_* tables instead of
// idx_term), so that opening it runs migration 3. Padding rows make that migration take long
// enough for the kills to land inside it; each kill is aimed at a moment after the process has
// opened the database file.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "hl7v2/mllp.h"
#include "server/test_client.h"
#include "server/test_files.h"

namespace midhurst::server {
namespace {

using testing::TempDir;
using testing::slurp;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::Connection;
using testing::msa_field;

// A raw connection to the store file, to inspect it as it is on disk between runs.
class Db {
 public:
  explicit Db(const fs::path& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  // Every row, its columns joined by '|'.
  std::vector<std::string> rows(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::vector<std::string> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        if (i) row += '|';
        if (const unsigned char* t = sqlite3_column_text(s, i)) row += reinterpret_cast<const char*>(t);
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return out;
  }
  std::string text(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() ? std::string() : r.front();
  }
  long long number(const std::string& sql) { return std::stoll(text(sql)); }
  bool has_table(const std::string& name) {
    return number("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='" + name + "'") == 1;
  }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// One `midhurst serve` process on free ports over `data`, its output in `log`.
class ServeProcess {
 public:
  ServeProcess(const fs::path& dir, const fs::path& data) : ports_(dir / "ports.json"), log_(dir / "serve.log") {
    fs::remove(ports_);
    std::vector<std::string> args = {
        MIDHURST_BINARY, "serve", "--config", MIDHURST_SOURCE_DIR "/examples/midhurst.json", "--http",
        "127.0.0.1:0", "--mllp", "127.0.0.1:0", "--data-dir", data.string(), "--port-file", ports_.string(),
        "--set", "capability_statement=" MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json",
        "--set", "mappings_dir=" MIDHURST_SOURCE_DIR "/mappings", "--set", "profile_watch_seconds=0",
        "--set", "shutdown_grace_seconds=5"};
    pid_ = fork();
    if (pid_ == 0) {
      if (FILE* out = std::fopen(log_.c_str(), "a")) {
        dup2(fileno(out), 1);
        dup2(fileno(out), 2);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) kill_now();
  }

  // Waits for the port file (the gateway is listening); false after `limit` or if it exited.
  bool wait_listening(std::chrono::seconds limit) {
    for (const auto end = Clock::now() + limit; Clock::now() < end;) {
      const std::string text = slurp(ports_);
      if (text.find("\"mllp\":") != std::string::npos && text.find('}') != std::string::npos) {
        http_ = static_cast<uint16_t>(std::stoi(text.substr(text.find("\"http\":") + 7)));
        mllp_ = static_cast<uint16_t>(std::stoi(text.substr(text.find("\"mllp\":") + 7)));
        return true;
      }
      if (exited()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  bool listening() const { return fs::exists(ports_); }

  // Waits until the process holds `file` open (the store is being opened); false after `limit`
  // or if it exited first.
  bool wait_file_open(const fs::path& file, std::chrono::seconds limit) {
    const fs::path fds = "/proc/" + std::to_string(pid_) + "/fd";
    for (const auto end = Clock::now() + limit; Clock::now() < end;) {
      std::error_code ec;
      for (const auto& fd : fs::directory_iterator(fds, ec)) {
        std::error_code lec;
        if (fs::read_symlink(fd.path(), lec) == file) return true;
      }
      if (exited()) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return false;
  }

  void kill_now() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM; the exit status (-1 if it had to be killed).
  int stop() {
    kill(pid_, SIGTERM);
    for (const auto end = Clock::now() + std::chrono::seconds(20); Clock::now() < end;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_now();
    return -1;
  }
  std::string log() const { return slurp(log_); }
  uint16_t http_port() const { return http_; }
  uint16_t mllp_port() const { return mllp_; }

 private:
  bool exited() {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }

  fs::path ports_, log_;
  pid_t pid_ = -1;
  uint16_t http_ = 0, mllp_ = 0;
};

// A valid NHS number (modulus 11 check digit) for patient `n`.
std::string nhs_number(int n) {
  for (int base = 944000000 + n * 7;; ++base) {
    const std::string d = std::to_string(base);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (d[i] - '0') * (10 - i);
    const int check = 11 - sum % 11;
    if (check == 10) continue;
    return d + std::to_string(check == 11 ? 0 : check);
  }
}

// The example admission for patient `n`: its own NHS number, hospital number and visit.
std::string admission(int n) {
  std::string m = slurp(MIDHURST_SOURCE_DIR "/examples/adt_a01_admit.hl7");
  auto replace = [&m](const std::string& from, const std::string& to) {
    const size_t at = m.find(from);
    REQUIRE(at != std::string::npos);
    m.replace(at, from.size(), to);
  };
  replace("RYJ0000000001", "KILL" + std::to_string(n));
  replace("9449305552", nhs_number(n));
  replace("633^^^RYJ^MR", std::to_string(7000 + n) + "^^^RYJ^MR");
  replace("2139^^^VISITID", std::to_string(9000 + n) + "^^^VISITID");
  return m;
}

// The search-index tables of schema version 2, as migration 1 created them.
constexpr const char* kVersion2Indexes = R"(
  CREATE TABLE idx_identifier(type TEXT NOT NULL, id TEXT NOT NULL, system TEXT NOT NULL, value TEXT NOT NULL);
  CREATE INDEX idx_identifier_value ON idx_identifier(value, system, type);
  CREATE INDEX idx_identifier_owner ON idx_identifier(type, id);
  CREATE TABLE idx_string(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL);
  CREATE INDEX idx_string_value ON idx_string(type, param, value);
  CREATE INDEX idx_string_owner ON idx_string(type, id);
  CREATE TABLE idx_date(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT NOT NULL);
  CREATE INDEX idx_date_lo ON idx_date(type, param, lo);
  CREATE INDEX idx_date_owner ON idx_date(type, id);
  CREATE TABLE idx_token(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL);
  CREATE INDEX idx_token_code ON idx_token(type, param, code);
  CREATE INDEX idx_token_owner ON idx_token(type, id);
  CREATE TABLE idx_ref(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL);
  CREATE INDEX idx_ref_target ON idx_ref(target_id, type, param);
  CREATE INDEX idx_ref_owner ON idx_ref(type, id);
  INSERT INTO idx_identifier SELECT type, id, b, a FROM idx_term WHERE kind='i';
  INSERT INTO idx_string SELECT type, id, param, a FROM idx_term WHERE kind='s';
  INSERT INTO idx_date SELECT type, id, param, a, b FROM idx_term WHERE kind='d';
  INSERT INTO idx_token SELECT type, id, param, b, a FROM idx_term WHERE kind='t';
  INSERT INTO idx_ref SELECT type, id, param, b, a FROM idx_term WHERE kind='r';
  DROP TABLE idx_term;
  UPDATE schema_version SET version=2;
)";

constexpr int kMessages = 40;
// Search rows of a type no query asks for: they make migration 3 (which copies every search row)
// last long enough to be interrupted, and must come through it intact.
constexpr int kPaddingRows = 200000;

void add_padding(Db& db) {
  db.exec("BEGIN");
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db.handle(), "INSERT INTO idx_string VALUES('Padding', ?1, 'name', ?2)", -1, &s,
                             nullptr) == SQLITE_OK);
  for (int i = 0; i < kPaddingRows; ++i) {
    const std::string id = "pad-" + std::to_string(i / 4);
    const std::string value = "value-" + std::to_string(i);
    sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, value.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) FAIL("padding row " << i << ": " << sqlite3_errmsg(db.handle()));
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  db.exec("COMMIT");
}

// What must hold after any kill: an intact file at version 2 (migration 3 rolled back as a
// whole) or past it (committed as a whole), and every stored message there exactly once.
// Returns the version.
long long check_consistent(const fs::path& file, const std::set<std::string>& control_ids,
                           const std::vector<std::string>& terms) {
  Db db(file);
  CHECK(db.text("PRAGMA integrity_check") == "ok");
  CHECK(db.rows("PRAGMA foreign_key_check").empty());
  const long long version = db.number("SELECT version FROM schema_version");
  INFO("schema version " << version);
  CHECK(version >= 2);
  const auto journal = db.rows("SELECT control_id FROM journal ORDER BY control_id");
  CHECK(journal.size() == control_ids.size());
  CHECK(std::set<std::string>(journal.begin(), journal.end()) == control_ids);
  if (version == 2) {
    CHECK_FALSE(db.has_table("idx_term"));
    CHECK(db.number("SELECT count(*) FROM idx_string WHERE type='Padding'") == kPaddingRows);
    const long long v2_terms = db.number(
        "SELECT (SELECT count(*) FROM idx_identifier) + (SELECT count(*) FROM idx_string WHERE type<>'Padding') + "
        "(SELECT count(*) FROM idx_date) + (SELECT count(*) FROM idx_token) + (SELECT count(*) FROM idx_ref)");
    CHECK(v2_terms == static_cast<long long>(terms.size()));
  } else {
    CHECK_FALSE(db.has_table("idx_string"));
    CHECK(db.number("SELECT count(*) FROM idx_term WHERE type='Padding'") == kPaddingRows);
    CHECK(db.rows("SELECT kind, type, param, a, b, id FROM idx_term WHERE type<>'Padding' ORDER BY 1,2,3,4,5,6") ==
          terms);
  }
  return version;
}

TEST_CASE("serve: SIGKILL while the store is migrated at start-up loses nothing and a restart completes the migration",
          "[binary][integration][crash]") {
  TempDir dir;
  const fs::path data = dir.path / "data";
  const fs::path file = data / "midhurst.db";

  // 1. Real messages through the gateway.
  std::set<std::string> control_ids;
  {
    ServeProcess serve(dir.path, data);
    INFO("log: " << serve.log());
    REQUIRE(serve.wait_listening(std::chrono::seconds(60)));
    Connection c(serve.mllp_port());
    for (int i = 0; i < kMessages; ++i) {
      REQUIRE(c.send(hl7v2::mllp_frame(admission(i))));
      REQUIRE(msa_field(c.read_frame(), 1) == "AA");
      control_ids.insert("KILL" + std::to_string(i));
    }
    REQUIRE(serve.stop() == 0);
  }

  // 2. Back to schema version 2, with padding.
  std::vector<std::string> terms;
  {
    Db db(file);
    REQUIRE(db.number("SELECT version FROM schema_version") >= 3);  // later migrations keep idx_term
    terms = db.rows("SELECT kind, type, param, a, b, id FROM idx_term ORDER BY 1,2,3,4,5,6");
    REQUIRE(terms.size() > static_cast<size_t>(kMessages));  // several search terms per message
    db.exec(std::string("BEGIN; ") + kVersion2Indexes + " COMMIT;");
    add_padding(db);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  REQUIRE(check_consistent(file, control_ids, terms) == 2);

  // 3. Kill it while it opens the store, later each time, until a kill finds the migration done.
  int killed_while_opening = 0;
  long long version = 2;
  std::string outcomes;
  for (int delay_ms : {0, 20, 60, 150, 300, 600, 1200, 2500, 5000, 10000}) {
    ServeProcess serve(dir.path, data);
    INFO("log: " << serve.log());
    REQUIRE(serve.wait_file_open(file, std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    const bool started = serve.listening();
    serve.kill_now();
    version = check_consistent(file, control_ids, terms);
    outcomes += std::to_string(delay_ms) + "ms:v" + std::to_string(version) + (started ? "(listening) " : " ");
    if (version == 2 && !started) ++killed_while_opening;
    if (version != 2) break;
  }
  INFO("kills (delay after the file was opened: schema version found) " << outcomes);
  // At least two kills came while the store was being opened and migrated, so a start also
  // recovered from an interrupted one.
  CHECK(killed_while_opening >= 2);

  // 4. A full restart: migrated, serving the old records, taking new messages.
  {
    ServeProcess serve(dir.path, data);
    INFO("log: " << serve.log());
    REQUIRE(serve.wait_listening(std::chrono::seconds(120)));
    CHECK(testing::http(serve.http_port(), "GET", "/readyz").status == 200);
    auto found = testing::http(serve.http_port(), "GET",
                               "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + nhs_number(kMessages - 1),
                               "dev-hospice-token");
    CHECK(found.status == 200);
    CHECK(found.body.find(nhs_number(kMessages - 1)) != std::string::npos);
    CHECK(found.body.find("\"total\":1") != std::string::npos);
    Connection c(serve.mllp_port());
    REQUIRE(c.send(hl7v2::mllp_frame(admission(kMessages))));
    CHECK(msa_field(c.read_frame(), 1) == "AA");
    control_ids.insert("KILL" + std::to_string(kMessages));
    CHECK(serve.stop() == 0);
  }
  Db db(file);
  CHECK(db.number("SELECT version FROM schema_version") >= 3);
  CHECK(db.text("PRAGMA integrity_check") == "ok");
  const auto journal = db.rows("SELECT control_id FROM journal");
  CHECK(journal.size() == control_ids.size());
  CHECK(std::set<std::string>(journal.begin(), journal.end()) == control_ids);
  CHECK(db.number("SELECT count(*) FROM idx_term WHERE type='Padding'") == kPaddingRows);
  // The original search terms all came through; the new message added its own.
  auto now = db.rows("SELECT kind, type, param, a, b, id FROM idx_term WHERE type<>'Padding'");
  auto before = terms;
  std::sort(now.begin(), now.end());
  std::sort(before.begin(), before.end());
  CHECK(now.size() > before.size());
  CHECK(std::includes(now.begin(), now.end(), before.begin(), before.end()));
}

}  // namespace
}  // namespace midhurst::server
