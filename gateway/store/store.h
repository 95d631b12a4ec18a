// Store: the gateway's durable state behind one interface (design.md "Store"): the journal of
// inbound payloads, care entities with their full version history and search indexes, merges,
// the outbox for later delivery, and the audit trail.
//
// Implementations: SqliteStore (sqlite_store.h, the embedded default); PostgreSQL next. Callers
// use only this header and open_store(); the shared test suite (suite_*_test.cc) runs against
// every implementation.
//
// Durability contract ("journal first", design.md): apply() commits the journal entries of a
// Batch together with every entity version, index row, merge link, outbox item and audit record
// they cause, in ONE transaction, and returns only after that transaction is durable. A caller
// may ACK a message iff apply() returned its outcome. After a crash, every batch is either
// entirely present or entirely absent (FORMAT.md, invariants J1-J6).
//
// Thread-safety: a Store is safe to use from many threads at once. Writes (apply and the other
// mutating methods) are serialised inside the store; reads run concurrently with each other and
// with a write, and see the state of the last committed transaction (snapshot per call). A Store
// must outlive every call in progress on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/options.h"
#include "store/types.h"

namespace midhurst::store {

class Store {
 public:
  virtual ~Store() = default;

  // --- Writing --------------------------------------------------------------------------------

  // Commits `batch` in one durable transaction (group commit: the caller collects the messages in
  // flight). For each message, in order:
  //  - a non-empty dedup key (sender application, facility, control id) already held by an entry
  //    in status received or accepted (in the store or earlier in this batch) makes the message a
  //    duplicate: a journal row with status duplicate is recorded and nothing else of the message
  //    is applied; the outcome names the original entry and its status;
  //  - otherwise the journal row is inserted, then each write becomes version n+1 of its entity
  //    (a new entity gets version 1; the store fills id when empty, version, lastUpdated; a
  //    Provenance in the same message gets journalId = the journal seq, and the other entities of
  //    the message without a provenance reference get one to it), the search indexes follow the
  //    new current version, a Patient whose replacedBy names an id records a merge link, and the
  //    outbox items are enqueued;
  //  - if a write of the message fails its precondition (if_version, a tombstone of an entity that
  //    does not exist), everything of that message is rolled back and it is journaled as failed
  //    with the reason; the other messages are unaffected.
  // Then the batch's audit records are appended and the transaction commits.
  // Returns one outcome per message. On error (I/O, busy, injected fault, a batch breaking a
  // REQUIRES of types.h) nothing of the batch is stored, and the store remains usable.
  virtual StoreResult<BatchResult> apply(const Batch& batch) = 0;

  // Moves a journal entry from received to a final status (the deferred-processing path: import,
  // replay). kNotFound when there is no such entry; kConflict when it is not in status received;
  // kInvalidArgument when `status` is received or duplicate.
  virtual StoreStatus finish_journal_entry(std::int64_t seq, JournalStatus status,
                                           std::string_view reason) = 0;

  // Appends audit records in their own transaction (reads of patient data are audited this way;
  // writes put theirs in the Batch). Fills seq and, when empty, time.
  virtual StoreStatus append_audit(std::vector<AuditRecord> records) = 0;

  // --- Journal --------------------------------------------------------------------------------

  // The journal row `seq`, or nullopt when there is none (never written, or pruned).
  virtual StoreResult<std::optional<JournalRecord>> journal_entry(std::int64_t seq) = 0;
  // The entry holding the dedup key (status received or accepted), or nullopt.
  virtual StoreResult<std::optional<JournalRecord>> find_journal(const Sender& sender,
                                                                 std::string_view control_id) = 0;
  // Up to `limit` rows with seq > after_seq in seq order (for replay and admin views).
  virtual StoreResult<std::vector<JournalRecord>> list_journal(std::int64_t after_seq, int limit) = 0;

  // Deletes journal entries that the policy no longer keeps: per sender, first those stored
  // longer than max_age before `now`, then the oldest until the sender's payload bytes are within
  // max_bytes. An entry whose processing is not complete (status received, or an outbox item it
  // caused still pending or in flight) is never deleted, even if the sender then stays over its
  // limit. Entities, provenance and outbox rows are kept (their journal_seq may then name a
  // pruned entry). A pruned entry's dedup key is free again: retention bounds the dedup window.
  virtual StoreResult<PruneStats> prune_journal(const RetentionPolicy& policy,
                                                std::chrono::system_clock::time_point now) = 0;

  // --- Entities -------------------------------------------------------------------------------

