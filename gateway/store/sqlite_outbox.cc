// SqliteStore: the outbox state machine (FORMAT.md, O1-O7) and audit listing.
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "store/sqlite_rows.h"
#include "store/sqlite_store.h"

namespace midhurst::store {

StoreStatus SqliteStore::insert_outbox(const OutboxMessage& m, std::int64_t journal_seq,
                                       const std::string& now) {
  auto q = writer_->prepare(
      "INSERT INTO outbox(journal_seq, destination, content_type, payload, state, next_attempt_at, "
      "created_at, updated_at) VALUES(?,?,?,?,'pending',?,?,?)");
  if (!q.ok()) return err(q.error());
  q->bind_all(journal_seq, m.destination, m.content_type);
  q->bind_blob(4, m.payload);
  q->bind(5, m.available_at.empty() ? now : m.available_at);
  q->bind(6, now);
  q->bind(7, now);
  return q->run();
}

StoreResult<std::vector<OutboxItem>> SqliteStore::claim_outbox(std::string_view worker,
                                                               std::chrono::milliseconds lease,
                                                               int limit) {
  std::vector<OutboxItem> out;
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string now = now_locked();
  const std::string until = format_instant(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(last_ms_)) + lease);
  StoreStatus s = write_transaction([&]() -> StoreStatus {
    std::vector<std::int64_t> seqs;
    {
      auto q = writer_->prepare(
          "SELECT seq FROM outbox WHERE (state='pending' AND next_attempt_at<=?) OR "
          "(state='in_flight' AND lease_until<?) ORDER BY seq LIMIT ?");
      if (!q.ok()) return err(q.error());
      q->bind_all(now, now, limit);
      for (;;) {
        auto row = q->next();
        if (!row.ok()) return err(row.error());
        if (!*row) break;
        seqs.push_back(q->int64(0));
      }
    }
    for (std::int64_t seq : seqs) {
      auto u = writer_->prepare(
          "UPDATE outbox SET state='in_flight', lease_owner=?, lease_until=?, "
          "attempts=attempts+1, updated_at=? WHERE seq=?");
      if (!u.ok()) return err(u.error());
      u->bind_all(worker, until, now, seq);
      if (auto st = u->run(); !st.ok()) return st;
      auto q = writer_->prepare(std::string("SELECT ") + sqlite::kOutboxColumns + " FROM outbox WHERE seq=?");
      if (!q.ok()) return err(q.error());
      q->bind(1, seq);
      if (auto row = q->next(); !row.ok()) return err(row.error());
      out.push_back(sqlite::outbox_from_row(*q));
    }
    return {};
  });
  if (!s.ok()) return err(s.error());
  return out;
}

namespace {

// Why a lease-guarded update changed nothing: no such item, or not held by that worker.
StoreError lease_error(sqlite::Connection& c, std::int64_t seq, std::string_view worker) {
  auto q = c.prepare("SELECT state, lease_owner FROM outbox WHERE seq=?");
  if (!q.ok()) return q.error();
  q->bind(1, seq);
  auto row = q->next();
  if (!row.ok()) return row.error();
  if (!*row) return StoreError{StoreError::Code::kNotFound, "no outbox item " + std::to_string(seq)};
  return StoreError{StoreError::Code::kConflict,
                    "outbox item " + std::to_string(seq) + " is " + q->text(0) +
                        (q->text(1).empty() ? "" : " held by '" + q->text(1) + "'") +
                        ", not in flight for '" + std::string(worker) + "'"};
}

}  // namespace

StoreStatus SqliteStore::complete_outbox(std::int64_t seq, std::string_view worker) {
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string now = now_locked();
  return write_transaction([&]() -> StoreStatus {
    auto u = writer_->prepare(
        "UPDATE outbox SET state='delivered', lease_owner='', lease_until='', last_error='', "
        "updated_at=? WHERE seq=? AND state='in_flight' AND lease_owner=?");
    if (!u.ok()) return err(u.error());
    u->bind_all(now, seq, worker);
    if (auto st = u->run(); !st.ok()) return st;
    if (writer_->changes() == 0) return err(lease_error(*writer_, seq, worker));
    return {};
  });
}

