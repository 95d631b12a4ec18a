// care→fhir: the loader's checks (one named test per mistake), the default Patient profile's
// rendering, validation of every output against its meta.profile, determinism, conditional
// references, and hl7v2 → care → FHIR end to end over the hl7v2 fixtures.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "fhir/profile_set.h"
#include "fhir/r4.h"
#include "fhir/validator.h"
#include "hl7v2/message.h"
#include "mapping/engine.h"
#include "mapping/fhir_engine.h"
#include "mapping/fixtures.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

const char* kGenderMap = R"({"resourceType": "ConceptMap", "url": "urn:g", "group": [
 {"source": "s", "target": "http://hl7.org/fhir/administrative-gender",
  "element": [{"code": "male", "target": [{"code": "male", "equivalence": "equal"}]}]}]})";

// A care→fhir profile whose Patient rule holds `rules` (each rule on its own line from line 5).
std::string profile(const std::string& rules) {
  return "{\"name\": \"c\", \"version\": \"1\", \"direction\": \"care->fhir\",\n"
         "  \"rules\": [{\"id\": \"patient\", \"resource\": \"Patient\", \"source\": \"patient\",\n"
         "    \"rules\": [\n"
         "    {\"id\": \"birth\", \"source\": \"birthDate\", \"target\": \"Patient.birthDate\"}\n" +
         rules + "\n  ]}]\n}\n";
}

LoadErrors load_errors(const std::string& text) {
  LoadOptions o;
  o.fhir_model = fhir_model();
  auto r = ProfileSet::load({{"c.json", text}}, {{"concepts/g.json", kGenderMap}}, o);
  if (r.ok()) return {};
  return r.error();
}

LoadError only_error(const std::string& text) {
  LoadErrors e = load_errors(text);
  std::string all;
  for (const LoadError& x : e) all += x.to_string() + "\n";
  INFO((e.empty() ? std::string("no error") : all));
  REQUIRE(e.size() == 1);
  return e[0];
}

care::Record record_of(const std::string& care_json) {
  auto r = record_from_json(care_json);
  if (!r.ok()) FAIL(r.error());
  return std::move(*r);
}

