// FHIR search through the REST routes: comma OR lists (and `\,` as a literal comma) for every
// token, string and reference parameter, and tokens on rendered elements (Encounter class,
// Observation and Flag code and category, Task status) filtered in the store, so that pages are
// full and _summary=count is exact. A real SQLite store and the shipped profiles.
#include <algorithm>
#include <set>

#include "server/fhir_rest_search.h"
#include "server/fhir_rest_test_env.h"
#include "store/index_terms.h"

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

namespace midhurst::server {
namespace {

// Every match of a search, following `next` over pages of `page_size` (entries per page may
// exceed it: several resources per entity).
Refs every_match(RestEnv& env, const std::string& type, std::string target) {
  Refs out;
  for (int guard = 0; guard < 200 && !target.empty(); ++guard) {
    Reply r = env.get(target);
    INFO(target << " -> " << r.r.body.substr(0, 800));
    REQUIRE(r.status() == 200);
    const Refs page = entry_refs(r.json, "match");
    out.insert(out.end(), page.begin(), page.end());
    const std::string next = link(r.json, "next");
    const auto at = next.find("/" + type + "?");
    target = at == std::string::npos ? std::string() : next.substr(at);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Plans with every combination the end-of-life Flags and Consent depend on: CPR decision (for
// CPR, DNACPR, unknown: no Flag), ADRT present or not, register on or off, and the recorded status
// of each item (none: the profile's default "active", active, inactive, entered in error).
std::vector<EntityWrite> varied_plans(int n, const std::string& patient_id) {
  const std::optional<care::RecordStatus> statuses[] = {std::nullopt, care::RecordStatus::kActive,
                                                        care::RecordStatus::kInactive,
                                                        care::RecordStatus::kEnteredInError};
  std::vector<EntityWrite> writes;
  for (int i = 0; i < n; ++i) {
    care::EndOfLifePlan plan = eol_plan(patient_id + "-plan" + std::to_string(i), patient_id);
    plan.cpr_decision->decision = i % 3 == 0   ? care::CprDecisionCode::kForCpr
                                  : i % 3 == 1 ? care::CprDecisionCode::kDnacpr
                                               : care::CprDecisionCode::kUnknown;
    auto status = [](std::optional<care::Recorded>& r, std::optional<care::RecordStatus> s) {
      if (!r) r.emplace();
      r->status = s;
    };
    status(plan.cpr_decision->recorded, statuses[i % 4]);
    plan.adrt->present = i % 2 == 0;
    status(plan.adrt->recorded, statuses[(i + 1) % 4]);
    plan.eol_register->on_register = i % 5 != 0;
    status(plan.eol_register->recorded, statuses[(i + 2) % 4]);
    if (i % 4 == 3) plan.lpa_health_welfare.reset();
    if (i % 6 == 5) plan.consent_to_share.reset();
    if (i % 7 == 6) plan.eol_register.reset();
    // No death recorded: the CarePlan is active, else completed. Awareness: 0, 1 or 3 findings,
    // one Observation each.
    if (i % 3 != 2) plan.death.reset();
    REQUIRE(plan.prognosis);
    REQUIRE(plan.prognosis->awareness.size() == 1);
    if (i % 3 == 0) plan.prognosis->awareness.clear();
    if (i % 3 == 2) plan.prognosis->awareness.resize(3, plan.prognosis->awareness[0]);
    writes.push_back(EntityWrite::put(plan));
  }
  return writes;
}

}  // namespace

TEST_CASE("fhir search: _summary=count and Bundle.total are exact for Flag, Consent, CarePlan, Observation and Task") {
  RestEnv env(testing::care_fhir_profiles(true));
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna")),
             EntityWrite::put(patient("p2", nhs_number(2), "Jones", "Bob"))});
  env.write(varied_plans(24, "p1"));
  env.write(varied_plans(5, "p2"));
  std::vector<EntityWrite> referrals;
  for (int i = 0; i < 7; ++i) {
    care::Referral r;
    r.id = "ref" + std::to_string(i);
    r.patient = store::test::patient_ref(i % 2 ? "p1" : "p2");
    r.status = care::ReferralStatus::kActive;
    if (i % 3 == 1) r.recipient_status = care::RecipientStatus::kAccepted;
    if (i % 3 == 2) r.recipient_status = care::RecipientStatus::kRejected;
    r.authored_on = "2024-02-01T09:00:00Z";
    referrals.push_back(EntityWrite::put(r));
  }
  env.write(std::move(referrals));
  const std::string item = "https://fhir.midhurst.example/CodeSystem/eol-item";

  const std::vector<std::pair<std::string, std::string>> searches = {
      {"Flag", "patient=p1"},
      {"Flag", "status=active"},
      {"Flag", "status=inactive,entered-in-error&patient=p1"},
      {"Flag", "status=active&category=" + item + "|EOLREG"},
      {"Flag", "status=inactive&category=" + item + "|CPR,ADRT"},
      {"Flag", "code=http://snomed.info/sct|450476008&status=active"},
      {"Flag", "category=" + item + "|LPA"},
      {"Flag", "_id=p1-plan0-cpr-flag,p1-plan2-cpr-flag,p1-plan1-adrt-flag"},
      {"Consent", "patient=p1"},
      {"CarePlan", "patient=p2"},
      // CarePlan status: active while no death is recorded (counted as all minus those with one).
      {"CarePlan", "status=active"},
      {"CarePlan", "status=completed&patient=p1"},
      {"CarePlan", "status=active,completed&patient=p1"},
      {"CarePlan", "status=active&category=http://snomed.info/sct|861411000000103"},
      // Observations: one per prognosis-awareness finding, counted per list position.
      {"Observation", "patient=p1"},
      {"Observation", "patient=p2"},
      {"Observation", "status=final"},
      {"Observation", "patient=p2&status=final"},
      {"Task", "patient=p1"},
      {"Task", "status=requested"},
      {"Task", "status=accepted,requested&patient=p2"},
  };
  for (const auto& [type, query] : searches) {
    INFO(type << "?" << query);
    // What the rendered resources say, page by page.
    const Refs matches = every_match(env, type, "/" + type + "?" + query + "&_count=3");
    // The store's count, rule by rule.
    auto renderer = mapping::FhirRenderer::create(testing::care_fhir_profiles(true));
    REQUIRE(renderer.ok());
    std::vector<std::pair<std::string, std::string>> pairs;
    for (std::size_t start = 0; start <= query.size();) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      const std::string kv = query.substr(start, amp - start);
      pairs.emplace_back(kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1));
      start = amp + 1;
    }
    auto request = fhir::parse_search(pairs, search_param_kinds(type));
    REQUIRE(request.ok());
    const care::EntityType entity = type == "Task" ? care::EntityType::kReferral : care::EntityType::kEndOfLifePlan;
    CHECK_FALSE(matches.empty());
    CHECK(plan_count(type, entity, *request, **renderer).has_value());
    CHECK(total(env, "/" + type + "?" + query + "&_summary=count") == static_cast<std::int64_t>(matches.size()));
    // A searchset page says the total too, whichever page it is.
    CHECK(total(env, "/" + type + "?" + query + "&_count=2") == static_cast<std::int64_t>(matches.size()));
  }
  // The statuses the Flags carry, checked against the records: p1-plan0 holds a CPR decision
  // without a recorded status (Flag active by the profile's default), p1-plan6 an inactive one,
  // p1-plan3 one entered in error.
  CHECK(every_match(env, "Flag", "/Flag?_id=p1-plan0-cpr-flag&status=active") == Refs{"Flag/p1-plan0-cpr-flag"});
  CHECK(every_match(env, "Flag", "/Flag?_id=p1-plan6-cpr-flag&status=inactive") == Refs{"Flag/p1-plan6-cpr-flag"});
  CHECK(every_match(env, "Flag", "/Flag?_id=p1-plan3-cpr-flag&status=entered-in-error") ==
        Refs{"Flag/p1-plan3-cpr-flag"});
  CHECK(every_match(env, "Flag", "/Flag?_id=p1-plan3-cpr-flag&status=active").empty());
  // Unknown CPR decisions make no Flag: none is counted for them.
  CHECK(total(env, "/Flag?_id=p1-plan2-cpr-flag&_summary=count") == 0);
  // The awareness Observations are there: 8 plans of p1 with one finding, 8 with three.
  const Refs awareness = every_match(env, "Observation", "/Observation?patient=p1&code=http://snomed.info/sct|751961000000104&_count=5");
  CHECK(awareness.size() == 8 * 1 + 8 * 3);
  // A first page holding every match says its total whatever the filters.
  CHECK(total(env, "/Observation?patient=p1&code=http://snomed.info/sct|751961000000104&_count=1000") == 32);
}

