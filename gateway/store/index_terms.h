// The search terms of a care entity: what the search indexes hold for its current version.
//
// Backend-neutral, so SQLite and PostgreSQL index exactly the same terms and answer queries the
// same way. Parameters per type (names follow FHIR search parameter names where one exists):
//
//   all types         identifiers (system|value) of every Identifier the entity holds
//   Patient           name/family/given (strings), birthdate (date), gender, deceased (tokens),
//                     general-practitioner, organization, link (references)
//   RelatedPerson     patient; name; relationship (CodeableConcept codes), role (enum codes)
//   Organization      name; type; partof; the ODS code as identifier (ods-organization-code)
//   Practitioner      name/family/given
//   PractitionerRole  practitioner, organization; role, specialty
//   CareTeamMember    patient, practitioner, organization; role (enum), role-code
//   Encounter         patient, service-provider, participant; status, class; date (period)
//   Referral          patient, requester, performer, encounter; status, priority,
//                     service-type, category, reason; date (authoredOn)
//   Referral          also recipient-status (the recipient's status, served as Task.status;
//                     kAbsentCode when there is none)
//   EndOfLifePlan     patient, key-worker, care-team; date (createdAt); tokens for the EoL items:
//                     cpr-decision, respect-cpr, eol-register, consent, prognosis,
//                     preferred-place-of-death, preferred-place-of-care, actual-place-of-death,
//                     adrt, lpa, anticipatory-medicines, last-year-of-life, diagnosis
//                     (enum-valued items have system "" and the enum's JSON code); and `item`,
//                     whose codes are the care paths of the items present ("cprDecision",
//                     "preferredPlaceOfDeath[1]", "death.actualPlace", each position of
//                     "prognosis.awareness[n]", "functionalStatus.akpsScore" when scored): each
//                     renders FHIR resources of its own (a Flag, an Observation), found and
//                     counted by them in SQL;
//                     record-status: per item present, system = its care path, code = its
//                     recorded.status (kAbsentCode when it has none), served as Flag.status
//   Provenance        sender (token: system = application, code = facility), message-id
//
// References are indexed only when they carry a gateway id (a reference by business identifier
// is resolved before it is stored; see the gaps in FORMAT.md). Reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "care/types.h"

#include "store/any_entity.h"

namespace midhurst::store {

struct IndexTerms {
  struct Identifier { std::string system, value; };
  struct String { std::string param, value; };  // value normalised (normalise_text)
  struct Date { std::string param, lo, hi; };   // canonical instant range (time_range.h)
  struct Token { std::string param, system, code; };
  struct Ref { std::string param; care::EntityType target_type; std::string target_id; };
  std::vector<Identifier> identifiers;
  std::vector<String> strings;
  std::vector<Date> dates;
  std::vector<Token> tokens;
  std::vector<Ref> refs;
};

IndexTerms extract_terms(const AnyEntity& entity);

// Which care values the token terms hold, by care path (relative to the entity, list steps as
// `[]`, as mapping profiles write them), so that a search planner can turn a code of a rendered
// FHIR element back into store criteria from the profile that renders it. `value_param` names the
// token param holding the value at `path` (enum JSON codes with system "", CodeableConcept
// codings with their systems); "" when that value is not indexed.
std::string_view value_param(care::EntityType type, std::string_view path);

// The code a value term holds when the care value is absent (only where ValueTerm::absent_indexed):
// a profile's `default` then renders, and the store can still tell those entities apart.
inline constexpr std::string_view kAbsentCode = "(absent)";

// The token term holding the care value at `path`: its param, the system it is indexed under
// ("" for enum codes and booleans; the item's path for record-status), whether entities without
// the value are known (indexed as kAbsentCode, or the value is required), and every code it can
// hold when that set is closed (an enum or a boolean; empty for CodeableConcepts), so that a
// condition "not equals" can be turned into the codes left. nullopt when the value is not indexed.
struct ValueTerm {
  std::string_view param;
  std::string system;
  bool absent_indexed = false;
  std::vector<std::string> domain;
};
std::optional<ValueTerm> value_term(care::EntityType type, std::string_view path);
// The token param listing the optional items an entity holds (codes: care paths), and whether
// `path` is one of the items it lists for `type`.
inline constexpr std::string_view kItemParam = "item";
bool item_indexed(care::EntityType type, std::string_view path);

// Lower-case, with the accents of Latin-1 and Latin Extended-A letters removed ("Zoë Ó Súilleabháin"
// -> "zoe o suilleabhain", "ß" -> "ss"); other bytes unchanged. Names are indexed and searched
// in this form so that a search for "oneill" does not need to know the sender's spelling of case.
std::string normalise_text(std::string_view text);

// The smallest string greater than every string starting with `prefix` ("" when none exists):
// prefix search becomes the index range [prefix, prefix_successor(prefix)).
std::string prefix_successor(std::string_view prefix);

}  // namespace midhurst::store
