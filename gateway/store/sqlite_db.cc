#include "store/sqlite_db.h"

#include <cerrno>
#include <cstring>

#include "store/fault.h"

namespace midhurst::store::sqlite {

namespace {

constexpr std::size_t kMaxCachedStatements = 512;

StoreError::Code code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StoreError::Code::kBusy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StoreError::Code::kCorrupt;
    case SQLITE_CONSTRAINT:
      return StoreError::Code::kConflict;
    default:
      return StoreError::Code::kIo;
  }
}

}  // namespace

Stmt::~Stmt() {
  if (!s_) return;
  if (owned_) {
    sqlite3_finalize(s_);
  } else {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_ref(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::bind_blob_ref(int i, std::string_view bytes) {
  sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

StoreResult<bool> Stmt::next() {
  if (c_->faults() && !sqlite3_stmt_readonly(s_) && c_->faults()->should_fail("write"))
    return err(StoreError{StoreError::Code::kInjected, "injected fault before a write"});
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(s_) ? sqlite3_sql(s_) : "";
  return err(c_->error_from(rc, "executing " + sql.substr(0, 80)));
}

StoreStatus Stmt::run() {
  for (;;) {
    auto r = next();
    if (!r.ok()) return err(r.error());
    if (!*r) return {};
  }
}

std::string Stmt::text(int col) const {
  const void* p = sqlite3_column_blob(s_, col);  // blob access: payloads may hold any bytes
  int n = sqlite3_column_bytes(s_, col);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

bool disable_memory_statistics() {
  // Must precede SQLite's initialisation (the first open does it); later it returns
  // SQLITE_MISUSE and changes nothing.
  static const bool disabled = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  return disabled;
}

StoreResult<std::unique_ptr<Connection>> Connection::open(const std::string& path, int flags,
                                                          std::chrono::milliseconds busy_timeout) {
  (void)disable_memory_statistics();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int sys = db ? sqlite3_system_errno(db) : 0;
    if (sys) reason += std::string(" (") + std::strerror(sys) + ")";
    sqlite3_close(db);
    return err(StoreError{code_for(rc), "cannot open store at '" + path + "': " + reason});
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

StoreResult<Stmt> Connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second, this);
  // Cached statements may be borrowed right now (a caller can hold one while preparing another),
  // so a full cache is never flushed; the overflow statement is owned by its Stmt instead.
  const bool keep = cache_.size() < kMaxCachedStatements;
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              keep ? SQLITE_PREPARE_PERSISTENT : 0, &s, nullptr);
  if (rc != SQLITE_OK) return err(error_from(rc, "preparing " + std::string(sql.substr(0, 80))));
  if (!keep) return Stmt(s, this, /*owned=*/true);
  cache_.emplace(std::string(sql), s);
  return Stmt(s, this);
}

StoreStatus Connection::run(std::string_view sql) {
  auto s = prepare(sql);
  if (!s.ok()) return err(s.error());
  return s->run();
}

StoreStatus Connection::exec(std::string_view sql) {
  std::string text(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string reason = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return err(StoreError{code_for(rc), "executing " + text.substr(0, 80) + ": " + reason});
  }
  return {};
}

StoreError Connection::error(std::string_view what) const {
  return error_from(sqlite3_extended_errcode(db_), what);
}

StoreError Connection::error_from(int rc, std::string_view what) const {
  std::string reason = sqlite3_errmsg(db_);
  int sys = sqlite3_system_errno(db_);
  if (sys && (rc & 0xff) == SQLITE_IOERR) reason += std::string(" (") + std::strerror(sys) + ")";
  return StoreError{code_for(rc), std::string(what) + ": " + reason};
}

}  // namespace midhurst::store::sqlite
