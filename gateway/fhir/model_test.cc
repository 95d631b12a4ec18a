#include "fhir/model.h"

#include "fhir/test_support.h"

namespace midhurst::fhir {
namespace {

using testing::r4_model;

std::string element_names(const TypeDef& t) {
  std::string out;
  for (const auto& e : t.elements) out += (out.empty() ? "" : ",") + e.name;
  return out;
}

TEST_CASE("model: R4 resources inherit Resource and DomainResource elements in order") {
  const TypeDef* patient = r4_model().resource("Patient");
  REQUIRE(patient);
  CHECK(element_names(*patient).rfind(
            "id,meta,implicitRules,language,text,contained,extension,modifierExtension,"
            "identifier,active,name,telecom,gender,birthDate,deceased,address",
            0) == 0);
  CHECK(r4_model().find("Patient")->elements[0].xml_attribute == false);  // Resource.id
  CHECK(r4_model().resource("DomainResource") == nullptr);                 // abstract
  CHECK(r4_model().find("DomainResource")->is_resource_wrapper());
  CHECK(r4_model().fhir_version() == "4.0.1");
}

TEST_CASE("model: choice elements resolve by their type suffix") {
  const TypeDef* patient = r4_model().resource("Patient");
  const TypeDef::Slot* slot = patient->find("deceasedDateTime");
  REQUIRE(slot);
  CHECK(slot->element->choice);
  CHECK(slot->type->name == "dateTime");
  CHECK(slot->element->name_for(*slot->type) == "deceasedDateTime");
  CHECK(patient->find("deceased") == nullptr);
  CHECK(patient->find("deceasedString") == nullptr);
  CHECK(r4_model().find("Extension")->find("valueCodeableConcept"));
}

TEST_CASE("model: backbone elements and contentReference") {
  const TypeDef* contact = r4_model().resource("Patient")->find("contact")->type;
  CHECK(contact->name == "Patient.contact");
  CHECK(contact->kind == TypeKind::kBackbone);
  CHECK(element_names(*contact).rfind("id,extension,modifierExtension,relationship", 0) == 0);
  CHECK(contact->elements[0].xml_attribute);  // Element.id is an XML attribute
  // Bundle.entry.link is "#Bundle.link"; CodeSystem.concept.concept is recursive.
  const TypeDef* entry = r4_model().find("Bundle.entry");
  CHECK(entry->find("link")->type->name == "Bundle.link");
  CHECK(entry->find("link")->element->repeats);
  const TypeDef* cs_concept = r4_model().find("CodeSystem.concept");
  CHECK(cs_concept->find("concept")->type == cs_concept);
}

TEST_CASE("model: primitives know their JSON form") {
  CHECK(r4_model().find("boolean")->json == JsonKind::kBoolean);
  CHECK(r4_model().find("decimal")->json == JsonKind::kNumber);
  CHECK(r4_model().find("positiveInt")->json == JsonKind::kNumber);  // via base integer
  CHECK(r4_model().find("unsignedInt")->json == JsonKind::kNumber);
  CHECK(r4_model().find("code")->json == JsonKind::kString);
  CHECK(r4_model().find("xhtml")->json == JsonKind::kXhtml);
  CHECK(r4_model().find("Extension")->find("url")->element->xml_attribute);
}

TEST_CASE("model: malformed model files are refused with a reason") {
  CHECK(Model::parse("{").error().code == Error::Code::kSyntax);
  CHECK(Model::parse(R"({"format":"other"})").error().code == Error::Code::kModel);
  auto bad_ref = Model::parse(R"({"format":"midhurst-fhir-model/1","types":[
      {"name":"Element","kind":"complex","elements":["id|string|@"]}]})");
  REQUIRE_FALSE(bad_ref.ok());
  CHECK(bad_ref.error().reason == "Element.id refers to unknown type 'string'");
  auto missing = Model::load_file("/nonexistent/model.json");
  CHECK(missing.error().code == Error::Code::kIo);
  CHECK(r4::load_model("/nonexistent").error().code == Error::Code::kIo);
}

}  // namespace
}  // namespace midhurst::fhir
