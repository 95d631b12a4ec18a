#include "server/render_cache.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <functional>
#include <utility>

namespace midhurst::server {

namespace {

// Per entry besides its two strings: the list node and the map slot with its bucket.
constexpr std::size_t kEntryOverhead = 160;

// A reference's table: where an 8-byte sequence (the shortest copy worth coding) first occurs,
// by its hash.
constexpr std::size_t kGram = 8;
constexpr unsigned kTableBits = 10;
constexpr std::uint32_t kNowhere = UINT32_MAX;
// A reference is made only when it costs at most this share of a shard's bytes.
constexpr std::size_t kReferenceShare = 8;

std::size_t gram_hash(const char* at) {
  std::uint64_t v;
  std::memcpy(&v, at, sizeof v);
  return static_cast<std::size_t>((v * 0x9E3779B97F4A7C15ull) >> (64 - kTableBits));
}

void put_varint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::uint64_t take_varint(const char** at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*(*at)++);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return v;
  }
}

void put_text(std::string_view text, std::string* out) {
  put_varint(text.size(), out);
  out->append(text);
}

std::string_view take_text(const char** at) {
  const std::size_t n = take_varint(at);
  const std::string_view text(*at, n);
  *at += n;
  return text;
}

// How many bytes `a` and `b` have in common from their starts, at most `limit`; compared 8
// at a time (the first differing byte is the lowest set byte of their xor, little-endian).
std::size_t common_prefix(const char* a, const char* b, std::size_t limit) {
  std::size_t n = 0;
  for (; n + 8 <= limit; n += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a + n, 8);
    std::memcpy(&y, b + n, 8);
    if (x != y) {
      if constexpr (std::endian::native == std::endian::little) return n + std::countr_zero(x ^ y) / 8;
      break;
    }
  }
  while (n < limit && a[n] == b[n]) ++n;
  return n;
}

void put_pointer(const void* p, std::string* out) { out->append(reinterpret_cast<const char*>(&p), sizeof p); }

const void* take_pointer(const char** at) {
  const void* p;
  std::memcpy(&p, *at, sizeof p);
  *at += sizeof p;
  return p;
}

// `json` as its length, then steps until that many bytes are out, each a literal run (its
// length, its bytes) and a copy from the reference (its length, 0 for none, then its offset).
// Copies are found by 8-byte sequence, then grown both ways.
void encode_json(std::string_view json, const std::string* reference, const std::vector<std::uint32_t>* first_at,
                 std::string* out) {
  put_varint(json.size(), out);
  std::size_t literal_from = 0, at = 0;
  auto step = [&](std::size_t literal_to, std::size_t copy_length, std::size_t copy_from) {
    put_text(json.substr(literal_from, literal_to - literal_from), out);
    put_varint(copy_length, out);
    if (copy_length > 0) put_varint(copy_from, out);
  };
  while (reference && at + kGram <= json.size()) {
    std::size_t from = (*first_at)[gram_hash(json.data() + at)];
    if (from == kNowhere || std::memcmp(reference->data() + from, json.data() + at, kGram) != 0) {
      ++at;
      continue;
    }
    std::size_t length = kGram + common_prefix(reference->data() + from + kGram, json.data() + at + kGram,
                                               std::min(reference->size() - from, json.size() - at) - kGram);
    while (at > literal_from && from > 0 && (*reference)[from - 1] == json[at - 1]) {
      --at;
      --from;
      ++length;
    }
    step(at, length, from);
    at += length;
    literal_from = at;
  }
  if (literal_from < json.size()) step(json.size(), 0, 0);
}

void decode_json(const char** at, const std::string* reference, std::string* out) {
  const std::size_t size = take_varint(at);
  out->reserve(size);
  while (out->size() < size) {
    out->append(take_text(at));
    if (const std::size_t length = take_varint(at); length > 0) out->append(*reference, take_varint(at), length);
  }
}

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

RenderCache::Shard& RenderCache::shard_of(std::string_view key_text) {
  return *shards_[std::hash<std::string_view>{}(key_text) % shards_.size()];
}

