#include "fhir/xml.h"

#include <pugixml.hpp>

#include "fhir/json.h"
#include "fhir/test_support.h"

namespace midhurst::fhir {
namespace {

using testing::r4_model;

// XML -> JSON must equal `expected_json` semantically; then JSON -> XML -> JSON again.
void check_xml_gives(const std::string& xml, const std::string& expected_json) {
  auto got = xml_to_json(xml, r4_model());
  INFO((got.ok() ? std::string() : got.error().to_string()));
  REQUIRE(got.ok());
  auto expected = parse_json(expected_json);
  REQUIRE(expected.ok());
  std::string why;
  CHECK(json_equivalent(*expected, *got, &why));
  INFO(why);
  auto again = json_to_xml(*got, r4_model());
  REQUIRE(again.ok());
  auto back = xml_to_json(*again, r4_model());
  REQUIRE(back.ok());
  CHECK(json_equivalent(*expected, *back, &why));
}

Error xml_error(const std::string& xml, const XmlReadOptions& options = {}) {
  auto got = xml_to_json(xml, r4_model(), options);
  REQUIRE_FALSE(got.ok());
  return got.error();
}

Error json_error(const std::string& json) {
  auto doc = parse_json(json);
  REQUIRE(doc.ok());
  auto got = json_to_xml(*doc, r4_model());
  REQUIRE_FALSE(got.ok());
  return got.error();
}

TEST_CASE("xml: primitive extensions and ids align field and _field") {
  check_xml_gives(R"(<Patient xmlns="http://hl7.org/fhir">
      <id value="p1"/>
      <name>
        <given value="Ann"/>
        <given id="g2"><extension url="http://example.org/x"><valueString value="v"/></extension></given>
        <given value="Cy"/>
      </name>
      <birthDate value="1970-01-01">
        <extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime">
          <valueDateTime value="1970-01-01T10:00:00Z"/>
        </extension>
      </birthDate>
    </Patient>)",
                  R"({"resourceType":"Patient","id":"p1",
      "name":[{"given":["Ann",null,"Cy"],
               "_given":[null,{"id":"g2","extension":[{"url":"http://example.org/x","valueString":"v"}]},null]}],
      "birthDate":"1970-01-01",
      "_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                  "valueDateTime":"1970-01-01T10:00:00Z"}]}})");
}

TEST_CASE("xml: the narrative div is XHTML in XML and a string in JSON") {
  const std::string div =
      R"(<div xmlns="http://www.w3.org/1999/xhtml"><p class="x">Hello <b>World</b> &amp; a&lt;b<br/>more</p></div>)";
  std::string xml = R"(<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>)" +
                    div + "</text><active value=\"true\"/></Patient>";
  auto got = xml_to_json(xml, r4_model());
  REQUIRE(got.ok());
  CHECK(std::string((*got)["text"]["div"].GetString()) == div);  // canonical form, exactly
  auto back = json_to_xml(*got, r4_model());
  REQUIRE(back.ok());
  CHECK(*back == xml);  // embedded as XML, byte for byte
  pugi::xml_document doc;
  REQUIRE(doc.load_string(back->c_str()));
  CHECK(std::string(doc.select_node("//*[local-name()='b']").node().child_value()) == "World");
}

TEST_CASE("xml: contained resources are wrapped, decimals keep their text") {
  check_xml_gives(R"(<Observation xmlns="http://hl7.org/fhir">
      <contained><Patient><id value="p"/></Patient></contained>
      <status value="final"/>
      <code><text value="weight"/></code>
      <subject><reference value="#p"/></subject>
      <valueQuantity><value value="71.50"/><unit value="kg"/></valueQuantity>
    </Observation>)",
                  R"({"resourceType":"Observation",
      "contained":[{"resourceType":"Patient","id":"p"}],
      "status":"final","code":{"text":"weight"},"subject":{"reference":"#p"},
      "valueQuantity":{"value":71.50,"unit":"kg"}})");
  auto got = xml_to_json(
      R"(<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="w"/></code><valueQuantity><value value="71.50"/></valueQuantity></Observation>)",
      r4_model());
  auto text = write_json(*got, r4_model());
  REQUIRE(text.ok());
  CHECK(*text ==
        R"({"resourceType":"Observation","status":"final","code":{"text":"w"},"valueQuantity":{"value":71.50}})");
}

