#include "care/nhs_number.h"

#include <catch2/catch.hpp>

using midhurst::care::is_valid_nhs_number;
using midhurst::care::parse_nhs_number;

TEST_CASE("NHS numbers from domain.md section 5 that pass Modulus 11", "[nhs_number]") {
  for (const char* n : {"9449305552", "9000000009", "9999999468", "3333333333"}) {
    INFO(n);
    auto r = parse_nhs_number(n);
    REQUIRE(r.ok());
    CHECK(*r == n);
  }
}

TEST_CASE("NHS number 3478526985 (the BaRS example) fails Modulus 11", "[nhs_number]") {
  auto r = parse_nhs_number("3478526985");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "NHS number fails the Modulus 11 check: check digit should be 1, found 5");
}

TEST_CASE("NHS number spaces are stripped (display format 3 3 4)", "[nhs_number]") {
  auto r = parse_nhs_number("944 930 5552");
  REQUIRE(r.ok());
  CHECK(*r == "9449305552");
  CHECK(is_valid_nhs_number(" 900 000 0009 "));
}

TEST_CASE("NHS number whose check digit would be 10 is invalid whatever digit 10 is",
          "[nhs_number]") {
  // 1 0 0 0 0 0 0 0 1: 10 + 2 = 12; 12 mod 11 = 1; 11 - 1 = 10.
  for (const char* n : {"1000000010", "1000000011", "1000000019"}) {
    INFO(n);
    auto r = parse_nhs_number(n);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == "NHS number is invalid: its check digit would be 10");
  }
}

TEST_CASE("NHS number remainder 0 gives check digit 0 (11 becomes 0)", "[nhs_number]") {
  // Nine zeros: sum 0, remainder 0, 11 - 0 = 11, which becomes 0.
  CHECK(is_valid_nhs_number("0000000000"));
  CHECK_FALSE(is_valid_nhs_number("0000000001"));
  // 4 0 0 0 0 0 0 0 2: 40 + 4 = 44, remainder 0, check 0.
  CHECK(is_valid_nhs_number("4000000020"));
}

TEST_CASE("NHS number with the wrong length or non-digits is refused", "[nhs_number]") {
  CHECK(parse_nhs_number("944930555").error() == "NHS number must have 10 digits, found 9");
  CHECK(parse_nhs_number("94493055520").error() == "NHS number must have 10 digits, found 11");
  CHECK(parse_nhs_number("").error() == "NHS number must have 10 digits, found 0");
  CHECK(parse_nhs_number("944-930-5552").error() ==
        "NHS number contains a character that is not a digit");
  CHECK_FALSE(is_valid_nhs_number("94493O5552"));
}