// The shipped care→fhir profiles and ConceptMaps only (the other directions are not this suite's
// subject).
std::shared_ptr<const ProfileSet> load_care_fhir() {
  {
    namespace fs = std::filesystem;
    const std::string dir = MIDHURST_MAPPINGS_DIR;
    std::vector<ProfileSet::SourceFile> profiles, maps;
    for (const auto& e : fs::directory_iterator(dir + "/care-fhir"))
      if (e.path().extension() == ".json") profiles.push_back({"care-fhir/" + e.path().filename().string(), read_file(e.path())});
    for (const auto& e : fs::directory_iterator(dir + "/concepts"))
      maps.push_back({"concepts/" + e.path().filename().string(), read_file(e.path())});
    std::sort(profiles.begin(), profiles.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    LoadOptions o;
    o.fhir_model = fhir_model();
    auto r = ProfileSet::load(profiles, maps, o);
    if (!r.ok())
      for (const LoadError& e : r.error()) FAIL(e.to_string());
    return *r;
  }
}

std::shared_ptr<const ProfileSet> care_fhir_set() {
  static const std::shared_ptr<const ProfileSet> set = load_care_fhir();
  return set;
}

FhirTranslation render(const care::Record& record) {
  FhirTranslateOptions o;
  o.ledger = true;
  auto t = translate_to_fhir(record, *care_fhir_set(), o);
  if (!t.ok()) {
    std::string why;
    for (const MappingIssue& i : t.error()) why += i.to_string() + "\n";
    FAIL(why);
  }
  return std::move(*t);
}

// Every entry's resource validates strictly against its meta.profile; returns the issue texts.
std::vector<std::string> validation_problems(const rapidjson::Value& bundle) {
  std::vector<std::string> out;
  for (const auto& entry : bundle["entry"].GetArray()) {
    const rapidjson::Value& res = entry["resource"];
    if (!res.HasMember("meta") || !res["meta"].HasMember("profile")) out.push_back("an entry without meta.profile");
    const std::vector<fhir::Issue> issues = fhir::validate(res, fhir_profiles(), {}, fhir::ValidationOptions::strict());
    if (fhir::has_errors(issues)) out.push_back(fhir::to_string(issues));
  }
  return out;
}

const rapidjson::Value* entry_of(const rapidjson::Value& bundle, std::string_view type) {
  for (const auto& e : bundle["entry"].GetArray())
    if (e["resource"]["resourceType"].GetString() == type) return &e;
  return nullptr;
}

std::string json_text(const rapidjson::Value& v) {
  FhirTranslation t;
  t.bundle.CopyFrom(v, t.bundle.GetAllocator());
  return t.to_json();
}

const char* kPatient = R"({"patient": {"id": "p1", "lastUpdated": "2026-01-01T00:00:00+00:00", "version": 1,
  "nhsNumber": {"value": "3333333333", "verificationStatus": {"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", "code": "01"}},
  "identifiers": [{"system": "https://fhir.rcb.nhs.uk/Id/mrn", "value": "633", "type": "MR", "assignerOds": "RCB"}],
  "names": [{"use": "official", "family": "SMITH", "given": ["FREDRICA", "J"], "prefix": ["MRS"]}],
  "birthDate": "1965-12-13", "gender": "female", "deceasedAt": "2026-10-25T01:30+01:00",
  "addresses": [{"use": "home", "lines": ["29 WEST AVENUE"], "city": "MALTON", "postcode": "YO32 5TT"}],
  "telecoms": [{"system": "phone", "value": "+441234567890", "use": "home", "rank": 2}],
  "registeredGp": {"practiceOds": "Y06601", "gpGmp": "G5612908"},
  "ethnicCategory": {"codings": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland", "code": "C"}], "originalText": "C22"}}})";

}  // namespace

// --- loader ----------------------------------------------------------------------------------

TEST_CASE("care→fhir loader: a good profile loads", "[care-fhir][loader]") {
  CHECK(load_errors(profile(R"(    ,{"id": "g", "source": "gender", "target": "Patient.gender", "conceptMap": "g"})")).empty());
}

TEST_CASE("care→fhir loader: unknown FHIR element", "[care-fhir][loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "birthDate", "target": "Patient.birthdate"})"));
  CHECK(e.file == "c.json");
  CHECK(e.line == 5);
  CHECK(e.column == 60);  // at "birthdate" inside the target string
  CHECK(e.reason == "bad FHIR target 'Patient.birthdate': Patient has no element 'birthdate'");
}

TEST_CASE("care→fhir loader: unknown element deep in a keyed path", "[care-fhir][loader]") {
  const LoadError e = only_error(profile(
      R"(    ,{"id": "x", "source": "birthDate", "target": "Patient.extension[url=https://a.b/c].valueDat"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 89);
  CHECK(e.reason.find("Extension has no element 'valueDat'") != std::string::npos);
}

TEST_CASE("care→fhir loader: type mismatch", "[care-fhir][loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "deceased", "target": "Patient.birthDate"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 51);
  CHECK(e.reason == "type mismatch: the target is FHIR date, but the value is boolean");
}

TEST_CASE("care→fhir loader: a code needs a ConceptMap to fill a CodeableConcept", "[care-fhir][loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "gender", "target": "Patient.maritalStatus"})"));
  CHECK(e.reason.rfind("type mismatch: the target is FHIR CodeableConcept, but the value is text; look the code up", 0) == 0);
}

TEST_CASE("care→fhir loader: bad care source path", "[care-fhir][loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "birthdate", "target": "Patient.birthDate"})"));
  CHECK(e.line == 5);
  CHECK(e.column == 29);
  CHECK(e.reason.rfind("bad care source path 'birthdate' (relative to patient): ", 0) == 0);
}

TEST_CASE("care→fhir loader: a repeating element needs a selection", "[care-fhir][loader]") {
  const LoadError e = only_error(profile(R"(    ,{"id": "x", "source": "names[].family", "target": "Patient.name.family"})"));
  CHECK(e.reason.find("Patient.name repeats: append with 'name[]'") != std::string::npos);
}

