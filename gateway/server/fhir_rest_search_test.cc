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
    writes.push_back(EntityWrite::put(plan));
  }
  return writes;
}

}  // namespace

TEST_CASE("fhir search: _summary=count and Bundle.total are exact for Flag, Consent, CarePlan and Task") {
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
  // Observations include one per prognosis-awareness finding (one resource per list item): the
  // store cannot count them, so _summary=count walks the pages and searchset pages carry no total.
  const Refs obs = every_match(env, "Observation", "/Observation?patient=p2&_count=2");
  CHECK(total(env, "/Observation?patient=p2&_summary=count") == static_cast<std::int64_t>(obs.size()));
  CHECK_FALSE(env.get("/Observation?patient=p2&_count=2").json.HasMember("total"));
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
  for (const store::Query& q : *counts) {
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