TEST_CASE("fhir search: CarePlan status and per-finding Observations are planned as store counts") {
  auto renderer = mapping::FhirRenderer::create(testing::care_fhir_profiles(true));
  REQUIRE(renderer.ok());
  auto items = [](const store::Query& q) {
    std::set<std::string> out;
    for (const auto& alts : q.any_tokens)
      for (const auto& t : alts)
        if (t.param == store::kItemParam) out.insert(t.code);
    return out;
  };
  // `active` is "no death recorded": every plan, minus those holding a death.
  auto active = fhir::parse_search({{"status", "active"}}, search_param_kinds("CarePlan"));
  REQUIRE(active.ok());
  auto counts = plan_count("CarePlan", care::EntityType::kEndOfLifePlan, *active, **renderer);
  REQUIRE(counts.has_value());
  REQUIRE(counts->size() == 2);
  CHECK((*counts)[0].sign == 1);
  CHECK(items((*counts)[0].query).empty());
  CHECK((*counts)[1].sign == -1);
  CHECK(items((*counts)[1].query) == std::set<std::string>{"death"});
  // `completed`: those holding one, added.
  auto completed = fhir::parse_search({{"status", "completed"}}, search_param_kinds("CarePlan"));
  REQUIRE(completed.ok());
  counts = plan_count("CarePlan", care::EntityType::kEndOfLifePlan, *completed, **renderer);
  REQUIRE(counts.has_value());
  REQUIRE(counts->size() == 1);
  CHECK((*counts)[0].sign == 1);
  CHECK(items((*counts)[0].query) == std::set<std::string>{"death"});
  // Observations: the awareness rule is counted per list position, the AKPS one by its score.
  auto obs = fhir::parse_search({{"patient", "p1"}}, search_param_kinds("Observation"));
  REQUIRE(obs.ok());
  counts = plan_count("Observation", care::EntityType::kEndOfLifePlan, *obs, **renderer);
  REQUIRE(counts.has_value());
  int per_position = 0, akps = 0;
  for (const CountQuery& c : *counts) {
    per_position += c.list_item == "prognosis.awareness";
    akps += items(c.query).count("functionalStatus.akpsScore") > 0;
  }
  CHECK(per_position == 1);
  CHECK(akps == 1);
  // A code the profile writes from the record through a group cannot be traced: no store count.
  auto coded = fhir::parse_search({{"code", "http://snomed.info/sct|751961000000104"}}, search_param_kinds("Observation"));
  REQUIRE(coded.ok());
  CHECK_FALSE(plan_count("Observation", care::EntityType::kEndOfLifePlan, *coded, **renderer).has_value());
}

