// AnyEntity: one care entity of any type (a std::variant over the entity structs of
// care/model.h), so a Batch can carry typed entities without knowing their types.
//
// The store takes typed entities (not JSON) so that it can stamp id/version/lastUpdated and
// extract search terms (index_terms.h) without re-parsing; what it stores and returns is the
// care JSON form (care/json.h). Plain value; reentrant functions.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "care/model.h"
#include "common/result.h"

namespace midhurst::store {

using AnyEntity = std::variant<care::Patient, care::RelatedPerson, care::Organization,
                               care::Practitioner, care::PractitionerRole, care::CareTeamMember,
                               care::Encounter, care::Referral, care::EndOfLifePlan,
                               care::Provenance>;

care::EntityType type_of(const AnyEntity& e);
care::Entity& header(AnyEntity& e);
const care::Entity& header(const AnyEntity& e);
// The care JSON form (care/json.h), compact.
std::string to_json(const AnyEntity& e);

// The FHIR-like type name used in the store's tables and cursors: "Patient", "EndOfLifePlan"...
std::string_view type_name(care::EntityType t);
// The inverse of type_name; false when `name` is not an entity type.
bool parse_type_name(std::string_view name, care::EntityType* out);

// A fresh gateway id (UUID v7 text: time-ordered, then random; a valid FHIR id). Thread-safe.
std::string new_entity_id();

}  // namespace midhurst::store
