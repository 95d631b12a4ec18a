// The field registry: which entities the care model has, and what a path into one of them means.
//
// Mapping profiles address model fields by path; the profile loader checks every target with
// lookup_path before a profile is accepted. Path syntax (also in MODEL.md):
//
//   path     = entity *( "." segment )
//   segment  = field [ "[" [ index ] "]" ]
//   entity   = patient | relatedPerson | organization | practitioner | practitionerRole
//            | careTeamMember | encounter | referral | eol | provenance
//   field    = a JSON field name of the struct reached so far (camelCase)
//   index    = decimal digits, 0-based
//
// e.g. patient.nhsNumber.value, patient.identifiers[].value, encounter.locations[0].ward,
// eol.preferredPlaceOfDeath[1].code. A list field must be indexed ([] = every element, [n] = the
// n-th) before going into its fields; a list field at the end of a path without [] means the
// whole list. Indexing a field that is not a list is an error.
//
// Thread-safety: all functions read immutable static tables; call them from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "care/model.h"
#include "common/result.h"

namespace midhurst::care {

struct EntityInfo {
  std::string_view path_name;  // first path segment, e.g. "patient", "eol"
  EntityType type;
  const StructInfo& (*info)();
};

// Every entity, in MODEL.md order.
std::span<const EntityInfo> entities();
// The entity with that path name or type, or nullptr.
const EntityInfo* find_entity(std::string_view path_name);
const EntityInfo& entity_info(EntityType type);

// What a path resolves to.
struct PathInfo {
  const EntityInfo* entity = nullptr;
  const FieldInfo* field = nullptr;  // the last field; nullptr for a bare entity name
  bool element = false;   // the last segment selected list elements ([] or [n])
  bool repeated = false;  // a list was crossed with [] somewhere: the path may match many values
  Kind kind = Kind::kStruct;
  bool is_list = false;   // the path denotes a whole list (list field without [])
  const StructInfo* struct_info = nullptr;  // kind == kStruct
  const EnumInfo* enum_info = nullptr;      // kind == kEnum

  // "string", "date", "Identifier", "enum EncounterStatus", "list of Identifier".
  std::string type_name() const;
};

struct PathError {
  std::size_t offset = 0;  // character offset in the path of the offending segment
  std::string message;     // names the segment and the reason
  std::string to_string() const { return "at character " + std::to_string(offset) + ": " + message; }
};

// Resolves `path` (syntax above) against the registry.
Result<PathInfo, PathError> lookup_path(std::string_view path);

// The whole registry as JSON, for tools that are not C++ (the workbench, profile editors):
// {"entities": {"patient": "Patient", ...},
//  "types": {"Patient": {"doc": ..., "fields": [{"name", "type", "kind", "cardinality", "doc",
//            "struct"|"enum"}...]}, ...},
//  "enums": {"EncounterStatus": {"doc": ..., "values": [{"code", "meaning"}...]}, ...}}
std::string schema_json();

// The generated field reference of MODEL.md: every entity, component type and enum, with an
// example per entity from `example(path_name)` (omitted when it returns "").
std::string model_reference_markdown(const std::function<std::string(std::string_view)>& example);

}  // namespace midhurst::care