TEST_CASE("fhir search: Flag status is planned into the store's record-status terms") {
  auto renderer = mapping::FhirRenderer::create(testing::care_fhir_profiles(true));
  REQUIRE(renderer.ok());
  auto request = fhir::parse_search({{"status", "inactive"}}, search_param_kinds("Flag"));
  REQUIRE(request.ok());
  auto p = plan_search("Flag", care::EntityType::kEndOfLifePlan, *request, **renderer);
  REQUIRE(p.ok());
  REQUIRE(p->query.any_tokens.size() == 1);
  std::set<std::string> terms;
  for (const auto& t : p->query.any_tokens[0]) terms.insert(t.param + "=" + t.system + "|" + t.code);
  // The items whose recorded status renders Flag.status, and the register Flag, whose status comes
  // from constants under conditions: the entities holding it are candidates.
  CHECK(terms.count("record-status=cprDecision|inactive") == 1);
  CHECK(terms.count("record-status=adrt|inactive") == 1);
  CHECK(terms.count("record-status=lpaHealthWelfare|inactive") == 1);
  CHECK(terms.count("item=|eolRegister") == 1);
  CHECK(p->filters.size() == 1);  // several Flags per plan: the rendered one is still checked
  // Counting, rule by rule, is exact: the register Flag's conditions become criteria.
  auto counts = plan_count("Flag", care::EntityType::kEndOfLifePlan, *request, **renderer);
  REQUIRE(counts.has_value());
  CHECK(counts->size() == 4);
  bool register_rule = false;
  for (const CountQuery& c : *counts) {
    const store::Query& q = c.query;
    std::set<std::string> all;
    for (const auto& alts : q.any_tokens)
      for (const auto& t : alts) all.insert(t.param + "=" + t.system + "|" + t.code);
    if (!all.count("item=|eolRegister")) continue;
    register_rule = true;
    CHECK(all.count("eol-register=|false") == 1);
    CHECK(all.count("record-status=eolRegister|entered-in-error") == 0);
    CHECK(all.count("record-status=eolRegister|" + std::string(store::kAbsentCode)) == 1);
  }
  CHECK(register_rule);
}

}  // namespace midhurst::server

