// extract_terms (index_terms.h): one function per entity type, listing its search terms.
#include "store/index_terms.h"

#include <type_traits>

#include "care/codes.h"
#include "store/time_range.h"

namespace midhurst::store {

namespace {

template <class E>
std::string enum_code(E e) {
  return std::string(care::describe_enum(e).values[static_cast<std::size_t>(e)].code);
}

class Collector {
 public:
  explicit Collector(IndexTerms* t) : t_(t) {}

  void identifier(const care::Identifier& i) {
    if (!i.value.empty()) t_->identifiers.push_back({i.system, i.value});
  }
  void identifier(std::string_view system, const std::string& value) {
    if (!value.empty()) t_->identifiers.push_back({std::string(system), value});
  }
  void identifiers(const std::vector<care::Identifier>& v) {
    for (const auto& i : v) identifier(i);
  }
  void name(const care::HumanName& n) {
    add_string("family", n.family);
    for (const auto& g : n.given) add_string("given", g);
    add_string("name", n.family);
    for (const auto& g : n.given) add_string("name", g);
    add_string("name", n.text);
  }
  void names(const std::vector<care::HumanName>& v) {
    for (const auto& n : v) name(n);
  }
  void add_string(const char* param, const std::string& value) {
    if (!value.empty()) t_->strings.push_back({param, normalise_text(value)});
  }
  void date(const char* param, const std::string& value) {
    if (auto r = date_range(value)) t_->dates.push_back({param, r->lo, r->hi});
  }
  void period(const char* param, const std::optional<care::Period>& p) {
    if (!p) return;
    auto lo = date_range(p->start);
    auto hi = date_range(p->end);
    if (!lo && !hi) return;
    // An open end is unbounded on that side (FHIR: an ongoing encounter overlaps any later date).
    t_->dates.push_back({param, lo ? lo->lo : std::string("0000-01-01T00:00:00.000Z"),
                         hi ? hi->hi : std::string("9999-12-31T23:59:59.999Z")});
  }
  void token(const char* param, std::string system, std::string code) {
    if (!code.empty()) t_->tokens.push_back({param, std::move(system), std::move(code)});
  }
  template <class E>
  void enum_token(const char* param, const std::optional<E>& e) {
    if (e) token(param, "", enum_code(*e));
  }
  template <class E>
  void enum_token(const char* param, const E& e) {
    token(param, "", enum_code(e));
  }
  void coded(const char* param, const std::optional<care::CodeableConcept>& c) {
    if (c) coded(param, *c);
  }
  void coded(const char* param, const care::CodeableConcept& c) {
    for (const auto& coding : c.codings) token(param, coding.system, coding.code);
  }
  void codeds(const char* param, const std::vector<care::CodeableConcept>& v) {
    for (const auto& c : v) coded(param, c);
  }
  void ref(const char* param, const care::Reference& r) {
    if (!r.id.empty()) t_->refs.push_back({param, r.type, r.id});
  }
  void ref(const char* param, const std::optional<care::Reference>& r) {
    if (r) ref(param, *r);
  }
  void refs(const char* param, const std::vector<care::Reference>& v) {
    for (const auto& r : v) ref(param, r);
  }
  void place(const char* param, const std::optional<care::PlaceChoice>& p) {
    if (!p) return;
    enum_token(param, p->location_type);
    coded(param, p->code);
  }

