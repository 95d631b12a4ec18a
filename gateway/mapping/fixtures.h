// The fixture runner behind `midhurst profile test [DIR]`: every profile ships fixtures, an
// input message NAME.hl7 and its expected result NAME.json side by side in a fixtures/
// directory, and this runs each through the loaded ProfileSet and compares. care→fhir fixtures
// are a care record NAME.care.json (care JSON form: {"patient": {...}, ...}) with the expected
// NAME.fhir.json: {"accepted": bool, "issues": ["..."], "bundle": {the transaction Bundle}}.
//
// Expected file format (what fixture_actual_json produces):
//   {"profile": "adt-patient",            the profile that must be selected ("" when none)
//    "accepted": true,                     false when the message must be rejected
//    "record": {"patient": {...}, "provenance": {...}},   the care entities (care JSON form)
//    "issues": ["warning 102 ... at PID-7 [rule birth-date]: ..."],
//    "unread": ["PV1-2", ...]}             populated fields no rule read nor ignored
// Provenance.receivedAt is fixed at kFixtureReceivedAt so results do not depend on the clock.
// Comparison is of JSON values (member order ignored); a failure shows a line diff of the
// pretty-printed expected and actual results.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "care/record.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

inline constexpr const char* kFixtureReceivedAt = "2026-01-01T00:00:00+00:00";

struct FixtureResult {
  std::string name;  // the .hl7 path relative to the directory searched
  bool passed = false;
  std::string diff;  // on failure: "- expected" / "+ actual" lines, or why it could not run
};

// The result of one message, in the expected-file format above (pretty-printed).
std::string fixture_actual_json(const ProfileSet& set, const std::string& hl7_text);
// The care→fhir result of one care record (NAME.care.json text), pretty-printed.
std::string fixture_actual_fhir_json(const ProfileSet& set, const std::string& care_json);

// A care::Record from its JSON form ({"patient": {...}, "provenance": {...}}, registry path
// names as keys); the error names the offending path.
Result<care::Record, std::string> record_from_json(std::string_view json);

// Runs every fixtures/*.hl7 and fixtures/*.care.json under `dir`, in path order, printing one line per fixture to `out`
// ("PASS name" / "FAIL name" followed by the diff) and a summary line. With `update`, a missing
// or differing expected file is (re)written from the actual result (review the change in git
// before committing it); the fixture still reports FAIL for that run.
std::vector<FixtureResult> run_fixtures(const ProfileSet& set, const std::string& dir, std::ostream& out,
                                        bool update = false);

// A line diff (longest common subsequence) of two texts: lines only in `a` start with "- ",
// only in `b` with "+ ", common ones with "  " (only those near a change are shown).
std::string line_diff(const std::string& a, const std::string& b);

}  // namespace midhurst::mapping
