// FHIR JSON in Midhurst: parsing, printing and comparing resources held as RapidJSON values.
//
// Representation contract (every function in the fhir module relies on it):
//  * A resource is a rapidjson object with a "resourceType" member, exactly as in FHIR JSON
//    (https://hl7.org/fhir/R4/json.html).
//  * JSON numbers are held as rapidjson *strings* carrying the number's exact source text, so a
//    decimal keeps its precision and form: 1.50 stays "1.50", 1e3 stays "1e3"
//    (FHIR decimals are arbitrary precision; a double would print 1.5). parse_json() produces
//    this form, xml_to_json() too, and write_json() prints such strings back as JSON numbers
//    for elements whose FHIR type is a number (decimal, integer, positiveInt, unsignedInt).
//    Code that builds values may also use real rapidjson numbers; the printers accept both.
//  * Booleans are rapidjson booleans; strings are UTF-8.
// The cost of the contract: after parse_json(), a decimal written as a JSON string ("1.5"
// quoted, which FHIR forbids) cannot be told from one written as a number. Flagging that is a
// validation concern; the converters accept both.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "fhir/error.h"
#include "fhir/model.h"

namespace midhurst::fhir {

// Parses JSON text into a document that follows the representation contract above. Checks only
// JSON itself: well-formed UTF-8 JSON (kSyntax, reason with line and column) and no duplicate
// member names in any object (kStructure: FHIR JSON forbids them and XML could not keep both).
// Does not need a model and does not check FHIR element names; json_to_xml() and write_json() do.
Result<rapidjson::Document> parse_json(std::string_view text);

struct JsonWriteOptions {
  // Two-space indentation and one member per line. Default false: compact, one line.
  bool pretty = false;
};

// Prints a resource as FHIR JSON text, numbers as numbers (see the contract above). Members keep
// their order in `resource`. Errors (with the element path): kUnknownType, kUnknownElement,
// kStructure, kInvalidValue (a number-typed element whose text is not a JSON number, a
// boolean-typed element that is not a boolean). REQUIRES: `resource` outlives the call only.
Result<std::string> write_json(const rapidjson::Value& resource, const Model& model,
                               const JsonWriteOptions& options = {});

// The compact text rapidjson::Writer prints for `v` (the same bytes: members in order, strings
// escaped as it escapes them), written faster: unescaped runs of a string are copied whole and
// numbers formatted without a stream. nullopt when `v` holds a double, whose text is left to
// rapidjson. Not FHIR-aware (numbers held as strings stay strings); for documents built as FHIR
// JSON already, like the care→fhir Bundle.
std::optional<std::string> write_compact_json(const rapidjson::Value& v);

// Semantic equality of two FHIR JSON values: objects compare as unordered member sets, arrays in
// order, numbers by their text whether held as numbers or as strings ("1.50" != "1.5"), and a
// narrative "div" string by its XHTML content (attributes unordered, quoting, character
// references and empty-element form ignored). Returns true iff equal; otherwise, if
// `difference` is non-null, sets it to the first differing path and why.
bool json_equivalent(const rapidjson::Value& a, const rapidjson::Value& b,
                     std::string* difference = nullptr);

}  // namespace midhurst::fhir
