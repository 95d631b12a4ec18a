// Internal: ElementDefinition JSON -> ElementRule, and the differential merge. Not a public
// header; profile_set.h declares the types.
#pragma once

#include <rapidjson/document.h>

#include "fhir/profile_set.h"

namespace midhurst::fhir::internal {

// Reads one ElementDefinition (snapshot or differential form). fixed/pattern point into `el`,
// which must outlive the rule. Fields the element does not state stay unset (see ElementRule).
ElementRule read_element(const rapidjson::Value& el);

// Applies the fields `diff` states to `into` (the snapshot element it constrains).
void merge_element(ElementRule& into, const ElementRule& diff);

}  // namespace midhurst::fhir::internal
