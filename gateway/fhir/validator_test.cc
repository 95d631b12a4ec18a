// The validator against base R4 and UK Core: the official examples, and one hand-built UK Core
// Patient broken in one way per test, each failing at its exact location.
#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include "fhir/test_support.h"
#include "fhir/validator.h"

namespace midhurst::fhir {
namespace {

using testing::json;
using testing::profile_set;
using testing::read_file;

std::vector<Issue> errors_of(const std::vector<Issue>& issues) {
  std::vector<Issue> out;
  for (const auto& i : issues) {
    if (i.severity == Severity::kError || i.severity == Severity::kFatal) out.push_back(i);
  }
  return out;
}

TEST_CASE("validator: every official R4 example validates against base R4") {
  // Examples whose resources the trimmed R4 definitions do not cover (see shared/fhir-r4
  // SOURCE.md and corpus_test.cc): exactly these errors, nothing else.
  const std::map<std::string, std::string> known = {
      {"bundle-example.json",
       "Bundle.entry[0].resource: unknown resource type 'MedicationRequest'\n"
       "Bundle.entry[1].resource: unknown resource type 'Medication'\n"},
      {"careplan-example-f001-heart.json",
       "CarePlan.contained[1]: unknown resource type 'Goal'\n"},
  };
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(MIDHURST_CORPUS_DIR "/fhir")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);
  for (const auto& f : files) {
    std::string name = f.filename().string();
    DYNAMIC_SECTION(name) {
      auto doc = json(read_file(f.string()));
      auto issues = validate(doc, profile_set());
      std::string errors;
      for (const auto& i : errors_of(issues)) errors += i.expression + ": " + i.diagnostics + "\n";
      auto k = known.find(name);
      CHECK(errors == (k == known.end() ? std::string() : k->second));
    }
  }
}

}  // namespace
}  // namespace midhurst::fhir

namespace midhurst::fhir {
namespace {

using testing::json;
using testing::profile_set;

constexpr const char* kUkCorePatient = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";

// A UK Core Patient with the NHS number slice, its verification status, an ethnic category and a
// GP practice: what Midhurst emits for a PID with an NHS number.
std::string uk_patient(std::string_view identifier, std::string_view extra = "") {
  return std::string(R"({"resourceType":"Patient","id":"p1",
    "meta":{"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},)") +
         std::string(extra) + R"("identifier":[)" + std::string(identifier) + R"(],
    "name":[{"use":"official","family":"Smith","given":["Fredrica"]}],
    "gender":"female","birthDate":"1965-12-13",
    "generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"Y06601"}}]})";
}

constexpr const char* kNhsNumber = R"({"extension":[{
      "url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
      "valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland","code":"01","display":"Number present and verified"}]}}],
    "system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"})";
constexpr const char* kMrn = R"({"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},
    "system":"https://fhir.example-trust.nhs.uk/Id/mrn","value":"633"})";

// The one error of a result, as "location: diagnostics"; fails if there is not exactly one.
std::string only_error(const std::vector<Issue>& issues) {
  auto errors = errors_of(issues);
  INFO(to_string(issues));
  REQUIRE(errors.size() == 1);
  return errors[0].expression + ": " + errors[0].diagnostics;
}

TEST_CASE("validator: a UK Core Patient with the NHS number slice is valid") {
  auto doc = json(uk_patient(std::string(kNhsNumber) + "," + kMrn,
      R"("extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
        "valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland","code":"A"}]}}],)"));
  auto issues = validate(doc, profile_set(), {}, ValidationOptions::strict());
  INFO(to_string(issues));
  CHECK(issues.empty());
  // Named explicitly instead of through meta.profile: the same.
  CHECK(validate(doc, profile_set(), kUkCorePatient, ValidationOptions::strict()).empty());
}

