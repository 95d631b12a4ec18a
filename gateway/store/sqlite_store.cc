// SqliteStore: opening, connections, the clock, and apply() (the write path).
// Entity writes and reads: sqlite_entities.cc; search: sqlite_search.cc; journal reads and
// retention: sqlite_journal.cc; outbox and audit: sqlite_outbox.cc.
#include "store/sqlite_store.h"

#include <algorithm>
#include <bit>

#include "store/fault.h"
#include "store/sqlite_schema.h"

namespace midhurst::store {

namespace {

StoreError invalid(std::string message) {
  return StoreError{StoreError::Code::kInvalidArgument, std::move(message)};
}

// Checks the REQUIRES of types.h before any work, so a bad batch fails whole and early.
StoreStatus validate(const Batch& batch) {
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    const Message& m = batch.messages[i];
    const std::string where = "batch message " + std::to_string(i) + ": ";
    if (m.journal.status == JournalStatus::kDuplicate)
      return err(invalid(where + "status duplicate is decided by the store, not given"));
    if (m.journal.status != JournalStatus::kAccepted && (!m.writes.empty() || !m.outbox.empty()))
      return err(invalid(where + "a " + journal_status_name(m.journal.status) +
                         " message cannot carry entity writes or outbox items"));
    for (const EntityWrite& w : m.writes) {
      if (w.entity && type_of(*w.entity) != w.type)
        return err(invalid(where + "write type " + std::string(type_name(w.type)) +
                           " does not match its entity " + std::string(type_name(type_of(*w.entity)))));
      if (!w.entity && w.id.empty()) return err(invalid(where + "a delete needs an id"));
      if (w.entity && w.id != header(*w.entity).id)
        return err(invalid(where + "write id differs from its entity's id"));
    }
    for (const OutboxMessage& o : m.outbox)
      if (o.destination.empty()) return err(invalid(where + "an outbox item needs a destination"));
  }
  return {};
}

}  // namespace

