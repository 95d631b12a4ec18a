#include "server/fhir_rest_search.h"

#include <algorithm>
#include <optional>
#include <set>
#include <variant>

#include "mapping/care_fhir_rule.h"
#include "mapping/fhir_render.h"
#include "store/index_terms.h"

namespace midhurst::server {
namespace {

using fhir::SearchParamType;

// How a parameter is answered.
enum class How {
  kId,           // Query.ids (resolved from FHIR ids)
  kLastUpdated,  // Query.last_updated
  kIdentifier,   // Query.identifier
  kPatient,      // Query.patient
  kReference,    // Query.references[store]
  kName,         // Query.name
  kFamily,
  kGiven,
  kBirthdate,
  kDate,         // Query.date: the entity's clinical date
  kGender,       // Query.gender
  kStoreToken,   // Query.tokens[store] (care codes are the FHIR codes)
  kResource,     // a ResourceFilter on `element`
  kTarget,       // PlannedSearch::provenance_targets (`store`: the one target type allowed, or any)
};

struct Rule {
  const char* name;
  SearchParamType type;
  How how;
  const char* store;    // store parameter (kReference, kStoreToken)
  const char* element;  // rendered element, for kResource and as the OR fallback of tokens
};

constexpr SearchParamType kTok = SearchParamType::kToken;
constexpr SearchParamType kRef = SearchParamType::kReference;
constexpr SearchParamType kStr = SearchParamType::kString;
constexpr SearchParamType kDat = SearchParamType::kDate;

// Every type takes these.
const std::vector<Rule> kCommon = {
    {"_id", kTok, How::kId, "", ""},
    {"_lastUpdated", kDat, How::kLastUpdated, "", ""},
    {"identifier", kTok, How::kIdentifier, "", "identifier"},
};

struct TypeRules {
  const char* type;
  std::vector<Rule> rules;
};

// FHIR R4 search parameter names (fhir-r4 search-parameters.json) per type, limited to what the
// store indexes or the rendered resource holds.
const std::vector<TypeRules> kTables = {
    {"Patient",
     {{"name", kStr, How::kName, "", ""},
      {"family", kStr, How::kFamily, "", ""},
      {"given", kStr, How::kGiven, "", ""},
      {"birthdate", kDat, How::kBirthdate, "", ""},
      {"gender", kTok, How::kGender, "", "gender"},
      {"general-practitioner", kRef, How::kReference, "general-practitioner", ""},
      {"organization", kRef, How::kReference, "organization", ""}}},
    {"Encounter",
     {{"patient", kRef, How::kPatient, "", ""},
      {"subject", kRef, How::kPatient, "", ""},
      {"status", kTok, How::kStoreToken, "status", "status"},
      {"class", kTok, How::kResource, "", "class"},
      {"date", kDat, How::kDate, "", ""},
      {"service-provider", kRef, How::kReference, "service-provider", ""},
      {"participant", kRef, How::kReference, "participant", ""}}},
    {"ServiceRequest",
     {{"patient", kRef, How::kPatient, "", ""},
      {"subject", kRef, How::kPatient, "", ""},
      {"status", kTok, How::kStoreToken, "status", "status"},
      {"priority", kTok, How::kStoreToken, "priority", "priority"},
      {"category", kTok, How::kResource, "", "category"},
      {"requester", kRef, How::kReference, "requester", ""},
      {"performer", kRef, How::kReference, "performer", ""},
      {"authored", kDat, How::kDate, "", ""}}},
    {"Task",
     {{"patient", kRef, How::kPatient, "", ""},
      {"status", kTok, How::kResource, "", "status"}}},
    {"Flag",
     {{"patient", kRef, How::kPatient, "", ""},
      {"subject", kRef, How::kPatient, "", ""},
      {"code", kTok, How::kResource, "", "code"},
      {"category", kTok, How::kResource, "", "category"},
      {"status", kTok, How::kResource, "", "status"}}},
    {"Observation",
     {{"patient", kRef, How::kPatient, "", ""},
      {"subject", kRef, How::kPatient, "", ""},
      {"code", kTok, How::kResource, "", "code"},
      {"category", kTok, How::kResource, "", "category"},
      {"status", kTok, How::kResource, "", "status"}}},
    {"Consent",
     {{"patient", kRef, How::kPatient, "", ""},
      {"status", kTok, How::kResource, "", "status"},
      {"category", kTok, How::kResource, "", "category"}}},
    {"CarePlan",
     {{"patient", kRef, How::kPatient, "", ""},
      {"subject", kRef, How::kPatient, "", ""},
      {"status", kTok, How::kResource, "", "status"},
      {"category", kTok, How::kResource, "", "category"}}},
    {"CareTeam",
     {{"patient", kRef, How::kPatient, "", ""},
      {"subject", kRef, How::kPatient, "", ""},
      {"status", kTok, How::kResource, "", "status"},
      {"category", kTok, How::kResource, "", "category"}}},
    {"RelatedPerson",
     {{"patient", kRef, How::kPatient, "", ""},
      {"name", kStr, How::kName, "", ""},
      {"relationship", kTok, How::kResource, "", "relationship"}}},
    {"Organization",
     {{"name", kStr, How::kName, "", ""},
      {"type", kTok, How::kResource, "", "type"},
      {"partof", kRef, How::kReference, "partof", ""}}},
    {"Practitioner",
     {{"name", kStr, How::kName, "", ""},
      {"family", kStr, How::kFamily, "", ""},
      {"given", kStr, How::kGiven, "", ""}}},
    {"PractitionerRole",
     {{"practitioner", kRef, How::kReference, "practitioner", ""},
      {"organization", kRef, How::kReference, "organization", ""},
      {"role", kTok, How::kResource, "", "code"},
      {"specialty", kTok, How::kResource, "", "specialty"}}},
    // R4 `patient` on Provenance is `target.where(resolve() is Patient)`: a target of type Patient.
    {"Provenance",
     {{"target", kRef, How::kTarget, "", ""},
      {"patient", kRef, How::kTarget, "Patient", ""}}},
};

const std::vector<Rule>* table(std::string_view type) {
  for (const TypeRules& t : kTables)
    if (type == t.type) return &t.rules;
  return nullptr;
}

const Rule* find_rule(std::string_view type, std::string_view name) {
  for (const Rule& r : kCommon)
    if (name == r.name) return &r;
  if (const auto* rules = table(type))
    for (const Rule& r : *rules)
      if (name == r.name) return &r;
  return nullptr;
}

store::DatePrefix store_prefix(fhir::DateComparator c) {
  switch (c) {
    case fhir::DateComparator::kEq: return store::DatePrefix::kEq;
    case fhir::DateComparator::kNe: return store::DatePrefix::kNe;
    case fhir::DateComparator::kLt: return store::DatePrefix::kLt;
    case fhir::DateComparator::kGt: return store::DatePrefix::kGt;
    case fhir::DateComparator::kLe: return store::DatePrefix::kLe;
    case fhir::DateComparator::kGe: return store::DatePrefix::kGe;
    // Stored values are points or single ranges: "starts after" the search range is "greater
    // than" it, "ends before" is "less than".
    case fhir::DateComparator::kSa: return store::DatePrefix::kGt;
    case fhir::DateComparator::kEb: return store::DatePrefix::kLt;
  }
  return store::DatePrefix::kEq;
}

// The gateway id a FHIR reference names: a derived id (Type/<entity>-<rule>) maps back to its
// entity, since the store indexes entity ids.
std::string entity_id_of(const fhir::ReferenceValue& ref, const mapping::FhirRenderer& renderer) {
  if (!ref.type.empty())
    for (const mapping::FhirIdTarget& t : renderer.resolve_id(ref.type, ref.id))
      if (t.rule && t.rule->primary) return t.entity_id;
  return ref.id;
}

bool coding_matches(const rapidjson::Value& coding, const fhir::TokenValue& t) {
  if (!coding.IsObject()) return false;
  auto str = [&](const char* k) -> std::string {
    auto m = coding.FindMember(k);
    return m != coding.MemberEnd() && m->value.IsString() ? std::string(m->value.GetString(), m->value.GetStringLength())
                                                          : std::string();
  };
  const std::string code = coding.HasMember("code") ? str("code") : str("value");  // Coding or Identifier
  if (t.system && *t.system != str("system")) return false;
  return t.code.empty() || t.code == code;
}

bool value_matches(const rapidjson::Value& v, const fhir::TokenValue& t) {
  if (v.IsArray()) {
    for (const auto& item : v.GetArray())
      if (value_matches(item, t)) return true;
    return false;
  }
  if (v.IsString()) return (!t.system || t.system->empty()) && t.code == std::string_view(v.GetString(), v.GetStringLength());
  if (!v.IsObject()) return false;
  if (auto c = v.FindMember("coding"); c != v.MemberEnd()) return value_matches(c->value, t);
  return coding_matches(v, t);
}

// --- Codes of rendered elements, back to care terms --------------------------------------------
// A token on an element the care model does not hold in FHIR form (Observation.code, Flag.category,
// Encounter.class through a ConceptMap) is turned into store criteria by reading the served rules
// that write the element: a constant code names the item the rule renders from (an `item` term),
// a code read from the record (through its ConceptMap, reversed) names the care value. The result
// is a superset of the entities rendering a match (rule conditions are not evaluated), so the
// rendered resource is still checked unless the mapping is one-to-one (`exact`).

// `t` against a `code` element (no system), as value_matches reads it.
bool token_matches_code(const fhir::TokenValue& t, std::string_view code) {
  return (!t.system || t.system->empty()) && !t.code.empty() && t.code == code;
}
// `t` against a Coding.
bool token_matches_coding(const fhir::TokenValue& t, std::string_view system, std::string_view code) {
  if (t.system && *t.system != system) return false;
  return t.code.empty() || t.code == code;
}

bool written_under(const mapping::CareFhirRule& r, const std::string& element) {
  if (r.target && !r.target->steps().empty() && r.target->steps()[0].name == element) return true;
  if (r.target) return false;
  for (const mapping::CareFhirRule& inner : r.rules)
    if (written_under(inner, element)) return true;
  return false;
}

using Cnf = std::vector<std::vector<store::TokenParam>>;  // ANDed OR lists, as store::Query takes them

// A care path of the rule's entity, from the compiled (entity-rooted, "eol.cprDecision") text.
std::optional<std::string> entity_relative(const std::string& text, const std::string& entity_path) {
  if (text == entity_path) return std::string();
  if (text.rfind(entity_path + ".", 0) != 0) return std::nullopt;
  return text.substr(entity_path.size() + 1);
}

// Store criteria that hold exactly for the entities where `c` holds; false when the store cannot
// say (a value it does not index, an "any" across values, a "not" over an open code set). With
// `absent` (counting only), an indexed item that must be absent ("no death recorded") is listed
// there instead: the store has no NOT, so the count subtracts the entities holding it.
bool condition_terms(care::EntityType entity, const mapping::CareCondition& c, const std::string& entity_path, Cnf* out,
                     std::vector<std::string>* absent = nullptr) {
  using Op = mapping::CareCondition::Op;
  if (c.op == Op::kAll) {
    for (const auto& child : c.children)
      if (!condition_terms(entity, child, entity_path, out, absent)) return false;
    return true;
  }
  if (c.op == Op::kAny) return false;
  // The codes a path condition admits, over the value's term; `negate` takes the others.
  auto codes = [&](const mapping::CareCondition& leaf, bool negate) -> bool {
    if (!leaf.path) return false;
    auto path = entity_relative(leaf.path->text(), entity_path);
    if (!path) return false;
    if (leaf.op == Op::kExists && leaf.exists != negate && store::item_indexed(entity, *path)) {
      out->push_back({{std::string(store::kItemParam), "", *path}});
      return true;
    }
    if (leaf.op == Op::kExists && leaf.exists == negate && absent && store::item_indexed(entity, *path)) {
      absent->push_back(*path);
      return true;
    }
    auto term = store::value_term(entity, *path);
    if (!term) return false;
    std::vector<std::string> admitted;
    if (leaf.op == Op::kExists) {
      if (term->domain.empty()) return false;
      admitted = term->domain;  // every code: the value exists
      negate = leaf.exists == negate;
    } else if (leaf.op == Op::kEquals || leaf.op == Op::kIn) {
      admitted = leaf.values;
    } else {
      return false;
    }
    std::vector<store::TokenParam> alts;
    auto add = [&](std::string code) { alts.push_back({std::string(term->param), term->system, std::move(code)}); };
    if (!negate) {
      for (const std::string& v : admitted) add(v);
    } else {
      if (term->domain.empty() || !term->absent_indexed) return false;
      for (const std::string& v : term->domain)
        if (std::find(admitted.begin(), admitted.end(), v) == admitted.end()) add(v);
      add(std::string(store::kAbsentCode));
    }
    out->push_back(std::move(alts));
    return true;
  };
  if (c.op == Op::kNot) {
    if (c.children.size() != 1) return false;
    const auto& child = c.children[0];
    if (child.op == Op::kAll || child.op == Op::kAny || child.op == Op::kNot) return false;
    return codes(child, true);
  }
  return codes(c, false);
}

class TermPlanner {
 public:
  // `per_rule`: plan for one rule's resources only (counting; see plan_count): its conditions then
  // become criteria rather than making the plan inexact.
  TermPlanner(care::EntityType entity, const std::string& element, const std::vector<fhir::TokenValue>& tokens,
              bool per_rule = false)
      : entity_(entity), element_(element), tokens_(tokens), per_rule_(per_rule) {}

