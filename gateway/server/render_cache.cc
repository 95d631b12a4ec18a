#include "server/render_cache.h"

#include <charconv>
#include <functional>
#include <utility>

namespace midhurst::server {

namespace {

// Per entry besides its strings: the list node, the map slot, the shared value's control block.
constexpr std::size_t kEntryOverhead = 160;
constexpr std::size_t kResourceOverhead = sizeof(CachedResource);

}  // namespace

RenderCache::RenderCache(std::size_t max_bytes, std::size_t shards)
    : max_bytes_(max_bytes), shard_bytes_(shards ? max_bytes / shards : 0) {
  for (std::size_t i = 0; i < (shards ? shards : 1); ++i) shards_.push_back(std::make_unique<Shard>());
}

RenderCache::~RenderCache() = default;

// Fields joined by '\n', which no gateway id, FHIR id or resource type holds.
void RenderCache::key_text(const RenderKey& key, std::string* out) {
  char version[24];
  const auto end = std::to_chars(version, version + sizeof version, key.version).ptr;
  out->clear();
  out->reserve(key.entity_id.size() + key.resource_type.size() + key.resource_id.size() + 32);
  out->push_back(static_cast<char>('a' + static_cast<int>(key.entity)));
  out->push_back('\n');
  out->append(key.entity_id);
  out->push_back('\n');
  out->append(version, end);
  out->push_back('\n');
  out->append(key.resource_type);
  out->push_back('\n');
  out->append(key.resource_id);
}

// Capacities, not sizes: what the allocator holds is what the bound is about.
std::size_t RenderCache::cost(std::string_view key_text, const CachedRender& value) {
  std::size_t n = kEntryOverhead + key_text.size() + value.capacity() * kResourceOverhead;
  for (const CachedResource& r : value) {
    n += r.id.capacity() + r.json.capacity() + r.patients.capacity() * sizeof(std::string);
    for (const std::string& p : r.patients) n += p.capacity();
  }
  return n;
}

RenderCache::Shard& RenderCache::shard_of(std::string_view key_text) {
  return *shards_[std::hash<std::string_view>{}(key_text) % shards_.size()];
}

void RenderCache::clear_locked(Shard& s) {
  s.map.clear();
  s.lru.clear();
  s.bytes = 0;
}

std::shared_ptr<const CachedRender> RenderCache::get(const mapping::FhirRenderer* renderer, const RenderKey& key) {
  if (!enabled()) return nullptr;
  thread_local std::string text;
  key_text(key, &text);
  Shard& s = shard_of(text);
  std::lock_guard lock(s.mu);
  if (s.renderer.get() != renderer) {
    ++s.misses;
    return nullptr;
  }
  auto it = s.map.find(text);
  if (it == s.map.end()) {
    ++s.misses;
    return nullptr;
  }
  ++s.hits;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->value;
}

void RenderCache::put(const std::shared_ptr<const mapping::FhirRenderer>& renderer, const RenderKey& key,
                      std::shared_ptr<const CachedRender> value) {
  if (!enabled() || !renderer || !value) return;
  Entry e;
  key_text(key, &e.key);
  e.cost = cost(e.key, *value);
  if (e.cost > shard_bytes_) return;
  e.value = std::move(value);
  Shard& s = shard_of(e.key);
  std::shared_ptr<const mapping::FhirRenderer> dropped;  // released after the lock
  std::lock_guard lock(s.mu);
  if (s.renderer != renderer) {
    clear_locked(s);
    dropped = std::exchange(s.renderer, renderer);
  }
  if (auto it = s.map.find(e.key); it != s.map.end()) {
    // Another thread rendered the same version meanwhile: the same text, keep the first.
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  while (!s.lru.empty() && s.bytes + e.cost > shard_bytes_) {
    const Entry& old = s.lru.back();
    s.bytes -= old.cost;
    s.map.erase(old.key);
    s.lru.pop_back();
    ++s.evictions;
  }
  s.bytes += e.cost;
  s.lru.push_front(std::move(e));
  s.map.emplace(s.lru.front().key, s.lru.begin());
}

RenderCacheStats RenderCache::stats() const {
  RenderCacheStats out;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    out.hits += shard->hits;
    out.misses += shard->misses;
    out.evictions += shard->evictions;
    out.bytes += shard->bytes;
    out.entries += shard->lru.size();
  }
  return out;
}

}  // namespace midhurst::server