// After every commit of the writer (SQLite's WAL hook, in place of its auto-checkpoint).
//
// SQLite's auto-checkpoint is PASSIVE and runs after every commit once the log holds 1000
// pages. A passive checkpoint copies into the database what no reader still needs, and the log
// is rewound to its start only when no reader is using it at all. Under a steady stream of
// overlapping reads that moment never comes: the log grows without bound (measured: 650 MB
// after two minutes of mixed reads and ingest), and, since it stays over 1000 pages, every
// commit ran a checkpoint, each with two more fsyncs (the log, then the database file) on the
// writer's path, holding write_mu_ while ingest batches and audit records waited for it.
//  - So a passive checkpoint runs once per kPassivePages pages added to the log since the last
//    one, not after every commit: the same copying, one pair of fsyncs per 4 MiB of log.
//    (Readers find what it copied in the database file; they skip the copied part of the log.)
//  - From `wal_restart_pages` on, that checkpoint is a rewind: the writer waits briefly for the
//    readers of the moment to finish (the server's read transactions are single queries) and
//    rewinds the log (RESTART); readers that start meanwhile read from the database file. One
//    that cannot finish in that time is harmless: it is tried again a step of pages later.
int SqliteStore::wal_hook(void* store, sqlite3* db, const char* schema, int pages) {
  auto& s = *static_cast<SqliteStore*>(store);
  constexpr int kPassivePages = 1000;
  constexpr int kRestartWaitMs = 50;
  // Fewer pages than at the last checkpoint: the log was rewound since (by a RESTART, or by
  // SQLite when a write found it fully copied and unused).
  if (pages < s.wal_pages_checkpointed_) s.wal_pages_checkpointed_ = 0;
  const int step = std::min(kPassivePages, s.options_.wal_restart_pages);
  if (pages - s.wal_pages_checkpointed_ < step) return SQLITE_OK;
  if (pages >= s.options_.wal_restart_pages) {
    // A rewind that could not finish (a reader held on) is retried a step later, not after
    // every commit, so a long reader costs the writer one wait per 4 MiB of log.
    sqlite3_busy_timeout(db, kRestartWaitMs);
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    sqlite3_busy_timeout(db, static_cast<int>(s.options_.busy_timeout.count()));
  } else {
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  s.wal_pages_checkpointed_ = pages;
  ++s.wal_checkpoints_;
  return SQLITE_OK;
}

// --- Opening and connections ------------------------------------------------------------------

StoreResult<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                            const StoreOptions& options) {
  auto writer = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                         options.busy_timeout);
  if (!writer.ok()) return err(writer.error());
  sqlite::Connection& c = **writer;
  auto fail = [&](StoreError e) {
    e.message = "cannot open store at '" + path + "': " + e.message;
    return err(std::move(e));
  };
  // journal_mode answers with the mode in force: a file that cannot use WAL (e.g. on a
  // filesystem without shared memory) must be refused, not silently run in another mode.
  {
    auto mode = c.prepare("PRAGMA journal_mode=WAL");
    if (!mode.ok()) return fail(mode.error());
    auto row = mode->next();
    if (!row.ok()) return fail(row.error());
    if (!*row || mode->text(0) != "wal")
      return fail(StoreError{StoreError::Code::kIo, "the file cannot be put in WAL mode"});
  }
  if (auto s = c.exec(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF"); !s.ok())
    return fail(s.error());
  // apply() opens a SAVEPOINT per message, so SQLite keeps a statement sub-journal of every
  // page each message touches. With the default temp_store that sub-journal is a new temporary
  // file per transaction (open, ~hundreds of pwrites, unlink). It only serves ROLLBACK TO
  // inside the open transaction and plays no part in crash recovery (the WAL does), so memory
  // is just as safe and removes that I/O from every commit.
  if (auto s = c.exec("PRAGMA temp_store=MEMORY"); !s.ok()) return fail(s.error());
  // The writer's page cache holds every page a transaction dirties until it commits; past the
  // default 2 MiB, a big group commit (or a bulk load) spills pages to the WAL mid-transaction
  // and writes them twice. 32 MiB is an upper bound, allocated only as pages are used.
  if (auto s = c.exec("PRAGMA cache_size=-32768"); !s.ok()) return fail(s.error());
  if (auto s = sqlite::migrate(c); !s.ok()) return fail(s.error());
  c.set_faults(options.faults);
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(path, options, std::move(*writer)));
  sqlite3_wal_hook(store->writer_->db(), &SqliteStore::wal_hook, store.get());
  return store;
}

SqliteStore::SqliteStore(std::string path, StoreOptions options,
                         std::unique_ptr<sqlite::Connection> writer)
    : path_(std::move(path)), options_(std::move(options)), writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() = default;

namespace {
// The read scope this thread holds (read_scope()), if any: its store and connection.
struct ScopedReader {
  const SqliteStore* store = nullptr;
  sqlite::Connection* connection = nullptr;
};
thread_local ScopedReader t_scoped;
}  // namespace

StoreResult<SqliteStore::Reader> SqliteStore::reader() {
  if (t_scoped.store == this) return Reader(t_scoped.connection);
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(this, std::move(c));
    }
  }
  auto c = sqlite::Connection::open(path_, SQLITE_OPEN_READWRITE, options_.busy_timeout);
  if (!c.ok()) return err(c.error());
  // query_only: a bug that tried to write through a reader fails loudly instead of taking the
  // write lock behind the writer's back.
  if (auto s = (*c)->exec("PRAGMA query_only=1"); !s.ok()) return err(s.error());
  return Reader(this, std::move(*c));
}

SqliteStore::Reader::~Reader() {
  if (!c_) return;
  std::lock_guard<std::mutex> lock(s_->pool_mu_);
  if (static_cast<int>(s_->idle_readers_.size()) < s_->options_.reader_pool)
    s_->idle_readers_.push_back(std::move(c_));
}