  // The alternatives of one served rule; false when they cannot be known from the profile. A rule
  // whose codes cannot be traced (a group building the Coding, a transform) makes every entity
  // holding its item a candidate.
  bool add(const mapping::ServedRule& served) {
    if (!served.rule) return false;
    const std::size_t before = alts_.size();
    const bool every_before = every_;
    std::string base;
    if (trace(served, &base)) return true;
    alts_.resize(before);
    exact_ = false;
    every_ = every_before;
    for (std::string item = base; !item.empty(); item = parent_path(item)) {
      if (store::item_indexed(entity_, item)) {
        alt(store::kItemParam, "", item);
        return true;
      }
    }
    return false;
  }

  std::vector<store::TokenParam> alternatives() const { return alts_; }
  // Further criteria (per-rule plans: the condition of the inner rule writing the match).
  const Cnf& conditions() const { return cnf_; }
  // Per-rule plans: indexed items the inner rule's condition needs absent (condition_terms).
  const std::vector<std::string>& absent() const { return absent_; }
  bool exact() const { return exact_; }
  bool every() const { return every_; }
  void inexact() { exact_ = false; }

 private:
  // "prognosis.awareness[]" -> "prognosis.awareness" -> "prognosis" -> "".
  static std::string parent_path(std::string path) {
    if (!path.empty() && path.back() == ']') return path.substr(0, path.rfind('['));
    const std::size_t dot = path.rfind('.');
    return dot == std::string::npos ? std::string() : path.substr(0, dot);
  }