TEST_CASE("validator: NHS number slice without its value fails at the value") {
  auto doc = json(uk_patient(R"({"system":"https://fhir.nhs.uk/Id/nhs-number"})"));
  CHECK(only_error(validate(doc, profile_set())) ==
        "Patient.identifier[0].value: minimum cardinality 1, found 0");
}

TEST_CASE("validator: two NHS numbers break the slice's max of 1") {
  auto doc = json(uk_patient(std::string(kNhsNumber) + "," + kNhsNumber));
  CHECK(only_error(validate(doc, profile_set())) ==
        "Patient.identifier: slice 'nhsNumber': maximum cardinality 1, found 2");
}

TEST_CASE("validator: a bad NHS number verification code breaks the required binding") {
  std::string id = kNhsNumber;
  id.replace(id.find("\"01\""), 4, "\"99\"");
  auto doc = json(uk_patient(id));
  CHECK(only_error(validate(doc, profile_set())) ==
        "Patient.identifier[0].extension[0].valueCodeableConcept: code '99' (system "
        "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland) is not in "
        "the value set https://fhir.hl7.org.uk/ValueSet/UKCore-NHSNumberVerificationStatus "
        "(required binding)");
}

TEST_CASE("validator: an extension of the wrong value type fails against its definition") {
  auto doc = json(uk_patient(kMrn,
      R"("extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
        "valueString":"A"}],)"));
  auto errors = errors_of(validate(doc, profile_set()));
  INFO(to_string(errors));
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].expression == "Patient.extension[0].valueString");
  CHECK(errors[0].diagnostics ==
        "type String is not allowed for Extension.value[x]");
  CHECK(errors[1].expression == "Patient.extension[0].value");
  CHECK(errors[1].diagnostics == "minimum cardinality 1, found 0");
}

TEST_CASE("validator: unknown extension url: a warning by default, an error when strict") {
  auto doc = json(uk_patient(kMrn,
      R"("extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategry",
        "valueCodeableConcept":{"text":"A"}}],)"));
  auto lenient = validate(doc, profile_set());
  REQUIRE(lenient.size() == 1);
  CHECK(lenient[0].severity == Severity::kWarning);
  CHECK(only_error(validate(doc, profile_set(), {}, ValidationOptions::strict())) ==
        "Patient.extension[0]: unknown extension "
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategry");
}

TEST_CASE("validator: base rules: missing required element, wrong shape, unknown element") {
  auto doc = json(R"({"resourceType":"Flag","status":"active","code":{"text":"x"},
      "subject":{"reference":"Patient/p1"},"categry":[]})");
  auto errors = errors_of(validate(doc, profile_set()));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].expression == "Flag.categry");
  doc = json(R"({"resourceType":"Flag","code":{"text":"x"},"subject":{"reference":"Patient/p1"}})");
  CHECK(only_error(validate(doc, profile_set())) == "Flag.status: minimum cardinality 1, found 0");
  doc = json(R"({"resourceType":"Patient","name":{"family":"Smith"}})");
  CHECK(only_error(validate(doc, profile_set())) ==
        "Patient.name: must be an array (the element repeats)");
  doc = json(R"({"resourceType":"Patient","active":"yes"})");
  CHECK(only_error(validate(doc, profile_set())) == "Patient.active: must be a JSON boolean");
}

TEST_CASE("validator: an open identifier slicing lets a bad NHS number system through, a profile requiring the slice catches it") {
  std::string id = kNhsNumber;
  id.replace(id.find("nhs-number"), 10, "nhs-numbr");
  auto doc = json(uk_patient(id));
  // UK Core slices identifier by system with open rules: an identifier whose system is not the
  // NHS number's is just another identifier. Midhurst's emitter tests check the slice count.
  auto errors = errors_of(validate(doc, profile_set()));
  CHECK(errors.empty());
  ProfileSet set;
  REQUIRE(set.add_json(read_file(MIDHURST_PROFILES_DIR "/fhir-r4-definitions.json"), "base").ok());
  for (const auto& e : std::filesystem::directory_iterator(MIDHURST_PROFILES_DIR "/ukcore")) {
    REQUIRE(set.add_json(read_file(e.path().string()), e.path().filename().string()).ok());
  }
  REQUIRE(set.add_json(R"({"resourceType":"StructureDefinition","url":"https://test/NhsPatient",
      "name":"NhsPatient","kind":"resource","abstract":false,"type":"Patient","derivation":"constraint",
      "baseDefinition":"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
      "differential":{"element":[{"id":"Patient.identifier:nhsNumber","path":"Patient.identifier","min":1}]}})",
                       "test").ok());
  REQUIRE(set.finish().ok());
  auto issues = validate(doc, set, "https://test/NhsPatient");
  CHECK(only_error(issues) == "Patient.identifier: slice 'nhsNumber': minimum cardinality 1, found 0");
}

}  // namespace
}  // namespace midhurst::fhir