// A deferred BEGIN on a pooled reader: SQLite takes the snapshot (the WAL read mark, the page
// cache checked against the log) at the first read, and keeps it until COMMIT, so the reads of
// the scope pay for one read transaction between them. Should BEGIN fail, the scope pins
// nothing and each read takes its own transaction, as outside a scope.
class SqliteStore::Scope final : public Store::ReadScope {
 public:
  Scope(const SqliteStore* store, Reader reader) : reader_(std::move(reader)) {
    if (!reader_->run("BEGIN").ok()) return;
    t_scoped = {store, &*reader_};
    pinned_ = true;
  }
  ~Scope() override {
    if (!pinned_) return;
    t_scoped = {};
    // Ends the read transaction (nothing to write); a failure leaves it to ROLLBACK, so the
    // connection goes back to the pool with no transaction open.
    if (!reader_->run("COMMIT").ok()) (void)reader_->run("ROLLBACK");
  }

 private:
  Reader reader_;
  bool pinned_ = false;
};

std::unique_ptr<Store::ReadScope> SqliteStore::read_scope() {
  if (t_scoped.store == this) return std::make_unique<ReadScope>();  // nested: the outer one holds
  auto r = reader();
  if (!r.ok()) return std::make_unique<ReadScope>();  // reads will report the problem themselves
  return std::make_unique<Scope>(this, std::move(*r));
}

std::uint64_t SqliteStore::wal_checkpoints() {
  std::lock_guard<std::mutex> lock(write_mu_);
  return wal_checkpoints_;
}

std::string SqliteStore::now_locked() {
  auto t = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  // Non-decreasing, not strictly increasing: a strict clock would run ahead of real time under a
  // sustained rate above 1000 commits/s. Ties are broken by id in every sort order.
  last_ms_ = std::max(last_ms_, ms);
  return format_instant(std::chrono::system_clock::time_point(std::chrono::milliseconds(last_ms_)));
}

StoreStatus SqliteStore::write_transaction(const std::function<StoreStatus()>& fn) {
  // IMMEDIATE takes the write lock now, so a conflict with another process shows up as a busy
  // wait here rather than as a failed upgrade halfway through.
  if (auto s = writer_->run("BEGIN IMMEDIATE"); !s.ok()) return s;
  StoreStatus s = fn();
  if (s.ok() && options_.faults && options_.faults->should_fail("commit"))
    s = err(StoreError{StoreError::Code::kInjected, "injected fault before commit"});
  if (s.ok()) s = writer_->run("COMMIT");
  if (!s.ok()) (void)writer_->run("ROLLBACK");  // fails harmlessly when COMMIT already ended it
  return s;
}

// --- apply ------------------------------------------------------------------------------------

