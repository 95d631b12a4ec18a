#include "store/sqlite_schema.h"

#include <optional>
#include <string>
#include <variant>

#include "care/json.h"
#include "store/any_entity.h"
#include "store/index_terms.h"
#include "store/sqlite_rows.h"

namespace midhurst::store::sqlite {

namespace {

// --- Migration 1: journal, entities with versions, search indexes, outbox, audit. ---
constexpr std::string_view kV1[] = {
    // Journal (FORMAT.md "journal"). seq is the rowid: assigned in commit order, never reused
    // (AUTOINCREMENT) so a pruned seq cannot be handed out again and confuse provenance.
    R"(CREATE TABLE journal(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         kind TEXT NOT NULL CHECK(kind IN ('hl7v2','fhir')),
         sender_app TEXT NOT NULL,
         sender_facility TEXT NOT NULL,
         control_id TEXT NOT NULL,
         received_at TEXT NOT NULL,
         stored_at TEXT NOT NULL,
         status TEXT NOT NULL
           CHECK(status IN ('received','accepted','rejected','duplicate','failed')),
         reason TEXT NOT NULL DEFAULT '',
         duplicate_of INTEGER NOT NULL DEFAULT 0,
         unmapped TEXT NOT NULL DEFAULT '[]',
         payload BLOB NOT NULL,
         payload_size INTEGER NOT NULL))",
    // The dedup key is held only by entries that were (or will be) processed: a rejected or failed
    // message may be sent again with the same control id and is then processed again.
    R"(CREATE UNIQUE INDEX journal_dedup ON journal(sender_app, sender_facility, control_id)
         WHERE control_id <> '' AND status IN ('received','accepted'))",
    "CREATE INDEX journal_sender ON journal(sender_app, sender_facility, seq)",
    // Every version of every entity. seq orders all changes (type history, keyset cursors).
    R"(CREATE TABLE entity_version(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         type TEXT NOT NULL,
         id TEXT NOT NULL,
         version INTEGER NOT NULL CHECK(version >= 1),
         last_updated TEXT NOT NULL,
         deleted INTEGER NOT NULL DEFAULT 0,
         journal_seq INTEGER NOT NULL DEFAULT 0,
         provenance_id TEXT NOT NULL DEFAULT '',
         body TEXT NOT NULL,
         UNIQUE(type, id, version)))",
    "CREATE INDEX entity_version_type ON entity_version(type, seq)",
    // The current version of each entity: what read and search see.
    R"(CREATE TABLE entity_current(
         type TEXT NOT NULL,
         id TEXT NOT NULL,
         version INTEGER NOT NULL,
         seq INTEGER NOT NULL,
         last_updated TEXT NOT NULL,
         deleted INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY(type, id)) WITHOUT ROWID)",
    "CREATE INDEX entity_current_lu ON entity_current(type, last_updated, id)",
    // Search indexes: rows for current, non-deleted versions only, replaced on every write.
    "CREATE TABLE idx_identifier(type TEXT NOT NULL, id TEXT NOT NULL, system TEXT NOT NULL, value TEXT NOT NULL)",
    "CREATE INDEX idx_identifier_value ON idx_identifier(value, system, type)",
    "CREATE INDEX idx_identifier_owner ON idx_identifier(type, id)",
    "CREATE TABLE idx_string(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL)",
    "CREATE INDEX idx_string_value ON idx_string(type, param, value)",
    "CREATE INDEX idx_string_owner ON idx_string(type, id)",
    "CREATE TABLE idx_date(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT NOT NULL)",
    "CREATE INDEX idx_date_lo ON idx_date(type, param, lo)",
    "CREATE INDEX idx_date_owner ON idx_date(type, id)",
    "CREATE TABLE idx_token(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL)",
    "CREATE INDEX idx_token_code ON idx_token(type, param, code)",
    "CREATE INDEX idx_token_owner ON idx_token(type, id)",
    "CREATE TABLE idx_ref(type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL)",
    "CREATE INDEX idx_ref_target ON idx_ref(target_id, type, param)",
    "CREATE INDEX idx_ref_owner ON idx_ref(type, id)",
    // Outbox (FORMAT.md "outbox": states and invariants O1-O7).
    R"(CREATE TABLE outbox(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         journal_seq INTEGER NOT NULL DEFAULT 0,
         destination TEXT NOT NULL,
         content_type TEXT NOT NULL DEFAULT '',
         payload BLOB NOT NULL,
         state TEXT NOT NULL CHECK(state IN ('pending','in_flight','delivered','dead')),
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at TEXT NOT NULL,
         lease_owner TEXT NOT NULL DEFAULT '',
         lease_until TEXT NOT NULL DEFAULT '',
         last_error TEXT NOT NULL DEFAULT '',
         created_at TEXT NOT NULL,
         updated_at TEXT NOT NULL))",
    "CREATE INDEX outbox_claim ON outbox(state, next_attempt_at, seq)",
    "CREATE INDEX outbox_journal ON outbox(journal_seq) WHERE state IN ('pending','in_flight')",
    // Audit trail, append-only.
    R"(CREATE TABLE audit(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         time TEXT NOT NULL,
         client TEXT NOT NULL,
         interaction TEXT NOT NULL,
         outcome TEXT NOT NULL,
         detail TEXT NOT NULL DEFAULT ''))",
    "CREATE TABLE audit_patient(audit_seq INTEGER NOT NULL, patient_id TEXT NOT NULL, PRIMARY KEY(patient_id, audit_seq)) WITHOUT ROWID",
    "CREATE INDEX audit_patient_seq ON audit_patient(audit_seq)",
};