TEST_CASE("care→fhir loader: several values into an element that holds one", "[care-fhir][loader]") {
  CHECK(load_errors(profile(R"(    ,{"id": "x", "source": "names[].family", "target": "Patient.name[].family"})")).empty());
  const LoadError f = only_error(profile(R"(    ,{"id": "x", "source": "names[].given", "target": "Patient.gender"})"));
  CHECK(f.reason.rfind("the source gives several values but target 'Patient.gender' holds one", 0) == 0);
}

TEST_CASE("care→fhir loader: unknown resource type and missing ConceptMap", "[care-fhir][loader]") {
  LoadErrors e = load_errors(
      "{\"name\": \"c\", \"version\": \"1\", \"direction\": \"care→fhir\",\n"
      "  \"rules\": [{\"id\": \"p\", \"resource\": \"Patients\", \"source\": \"patient\", \"rules\": [{\"id\": \"x\", \"value\": \"a\", \"target\": \"a\"}]}]}");
  REQUIRE(e.size() == 1);
  CHECK(e[0].reason == "'resource' must name a FHIR resource type, not 'Patients'");
  const LoadError f = only_error(profile(R"(    ,{"id": "x", "source": "gender", "target": "Patient.gender", "conceptMap": "nope"})"));
  CHECK(f.reason.rfind("no ConceptMap 'nope'", 0) == 0);
}

// --- rendering -------------------------------------------------------------------------------

TEST_CASE("care→fhir: the default profile renders a UK Core Patient", "[care-fhir]") {
  const FhirTranslation t = render(record_of(kPatient));
  const rapidjson::Value& b = t.bundle;
  CHECK(std::string(b["type"].GetString()) == "transaction");
  REQUIRE(b["entry"].Size() == 3);  // Patient, GP practice Organization, GP Practitioner
  const rapidjson::Value& p = (*entry_of(b, "Patient"))["resource"];
  CHECK(json_text(p) ==
        R"({"resourceType":"Patient","meta":{"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},)"
        R"("extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",)"
        R"("valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",)"
        R"("code":"C","display":"White - Any other White background"}],"text":"C22"}}],)"
        R"("identifier":[{"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",)"
        R"("valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",)"
        R"("code":"01","display":"Number present and verified"}]}}],"system":"https://fhir.nhs.uk/Id/nhs-number","value":"3333333333"},)"
        R"({"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR","display":"Medical record number"}]},)"
        R"("system":"https://fhir.rcb.nhs.uk/Id/mrn","value":"633",)"
        R"("assigner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RCB"}}}],)"
        R"("name":[{"use":"official","family":"SMITH","given":["FREDRICA","J"],"prefix":["MRS"]}],)"
        R"("telecom":[{"system":"phone","value":"+441234567890","use":"home","rank":2}],)"
        R"("gender":"female","birthDate":"1965-12-13","deceasedDateTime":"2026-10-25T01:30:00+01:00",)"
        R"("address":[{"use":"home","line":["29 WEST AVENUE"],"city":"MALTON","postalCode":"YO32 5TT"}],)"
        R"("generalPractitioner":[{"reference":"Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|Y06601"},)"
        R"({"reference":"Practitioner?identifier=https://fhir.hl7.org.uk/Id/gmp-number|G5612908"}]})");
  CHECK(t.issues.empty());
}

TEST_CASE("care→fhir: numbers and booleans come out as JSON numbers and booleans", "[care-fhir]") {
  const FhirTranslation t = render(record_of(
      R"({"patient": {"id": "p1", "lastUpdated": "2026-01-01T00:00:00+00:00", "version": 1, "deceased": true, "telecoms": [{"system": "phone", "value": "1", "rank": 1}]}})"));
  const rapidjson::Value& p = (*entry_of(t.bundle, "Patient"))["resource"];
  CHECK(p["deceasedBoolean"].IsBool());
  CHECK(p["telecom"][0]["rank"].IsInt());
}

