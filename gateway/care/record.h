// Record: the care entities produced together from one inbound message or request, at most one
// of each entity type, plus the Provenance that says where they came from.
//
// The mapping engine writes into a Record by entity type (it knows entity types only through the
// registry); callers read the typed entities back with get<T>(). Plain value: copyable,
// comparable; not thread-safe to mutate concurrently.
#pragma once

#include <optional>
#include <string>
#include <tuple>

#include "care/model.h"
#include "care/registry.h"

namespace midhurst::care {

class Record {
 public:
  // The entity of that type, created with default values on first use. Never null.
  void* ensure(EntityType type);
  // The entity of that type, or nullptr when the record has none.
  const void* find(EntityType type) const;
  void erase(EntityType type);
  bool empty() const;

  template <class T>
  T* get() { return std::get<Held<T>>(entities_) ? &*std::get<Held<T>>(entities_) : nullptr; }
  template <class T>
  const T* get() const {
    const auto& o = std::get<Held<T>>(entities_);
    return o ? &*o : nullptr;
  }
  template <class T>
  T& ensure() { return *static_cast<T*>(ensure(entity_type_of<T>())); }

  // {"patient": {...}, "provenance": {...}}: every entity present, keyed by registry path name,
  // in registry order; `pretty` indents by 2 spaces.
  std::string to_json(bool pretty = false) const;
  void to_json_value(rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) const;

  bool operator==(const Record&) const = default;

 private:
  template <class T>
  static EntityType entity_type_of();

  // An optional entity whose empty state is cheap to make: its constructor is user-provided, so
  // a new Record does not zero every entity's storage (some 25 KB, once per translated message)
  // before saying that none is there.
  template <class T>
  struct Held : std::optional<T> {
    Held() noexcept {}
    friend bool operator==(const Held& a, const Held& b) {
      return static_cast<const std::optional<T>&>(a) == static_cast<const std::optional<T>&>(b);
    }
  };

  // Order = EntityType order (checked in record.cc).
  std::tuple<Held<Patient>, Held<RelatedPerson>, Held<Organization>, Held<Practitioner>,
             Held<PractitionerRole>, Held<CareTeamMember>, Held<Encounter>, Held<Referral>,
             Held<EndOfLifePlan>, Held<Provenance>>
      entities_;
};

template <class T>
EntityType Record::entity_type_of() {
  for (const EntityInfo& e : entities())
    if (&e.info() == &T::describe()) return e.type;
  return EntityType::kPatient;  // unreachable for entity types
}

}  // namespace midhurst::care
