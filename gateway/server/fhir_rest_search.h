// FHIR search → store::Query: which search parameters each served resource type takes, and
// how each is answered.
//
// Every parameter becomes criteria of the store's indexed Query (index_terms.h): _id,
// _lastUpdated, identifier, patient/subject, the references, names, birthdate, gender, the
// clinical date, and enum tokens whose care codes are the FHIR codes (Encounter and
// ServiceRequest status, priority). A comma (OR, `\,` a literal comma) becomes one of the
// Query's OR lists; a repeated parameter ANDs. A token whose codes the care model does not hold
// in FHIR form (Encounter class, Observation and Flag code and category, Task status...) is
// translated from the served rules that write the element (a constant code: the item the rule
// renders from; a code read from the record: that value, back through the rule's ConceptMap).
// The result can be wider than the matches (rule conditions, several resources per entity), so
// the rendered resource is then also checked (ResourceFilter); a rule whose codes cannot be
// traced (a group building the Coding, a transform) makes the entities holding its item
// candidates, and with no such item only the rendered check is made. Pages are full where the
// translation is tight and can otherwise hold fewer than _count matches; the keyset cursor
// still walks every entity exactly once.
//
// Searches run over the care entity type that renders the resource type (its primary rule's
// entity when there is one): a search for Flag pages over EndOfLifePlan entities and returns the
// Flags each renders.
//
// Pure functions (but resolve_provenance_targets, which reads the store); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.h"
#include "fhir/search_params.h"
#include "store/store.h"
#include "store/types.h"

namespace midhurst::mapping {
class FhirRenderer;
}

namespace midhurst::server {

// The search parameters a resource type takes (only the common ones when the type has no table).
const fhir::ParamKinds& search_param_kinds(std::string_view resource_type);
// Their names, sorted (for the CapabilityStatement check and error messages).
std::vector<std::string> search_param_names(std::string_view resource_type);

// A check on a rendered resource: some value of `element` matches one of `tokens`.
struct ResourceFilter {
  std::string param;    // for messages
  std::string element;  // top-level element: a code, Coding, CodeableConcept or Identifier (or an array)
  std::vector<fhir::TokenValue> tokens;
};
bool matches(const ResourceFilter& filter, const rapidjson::Value& resource);

struct PlannedSearch {
  store::Query query;
  std::vector<ResourceFilter> filters;
  std::vector<std::string> fhir_ids;  // _id: only these resource ids (empty = any)
  bool nothing = false;               // the criteria can match nothing (an _id that is not ours)
  // Provenance `target` and `patient`: ANDed criteria, each an OR list of the entities (version
  // 0: every version) whose Provenance match. resolve_provenance_targets() turns them into ids.
  std::vector<std::vector<store::VersionKey>> provenance_targets;
};

// Plans a search of `resource_type` (rendered from entity type `entity`). Errors: 400 text
// naming the parameter. `request.unknown` is the caller's business (strict or lenient).
Result<PlannedSearch, std::string> plan_search(std::string_view resource_type, care::EntityType entity,
                                               const fhir::SearchRequest& request,
                                               const mapping::FhirRenderer& renderer);

// Answers PlannedSearch::provenance_targets from the store (Store::provenances_of): the query's
// ids become the Provenance of every version of the criteria's entities (intersected with an _id
// list; none: `nothing`). Errors are (HTTP status, text): 400 when a target has more Provenance
// than one search takes (kMaxTargetProvenance), 500 when the store cannot be read.
inline constexpr int kMaxTargetProvenance = 5000;
Result<bool, std::pair<int, std::string>> resolve_provenance_targets(PlannedSearch* plan, store::Store& store);

// The patients a Provenance search names (`target=Patient/x`, `patient=x`): its audit lists them
// even when nothing matches.
std::vector<std::string> searched_patients(std::string_view resource_type, const fhir::SearchRequest& request);

// The total of a search as store counts: one Query per served rule rendering the type from
// `entity`, whose count is the number of its resources that match (each such rule renders at most
// one resource per entity; its item, its condition and the token criteria of this rule alone are
// in the Query; a status code list that inner rules render under different conditions: one Query
// per code), so the total is their signed sum (count_planned). A condition that an indexed item be
// absent (CarePlan.status `active`: no death recorded) is counted as all minus those holding it;
// a rule rendering one resource per list item (Observation: prognosis awareness) is counted per
// list position, each indexed as an item ("prognosis.awareness[0]"). nullopt when some rule's
// matches cannot be counted in SQL: a condition or a code the store does not index, an inexact
// translation. Cursor and count are ignored.
struct CountQuery {
  store::Query query;
  int sign = 1;           // -1: subtracted
  std::string list_item;  // per-item rules: count `query` with item "<list_item>[k]" for k = 0, 1... while any match
};
std::optional<std::vector<CountQuery>> plan_count(std::string_view resource_type, care::EntityType entity,
                                                 const fhir::SearchRequest& request,
                                                 const mapping::FhirRenderer& renderer);
// Runs a plan_count plan against the store.
Result<std::int64_t, store::StoreError> count_planned(store::Store& store, const std::vector<CountQuery>& queries);

// The element of a resource that holds the reference a search parameter follows (for
// _include and _revinclude): "patient" -> {"subject", "patient", "beneficiary", "for"}, ...
std::vector<std::string> reference_elements(std::string_view resource_type, std::string_view param);

}  // namespace midhurst::server