// --- Migration 2: A40 merge links. ---
constexpr std::string_view kV2[] = {
    // old_id was merged into survivor_id. Chains are collapsed on write (when B merges into C,
    // every link to B is pointed at C), so one lookup finds the final survivor.
    R"(CREATE TABLE patient_link(
         old_id TEXT PRIMARY KEY,
         survivor_id TEXT NOT NULL,
         merged_at TEXT NOT NULL,
         journal_seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID)",
    "CREATE INDEX patient_link_survivor ON patient_link(survivor_id)",
};

// --- Migration 3: one search index table instead of five. ---
// Each of the five idx_* tables was a rowid table with two indexes, so a search term cost three
// B-tree inserts (and three B-trees dirtied per kind per commit). idx_term is clustered on the
// search key (WITHOUT ROWID) with one owner index: two inserts per term, two B-trees in all.
// `kind` keeps the five families apart: i identifier (a value, b system), s string (a normalised
// value), d date (a lo, b hi), t token (a code, b system), r reference (a target id, b target type).
// Its CHECK is not written `kind IN (...)`: SQLite evaluates an IN list of more than two values
// by building an ephemeral table on every INSERT, which cost more than the insert itself.
constexpr std::string_view kV3[] = {
    R"(CREATE TABLE idx_term(
         kind TEXT NOT NULL CHECK(length(kind) = 1 AND instr('isdtr', kind) > 0),
         type TEXT NOT NULL,
         param TEXT NOT NULL,
         a TEXT NOT NULL,
         b TEXT NOT NULL,
         id TEXT NOT NULL,
         PRIMARY KEY(kind, type, param, a, b, id)) WITHOUT ROWID)",
    "CREATE INDEX idx_term_owner ON idx_term(type, id)",
    // OR IGNORE: the old tables could hold one term twice (a given name repeated); the key holds
    // it once, and search never depended on the count.
    "INSERT OR IGNORE INTO idx_term SELECT 'i', type, 'identifier', value, system, id FROM idx_identifier",
    "INSERT OR IGNORE INTO idx_term SELECT 's', type, param, value, '', id FROM idx_string",
    "INSERT OR IGNORE INTO idx_term SELECT 'd', type, param, lo, hi, id FROM idx_date",
    "INSERT OR IGNORE INTO idx_term SELECT 't', type, param, code, system, id FROM idx_token",
    "INSERT OR IGNORE INTO idx_term SELECT 'r', type, param, target_id, target_type, id FROM idx_ref",
    "DROP TABLE idx_identifier",
    "DROP TABLE idx_string",
    "DROP TABLE idx_date",
    "DROP TABLE idx_token",
    "DROP TABLE idx_ref",
};

// --- Migration 4: search terms added to referrals and end-of-life plans. ---
// Referral recipient-status (Task.status) and the plan's `item` terms (index_terms.h), so that
// searches by Task status, Flag and Observation code and category filter in SQL. No DDL: the
// code step (migration_code) reindexes the stored entities of those types.

