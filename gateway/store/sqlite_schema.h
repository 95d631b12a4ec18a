// The SQLite schema as a list of versioned migrations (FORMAT.md describes the tables).
//
// Migration N takes a database from schema version N-1 to N; `schema_version` holds one row with
// the version reached. open applies the missing migrations in order, each in its own transaction
// together with the version bump, so a crash during a migration leaves the previous version
// intact. A migration, once released, is never edited: changes go in a new one.
// Internal to gateway/store.
#pragma once

#include <span>
#include <string_view>

#include "store/sqlite_db.h"

namespace midhurst::store::sqlite {

struct Migration {
  int version;
  std::string_view description;
  std::span<const std::string_view> statements;
};

std::span<const Migration> migrations();
int latest_schema_version();

// The schema version of the database on `c`: 0 for an empty database. kCorrupt when it has
// tables but no schema_version (not a Midhurst store).
StoreResult<int> schema_version(Connection& c);

// Applies migrations until the database is at `target` (default: the latest). kCorrupt when the
// file is at a newer version than this build knows: opening it could misread it.
StoreStatus migrate(Connection& c, int target = -1);

}  // namespace midhurst::store::sqlite
