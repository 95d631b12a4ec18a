// What the mapping tests share: a file read whole, and the shipped profile sets and FHIR model,
// each loaded once per test binary (a test that finds one broken fails with the load errors).
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "fhir/model.h"
#include "fhir/profile_set.h"
#include "fhir/r4.h"
#include "mapping/profile.h"

namespace midhurst::mapping::test {

// The whole file; "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every profile and ConceptMap of the mappings/ directory, as `midhurst` loads them.
inline const std::shared_ptr<const ProfileSet>& shipped_profiles() {
  static const std::shared_ptr<const ProfileSet> set = [] {
    auto r = ProfileSet::load_dir(MIDHURST_MAPPINGS_DIR);
    if (!r.ok())
      for (const LoadError& e : r.error()) FAIL(e.to_string());
    return *r;
  }();
  return set;
}

// The FHIR StructureDefinitions of profiles/, for validating what the profiles emit.
inline const fhir::ProfileSet& fhir_profiles() {
  static const fhir::ProfileSet set = [] {
    auto s = fhir::ProfileSet::load(MIDHURST_PROFILES_DIR);
    if (!s.ok()) FAIL(s.error().to_string());
    return std::move(s).value();
  }();
  return set;
}

// The R4 element model the FHIR-side profiles are checked against.
inline const std::shared_ptr<const fhir::Model>& fhir_model() {
  static const std::shared_ptr<const fhir::Model> m = [] {
    auto r = fhir::r4::load_model(MIDHURST_PROFILES_DIR);
    if (!r.ok()) FAIL(r.error().to_string());
    return std::make_shared<const fhir::Model>(std::move(*r));
  }();
  return m;
}

}  // namespace midhurst::mapping::test