namespace midhurst::server {

TEST_CASE("fhir rest: a Provenance read, vread and search list the records whose versions it produced") {
  RestEnv env(testing::care_fhir_profiles(true));
  care::Provenance prov1 = store::test::provenance("PAS", "M1");
  prov1.id = "prov1";
  care::Provenance prov2 = store::test::provenance("PAS", "M2");
  prov2.id = "prov2";
  env.write({EntityWrite::put(prov1), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna")),
             EntityWrite::put(eol_plan("plan1", "p1"))});
  env.write({EntityWrite::put(prov2), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Annie"))});

  auto targets = [](const rapidjson::Value& provenance) {
    Refs out;
    if (provenance.HasMember("target"))
      for (const auto& t : provenance["target"].GetArray()) out.push_back(t["reference"].GetString());
    std::sort(out.begin(), out.end());
    return out;
  };
  Reply r1 = env.get("/Provenance/prov1");
  INFO(r1.r.body.substr(0, 1500));
  REQUIRE(r1.status() == 200);
  // The plan is served as its primary resource, the CarePlan; p1's first version came from M1.
  CHECK(targets(r1.json) == Refs{"CarePlan/plan1", "Patient/p1"});
  Reply r2 = env.get("/Provenance/prov2");
  REQUIRE(r2.status() == 200);
  CHECK(targets(r2.json) == Refs{"Patient/p1"});
  Reply v = env.get("/Provenance/prov1/_history/1");
  REQUIRE(v.status() == 200);
  CHECK(targets(v.json) == Refs{"CarePlan/plan1", "Patient/p1"});
  Reply s = env.get("/Provenance?_id=prov2");
  REQUIRE(s.status() == 200);
  REQUIRE(s.json["entry"].Size() == 1);
  CHECK(targets(s.json["entry"][0]["resource"]) == Refs{"Patient/p1"});
}

}  // namespace midhurst::server

namespace midhurst::server {
namespace {

// The matches of every page of a search (following `next`), checking each page but the last is
// full and the Bundle.total each page carries.
Refs provenance_pages(RestEnv& env, std::string target, std::size_t page_size, std::int64_t want_total) {
  Refs out;
  for (int guard = 0; guard < 100 && !target.empty(); ++guard) {
    Reply r = env.get(target);
    INFO(target << " -> " << r.r.body.substr(0, 800));
    REQUIRE(r.status() == 200);
    REQUIRE(r.json.HasMember("total"));
    CHECK(r.json["total"].GetInt64() == want_total);
    const Refs page = entry_refs(r.json, "match");
    std::string next = link(r.json, "next");
    if (!next.empty()) CHECK(page.size() == page_size);
    out.insert(out.end(), page.begin(), page.end());
    const auto at = next.find("/Provenance?");
    target = at == std::string::npos ? std::string() : next.substr(at);
  }
  std::sort(out.begin(), out.end());
  return out;
}

care::Provenance provenance_of_message(int n) {
  care::Provenance p = store::test::provenance("PAS", "M" + std::to_string(n));
  p.id = "prov" + std::to_string(n);
  return p;
}

// Patient p1 in three messages (prov1 with encounter e1, prov2, prov3 with the end-of-life plan),
// p2 in prov4; p3 in 23 messages of its own (prov10..prov32).
struct ProvenanceWorld {
  RestEnv env{testing::care_fhir_profiles(true)};
  ProvenanceWorld() {
    env.write({EntityWrite::put(provenance_of_message(1)), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna")),
               EntityWrite::put(store::test::encounter("e1", "p1", "2024-03-01T10:00:00Z"))});
    env.write({EntityWrite::put(provenance_of_message(2)), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Annie"))});
    env.write({EntityWrite::put(provenance_of_message(3)), EntityWrite::put(eol_plan("plan1", "p1"))});
    env.write({EntityWrite::put(provenance_of_message(4)), EntityWrite::put(patient("p2", nhs_number(2), "Jones", "Bob"))});
    for (int i = 10; i <= 32; ++i)
      env.write({EntityWrite::put(provenance_of_message(i)),
                 EntityWrite::put(patient("p3", nhs_number(3), "Brown", "V" + std::to_string(i)))});
  }
};

}  // namespace

TEST_CASE("fhir search: Provenance by target finds the Provenance of every version of the target") {
  ProvenanceWorld w;
  RestEnv& env = w.env;
  CHECK(sorted_matches(env, "/Provenance?target=Patient/p1") == Refs{"Provenance/prov1", "Provenance/prov2"});
  CHECK(sorted_matches(env, "/Provenance?target=Encounter/e1") == Refs{"Provenance/prov1"});
  // Any resource rendered from the plan leads to the plan's Provenance.
  CHECK(sorted_matches(env, "/Provenance?target=CarePlan/plan1") == Refs{"Provenance/prov3"});
  const Refs flags = sorted_matches(env, "/Flag?patient=p1");
  REQUIRE_FALSE(flags.empty());
  CHECK(sorted_matches(env, "/Provenance?target=" + flags[0]) == Refs{"Provenance/prov3"});
  // Comma: OR; repeated: AND; with _id: both.
  CHECK(sorted_matches(env, "/Provenance?target=Patient/p1,Patient/p2") ==
        Refs{"Provenance/prov1", "Provenance/prov2", "Provenance/prov4"});
  CHECK(sorted_matches(env, "/Provenance?target=Patient/p1&target=Encounter/e1") == Refs{"Provenance/prov1"});
  CHECK(sorted_matches(env, "/Provenance?target=Patient/p1&_id=prov2,prov4") == Refs{"Provenance/prov2"});
  CHECK(sorted_matches(env, "/Provenance?target=Patient/p2&target=Encounter/e1").empty());
  CHECK(sorted_matches(env, "/Provenance?target=Patient/nobody").empty());
  CHECK(total(env, "/Provenance?target=Patient/nobody") == 0);
  // R4 `patient`: the targets that are Patients.
  CHECK(sorted_matches(env, "/Provenance?patient=p1") == Refs{"Provenance/prov1", "Provenance/prov2"});
  CHECK(sorted_matches(env, "/Provenance?patient=Patient/p2") == Refs{"Provenance/prov4"});
  CHECK(env.get("/Provenance?patient=Encounter/e1").status() == 400);
  // A bare id does not say which record it names.
  Reply bare = env.get("/Provenance?target=p1");
  CHECK(bare.status() == 400);
  CHECK(bare.r.body.find("Type/id") != std::string::npos);
  // Provenance needs its own read scope.
  CHECK(env.get("/Provenance?target=Patient/p1", "pat").status() == 403);
  // The AND of _id with a target still pages over the store's ids: a form POST answers the same.
  Reply post = env.call("POST", "/Provenance/_search", "all", {{"content-type", "application/x-www-form-urlencoded"}},
                        "target=Patient%2Fp1");
  REQUIRE(post.status() == 200);
  Refs posted = entry_refs(post.json, "match");
  std::sort(posted.begin(), posted.end());
  CHECK(posted == Refs{"Provenance/prov1", "Provenance/prov2"});
}

TEST_CASE("fhir search: Provenance by target pages, counts exactly and audits the target patient") {
  ProvenanceWorld w;
  RestEnv& env = w.env;
  Refs want;
  for (int i = 10; i <= 32; ++i) want.push_back("Provenance/prov" + std::to_string(i));
  std::sort(want.begin(), want.end());
  // 23 versions of p3, 10 per page: three pages, each with the exact total.
  CHECK(provenance_pages(env, "/Provenance?target=Patient/p3&_count=10", 10, 23) == want);
  CHECK(provenance_pages(env, "/Provenance?target=Patient/p3&_count=10&_sort=-_lastUpdated", 10, 23) == want);
  CHECK(total(env, "/Provenance?target=Patient/p3&_summary=count") == 23);
  CHECK(total(env, "/Provenance?target=Patient/p3,Patient/p1&_summary=count") == 25);
  CHECK(total(env, "/Provenance?patient=p3&_lastUpdated=gt2000-01-01&_summary=count") == 23);

  // Each search of a patient's Provenance is audited as touching that patient, found or not.
  REQUIRE(env.get("/Provenance?target=Patient/p2").status() == 200);
  REQUIRE(env.get("/Provenance?patient=p1&_summary=count").status() == 200);
  REQUIRE(env.get("/Provenance?target=Patient/nobody").status() == 200);
  REQUIRE(env.audit->flush());
  for (const char* p : {"p2", "p1", "nobody"}) {
    auto records = env.store->list_audit(0, 100, p);
    REQUIRE(records.ok());
    INFO(p);
    CHECK(std::any_of(records->begin(), records->end(), [](const store::AuditRecord& r) {
      return r.interaction == "search-type" && r.detail.find("/Provenance?") != std::string::npos;
    }));
  }
  // A search by an encounter lists the patients its Provenance name as targets.
  REQUIRE(env.get("/Provenance?target=Encounter/e1").status() == 200);
  REQUIRE(env.audit->flush());
  auto p1 = env.store->list_audit(0, 100, "p1");
  REQUIRE(p1.ok());
  CHECK(std::any_of(p1->begin(), p1->end(), [](const store::AuditRecord& r) {
    return r.detail.find("target=Encounter/e1") != std::string::npos;
  }));
}

TEST_CASE("fhir search: _revinclude=Provenance:target adds each match's current Provenance") {
  ProvenanceWorld w;
  RestEnv& env = w.env;
  auto includes = [&](const std::string& target) {
    Reply r = env.get(target);
    INFO(target << " -> " << r.r.body.substr(0, 1500));
    REQUIRE(r.status() == 200);
    Refs refs = entry_refs(r.json, "include");
    std::sort(refs.begin(), refs.end());
    return refs;
  };
  // p1's current version came from prov2 (prov1 wrote its first); p2's from prov4.
  CHECK(includes("/Patient?_id=p1,p2&_revinclude=Provenance:target") == Refs{"Provenance/prov2", "Provenance/prov4"});
  CHECK(includes("/Encounter?patient=p1&_revinclude=Provenance:target") == Refs{"Provenance/prov1"});
  // Every type of the plan: its Flags, Observations, Consent and CarePlan share prov3, once.
  for (const char* type : {"Flag", "Observation", "Consent", "CarePlan"}) {
    INFO(type);
    CHECK(includes(std::string("/") + type + "?patient=p1&_revinclude=Provenance:target") == Refs{"Provenance/prov3"});
  }
  // The included Provenance is the one a read gives: every target it produced.
  Reply r = env.get("/Encounter?patient=p1&_revinclude=Provenance:target");
  REQUIRE(r.status() == 200);
  Reply read = env.get("/Provenance/prov1");
  REQUIRE(read.status() == 200);
  bool found = false;
  for (const auto& e : r.json["entry"].GetArray()) {
    if (std::string(e["resource"]["resourceType"].GetString()) != "Provenance") continue;
    found = true;
    CHECK(e["resource"]["target"] == read.json["target"]);
    CHECK(e["resource"]["target"].Size() == 2);  // Patient/p1 (version 1) and Encounter/e1
  }
  CHECK(found);
  // With the matches' paging: one page's Provenance only.
  CHECK(includes("/Patient?_id=p1,p2&_count=1&_sort=_id&_revinclude=Provenance:target") == Refs{"Provenance/prov2"});
  // Without the Provenance scope the matches come back with a warning instead.
  Reply scoped = env.get("/Patient?_id=p1&_revinclude=Provenance:target", "pat");
  REQUIRE(scoped.status() == 200);
  CHECK(entry_refs(scoped.json, "include").empty());
  CHECK(scoped.r.body.find("lacks system/Provenance.read") != std::string::npos);
  // Only `target` is a Provenance reverse include here.
  CHECK(env.get("/Patient?_id=p1&_revinclude=Provenance:patient").status() == 400);
  // $everything already carries every page's Provenance and takes the parameter as such.
  Reply all = env.get("/Patient/p1/$everything?_revinclude=Provenance:target");
  REQUIRE(all.status() == 200);
  const Refs refs = entry_refs(all.json);
  for (const char* want : {"Provenance/prov1", "Provenance/prov2", "Provenance/prov3"}) {
    INFO(want);
    CHECK(std::count(refs.begin(), refs.end(), want) == 1);
  }
}

}  // namespace midhurst::server
