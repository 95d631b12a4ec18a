// SqliteStore::cited_by: the entity versions a Provenance produced (its targets), found through
// the entity_version_provenance index (migration 5).
#include "store/any_entity.h"
#include "store/sqlite_store.h"

namespace midhurst::store {

StoreResult<std::vector<VersionKey>> SqliteStore::cited_by(std::string_view provenance_id, int limit) {
  if (limit < 1) return err(StoreError{StoreError::Code::kInvalidArgument, "cited_by: limit must be at least 1"});
  std::vector<VersionKey> out;
  if (provenance_id.empty()) return out;  // "" means "no Provenance", never an id
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto q = (*r)->prepare("SELECT type, id, version FROM entity_version WHERE provenance_id=? AND provenance_id <> '' ORDER BY seq LIMIT ?");
  if (!q.ok()) return err(q.error());
  q->bind_all(provenance_id, limit);
  for (;;) {
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (!*row) break;
    care::EntityType type;
    if (!parse_type_name(q->text(0), &type)) continue;  // a type this build does not know
    out.push_back({type, q->text(1), q->int64(2)});
  }
  return out;
}

}  // namespace midhurst::store
