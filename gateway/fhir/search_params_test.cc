// Search parameter parsing: each value type, the result parameters, and the refusals, whose
// messages must name the parameter.
#include "fhir/search_params.h"

#include <catch2/catch.hpp>

namespace midhurst::fhir {
namespace {

const ParamKinds kPatient = {{"identifier", SearchParamType::kToken},
                             {"family", SearchParamType::kString},
                             {"birthdate", SearchParamType::kDate},
                             {"gender", SearchParamType::kToken},
                             {"general-practitioner", SearchParamType::kReference},
                             {"_id", SearchParamType::kToken},
                             {"_lastUpdated", SearchParamType::kDate}};

SearchRequest parse_ok(std::vector<std::pair<std::string, std::string>> q) {
  auto r = parse_search(q, kPatient);
  INFO((r ? std::string("ok") : r.error()));
  REQUIRE(r.ok());
  return std::move(*r);
}

std::string parse_error(std::vector<std::pair<std::string, std::string>> q) {
  auto r = parse_search(q, kPatient);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

TEST_CASE("search params: tokens in all four forms, with escapes") {
  auto t = parse_token("https://fhir.nhs.uk/Id/nhs-number|9449305552");
  REQUIRE(t.ok());
  CHECK(t->system == std::optional<std::string>("https://fhir.nhs.uk/Id/nhs-number"));
  CHECK(t->code == "9449305552");

  t = parse_token("female");
  REQUIRE(t.ok());
  CHECK_FALSE(t->system.has_value());
  CHECK(t->code == "female");

  t = parse_token("|local");
  REQUIRE(t.ok());
  CHECK(t->system == std::optional<std::string>(""));
  CHECK(t->code == "local");

  t = parse_token("urn:sys|");
  REQUIRE(t.ok());
  CHECK(t->system == std::optional<std::string>("urn:sys"));
  CHECK(t->code.empty());

  t = parse_token("urn:sys|a\\|b");
  REQUIRE(t.ok());
  CHECK(t->code == "a|b");

  CHECK_FALSE(parse_token("a|b|c").ok());
  CHECK_FALSE(parse_token("|").ok());
  CHECK_FALSE(parse_token("").ok());
}

TEST_CASE("search params: a comma is OR unless escaped") {
  auto r = parse_ok({{"gender", "male,female"}, {"identifier", "urn:a|x\\,y"}});
  REQUIRE(r.params.size() == 2);
  REQUIRE(r.params[0].tokens.size() == 2);
  CHECK(r.params[0].tokens[1].code == "female");
  REQUIRE(r.params[1].tokens.size() == 1);
  CHECK(r.params[1].tokens[0].code == "x,y");
}

TEST_CASE("search params: date prefixes and precisions") {
  for (auto [text, cmp] : std::vector<std::pair<std::string, DateComparator>>{
           {"1950", DateComparator::kEq},       {"eq1950-03", DateComparator::kEq},
           {"ne1950-03-01", DateComparator::kNe}, {"lt2024-01-01T10:00:00Z", DateComparator::kLt},
           {"gt2024-01-01T10:00+01:00", DateComparator::kGt}, {"le2024", DateComparator::kLe},
           {"ge2024-02-29T23:59:59.999Z", DateComparator::kGe}, {"sa2020", DateComparator::kSa},
           {"eb2020", DateComparator::kEb}}) {
    auto d = parse_date(text);
    INFO(text);
    REQUIRE(d.ok());
    CHECK(d->comparator == cmp);
  }
  // A '+' that form decoding turned into a space is put back.
  auto d = parse_date("ge2024-01-01T00:00:00 01:00");
  REQUIRE(d.ok());
  CHECK(d->value == "2024-01-01T00:00:00+01:00");

  CHECK_FALSE(parse_date("ap2020").ok());
  CHECK(parse_date("ap2020").error().find("not supported") != std::string::npos);
  CHECK_FALSE(parse_date("xx2020").ok());
  CHECK_FALSE(parse_date("2024-13-01").ok());
  CHECK_FALSE(parse_date("2024-01-01T10:00").ok());  // a time needs a zone
  CHECK_FALSE(parse_date("yesterday").ok());
}

TEST_CASE("search params: references") {
  auto r = parse_reference("Patient/abc-1");
  REQUIRE(r.ok());
  CHECK(r->type == "Patient");
  CHECK(r->id == "abc-1");
  r = parse_reference("abc-1");
  REQUIRE(r.ok());
  CHECK(r->type.empty());
  r = parse_reference("https://example.org/fhir/Organization/o1");
  REQUIRE(r.ok());
  CHECK(r->type == "Organization");
  CHECK(r->id == "o1");
  CHECK_FALSE(parse_reference("Patient/").ok());
  CHECK_FALSE(parse_reference("patient/x").ok());
  CHECK_FALSE(parse_reference("Patient/a b").ok());

  auto q = parse_ok({{"general-practitioner:Organization", "o1"}});
  REQUIRE(q.params.size() == 1);
  CHECK(q.params[0].references[0].type == "Organization");
  CHECK(parse_error({{"general-practitioner:Organization", "Practitioner/p1"}}).find("general-practitioner") !=
        std::string::npos);
}

TEST_CASE("search params: result parameters") {
  auto r = parse_ok({{"_count", "10"},
                     {"_sort", "-_lastUpdated,_id"},
                     {"_include", "Patient:general-practitioner"},
                     {"_revinclude", "Encounter:patient:Patient"},
                     {"_summary", "count"},
                     {"_total", "accurate"},
                     {"_format", "xml"},
                     {"_pretty", "true"},
                     {"_cursor", "abc"}});
  CHECK(r.count == std::optional<int>(10));
  REQUIRE(r.sort.size() == 2);
  CHECK(r.sort[0] == SortKey{"_lastUpdated", true});
  CHECK(r.sort[1] == SortKey{"_id", false});
  REQUIRE(r.includes.size() == 1);
  CHECK(r.includes[0] == IncludeParam{"Patient", "general-practitioner", ""});
  REQUIRE(r.revincludes.size() == 1);
  CHECK(r.revincludes[0] == IncludeParam{"Encounter", "patient", "Patient"});
  CHECK(r.summary == SummaryMode::kCount);
  CHECK(r.total == TotalMode::kAccurate);
  CHECK(r.format == "xml");
  CHECK(r.pretty);
  CHECK(r.cursor == "abc");
  CHECK(r.params.empty());
}

TEST_CASE("search params: refusals name the parameter and the reason") {
  CHECK(parse_error({{"_count", "0"}}).find("_count") != std::string::npos);
  CHECK(parse_error({{"_count", "1001"}}).find("1000") != std::string::npos);
  CHECK(parse_error({{"_count", "ten"}}).find("_count=ten") != std::string::npos);
  CHECK(parse_error({{"family:exact", "Smith"}}).find("family:exact") != std::string::npos);
  CHECK(parse_error({{"family:contains", "mit"}}).find("not supported") != std::string::npos);
  CHECK(parse_error({{"_elements", "id"}}).find("_elements") != std::string::npos);
  CHECK(parse_error({{"_summary", "true"}}).find("_summary") != std::string::npos);
  CHECK(parse_error({{"_include", "Patient"}}).find("Type:param") != std::string::npos);
  CHECK(parse_error({{"_include:iterate", "Patient:link"}}).find("iterate") != std::string::npos);
  CHECK(parse_error({{"birthdate", "1950,1960"}}).find("birthdate") != std::string::npos);
  CHECK(parse_error({{"birthdate", "soon"}}).find("birthdate=soon") != std::string::npos);
  CHECK(parse_error({{"general-practitioner.name", "x"}}).find("chained") != std::string::npos);
  CHECK(parse_error({{"gender", ""}}).find("empty") != std::string::npos);
  CHECK(parse_error({{"_pretty", "yes"}}).find("_pretty") != std::string::npos);
}

TEST_CASE("search params: unknown names are collected, not refused") {
  auto r = parse_ok({{"colour", "blue"}, {"family", "smith"}, {"shoe:size", "9"}});
  CHECK(r.unknown == std::vector<std::string>{"colour", "shoe:size"});
  REQUIRE(r.params.size() == 1);
  CHECK(r.params[0].strings == std::vector<std::string>{"smith"});
}

}  // namespace
}  // namespace midhurst::fhir
