// Fixtures of the fhir→care and care→hl7v2 directions, run by the fixture runner (fixtures.h)
// beside the hl7v2→care and care→fhir ones:
//   fixtures/NAME.fhir-in.json  a FHIR resource or Bundle  ->  NAME.care-out.json
//       {"profile", "accepted", "record", "issues", "unread"} (receivedAt fixed, as for .hl7)
//   fixtures/NAME.care-in.json  a care record (care JSON)   ->  NAME.v2-out.json
//       {"profile", "accepted", "issues", "message": ["MSH|...", "PID|...", ...]}
//       MSH from fixed options (kFixtureV2Options): no clock, no counter.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "mapping/care_v2_engine.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

// The MSH options fixtures (and `midhurst translate` without flags) build with.
V2BuildOptions fixture_v2_options();

struct DirectionFixture {
  std::filesystem::path expected;
  std::string actual;  // pretty-printed JSON
};

// True for NAME.fhir-in.json and NAME.care-in.json.
bool is_direction_fixture_input(const std::filesystem::path& input);
DirectionFixture run_direction_fixture(const ProfileSet& set, const std::filesystem::path& input);

// The results in the expected-file forms above.
std::string fixture_actual_care_json(const ProfileSet& set, const std::string& fhir_json);
std::string fixture_actual_v2_json(const ProfileSet& set, const std::string& care_json);

}  // namespace midhurst::mapping
