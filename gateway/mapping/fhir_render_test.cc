// The read API's rendering (fhir_render.h) over the shipped care→fhir profiles: the served table,
// resource ids and their round trip, meta, reference forms, and validation of what is served.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "care/json.h"
#include "care/record.h"
#include "care/registry.h"
#include "fhir/profile_set.h"
#include "fhir/validator.h"
#include "mapping/fhir_render.h"
#include "mapping/fixtures.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

// The shipped care→fhir profiles and ConceptMaps (not the other directions: they are not this
// suite's subject).
std::shared_ptr<const ProfileSet> real_set() {
  static const std::shared_ptr<const ProfileSet> set = [] {
    namespace fs = std::filesystem;
    const std::string dir = MIDHURST_MAPPINGS_DIR;
    std::vector<ProfileSet::SourceFile> profiles, maps;
    for (const auto& e : fs::directory_iterator(dir + "/care-fhir"))
      if (e.path().extension() == ".json") profiles.push_back({"care-fhir/" + e.path().filename().string(), read_file(e.path())});
    for (const auto& e : fs::directory_iterator(dir + "/concepts"))
      maps.push_back({"concepts/" + e.path().filename().string(), read_file(e.path())});
    std::sort(profiles.begin(), profiles.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    LoadOptions o;
    o.fhir_profiles_dir = MIDHURST_PROFILES_DIR;
    auto r = ProfileSet::load(profiles, maps, o);
    if (!r.ok())
      for (const LoadError& e : r.error()) FAIL(e.to_string());
    return *r;
  }();
  return set;
}

const FhirRenderer& renderer() {
  static const std::shared_ptr<const FhirRenderer> r = [] {
    auto c = FhirRenderer::create(real_set());
    if (!c.ok()) FAIL(c.error());
    return *c;
  }();
  return *r;
}

std::string problems_of(const rapidjson::Value& res) {
  if (!res.HasMember("meta") || !res["meta"].HasMember("profile")) return "no meta.profile";
  const std::vector<fhir::Issue> issues = fhir::validate(res, fhir_profiles(), {}, fhir::ValidationOptions::strict());
  return fhir::has_errors(issues) ? fhir::to_string(issues) : std::string();
}

RenderResult render_json(care::EntityType type, const std::string& json, const RenderOptions& o = {}) {
  auto r = renderer().render_entity_json(type, json, o);
  if (!r.ok()) {
    std::string why;
    for (const MappingIssue& i : r.error()) why += i.to_string() + "\n";
    FAIL(why);
  }
  return std::move(*r);
}

const RenderedResource* find(const RenderResult& r, std::string_view type) {
  for (const RenderedResource& x : r.resources)
    if (x.json["resourceType"].GetString() == type) return &x;
  return nullptr;
}

const char* kPatient = R"({"id": "0190f3a2-7c1e-7b3d-9a41-2f0c5e6d7a81", "version": 4,
  "lastUpdated": "2026-03-01T14:05+00:00",
  "provenance": {"type": "Provenance", "id": "prov-1"},
  "nhsNumber": {"value": "9449305552"},
  "names": [{"use": "official", "family": "SMITH", "given": ["FREDA"]}],
  "birthDate": "1965-12-13", "gender": "female",
  "registeredGp": {"practiceOds": "Y06601", "gpGmp": "G5612908"}})";

}  // namespace

TEST_CASE("fhir render: the served table comes from the profiles", "[fhir-render]") {
  const FhirRenderer& r = renderer();
  const ServedRule* p = r.primary(care::EntityType::kPatient);
  REQUIRE(p);
  CHECK(p->resource_type == "Patient");
  CHECK(p->rule_id == "patient");
  CHECK(p->entity_path == "patient");
  // The transaction-only stand-ins ("served": false) are not served.
  for (const ServedRule& s : r.served()) CHECK(s.rule_id != "gp-practice-organization");
  const std::vector<std::string> types = r.resource_types();
  CHECK(std::find(types.begin(), types.end(), "Patient") != types.end());
  CHECK(std::is_sorted(types.begin(), types.end()));
  CHECK(r.rules_for("Bundle").empty());
}