// --- Migration 5: Provenance targets, record-status terms. ---
// The versions each Provenance produced (Store::cited_by, Provenance.target on a read), and
// index_terms.h's record-status (Flag.status) and absent recipient-status (Task.status default)
// terms: the code step reindexes referrals and end-of-life plans.
constexpr std::string_view kV5[] = {
    "CREATE INDEX IF NOT EXISTS entity_version_provenance ON entity_version(provenance_id) WHERE provenance_id <> ''",
};

// --- Migration 6: an audit record's patients in its own row. ---
// Each audit record (one per FHIR read) cost an audit_patient row in two B-trees: its key
// (patient_id, audit_seq), which AuditEvent search by patient uses, and audit_patient_seq, used
// only to list a record's patients. The list now sits in the audit row (`patients`, a JSON array
// of ids), filled from audit_patient for the records already stored (in the order the index
// gave them: by id), and the second index is gone: one B-tree insert fewer per read. Code, not
// statements (migration_code): the column is added only when missing, so the step can run again
// on a file that has it (one whose schema_version was set back).
constexpr std::string_view kV6Fill[] = {
    "UPDATE audit SET patients = (SELECT json_group_array(patient_id) FROM audit_patient WHERE audit_seq = audit.seq) "
    "WHERE seq IN (SELECT audit_seq FROM audit_patient)",
    "DROP INDEX IF EXISTS audit_patient_seq",
};

// --- Migration 8: the journal's and the outbox's state CHECKs without IN lists. ---
// SQLite evaluates `status IN (five values)` in a CHECK by building an ephemeral B-tree of the
// list on every INSERT and UPDATE of the row: about a third of the ingest committer's work per
// message (the outbox's four states cost the same on every insert, claim and completion). The
// same values compared with OR build nothing. SQLite cannot change a CHECK in place, so each
// table is rebuilt (its rows copied with their seq) and its indexes recreated; the AUTOINCREMENT
// counter is carried over, so that a seq pruned from the end is still never reused.
constexpr std::string_view kV8[] = {
    R"(CREATE TABLE journal_v8(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         kind TEXT NOT NULL CHECK(kind IN ('hl7v2','fhir')),
         sender_app TEXT NOT NULL,
         sender_facility TEXT NOT NULL,
         control_id TEXT NOT NULL,
         received_at TEXT NOT NULL,
         stored_at TEXT NOT NULL,
         status TEXT NOT NULL
           CHECK(status = 'received' OR status = 'accepted' OR status = 'rejected' OR
                 status = 'duplicate' OR status = 'failed'),
         reason TEXT NOT NULL DEFAULT '',
         duplicate_of INTEGER NOT NULL DEFAULT 0,
         unmapped TEXT NOT NULL DEFAULT '[]',
         payload BLOB NOT NULL,
         payload_size INTEGER NOT NULL))",
    R"(INSERT INTO journal_v8(seq, kind, sender_app, sender_facility, control_id, received_at, stored_at,
                             status, reason, duplicate_of, unmapped, payload, payload_size)
       SELECT seq, kind, sender_app, sender_facility, control_id, received_at, stored_at,
              status, reason, duplicate_of, unmapped, payload, payload_size FROM journal ORDER BY seq)",
    "DELETE FROM sqlite_sequence WHERE name='journal_v8'",
    "INSERT INTO sqlite_sequence(name, seq) SELECT 'journal_v8', seq FROM sqlite_sequence WHERE name='journal'",
    "DROP TABLE journal",
    // RENAME also renames the table's sqlite_sequence row.
    "ALTER TABLE journal_v8 RENAME TO journal",
    R"(CREATE UNIQUE INDEX journal_dedup ON journal(sender_app, sender_facility, control_id)
         WHERE control_id <> '' AND status IN ('received','accepted'))",
    "CREATE INDEX journal_sender ON journal(sender_app, sender_facility, seq)",
    R"(CREATE TABLE outbox_v8(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         journal_seq INTEGER NOT NULL DEFAULT 0,
         destination TEXT NOT NULL,
         content_type TEXT NOT NULL DEFAULT '',
         payload BLOB NOT NULL,
         state TEXT NOT NULL
           CHECK(state = 'pending' OR state = 'in_flight' OR state = 'delivered' OR state = 'dead'),
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at TEXT NOT NULL,
         lease_owner TEXT NOT NULL DEFAULT '',
         lease_until TEXT NOT NULL DEFAULT '',
         last_error TEXT NOT NULL DEFAULT '',
         created_at TEXT NOT NULL,
         updated_at TEXT NOT NULL))",
    R"(INSERT INTO outbox_v8(seq, journal_seq, destination, content_type, payload, state, attempts,
                            next_attempt_at, lease_owner, lease_until, last_error, created_at, updated_at)
       SELECT seq, journal_seq, destination, content_type, payload, state, attempts,
              next_attempt_at, lease_owner, lease_until, last_error, created_at, updated_at FROM outbox ORDER BY seq)",
    "DELETE FROM sqlite_sequence WHERE name='outbox_v8'",
    "INSERT INTO sqlite_sequence(name, seq) SELECT 'outbox_v8', seq FROM sqlite_sequence WHERE name='outbox'",
    "DROP TABLE outbox",
    "ALTER TABLE outbox_v8 RENAME TO outbox",
    "CREATE INDEX outbox_claim ON outbox(state, next_attempt_at, seq)",
    "CREATE INDEX outbox_journal ON outbox(journal_seq) WHERE state IN ('pending','in_flight')",
};