TEST_CASE("xml: Bundle entries wrap their resource; entry.link reuses Bundle.link") {
  check_xml_gives(R"(<Bundle xmlns="http://hl7.org/fhir">
      <type value="searchset"/>
      <total value="2"/>
      <entry>
        <link><relation value="alternate"/><url value="http://example.org/a"/></link>
        <fullUrl value="http://example.org/fhir/Patient/1"/>
        <resource><Patient><id value="1"/><active value="false"/></Patient></resource>
        <search><mode value="match"/><score value="0.50"/></search>
      </entry>
      <entry>
        <fullUrl value="http://example.org/fhir/Patient/2"/>
        <resource><Patient><id value="2"/></Patient></resource>
      </entry>
    </Bundle>)",
                  R"({"resourceType":"Bundle","type":"searchset","total":2,
      "entry":[{"link":[{"relation":"alternate","url":"http://example.org/a"}],
                "fullUrl":"http://example.org/fhir/Patient/1",
                "resource":{"resourceType":"Patient","id":"1","active":false},
                "search":{"mode":"match","score":0.50}},
               {"fullUrl":"http://example.org/fhir/Patient/2",
                "resource":{"resourceType":"Patient","id":"2"}}]})");
}

TEST_CASE("xml: JSON member order does not matter; XML follows the definition order") {
  auto doc = parse_json(
      R"({"gender":"female","birthDate":"1980-02-03","name":[{"given":["Zoe"],"family":"Ng"}],
          "active":true,"resourceType":"Patient","id":"x","extension":[{"valueBoolean":true,"url":"http://e"}]})");
  auto xml = json_to_xml(*doc, r4_model());
  REQUIRE(xml.ok());
  CHECK(*xml ==
        R"(<Patient xmlns="http://hl7.org/fhir"><id value="x"/><extension url="http://e"><valueBoolean value="true"/></extension><active value="true"/><name><family value="Ng"/><given value="Zoe"/></name><gender value="female"/><birthDate value="1980-02-03"/></Patient>)");
  auto pretty = json_to_xml(*doc, r4_model(), {.pretty = true});
  REQUIRE(pretty.ok());
  CHECK(*pretty == R"(<Patient xmlns="http://hl7.org/fhir">
  <id value="x"/>
  <extension url="http://e">
    <valueBoolean value="true"/>
  </extension>
  <active value="true"/>
  <name>
    <family value="Ng"/>
    <given value="Zoe"/>
  </name>
  <gender value="female"/>
  <birthDate value="1980-02-03"/>
</Patient>)");
}

TEST_CASE("xml: awkward characters survive attributes both ways") {
  auto doc = parse_json(
      R"({"resourceType":"Patient","name":[{"text":"a \"b\" <c> & d\ne\tf\r\ng 'h' \u00e9\u20ac"}]})");
  auto xml = json_to_xml(*doc, r4_model());
  REQUIRE(xml.ok());
  auto back = xml_to_json(*xml, r4_model());
  REQUIRE(back.ok());
  CHECK(json_equivalent(*doc, *back));
}

TEST_CASE("xml: namespace prefixes, comments and xsi attributes are accepted") {
  check_xml_gives(R"(<?xml version="1.0" encoding="UTF-8"?>
    <!-- a comment -->
    <f:Patient xmlns:f="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xsi:schemaLocation="http://hl7.org/fhir ../../schema/patient.xsd">
      <f:active value="true"/><!-- another -->
    </f:Patient>)",
                  R"({"resourceType":"Patient","active":true})");
}

