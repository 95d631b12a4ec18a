#include "hl7v2/charset.h"

#include <catch2/catch.hpp>

using namespace midhurst::hl7v2;

TEST_CASE("latin-1 to utf-8") {
  Charset c = charset_from_msh18("8859/1");
  REQUIRE(c.kind == CharsetKind::kIso8859);
  std::string out;
  append_as_utf8("Testpati\xEBnt", c, out);
  CHECK(out == "Testpati\xC3\xABnt");
}
