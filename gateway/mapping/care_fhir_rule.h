// The compiled form of care→fhir profile rules (mappings/README.md, "care→fhir"), and the
// compiler the profile loader calls for profiles of that direction.
//
// A care→fhir profile's top-level rules are *resource rules*: groups with `resource` (a FHIR
// resource type) whose absolute care `source` ("patient", "patient.registeredGp") gives one
// resource per value. Inner rules read care paths relative to their group's value and write
// FhirPath targets (fhir_path.h) relative to their group's element. Leaf rules take a value
// (source or constant), pass it through text transforms and an optional ConceptMap (a code to a
// Coding), and write it typed by the FHIR model; a `reference` rule writes a conditional
// reference (Type?identifier=SYSTEM|VALUE) instead, and a rule whose source is a care Reference
// writes a FHIR Reference to the entity it names (literal or by identifier, fhir_render_core.h).
//
// Generic extras (mappings/README.md, "Special sources and values"): a group source "." (the
// context itself), sources from the entity root ("/patient"), "@entity" (a reference to the
// entity's own primary resource), "@referencedBy" (references the caller or the Bundle supplies:
// a Provenance's targets), constant codings ({"system", "code", "display"}), and "served": false
// on resource rules (transaction-only, not served by the read API, fhir_render.h).
//
// Checked at load, with file:line:col: unknown keys, care source paths (against the care
// registry), FHIR targets (element exists, selection fits cardinality), type fit between the
// care value and the FHIR element, several source values into a target that takes one,
// ConceptMaps present, key/reference/profile syntax.
//
// Thread-safety: immutable after load, like the rest of a ProfileSet.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "care/access.h"
#include "common/json_reader.h"
#include "fhir/model.h"
#include "mapping/concept_map.h"
#include "mapping/fhir_path.h"
#include "mapping/load_error.h"
#include "mapping/transform.h"

namespace midhurst::mapping {

// A condition on care values: {"path": P, "equals"|"in"|"exists"}, all/any/not; P is a care path
// relative to the rule's context. Scalars compare as text (booleans "true"/"false", integers in
// decimal); a path with several values holds when any does.
struct CareCondition {
  enum class Op : std::uint8_t { kEquals, kIn, kExists, kAll, kAny, kNot };
  Op op = Op::kEquals;
  std::optional<care::CompiledPath> path;  // relative to the context struct
  std::vector<std::string> values;
  bool exists = true;
  std::vector<CareCondition> children;
};

// A business identifier of a resource rule, for conditional create/update and fullUrl:
// {"system": URI | "systemSource": care path, "source": care path} (paths relative to the value).
struct ResourceKey {
  std::string system;
  std::optional<care::CompiledPath> system_source;
  care::CompiledPath source;
};

struct CareFhirRule {
  std::string id, description, file;
  std::size_t line = 0, column = 0;

  // The value source: relative to the context struct (absolute, entity-rooted, for resource
  // rules); `context` is the struct it starts from (nullptr for entity-rooted paths).
  std::optional<care::CompiledPath> source;
  const care::StructInfo* context = nullptr;
  std::string source_text;
  std::optional<care::Scalar> value;
  std::optional<care::Coding> coding_value;  // a constant {"system", "code", "display"}
  std::optional<CareCondition> when;
  std::vector<Transform> transforms;
  const ConceptMap* concept_map = nullptr;
  std::string concept_map_name;
  enum class Unmapped : std::uint8_t { kWarn, kKeep, kReject } unmapped = Unmapped::kWarn;
  std::optional<care::Scalar> default_value;
  bool required = false;
  ValueKind kind = ValueKind::kText;

  std::optional<FhirPath> target;  // resource rules: none (the resource itself)
  // How a value is shaped for the target's FHIR type, resolved at load so that the renderer
  // compares no type names per value (leaf rules; kPlain otherwise).
  enum class TargetForm : std::uint8_t {
    kPlain,            // a primitive written as it is (or a Coding object for a code)
    kCode,             // code: a Coding gives its code
    kCodeableConcept,  // a Coding wrapped as {"coding": [...]}
    kDateTime,         // dateTime: ":00" seconds added to hh:mm
    kInstant,          // instant: needs a time; seconds added too
  } target_form = TargetForm::kPlain;
  // A reference rule: the value is an identifier of a `reference_type` resource in
  // `reference_system`.
  std::string reference_type, reference_system;
  // The source reaches a care Reference: written as a FHIR Reference (fhir_render_core.h RefMode).
  bool care_reference = false;
  // "source": "@referencedBy": references to the entities that cite this one (a Provenance's
  // targets), supplied by the caller.
  bool referenced_by = false;
  // "source": "@entity": a reference to the resource the entity itself renders as (its primary
  // rule's), e.g. a Task's focus on the referral's ServiceRequest.
  bool self_reference = false;
  // The source starts with '/': it reads from the entity root, not from the enclosing group
  // (a Flag rendered from eol.cprDecision reading "/patient").
  bool from_root = false;

  // Resource rules.
  std::string resource_type;
  const fhir::TypeDef* resource = nullptr;
  std::vector<std::string> meta_profiles;
  std::vector<ResourceKey> keys;  // the first with a value wins
  bool conditional_update = false;  // "request": "update" (PUT) rather than "create" (POST)
  // "served": false: rendered into transaction Bundles only (a stand-in for an entity of its own,
  // like the registered GP practice of a Patient), never by the read API (fhir_render.h).
  bool served = true;
  // Some inner rule reads "@referencedBy": in a Bundle this resource comes after the others.
  bool uses_referenced_by = false;

  bool is_group = false;
  std::vector<CareFhirRule> rules;
  // The struct the inner rules read from (the source's element type).
  const care::StructInfo* inner_context = nullptr;
  // The FHIR type the inner rules write into.
  const fhir::TypeDef* inner_type = nullptr;
};

// A rule as the loader read it: the JSON object and where, with its inner rules (after
// `extends` merging).
struct RuleNode {
  std::string id;
  const JsonNode* node = nullptr;
  std::string file;  // for messages
  const JsonDocument* doc = nullptr;
  std::vector<RuleNode> children;
};

// Compiles the rules of one care→fhir profile; problems are appended to `errors`. Returns false
// if any rule was refused. `concept_map` looks a ConceptMap up by name or url.
bool compile_care_fhir_rules(const std::vector<RuleNode>& rules, const fhir::Model& model,
                             const std::function<const ConceptMap*(std::string_view)>& concept_map,
                             LoadErrors* errors, std::vector<CareFhirRule>* out);

}  // namespace midhurst::mapping
