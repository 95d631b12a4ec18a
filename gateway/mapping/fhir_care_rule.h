// The compiled form of fhir→care profile rules (mappings/README.md, "fhir→care profiles"), and
// the compiler the profile loader calls for profiles of that direction.
//
// A fhir→care profile's top-level rules are *resource rules*: {"resource": "Patient", "target":
// "patient", "rules": [...]} maps every resource of that type in the input (a resource, or each
// entry of a Bundle) into the care structure at `target` (an entity, or an element such as
// "eol.preferredPlaceOfDeath[]", one appended per resource). `profile` (a meta.profile URL) and
// `when` narrow which resources a rule takes. Inner rules read FhirPath sources (fhir_path.h,
// read by fhir_read_path.h) relative to their group's value and write care paths relative to
// their group's target, like hl7v2→care rules.
//
// Checked at load, with file:line:column: unknown keys, FHIR source paths (against the FHIR R4
// model), care targets (against the care registry), the fit between the FHIR value's type and
// the care field, transforms (the HL7 date transforms and concat do not apply to FHIR values),
// ConceptMaps present.
//
// Thread-safety: immutable after load, like the rest of a ProfileSet.
#pragma once

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "care/access.h"
#include "fhir/model.h"
#include "mapping/care_fhir_rule.h"
#include "mapping/concept_map.h"
#include "mapping/fhir_path.h"
#include "mapping/load_error.h"
#include "mapping/transform.h"

namespace midhurst::mapping {

// A condition on FHIR values: {"path": P, "equals"|"in"|"exists"|"matches"}, all/any/not, an
// array for all. P is a FhirPath relative to the rule's context; a path with several values holds
// when any does. Values compare as text (booleans true/false); "matches" is an ECMAScript regular
// expression the whole text must match (a date rather than a dateTime: "^[0-9-]+$").
struct FhirCondition {
  enum class Op : std::uint8_t { kEquals, kIn, kExists, kMatches, kAll, kAny, kNot };
  Op op = Op::kEquals;
  std::optional<FhirPath> path;
  std::vector<std::string> values;
  bool exists = true;
  std::optional<std::regex> pattern;
  std::vector<FhirCondition> children;
};

struct FhirCareRule {
  std::string id, description, file;
  std::size_t line = 0, column = 0;

  // Resource rules.
  std::string resource_type;
  const fhir::TypeDef* resource = nullptr;
  std::vector<std::string> meta_profiles;  // when given, a resource must claim one of them

  // The value: a FHIR source relative to the context (the resource, or the group's value), or a
  // constant.
  std::optional<FhirPath> source;
  std::string source_text;
  std::optional<care::Scalar> value;
  std::optional<FhirCondition> when;
  std::vector<Transform> transforms;
  const ConceptMap* concept_map = nullptr;
  std::string concept_map_name;
  bool reverse = false;  // look the ConceptMap up from target code to source code
  enum class Unmapped : std::uint8_t { kWarn, kKeep, kReject } unmapped = Unmapped::kWarn;
  std::optional<care::Scalar> default_value;
  bool required = false;
  bool reject_invalid = false;
  // `reference`: the source is a FHIR Reference; the value is the referenced resource's
  // identifier (one of `reference_systems`, in order of preference; any when empty), resolved
  // through the Reference's identifier, a conditional reference (Type?identifier=S|V) or the
  // Bundle entry it points at. A care Reference target takes type and identifier; a text target
  // the identifier's value.
  bool is_reference = false;
  std::vector<std::string> reference_systems;
  std::string reference_type;  // the target's type when the Reference does not say ("type" in `reference`)
  // "types" in `reference`: the rule takes only references to these resource types (as the
  // Reference, its conditional form or the Bundle entry says); others are left to other rules.
  std::vector<std::string> reference_types;
  // "entity" in `reference`: the care entity type written, when it is not the resource type's
  // namesake (a CareTeam reference names a careTeamMember).
  const care::EntityInfo* reference_entity = nullptr;

  // The care target: full (entity-rooted) and relative to the enclosing group's target.
  std::string target_text;
  std::optional<care::CompiledPath> target_path;
  std::optional<care::CompiledPath> target_rel;
  bool from_entity = false;  // "/field": relative to the resource rule's entity, not its target

  bool is_group = false;
  // A group appending to a list ("target": "x[]") with "distinct": true does not append an
  // element equal to one already there (FHIR that repeats an element says nothing new).
  bool distinct = false;
  std::vector<FhirCareRule> rules;
  const fhir::TypeDef* source_type = nullptr;  // the FHIR type of the source's value (or the resource)
};

// Compiles the rules of one fhir→care profile; problems are appended to `errors`. Returns false
// if any rule was refused.
bool compile_fhir_care_rules(const std::vector<RuleNode>& rules, const fhir::Model& model,
                             const std::function<const ConceptMap*(std::string_view)>& concept_map,
                             LoadErrors* errors, std::vector<FhirCareRule>* out);

}  // namespace midhurst::mapping