  bool trace(const mapping::ServedRule& served, std::string* base_out) {
    const mapping::CareFhirRule& r = *served.rule;
    // The rule's source relative to the entity: "" for the entity itself.
    auto base = entity_relative(r.source_text, served.entity_path);
    if (!base) return false;
    *base_out = *base;
    if (r.when && !per_rule_) exact_ = false;
    bool found = false;
    int hits = 0;
    for (const mapping::CareFhirRule& inner : r.rules) {
      if (!inner.target) {
        if (written_under(inner, element_)) return false;  // a group writing into the resource
        continue;
      }
      const auto& steps = inner.target->steps();
      if (steps.empty() || steps[0].name != element_) continue;
      if (steps.size() > 1) {
        // code.text and the like do not change what a token matches.
        if (steps.back().name == "text" || steps.back().name == "display") continue;
        return false;
      }
      if (!inner.rules.empty()) return false;
      const bool as_code = steps[0].type && steps[0].type->name == "code";
      bool hit = false;
      if (!leaf(inner, served.entity_path, *base, as_code, &hit)) return false;
      if (per_rule_) {
        // One inner rule renders the match: its condition, as criteria, makes the plan exact.
        if (hit && ++hits > 1) exact_ = false;
        if (hit && inner.when && !condition_terms(entity_, *inner.when, served.entity_path, &cnf_, &absent_))
          exact_ = false;
      } else if (found || inner.when) {
        exact_ = false;
      }
      found = true;
    }
    return true;
  }

