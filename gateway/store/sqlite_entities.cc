// SqliteStore: entity versions (write path inside apply(), and read, vread, history), the search
// index rows that follow each write, and A40 merge links.
#include <algorithm>
#include <string>
#include <vector>

#include "store/cursor.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_store.h"
#include "store/time_range.h"

namespace midhurst::store {

using sqlite::Stmt;

namespace {

StoreError invalid(std::string message) {
  return StoreError{StoreError::Code::kInvalidArgument, std::move(message)};
}

std::string name_of(care::EntityType type, const std::string& id) {
  return std::string(type_name(type)) + "/" + id;
}

}  // namespace

// --- Writing ----------------------------------------------------------------------------------

StoreResult<SqliteStore::WriteOutcome> SqliteStore::write_entity(const EntityWrite& w,
                                                                 std::int64_t journal_seq,
                                                                 const std::string& provenance_id,
                                                                 const std::string& now) {
  const std::string tname(type_name(w.type));
  std::string id = w.id;
  std::int64_t current = 0;  // 0 = never existed
  bool current_deleted = false;
  if (!id.empty()) {
    auto q = writer_->prepare("SELECT version, deleted FROM entity_current WHERE type=? AND id=?");
    if (!q.ok()) return err(q.error());
    q->bind_all(tname, id);
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (*row) {
      current = q->int64(0);
      current_deleted = q->int64(1) != 0;
    }
  }
  if (w.if_version && *w.if_version != current)
    return WriteOutcome(std::string("version conflict: ") + name_of(w.type, id) + " is at version " +
                        std::to_string(current) + ", the write expected " +
                        std::to_string(*w.if_version));
  if (!w.entity) {
    if (current == 0) return WriteOutcome("cannot delete " + name_of(w.type, id) + ": it does not exist");
    // Deleting what is already deleted changes nothing (FHIR delete is idempotent).
    if (current_deleted) {
      auto q = writer_->prepare("SELECT last_updated FROM entity_current WHERE type=? AND id=?");
      if (!q.ok()) return err(q.error());
      q->bind_all(tname, id);
      if (auto row = q->next(); !row.ok()) return err(row.error());
      return WriteOutcome(WrittenVersion{w.type, id, current, q->text(0), true});
    }
  }
  if (id.empty()) id = new_entity_id();
  const std::int64_t version = current + 1;

  std::string body;
  std::string version_provenance;
  IndexTerms terms;
  if (w.entity) {
    AnyEntity e = *w.entity;
    care::Entity& h = header(e);
    h.id = id;
    h.version = version;
    h.last_updated = now;
    if (!h.provenance && !provenance_id.empty() && w.type != care::EntityType::kProvenance)
      h.provenance = care::Reference{care::EntityType::kProvenance, provenance_id, std::nullopt, ""};
    if (h.provenance) version_provenance = h.provenance->id;
    body = to_json(e);
    terms = extract_terms(e);
    if (w.type == care::EntityType::kPatient) {
      auto r = update_merge_link(std::get<care::Patient>(e), journal_seq, now);
      if (!r.ok()) return err(r.error());
      if (!r->empty()) return WriteOutcome(*r);
    }
  }

  auto ins = writer_->prepare(
      "INSERT INTO entity_version(type, id, version, last_updated, deleted, journal_seq, "
      "provenance_id, body) VALUES(?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return err(ins.error());
  ins->bind_all(tname, id, version, now, w.entity ? 0 : 1, journal_seq, version_provenance, body);
  if (auto s = ins->run(); !s.ok()) return err(s.error());
  const std::int64_t seq = writer_->last_insert_rowid();

  auto cur = writer_->prepare(
      "INSERT INTO entity_current(type, id, version, seq, last_updated, deleted) VALUES(?,?,?,?,?,?) "
      "ON CONFLICT(type, id) DO UPDATE SET version=excluded.version, seq=excluded.seq, "
      "last_updated=excluded.last_updated, deleted=excluded.deleted");
  if (!cur.ok()) return err(cur.error());
  cur->bind_all(tname, id, version, seq, now, w.entity ? 0 : 1);
  if (auto s = cur->run(); !s.ok()) return err(s.error());

  if (auto s = write_index(w.type, id, w.entity ? &terms : nullptr, current != 0); !s.ok())
    return err(s.error());
  if (!w.entity && w.type == care::EntityType::kPatient) {
    // A deleted patient no longer redirects anyone, nor is redirected.
    auto del = writer_->prepare("DELETE FROM patient_link WHERE old_id=?");
    if (!del.ok()) return err(del.error());
    del->bind(1, id);
    if (auto s = del->run(); !s.ok()) return err(s.error());
  }
  return WriteOutcome(WrittenVersion{w.type, id, version, now, !w.entity});
}

// The rows write_index compares between versions (shared with the reindexing migrations).
using sqlite::TermRow;
using sqlite::term_rows;

StoreStatus SqliteStore::write_index(care::EntityType type, const std::string& id,
                                     const IndexTerms* terms, bool existed) {
  const std::string tname(type_name(type));
  std::vector<TermRow> next = terms ? term_rows(*terms) : std::vector<TermRow>();
  // The rows the entity has now (E3: those of its previous version). Most updates do not change
  // a search term (an ADT A08 repeats the demographics), so only the difference is written:
  // often nothing. A new entity has no rows (entity_current rows are never removed), and most
  // ingest writes are new entities (every message's Provenance), so the read is skipped for it.
  std::vector<TermRow> old;
  if (existed) {
    auto q = writer_->prepare("SELECT kind, param, a, b FROM idx_term WHERE type=? AND id=?");
    if (!q.ok()) return err(q.error());
    q->bind_all(tname, id);
    for (;;) {
      auto row = q->next();
      if (!row.ok()) return err(row.error());
      if (!*row) break;
      const std::string kind = q->text(0);
      old.push_back({kind.empty() ? '?' : kind[0], q->text(1), q->text(2), q->text(3)});
    }
    std::sort(old.begin(), old.end());
  }
  std::size_t i = 0, j = 0;
  while (i < old.size() || j < next.size()) {
    if (j == next.size() || (i < old.size() && old[i] < next[j])) {
      const TermRow& t = old[i++];
      auto q = writer_->prepare(
          "DELETE FROM idx_term WHERE kind=? AND type=? AND param=? AND a=? AND b=? AND id=?");
      if (!q.ok()) return err(q.error());
      q->bind_all_ref(std::string_view(&t.kind, 1), tname, t.param, t.a, t.b, id);
      if (auto s = q->run(); !s.ok()) return s;
    } else if (i == old.size() || next[j] < old[i]) {
      const TermRow& t = next[j++];
      auto q = writer_->prepare("INSERT INTO idx_term(kind, type, param, a, b, id) VALUES(?,?,?,?,?,?)");
      if (!q.ok()) return err(q.error());
      q->bind_all_ref(std::string_view(&t.kind, 1), tname, t.param, t.a, t.b, id);
      if (auto s = q->run(); !s.ok()) return s;
    } else {
      ++i, ++j;  // unchanged
    }
  }
  return {};
}

StoreResult<std::string> SqliteStore::update_merge_link(const care::Patient& p,
                                                        std::int64_t journal_seq,
                                                        const std::string& now) {
  if (!p.replaced_by || p.replaced_by->id.empty()) {
    // No (resolvable) replaced-by: this version is not merged away; an earlier link is undone
    // (A37 unlink writes the patient without replacedBy).
    auto del = writer_->prepare("DELETE FROM patient_link WHERE old_id=?");
    if (!del.ok()) return err(del.error());
    del->bind(1, p.id);
    if (auto s = del->run(); !s.ok()) return err(s.error());
    return std::string();
  }
  const std::string& target = p.replaced_by->id;
  // The final survivor of the target: merging into a record that was itself merged away means
  // merging into its survivor.
  std::string survivor = target;
  {
    auto q = writer_->prepare("SELECT survivor_id FROM patient_link WHERE old_id=?");
    if (!q.ok()) return err(q.error());
    q->bind(1, target);
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (*row) survivor = q->text(0);
  }
  if (survivor == p.id)
    return "cannot merge Patient/" + p.id + " into Patient/" + target + ": that record was merged into it";
  auto up = writer_->prepare(
      "INSERT INTO patient_link(old_id, survivor_id, merged_at, journal_seq) VALUES(?,?,?,?) "
      "ON CONFLICT(old_id) DO UPDATE SET survivor_id=excluded.survivor_id, "
      "merged_at=excluded.merged_at, journal_seq=excluded.journal_seq");
  if (!up.ok()) return err(up.error());
  up->bind_all(p.id, survivor, now, journal_seq);
  if (auto s = up->run(); !s.ok()) return err(s.error());
  // Collapse chains (INV M2 in FORMAT.md): whoever was merged into this record now points at its
  // survivor, so every lookup needs one step.
  auto chain = writer_->prepare("UPDATE patient_link SET survivor_id=? WHERE survivor_id=?");
  if (!chain.ok()) return err(chain.error());
  chain->bind_all(survivor, p.id);
  if (auto s = chain->run(); !s.ok()) return err(s.error());
  return std::string();
}

// --- Reading ----------------------------------------------------------------------------------

StoreResult<std::optional<EntityVersion>> SqliteStore::read(care::EntityType type,
                                                            std::string_view id) {
  // Every FHIR read comes here: the statement's text is built once, and the key is bound without
  // a copy (both outlive the step).
  static const std::string sql = std::string("SELECT ") + sqlite::kEntityColumns +
                                 " FROM entity_current c JOIN entity_version v ON v.seq=c.seq "
                                 "WHERE c.type=? AND c.id=?";
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare(sql);
  if (!q.ok()) return err(q.error());
  q->bind_all_ref(type_name(type), id);
  auto row = q->next();
  if (!row.ok()) return err(row.error());
  if (!*row) return std::optional<EntityVersion>();
  return std::optional<EntityVersion>(sqlite::entity_from_row(*q));
}

StoreResult<std::optional<EntityVersion>> SqliteStore::vread(care::EntityType type,
                                                             std::string_view id,
                                                             std::int64_t version) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare(std::string("SELECT ") + sqlite::kEntityColumns +
                         " FROM entity_version v WHERE v.type=? AND v.id=? AND v.version=?");
  if (!q.ok()) return err(q.error());
  q->bind_all(type_name(type), id, version);
  auto row = q->next();
  if (!row.ok()) return err(row.error());
  if (!*row) return std::optional<EntityVersion>();
  return std::optional<EntityVersion>(sqlite::entity_from_row(*q));
}

namespace {

// Shared by history and type_history: newest first by change seq, keyset on seq.
StoreResult<HistoryPage> run_history(sqlite::Connection& c, const std::string& where,
                                     const std::vector<std::string>& args, const HistoryQuery& q) {
  if (q.count < 1 || q.count > 1000) return err(invalid("history count must be 1..1000"));
  std::int64_t before = INT64_MAX;
  if (!q.cursor.empty()) {
    auto seq = decode_history_cursor(q.cursor);
    if (!seq) return err(invalid("bad history cursor '" + q.cursor + "'"));
    before = *seq;
  }
  std::string since_lo;
  if (!q.since.empty()) {
    auto r = date_range(q.since);
    if (!r) return err(invalid("bad _since '" + q.since + "'"));
    since_lo = r->lo;
  }
  auto s = c.prepare(std::string("SELECT ") + sqlite::kEntityColumns + ", v.seq FROM entity_version v WHERE " +
                     where + " AND v.seq < ? AND v.last_updated >= ? ORDER BY v.seq DESC LIMIT ?");
  if (!s.ok()) return err(s.error());
  int i = 0;
  for (const auto& a : args) s->bind(++i, a);
  s->bind(++i, before);
  s->bind(++i, since_lo);
  s->bind(++i, q.count + 1);
  HistoryPage page;
  std::int64_t last_seq = 0;
  for (;;) {
    auto row = s->next();
    if (!row.ok()) return err(row.error());
    if (!*row) break;
    if (static_cast<int>(page.entries.size()) == q.count) {
      page.next_cursor = encode_history_cursor(last_seq);
      break;
    }
    page.entries.push_back(sqlite::entity_from_row(*s));
    last_seq = s->int64(8);
  }
  return page;
}

}  // namespace

StoreResult<HistoryPage> SqliteStore::history(care::EntityType type, std::string_view id,
                                              const HistoryQuery& q) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  return run_history(**r, "v.type=? AND v.id=?", {std::string(type_name(type)), std::string(id)}, q);
}

StoreResult<HistoryPage> SqliteStore::type_history(care::EntityType type, const HistoryQuery& q) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  return run_history(**r, "v.type=?", {std::string(type_name(type))}, q);
}

StoreResult<std::string> SqliteStore::resolve_patient(std::string_view patient_id) {
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare("SELECT survivor_id FROM patient_link WHERE old_id=?");
  if (!q.ok()) return err(q.error());
  q->bind(1, patient_id);
  auto row = q->next();
  if (!row.ok()) return err(row.error());
  return *row ? q->text(0) : std::string(patient_id);
}

}  // namespace midhurst::store
