// MODEL.md must match the model: its field reference is generated from the reflection tables,
// and the documentation may name only SNOMED CT ids that domain.md lists (codes.h).
#include <cctype>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "care/codes.h"
#include "care/registry.h"
#include "care/test_util.h"

namespace care = midhurst::care;

namespace {
constexpr std::string_view kBegin = "<!-- BEGIN GENERATED FIELD REFERENCE -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED FIELD REFERENCE -->";
}  // namespace

TEST_CASE("MODEL.md's field reference is up to date", "[doc]") {
  const std::string doc = care::test::read_source_file("MODEL.md");
  REQUIRE_FALSE(doc.empty());
  const std::size_t begin = doc.find(kBegin);
  const std::size_t end = doc.find(kEnd);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::string in_doc = doc.substr(begin + kBegin.size(), end - begin - kBegin.size());
  const std::string generated = care::model_reference_markdown(
      [](std::string_view entity) { return care::test::read_example(entity); });
  // On failure: regenerate with care_schema --markdown (see MODEL.md).
  CHECK(in_doc == generated);
}

TEST_CASE("the model documents no SNOMED CT id that domain.md does not list", "[doc]") {
  const std::set<std::string_view> known(std::begin(care::codes::kAllSnomed),
                                         std::end(care::codes::kAllSnomed));
  // SNOMED ids have 6 to 18 digits; the model's other numbers (NHS DD codes, examples) are
  // shorter, except the NHS numbers in the examples, which are not in the schema text.
  const std::string text = care::schema_json();
  std::string unknown;
  for (std::size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; continue; }
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    const std::string_view number(text.data() + i, j - i);
    if (number.size() >= 6 && !known.count(number)) unknown += std::string(number) + " ";
    i = j;
  }
  INFO("unknown ids: " << unknown);
  CHECK(unknown.empty());
}