TEST_CASE("care→fhir: entries are conditional on business identifiers", "[care-fhir]") {
  const FhirTranslation t = render(record_of(kPatient));
  const rapidjson::Value& pat = *entry_of(t.bundle, "Patient");
  CHECK(std::string(pat["request"]["method"].GetString()) == "PUT");
  CHECK(std::string(pat["request"]["url"].GetString()) == "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|3333333333");
  const rapidjson::Value& org = *entry_of(t.bundle, "Organization");
  CHECK(std::string(org["request"]["method"].GetString()) == "POST");
  CHECK(std::string(org["request"]["ifNoneExist"].GetString()) ==
        "identifier=https://fhir.nhs.uk/Id/ods-organization-code|Y06601");
  CHECK(std::string(org["resource"]["identifier"][0]["value"].GetString()) == "Y06601");
  const rapidjson::Value& gp = *entry_of(t.bundle, "Practitioner");
  CHECK(std::string(gp["request"]["ifNoneExist"].GetString()) == "identifier=https://fhir.hl7.org.uk/Id/gmp-number|G5612908");
  // Each conditional reference of the Patient names an entry's conditional create.
  const rapidjson::Value& refs = pat["resource"]["generalPractitioner"];
  CHECK(std::string(refs[0]["reference"].GetString()) ==
        "Organization?" + std::string(org["request"]["ifNoneExist"].GetString()));
  CHECK(std::string(refs[1]["reference"].GetString()) ==
        "Practitioner?" + std::string(gp["request"]["ifNoneExist"].GetString()));
  // fullUrls are stable name-based UUIDs.
  CHECK(std::string(pat["fullUrl"].GetString()).rfind("urn:uuid:", 0) == 0);
}

TEST_CASE("care→fhir: without an NHS number the Patient is keyed by its first local identifier", "[care-fhir]") {
  const FhirTranslation t = render(record_of(
      R"({"patient": {"id": "p1", "lastUpdated": "2026-01-01T00:00:00+00:00", "version": 1, "identifiers": [{"system": "https://fhir.rx1.nhs.uk/Id/mrn", "value": "K1"}]}})"));
  REQUIRE(t.bundle["entry"].Size() == 1);
  CHECK(std::string(t.bundle["entry"][0]["request"]["url"].GetString()) ==
        "Patient?identifier=https://fhir.rx1.nhs.uk/Id/mrn|K1");
}

TEST_CASE("care→fhir: the same record gives a byte-identical Bundle", "[care-fhir]") {
  const care::Record r = record_of(kPatient);
  const std::string first = render(r).to_json();
  for (int i = 0; i < 3; ++i) CHECK(render(r).to_json() == first);
  // Also across a reload of the profiles.
  auto t = translate_to_fhir(r, *load_care_fhir());
  REQUIRE(t.ok());
  CHECK(t->to_json() == first);
}

TEST_CASE("care→fhir: an unmapped code is left out with a warning", "[care-fhir]") {
  const FhirTranslation t = render(record_of(
      R"({"patient": {"id": "p1", "lastUpdated": "2026-01-01T00:00:00+00:00", "version": 1, "nhsNumber": {"value": "9449305552"}, "identifiers": [{"system": "urn:x", "value": "1", "type": "ZZ"}]}})"));
  REQUIRE(t.issues.size() == 1);
  CHECK(t.issues[0].to_string().find("code 'ZZ' is not in ConceptMap care-identifier-type") != std::string::npos);
  CHECK(!(*entry_of(t.bundle, "Patient"))["resource"]["identifier"][1].HasMember("type"));
}

TEST_CASE("care→fhir: every output validates against its meta.profile", "[care-fhir][validation]") {
  const FhirTranslation t = render(record_of(kPatient));
  const std::vector<std::string> problems = validation_problems(t.bundle);
  INFO(t.to_json(true));
  for (const std::string& p : problems) INFO(p);
  CHECK(problems.empty());
  const std::vector<fhir::Issue> bundle_issues = fhir::validate(t.bundle, fhir_profiles(), {}, fhir::ValidationOptions::strict());
  INFO(fhir::to_string(bundle_issues));
  CHECK(!fhir::has_errors(bundle_issues));
}

TEST_CASE("care→fhir: the care→fhir fixtures validate", "[care-fhir][validation]") {
  namespace fs = std::filesystem;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures")) {
    if (!e.path().filename().string().ends_with(".care.json")) continue;
    ++n;
    const FhirTranslation t = render(record_of(read_file(e.path())));
    INFO(e.path().filename().string());
    CHECK(validation_problems(t.bundle) == std::vector<std::string>{});
  }
  CHECK(n >= 3);
}

TEST_CASE("hl7v2 → care → FHIR: every accepted hl7v2 fixture renders a valid Bundle", "[care-fhir][e2e]") {
  namespace fs = std::filesystem;
  std::size_t accepted = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/hl7v2-care/fixtures"))
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    auto m = hl7v2::Message::parse(read_file(f));
    REQUIRE(m.ok());
    TranslateOptions o;
    o.received_at = kFixtureReceivedAt;
    const Translation care = translate(*shipped_profiles(), *m, o);
    if (!care.accepted) continue;
    ++accepted;
    INFO(f.filename().string());
    const FhirTranslation t = render(care.record);
    REQUIRE(entry_of(t.bundle, "Patient"));
    CHECK(validation_problems(t.bundle) == std::vector<std::string>{});
  }
  CHECK(accepted >= 2);
}

