// fhir::validate: checks a resource (json.h representation) against StructureDefinitions of a
// ProfileSet and reports what is wrong as an Issue list (issue.h), which operation_outcome.h turns
// into an OperationOutcome.
//
// Which definitions: the profile named by `profile_url`, or, when it is empty, the base
// definition of the resource's type plus every profile its meta.profile names that the set
// knows (an unknown one is reported with options.unknown_profile severity). Resources nested in
// the resource (contained, Bundle.entry.resource, Parameters.parameter.resource) are validated
// the same way, against their own type and meta.profile.
//
// What is checked, at every element (locations as in issue.h, "Patient.identifier[0].system"):
//  * structure: members the type does not define, an array where one value belongs and the
//    reverse, a JSON value of the wrong kind for a primitive (boolean, number, string) or an
//    object for a complex type; a choice element's type among those the profile allows;
//  * cardinality (min and max) of every element and of every slice;
//  * fixed[x] (exact, json_equivalent) and pattern[x] (the value contains the pattern);
//  * bindings to ValueSets the set ships, on code, Coding and CodeableConcept (for a
//    CodeableConcept one coding in the set suffices): required -> error, extensible and
//    preferred -> warning. A ValueSet we do not ship, or a system included by filter or as a
//    whole code system we do not ship (SNOMED CT), is not checked: see CodeSet;
//  * slicing: items are assigned to slices by the discriminators (value/pattern on a path such
//    as `system`, `coding.system`, `url` or `$this`; exists); an item that matches no slice of a
//    closed slicing is an error; each matched item is checked against its slice;
//  * extensions: one whose url a slice names is checked against that slice; otherwise, if the
//    set has a definition for the url, against that definition (its value[x] type, its
//    sub-extensions, fixed url); an unknown url is reported with options.unknown_extension.
// Not checked (documented gaps): FHIRPath invariants (constraint), Reference target types,
// primitive lexical forms beyond the JSON kind (dates, ids: regexes), type discriminators and
// profile discriminators, base R4 ValueSets (R4's valuesets.json is not in profiles/).
//
// Thread-safety: pure; call concurrently with one ProfileSet.
#pragma once

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

#include "fhir/issue.h"
#include "fhir/profile_set.h"

namespace midhurst::fhir {

struct ValidationOptions {
  // An extension whose url no loaded definition and no slice names. Default warning: FHIR lets
  // anyone define extensions, and inbound data carries ones we cannot know. Midhurst checking
  // its own output uses kError: everything it emits must be defined (see strict()).
  Severity unknown_extension = Severity::kWarning;
  // A meta.profile entry the set does not hold. Default warning, for the same reason.
  Severity unknown_profile = Severity::kWarning;
  // The settings for resources Midhurst itself emits: unknown extensions and profiles are errors.
  static ValidationOptions strict() { return {Severity::kError, Severity::kError}; }
};

// Validates `resource` (an object with resourceType). `profile_url` empty: base type plus
// meta.profile (see above); otherwise that profile only (with the base it derives from), and an
// unknown profile_url is an error. Returns the issues, deduplicated, in document order of
// discovery; empty iff nothing was found. Never fails: problems that stop validation (not an
// object, unknown resourceType) are issues too.
std::vector<Issue> validate(const rapidjson::Value& resource, const ProfileSet& profiles,
                            std::string_view profile_url = {},
                            const ValidationOptions& options = {});

}  // namespace midhurst::fhir
