// Helpers shared by the fhir module's tests.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "fhir/json.h"
#include "fhir/profile_set.h"
#include "fhir/r4.h"

namespace midhurst::fhir::testing {

// The committed R4 model, loaded once per test binary.
inline const Model& r4_model() {
  static const Model model = [] {
    auto m = r4::load_model(MIDHURST_PROFILES_DIR);
    if (!m.ok()) FAIL("cannot load the R4 model: " << m.error().to_string());
    return std::move(m).value();
  }();
  return model;
}

// profiles/ loaded as the gateway loads it, once per test binary.
inline const ProfileSet& profile_set() {
  static const ProfileSet set = [] {
    auto s = ProfileSet::load(MIDHURST_PROFILES_DIR);
    if (!s.ok()) FAIL("cannot load profiles/: " << s.error().to_string());
    return std::move(s).value();
  }();
  return set;
}

// Parses JSON text written in a test; fails the test if it is not JSON.
inline rapidjson::Document json(std::string_view text) {
  auto doc = parse_json(text);
  if (!doc.ok()) FAIL("bad test JSON: " << doc.error().to_string());
  return std::move(doc).value();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace midhurst::fhir::testing
