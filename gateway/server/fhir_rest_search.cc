#include "server/fhir_rest_search.h"

#include <algorithm>
#include <set>

#include "mapping/fhir_render.h"

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
    {"Provenance", {}},
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

}  // namespace

fhir::ParamKinds search_param_kinds(std::string_view resource_type) {
  fhir::ParamKinds kinds;
  for (const Rule& r : kCommon) kinds.emplace(r.name, r.type);
  if (const auto* rules = table(resource_type))
    for (const Rule& r : *rules) kinds.emplace(r.name, r.type);
  return kinds;
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

Result<PlannedSearch, std::string> plan_search(std::string_view resource_type, care::EntityType entity,
                                               const fhir::SearchRequest& request,
                                               const mapping::FhirRenderer& renderer) {
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

  auto single = [](const fhir::SearchParam& p, std::size_t n) -> Result<bool, std::string> {
    if (n != 1) return err(p.name + ": several values joined by ',' are not supported for this parameter");
    return true;
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
      case How::kIdentifier:
        if (p.tokens.size() == 1 && !q.identifier) {
          const fhir::TokenValue& t = p.tokens[0];
          if (t.code.empty()) return err(p.name + ": a value is required (system| alone is not supported)");
          q.identifier = std::make_pair(t.system.value_or(""), t.code);
        } else {
          plan.filters.push_back({p.name, rule->element, p.tokens});
        }
        break;
      case How::kPatient:
      case How::kReference: {
        if (auto ok = single(p, p.references.size()); !ok) return err(ok.error());
        const fhir::ReferenceValue& ref = p.references[0];
        if (rule->how == How::kPatient) {
          if (!ref.type.empty() && ref.type != "Patient") return err(p.name + ": must reference a Patient");
          if (!q.patient.empty() && q.patient != ref.id) plan.nothing = true;
          q.patient = ref.id;
        } else {
          q.references.emplace_back(rule->store, entity_id_of(ref, renderer));
        }
        break;
      }
      case How::kName:
      case How::kFamily:
      case How::kGiven: {
        if (auto ok = single(p, p.strings.size()); !ok) return err(ok.error());
        std::string& field = rule->how == How::kName ? q.name : rule->how == How::kFamily ? q.family : q.given;
        if (!field.empty()) return err(p.name + ": given twice; only one value is supported");
        field = p.strings[0];
        break;
      }
      case How::kGender:
        if (p.tokens.size() == 1 && q.gender.empty()) q.gender = p.tokens[0].code;
        else plan.filters.push_back({p.name, rule->element, p.tokens});
        break;
      case How::kStoreToken:
        // Enum codes are indexed without a system: a system given by the client is checked on
        // the rendered resource rather than dropped.
        if (p.tokens.size() == 1 && !p.tokens[0].system && !p.tokens[0].code.empty())
          q.tokens.push_back({rule->store, "", p.tokens[0].code});
        else
          plan.filters.push_back({p.name, rule->element, p.tokens});
        break;
      case How::kResource:
        plan.filters.push_back({p.name, rule->element, p.tokens});
        break;
    }
  }
  return plan;
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