TEST_CASE("xml: out-of-order elements are refused unless strict_order is off") {
  const std::string xml = R"(<Patient xmlns="http://hl7.org/fhir"><active value="true"/><name><given value="A"/><family value="B"/><given value="C"/></name></Patient>)";
  Error e = xml_error(xml);
  CHECK(e.code == Error::Code::kStructure);
  CHECK(e.to_string() ==
        "Patient.name[0].family: element 'family' is out of order: it must come before 'given'");
  auto lenient = xml_to_json(xml, r4_model(), {.strict_order = false});
  REQUIRE(lenient.ok());
  auto expected = parse_json(
      R"({"resourceType":"Patient","active":true,"name":[{"family":"B","given":["A","C"]}]})");
  CHECK(json_equivalent(*expected, *lenient));
  // Resource-level order is checked too.
  CHECK(xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><active value="true"/></Patient>)")
            .to_string() == "Patient.active: element 'active' is out of order: it must come before 'gender'");
}

// --- malformed XML: one case each, every error names the path -------------------------------

TEST_CASE("xml error: unknown element") {
  Error e = xml_error(
      R"(<Patient xmlns="http://hl7.org/fhir"><name><given value="a"/></name><name><givn value="b"/></name></Patient>)");
  CHECK(e.code == Error::Code::kUnknownElement);
  CHECK(e.to_string() == "Patient.name[1].givn: unknown element 'givn' in HumanName");
}

TEST_CASE("xml error: bad boolean") {
  Error e = xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>)");
  CHECK(e.code == Error::Code::kInvalidValue);
  CHECK(e.to_string() == "Patient.active: 'yes' is not a boolean (true or false)");
}

