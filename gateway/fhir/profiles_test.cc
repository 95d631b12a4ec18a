// Midhurst's own end-of-life profiles (profiles/midhurst/): each has a valid example in
// profiles/examples/ that validates strictly, and a broken variant in profiles/examples/broken/
// that fails with exactly one error, at the place the fault is.
#include <filesystem>
#include <map>

#include "fhir/test_support.h"
#include "fhir/validator.h"

namespace midhurst::fhir {
namespace {

using testing::json;
using testing::profile_set;
using testing::read_file;

TEST_CASE("profiles: profiles/ loads, with every UK Core and Midhurst definition") {
  const auto& set = profile_set();
  for (const char* url : {
           "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
           "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization",
           "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle",
           "https://fhir.midhurst.example/StructureDefinition/Midhurst-EoL-Flag",
           "https://fhir.midhurst.example/StructureDefinition/Midhurst-EoL-Preference-Observation",
           "https://fhir.midhurst.example/StructureDefinition/Midhurst-EoL-ConsentToShare",
           "https://fhir.midhurst.example/StructureDefinition/Midhurst-EoL-CarePlan",
           "https://fhir.midhurst.example/StructureDefinition/Midhurst-EoL-LpaAttorney",
       }) {
    INFO(url);
    CHECK(set.structure(url) != nullptr);
  }
  // The snapshot of UK Core Patient has the NHS number slice with its fixed system.
  const auto* patient = set.structure("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient");
  const auto* system = patient->find("Patient.identifier:nhsNumber.system");
  REQUIRE(system != nullptr);
  REQUIRE(system->fixed != nullptr);
  CHECK(std::string(system->fixed->GetString()) == "https://fhir.nhs.uk/Id/nhs-number");
  CHECK(system->min == 1);
  // The death location type code system is the one gateway/care/codes.h names.
  const auto* dlt =
      set.value_set("https://fhir.midhurst.example/ValueSet/eol-observation-value");
  REQUIRE(dlt != nullptr);
  CHECK(dlt->contains("https://fhir.midhurst.example/CodeSystem/nhsdd-death-location-type", "21"));
  CHECK_FALSE(dlt->contains("https://fhir.midhurst.example/CodeSystem/nhsdd-death-location-type", "23"));
}

TEST_CASE("profiles: every example validates strictly against its meta.profile") {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(MIDHURST_PROFILES_DIR "/examples")) {
    if (e.path().extension() != ".json") continue;
    ++n;
    DYNAMIC_SECTION(e.path().filename().string()) {
      auto doc = json(read_file(e.path().string()));
      REQUIRE(doc.HasMember("meta"));
      auto issues = validate(doc, profile_set(), {}, ValidationOptions::strict());
      INFO(to_string(issues));
      CHECK(issues.empty());
    }
  }
  CHECK(n >= 5);
}

TEST_CASE("profiles: every broken example fails with its one error") {
  const std::map<std::string, std::string> expected = {
      {"Flag-eol-cpr-bad-code.json",
       "Flag.code: code '999999999' (system http://snomed.info/sct) is not in the value set "
       "https://fhir.midhurst.example/ValueSet/eol-flag-code (required binding)"},
      {"Observation-eol-ppd1-string-value.json",
       "Observation.valueString: type String is not allowed for Observation.value[x]"},
      {"Consent-eol-consent-wrong-category.json",
       "Consent.category[0]: does not match the pattern required by Consent.category"},
      {"CarePlan-eol-wrong-intent.json", "CarePlan.intent: must be exactly 'plan', found 'proposal'"},
      {"RelatedPerson-eol-lpa-no-lpa-role.json",
       "RelatedPerson.relationship: slice 'lpaAttorney': minimum cardinality 1, found 0"},
  };
  size_t n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(MIDHURST_PROFILES_DIR "/examples/broken")) {
    std::string name = e.path().filename().string();
    ++n;
    DYNAMIC_SECTION(name) {
      auto doc = json(read_file(e.path().string()));
      auto issues = validate(doc, profile_set(), {}, ValidationOptions::strict());
      INFO(to_string(issues));
      std::vector<Issue> errors;
      for (const auto& i : issues) {
        if (i.severity == Severity::kError) errors.push_back(i);
      }
      REQUIRE(expected.count(name));
      REQUIRE(errors.size() >= 1);
      CHECK(errors[0].expression + ": " + errors[0].diagnostics == expected.at(name));
    }
  }
  CHECK(n == expected.size());
}

}  // namespace
}  // namespace midhurst::fhir