 private:
  IndexTerms* t_;
};

void collect(Collector& c, const care::Patient& p) {
  if (p.nhs_number) c.identifier(care::codes::kNhsNumber, p.nhs_number->value);
  c.identifiers(p.identifiers);
  c.names(p.names);
  c.date("birthdate", p.birth_date);
  c.enum_token("gender", p.gender);
  if (p.deceased) c.token("deceased", "", *p.deceased ? "true" : "false");
  if (p.registered_gp) {
    c.ref("general-practitioner", p.registered_gp->practitioner);
    c.ref("general-practitioner", p.registered_gp->practice);
    if (!p.registered_gp->practice_ods.empty())
      c.token("gp-practice", std::string(care::codes::kOdsOrganization), p.registered_gp->practice_ods);
  }
  c.ref("link", p.replaced_by);
  c.refs("link", p.replaces);
}

void collect(Collector& c, const care::RelatedPerson& r) {
  c.ref("patient", r.patient);
  if (r.name) c.name(*r.name);
  c.codeds("relationship", r.relationships);
  for (auto role : r.roles) c.enum_token("role", role);
}

void collect(Collector& c, const care::Organization& o) {
  c.identifier(care::codes::kOdsOrganization, o.ods_code);
  c.identifiers(o.identifiers);
  c.add_string("name", o.name);
  c.coded("type", o.type);
  c.ref("partof", o.part_of);
}

void collect(Collector& c, const care::Practitioner& p) {
  c.identifiers(p.identifiers);
  c.names(p.names);
}

void collect(Collector& c, const care::PractitionerRole& r) {
  c.identifiers(r.identifiers);
  c.ref("practitioner", r.practitioner);
  c.ref("organization", r.organization);
  c.codeds("role", r.roles);
  c.codeds("specialty", r.specialties);
}

void collect(Collector& c, const care::CareTeamMember& m) {
  c.ref("patient", m.patient);
  c.ref("practitioner", m.practitioner);
  c.ref("organization", m.organization);
  c.enum_token("role", m.role);
  c.coded("role-code", m.role_code);
  c.period("date", m.period);
}

void collect(Collector& c, const care::Encounter& e) {
  c.identifiers(e.identifiers);
  c.ref("patient", e.patient);
  c.ref("service-provider", e.service_provider);
  for (const auto& p : e.participants) c.ref("participant", p.practitioner);
  c.enum_token("status", e.status);
  c.enum_token("class", e.encounter_class);
  c.period("date", e.period);
}

void collect(Collector& c, const care::Referral& r) {
  c.identifiers(r.identifiers);
  c.ref("patient", r.patient);
  c.ref("requester", r.requester.organization);
  c.ref("requester", r.requester.practitioner);
  c.ref("performer", r.recipient.organization);
  c.ref("performer", r.recipient.practitioner);
  c.ref("encounter", r.encounter);
  c.enum_token("status", r.status);
  // Absent: Task.status is the profile's default (value_term's absent_indexed).
  if (r.recipient_status) c.enum_token("recipient-status", r.recipient_status);
  else c.token("recipient-status", "", std::string(kAbsentCode));
  c.enum_token("priority", r.priority);
  c.coded("service-type", r.service_type);
  c.codeds("category", r.categories);
  c.codeds("reason", r.reasons);
  c.date("date", r.authored_on);
}

// The optional items of a plan by care path (kItemParam), with each item's record-status term
// (system: the item's path). Keep in step with kPlanItems below.
void items(Collector& c, const care::EndOfLifePlan& p) {
  const std::string item(kItemParam);
  auto has = [&](bool present, std::string path) {
    if (present) c.token(item.c_str(), "", std::move(path));
  };
  // An item present: its `item` term and its recorded.status (kAbsentCode when it has none).
  auto held = [&](const auto& value, std::string path) {
    if (!value) return;
    const auto& recorded = value->recorded;
    c.token("record-status", path,
            recorded && recorded->status ? enum_code(*recorded->status) : std::string(kAbsentCode));
    has(true, std::move(path));
  };
  has(p.recorded.has_value(), "recorded");
  held(p.eol_register, "eolRegister");
  held(p.consent_to_share, "consentToShare");
  held(p.primary_diagnosis, "primaryDiagnosis");
  held(p.prognosis, "prognosis");
  has(p.prognosis && !p.prognosis->awareness.empty(), "prognosis.awareness");
  // Each awareness finding renders an Observation of its own: one term per list position lets the
  // store count them (an entity holding position n holds every position before it).
  if (p.prognosis)
    for (std::size_t i = 0; i < p.prognosis->awareness.size(); ++i)
      has(true, "prognosis.awareness[" + std::to_string(i) + "]");
  held(p.surprise_question, "surpriseQuestion");
  held(p.functional_status, "functionalStatus");
  // The AKPS Observation renders only with a score (its rule's condition).
  has(p.functional_status && p.functional_status->akps_score.has_value(), "functionalStatus.akpsScore");
  held(p.carer, "carer");
  held(p.preferred_place_of_care, "preferredPlaceOfCare");
  for (std::size_t i = 0; i < p.preferred_place_of_death.size(); ++i)
    held(&p.preferred_place_of_death[i], "preferredPlaceOfDeath[" + std::to_string(i) + "]");
  held(p.cpr_decision, "cprDecision");
  held(p.respect, "respect");
  held(p.adrt, "adrt");
  held(p.advance_statement, "advanceStatement");
  held(p.lpa_health_welfare, "lpaHealthWelfare");
  held(p.anticipatory_medicines, "anticipatoryMedicines");
  held(p.last_year_of_life, "lastYearOfLife");
  held(p.death, "death");
  held(p.death && p.death->actual_place ? &*p.death->actual_place : nullptr, "death.actualPlace");
}

void collect(Collector& c, const care::EndOfLifePlan& p) {
  c.ref("patient", p.patient);
  c.ref("key-worker", p.key_worker);
  c.refs("care-team", p.care_team);
  c.date("date", p.created_at);
  if (p.cpr_decision) c.enum_token("cpr-decision", p.cpr_decision->decision);
  if (p.respect) c.enum_token("respect-cpr", p.respect->cpr_recommendation);
  if (p.eol_register) c.token("eol-register", "", p.eol_register->on_register ? "true" : "false");
  if (p.consent_to_share) c.enum_token("consent", p.consent_to_share->decision);
  if (p.prognosis) c.enum_token("prognosis", p.prognosis->category);
  c.place("preferred-place-of-care", p.preferred_place_of_care);
  for (const auto& place : p.preferred_place_of_death)
    c.place("preferred-place-of-death", std::optional<care::PlaceChoice>(place));
  if (p.death) c.place("actual-place-of-death", p.death->actual_place);
  if (p.adrt) {
    c.token("adrt", "", p.adrt->present ? "true" : "false");
    c.enum_token("adrt", p.adrt->type);
  }
  if (p.lpa_health_welfare) c.enum_token("lpa", p.lpa_health_welfare->authority);
  if (p.anticipatory_medicines) c.enum_token("anticipatory-medicines", p.anticipatory_medicines->status);
  if (p.last_year_of_life)
    c.token("last-year-of-life", "", p.last_year_of_life->identified ? "true" : "false");
  if (p.primary_diagnosis) c.coded("diagnosis", p.primary_diagnosis->code);
  for (const auto& d : p.other_diagnoses) c.coded("diagnosis", d.code);
  items(c, p);
}

void collect(Collector& c, const care::Provenance& p) {
  c.token("sender", p.sender.application, p.sender.organization_ods);
  c.token("message-id", "", p.message_id);
}

// Every code of an enum, or of a boolean (ValueTerm::domain).
template <class E>
std::vector<std::string> codes_of() {
  std::vector<std::string> out;
  for (const auto& v : care::describe_enum(E{}).values) out.emplace_back(v.code);
  return out;
}
std::vector<std::string> booleans() { return {"true", "false"}; }

struct ValuePath {
  care::EntityType type;
  std::string_view path, param;
  std::vector<std::string> (*domain)() = nullptr;  // closed code sets only
  bool always = false;                             // a required value: never absent
  bool absent = false;                             // an absent value is indexed as kAbsentCode
};

// The token terms above whose value is exactly the care value at a path (value_term).
const ValuePath kValuePaths[] = {
    {care::EntityType::kPatient, "gender", "gender"},
    {care::EntityType::kRelatedPerson, "relationships[]", "relationship"},
    {care::EntityType::kRelatedPerson, "roles[]", "role"},
    {care::EntityType::kOrganization, "type", "type"},
    {care::EntityType::kPractitionerRole, "roles[]", "role"},
    {care::EntityType::kPractitionerRole, "specialties[]", "specialty"},
    {care::EntityType::kCareTeamMember, "role", "role"},
    {care::EntityType::kCareTeamMember, "roleCode", "role-code"},
    {care::EntityType::kEncounter, "status", "status", codes_of<care::EncounterStatus>, true},
    {care::EntityType::kEncounter, "class", "class", codes_of<care::EncounterClass>, true},
    {care::EntityType::kReferral, "status", "status", codes_of<care::ReferralStatus>, true},
    {care::EntityType::kReferral, "recipientStatus", "recipient-status", codes_of<care::RecipientStatus>, false, true},
    {care::EntityType::kReferral, "priority", "priority", codes_of<care::ReferralPriority>, true},
    {care::EntityType::kReferral, "serviceType", "service-type"},
    {care::EntityType::kReferral, "categories[]", "category"},
    {care::EntityType::kReferral, "reasons[]", "reason"},
    {care::EntityType::kEndOfLifePlan, "cprDecision.decision", "cpr-decision", codes_of<care::CprDecisionCode>, true},
    {care::EntityType::kEndOfLifePlan, "respect.cprRecommendation", "respect-cpr"},
    {care::EntityType::kEndOfLifePlan, "consentToShare.decision", "consent", codes_of<care::ConsentDecision>, true},
    {care::EntityType::kEndOfLifePlan, "prognosis.category", "prognosis", codes_of<care::PrognosisCategory>},
    {care::EntityType::kEndOfLifePlan, "adrt.type", "adrt"},
    {care::EntityType::kEndOfLifePlan, "lpaHealthWelfare.authority", "lpa"},
    {care::EntityType::kEndOfLifePlan, "anticipatoryMedicines.status", "anticipatory-medicines"},
    // The booleans share their item's param with its other codes, which are never "true"/"false".
    {care::EntityType::kEndOfLifePlan, "eolRegister.onRegister", "eol-register", booleans, true},
    {care::EntityType::kEndOfLifePlan, "adrt.present", "adrt", booleans, true},
    {care::EntityType::kEndOfLifePlan, "lastYearOfLife.identified", "last-year-of-life", booleans, true},
};

// The item paths items() lists; list positions are checked by form ("name[n]").
constexpr std::string_view kPlanItems[] = {
    "recorded", "eolRegister", "consentToShare", "primaryDiagnosis", "prognosis", "prognosis.awareness",
    "surpriseQuestion", "functionalStatus", "functionalStatus.akpsScore", "carer", "preferredPlaceOfCare", "cprDecision",
    "respect", "adrt", "advanceStatement", "lpaHealthWelfare", "anticipatoryMedicines",
    "lastYearOfLife", "death", "death.actualPlace",
};

}  // namespace

std::string_view value_param(care::EntityType type, std::string_view path) {
  auto t = value_term(type, path);
  return t && t->system.empty() ? t->param : std::string_view();
}

std::optional<ValueTerm> value_term(care::EntityType type, std::string_view path) {
  for (const ValuePath& v : kValuePaths)
    if (v.type == type && v.path == path) {
      ValueTerm t{v.param, "", false, v.domain ? v.domain() : std::vector<std::string>()};
      if (v.always || v.absent) t.absent_indexed = true;  // (always: nothing absent to tell apart)
      return t;
    }
  // "<item>.recorded.status": the record-status term under the item's path.
  constexpr std::string_view suffix = ".recorded.status";
  if (path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix) {
    const std::string_view item = path.substr(0, path.size() - suffix.size());
    if (item != "recorded" && !item.starts_with("prognosis.awareness") && item_indexed(type, item))
      return ValueTerm{"record-status", std::string(item), true, codes_of<care::RecordStatus>()};
  }
  return std::nullopt;
}

bool item_indexed(care::EntityType type, std::string_view path) {
  if (type != care::EntityType::kEndOfLifePlan) return false;
  for (std::string_view p : kPlanItems)
    if (p == path) return true;
  for (std::string_view list : {std::string_view("preferredPlaceOfDeath["), std::string_view("prognosis.awareness[")}) {
    if (path.size() > list.size() + 1 && path.substr(0, list.size()) == list && path.back() == ']') {
      std::string_view n = path.substr(list.size(), path.size() - list.size() - 1);
      return n.size() <= 3 && n.find_first_not_of("0123456789") == std::string_view::npos;
    }
  }
  return false;
}

IndexTerms extract_terms(const AnyEntity& entity) {
  IndexTerms terms;
  Collector c(&terms);
  std::visit([&](const auto& e) { collect(c, e); }, entity);
  return terms;
}

}  // namespace midhurst::store