  void alt(std::string_view param, std::string system, std::string code) {
    store::TokenParam t{std::string(param), std::move(system), std::move(code)};
    for (const auto& a : alts_)
      if (a.param == t.param && a.system == t.system && a.code == t.code) return;
    alts_.push_back(std::move(t));
  }

  bool leaf(const mapping::CareFhirRule& inner, const std::string& entity_path, const std::string& base,
            bool as_code, bool* hit_out) {
    if (inner.coding_value || inner.value) {
      bool hit = false;
      for (const fhir::TokenValue& t : tokens_) {
        if (inner.coding_value) {
          hit = hit || (as_code ? token_matches_code(t, inner.coding_value->code)
                                : token_matches_coding(t, inner.coding_value->system, inner.coding_value->code));
        } else if (const auto* text = std::get_if<std::string>(&*inner.value)) {
          hit = hit || token_matches_code(t, *text);
        } else {
          return false;
        }
      }
      if (!hit) return true;
      *hit_out = true;
      // Every resource of the rule matches: the entities holding the item it renders from (every
      // entity, for a rule rendering the entity itself: nothing for the store to filter). A
      // per-rule plan's caller restricts to the rule's item (or list positions) itself.
      if (base.empty() || per_rule_) {
        every_ = true;
        return true;
      }
      if (!store::item_indexed(entity_, base)) return false;
      alt(store::kItemParam, "", base);
      return true;
    }
    if (!inner.source || !inner.transforms.empty() || inner.care_reference || !inner.reference_type.empty() ||
        inner.referenced_by || inner.self_reference)
      return false;
    // A compiled source is the full path from the entity ("eol.cprDecision.decision").
    std::string path = inner.source_text;
    if (path.rfind(entity_path + ".", 0) != 0) return false;
    path.erase(0, entity_path.size() + 1);
    const std::optional<store::ValueTerm> term = store::value_term(entity_, path);
    if (inner.default_value) {
      // Written when the record has no value: the entities without it are candidates if it
      // matches (exactly those, where the store indexes the value's absence).
      const auto* text = std::get_if<std::string>(&*inner.default_value);
      if (!text) return false;
      std::string code = *text, system;
      if (inner.concept_map) {
        auto t = inner.concept_map->translate(code);
        if (t.kind == mapping::ConceptMap::Translation::Kind::kUnmapped) return false;
        code = t.coding.code;
        system = t.coding.system;
      }
      bool hit = false;
      for (const fhir::TokenValue& t : tokens_)
        hit = hit || (as_code ? token_matches_code(t, code) : token_matches_coding(t, system, code));
      if (hit) {
        *hit_out = true;
        if (term && term->absent_indexed) {
          alt(term->param, term->system, std::string(store::kAbsentCode));
        } else if (base.empty()) {
          every_ = true;
          exact_ = false;
        } else {
          if (!store::item_indexed(entity_, base)) return false;
          alt(store::kItemParam, "", base);
          exact_ = false;
        }
      }
    }
    if (!term) return false;
    const std::size_t before = alts_.size();
    if (inner.concept_map) {
      if (inner.unmapped == mapping::CareFhirRule::Unmapped::kKeep) return false;
      const auto& groups = inner.concept_map->groups();
      if (groups.size() != 1) exact_ = false;  // the first group holding a code wins
      for (const auto& g : groups) {
        if (g.unmapped != mapping::ConceptMap::Group::Unmapped::kNone) return false;
        for (const auto& [care_code, target] : g.elements)
          for (const fhir::TokenValue& t : tokens_)
            if (as_code ? token_matches_code(t, target.code) : token_matches_coding(t, g.target, target.code))
              alt(term->param, term->system, care_code);
      }
    } else {
      // The care value as it is: an enum code (a `code` element), or codings with their systems.
      for (const fhir::TokenValue& t : tokens_) {
        if (as_code) {
          // Any code without a system (never the marker of an absent value).
          if (token_matches_code(t, t.code) && t.code != store::kAbsentCode) alt(term->param, term->system, t.code);
        } else {
          if (t.code.empty() && (!t.system || t.system->empty())) return false;
          if (t.system && t.system->empty()) exact_ = false;  // `|code`: the store cannot say "no system"
          alt(term->param, t.system.value_or(""), t.code);
        }
      }
    }
    if (alts_.size() != before) *hit_out = true;
    return true;
  }

