// Rendering stored care entities as the FHIR resources the read API serves, by the care→fhir
// profiles of a ProfileSet (mappings/README.md, "care→fhir", "Serving resources").
//
// FhirRenderer is built once per loaded ProfileSet and holds:
//  - the served table: every resource rule of the applicable care→fhir profiles (the same
//    selection as translate_to_fhir) that is not marked "served": false, with the care entity type
//    it renders from, e.g. Patient ← patient (rule "patient"); Flag, Observation, Consent,
//    CarePlan ← eol, the EndOfLifePlan (several rules); ServiceRequest, Task ← referral. Nothing
//    here knows those names: the table is read off the profiles.
//  - resource ids. The *primary* rule of an entity type (the first served resource rule whose
//    source is the entity itself, e.g. "patient") renders with the entity's gateway id; every
//    other rule with `<entity id>-<rule id>`, and a rule that runs once per list item
//    (`eol.wishes[]`) with `<entity id>-<rule id>-<n>`, n from 1 in list order (items a `when`
//    skips keep their number). Gateway ids are UUIDs and served rule ids are at most 20 characters of
//    [A-Za-z0-9-.] (checked here), so every id fits FHIR's [A-Za-z0-9\-\.]{1,64}.
//    resolve_id() maps (resource type, id) back to the entity and rule.
//
// render_entity(): one entity in, its resources out, each with id, meta.versionId (the entity's
// version), meta.lastUpdated (its lastUpdated, with seconds), meta.profile, and references as
// the read API needs them: a care Reference with a gateway id becomes the literal `Type/id`
// (Type = the resource type of the referenced entity type's primary rule), one without becomes
// a logical reference {"identifier": {"system", "value"}, "display"}; never the conditional
// `Type?identifier=` form, which only transactions may use. Resources are not validated here.
//
// Cost: rules are compiled once (at profile load); a render walks the compiled rules of one
// entity type and builds rapidjson values, with no profile parsing and no Bundle.
//
// Thread-safety: immutable after create(); render from many threads. A FhirRenderer keeps its
// ProfileSet alive (shared_ptr), so it stays valid across profile reloads; build a new one for a
// new set.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "care/types.h"
#include "common/result.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

// One row of the served table.
struct ServedRule {
  std::string resource_type;  // "Flag"
  care::EntityType entity = care::EntityType::kPatient;
  std::string entity_path;    // the entity's registry name: "eol"
  std::string rule_id;        // the resource rule's id, also the id suffix of derived ids
  std::string profile;        // the mapping profile's name
  bool primary = false;       // its resources have the entity's own id
  bool per_item = false;      // one resource per list item: ids end in "-<n>"
  std::vector<std::string> meta_profiles;
  const CareFhirRule* rule = nullptr;  // owned by the ProfileSet
};

// What a FHIR id names: the entity to load and the rule (and item) to render it with.
struct FhirIdTarget {
  const ServedRule* rule = nullptr;
  std::string entity_id;
  std::size_t item = 0;  // per_item rules: 1-based list position; else 0
};

struct RenderedResource {
  const ServedRule* rule = nullptr;
  std::string id;
  std::size_t item = 0;       // as in FhirIdTarget
  rapidjson::Document json;   // the resource
  std::string to_json(bool pretty = false) const;
};

struct RenderOptions {
  // Only the resources of this type ("" = all): GET Flag/... need not build the Observations.
  std::string resource_type;
  // Only this resource id ("" = all).
  std::string id;
  // References to the entities that cite this one. A Provenance does not list what it produced
  // (each entity points at its Provenance instead); the caller passes those entities here and a
  // profile writes them with a reference rule whose source is "@referencedBy".
  std::vector<care::Reference> referenced_by;
};

struct RenderResult {
  std::vector<RenderedResource> resources;
  MappingIssues issues;  // warnings: what was left out and why
};

class FhirRenderer {
 public:
  // Builds the served table; an error when the set has no care→fhir profile, two served rules of
  // one entity type share a rule id, or a derived id suffix is not a valid id part.
  static Result<std::shared_ptr<const FhirRenderer>, std::string> create(std::shared_ptr<const ProfileSet> set);

  const std::vector<ServedRule>& served() const { return served_; }
  // Served resource types, sorted, each once.
  std::vector<std::string> resource_types() const;
  // The served rules that produce `resource_type` (empty when it is not served).
  std::vector<const ServedRule*> rules_for(std::string_view resource_type) const;
  // The primary rule of an entity type (nullptr when none is loaded).
  const ServedRule* primary(care::EntityType entity) const;

  // Every entity/rule a FHIR id can come from (several when, e.g., two Observation rules could
  // have made it; the caller loads each entity id until one renders that id). Empty when the id
  // cannot be one of ours.
  std::vector<FhirIdTarget> resolve_id(std::string_view resource_type, std::string_view id) const;

  // Renders one entity (`entity` points at a care struct of `type`, e.g. a care::Patient). Fails
  // (with issues) when a required rule has no value or the entity has no id.
  Result<RenderResult, MappingIssues> render_entity(care::EntityType type, const void* entity,
                                                    const RenderOptions& options = {}) const;
  // The same from the entity's care JSON form (care/json.h), as the store returns it.
  Result<RenderResult, MappingIssues> render_entity_json(care::EntityType type, std::string_view care_json,
                                                         const RenderOptions& options = {}) const;

  const ProfileSet& profiles() const { return *set_; }

 private:
  FhirRenderer() = default;
  std::shared_ptr<const ProfileSet> set_;
  std::vector<ServedRule> served_;
  std::vector<std::string> entity_resource_;  // by care::EntityType: its primary resource type
};

// True iff `id` matches FHIR's id syntax [A-Za-z0-9\-\.]{1,64}.
bool is_fhir_id(std::string_view id);

}  // namespace midhurst::mapping
