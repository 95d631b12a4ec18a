// The care→fhir engine: a care::Record in, a FHIR R4 transaction Bundle out, rendered by the
// care→fhir profiles of a ProfileSet (mappings/README.md, "care→fhir"). Like the hl7v2→care
// engine it knows paths, conditions, transforms and ConceptMaps, never Patient or PID.
//
// How a record is rendered (translate_to_fhir):
//  1. Profiles: every non-abstract care→fhir profile that no other loaded profile `extends` (a
//     site overlay replaces its base), in load order; or only options.profile.
//  2. Each resource rule runs once per value of its care source (one Patient per record, one
//     Organization per registered GP practice...). Its rules write typed JSON: strings, numbers
//     and booleans by the FHIR model's primitive kinds; dateTimes keep their offset and precision,
//     with ":00" seconds added to an hh:mm time because FHIR has no minute-only form. A resource
//     (and a group's element) is emitted only when some rule wrote a value read from the record.
//     A care Reference becomes a conditional reference by business identifier, else `Type/id`
//     (Type: the referenced entity type's primary resource, fhir_render.h); "@entity" is the
//     entity's own primary entry's fullUrl; resources reading "@referencedBy" (a Provenance)
//     come last and reference every other entry.
//  3. Members are put in FHIR definition order (resourceType first), so output is byte-identical
//     for the same input and profiles.
//  4. Entries (fhir/bundle.h): a resource with a business identifier (its rule's first `key` with
//     a value) is a conditional create (POST + ifNoneExist) or, with "request": "update", a
//     conditional update (PUT Type?identifier=SYSTEM|VALUE); without one, a plain POST. Two
//     resources with the same type and key are emitted once. fullUrl is a name-based
//     urn:uuid (version 8 layout, hash of type|system|value) so it is stable too.
//  5. Failures: a `required` rule without a value, or an `"unmapped": "reject"` code, fails the
//     whole translation (the issues say why); other failures (an unmapped code, a value a
//     transform cannot take, a second value for an element that holds one) leave the element
//     out with a warning.
//
//  6. The field ledger (FhirTranslation::ledger, only with options.ledger) says of every
//     populated care value whether a rule rendered it.
//
// The rule walker is shared with the read API's renderer (fhir_render_core.h, fhir_render.h).
//
// Thread-safety: reads the ProfileSet and the Record only; call from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "care/record.h"
#include "common/result.h"
#include "mapping/issue.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

struct FhirTranslateOptions {
  std::string profile;    // only this care→fhir profile ("" = every applicable one)
  std::string bundle_id;  // Bundle.id ("" = none)
  std::string timestamp;  // Bundle.timestamp, an instant with offset ("" = none: output then
                          // depends on the record and profiles only)
  bool ledger = false;    // fill FhirTranslation::ledger: a walk of the whole record that only
                          // tests and tools read, so it is asked for
};

// The care→fhir field ledger: every populated care field of the record (each scalar value, by
// its path with list indexes, e.g. "endOfLifePlan.wishes[1].text"; entity headers -- id, version,
// lastUpdated, provenance -- are not listed) and whether some rule rendered it. "Not rendered"
// means no rule read it, or the rules that read it wrote nothing (a code outside its ConceptMap).
// Entries are kept as path steps (a field name and list index under a parent step, names from the
// static care registry), so no path text is built unless the ledger is read.
struct FhirLedgerStep {
  static constexpr std::uint32_t kRoot = UINT32_MAX, kNoIndex = UINT32_MAX;
  std::uint32_t parent = kRoot;    // index in FhirLedger::steps; kRoot for an entity
  std::uint32_t index = kNoIndex;  // list position ("[n]"); kNoIndex for a single value
  std::string_view name;           // "patient", "names", "given"
};

struct FhirLedgerEntry {
  std::uint32_t step = 0;  // the value's last step in FhirLedger::steps
  bool rendered = false;
};

struct FhirLedger {
  std::vector<FhirLedgerStep> steps;
  std::vector<FhirLedgerEntry> entries;  // in record order
  // "endOfLifePlan.wishes[1].text"
  std::string path(const FhirLedgerEntry& e) const;
  // The paths rendered (true) or not (false).
  std::vector<std::string> fields(bool rendered) const;
  // {"rendered": [paths], "notRendered": [paths]}
  void to_json_value(rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) const;
};

struct FhirTranslation {
  rapidjson::Document bundle;  // the transaction Bundle
  MappingIssues issues;        // warnings: what was left out and why
  FhirLedger ledger;           // what of the record the Bundle holds (empty unless asked for)
  std::string to_json(bool pretty = false) const;
};

// The ledger of `record` given the care scalars and the whole structs (References) the rules
// rendered (their addresses, as the rule walker noted them; kept apart because a struct and its
// first member share an address).
FhirLedger fhir_ledger(const care::Record& record, std::vector<const void*> rendered,
                       std::vector<const void*> rendered_whole);

Result<FhirTranslation, MappingIssues> translate_to_fhir(const care::Record& record, const ProfileSet& set,
                                                         const FhirTranslateOptions& options = {});

}  // namespace midhurst::mapping