  care::EntityType entity_;
  const std::string& element_;
  const std::vector<fhir::TokenValue>& tokens_;
  bool per_rule_ = false;
  std::vector<store::TokenParam> alts_;
  Cnf cnf_;
  std::vector<std::string> absent_;
  bool exact_ = true;
  bool every_ = false;
};

// The store criterion for a token on a rendered element of `resource_type` (an OR list, empty when
// no entity can match), or nullopt when the profiles do not say; `exact` when the rendered check
// is then redundant (one resource per entity, one rule writing the element, no condition).
std::optional<std::vector<store::TokenParam>> rendered_token_terms(std::string_view resource_type, care::EntityType entity,
                                                                   const std::string& element,
                                                                   const std::vector<fhir::TokenValue>& tokens,
                                                                   const mapping::FhirRenderer& renderer, bool* exact) {
  TermPlanner planner(entity, element, tokens);
  const auto rules = renderer.rules_for(resource_type);
  if (rules.size() != 1 || !rules[0]->primary || rules[0]->per_item) planner.inexact();
  for (const mapping::ServedRule* rule : rules) {
    if (rule->entity != entity) continue;  // never rendered by this search
    if (!planner.add(*rule)) return std::nullopt;
  }
  if (planner.every()) return std::nullopt;
  *exact = planner.exact();
  return planner.alternatives();
}

// The same for the resources of one rule: the criteria (ANDed OR lists; none when every resource
// of the rule matches, one empty list when none can) and the items that must be absent, or
// nullopt when they would not be exact.
struct RuleTerms {
  Cnf cnf;
  std::vector<std::string> absent;
};
std::optional<RuleTerms> rule_token_terms(const mapping::ServedRule& rule, const std::string& element,
                                          const std::vector<fhir::TokenValue>& tokens) {
  TermPlanner planner(rule.entity, element, tokens, true);
  if (!planner.add(rule) || !planner.exact()) return std::nullopt;
  RuleTerms out{planner.conditions(), planner.absent()};
  if (!planner.every()) out.cnf.insert(out.cnf.begin(), planner.alternatives());
  return out;
}

}  // namespace

const fhir::ParamKinds& search_param_kinds(std::string_view resource_type) {
  // Built once: every search and every $summary section asks.
  static const auto* const by_type = [] {
    auto* made = new std::map<std::string, fhir::ParamKinds, std::less<>>();
    for (const TypeRules& t : kTables) {
      fhir::ParamKinds& kinds = (*made)[t.type];
      for (const Rule& r : kCommon) kinds.emplace(r.name, r.type);
      for (const Rule& r : t.rules) kinds.emplace(r.name, r.type);
    }
    return made;
  }();
  static const fhir::ParamKinds* const common = [] {
    auto* kinds = new fhir::ParamKinds();
    for (const Rule& r : kCommon) kinds->emplace(r.name, r.type);
    return kinds;
  }();
  auto it = by_type->find(resource_type);
  return it != by_type->end() ? it->second : *common;
}

std::vector<std::string> search_param_names(std::string_view resource_type) {
  std::vector<std::string> names;
  for (const auto& [name, type] : search_param_kinds(resource_type)) names.push_back(name);
  return names;
}

bool matches(const ResourceFilter& filter, const rapidjson::Value& resource) {
  auto m = resource.FindMember(filter.element.c_str());
  if (m == resource.MemberEnd()) return false;
  for (const fhir::TokenValue& t : filter.tokens)
    if (value_matches(m->value, t)) return true;
  return false;
}

namespace {

// Enum codes indexed without a system: a plain code list goes to the store as it is.
bool plain_codes(const fhir::SearchParam& p) {
  for (const fhir::TokenValue& t : p.tokens)
    if (t.system || t.code.empty()) return false;
  return true;
}

// A token answered from the codes of the rendered element (TermPlanner) rather than a store term.
bool on_rendered_element(const Rule& rule, const fhir::SearchParam& p) {
  if (rule.how == How::kResource) return true;
  return (rule.how == How::kGender || rule.how == How::kStoreToken) && !plain_codes(p);
}

// A list of distinct plain codes on a `status` element: FHIR resources hold one status code, so
// each code matches resources none of the others does.
bool disjoint_status_codes(const Rule& rule, const fhir::SearchParam& p) {
  if (std::string_view(rule.element) != "status" || !plain_codes(p)) return false;
  std::set<std::string> codes;
  for (const fhir::TokenValue& t : p.tokens)
    if (!codes.insert(t.code).second) return false;
  return true;
}

struct PlanOptions {
  bool skip_rendered = false;  // leave the tokens on rendered elements out (plan_count adds its own)
};

Result<PlannedSearch, std::string> plan(std::string_view resource_type, care::EntityType entity,
                                        const fhir::SearchRequest& request, const mapping::FhirRenderer& renderer,
                                        PlanOptions options) {
  PlannedSearch plan;
  store::Query& q = plan.query;
  q.type = entity;
  if (request.count) q.count = *request.count;
  q.cursor = request.cursor;
  if (request.sort.size() > 1) return err(std::string("_sort: only one sort key is supported"));
  if (!request.sort.empty()) {
    const fhir::SortKey& k = request.sort[0];
    if (k.param == "_lastUpdated") q.sort = k.descending ? store::SortOrder::kLastUpdatedDesc : store::SortOrder::kLastUpdated;
    else if (k.param == "_id" && !k.descending) q.sort = store::SortOrder::kId;
    else return err("_sort=" + std::string(k.descending ? "-" : "") + k.param +
                    ": supported sort keys are _lastUpdated, -_lastUpdated and _id");
  }

  // A token on a rendered element: store criteria from the profiles where they can be derived,
  // and the check on the rendered resource unless those are exact.
  auto rendered = [&](const fhir::SearchParam& p, const Rule& rule) {
    if (options.skip_rendered) return;
    bool exact = false;
    auto terms = rendered_token_terms(resource_type, entity, rule.element, p.tokens, renderer, &exact);
    if (terms) q.any_tokens.push_back(std::move(*terms));
    if (!terms || !exact) plan.filters.push_back({p.name, rule.element, p.tokens});
  };

  for (const fhir::SearchParam& p : request.params) {
    const Rule* rule = find_rule(resource_type, p.name);
    if (!rule) return err(p.name + ": not a search parameter of " + std::string(resource_type));
    switch (rule->how) {
      case How::kId: {
        std::set<std::string> entity_ids;
        for (const fhir::TokenValue& t : p.tokens) {
          plan.fhir_ids.push_back(t.code);
          for (const mapping::FhirIdTarget& target : renderer.resolve_id(resource_type, t.code))
            if (target.rule && target.rule->entity == entity) entity_ids.insert(target.entity_id);
        }
        if (entity_ids.empty()) plan.nothing = true;
        // A repeated _id ANDs: keep only ids both name.
        if (!q.ids.empty()) {
          std::vector<std::string> both;
          for (const std::string& id : q.ids)
            if (entity_ids.count(id)) both.push_back(id);
          q.ids = both;
          if (both.empty()) plan.nothing = true;
        } else {
          q.ids.assign(entity_ids.begin(), entity_ids.end());
        }
        break;
      }
      case How::kLastUpdated:
        q.last_updated.push_back({store_prefix(p.dates[0].comparator), p.dates[0].value});
        break;
      case How::kBirthdate:
        q.birthdate.push_back({store_prefix(p.dates[0].comparator), p.dates[0].value});
        break;
      case How::kDate:
        q.date.push_back({store_prefix(p.dates[0].comparator), p.dates[0].value});
        break;
      case How::kIdentifier: {
        for (const fhir::TokenValue& t : p.tokens)
          if (t.code.empty() && (!t.system || t.system->empty()))
            return err(p.name + ": a system or a value is required");
        const fhir::TokenValue& first = p.tokens[0];
        if (p.tokens.size() == 1 && !first.code.empty() && !q.identifier) {
          q.identifier = std::make_pair(first.system.value_or(""), first.code);
        } else {
          std::vector<store::IdentifierParam> any;
          for (const fhir::TokenValue& t : p.tokens) any.push_back({t.system.value_or(""), t.code});
          q.any_identifiers.push_back(std::move(any));
        }
        break;
      }
      case How::kPatient: {
        std::vector<std::string> ids;
        for (const fhir::ReferenceValue& ref : p.references) {
          if (!ref.type.empty() && ref.type != "Patient") return err(p.name + ": must reference a Patient");
          ids.push_back(ref.id);
        }
        if (ids.size() == 1 && q.patient.empty()) q.patient = ids[0];
        else if (ids.size() == 1 && q.patient != ids[0]) plan.nothing = true;
        else if (ids.size() > 1) q.any_patients.push_back(std::move(ids));
        break;
      }
      case How::kReference: {
        if (p.references.size() == 1) {
          q.references.emplace_back(rule->store, entity_id_of(p.references[0], renderer));
        } else {
          std::vector<store::ReferenceParam> any;
          for (const fhir::ReferenceValue& ref : p.references) any.push_back({rule->store, entity_id_of(ref, renderer)});
          q.any_references.push_back(std::move(any));
        }
        break;
      }
      case How::kName:
      case How::kFamily:
      case How::kGiven: {
        const char* param = rule->how == How::kName ? "name" : rule->how == How::kFamily ? "family" : "given";
        std::string& field = rule->how == How::kName ? q.name : rule->how == How::kFamily ? q.family : q.given;
        if (p.strings.size() == 1 && field.empty()) {
          field = p.strings[0];
        } else {
          std::vector<store::StringParam> any;
          for (const std::string& v : p.strings) any.push_back({param, v});
          q.any_strings.push_back(std::move(any));
        }
        break;
      }
      case How::kGender:
      case How::kStoreToken: {
        const std::string store_param = rule->how == How::kGender ? "gender" : rule->store;
        if (!plain_codes(p)) {
          rendered(p, *rule);
        } else if (p.tokens.size() == 1 && rule->how == How::kGender && q.gender.empty()) {
          q.gender = p.tokens[0].code;
        } else if (p.tokens.size() == 1) {
          q.tokens.push_back({store_param, "", p.tokens[0].code});
        } else {
          std::vector<store::TokenParam> any;
          for (const fhir::TokenValue& t : p.tokens) any.push_back({store_param, "", t.code});
          q.any_tokens.push_back(std::move(any));
        }
        break;
      }
      case How::kResource:
        rendered(p, *rule);
        break;
      case How::kTarget: {
        // Each alternative names the entity its resource renders from (a Flag: its end-of-life
        // plan), whose versions' Provenance are the matches.
        const std::string only = rule->store;
        std::vector<store::VersionKey> any;
        for (const fhir::ReferenceValue& ref : p.references) {
          if (!only.empty() && !ref.type.empty() && ref.type != only) return err(p.name + ": must reference a " + only);
          const std::string type = ref.type.empty() ? only : ref.type;
          if (type.empty()) return err(p.name + "=" + ref.id + ": give the target's type (Type/id)");
          for (const mapping::FhirIdTarget& t : renderer.resolve_id(type, ref.id)) {
            if (!t.rule) continue;
            store::VersionKey key{t.rule->entity, t.entity_id, 0};
            if (std::find(any.begin(), any.end(), key) == any.end()) any.push_back(std::move(key));
          }
        }
        plan.provenance_targets.push_back(std::move(any));
        break;
      }
    }
  }
  return plan;
}

}  // namespace

Result<PlannedSearch, std::string> plan_search(std::string_view resource_type, care::EntityType entity,
                                               const fhir::SearchRequest& request,
                                               const mapping::FhirRenderer& renderer) {
  return plan(resource_type, entity, request, renderer, {});
}

Result<bool, std::pair<int, std::string>> resolve_provenance_targets(PlannedSearch* plan, store::Store& store) {
  std::optional<std::set<std::string>> ids;  // nullopt: no criterion yet
  if (!plan->query.ids.empty()) ids.emplace(plan->query.ids.begin(), plan->query.ids.end());
  for (const auto& any : plan->provenance_targets) {
    std::set<std::string> found;
    for (const store::VersionKey& k : any) {
      auto got = store.provenances_of(k.type, k.id, kMaxTargetProvenance + 1);
      if (!got) return err(std::make_pair(500, got.error().message));
      if (got->size() > static_cast<std::size_t>(kMaxTargetProvenance))
        return err(std::make_pair(400, std::string(store::type_name(k.type)) + " " + k.id + " has more than " +
                                           std::to_string(kMaxTargetProvenance) +
                                           " Provenance, more than one search takes"));
      found.insert(got->begin(), got->end());
    }
    if (ids) std::erase_if(found, [&](const std::string& id) { return ids->count(id) == 0; });
    ids = std::move(found);
  }
  if (!ids) return true;
  plan->query.ids.assign(ids->begin(), ids->end());
  if (ids->empty()) plan->nothing = true;
  return true;
}

std::vector<std::string> searched_patients(std::string_view resource_type, const fhir::SearchRequest& request) {
  std::vector<std::string> out;
  if (resource_type != "Provenance") return out;
  for (const fhir::SearchParam& p : request.params) {
    if (p.name != "target" && p.name != "patient") continue;
    for (const fhir::ReferenceValue& ref : p.references)
      if ((ref.type == "Patient" || (ref.type.empty() && p.name == "patient")) &&
          std::find(out.begin(), out.end(), ref.id) == out.end())
        out.push_back(ref.id);
  }
  return out;
}

std::optional<std::vector<CountQuery>> plan_count(std::string_view resource_type, care::EntityType entity,
                                                 const fhir::SearchRequest& request,
                                                 const mapping::FhirRenderer& renderer) {
  auto base = plan(resource_type, entity, request, renderer, {.skip_rendered = true});
  if (!base || base->nothing) return std::nullopt;
  if (!base->provenance_targets.empty()) return std::nullopt;  // ids from the store: the caller counts
  int id_params = 0;
  for (const fhir::SearchParam& p : request.params) id_params += p.name == "_id";
  if (id_params > 1) return std::nullopt;  // an AND of _id lists: left to the rendered check
  // Items that must be absent become signed counts (inclusion-exclusion over them); a few at most.
  constexpr std::size_t kMaxAbsent = 3;
  std::vector<CountQuery> out;
  auto emit = [&](const store::Query& q, const std::string& list_item, const std::vector<std::string>& absent) {
    std::vector<std::string> items;
    for (const std::string& a : absent)
      if (std::find(items.begin(), items.end(), a) == items.end()) items.push_back(a);
    if (items.size() > kMaxAbsent) return false;
    for (unsigned subset = 0; subset < (1u << items.size()); ++subset) {
      CountQuery c{q, 1, list_item};
      for (std::size_t i = 0; i < items.size(); ++i)
        if (subset & (1u << i)) {
          c.query.any_tokens.push_back({{std::string(store::kItemParam), "", items[i]}});
          c.sign = -c.sign;
        }
      out.push_back(std::move(c));
    }
    return true;
  };
  for (const mapping::ServedRule* rule : renderer.rules_for(resource_type)) {
    if (rule->entity != entity) continue;  // never rendered by this search
    if (!rule->rule) return std::nullopt;
    store::Query q = base->query;
    q.cursor.clear();
    // The entities this rule renders a resource for: those holding its item, where its condition
    // holds (a rule rendering the entity itself: every entity).
    auto item = entity_relative(rule->rule->source_text, rule->entity_path);
    if (!item) return std::nullopt;
    std::string list_item;
    if (rule->per_item) {
      // One resource per list item: counted position by position ("prognosis.awareness[0]", [1]...,
      // each an item term of its own), the caller summing while any entity holds the position. A
      // condition is evaluated per item, which the store cannot.
      if (!item->ends_with("[]") || rule->rule->when) return std::nullopt;
      list_item = item->substr(0, item->size() - 2);
      if (!store::item_indexed(entity, list_item + "[0]")) return std::nullopt;
    } else if (!item->empty()) {
      if (!store::item_indexed(entity, *item)) return std::nullopt;
      q.any_tokens.push_back({{std::string(store::kItemParam), "", *item}});
    }
    std::vector<std::string> absent;
    if (rule->rule->when && !condition_terms(entity, *rule->rule->when, rule->entity_path, &q.any_tokens, &absent))
      return std::nullopt;
    bool none = false;
    // A code list on a status (one code per resource, so its codes match disjoint resources) that
    // different inner rules render under different conditions is counted code by code.
    std::vector<RuleTerms> split;
    for (const fhir::SearchParam& p : request.params) {
      const Rule* r = find_rule(resource_type, p.name);
      if (!r || !on_rendered_element(*r, p)) continue;
      auto terms = rule_token_terms(*rule, r->element, p.tokens);
      if (!terms) {
        if (!split.empty() || !disjoint_status_codes(*r, p)) return std::nullopt;
        for (const fhir::TokenValue& t : p.tokens) {
          auto one = rule_token_terms(*rule, r->element, {t});
          if (!one) return std::nullopt;
          split.push_back(std::move(*one));
        }
        continue;
      }
      for (auto& alts : terms->cnf) {
        none = none || alts.empty();
        q.any_tokens.push_back(std::move(alts));
      }
      absent.insert(absent.end(), terms->absent.begin(), terms->absent.end());
    }
    if (!base->fhir_ids.empty()) {
      // _id: the entities whose resource of this rule has one of the ids.
      if (rule->per_item) return std::nullopt;  // an id names one position: left to the rendered check
      std::set<std::string> ids;
      for (const std::string& fid : base->fhir_ids)
        for (const mapping::FhirIdTarget& t : renderer.resolve_id(resource_type, fid))
          if (t.rule == rule) ids.insert(t.entity_id);
      q.ids.assign(ids.begin(), ids.end());
      none = none || ids.empty();
    }
    if (none) continue;
    if (split.empty()) {
      if (!emit(q, list_item, absent)) return std::nullopt;
      continue;
    }
    for (RuleTerms& terms : split) {
      store::Query one = q;
      bool empty = false;
      for (auto& alts : terms.cnf) {
        empty = empty || alts.empty();
        one.any_tokens.push_back(std::move(alts));
      }
      std::vector<std::string> all_absent = absent;
      all_absent.insert(all_absent.end(), terms.absent.begin(), terms.absent.end());
      if (!empty && !emit(one, list_item, all_absent)) return std::nullopt;
    }
  }
  return out;
}

Result<std::int64_t, store::StoreError> count_planned(store::Store& store, const std::vector<CountQuery>& queries) {
  // Positions past the longest list a store holds: a bound, not a limit any plan reaches.
  constexpr int kMaxPositions = 1000;
  std::int64_t total = 0;
  for (const CountQuery& c : queries) {
    if (c.list_item.empty()) {
      auto n = store.count(c.query);
      if (!n) return err(n.error());
      total += c.sign * *n;
      continue;
    }
    for (int k = 0; k < kMaxPositions; ++k) {
      store::Query q = c.query;
      q.any_tokens.push_back({{std::string(store::kItemParam), "", c.list_item + "[" + std::to_string(k) + "]"}});
      auto n = store.count(q);
      if (!n) return err(n.error());
      if (*n == 0) break;  // a list holding position k holds every position before it
      total += c.sign * *n;
    }
  }
  return total;
}

std::vector<std::string> reference_elements(std::string_view resource_type, std::string_view param) {
  if (param == "patient" || param == "subject") {
    if (resource_type == "Patient") return {};
    return {"subject", "patient", "for", "beneficiary"};
  }
  if (param == "general-practitioner") return {"generalPractitioner"};
  if (param == "organization")
    return resource_type == "Patient" ? std::vector<std::string>{"managingOrganization"}
                                      : std::vector<std::string>{"organization"};
  if (param == "requester") return {"requester"};
  if (param == "performer") return {"performer"};
  if (param == "service-provider") return {"serviceProvider"};
  if (param == "practitioner") return {"practitioner"};
  if (param == "partof") return {"partOf"};
  if (param == "participant") return {"participant"};
  if (param == "target") return {"target"};
  return {};
}

}  // namespace midhurst::server