StoreResult<BatchResult> SqliteStore::apply(const Batch& batch) {
  if (auto s = validate(batch); !s.ok()) return err(s.error());
  BatchResult result;
  result.messages.resize(batch.messages.size());
  if (batch.messages.empty() && batch.audit.empty()) return result;

  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string now = now_locked();
  // A message whose writes fail must be undone alone (J3), which takes a savepoint per message;
  // but a savepoint makes SQLite copy every page the message touches into a statement journal,
  // a cost paid by every message for a failure that is rare. So a batch is first applied
  // without savepoints; if one of its messages fails, that whole attempt is rolled back and the
  // batch is applied again with a savepoint per message. Both attempts use the same `now`, and
  // nothing outside the transaction changes, so the retry is the same as a first try would be.
  bool failed_message = false;
  auto attempt = [&](bool savepoints) {
    return write_transaction([&]() -> StoreStatus {
      for (std::size_t i = 0; i < batch.messages.size(); ++i) {
        const Message& m = batch.messages[i];
        MessageOutcome& out = result.messages[i];
        out = MessageOutcome{};
        if (savepoints)
          if (auto sp = writer_->run("SAVEPOINT message"); !sp.ok()) return sp;
        auto r = apply_message(m, now, &out);
        if (!r.ok()) return err(r.error());  // the whole transaction is rolled back
        if (!r->empty()) {
          if (!savepoints) {
            failed_message = true;
            return err(StoreError{StoreError::Code::kConflict, "a message failed: retry with savepoints"});
          }
          if (auto rb = writer_->run("ROLLBACK TO message"); !rb.ok()) return rb;
          out = MessageOutcome{};
          out.status = JournalStatus::kFailed;
          out.reason = *r;
          auto seq = insert_journal(m.journal, JournalStatus::kFailed, *r, 0, now);
          if (!seq.ok()) return err(seq.error());
          out.journal_seq = *seq;
        }
        if (savepoints)
          if (auto rel = writer_->run("RELEASE message"); !rel.ok()) return rel;
      }
      return insert_audit(batch.audit, now);
    });
  };
  StoreStatus s = attempt(/*savepoints=*/false);
  if (!s.ok() && failed_message) s = attempt(/*savepoints=*/true);
  if (!s.ok()) return err(s.error());
  return result;
}

StoreResult<std::string> SqliteStore::apply_message(const Message& m, const std::string& now,
                                                    MessageOutcome* out) {
  const JournalEntry& j = m.journal;
  if (!j.control_id.empty()) {
    auto q = writer_->prepare(
        "SELECT seq, status FROM journal WHERE sender_app=? AND sender_facility=? AND "
        "control_id=? AND control_id<>'' AND status IN ('received','accepted')");
    if (!q.ok()) return err(q.error());
    q->bind_all(j.sender.application, j.sender.facility, j.control_id);
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (*row) {
      out->duplicate_of = q->int64(0);
      out->original_status = parse_journal_status(q->text(1)).value_or(JournalStatus::kAccepted);
      out->status = JournalStatus::kDuplicate;
      out->reason = "duplicate of journal entry " + std::to_string(out->duplicate_of);
      auto seq = insert_journal(j, JournalStatus::kDuplicate, out->reason, out->duplicate_of, now);
      if (!seq.ok()) return err(seq.error());
      out->journal_seq = *seq;
      return std::string();
    }
  }
  auto seq = insert_journal(j, j.status, j.reason, 0, now);
  if (!seq.ok()) return err(seq.error());
  out->journal_seq = *seq;
  out->status = j.status;
  out->reason = j.reason;

  // The message's Provenance is written first so every other version can point at it, and it
  // learns the journal seq that only exists now. Only the Provenance writes are copied to be
  // stamped; write_entity copies each entity once anyway to give it its header.
  std::vector<const EntityWrite*> writes(m.writes.size());
  std::vector<EntityWrite> stamped;
  stamped.reserve(static_cast<std::size_t>(std::count_if(m.writes.begin(), m.writes.end(), [](const EntityWrite& w) {
    return w.entity && w.type == care::EntityType::kProvenance;
  })));  // no reallocation: `writes` points into it
  std::string provenance_id;
  for (std::size_t i = 0; i < m.writes.size(); ++i) {
    const EntityWrite& w = m.writes[i];
    writes[i] = &w;
    if (!w.entity || w.type != care::EntityType::kProvenance) continue;
    EntityWrite& copy = stamped.emplace_back(w);
    auto& p = std::get<care::Provenance>(*copy.entity);
    if (p.id.empty()) p.id = copy.id = new_entity_id();
    p.journal_id = std::to_string(*seq);
    if (provenance_id.empty()) provenance_id = p.id;
    writes[i] = &copy;
  }
  std::vector<std::size_t> order(writes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(), [&](std::size_t i) {
    return writes[i]->type == care::EntityType::kProvenance;
  });
  out->versions.resize(writes.size());  // reported in the caller's order
  for (std::size_t i : order) {
    auto r = write_entity(*writes[i], *seq, provenance_id, now);
    if (!r.ok()) return err(r.error());
    if (auto* reason = std::get_if<std::string>(&*r)) return *reason;
    out->versions[i] = std::get<WrittenVersion>(*r);
  }
  for (const OutboxMessage& o : m.outbox)
    if (auto s = insert_outbox(o, *seq, now); !s.ok()) return err(s.error());
  return std::string();
}

