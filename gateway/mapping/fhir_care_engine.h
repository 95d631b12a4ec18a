// The fhir→care engine: a FHIR R4 resource or Bundle in, care entities (care::Record) plus
// Provenance, issues and the field ledger out, by the fhir→care profiles of a ProfileSet
// (mappings/README.md, "fhir→care profiles"). It knows FHIR paths, conditions, transforms and
// ConceptMaps, never Patient or ServiceRequest by name.
//
// How an input is mapped (translate_from_fhir):
//  1. Resources: the input itself, or every entry.resource of a Bundle (any type: transaction,
//     collection...). Entries are indexed by fullUrl and Type/id so references between them
//     resolve.
//  2. Profiles: every non-abstract fhir→care profile that no loaded profile `extends` (a site
//     overlay replaces its base), in load order; or only options.profile.
//  3. Each resource rule takes the resources of its type (in input order) that claim its
//     `profile` (meta.profile) and satisfy its `when`, and maps each into its care target. Inner
//     rules read FHIR values, run transforms and ConceptMaps, and write care fields; a group runs
//     once per value of its source and, with a target ending in [], appends one element per run,
//     kept only when complete and some rule wrote a value read from the input.
//  4. Failures: a `required` rule without a value, or a failing value of a required or
//     `"invalid": "reject"` rule (a bad NHS number), rejects the input (accepted = false); other
//     failures leave that field out with a warning. Issues carry the FHIR location
//     (Bundle.entry[1].resource.identifier[0].value) and the care path.
//  5. Provenance: format fhir, the Bundle's (or resource's) id as message id, its type, the
//     profile, the received time, and the sender: what the profile's rules read (the default
//     profile reads an input Provenance's agent), else the input's meta.source as the
//     application, else options.sender, field by field. The ledger: every primitive value of the input as mapped (by
//     which rules), ignored (the profile's `ignore`: element paths such as "Patient.text") or
//     unread; the Bundle's own structure (type, fullUrl, request) is the engine's "(bundle)".
//
// Thread-safety: reads the ProfileSet and the input only; call from many threads.
#pragma once

#include <string>

#include <rapidjson/document.h>

#include "care/types.h"
#include "mapping/engine.h"
#include "mapping/profile.h"

namespace midhurst::mapping {

struct FhirCareOptions {
  std::string profile;      // only this fhir→care profile ("" = every applicable one)
  std::string received_at;  // dateTime with offset for Provenance; "" = now (UTC)
  std::string journal_id;
  // The client that sent the input, as far as the caller knows it (an authenticated system, the
  // operator's --sender): Provenance.sender where the input says nothing of its own sender.
  care::SourceSystem sender;
};

Translation translate_from_fhir(const ProfileSet& set, const rapidjson::Value& input,
                                const FhirCareOptions& options = {});

}  // namespace midhurst::mapping