void RenderCache::clear_locked(Shard& s) {
  s.map.clear();
  s.lru.clear();
  s.references.clear();
  s.bytes = 0;
}

const RenderCache::Reference* RenderCache::reference_locked(Shard& s, const mapping::ServedRule* rule,
                                                            std::string_view json) {
  if (auto it = s.references.find(rule); it != s.references.end()) return &it->second;
  const std::size_t cost = json.size() + (std::size_t{1} << kTableBits) * sizeof(std::uint32_t) + kEntryOverhead;
  if (json.size() < kGram || json.size() >= kNowhere || cost > shard_bytes_ / kReferenceShare) return nullptr;
  Reference& r = s.references[rule];
  r.text = std::string(json);
  r.first_at.assign(std::size_t{1} << kTableBits, kNowhere);
  for (std::size_t at = 0; at + kGram <= r.text.size(); ++at) {
    std::uint32_t& slot = r.first_at[gram_hash(r.text.data() + at)];
    if (slot == kNowhere) slot = static_cast<std::uint32_t>(at);
  }
  s.bytes += cost;
  return &r;
}

// Per resource: its rule, item, plain flag, id and patients (each as its length + 1 and text, or
// 0 for the resource's own id, which a Patient names), then its JSON coded against the rule's
// reference.
void RenderCache::pack_locked(Shard& s, const CachedRender& value, std::string* out) {
  std::size_t bound = 16;
  for (const CachedResource& c : value) bound += c.json.size() + c.id.size() + 64 * (c.patients.size() + 1);
  out->reserve(bound);  // no growth on the way (shrunk to fit after)
  put_varint(value.size(), out);
  for (const CachedResource& c : value) {
    put_pointer(c.rule, out);
    put_varint(c.item, out);
    out->push_back(c.plain ? '1' : '0');
    put_text(c.id, out);
    put_varint(c.patients.size(), out);
    for (const std::string& p : c.patients) {
      put_varint(p == c.id ? 0 : p.size() + 1, out);
      if (p != c.id) out->append(p);
    }
    const Reference* ref = reference_locked(s, c.rule, c.json);
    encode_json(c.json, ref ? &ref->text : nullptr, ref ? &ref->first_at : nullptr, out);
  }
}

std::shared_ptr<const CachedRender> RenderCache::unpack_locked(const Shard& s, std::string_view packed) {
  const char* at = packed.data();
  auto out = std::make_shared<CachedRender>(take_varint(&at));
  for (CachedResource& c : *out) {
    c.rule = static_cast<const mapping::ServedRule*>(take_pointer(&at));
    c.item = take_varint(&at);
    c.plain = *at++ == '1';
    c.id = take_text(&at);
    c.patients.resize(take_varint(&at));
    for (std::string& p : c.patients) {
      const std::size_t n = take_varint(&at);
      p = n == 0 ? c.id : std::string(at, n - 1);
      at += n > 0 ? n - 1 : 0;
    }
    const auto ref = s.references.find(c.rule);
    decode_json(&at, ref != s.references.end() ? &ref->second.text : nullptr, &c.json);
  }
  return out;
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
  return unpack_locked(s, it->second->packed);
}

void RenderCache::put(const std::shared_ptr<const mapping::FhirRenderer>& renderer, const RenderKey& key,
                      std::shared_ptr<const CachedRender> value) {
  if (!enabled() || !renderer || !value) return;
  Entry e;
  key_text(key, &e.key);
  e.key.shrink_to_fit();
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
  pack_locked(s, *value, &e.packed);
  e.packed.shrink_to_fit();
  e.cost = kEntryOverhead + e.key.capacity() + e.packed.capacity();
  if (e.cost > shard_bytes_) return;
  while (!s.lru.empty() && s.bytes + e.cost > shard_bytes_) {
    const Entry& old = s.lru.back();
    s.bytes -= old.cost;
    s.map.erase(old.key);
    s.lru.pop_back();
    ++s.evictions;
  }
  if (s.bytes + e.cost > shard_bytes_) return;  // the references leave no room
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