constexpr Migration kMigrations[] = {
    {1, "journal, versioned entities, search indexes, outbox, audit", kV1},
    {2, "A40 merge links (patient_link)", kV2},
    {3, "one clustered search index table (idx_term)", kV3},
    {4, "search terms for Task status and end-of-life items (reindex)", {}},
    {5, "Provenance targets index; record-status and absent Task status terms (reindex)", kV5},
    {6, "audit records list their patients (audit.patients); audit_patient_seq dropped", {}},
    {7, "item terms per prognosis-awareness position and for an AKPS score, to count Observations (reindex)", {}},
    {8, "the journal's and the outbox's state CHECKs without IN lists (tables rebuilt)", kV8},
};

// The care entity of `type` from its stored JSON body; the parse error's text on failure.
template <std::size_t I = 0>
Result<AnyEntity, std::string> parse_entity(care::EntityType type, std::string_view json) {
  if constexpr (I == std::variant_size_v<AnyEntity>) {
    return err(std::string("not an entity type"));
  } else {
    using T = std::variant_alternative_t<I, AnyEntity>;
    if (type_of(AnyEntity(T{})) != type) return parse_entity<I + 1>(type, json);
    auto e = care::from_json<T>(json);
    if (!e.ok()) return err(e.error().to_string());
    return AnyEntity(std::move(*e));
  }
}

// Rewrites the idx_term rows of every current, non-deleted entity of `types` from its stored body
// (term_rows: the same rows as SqliteStore::write_index). A body that no longer parses as the
// care model (a field required since it was stored) keeps the rows it has: it stays findable as
// before, and its next version is indexed in full. Opening the store must not fail on it.
StoreStatus reindex(Connection& c, std::initializer_list<care::EntityType> types) {
  for (care::EntityType type : types) {
    const std::string tname(type_name(type));
    auto rows = c.prepare("SELECT c.id, v.body FROM entity_current c JOIN entity_version v ON v.seq=c.seq "
                          "WHERE c.type=? AND c.deleted=0");
    if (!rows.ok()) return err(rows.error());
    rows->bind(1, tname);
    for (;;) {
      auto row = rows->next();
      if (!row.ok()) return err(row.error());
      if (!*row) break;
      const std::string id = rows->text(0);
      auto entity = parse_entity(type, rows->text(1));
      if (!entity.ok()) continue;
      // Statements come from the connection's cache and are reset when a Stmt is released, so
      // each execution borrows its statement anew.
      auto remove = c.prepare("DELETE FROM idx_term WHERE type=? AND id=?");
      if (!remove.ok()) return err(remove.error());
      remove->bind_all(tname, id);
      if (auto s = remove->run(); !s.ok()) return s;
      for (const TermRow& term : term_rows(extract_terms(*entity))) {
        auto insert = c.prepare("INSERT INTO idx_term(kind, type, param, a, b, id) VALUES(?,?,?,?,?,?)");
        if (!insert.ok()) return err(insert.error());
        insert->bind_all(std::string(1, term.kind), tname, term.param, term.a, term.b, id);
        if (auto s = insert->run(); !s.ok()) return s;
      }
    }
  }
  return {};
}

