// Thin RAII wrappers over the SQLite C API for SqliteStore: a Connection that caches its
// prepared statements, and Stmt, a borrowed cached statement that is reset when it goes out of
// scope. Internal to gateway/store (SQLite-specific; nothing outside sqlite_*.cc includes it).
//
// Thread-safety: a Connection is used by one thread at a time (the store hands connections out
// under its own locks); SQLite is built threadsafe, and each connection is opened NOMUTEX.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "store/types.h"

namespace midhurst::store {

class FaultInjection;

namespace sqlite {

class Connection;

// A prepared statement borrowed from a Connection's cache. Bind, then step with next()/run().
// Destroying it resets the statement and clears its bindings, so the next user starts clean.
class Stmt {
 public:
  // `owned`: finalise on destruction (a statement the full cache could not keep).
  Stmt(sqlite3_stmt* s, Connection* c, bool owned = false) : s_(s), c_(c), owned_(owned) {}
  Stmt(Stmt&& o) noexcept : s_(o.s_), c_(o.c_), owned_(o.owned_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds parameter i (1-based). Text is copied (SQLITE_TRANSIENT): callers pass temporaries.
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, const char* text) { return bind(i, std::string_view(text)); }
  Stmt& bind(int i, const std::string& text) { return bind(i, std::string_view(text)); }
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind_blob(int i, std::string_view bytes);
  // Binds without copying (SQLITE_STATIC), for the write path's hot statements: the bytes must
  // stay valid and unchanged until the statement is stepped and this Stmt destroyed.
  Stmt& bind_ref(int i, std::string_view text);
  Stmt& bind_blob_ref(int i, std::string_view bytes);
  template <class... A>
  Stmt& bind_all_ref(const A&... args) {
    int i = 0;
    (bind_ref(++i, std::string_view(args)), ...);
    return *this;
  }
  Stmt& bind_null(int i);
  // Binds args to parameters 1..n in order.
  template <class... A>
  Stmt& bind_all(const A&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Steps once: true = a row is available, false = done.
  StoreResult<bool> next();
  // Steps to completion, ignoring rows.
  StoreStatus run();

  std::string text(int col) const;
  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_;
  Connection* c_;
  bool owned_;
};

// Turns off SQLite's process-wide memory statistics, once, before the first connection opens
// (Connection::open calls it). They are kept under one global mutex taken by every
// sqlite3_malloc and sqlite3_free, and Debian's SQLite is built without the per-connection
// lookaside allocator, so every allocation of every connection took it: the HTTP threads'
// readers and the ingest's writer queued on that one lock (seen in stacks under mixed load:
// readers blocked in sqlite3_free while the writer committed). Nothing here reads the
// statistics. False when SQLite was already initialised by other code in the process.
bool disable_memory_statistics();

class Connection {
 public:
  // Opens `path` (SQLITE_OPEN_* flags). Errors name the path and the reason, including the OS
  // error when SQLite reports one.
  static StoreResult<std::unique_ptr<Connection>> open(const std::string& path, int flags,
                                                       std::chrono::milliseconds busy_timeout);
  ~Connection();

  // The cached statement for `sql`, preparing it on first use. The cache is bounded: search
  // builds its SQL from the query's shape, and shapes are few, but a pathological caller must not
  // grow it forever; past the bound, new statements are prepared per use and finalised after.
  StoreResult<Stmt> prepare(std::string_view sql);
  // Runs one or more statements without caching (schema, pragmas).
  StoreStatus exec(std::string_view sql);
  // Runs one statement through the cache: for the transaction control that apply() repeats for
  // every batch and message (BEGIN, SAVEPOINT, RELEASE, COMMIT), which exec would parse each time.
  StoreStatus run(std::string_view sql);
  // A StoreError for the connection's last error, saying what was being done.
  StoreError error(std::string_view what) const;
  StoreError error_from(int rc, std::string_view what) const;

  // Faults checked before each statement that writes (fault.h point "write").
  void set_faults(FaultInjection* f) { faults_ = f; }
  FaultInjection* faults() const { return faults_; }

  sqlite3* db() const { return db_; }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
  FaultInjection* faults_ = nullptr;
};

}  // namespace sqlite
}  // namespace midhurst::store
