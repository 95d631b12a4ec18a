// SqliteStore::cited_by and provenances_of: the entity versions a Provenance produced (its
// targets), found through the entity_version_provenance index (migration 5), and the other way
// round, the Provenance of each version of an entity, through entity_version's (type, id,
// version) key: both directions are indexed without a table of their own.
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

StoreResult<std::vector<std::string>> SqliteStore::provenances_of(care::EntityType type, std::string_view id,
                                                                  int limit) {
  if (limit < 1) return err(StoreError{StoreError::Code::kInvalidArgument, "provenances_of: limit must be at least 1"});
  std::vector<std::string> out;
  auto r = reader();
  if (!r.ok()) return err(r.error());
  // The versions of one entity are a range of the UNIQUE(type, id, version) index; a Provenance
  // shared by several versions (a message writing one entity twice) is listed once.
  auto q = (*r)->prepare("SELECT provenance_id FROM entity_version WHERE type=? AND id=? AND provenance_id <> '' "
                         "GROUP BY provenance_id ORDER BY min(version) LIMIT ?");
  if (!q.ok()) return err(q.error());
  q->bind_all(std::string(type_name(type)), id, limit);
  for (;;) {
    auto row = q->next();
    if (!row.ok()) return err(row.error());
    if (!*row) break;
    out.push_back(q->text(0));
  }
  return out;
}

}  // namespace midhurst::store
