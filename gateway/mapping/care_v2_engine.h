// The care→hl7v2 engine: a care::Record in, one HL7v2 message out, built by a care→hl7v2 profile
// (mappings/README.md, "care→hl7v2 profiles") with hl7v2::Message::create/set, so every value is
// escaped by the library and nothing is printed as text.
//
// How a record is rendered (translate_to_hl7v2):
//  1. The profile: options.profile, else the non-abstract care→hl7v2 profile whose `match` holds
//     with the highest priority (then the deepest `extends`, then load order), leaving out a
//     profile when an extension of it also matches (care-adt-a08, which extends care-adt-a31 for
//     records that hold an encounter, replaces it there). None: an error.
//  2. MSH from the options (sending/receiving application and facility, control id, timestamp
//     as given: no clock is read unless it is empty) and the profile's `message` (MSH-9, MSH-12);
//     MSH-11 "P".
//  3. Rules in order. A leaf reads every value of its care source (or its constant), converts it
//     to HL7 text (dates YYYYMMDD, dateTimes YYYYMMDDhhmm[ss][.f]+hhmm, booleans Y/N), runs its
//     transforms and ConceptMap, and sets its target. A group runs once per value of its source;
//     a target "SEG[]" takes the next occurrence of the segment and "SEG-n[]" the next
//     repetition of the field, so its relative targets ("-5", ".1") land there; `sequence` writes
//     the run number (set ids); `last` keeps only the last value or run (the current location).
//     A `targetFrom` rule writes where a care value says (a Z-segment key, "ZU1-3"), only into
//     the segments its target names ("Z*"). Segments appear in the order rules first write them.
//  4. Failures: a `required` rule without a value, or an "unmapped": "reject" code, fails the
//     translation; other failures leave the field empty with a warning.
//
// Thread-safety: reads the ProfileSet and the Record only; call from many threads.
#pragma once

#include <string>

#include "care/record.h"
#include "common/result.h"
#include "hl7v2/message.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

struct V2BuildOptions {
  std::string profile;  // "" = chosen by match
  std::string sending_application = "MIDHURST";
  std::string sending_facility;
  std::string receiving_application;
  std::string receiving_facility;
  std::string control_id;  // MSH-10; "" = "1"
  std::string timestamp;   // MSH-7 as HL7 TS; "" = now (UTC)
};

struct V2Build {
  hl7v2::Message message;
  const Profile* profile = nullptr;
  MappingIssues issues;  // warnings
};

// The profile that renders `record` (step 1), or why none does.
Result<const Profile*, MappingIssue> select_care_v2_profile(const care::Record& record, const ProfileSet& set,
                                                            const std::string& name = "");

Result<V2Build, MappingIssues> translate_to_hl7v2(const care::Record& record, const ProfileSet& set,
                                                  const V2BuildOptions& options = {});

// Care date / dateTime text to HL7 DT / TS ("2026-11-01T10:30:00+01:00" -> "20261101103000+0100").
std::string care_to_hl7_time(std::string_view care_text);

}  // namespace midhurst::mapping