TEST_CASE("xml error: bad decimal") {
  Error e = xml_error(
      R"(<Observation xmlns="http://hl7.org/fhir"><valueQuantity><value value="1.5.0"/></valueQuantity></Observation>)");
  CHECK(e.code == Error::Code::kInvalidValue);
  CHECK(e.to_string() == "Observation.valueQuantity.value: '1.5.0' is not a valid decimal");
}

TEST_CASE("xml error: root not in the FHIR namespace") {
  Error e = xml_error(R"(<Patient xmlns="http://example.org/fhir"><active value="true"/></Patient>)");
  CHECK(e.code == Error::Code::kNamespace);
  CHECK(e.to_string() ==
        "Patient: element 'Patient' is in namespace 'http://example.org/fhir', not http://hl7.org/fhir");
  CHECK(xml_error(R"(<Patient><active value="true"/></Patient>)").reason ==
        "element 'Patient' is in no namespace, not http://hl7.org/fhir");
}

TEST_CASE("xml error: child element not in the FHIR namespace") {
  Error e = xml_error(
      R"(<Patient xmlns="http://hl7.org/fhir"><name><given xmlns="urn:x" value="a"/></name></Patient>)");
  CHECK(e.code == Error::Code::kNamespace);
  CHECK(e.path == "Patient.name[0].given");
}

TEST_CASE("xml error: narrative div not in the XHTML namespace") {
  Error e = xml_error(
      R"(<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div>x</div></text></Patient>)");
  CHECK(e.code == Error::Code::kNamespace);
  CHECK(e.path == "Patient.text.div");
}

TEST_CASE("xml error: single-valued element repeated") {
  Error e = xml_error(
      R"(<Patient xmlns="http://hl7.org/fhir"><active value="true"/><active value="false"/></Patient>)");
  CHECK(e.code == Error::Code::kStructure);
  CHECK(e.to_string() == "Patient.active: 'active' does not repeat but occurs more than once");
}

TEST_CASE("xml error: two types of one choice element") {
  Error e = xml_error(
      R"(<Patient xmlns="http://hl7.org/fhir"><deceasedBoolean value="true"/><deceasedDateTime value="2020"/></Patient>)");
  CHECK(e.code == Error::Code::kStructure);
  CHECK(e.path == "Patient.deceasedDateTime");
}

TEST_CASE("xml error: unknown attribute, text content, empty primitive") {
  CHECK(xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><active value="true" foo="1"/></Patient>)")
            .to_string() == "Patient.active: unknown attribute 'foo' on Element");
  CHECK(xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><id>p1</id></Patient>)").path ==
        "Patient.id");
  CHECK(xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><gender/></Patient>)").to_string() ==
        "Patient.gender: element has no value attribute, id or extension");
}

TEST_CASE("xml error: unknown resource type and bad wrappers") {
  CHECK(xml_error(R"(<Patiently xmlns="http://hl7.org/fhir"/>)").code ==
        Error::Code::kUnknownType);
  CHECK(xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><contained><Foo/></contained></Patient>)")
            .to_string() == "Patient.contained[0]: unknown resource type 'Foo'");
  CHECK(xml_error(R"(<Patient xmlns="http://hl7.org/fhir"><contained/></Patient>)").to_string() ==
        "Patient.contained[0]: must hold exactly one resource");
}

TEST_CASE("xml error: not well-formed") {
  Error e = xml_error("<Patient xmlns=\"http://hl7.org/fhir\">\n  <active value=\"true\">\n</Patient>");
  CHECK(e.code == Error::Code::kSyntax);
  CHECK(e.reason.find("line 3") != std::string::npos);
  CHECK(xml_error("").code == Error::Code::kSyntax);
}

// --- malformed JSON resources on the way to XML ---------------------------------------------

TEST_CASE("json->xml error: unknown element names its path") {
  Error e = json_error(R"({"resourceType":"Patient","name":[{"given":["a"]},{"givn":["b"]}]})");
  CHECK(e.code == Error::Code::kUnknownElement);
  CHECK(e.to_string() == "Patient.name[1].givn: unknown element 'givn' in HumanName");
}

TEST_CASE("json->xml error: bad boolean, bad number, wrong shapes") {
  CHECK(json_error(R"({"resourceType":"Patient","active":"true"})").to_string() ==
        "Patient.active: expected JSON true or false");
  CHECK(json_error(R"({"resourceType":"Patient","multipleBirthInteger":1.5})").to_string() ==
        "Patient.multipleBirthInteger: not a valid integer number");
  CHECK(json_error(R"({"resourceType":"Patient","gender":["male"]})").to_string() ==
        "Patient.gender: 'gender' does not repeat: expected a single value, not an array");
  CHECK(json_error(R"({"resourceType":"Patient","name":{"family":"x"}})").to_string() ==
        "Patient.name: 'name' repeats: expected an array");
  CHECK(json_error(R"({"resourceType":"Patient","name":[]})").code == Error::Code::kStructure);
  CHECK(json_error(R"({"resourceType":"Patient","name":[{"given":["a","b"],"_given":[null]}]})")
            .path == "Patient.name[0].given");
  CHECK(json_error(R"({"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"})")
            .code == Error::Code::kStructure);
  CHECK(json_error(R"({"resourceType":"Patient","contained":[{"resourceType":"Nope"}]})")
            .to_string() == "Patient.contained[0]: unknown resource type 'Nope'");
  CHECK(json_error(R"({"active":true})").code == Error::Code::kStructure);
}

TEST_CASE("json->xml error: text XML cannot carry, and bad narrative") {
  CHECK(json_error(R"({"resourceType":"Patient","name":[{"text":"a\u0001b"}]})").code ==
        Error::Code::kInvalidValue);
  Error no_ns = json_error(
      R"({"resourceType":"Patient","text":{"status":"generated","div":"<div>x</div>"}})");
  CHECK(no_ns.code == Error::Code::kNamespace);
  CHECK(no_ns.path == "Patient.text.div");
  CHECK(json_error(
            R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p></div>"}})")
            .code == Error::Code::kSyntax);
}

}  // namespace
}  // namespace midhurst::fhir