TEST_CASE("care→fhir loader: without the FHIR model the profile is refused", "[care-fhir][loader]") {
  auto r = ProfileSet::load({{"c.json", profile("")}}, {});
  REQUIRE(!r.ok());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].line == 1);
  CHECK(r.error()[0].reason.rfind("care→fhir needs the FHIR model", 0) == 0);
}

TEST_CASE("care→fhir: a site overlay replaces its base and can drop rules", "[care-fhir]") {
  namespace fs = std::filesystem;
  const std::string dir = MIDHURST_MAPPINGS_DIR;
  std::vector<ProfileSet::SourceFile> maps;
  for (const auto& e : fs::directory_iterator(dir + "/concepts"))
    maps.push_back({"concepts/" + e.path().filename().string(), read_file(e.path())});
  const std::string overlay =
      R"({"name": "site", "version": "1", "direction": "care→fhir", "extends": "care-patient-fhir",
          "remove": ["gp", "gp-practitioner"],
          "rules": [{"id": "telecom.rank", "value": 1, "target": "rank"}]})";
  LoadOptions o;
  o.fhir_model = fhir_model();
  auto set = ProfileSet::load({{"care-fhir/patient.json", read_file(dir + "/care-fhir/patient.json")},
                               {"sites/site.json", overlay}},
                              maps, o);
  if (!set.ok())
    for (const LoadError& e : set.error()) FAIL(e.to_string());
  auto t = translate_to_fhir(record_of(kPatient), **set);
  REQUIRE(t.ok());
  REQUIRE(t->bundle["entry"].Size() == 2);  // Patient and Organization, once each: the base is not rendered too
  const rapidjson::Value& p = (*entry_of(t->bundle, "Patient"))["resource"];
  CHECK(p["generalPractitioner"].Size() == 1);
  CHECK(p["telecom"][0]["rank"].GetInt() == 1);  // the overridden rule, in place inside its group
  CHECK(validation_problems(t->bundle).empty());
}

TEST_CASE("care→fhir: the care→fhir fixtures give their expected Bundles", "[care-fhir][fixtures]") {
  std::ostringstream out;
  // MIDHURST_UPDATE_FIXTURES=1 rewrites the expected files from the actual results.
  const bool update = std::getenv("MIDHURST_UPDATE_FIXTURES") != nullptr;
  const std::vector<FixtureResult> results =
      run_fixtures(*care_fhir_set(), std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir", out, update);
  INFO(out.str());
  CHECK(results.size() >= 6);
  for (const FixtureResult& r : results) CHECK(r.passed);
}

TEST_CASE("care→fhir: every resource of every fixture Bundle has its profile and validates", "[care-fhir][validation]") {
  namespace fs = std::filesystem;
  std::set<std::string> types;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures")) {
    if (!e.path().filename().string().ends_with(".care.json")) continue;
    const FhirTranslation t = render(record_of(read_file(e.path())));
    for (const auto& entry : t.bundle["entry"].GetArray()) types.insert(entry["resource"]["resourceType"].GetString());
  }
  // Every resource type the profiles make shows up in some fixture (validated by the test above).
  for (const char* type : {"CarePlan", "CareTeam", "Consent", "Encounter", "Flag", "Observation", "Organization", "Patient",
                           "Practitioner", "PractitionerRole", "Provenance", "RelatedPerson", "ServiceRequest", "Task"})
    CHECK(types.count(type) == 1);
}

