#include "store/any_entity.h"

#include <array>
#include <chrono>
#include <mutex>
#include <random>

#include "care/json.h"

namespace midhurst::store {

namespace {

// Index = care::EntityType enumerator = AnyEntity alternative (checked below).
constexpr std::array<std::string_view, 10> kTypeNames = {
    "Patient",        "RelatedPerson", "Organization", "Practitioner",  "PractitionerRole",
    "CareTeamMember", "Encounter",     "Referral",     "EndOfLifePlan", "Provenance"};

static_assert(std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(
                                 care::EntityType::kEncounter), AnyEntity>,
                             care::Encounter>);
static_assert(std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(
                                 care::EntityType::kProvenance), AnyEntity>,
                             care::Provenance>);
static_assert(std::variant_size_v<AnyEntity> == kTypeNames.size());

}  // namespace

care::EntityType type_of(const AnyEntity& e) { return static_cast<care::EntityType>(e.index()); }

care::Entity& header(AnyEntity& e) {
  return std::visit([](auto& x) -> care::Entity& { return x; }, e);
}
const care::Entity& header(const AnyEntity& e) {
  return std::visit([](const auto& x) -> const care::Entity& { return x; }, e);
}

std::string to_json(const AnyEntity& e) {
  return std::visit([](const auto& x) { return care::to_json(x); }, e);
}

std::string_view type_name(care::EntityType t) { return kTypeNames[static_cast<std::size_t>(t)]; }

bool parse_type_name(std::string_view name, care::EntityType* out) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) {
      *out = static_cast<care::EntityType>(i);
      return true;
    }
  }
  return false;
}

std::string new_entity_id() {
  // One generator per process behind a mutex: ids are created a few per message, so contention
  // is irrelevant, and seeding from random_device once avoids its cost per call.
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::uint64_t a, b;
  {
    std::lock_guard<std::mutex> lock(mu);
    a = gen();
    b = gen();
  }
  // Version 7 (RFC 9562): the top 48 bits are the Unix time in milliseconds, the rest random.
  // Time-ordered ids make a new entity's rows land at the end of every (type, id)-keyed B-tree
  // (entity_current, entity_version's unique key, idx_term's owner index), so a group
  // commit dirties a few tail pages instead of one random page per tree per message, which
  // cut the pages each commit writes to the WAL. Ids stay unique, opaque and 36 characters;
  // they do reveal their creation time, as any v7 UUID does.
  const auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  a = ((ms & 0xffffffffffffULL) << 16) | (a & 0x0fffULL) | 0x7000ULL;  // version 7
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  // 8-4-4-4-12 lower-case hex digits of a then b, written by hand: ids are made several per
  // message on the ingest's hot path, where snprintf's format parsing showed in profiles.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  std::size_t at = 0;
  auto put_hex = [&](std::uint64_t v, int first_digit, int digits) {  // digits of v from the top
    for (int d = first_digit; d < first_digit + digits; ++d) id[at++] = kHex[(v >> (60 - 4 * d)) & 0xf];
  };
  put_hex(a, 0, 8), ++at;
  put_hex(a, 8, 4), ++at;
  put_hex(a, 12, 4), ++at;
  put_hex(b, 0, 4), ++at;
  put_hex(b, 4, 12);
  return id;
}

}  // namespace midhurst::store
