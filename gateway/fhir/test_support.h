// Helpers shared by the fhir module's tests.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

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

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace midhurst::fhir::testing