TEST_CASE("care→fhir: references between entities of a record and a Provenance over the rest", "[care-fhir]") {
  const FhirTranslation t = render(record_of(read_file(std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures/referral.care.json")));
  const rapidjson::Value& sr = *entry_of(t.bundle, "ServiceRequest");
  const rapidjson::Value& task = (*entry_of(t.bundle, "Task"))["resource"];
  // The Task's focus is the ServiceRequest entry of the same Bundle.
  CHECK(std::string(task["focus"]["reference"].GetString()) == sr["fullUrl"].GetString());
  // A care Reference by business identifier is conditional inside a transaction.
  CHECK(std::string(sr["resource"]["subject"]["reference"].GetString()) ==
        "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552");
  // The Provenance comes last and targets every other entry.
  const rapidjson::Value& entries = t.bundle["entry"];
  const rapidjson::Value& prov = entries[entries.Size() - 1];
  REQUIRE(std::string(prov["resource"]["resourceType"].GetString()) == "Provenance");
  CHECK(prov["resource"]["target"].Size() == entries.Size() - 1);
  CHECK(std::string(prov["resource"]["target"][0]["reference"].GetString()) == entries[0]["fullUrl"].GetString());
}

TEST_CASE("care→fhir: the field ledger says what of the record was rendered", "[care-fhir][ledger]") {
  const FhirTranslation t = render(record_of(read_file(std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures/admission.care.json")));
  const std::vector<std::string> done = t.ledger.fields(true);
  const std::vector<std::string> not_done = t.ledger.fields(false);
  auto has = [](const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); };
  CHECK(has(done, "patient.nhsNumber.value"));
  CHECK(has(done, "encounter.class"));
  CHECK(has(done, "encounter.locations[1].ward"));
  CHECK(has(done, "encounter.patient.id"));  // inside a care Reference, rendered as a whole
  CHECK(has(not_done, "encounter.zSegments[0].value"));  // no rule renders Z-segment values
  CHECK(has(not_done, "encounter.locations[0].bed"));
  CHECK(!has(done, "encounter.id"));      // entity headers are not listed
  CHECK(!has(not_done, "encounter.id"));
  CHECK(!has(not_done, "encounter.version"));
  rapidjson::Document d;
  t.ledger.to_json_value(d, d.GetAllocator());
  CHECK(d["rendered"].Size() == done.size());
  CHECK(d["notRendered"].Size() == not_done.size());
  // Not asked for: no ledger, and the same Bundle.
  auto plain = translate_to_fhir(record_of(read_file(std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures/admission.care.json")),
                                 *care_fhir_set());
  REQUIRE(plain.ok());
  CHECK(plain->ledger.entries.empty());
  CHECK(plain->to_json() == t.to_json());
}

TEST_CASE("care→fhir: members come out in FHIR definition order whatever the rules' order", "[care-fhir][order]") {
  LoadOptions o;
  o.fhir_model = fhir_model();
  // Patient defines gender, birthDate, deceased[x], address, managingOrganization in that order;
  // Address defines text, line, city, district; Reference defines reference before display, and
  // the second name adds `reference` to the object the first one started. A member that goes
  // between two already there (deceased after birthDate went in before address; text before line
  // and city) must not be taken for one that goes last.
  const std::string text = R"({"name": "o", "version": "1", "direction": "care->fhir", "rules": [
    {"id": "patient", "resource": "Patient", "source": "patient", "rules": [
      {"id": "addr", "source": "addresses[]", "target": "Patient.address[]", "rules": [
        {"id": "addr.city", "source": "city", "target": "city"},
        {"id": "addr.line", "source": "lines", "target": "line[]"},
        {"id": "addr.text", "value": "T", "target": "text"},
        {"id": "addr.district", "value": "D", "target": "district"}]},
      {"id": "birth", "source": "birthDate", "target": "Patient.birthDate"},
      {"id": "deceased", "value": false, "target": "Patient.deceasedBoolean"},
      {"id": "gender", "value": "unknown", "target": "Patient.gender"},
      {"id": "org", "source": "names[]", "target": "Patient.managingOrganization", "rules": [
        {"id": "org.display", "source": "family", "target": "display"},
        {"id": "org.reference", "source": "text", "target": "reference"}]}]}]})";
  auto set = ProfileSet::load({{"o.json", text}}, {}, o);
  if (!set.ok())
    for (const LoadError& e : set.error()) FAIL(e.to_string());
  const char* record = R"({"patient": {"id": "p1", "version": 1, "lastUpdated": "2026-01-01T00:00:00+00:00",
    "birthDate": "1965-12-13", "names": [{"family": "A"}, {"text": "Organization/x"}],
    "addresses": [{"city": "MALTON", "lines": ["1 ROAD"]}]}})";
  auto t = translate_to_fhir(record_of(record), **set);
  REQUIRE(t.ok());
  CHECK(json_text(t->bundle["entry"][0]["resource"]) ==
        R"({"resourceType":"Patient","gender":"unknown","birthDate":"1965-12-13","deceasedBoolean":false,)"
        R"("address":[{"text":"T","line":["1 ROAD"],"city":"MALTON","district":"D"}],)"
        R"("managingOrganization":{"reference":"Organization/x","display":"A"}})");
  // Rules already in definition order give the same text.
  const std::string ordered = R"({"name": "o", "version": "1", "direction": "care->fhir", "rules": [
    {"id": "patient", "resource": "Patient", "source": "patient", "rules": [
      {"id": "gender", "value": "unknown", "target": "Patient.gender"},
      {"id": "birth", "source": "birthDate", "target": "Patient.birthDate"},
      {"id": "deceased", "value": false, "target": "Patient.deceasedBoolean"},
      {"id": "addr", "source": "addresses[]", "target": "Patient.address[]", "rules": [
        {"id": "addr.text", "value": "T", "target": "text"},
        {"id": "addr.line", "source": "lines", "target": "line[]"},
        {"id": "addr.city", "source": "city", "target": "city"},
        {"id": "addr.district", "value": "D", "target": "district"}]},
      {"id": "org", "source": "names[]", "target": "Patient.managingOrganization", "rules": [
        {"id": "org.reference", "source": "text", "target": "reference"},
        {"id": "org.display", "source": "family", "target": "display"}]}]}]})";
  set = ProfileSet::load({{"o.json", ordered}}, {}, o);
  REQUIRE(set.ok());
  auto again = translate_to_fhir(record_of(record), **set);
  REQUIRE(again.ok());
  CHECK(again->to_json() == t->to_json());
}

