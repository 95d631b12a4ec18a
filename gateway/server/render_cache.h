// RenderCache: the FHIR read API's rendered resources, kept as compact FHIR JSON text so that a
// read or search of an entity version already served skips the care JSON parse, the care→fhir
// render and the JSON writer.
//
// Why it is safe: a rendered resource is fully determined by the stored row (entity type, id,
// version: versions are immutable), the renderer (a profile reload builds a new one) and the
// rendering request (resource type, resource id). Callers must not cache what reads more than
// the row: a Provenance lists its targets from the store's cited_by, which changes as entities
// cite it, so Provenance renders are never cached (fhir_rest.cc). A read still reads the row
// (current version, tombstones, merges) and still audits; only parse+render+write is skipped.
//
// Renderer identity: each shard keeps the renderer its entries were made with alive (so its
// address cannot be reused by a later renderer); entries of any other renderer miss, and the
// first insert made with a new renderer empties the shard.
//
// Storage: renders of one rule differ in little but their values (the same member names, codes
// and system URIs), so an entry's JSON is kept as the differences from a reference text: the
// first render of its rule the shard kept. Copies from the reference and literal runs, decoded
// on a hit into the exact text put (a Patient entry costs about 430 bytes in all instead of
// 1,500: 64 MiB holds 100,000 of them rather than 44,000). A reference lives as long as its
// shard's entries (until the shard is emptied for a new renderer) and is never replaced, so an
// entry always decodes against the text it was coded against.
//
// Bound: at most `max_bytes` in all, counting each entry's key, coded render and a fixed
// overhead per entry, and each shard's references; split evenly over the shards, least recently
// used evicted first. An entry larger than a shard's share is not kept. max_bytes = 0 disables
// the cache (every get misses without counting, put keeps nothing).
//
// Threading: get/put/stats from any thread; each shard has its own mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "care/types.h"

namespace midhurst::mapping {
class FhirRenderer;
struct ServedRule;
}  // namespace midhurst::mapping

namespace midhurst::server {

// One resource an entity version renders, written as compact FHIR JSON.
struct CachedResource {
  const mapping::ServedRule* rule = nullptr;  // owned by the renderer's ProfileSet
  std::string id;
  std::size_t item = 0;
  std::string json;                   // compact FHIR JSON text (fhir::write_json, not pretty)
  bool plain = false;                 // the model could not write it: plain JSON (numbers as text)
  std::vector<std::string> patients;  // the patients it concerns (Service::patients_of)
};

// What one rendering request of one entity version produced (possibly several resources).
using CachedRender = std::vector<CachedResource>;

// What determines a render besides the renderer.
struct RenderKey {
  care::EntityType entity = care::EntityType::kPatient;
  std::string_view entity_id;
  std::int64_t version = 0;
  std::string_view resource_type;
  std::string_view resource_id;  // "" = every resource of the type
};

struct RenderCacheStats {
  std::uint64_t hits = 0, misses = 0, evictions = 0;
  std::size_t bytes = 0, entries = 0;
};

class RenderCache {
 public:
  explicit RenderCache(std::size_t max_bytes, std::size_t shards = 16);
  ~RenderCache();
  RenderCache(const RenderCache&) = delete;
  RenderCache& operator=(const RenderCache&) = delete;

  bool enabled() const { return max_bytes_ > 0; }
  std::size_t max_bytes() const { return max_bytes_; }

  // The render `renderer` made for `key` (a copy of what was put), or null (a miss, counted).
  std::shared_ptr<const CachedRender> get(const mapping::FhirRenderer* renderer, const RenderKey& key);

  // Keeps `value` for `key`, made with `renderer`.
  void put(const std::shared_ptr<const mapping::FhirRenderer>& renderer, const RenderKey& key,
           std::shared_ptr<const CachedRender> value);

  RenderCacheStats stats() const;

 private:
  struct Entry {
    std::string key;
    std::string packed;  // the render (pack_locked)
    std::size_t cost = 0;
  };
  // A rule's reference text, with where each 8-byte sequence first occurs in it.
  struct Reference {
    std::string text;
    std::vector<std::uint32_t> first_at;  // by sequence hash; kNowhere when none
  };
  struct Shard {
    mutable std::mutex mu;
    std::shared_ptr<const mapping::FhirRenderer> renderer;                 // GUARDED_BY(mu)
    std::list<Entry> lru;                                                  // GUARDED_BY(mu): front = newest
    std::unordered_map<std::string_view, std::list<Entry>::iterator> map;  // GUARDED_BY(mu): keys in lru
    std::unordered_map<const mapping::ServedRule*, Reference> references;  // GUARDED_BY(mu): never replaced
    std::size_t bytes = 0;                                                 // GUARDED_BY(mu)
    std::uint64_t hits = 0, misses = 0, evictions = 0;                     // GUARDED_BY(mu)
  };

  static void key_text(const RenderKey& key, std::string* out);
  Shard& shard_of(std::string_view key_text);
  void clear_locked(Shard& s);
  // The reference `rule`'s JSON is coded against in `s`, made from `json` when the shard has
  // none and it fits (else null: the text is kept as it is).
  const Reference* reference_locked(Shard& s, const mapping::ServedRule* rule, std::string_view json);
  void pack_locked(Shard& s, const CachedRender& value, std::string* out);
  static std::shared_ptr<const CachedRender> unpack_locked(const Shard& s, std::string_view packed);

  const std::size_t max_bytes_;
  const std::size_t shard_bytes_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace midhurst::server
