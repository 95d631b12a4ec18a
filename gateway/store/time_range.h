// Dates and dateTimes as ranges of canonical instants, for indexing and comparing them.
//
// FHIR compares dates as ranges (https://hl7.org/fhir/R4/search.html#date): "1950" means all of
// 1950, "2024-03-01T10:00+01:00" the minute 09:00Z..09:00:59.999Z. Both ends are canonical instant
// text ("YYYY-MM-DDThh:mm:ss.mmmZ", UTC, fixed width), so a range check is a text comparison and
// the same SQL works on every backend. A date without a time is taken as a UTC day (birth dates
// have no zone; queries are read the same way, so the comparison is consistent).
// Reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace midhurst::store {

struct InstantRange {
  std::string lo;  // first instant covered
  std::string hi;  // last instant covered (inclusive, millisecond precision)
};

// The range a care-model date or dateTime covers (formats: care/json.h); nullopt when `text` is
// not one.
std::optional<InstantRange> date_range(std::string_view text);

}  // namespace midhurst::store