TEST_CASE("care→fhir loader: the special sources and constant codings are checked", "[care-fhir][loader]") {
  // A constant coding needs a system and a code.
  LoadError e = only_error(profile(R"(    ,{"id": "x", "value": {"code": "a"}, "target": "Patient.maritalStatus"})"));
  CHECK(e.line == 5);
  CHECK(e.reason == "a constant coding needs 'system' and 'code'");
  e = only_error(profile(R"(    ,{"id": "x", "value": {"system": "urn:s", "code": "a", "colour": "b"}, "target": "Patient.maritalStatus"})"));
  CHECK(e.reason.rfind("unknown key 'colour' in a constant coding", 0) == 0);
  // "@entity" and care References write a Reference, nothing else.
  e = only_error(profile(R"(    ,{"id": "x", "source": "@entity", "target": "Patient.gender"})"));
  CHECK(e.reason.rfind("a reference rule writes a Reference, but 'Patient.gender' is code", 0) == 0);
  e = only_error(profile(R"(    ,{"id": "x", "source": "replacedBy", "conceptMap": "g", "target": "Patient.link[].other"})"));
  CHECK(e.reason == "'conceptMap' does not apply to a rule that writes a care Reference");
  // A path from the entity root is for sources, not conditions.
  e = only_error(profile(R"(    ,{"id": "x", "when": {"path": "/gender", "exists": true}, "value": "unknown", "target": "Patient.gender"})"));
  CHECK(e.reason == "a path from the entity root ('/...') is for rule sources only");
  e = only_error(profile(R"(    ,{"id": "x", "source": "/nope", "target": "Patient.gender"})"));
  CHECK(e.reason.rfind("bad care source path '/nope' (from the entity root patient)", 0) == 0);
}

