// Row <-> value conversions shared by the SqliteStore source files. Internal to gateway/store.
#pragma once

#include <string>
#include <vector>

#include "store/index_terms.h"
#include "store/sqlite_db.h"
#include "store/types.h"

namespace midhurst::store::sqlite {

// Columns read by entity_from_row, in order, from entity_version aliased `v`.
inline constexpr const char* kEntityColumns =
    "v.type, v.id, v.version, v.last_updated, v.deleted, v.body, v.journal_seq, v.provenance_id";
EntityVersion entity_from_row(const Stmt& s);

// Columns read by journal_from_row, from journal.
inline constexpr const char* kJournalColumns =
    "seq, kind, sender_app, sender_facility, control_id, received_at, stored_at, status, reason, "
    "duplicate_of, unmapped, payload";
JournalRecord journal_from_row(const Stmt& s);

// One idx_term row of an entity, less its (type, id): what write_index compares between versions
// and what the reindexing migrations write.
struct TermRow {
  char kind;  // FORMAT.md, idx_term: i s d t r
  std::string param, a, b;
  auto operator<=>(const TermRow&) const = default;
};
// The rows of `terms`, sorted and without repeats (the table's key holds a term once).
std::vector<TermRow> term_rows(const IndexTerms& terms);

// Columns read by outbox_from_row, from outbox.
inline constexpr const char* kOutboxColumns =
    "seq, journal_seq, destination, content_type, payload, state, attempts, next_attempt_at, "
    "lease_owner, lease_until, last_error, created_at, updated_at";
OutboxItem outbox_from_row(const Stmt& s);

}  // namespace midhurst::store::sqlite