  // The current version of type/id, or nullopt when it never existed. A deleted entity returns
  // its tombstone (deleted = true), so callers can answer 410 Gone rather than 404.
  virtual StoreResult<std::optional<EntityVersion>> read(care::EntityType type,
                                                         std::string_view id) = 0;
  // Version `version` of type/id (a tombstone included), or nullopt.
  virtual StoreResult<std::optional<EntityVersion>> vread(care::EntityType type,
                                                          std::string_view id,
                                                          std::int64_t version) = 0;
  // The versions of one entity, newest first (empty when it never existed).
  virtual StoreResult<HistoryPage> history(care::EntityType type, std::string_view id,
                                           const HistoryQuery& q) = 0;
  // Every version of every entity of `type`, newest first.
  virtual StoreResult<HistoryPage> type_history(care::EntityType type, const HistoryQuery& q) = 0;

  // Current, non-deleted entities matching `q`, one page in q.sort order. kInvalidArgument for a
  // bad cursor, date, count or a cursor of another sort order.
  virtual StoreResult<Page> search(const Query& q) = 0;
  // What search(q) finds, in the same order and pages, as each entity's current version key
  // only: no body is read or copied. For a caller that keeps the parse of the versions it has
  // seen (the ingest's matching) and reads the body of an unseen one alone (vread).
  virtual StoreResult<VersionPage> search_versions(const Query& q) = 0;
  // How many entities match `q` (cursor and count ignored): _summary=count.
  virtual StoreResult<std::int64_t> count(const Query& q) = 0;

  // The entity versions whose Provenance is `provenance_id` (what it produced: Provenance.target),
  // oldest first, at most `limit`; tombstones included.
  virtual StoreResult<std::vector<VersionKey>> cited_by(std::string_view provenance_id, int limit) = 0;
  // The reverse (Provenance search by `target`): the distinct Provenance ids of the versions of
  // type/id (every version, not only the current one), oldest version first, at most `limit`.
  virtual StoreResult<std::vector<std::string>> provenances_of(care::EntityType type, std::string_view id,
                                                               int limit) = 0;

  // The surviving patient for `patient_id`: the id itself when it was never merged away, else
  // the end of its replaced-by chain.
  virtual StoreResult<std::string> resolve_patient(std::string_view patient_id) = 0;

  // --- Read scopes ------------------------------------------------------------------------------

  // While the returned scope lives, the reads that this thread makes on this store (the read
  // methods above) see committed state no older than the scope's start, and may all see the
  // same state: a commit made meanwhile can stay invisible to them until the scope ends. For a
  // caller making many small reads in a row (the ingest's matching, one scope per batch), so
  // that they cost one snapshot rather than one each. Other threads and writes are unaffected;
  // a scope opened while this thread already holds one on this store does nothing more. Destroy
  // it on the thread that opened it, before the store. The default shares nothing (each read
  // takes its own snapshot, as outside a scope).
  class ReadScope {
   public:
    virtual ~ReadScope() = default;
  };
  virtual std::unique_ptr<ReadScope> read_scope() { return std::make_unique<ReadScope>(); }

  // --- Outbox (FORMAT.md: state machine O1-O7) -------------------------------------------------

  // Claims up to `limit` items for `worker`, oldest first: pending items whose next_attempt_at has
  // come, and in-flight items whose lease expired. Each becomes in_flight with lease_owner =
  // worker, lease_until = now + lease, attempts + 1.
  virtual StoreResult<std::vector<OutboxItem>> claim_outbox(std::string_view worker,
                                                            std::chrono::milliseconds lease,
                                                            int limit) = 0;
  // Marks a claimed item delivered. kConflict when `worker` no longer holds its lease (it expired
  // and another worker claimed it): the caller must not assume its delivery counted.
  virtual StoreStatus complete_outbox(std::int64_t seq, std::string_view worker) = 0;
  // Records a failed attempt: back to pending, claimable from `retry_at`, or dead when retry_at is
  // nullopt. kConflict as for complete_outbox.
  virtual StoreStatus fail_outbox(std::int64_t seq, std::string_view worker, std::string_view error,
                                  std::optional<std::chrono::system_clock::time_point> retry_at) = 0;
  // Puts a dead item back to pending (an operator's retry). kConflict when it is not dead.
  virtual StoreStatus revive_outbox(std::int64_t seq) = 0;
  // The item, or nullopt.
  virtual StoreResult<std::optional<OutboxItem>> outbox_item(std::int64_t seq) = 0;

  // --- Audit ----------------------------------------------------------------------------------

  // Up to `limit` records with seq > after_seq, oldest first; only those touching `patient_id`
  // when it is not empty.
  virtual StoreResult<std::vector<AuditRecord>> list_audit(std::int64_t after_seq, int limit,
                                                           std::string_view patient_id) = 0;
};

// Opens (creating when missing, migrating when older) the store named by `url`:
//   sqlite:PATH   a SQLite file (its directory must exist)
// Errors name the url/path and the reason (kIo, kCorrupt for a file that is not a Midhurst store
// or comes from a newer version, kInvalidArgument for an unknown scheme).
StoreResult<std::unique_ptr<Store>> open_store(std::string_view url, const StoreOptions& options = {});

}  // namespace midhurst::store
