// FHIR R4 (4.0.1) entry points: the version-specific part of the fhir module.
//
// The converters (json.h, xml.h) are version-agnostic and driven by a Model; this header says
// where the R4 model lives. The model file is generated from the R4 StructureDefinitions by
// gateway/fhir/modelgen.cc and committed under profiles/; see gateway/fhir/README.md.
#pragma once

#include <string>

#include "fhir/model.h"

namespace midhurst::fhir::r4 {

// The R4 model's file name inside the repository's profiles/ directory.
inline constexpr const char* kModelFileName = "fhir-r4-model.json";

// Loads `profiles_dir`/fhir-r4-model.json. Besides Model::load_file's errors, kModel if the file
// describes another FHIR version.
Result<Model> load_model(const std::string& profiles_dir);

}  // namespace midhurst::fhir::r4
