#include "fhir/json.h"

#include "fhir/test_support.h"

namespace midhurst::fhir {
namespace {

using testing::r4_model;

TEST_CASE("json: numbers keep their exact text through parse and print") {
  auto doc = parse_json(R"({"resourceType":"Observation","status":"final",
      "code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"},
      "component":[{"code":{"text":"y"},"valueInteger":7}]})");
  REQUIRE(doc.ok());
  CHECK(std::string((*doc)["valueQuantity"]["value"].GetString()) == "1.50");
  auto text = write_json(*doc, r4_model());
  REQUIRE(text.ok());
  CHECK(text->find(R"("value":1.50,)") != std::string::npos);
  CHECK(text->find(R"("valueInteger":7})") != std::string::npos);
  auto pretty = write_json(*doc, r4_model(), {.pretty = true});
  REQUIRE(pretty.ok());
  CHECK(pretty->find("\n  \"status\": \"final\"") != std::string::npos);
}

TEST_CASE("json: syntax errors say where") {
  auto doc = parse_json("{\n  \"resourceType\": \"Patient\",\n  oops\n}");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().code == Error::Code::kSyntax);
  CHECK(doc.error().reason.find("line 3") != std::string::npos);
}

TEST_CASE("json: duplicate member names are refused") {
  auto doc = parse_json(R"({"resourceType":"Patient","name":[{"family":"a","family":"b"}]})");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().path == "/name/0/family");
}

TEST_CASE("json: write_json refuses what is not FHIR") {
  auto doc = parse_json(R"({"resourceType":"Patient","active":"yes"})");
  auto text = write_json(*doc, r4_model());
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().to_string() == "Patient.active: expected true or false");
  auto unknown = parse_json(R"({"resourceType":"Patient","nmae":[]})");
  CHECK(write_json(*unknown, r4_model()).error().to_string() ==
        "Patient.nmae: unknown element 'nmae' in Patient");
}

TEST_CASE("json: equivalence ignores member order, not number text") {
  auto a = parse_json(R"({"a":1.50,"b":[true,{"x":"y"}]})");
  auto b = parse_json(R"({"b":[true,{"x":"y"}],"a":1.50})");
  auto c = parse_json(R"({"b":[true,{"x":"y"}],"a":1.5})");
  CHECK(json_equivalent(*a, *b));
  std::string why;
  CHECK_FALSE(json_equivalent(*a, *c, &why));
  CHECK(why == ".a: '1.50' != '1.5'");
  rapidjson::Document n;
  n.Parse(R"({"a":1.50})");  // a real number compares by its printed text
  auto d = parse_json(R"({"a":1.5})");
  CHECK(json_equivalent(n, *d));
}

TEST_CASE("json: narrative divs compare as XHTML") {
  auto a = parse_json(R"({"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><br />a&gt;b</div>"})");
  auto b = parse_json(R"({"div":"<div xmlns='http://www.w3.org/1999/xhtml'><br/>a>b</div>"})");
  auto c = parse_json(R"({"div":"<div xmlns='http://www.w3.org/1999/xhtml'><br/>a>c</div>"})");
  CHECK(json_equivalent(*a, *b));
  CHECK_FALSE(json_equivalent(*a, *c));
}

}  // namespace
}  // namespace midhurst::fhir