TEST_CASE("fhir render: a Patient has the entity's id, version, lastUpdated and profile", "[fhir-render]") {
  const RenderResult out = render_json(care::EntityType::kPatient, kPatient);
  const RenderedResource* p = find(out, "Patient");
  REQUIRE(p);
  CHECK(p->id == "0190f3a2-7c1e-7b3d-9a41-2f0c5e6d7a81");
  CHECK(std::string(p->json["id"].GetString()) == p->id);
  CHECK(std::string(p->json["meta"]["versionId"].GetString()) == "4");
  CHECK(std::string(p->json["meta"]["lastUpdated"].GetString()) == "2026-03-01T14:05:00+00:00");
  CHECK(std::string(p->json["meta"]["profile"][0].GetString()) ==
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient");
  CHECK(p->to_json().rfind(R"({"resourceType":"Patient","id":"0190f3a2)", 0) == 0);
  CHECK(problems_of(p->json).empty());
}

TEST_CASE("fhir render: business-identifier references are logical, never conditional", "[fhir-render]") {
  const RenderResult out = render_json(care::EntityType::kPatient, kPatient);
  const RenderedResource* p = find(out, "Patient");
  REQUIRE(p);
  const std::string text = p->to_json();
  CHECK(text.find("?identifier=") == std::string::npos);
  const rapidjson::Value& gp = p->json["generalPractitioner"];
  REQUIRE(gp.Size() == 2);
  CHECK(std::string(gp[0]["identifier"]["system"].GetString()) == "https://fhir.nhs.uk/Id/ods-organization-code");
  CHECK(std::string(gp[0]["identifier"]["value"].GetString()) == "Y06601");
  CHECK(!gp[0].HasMember("reference"));
}

TEST_CASE("fhir render: a Patient id resolves back to the patient", "[fhir-render]") {
  const std::vector<FhirIdTarget> t = renderer().resolve_id("Patient", "0190f3a2-7c1e-7b3d-9a41-2f0c5e6d7a81");
  REQUIRE(t.size() == 1);
  CHECK(t[0].rule->entity == care::EntityType::kPatient);
  CHECK(t[0].entity_id == "0190f3a2-7c1e-7b3d-9a41-2f0c5e6d7a81");
  CHECK(renderer().resolve_id("Patient", "bad id!").empty());
  CHECK(renderer().resolve_id("Patient", std::string(65, 'a')).empty());
  CHECK(renderer().resolve_id("Basic", "x").empty());
}

TEST_CASE("fhir render: options select one type or one id", "[fhir-render]") {
  RenderOptions o;
  o.id = "someone-else";
  CHECK(render_json(care::EntityType::kPatient, kPatient, o).resources.empty());
  o.id.clear();
  o.resource_type = "Flag";
  CHECK(render_json(care::EntityType::kPatient, kPatient, o).resources.empty());
}

TEST_CASE("fhir render: an entity without a gateway id, or bad care JSON, is refused", "[fhir-render]") {
  auto r = renderer().render_entity_json(care::EntityType::kPatient, R"({"id": "", "version": 1})");
  CHECK(!r.ok());
  auto bad = renderer().render_entity_json(care::EntityType::kPatient, R"({"id": "p", "nope": 1})");
  REQUIRE(!bad.ok());
  CHECK(bad.error()[0].issue.why.find("nope") != std::string::npos);
  auto noid = renderer().render_entity(care::EntityType::kPatient, &static_cast<const care::Patient&>(care::Patient{}));
  REQUIRE(!noid.ok());
  CHECK(noid.error()[0].issue.why.find("no gateway id") != std::string::npos);
}

namespace {

const std::string kFixtures = std::string(MIDHURST_MAPPINGS_DIR) + "/care-fhir/fixtures/";

// One entity of a fixture record, as the store would hand it over: type and care JSON.
std::string entity_json(const std::string& fixture, const std::string& path_name) {
  rapidjson::Document d;
  d.Parse(read_file(kFixtures + fixture).c_str());
  REQUIRE(d.HasMember(path_name.c_str()));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d[path_name.c_str()].Accept(w);
  return buf.GetString();
}

const RenderedResource* by_id(const RenderResult& r, std::string_view id) {
  for (const RenderedResource& x : r.resources)
    if (x.id == id) return &x;
  return nullptr;
}

std::string ref_of(const rapidjson::Value& v) { return v.HasMember("reference") ? v["reference"].GetString() : ""; }

}  // namespace

TEST_CASE("fhir render: every entity type is served, from the profiles", "[fhir-render]") {
  const std::vector<std::string> types = renderer().resource_types();
  for (const char* t : {"CarePlan", "CareTeam", "Consent", "Encounter", "Flag", "Observation", "Organization", "Patient",
                        "Practitioner", "PractitionerRole", "Provenance", "RelatedPerson", "ServiceRequest", "Task"})
    CHECK(std::find(types.begin(), types.end(), t) != types.end());
  CHECK(renderer().primary(care::EntityType::kEndOfLifePlan)->resource_type == "CarePlan");
  CHECK(renderer().primary(care::EntityType::kReferral)->resource_type == "ServiceRequest");
  CHECK(renderer().primary(care::EntityType::kCareTeamMember)->resource_type == "CareTeam");
  // Flags come from the plan, through several rules, none of them primary.
  const std::vector<const ServedRule*> flags = renderer().rules_for("Flag");
  REQUIRE(flags.size() == 4);
  for (const ServedRule* f : flags) {
    CHECK(f->entity == care::EntityType::kEndOfLifePlan);
    CHECK(!f->primary);
  }
}

TEST_CASE("fhir render: an end-of-life plan renders its CarePlan, Flags, Consent and Observations", "[fhir-render]") {
  const RenderResult out = render_json(care::EntityType::kEndOfLifePlan, entity_json("eol-record.care.json", "eol"));
  std::set<std::string> ids;
  for (const RenderedResource& r : out.resources) {
    INFO(r.id);
    CHECK(is_fhir_id(r.id));
    CHECK(ids.insert(r.id).second);
    CHECK(std::string(r.json["meta"]["versionId"].GetString()) == "5");
    CHECK(std::string(r.json["meta"]["lastUpdated"].GetString()) == "2024-03-21T08:00:00+00:00");
    CHECK(r.to_json().find("?identifier=") == std::string::npos);
  }
  for (const char* id : {"eol-0001", "eol-0001-cpr-flag", "eol-0001-adrt-flag", "eol-0001-lpa-flag", "eol-0001-register-flag",
                         "eol-0001-consent", "eol-0001-ppc", "eol-0001-ppd1", "eol-0001-ppd2", "eol-0001-prognosis",
                         "eol-0001-apd", "eol-0001-surprise", "eol-0001-akps", "eol-0001-carer"})
    CHECK(ids.count(id) == 1);
  const RenderedResource* plan = by_id(out, "eol-0001");
  REQUIRE(plan);
  CHECK(std::string(plan->json["resourceType"].GetString()) == "CarePlan");
  // A care Reference holding a gateway id is a literal reference to the primary resource type.
  CHECK(ref_of(plan->json["subject"]) == "Patient/pat-0001");
  CHECK(ref_of(plan->json["careTeam"][0]) == "CareTeam/ctm-0001");
  CHECK(ref_of(plan->json["contributor"][0]) == "CareTeam/ctm-0001");
  const RenderedResource* cpr = by_id(out, "eol-0001-cpr-flag");
  REQUIRE(cpr);
  CHECK(std::string(cpr->json["code"]["coding"][0]["code"].GetString()) == "450476008");
  CHECK(ref_of(cpr->json["subject"]) == "Patient/pat-0001");
  CHECK(std::string(cpr->json["period"]["end"].GetString()) == "2024-04-10");
  const RenderedResource* ppd2 = by_id(out, "eol-0001-ppd2");
  REQUIRE(ppd2);
  CHECK(std::string(ppd2->json["valueCodeableConcept"]["coding"][0]["code"].GetString()) == "30");
  CHECK(ref_of(ppd2->json["focus"][0]) == "Organization/org-0003");
}

TEST_CASE("fhir render: derived ids resolve back to their entity and rule", "[fhir-render]") {
  std::vector<FhirIdTarget> t = renderer().resolve_id("Flag", "eol-0001-cpr-flag");
  REQUIRE(t.size() == 1);
  CHECK(t[0].entity_id == "eol-0001");
  CHECK(t[0].rule->rule_id == "cpr-flag");
  CHECK(t[0].rule->entity == care::EntityType::kEndOfLifePlan);
  t = renderer().resolve_id("Observation", "0190f3a2-7c1e-7b3d-9a41-2f0c5e6d7a81-ppd2");
  REQUIRE(t.size() == 1);
  CHECK(t[0].entity_id == "0190f3a2-7c1e-7b3d-9a41-2f0c5e6d7a81");
  CHECK(renderer().resolve_id("Flag", "eol-0001").empty());       // no Flag is primary
  CHECK(renderer().resolve_id("Flag", "-cpr-flag").empty());      // no entity id
  t = renderer().resolve_id("CarePlan", "eol-0001");
  REQUIRE(t.size() == 1);
  CHECK(t[0].rule->primary);
  // Round trip: every rendered resource's id resolves to a target that renders exactly it.
  const std::string json = entity_json("eol-record.care.json", "eol");
  for (const RenderedResource& r : render_json(care::EntityType::kEndOfLifePlan, json).resources) {
    const std::vector<FhirIdTarget> back = renderer().resolve_id(r.rule->resource_type, r.id);
    INFO(r.id);
    REQUIRE(back.size() == 1);
    CHECK(back[0].entity_id == "eol-0001");
    CHECK(back[0].rule == r.rule);
    RenderOptions o;
    o.resource_type = r.rule->resource_type;
    o.id = r.id;
    const RenderResult one = render_json(care::EntityType::kEndOfLifePlan, json, o);
    REQUIRE(one.resources.size() == 1);
    CHECK(one.resources[0].to_json() == r.to_json());
  }
}

TEST_CASE("fhir render: a referral is a ServiceRequest and a Task that focuses on it", "[fhir-render]") {
  const RenderResult out = render_json(care::EntityType::kReferral, entity_json("referral.care.json", "referral"));
  const RenderedResource* sr = find(out, "ServiceRequest");
  const RenderedResource* task = find(out, "Task");
  REQUIRE(sr);
  REQUIRE(task);
  CHECK(sr->id == "ref-0001");
  CHECK(task->id == "ref-0001-task");
  CHECK(ref_of(task->json["focus"]) == "ServiceRequest/ref-0001");
  CHECK(std::string(task->json["status"].GetString()) == "accepted");
  // The patient is known by NHS number only: a logical reference, never a conditional one.
  CHECK(!sr->json["subject"].HasMember("reference"));
  CHECK(std::string(sr->json["subject"]["identifier"]["value"].GetString()) == "9449305552");
  CHECK(ref_of(sr->json["performer"][0]) == "Organization/org-0002");
}

TEST_CASE("fhir render: a Provenance targets the references the caller gives", "[fhir-render]") {
  RenderOptions o;
  care::Reference a;
  a.type = care::EntityType::kPatient;
  a.id = "pat-0001";
  care::Reference b;
  b.type = care::EntityType::kEndOfLifePlan;
  b.id = "eol-0001";
  o.referenced_by = {a, b};
  const RenderResult out = render_json(care::EntityType::kProvenance, entity_json("eol-record.care.json", "provenance"), o);
  REQUIRE(out.resources.size() == 1);
  const rapidjson::Value& p = out.resources[0].json;
  CHECK(out.resources[0].id == "prov-0001");
  REQUIRE(p["target"].Size() == 2);
  CHECK(ref_of(p["target"][0]) == "Patient/pat-0001");
  CHECK(ref_of(p["target"][1]) == "CarePlan/eol-0001");
  CHECK(std::string(p["agent"][0]["who"]["identifier"]["value"].GetString()) == "RCB");
  CHECK(std::string(p["entity"][0]["what"]["identifier"]["value"].GetString()) == "j-000000042");
  CHECK(problems_of(p).empty());
}

TEST_CASE("fhir render: every resource rendered from every fixture entity validates", "[fhir-render][validation]") {
  namespace fs = std::filesystem;
  std::size_t resources = 0;
  std::set<std::string> types;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (!e.path().filename().string().ends_with(".care.json")) continue;
    rapidjson::Document d;
    d.Parse(read_file(e.path()).c_str());
    for (auto& m : d.GetObject()) {
      const care::EntityInfo* info = care::find_entity(m.name.GetString());
      REQUIRE(info);
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      m.value.Accept(w);
      RenderOptions o;
      if (info->type == care::EntityType::kProvenance) {
        care::Reference t;
        t.id = "pat-0001";
        o.referenced_by.push_back(t);
      }
      const RenderResult out = render_json(info->type, buf.GetString(), o);
      for (const RenderedResource& r : out.resources) {
        ++resources;
        types.insert(r.rule->resource_type);
        INFO(e.path().filename().string() << " " << r.id << "\n" << r.to_json(true));
        CHECK(problems_of(r.json) == "");
      }
    }
  }
  CHECK(resources >= 25);
  CHECK(types.size() == 14);
}

TEST_CASE("fhir render: a rule over a list renders one resource per item, numbered by position", "[fhir-render]") {
  namespace fs = std::filesystem;
  const std::string profile = R"({"name": "wishes", "version": "1", "direction": "care→fhir", "rules": [
    {"id": "plan", "resource": "CarePlan", "source": "eol", "rules": [
      {"id": "plan.status", "value": "active", "target": "CarePlan.status"},
      {"id": "plan.created", "source": "createdAt", "target": "CarePlan.created"}]},
    {"id": "wish", "resource": "Flag", "source": "eol.wishes[]", "when": {"path": "category", "equals": "funeral"}, "rules": [
      {"id": "wish.text", "source": "text", "target": "Flag.code.text"},
      {"id": "wish.subject", "source": "/patient", "target": "Flag.subject"}]}]})";
  LoadOptions lo;
  lo.fhir_profiles_dir = MIDHURST_PROFILES_DIR;
  auto set = ProfileSet::load({{"care-fhir/wishes.json", profile}}, {}, lo);
  if (!set.ok())
    for (const LoadError& e : set.error()) FAIL(e.to_string());
  auto r = FhirRenderer::create(*set);
  REQUIRE(r.ok());
  const ServedRule* wish = (*r)->rules_for("Flag").at(0);
  CHECK(wish->per_item);
  auto out = (*r)->render_entity_json(care::EntityType::kEndOfLifePlan, R"({"id": "p1", "version": 2,
    "lastUpdated": "2026-01-01", "patient": {"type": "Patient", "id": "x"}, "createdAt": "2026-01-01",
    "wishes": [{"category": "organ-donation", "text": "corneas"}, {"category": "funeral", "text": "church"}]})");
  REQUIRE(out.ok());
  REQUIRE(out->resources.size() == 2);
  CHECK(out->resources[0].id == "p1");
  CHECK(!out->resources[0].json["meta"].HasMember("lastUpdated"));  // a date only: no instant
  CHECK(out->resources[1].id == "p1-wish-2");  // the second wish; the first is not a funeral wish
  CHECK(out->resources[1].item == 2);
  CHECK(std::string(out->resources[1].json["code"]["text"].GetString()) == "church");
  const std::vector<FhirIdTarget> back = (*r)->resolve_id("Flag", "p1-wish-2");
  REQUIRE(back.size() == 1);
  CHECK(back[0].entity_id == "p1");
  CHECK(back[0].item == 2);
  CHECK((*r)->resolve_id("Flag", "p1-wish-0").empty());
  CHECK((*r)->resolve_id("Flag", "p1-wish").empty());
}

TEST_CASE("fhir render: a served rule id that cannot be part of a FHIR id is refused", "[fhir-render]") {
  const std::string profile = R"({"name": "bad", "version": "1", "direction": "care→fhir", "rules": [
    {"id": "a-rule-id-much-too-long-for-ids", "resource": "Flag", "source": "eol.cprDecision", "rules": [
      {"id": "x", "value": "active", "target": "Flag.status"}]}]})";
  LoadOptions lo;
  lo.fhir_profiles_dir = MIDHURST_PROFILES_DIR;
  auto set = ProfileSet::load({{"care-fhir/bad.json", profile}}, {}, lo);
  REQUIRE(set.ok());
  auto r = FhirRenderer::create(*set);
  REQUIRE(!r.ok());
  CHECK(r.error().find("at most 20 characters") != std::string::npos);
}
