// FHIR search through the REST routes: comma OR lists (and `\,` as a literal comma) for every
// token, string and reference parameter, and tokens on rendered elements (Encounter class,
// Observation and Flag code and category, Task status) filtered in the store, so that pages are
// full and _summary=count is exact. A real SQLite store and the shipped profiles.
#include <algorithm>
#include <set>

#include "server/fhir_rest_search.h"
#include "server/fhir_rest_test_env.h"

namespace midhurst::server {
namespace {

using testing::entry_refs;
using testing::eol_plan;
using testing::link;
using testing::Reply;
using testing::RestEnv;
using store::EntityWrite;
using store::test::nhs_number;
using store::test::patient;
using Refs = std::vector<std::string>;

Refs sorted_matches(RestEnv& env, const std::string& target) {
  Reply r = env.get(target);
  INFO(target << " -> " << r.r.body.substr(0, 1500));
  REQUIRE(r.status() == 200);
  Refs refs = entry_refs(r.json, "match");
  std::sort(refs.begin(), refs.end());
  return refs;
}

std::int64_t total(RestEnv& env, const std::string& target) {
  Reply r = env.get(target);
  INFO(target << " -> " << r.r.body.substr(0, 1500));
  REQUIRE(r.status() == 200);
  REQUIRE(r.json.HasMember("total"));
  return r.json["total"].GetInt64();
}

// Every match of a search over all its pages (following `next`), checking each page is full.
Refs all_pages(RestEnv& env, std::string target, std::size_t page_size) {
  Refs out;
  for (int guard = 0; guard < 100 && !target.empty(); ++guard) {
    Reply r = env.get(target);
    INFO(target << " -> " << r.r.body.substr(0, 800));
    REQUIRE(r.status() == 200);
    const Refs page = entry_refs(r.json, "match");
    std::string next = link(r.json, "next");
    if (!next.empty()) CHECK(page.size() >= page_size);  // only the last page may be short
    out.insert(out.end(), page.begin(), page.end());
    if (auto at = next.find("/Observation?"); at != std::string::npos) next = next.substr(at);
    else if (auto at2 = next.find("/Encounter?"); at2 != std::string::npos) next = next.substr(at2);
    else if (auto at3 = next.find("/Flag?"); at3 != std::string::npos) next = next.substr(at3);
    else next.clear();
    target = next;
  }
  return out;
}

care::Encounter encounter(const std::string& id, const std::string& patient_id, care::EncounterClass c,
                          care::EncounterStatus status = care::EncounterStatus::kInProgress) {
  care::Encounter e = store::test::encounter(id, patient_id, "2024-03-01T10:00:00Z");
  e.encounter_class = c;
  e.status = status;
  return e;
}

}  // namespace

TEST_CASE("fhir search: a comma means OR for tokens, identifiers, strings and references") {
  RestEnv env(testing::care_fhir_profiles(true));
  care::Patient p1 = patient("p1", nhs_number(1), "Smith", "Anna", "1950", care::AdministrativeGender::kFemale);
  care::Patient p2 = patient("p2", nhs_number(2), "Jones", "Bob", "1951", care::AdministrativeGender::kMale);
  care::Patient p3 = patient("p3", nhs_number(3), "O,Brien", "Cara", "1952", care::AdministrativeGender::kOther);
  p3.identifiers.push_back(store::test::mrn("A,1"));
  env.write({EntityWrite::put(p1), EntityWrite::put(p2), EntityWrite::put(p3)});
  const std::string nhs = "https://fhir.nhs.uk/Id/nhs-number";

  CHECK(sorted_matches(env, "/Patient?gender=male,female") == Refs{"Patient/p1", "Patient/p2"});
  CHECK(total(env, "/Patient?gender=male,female&_summary=count") == 2);
  CHECK(sorted_matches(env, "/Patient?gender=male,female&gender=female,other") == Refs{"Patient/p1"});
  CHECK(sorted_matches(env, "/Patient?identifier=" + nhs + "|" + nhs_number(1) + "," + nhs + "|" + nhs_number(3)) ==
        Refs{"Patient/p1", "Patient/p3"});
  CHECK(total(env, "/Patient?identifier=" + nhs + "|" + nhs_number(2) + ",https://other.example|" + nhs_number(3) +
                       "&_summary=count") == 1);
  CHECK(total(env, "/Patient?identifier=" + nhs + "|" + nhs_number(2) + "," + nhs_number(3) + "&_summary=count") == 2);
  CHECK(sorted_matches(env, "/Patient?identifier=https://fhir.example.org/Id/mrn-RYJ|") == Refs{"Patient/p3"});
  CHECK(sorted_matches(env, "/Patient?family=smi,jon") == Refs{"Patient/p1", "Patient/p2"});
  CHECK(sorted_matches(env, "/Patient?given=an,bo&family=jo") == Refs{"Patient/p2"});
  CHECK(sorted_matches(env, "/Patient?name=smith&name=an,bo") == Refs{"Patient/p1"});
  // `\,` is a comma inside one value (search.html, "Escaping Search Parameters").
  CHECK(sorted_matches(env, "/Patient?family=o%5C,b") == Refs{"Patient/p3"});
  CHECK(sorted_matches(env, "/Patient?family=o%5C,x").empty());
  CHECK(sorted_matches(env, "/Patient?family=o,x") == Refs{"Patient/p3"});  // "o" OR "x"
  CHECK(sorted_matches(env, "/Patient?identifier=https://fhir.example.org/Id/mrn-RYJ|A%5C,1") == Refs{"Patient/p3"});
  CHECK(sorted_matches(env, "/Patient?identifier=https://fhir.example.org/Id/mrn-RYJ|A,1").empty());

  // References: the patient of an encounter, and a practitioner reference.
  env.write({EntityWrite::put(encounter("e1", "p1", care::EncounterClass::kInpatient)),
             EntityWrite::put(encounter("e2", "p2", care::EncounterClass::kOutpatient)),
             EntityWrite::put(encounter("e3", "p3", care::EncounterClass::kInpatient))});
  CHECK(sorted_matches(env, "/Encounter?patient=p1,Patient/p3") == Refs{"Encounter/e1", "Encounter/e3"});
  CHECK(total(env, "/Encounter?subject=p2,p3&_summary=count") == 2);
  CHECK(env.get("/Encounter?patient=p1,Practitioner/x").status() == 400);
  CHECK(sorted_matches(env, "/Encounter?status=planned,in-progress&patient=p2,p3") == Refs{"Encounter/e2", "Encounter/e3"});
  CHECK(sorted_matches(env, "/Encounter?status=finished,planned").empty());
}

TEST_CASE("fhir search: Encounter class is filtered in the store: full pages and exact counts") {
  RestEnv env(testing::care_fhir_profiles(true));
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  std::vector<EntityWrite> writes;
  for (int i = 0; i < 24; ++i)
    writes.push_back(EntityWrite::put(encounter("e" + std::to_string(10 + i), "p1",
                                                i % 4 == 0 ? care::EncounterClass::kInpatient
                                                : i % 4 == 1 ? care::EncounterClass::kOutpatient
                                                             : care::EncounterClass::kCommunity)));
  env.write(std::move(writes));
  const std::string act = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
  CHECK(total(env, "/Encounter?class=IMP&_summary=count") == 6);
  CHECK(total(env, "/Encounter?class=" + act + "|IMP,AMB&_summary=count") == 12);
  CHECK(total(env, "/Encounter?class=HH&patient=p1&_summary=count") == 12);
  CHECK(total(env, "/Encounter?class=http://other.example|IMP&_summary=count") == 0);
  const Refs pages = all_pages(env, "/Encounter?class=IMP,AMB&_count=5", 5);
  CHECK(pages.size() == 12);
  CHECK(std::set<std::string>(pages.begin(), pages.end()).size() == 12);
  for (const auto& r : sorted_matches(env, "/Encounter?class=AMB")) {
    Reply e = env.get("/" + r);
    CHECK(std::string(e.json["class"]["code"].GetString()) == "AMB");
  }
}

TEST_CASE("fhir search: Observation and Flag code and category, and Task status, in the store") {
  RestEnv env(testing::care_fhir_profiles(true));
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  // 9 plans: every third holds a preferred place of care, the others not; CPR decisions alternate.
  std::vector<EntityWrite> writes;
  for (int i = 0; i < 9; ++i) {
    care::EndOfLifePlan plan = eol_plan("plan" + std::to_string(i), "p1");
    if (i % 3 != 0) plan.preferred_place_of_care.reset();
    // A prognosis awareness renders an Observation whose code is read from the record, which the
    // planner does not trace: plans holding one are candidates for every code.
    if (plan.prognosis) plan.prognosis->awareness.clear();
    REQUIRE(plan.cpr_decision);
    plan.cpr_decision->decision = i % 2 ? care::CprDecisionCode::kForCpr : care::CprDecisionCode::kDnacpr;
    writes.push_back(EntityWrite::put(plan));
  }
  env.write(std::move(writes));
  const std::string item = "https://fhir.midhurst.example/CodeSystem/eol-item";

  const Refs ppc = all_pages(env, "/Observation?code=" + item + "|PPC&_count=2", 2);
  CHECK(ppc == Refs{"Observation/plan0-ppc", "Observation/plan3-ppc", "Observation/plan6-ppc"});
  // A code list over two rules: every PPC and the first preferred place of death of each plan.
  const Refs both = all_pages(env, "/Observation?code=PPC,PPD1&_count=4", 4);
  CHECK(both.size() == 12);
  CHECK(sorted_matches(env, "/Observation?code=" + item + "|NOPE").empty());
  CHECK(sorted_matches(env, "/Observation?category=anything").empty());  // no rule writes it

  // Flags: the CPR Flag's code comes through a ConceptMap (SNOMED 450476008 DNACPR).
  const Refs dnacpr = all_pages(env, "/Flag?code=http://snomed.info/sct|450476008&_count=2", 2);
  CHECK(dnacpr == Refs{"Flag/plan0-cpr-flag", "Flag/plan2-cpr-flag", "Flag/plan4-cpr-flag", "Flag/plan6-cpr-flag",
                       "Flag/plan8-cpr-flag"});
  const Refs cpr = all_pages(env, "/Flag?category=" + item + "|CPR&_count=4", 4);
  CHECK(cpr.size() == 9);
  CHECK(sorted_matches(env, "/Flag?category=" + item + "|CPR&code=http://snomed.info/sct|450475007").size() == 4);

  // Task status is the referral's recipient status.
  care::Referral accepted;
  accepted.id = "r1";
  accepted.patient = store::test::patient_ref("p1");
  accepted.status = care::ReferralStatus::kActive;
  accepted.recipient_status = care::RecipientStatus::kAccepted;
  accepted.authored_on = "2024-02-01T09:00:00Z";
  care::Referral rejected = accepted;
  rejected.id = "r2";
  rejected.recipient_status = care::RecipientStatus::kRejected;
  env.write({EntityWrite::put(accepted), EntityWrite::put(rejected)});
  const Refs tasks = sorted_matches(env, "/Task?patient=p1");
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].starts_with("Task/r1"));
  CHECK(sorted_matches(env, "/Task?status=accepted") == Refs{tasks[0]});
  CHECK(sorted_matches(env, "/Task?status=rejected") == Refs{tasks[1]});
  CHECK(sorted_matches(env, "/Task?status=accepted,rejected") == tasks);
  CHECK(sorted_matches(env, "/Task?status=completed").empty());
}