TEST_CASE("care→fhir loader: 'served' is a boolean", "[care-fhir][loader]") {
  const std::string text = "{\"name\": \"c\", \"version\": \"1\", \"direction\": \"care->fhir\",\n"
                           "  \"rules\": [{\"id\": \"patient\", \"resource\": \"Patient\", \"source\": \"patient\", \"served\": \"no\",\n"
                           "    \"rules\": [{\"id\": \"birth\", \"source\": \"birthDate\", \"target\": \"Patient.birthDate\"}]}]}\n";
  const LoadError e = only_error(text);
  CHECK(e.line == 2);
  CHECK(e.reason == "'served' must be true or false");
}

TEST_CASE("care→fhir: the group source '.' and root paths read the right values", "[care-fhir]") {
  LoadOptions o;
  o.fhir_model = fhir_model();
  const std::string text = R"({"name": "c", "version": "1", "direction": "care->fhir", "rules": [
    {"id": "flag", "resource": "Flag", "source": "eol.cprDecision", "rules": [
      {"id": "flag.code", "value": {"system": "http://snomed.info/sct", "code": "450476008"}, "target": "Flag.code"},
      {"id": "flag.subject", "source": "/patient", "target": "Flag.subject"},
      {"id": "flag.self", "source": ".", "target": "Flag.period", "rules": [
        {"id": "flag.start", "source": "decisionDate", "target": "start"}]}]}]})";
  const char* record = R"({"eol": {"id": "e1", "version": 1, "lastUpdated": "2026-01-01T00:00:00+00:00",
    "patient": {"type": "Patient", "id": "p1"}, "createdAt": "2026-01-01",
    "cprDecision": {"decision": "dnacpr", "decisionDate": "2026-02-03T10:00+00:00"}}})";
  auto set = ProfileSet::load({{"c.json", text}}, {}, o);
  if (!set.ok())
    for (const LoadError& e : set.error()) FAIL(e.to_string());
  // No profile renders patients: a reference by gateway id alone has no FHIR type to name.
  auto bare = translate_to_fhir(record_of(record), **set);
  REQUIRE(bare.ok());
  CHECK(!bare->bundle["entry"][0]["resource"].HasMember("subject"));
  REQUIRE(bare->issues.size() == 1);
  CHECK(bare->issues[0].issue.why == "a reference with only a gateway id to an entity type no loaded profile renders");
  // With a Patient rule, the reference is to that Patient.
  const std::string patient_profile = R"({"name": "p", "version": "1", "direction": "care->fhir", "rules": [
    {"id": "patient", "resource": "Patient", "source": "patient", "rules": [
      {"id": "birth", "source": "birthDate", "target": "Patient.birthDate"}]}]})";
  set = ProfileSet::load({{"c.json", text}, {"p.json", patient_profile}}, {}, o);
  REQUIRE(set.ok());
  auto t = translate_to_fhir(record_of(record), **set);
  REQUIRE(t.ok());
  const rapidjson::Value& f = t->bundle["entry"][0]["resource"];
  CHECK(json_text(f) == R"({"resourceType":"Flag","code":{"coding":[{"system":"http://snomed.info/sct","code":"450476008"}]},)"
                        R"("subject":{"reference":"Patient/p1"},"period":{"start":"2026-02-03T10:00:00+00:00"}})");
}
