#include "fhir/json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

TEST_CASE("json: write_compact_json prints what rapidjson::Writer prints") {
  auto rapidjson_text = [](const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
  };
  rapidjson::Document d;
  auto& a = d.GetAllocator();
  d.SetObject();
  const std::string controls("a\x01\x1f\b\t\n\f\r\"\\/\x7f\0z", 14);
  d.AddMember("controls", rapidjson::Value(controls.data(), static_cast<rapidjson::SizeType>(controls.size()), a), a);
  d.AddMember("utf8", "Testpati\u00ebnt \u2014 \U0001F600", a);
  rapidjson::Value quoted_key("key \"quoted\"\n", a);
  d.AddMember(quoted_key, rapidjson::Value(true), a);
  d.AddMember("no", false, a);
  d.AddMember("nothing", rapidjson::Value(), a);
  rapidjson::Value numbers(rapidjson::kArrayType);
  numbers.PushBack(0, a).PushBack(-1, a).PushBack(2147483647, a).PushBack(4294967295u, a);
  numbers.PushBack(static_cast<std::int64_t>(-9007199254740993LL), a).PushBack(static_cast<std::uint64_t>(18446744073709551615ULL), a);
  d.AddMember("numbers", numbers, a);
  rapidjson::Value nested(rapidjson::kObjectType);
  nested.AddMember("empty", rapidjson::Value(rapidjson::kObjectType), a);
  nested.AddMember("list", rapidjson::Value(rapidjson::kArrayType), a);
  d.AddMember("nested", nested, a);
  const auto ours = write_compact_json(d);
  REQUIRE(ours);
  CHECK(*ours == rapidjson_text(d));
  CHECK(ours->find("\\u0001\\u001F\\b\\t\\n\\f\\r\\\"\\\\/\x7f\\u0000z") != std::string::npos);
  // A whole resource, as parse_json holds it.
  auto patient = parse_json(R"({"resourceType":"Patient","name":[{"family":"O'Brien","given":["Zo\u00eb"]}],"multipleBirthInteger":2,"active":true})");
  REQUIRE(patient.ok());
  CHECK(write_compact_json(*patient) == rapidjson_text(*patient));
  // Doubles are left to rapidjson (its shortest round-trip text).
  d.AddMember("double", 1.5, a);
  CHECK_FALSE(write_compact_json(d).has_value());
}

TEST_CASE("json: strings are escaped wherever the character falls, in whole words or the tail") {
  auto rapidjson_text = [](const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
  };
  // Every length up to three words (of eight bytes, and of sixteen where the writer checks those),
  // with each escaped character at each position, and with bytes from 0x80 (copied as they are)
  // beside it; ' ' and 0x7f, on either side of the escaped ranges, stay as they are.
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f', '\0', ' ', '\x7f'}) {
    for (std::size_t n = 0; n <= 48; ++n) {
      for (std::size_t at = 0; at <= n; ++at) {
        std::string text(n, 'x');
        if (n > 0) text[n - 1] = static_cast<char>(0xC3);
        if (at < n) text[at] = special;
        rapidjson::Document d;
        d.SetArray();
        d.PushBack(rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), d.GetAllocator()),
                   d.GetAllocator());
        const auto ours = write_compact_json(d);
        REQUIRE(ours);
        CHECK(*ours == rapidjson_text(d));
      }
    }
  }
  // write_json's compact form is rapidjson::Writer's text too (numbers aside: none here).
  auto patient = parse_json(R"({"resourceType":"Patient","id":"p\"1","active":true,)"
                            R"("name":[{"family":"O'Brien \\ \u0001 long enough to fill words","given":["Zo\u00eb"]}],)"
                            R"("telecom":[],"contact":[{}]})");
  REQUIRE(patient.ok());
  auto text = write_json(*patient, r4_model());
  REQUIRE(text.ok());
  CHECK(*text == rapidjson_text(*patient));
}

}  // namespace
}  // namespace midhurst::fhir
