// Reading FHIR JSON at a FhirPath (fhir_path.h): the sources of fhir→care rules.
//
// The path syntax is the one care→fhir targets use, read instead of written:
//   name         the element (one value; absent: nothing)
//   name[]       every element of a repeating element, in order
//   name[k=v]    every element whose text child k equals v (identifier[system=https://...])
// Each value comes with its location in FHIRPath form ("Patient.identifier[1].value",
// "Bundle.entry[2].resource.code"), which issues and the field ledger name.
//
// Thread-safety: pure functions over caller-owned JSON.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "mapping/fhir_path.h"

namespace midhurst::mapping {

struct FhirValue {
  const rapidjson::Value* value = nullptr;
  std::string location;
};

// Appends every value `path` reaches from `from` (whose location is `location`) to `out`.
void read_fhir_path(const rapidjson::Value& from, const std::string& location, const FhirPath& path,
                    std::vector<FhirValue>& out);

// Calls fn(location) for every primitive value under `v` (the field ledger's unit), in document
// order. `resourceType` is not reported; primitive extensions (_name) are reported by their name.
void for_each_fhir_leaf(const rapidjson::Value& v, const std::string& location,
                        const std::function<void(const std::string&)>& fn);

// The text of a primitive value: strings as they are, numbers in decimal, booleans true/false;
// "" for objects, arrays and null.
std::string fhir_text(const rapidjson::Value& v);

}  // namespace midhurst::mapping