StoreResult<std::int64_t> SqliteStore::insert_journal(const JournalEntry& e, JournalStatus status,
                                                      const std::string& reason,
                                                      std::int64_t duplicate_of,
                                                      const std::string& now) {
  auto q = writer_->prepare(
      "INSERT INTO journal(kind, sender_app, sender_facility, control_id, received_at, stored_at, "
      "status, reason, duplicate_of, unmapped, payload, payload_size) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!q.ok()) return err(q.error());
  q->bind_all(payload_kind_name(e.kind), e.sender.application, e.sender.facility, e.control_id,
              e.received_at.empty() ? now : e.received_at, now, journal_status_name(status), reason,
              duplicate_of, e.unmapped_json.empty() ? std::string("[]") : e.unmapped_json);
  q->bind_blob_ref(11, e.payload);  // the batch outlives the statement: no copy of the payload
  q->bind(12, static_cast<std::int64_t>(e.payload.size()));
  if (auto s = q->run(); !s.ok()) return err(s.error());
  return writer_->last_insert_rowid();
}

StoreStatus SqliteStore::finish_journal_entry(std::int64_t seq, JournalStatus status,
                                              std::string_view reason) {
  if (status == JournalStatus::kReceived || status == JournalStatus::kDuplicate)
    return err(invalid("a journal entry cannot be finished as " +
                       std::string(journal_status_name(status))));
  std::lock_guard<std::mutex> lock(write_mu_);
  return write_transaction([&]() -> StoreStatus {
    auto q = writer_->prepare("SELECT status FROM journal WHERE seq=?");
    if (!q.ok()) return err(q.error());
    q->bind(1, seq);
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (!*row)
      return err(StoreError{StoreError::Code::kNotFound, "no journal entry " + std::to_string(seq)});
    if (q->text(0) != "received")
      return err(StoreError{StoreError::Code::kConflict, "journal entry " + std::to_string(seq) +
                                                             " is " + q->text(0) + ", not received"});
    auto u = writer_->prepare("UPDATE journal SET status=?, reason=? WHERE seq=?");
    if (!u.ok()) return err(u.error());
    u->bind_all(journal_status_name(status), reason, seq);
    return u->run();
  });
}

StoreStatus SqliteStore::append_audit(std::vector<AuditRecord> records) {
  if (records.empty()) return {};
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string now = now_locked();
  return write_transaction([&]() -> StoreStatus { return insert_audit(records, now); });
}

// Audit records are what every FHIR read writes, so their insert is the store's most frequent
// write. One statement per row cost more in statement overhead (step, reset, the AUTOINCREMENT
// sequence row read and rewritten) than in the rows themselves, so records go in with multi-row
// INSERTs of kAuditChunkRows (then halves, down to 1, for the rest: a handful of cached
// statements). Their seqs are assigned here, as AUTOINCREMENT would (after the largest ever
// used), so that each record's audit_patient rows can name it without a round trip per record.
namespace {

constexpr std::size_t kAuditChunkRows = 32;

// "INSERT ... VALUES(row),(row)...": `rows` copies of `row` ("(?,?)") after `head`.
std::string multi_row_insert(std::string_view head, std::string_view row, std::size_t rows) {
  std::string sql(head);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i) sql += ',';
    sql += row;
  }
  return sql;
}

