#include "hl7v2/escape.h"

#include <catch2/catch.hpp>

using namespace midhurst::hl7v2;

TEST_CASE("escape and unescape round trip") {
  Delimiters d;
  std::string enc;
  escape("a|b^c~d&e\\f", d, enc);
  CHECK(enc == "a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f");
  std::string dec;
  unescape(enc, d, dec);
  CHECK(dec == "a|b^c~d&e\\f");
}