TEST_CASE("fhir search: plans put rendered tokens in the store where the profiles allow") {
  auto renderer = mapping::FhirRenderer::create(testing::care_fhir_profiles(true));
  REQUIRE(renderer.ok());
  auto plan = [&](std::string_view type, care::EntityType entity, std::vector<std::pair<std::string, std::string>> query) {
    auto request = fhir::parse_search(query, search_param_kinds(type));
    REQUIRE(request.ok());
    auto p = plan_search(type, entity, *request, **renderer);
    REQUIRE(p.ok());
    return *p;
  };
  // Encounter class: one rule, through a one-group ConceptMap: exact, so no rendered check.
  auto enc = plan(std::string_view("Encounter"), care::EntityType::kEncounter, {{"class", "IMP,HH"}});
  REQUIRE(enc.query.any_tokens.size() == 1);
  std::set<std::string> codes;
  for (const auto& t : enc.query.any_tokens[0]) codes.insert(t.param + "=" + t.code);
  CHECK(codes == std::set<std::string>{"class=community", "class=inpatient"});
  CHECK(enc.filters.empty());
  // Observation code: several resources per plan, so the rendered resource is still checked.
  auto obs = plan(std::string_view("Observation"), care::EntityType::kEndOfLifePlan, {{"code", "PPD2"}});
  REQUIRE(obs.query.any_tokens.size() == 1);
  std::set<std::string> items;
  for (const auto& t : obs.query.any_tokens[0]) items.insert(t.param + "=" + t.code);
  // The second preferred place of death, and the prognosis awareness Observations, whose codes
  // come from the record through a group the planner does not trace.
  CHECK(items == std::set<std::string>{"item=preferredPlaceOfDeath[1]", "item=prognosis.awareness"});
  CHECK(obs.filters.size() == 1);
  // OR lists of plain codes for indexed enums go straight to the store.
  auto sr = plan(std::string_view("ServiceRequest"), care::EntityType::kReferral, {{"status", "active,completed"}});
  REQUIRE(sr.query.any_tokens.size() == 1);
  CHECK(sr.query.any_tokens[0].size() == 2);
  CHECK(sr.filters.empty());
}

}  // namespace midhurst::server
