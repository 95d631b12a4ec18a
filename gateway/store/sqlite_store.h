// SqliteStore: the Store (store.h) on one SQLite file, the embedded default.
//
// How it keeps the Store's promises (FORMAT.md has the numbered invariants):
//  - WAL mode with synchronous=FULL: a commit is one append to the WAL plus one fsync of it, and
//    apply() returns after that fsync, so an ACK is never sent for a commit that a power loss can
//    undo. (WAL with NORMAL syncs only at checkpoints: fast, but it loses the last commits.)
//  - One writer connection behind write_mu_: SQLite allows one writer anyway, and queuing writers
//    in-process is cheaper than busy-waiting on the file lock. Group commit is the caller's: it
//    hands apply() every message in flight as one Batch.
//  - Readers use their own connections from a pool; under WAL they read the last committed
//    snapshot without blocking the writer or each other.
//  - Every statement is prepared once per connection and cached (sqlite_db.h).
//  - The schema is versioned; open() applies missing migrations (sqlite_schema.h).
//
// Thread-safety: as Store. Internal locking: write_mu_ serialises writers; pool_mu_ guards the
// idle reader connections.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "store/index_terms.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace midhurst::store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the store file at `path` (its directory must exist) and migrates it to the
  // latest schema. Errors name the path and the reason.
  static StoreResult<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                        const StoreOptions& options);
  ~SqliteStore() override;

  StoreResult<BatchResult> apply(const Batch& batch) override;
  StoreStatus finish_journal_entry(std::int64_t seq, JournalStatus status,
                                   std::string_view reason) override;
  StoreStatus append_audit(std::vector<AuditRecord> records) override;

  StoreResult<std::optional<JournalRecord>> journal_entry(std::int64_t seq) override;
  StoreResult<std::optional<JournalRecord>> find_journal(const Sender& sender,
                                                         std::string_view control_id) override;
  StoreResult<std::vector<JournalRecord>> list_journal(std::int64_t after_seq, int limit) override;
  StoreResult<PruneStats> prune_journal(const RetentionPolicy& policy,
                                        std::chrono::system_clock::time_point now) override;

  StoreResult<std::optional<EntityVersion>> read(care::EntityType type, std::string_view id) override;
  StoreResult<std::optional<EntityVersion>> vread(care::EntityType type, std::string_view id,
                                                  std::int64_t version) override;
  StoreResult<HistoryPage> history(care::EntityType type, std::string_view id,
                                   const HistoryQuery& q) override;
  StoreResult<HistoryPage> type_history(care::EntityType type, const HistoryQuery& q) override;
  StoreResult<Page> search(const Query& q) override;
  StoreResult<VersionPage> search_versions(const Query& q) override;
  StoreResult<std::int64_t> count(const Query& q) override;
  StoreResult<std::string> resolve_patient(std::string_view patient_id) override;
  StoreResult<std::vector<VersionKey>> cited_by(std::string_view provenance_id, int limit) override;  // sqlite_provenance.cc
  StoreResult<std::vector<std::string>> provenances_of(care::EntityType type, std::string_view id,
                                                       int limit) override;  // sqlite_provenance.cc

  StoreResult<std::vector<OutboxItem>> claim_outbox(std::string_view worker,
                                                    std::chrono::milliseconds lease,
                                                    int limit) override;
  StoreStatus complete_outbox(std::int64_t seq, std::string_view worker) override;
  StoreStatus fail_outbox(std::int64_t seq, std::string_view worker, std::string_view error,
                          std::optional<std::chrono::system_clock::time_point> retry_at) override;
  StoreStatus revive_outbox(std::int64_t seq) override;
  StoreResult<std::optional<OutboxItem>> outbox_item(std::int64_t seq) override;

  StoreResult<std::vector<AuditRecord>> list_audit(std::int64_t after_seq, int limit,
                                                   std::string_view patient_id) override;

  // One read transaction on one pooled reader connection, which this thread's reads use while
  // the scope lives (each read outside a scope is its own transaction: a read lock taken and
  // released, and the page cache checked against the log, per statement).
  std::unique_ptr<ReadScope> read_scope() override;

  // Checkpoints of the write-ahead log run so far (passive and rewinding; see wal_hook in
  // sqlite_store.cc): for tests and diagnostics.
  std::uint64_t wal_checkpoints();

 private:
  // A reader connection on loan from the pool; returned when destroyed. Or, inside a read
  // scope, the scope's connection, borrowed (the scope returns it).
  class Reader {
   public:
    Reader(SqliteStore* s, std::unique_ptr<sqlite::Connection> c) : s_(s), c_(std::move(c)), conn_(c_.get()) {}
    explicit Reader(sqlite::Connection* scoped) : s_(nullptr), conn_(scoped) {}
    Reader(Reader&&) = default;
    ~Reader();
    sqlite::Connection& operator*() { return *conn_; }
    sqlite::Connection* operator->() { return conn_; }

   private:
    SqliteStore* s_;
    std::unique_ptr<sqlite::Connection> c_;  // null when borrowed
    sqlite::Connection* conn_;
  };
  class Scope;  // read_scope()'s, in sqlite_store.cc

  // The outcome of one write inside apply(): its version, or why the message must fail.
  using WriteOutcome = std::variant<WrittenVersion, std::string>;

  SqliteStore(std::string path, StoreOptions options, std::unique_ptr<sqlite::Connection> writer);

  StoreResult<Reader> reader();
  // search() and search_versions(): P is Page or VersionPage (sqlite_search.cc).
  template <class P>
  StoreResult<P> search_page(const Query& q);
  // The store's clock as canonical text, never earlier than a time it returned before, so that
  // lastUpdated never goes backwards (keyset pages sorted by it rely on that). REQUIRES write_mu_.
  std::string now_locked();

  // apply() steps; all REQUIRE write_mu_ and an open transaction on writer_.
  // Returns the failure reason of the message, or "" when it applied.
  StoreResult<std::string> apply_message(const Message& m, const std::string& now,
                                         MessageOutcome* out);
  StoreResult<std::int64_t> insert_journal(const JournalEntry& e, JournalStatus status,
                                           const std::string& reason, std::int64_t duplicate_of,
                                           const std::string& now);
  StoreResult<WriteOutcome> write_entity(const EntityWrite& w, std::int64_t journal_seq,
                                         const std::string& provenance_id, const std::string& now);
  // Makes the entity's idx_term rows those of `terms` (none when null), writing only the rows
  // that differ from the current ones. `existed`: the entity had an entity_current row before
  // this write; when it had not, it cannot have index rows (FORMAT.md E3) and none are read.
  StoreStatus write_index(care::EntityType type, const std::string& id, const IndexTerms* terms,
                          bool existed = true);
  StoreResult<std::string> update_merge_link(const care::Patient& p, std::int64_t journal_seq,
                                             const std::string& now);
  // Inserts `records` (records.size() rows, and their patients) with a few multi-row statements.
  StoreStatus insert_audit(std::span<const AuditRecord> records, const std::string& now);
  StoreStatus insert_outbox(const OutboxMessage& m, std::int64_t journal_seq, const std::string& now);
  // SQLite's WAL hook on writer_ (runs after each of its commits, under write_mu_): checkpoints.
  static int wal_hook(void* store, sqlite3* db, const char* schema, int pages);
  // Runs fn inside BEGIN IMMEDIATE .. COMMIT on writer_, rolling back when it fails.
  // REQUIRES write_mu_.
  StoreStatus write_transaction(const std::function<StoreStatus()>& fn);

  const std::string path_;
  const StoreOptions options_;

  std::mutex write_mu_;
  std::unique_ptr<sqlite::Connection> writer_;  // GUARDED_BY(write_mu_)
  std::int64_t last_ms_ = 0;                    // GUARDED_BY(write_mu_)
  int wal_pages_checkpointed_ = 0;              // GUARDED_BY(write_mu_): log pages at the last checkpoint
  std::uint64_t wal_checkpoints_ = 0;           // GUARDED_BY(write_mu_)

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_;  // GUARDED_BY(pool_mu_)
};

}  // namespace midhurst::store