// The statement text for `rows` rows (a power of two up to kAuditChunkRows), built once.
std::string_view audit_insert_sql(std::size_t rows) {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> v;
    for (std::size_t n = 1; n <= kAuditChunkRows; n *= 2)
      v.push_back(multi_row_insert(
          "INSERT INTO audit(seq, time, client, interaction, outcome, detail, patients) VALUES", "(?,?,?,?,?,?,?)", n));
    return v;
  }();
  return sql[static_cast<std::size_t>(std::countr_zero(rows))];
}
std::string_view audit_patient_insert_sql(std::size_t rows) {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> v;
    for (std::size_t n = 1; n <= kAuditChunkRows; n *= 2)
      v.push_back(multi_row_insert("INSERT OR IGNORE INTO audit_patient(audit_seq, patient_id) VALUES", "(?,?)", n));
    return v;
  }();
  return sql[static_cast<std::size_t>(std::countr_zero(rows))];
}

// The largest power of two <= min(n, kAuditChunkRows); n > 0.
std::size_t chunk_rows(std::size_t n) { return std::bit_floor(std::min(n, kAuditChunkRows)); }

// The audit row's `patients` column: the record's patient ids as a JSON array of strings, sorted
// and each once, as audit_patient holds them (sqlite_outbox.cc's list_audit reads it back). Ids
// come from request paths and may hold any byte: quotes, backslashes and control characters are
// escaped, other bytes kept as they are.
std::string patients_json(const std::vector<std::string>& given) {
  std::vector<std::string> sorted;
  if (given.size() > 1) {
    sorted = given;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  }
  std::string out = "[";
  for (const std::string& p : given.size() > 1 ? sorted : given) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : p) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

}  // namespace

StoreStatus SqliteStore::insert_audit(std::span<const AuditRecord> records, const std::string& now) {
  if (records.empty()) return {};
  std::int64_t next_seq = 0;
  {
    auto q = writer_->prepare(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name='audit'), 0), "
        "coalesce((SELECT max(seq) FROM audit), 0))");
    if (!q.ok()) return err(q.error());
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    next_seq = (*row ? q->int64(0) : 0) + 1;
  }
  std::vector<std::string> patients(records.size());  // bound by reference until each run
  std::vector<std::pair<std::int64_t, const std::string*>> links;
  for (std::size_t done = 0; done < records.size();) {
    const std::size_t n = chunk_rows(records.size() - done);
    auto q = writer_->prepare(audit_insert_sql(n));
    if (!q.ok()) return err(q.error());
    for (std::size_t k = 0; k < n; ++k) {
      const AuditRecord& r = records[done + k];
      const std::int64_t seq = next_seq + static_cast<std::int64_t>(done + k);
      patients[done + k] = patients_json(r.patients);
      const int col = static_cast<int>(k) * 7;
      q->bind(col + 1, seq);
      q->bind_ref(col + 2, r.time.empty() ? now : r.time);
      q->bind_ref(col + 3, r.client);
      q->bind_ref(col + 4, r.interaction);
      q->bind_ref(col + 5, r.outcome);
      q->bind_ref(col + 6, r.detail);
      q->bind_ref(col + 7, patients[done + k]);
      for (const std::string& p : r.patients) links.emplace_back(seq, &p);
    }
    if (auto s = q->run(); !s.ok()) return s;
    done += n;
  }
  for (std::size_t done = 0; done < links.size();) {
    const std::size_t n = chunk_rows(links.size() - done);
    auto q = writer_->prepare(audit_patient_insert_sql(n));
    if (!q.ok()) return err(q.error());
    for (std::size_t k = 0; k < n; ++k) {
      q->bind(static_cast<int>(k) * 2 + 1, links[done + k].first);
      q->bind_ref(static_cast<int>(k) * 2 + 2, *links[done + k].second);
    }
    if (auto s = q->run(); !s.ok()) return s;
    done += n;
  }
  return {};
}

}  // namespace midhurst::store
