#include "care/access.h"

#include <catch2/catch.hpp>

#include "care/json.h"
#include "care/record.h"

namespace care = midhurst::care;
using care::Scalar;

TEST_CASE("set_path writes typed values through the reflection table", "[access]") {
  care::Patient p;
  REQUIRE(care::set_path(&p, "patient.birthDate", Scalar(std::string("1965-12-13"))).ok());
  REQUIRE(care::set_path(&p, "patient.gender", Scalar(std::string("female"))).ok());
  REQUIRE(care::set_path(&p, "patient.deceased", Scalar(true)).ok());
  REQUIRE(care::set_path(&p, "patient.nhsNumber.value", Scalar(std::string("9449305552"))).ok());
  REQUIRE(care::set_path(&p, "patient.telecoms[].value", Scalar(std::string("0161"))).ok());
  REQUIRE(care::set_path(&p, "patient.telecoms[0].rank", Scalar(std::int64_t{2})).ok());
  REQUIRE(care::set_path(&p, "patient.names[].family", Scalar(std::string("SMITH"))).ok());
  REQUIRE(care::set_path(&p, "patient.names[0].given", Scalar(std::string("FREDRICA"))).ok());
  REQUIRE(care::set_path(&p, "patient.names[0].given[]", Scalar(std::string("J"))).ok());
  CHECK(p.birth_date == "1965-12-13");
  CHECK(p.gender == care::AdministrativeGender::kFemale);
  CHECK(p.deceased == true);
  CHECK(p.nhs_number->value == "9449305552");
  REQUIRE(p.telecoms.size() == 1);
  CHECK(p.telecoms[0].rank == 2);
  REQUIRE(p.names.size() == 1);
  CHECK(p.names[0].given == std::vector<std::string>{"FREDRICA", "J"});
}

TEST_CASE("set_path refuses wrong kinds, bad codes, bad dates and gaps", "[access]") {
  care::Patient p;
  auto why = [&](std::string_view path, Scalar v) {
    auto s = care::set_path(&p, path, v);
    return s.ok() ? std::string("ok") : s.error();
  };
  CHECK(why("patient.gender", Scalar(std::string("M"))).find("not an allowed value of AdministrativeGender") != std::string::npos);
  CHECK(why("patient.birthDate", Scalar(std::string("1965-13-01"))) != "ok");
  CHECK(why("patient.deceased", Scalar(std::string("Y"))) == "expected boolean, got string 'Y'");
  CHECK(why("patient.nhsNumber", Scalar(std::string("x"))).find("address one of its fields") != std::string::npos);
  CHECK(why("patient.identifiers[2].value", Scalar(std::string("x"))).find("beyond the list") != std::string::npos);
  CHECK(why("patient.nope", Scalar(true)).find("unknown field 'nope'") != std::string::npos);
}

TEST_CASE("get_path reads every value a path matches", "[access]") {
  care::Patient p;
  p.identifiers.push_back({"s1", "A", "MR", "RCB", {}});
  p.identifiers.push_back({"s2", "B", "", "", {}});
  CHECK(care::get_path(&p, "patient.identifiers[].value") == std::vector<Scalar>{std::string("A"), std::string("B")});
  CHECK(care::get_path(&p, "patient.identifiers[1].system") == std::vector<Scalar>{std::string("s2")});
  CHECK(care::get_path(&p, "patient.identifiers[].type") == std::vector<Scalar>{std::string("MR")});
  CHECK(care::get_path(&p, "patient.birthDate").empty());
  CHECK(care::get_path(&p, "patient.nhsNumber.value").empty());
  p.gender = care::AdministrativeGender::kOther;
  CHECK(care::get_path(&p, "patient.gender") == std::vector<Scalar>{std::string("other")});
}

TEST_CASE("visit reaches what for_each reaches, in the same order", "[access]") {
  care::Patient p;
  p.identifiers.push_back({"s1", "A", "MR", "RCB", {}});
  p.identifiers.push_back({"s2", "B", "", "", {}});
  for (const char* path : {"patient.identifiers[].value", "patient.identifiers[1].system", "patient.identifiers[5].value",
                           "patient.identifiers", "patient", "patient.birthDate"}) {
    INFO(path);
    auto compiled = care::CompiledPath::compile(path);
    REQUIRE(compiled.ok());
    std::vector<const void*> by_function, by_visit;
    compiled->for_each(&p, care::Patient::describe(), [&](const care::ValueRef& r) { by_function.push_back(r.ptr); });
    compiled->visit(&p, care::Patient::describe(), [&](const care::ValueRef& r) { by_visit.push_back(r.ptr); });
    CHECK(by_visit == by_function);
  }
  std::vector<Scalar> values;
  care::CompiledPath::compile("patient.identifiers[].value")->visit(&p, care::Patient::describe(), [&](const care::ValueRef& r) {
    if (auto v = care::read_scalar(r)) values.push_back(*v);
  });
  CHECK(values == std::vector<Scalar>{std::string("A"), std::string("B")});
}

TEST_CASE("a compiled suffix writes relative to an element", "[access]") {
  auto group = care::CompiledPath::compile("patient.identifiers[]");
  auto inner = care::CompiledPath::compile("patient.identifiers[].value");
  REQUIRE(group.ok());
  REQUIRE(inner.ok());
  care::Patient p;
  auto elem = group->locate_for_write(&p, care::Patient::describe());
  REQUIRE(elem.ok());
  const care::CompiledPath rel = inner->suffix(group->steps().size());
  REQUIRE(rel.locate_for_write(elem->ptr, *elem->struct_info).ok());
  auto r = rel.locate_for_write(elem->ptr, *elem->struct_info);
  REQUIRE(care::assign(*r, Scalar(std::string("633"))).ok());
  REQUIRE(p.identifiers.size() == 1);
  CHECK(p.identifiers[0].value == "633");
  CHECK(care::check_complete(care::Identifier::describe(), &p.identifiers[0]) ==
        "system: required field missing");
  elem->field->truncate(&p, 0);
  CHECK(p.identifiers.empty());
}

TEST_CASE("a Record holds one entity of each type and writes them keyed by path name", "[access]") {
  care::Record r;
  CHECK(r.empty());
  for (const care::EntityInfo& e : care::entities()) CHECK(r.find(e.type) == nullptr);
  auto* p = static_cast<care::Patient*>(r.ensure(care::EntityType::kPatient));
  CHECK(p == r.get<care::Patient>());
  CHECK(static_cast<void*>(&r.ensure<care::Provenance>()) == r.ensure(care::EntityType::kProvenance));
  void* eol = r.ensure(care::EntityType::kEndOfLifePlan);
  CHECK(eol == r.get<care::EndOfLifePlan>());
  void* enc = r.ensure(care::EntityType::kEncounter);
  CHECK(enc == r.get<care::Encounter>());
  p->birth_date = "2001";
  r.erase(care::EntityType::kEndOfLifePlan);
  r.erase(care::EntityType::kEncounter);
  r.get<care::Provenance>()->received_at = "2026-01-01T00:00:00+00:00";
  CHECK(r.to_json() ==
        R"({"patient":{"version":1,"birthDate":"2001"},"provenance":{"version":1,"sender":{},"format":"hl7v2","receivedAt":"2026-01-01T00:00:00+00:00"}})");
}