// Migration 6 (above kV6Fill): audit.patients added when missing, filled, the index dropped.
StoreStatus audit_patients_column(Connection& c) {
  bool has = false;
  {
    auto q = c.prepare("SELECT count(*) FROM pragma_table_info('audit') WHERE name='patients'");
    if (!q.ok()) return err(q.error());
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    has = *row && q->int64(0) > 0;
  }
  if (!has)
    if (auto s = c.exec("ALTER TABLE audit ADD COLUMN patients TEXT NOT NULL DEFAULT '[]'"); !s.ok()) return s;
  for (std::string_view sql : kV6Fill)
    if (auto s = c.exec(sql); !s.ok()) return s;
  return {};
}

// --- Migration 7: the end-of-life plan's `item` terms name each prognosis-awareness position
// ("prognosis.awareness[0]"...) and a scored functional status ("functionalStatus.akpsScore"),
// so that the Observations rendered from them are counted in SQL (fhir_rest_search.h,
// plan_count). No DDL: the code step reindexes the stored plans.

// Steps of a migration that need code, run after its statements in its transaction.
StoreStatus migration_code(Connection& c, int version) {
  if (version == 4 || version == 5)
    return reindex(c, {care::EntityType::kReferral, care::EntityType::kEndOfLifePlan});
  if (version == 7) return reindex(c, {care::EntityType::kEndOfLifePlan});
  if (version == 6) return audit_patients_column(c);
  return {};
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }
int latest_schema_version() { return kMigrations[std::size(kMigrations) - 1].version; }

StoreResult<int> schema_version(Connection& c) {
  auto has = c.prepare("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name=?");
  if (!has.ok()) return err(has.error());
  has->bind(1, "schema_version");
  auto row = has->next();
  if (!row.ok()) return err(row.error());
  if (has->int64(0) == 0) {
    auto any = c.prepare("SELECT count(*) FROM sqlite_schema");
    if (!any.ok()) return err(any.error());
    auto r = any->next();
    if (!r.ok()) return err(r.error());
    if (any->int64(0) != 0)
      return err(StoreError{StoreError::Code::kCorrupt,
                            "the database has tables but no schema_version: not a Midhurst store"});
    return 0;
  }
  auto v = c.prepare("SELECT version FROM schema_version");
  if (!v.ok()) return err(v.error());
  auto r = v->next();
  if (!r.ok()) return err(r.error());
  if (!*r) return err(StoreError{StoreError::Code::kCorrupt, "schema_version is empty"});
  return static_cast<int>(v->int64(0));
}

StoreStatus migrate(Connection& c, int target) {
  if (target < 0) target = latest_schema_version();
  auto current = schema_version(c);
  if (!current.ok()) return err(current.error());
  if (*current > latest_schema_version())
    return err(StoreError{StoreError::Code::kCorrupt,
                          "the store is at schema version " + std::to_string(*current) +
                              ", newer than this build's " +
                              std::to_string(latest_schema_version()) + "; upgrade Midhurst"});
  for (const Migration& m : kMigrations) {
    if (m.version <= *current || m.version > target) continue;
    // BEGIN IMMEDIATE: take the write lock first, so two processes opening an old file at once
    // cannot both run the same migration.
    if (auto s = c.exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    auto fail = [&](StoreError e) -> StoreStatus {
      (void)c.exec("ROLLBACK");
      e.message = "migration " + std::to_string(m.version) + " (" + std::string(m.description) +
                  "): " + e.message;
      return err(std::move(e));
    };
    // Re-read inside the transaction: another process may have migrated meanwhile.
    auto now = schema_version(c);
    if (!now.ok()) return fail(now.error());
    if (*now >= m.version) {
      (void)c.exec("ROLLBACK");
      continue;
    }
    for (std::string_view sql : m.statements)
      if (auto s = c.exec(sql); !s.ok()) return fail(s.error());
    if (auto s = migration_code(c, m.version); !s.ok()) return fail(s.error());
    std::string bump = m.version == 1
                           ? "CREATE TABLE schema_version(version INTEGER NOT NULL); "
                             "INSERT INTO schema_version VALUES(1)"
                           : "UPDATE schema_version SET version=" + std::to_string(m.version);
    if (auto s = c.exec(bump); !s.ok()) return fail(s.error());
    if (auto s = c.exec("COMMIT"); !s.ok()) return fail(s.error());
  }
  return {};
}

}  // namespace midhurst::store::sqlite