StoreStatus SqliteStore::fail_outbox(std::int64_t seq, std::string_view worker, std::string_view error,
                                     std::optional<std::chrono::system_clock::time_point> retry_at) {
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string now = now_locked();
  return write_transaction([&]() -> StoreStatus {
    auto u = writer_->prepare(
        "UPDATE outbox SET state=?, next_attempt_at=?, last_error=?, lease_owner='', "
        "lease_until='', updated_at=? WHERE seq=? AND state='in_flight' AND lease_owner=?");
    if (!u.ok()) return err(u.error());
    u->bind_all(retry_at ? "pending" : "dead", retry_at ? format_instant(*retry_at) : now, error, now,
                seq, worker);
    if (auto st = u->run(); !st.ok()) return st;
    if (writer_->changes() == 0) return err(lease_error(*writer_, seq, worker));
    return {};
  });
}

StoreStatus SqliteStore::revive_outbox(std::int64_t seq) {
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string now = now_locked();
  return write_transaction([&]() -> StoreStatus {
    auto u = writer_->prepare(
        "UPDATE outbox SET state='pending', next_attempt_at=?, updated_at=? WHERE seq=? AND state='dead'");
    if (!u.ok()) return err(u.error());
    u->bind_all(now, now, seq);
    if (auto st = u->run(); !st.ok()) return st;
    if (writer_->changes() == 0) return err(lease_error(*writer_, seq, ""));
    return {};
  });
}

StoreResult<std::optional<OutboxItem>> SqliteStore::outbox_item(std::int64_t seq) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare(std::string("SELECT ") + sqlite::kOutboxColumns + " FROM outbox WHERE seq=?");
  if (!q.ok()) return err(q.error());
  q->bind(1, seq);
  auto row = q->next();
  if (!row.ok()) return err(row.error());
  if (!*row) return std::optional<OutboxItem>();
  return std::optional<OutboxItem>(sqlite::outbox_from_row(*q));
}

namespace {

// The audit row's `patients` column (a JSON array of ids, written by sqlite_store.cc's
// insert_audit) as a list. Anything else is a damaged audit trail, reported rather than read
// as a record that touched no patient.
StoreResult<std::vector<std::string>> parse_patients(std::int64_t seq, const std::string& json) {
  std::vector<std::string> out;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsArray())
    return err(StoreError{StoreError::Code::kCorrupt,
                          "audit record " + std::to_string(seq) + ": patients is not a JSON array of ids"});
  for (const auto& v : d.GetArray()) {
    if (!v.IsString())
      return err(StoreError{StoreError::Code::kCorrupt,
                            "audit record " + std::to_string(seq) + ": patients holds a value that is not an id"});
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

}  // namespace

StoreResult<std::vector<AuditRecord>> SqliteStore::list_audit(std::int64_t after_seq, int limit,
                                                              std::string_view patient_id) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  std::vector<AuditRecord> out;
  auto q = (*r)->prepare(
      patient_id.empty()
          ? "SELECT seq, time, client, interaction, outcome, detail, patients FROM audit WHERE seq>? AND ?='' "
            "ORDER BY seq LIMIT ?"
          : "SELECT a.seq, a.time, a.client, a.interaction, a.outcome, a.detail, a.patients FROM audit_patient p "
            "JOIN audit a ON a.seq=p.audit_seq WHERE p.audit_seq>? AND p.patient_id=? "
            "ORDER BY p.audit_seq LIMIT ?");
  if (!q.ok()) return err(q.error());
  q->bind_all(after_seq, patient_id, limit);
  for (;;) {
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (!*row) break;
    AuditRecord a;
    a.seq = q->int64(0);
    a.time = q->text(1);
    a.client = q->text(2);
    a.interaction = q->text(3);
    a.outcome = q->text(4);
    a.detail = q->text(5);
    auto patients = parse_patients(a.seq, q->text(6));
    if (!patients.ok()) return err(patients.error());
    a.patients = std::move(*patients);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace midhurst::store
