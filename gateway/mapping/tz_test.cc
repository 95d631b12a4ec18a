#include "mapping/tz.h"

#include <catch2/catch.hpp>

#include "mapping/transform.h"

using namespace midhurst::mapping;

namespace {

const TimeZone& london() {
  static const TimeZone z = [] {
    auto r = TimeZone::load("Europe/London");
    REQUIRE(r.ok());
    return *r;
  }();
  return z;
}

std::string dt(const char* ts) {
  auto r = hl7_to_date_time(ts, london());
  return r.ok() ? *r : "error: " + r.error();
}

}  // namespace

TEST_CASE("Europe/London offsets come from the tz database, across DST changes", "[tz]") {
  // 2026-03-29 01:00Z clocks go forward; 2026-10-25 01:00Z they go back.
  const std::int64_t spring = days_from_civil(2026, 3, 29) * 86400 + 3600;
  CHECK(london().offset_at(spring - 1) == 0);
  CHECK(london().offset_at(spring) == 3600);
  const std::int64_t autumn = days_from_civil(2026, 10, 25) * 86400 + 3600;
  CHECK(london().offset_at(autumn - 1) == 3600);
  CHECK(london().offset_at(autumn) == 0);
  // Far beyond any transition table: the footer rule (GMT0BST,M3.5.0/1,M10.5.0).
  CHECK(london().offset_at(days_from_civil(2100, 7, 1) * 86400) == 3600);
  CHECK(london().offset_at(days_from_civil(2100, 12, 1) * 86400) == 0);
  // 1968-1971 British Standard Time: +01:00 all winter.
  CHECK(london().offset_at(days_from_civil(1970, 1, 1) * 86400) == 3600);
}

TEST_CASE("offset-less HL7 times get the London offset of that instant (spring gap)", "[tz]") {
  CHECK(dt("202603290030") == "2026-03-29T00:30+00:00");
  CHECK(dt("202603290230") == "2026-03-29T02:30+01:00");
  // 01:30 never happened: read in the old offset, i.e. the instant after the gap.
  CHECK(dt("202603290130") == "2026-03-29T02:30+01:00");
}

TEST_CASE("an ambiguous autumn time is its first occurrence (BST)", "[tz]") {
  // 01:30 on 2026-10-25 happens at 00:30Z (BST) and again at 01:30Z (GMT): the first wins.
  CHECK(dt("202610250130") == "2026-10-25T01:30+01:00");
  CHECK(dt("202610250030") == "2026-10-25T00:30+01:00");
  CHECK(dt("202610250230") == "2026-10-25T02:30+00:00");
  const TimeZone::Local r = london().resolve(days_from_civil(2026, 10, 25) * 86400 + 5400);
  CHECK(r.kind == TimeZone::Local::Kind::kAmbiguous);
  CHECK(r.other_offset_seconds == 0);
}

TEST_CASE("HL7 timestamps keep their precision and their own offset", "[tz]") {
  CHECK(dt("2026") == "2026");
  CHECK(dt("202607") == "2026-07");
  CHECK(dt("20260701") == "2026-07-01");
  CHECK(dt("2026070114") == "2026-07-01T14:00+01:00");
  CHECK(dt("20260701141516") == "2026-07-01T14:15:16+01:00");
  CHECK(dt("20260701141516.25") == "2026-07-01T14:15:16.25+01:00");
  CHECK(dt("198808181126+0215") == "1988-08-18T11:26+02:15");
  CHECK(dt("20261301").rfind("error:", 0) == 0);
  CHECK(*hl7_to_date("196512131515") == "1965-12-13");
  CHECK(!hl7_to_date("19650230").ok());
}

TEST_CASE("zone names are checked and missing zones refused", "[tz]") {
  CHECK(!TimeZone::load("../etc/passwd").ok());
  CHECK(!TimeZone::load("Mars/Olympus_Mons").ok());
  CHECK(TimeZone::load("UTC").ok());
  CHECK(TimeZone::load("UTC")->offset_at(0) == 0);
  CHECK(!TimeZone::from_tzif("X", "not a tzif file").ok());
}
