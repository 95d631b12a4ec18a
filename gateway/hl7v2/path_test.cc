#include "hl7v2/path.h"

#include <catch2/catch.hpp>

using namespace midhurst::hl7v2;

TEST_CASE("path parse") {
  auto p = Path::parse("PID-3[2].4.1");
  REQUIRE(p.ok());
  CHECK(p->field == 3);
  CHECK(p->repetition == 2);
  CHECK(p->component == 4);
  CHECK(p->subcomponent == 1);
  CHECK(p->to_string() == "PID-3[2].4.1");
  CHECK_FALSE(Path::parse("PID3").ok());
}
