// Internal: snapshot generation for differential-only StructureDefinitions. See profile_set.h.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <string>
#include <string_view>

#include "fhir/profile_set.h"

namespace midhurst::fhir {

// The base (core) definition of a FHIR type by name, or nullptr.
using BaseTypeLookup = std::function<const StructureDef*(std::string_view)>;

// Fills sd.elements from `base`'s elements (already a snapshot) and the differential element
// array. Returns "" on success, else "<element id>: <why>". REQUIRES: `differential` outlives
// `sd` (fixed and pattern values point into it).
std::string build_snapshot(StructureDef& sd, const StructureDef& base,
                           const rapidjson::Value& differential, const BaseTypeLookup& base_type);

}  // namespace midhurst::fhir
