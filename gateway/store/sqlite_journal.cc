// SqliteStore: journal reads and retention (prune_journal).
#include <string>

#include "store/sqlite_rows.h"
#include "store/sqlite_store.h"

namespace midhurst::store {

StoreResult<std::optional<JournalRecord>> SqliteStore::journal_entry(std::int64_t seq) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare(std::string("SELECT ") + sqlite::kJournalColumns + " FROM journal WHERE seq=?");
  if (!q.ok()) return err(q.error());
  q->bind(1, seq);
  auto row = q->next();
  if (!row.ok()) return err(row.error());
  if (!*row) return std::optional<JournalRecord>();
  return std::optional<JournalRecord>(sqlite::journal_from_row(*q));
}

StoreResult<std::optional<JournalRecord>> SqliteStore::find_journal(const Sender& sender,
                                                                    std::string_view control_id) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare(std::string("SELECT ") + sqlite::kJournalColumns +
                         " FROM journal WHERE sender_app=? AND sender_facility=? AND control_id=? "
                         "AND control_id<>'' AND status IN ('received','accepted')");
  if (!q.ok()) return err(q.error());
  q->bind_all(sender.application, sender.facility, control_id);
  auto row = q->next();
  if (!row.ok()) return err(row.error());
  if (!*row) return std::optional<JournalRecord>();
  return std::optional<JournalRecord>(sqlite::journal_from_row(*q));
}

StoreResult<std::vector<JournalRecord>> SqliteStore::list_journal(std::int64_t after_seq, int limit) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare(std::string("SELECT ") + sqlite::kJournalColumns +
                         " FROM journal WHERE seq>? ORDER BY seq LIMIT ?");
  if (!q.ok()) return err(q.error());
  q->bind_all(after_seq, limit);
  std::vector<JournalRecord> out;
  for (;;) {
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (!*row) break;
    out.push_back(sqlite::journal_from_row(*q));
  }
  return out;
}

StoreResult<PruneStats> SqliteStore::prune_journal(const RetentionPolicy& policy,
                                                   std::chrono::system_clock::time_point now) {
  // INV J5 (FORMAT.md): only entries whose processing is complete may go.
  static constexpr const char* kPrunable =
      "status <> 'received' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.journal_seq=journal.seq "
      "AND o.state IN ('pending','in_flight'))";
  PruneStats stats;
  std::lock_guard<std::mutex> lock(write_mu_);
  StoreStatus s = write_transaction([&]() -> StoreStatus {
    std::vector<Sender> senders;
    {
      auto q = writer_->prepare("SELECT DISTINCT sender_app, sender_facility FROM journal");
      if (!q.ok()) return err(q.error());
      for (;;) {
        auto row = q->next();
        if (!row.ok()) return err(row.error());
        if (!*row) break;
        senders.push_back(Sender{q->text(0), q->text(1)});
      }
    }
    for (const Sender& sender : senders) {
      const RetentionRule& rule = policy.rule_for(sender);
      std::vector<std::pair<std::int64_t, std::int64_t>> victims;  // seq, bytes
      std::int64_t total = 0;
      {
        auto q = writer_->prepare("SELECT coalesce(sum(payload_size),0) FROM journal "
                                  "WHERE sender_app=? AND sender_facility=?");
        if (!q.ok()) return err(q.error());
        q->bind_all(sender.application, sender.facility);
        if (auto row = q->next(); !row.ok()) return err(row.error());
        total = q->int64(0);
      }
      const std::string cutoff = rule.max_age ? format_instant(now - *rule.max_age) : std::string();
      auto q = writer_->prepare(std::string("SELECT seq, payload_size, stored_at FROM journal "
                                            "WHERE sender_app=? AND sender_facility=? AND ") +
                                kPrunable + " ORDER BY seq");
      if (!q.ok()) return err(q.error());
      q->bind_all(sender.application, sender.facility);
      for (;;) {
        auto row = q->next();
        if (!row.ok()) return err(row.error());
        if (!*row) break;
        const bool too_old = rule.max_age && q->text(2) < cutoff;
        const bool too_big = rule.max_bytes && total > *rule.max_bytes;
        if (!too_old && !too_big) break;  // oldest first: nothing later qualifies by age either
        victims.push_back({q->int64(0), q->int64(1)});
        total -= q->int64(1);
      }
      for (const auto& [seq, bytes] : victims) {
        auto del = writer_->prepare("DELETE FROM journal WHERE seq=?");
        if (!del.ok()) return err(del.error());
        del->bind(1, seq);
        if (auto st = del->run(); !st.ok()) return st;
        ++stats.entries;
        stats.bytes += bytes;
      }
    }
    return {};
  });
  if (!s.ok()) return err(s.error());
  return stats;
}

}  // namespace midhurst::store
