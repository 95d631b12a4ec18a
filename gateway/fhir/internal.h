// Internal helpers shared by the fhir module's JSON and XML code. Not a public header.
#pragma once

#include <pugixml.hpp>
#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "fhir/error.h"
#include "fhir/model.h"

namespace midhurst::fhir::internal {

inline constexpr std::string_view kFhirNamespace = "http://hl7.org/fhir";
inline constexpr std::string_view kXhtmlNamespace = "http://www.w3.org/1999/xhtml";

// Lexical forms from the R4 primitive StructureDefinitions' regex extensions:
// decimal  -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// integer  -?([0]|([1-9][0-9]*))   (positiveInt and unsignedInt narrow it; that is validation)
bool is_fhir_decimal(std::string_view s);
bool is_fhir_integer(std::string_view s);
// The number-kind check for a primitive type: decimal for "decimal", integer otherwise.
bool is_number_text(const TypeDef& type, std::string_view s);

// The number held by `v` (a string per the json.h contract, or a rapidjson number) as text.
// Returns false if `v` is neither.
bool number_text(const rapidjson::Value& v, std::string* out);

// Appends `s` escaped for an XML attribute value (quote: ") or text. Tab, CR and LF are written
// as character references in attributes, since XML attribute-value normalisation would
// otherwise turn them into spaces. Returns false iff `s` holds a character XML 1.0 cannot carry
// (C0 controls other than tab, CR and LF).
bool append_xml_escaped(std::string& out, std::string_view s, bool attribute);

// The namespace URI of an element, resolved through xmlns / xmlns:p declarations on it and its
// ancestors ("" if none). `local` receives the name without prefix.
std::string_view element_namespace(pugi::xml_node element, std::string_view* local);

// True for attributes that are XML plumbing rather than FHIR content: xmlns, xmlns:*, and
// xsi:* (schemaLocation is common in published examples).
bool is_xml_plumbing_attribute(std::string_view name);

// Serialises an XHTML element and its content to text in one canonical form: double-quoted
// attributes in document order, `<br/>` for empty elements, only & < > (and " in attributes)
// escaped, comments and processing instructions dropped. If `add_xmlns` and the element has
// no xmlns attribute, xmlns="http://www.w3.org/1999/xhtml" is added (FHIR JSON requires it on
// the narrative div). Returns false iff text holds a character XML cannot carry.
bool serialize_xhtml(pugi::xml_node element, bool add_xmlns, std::string& out);

// Parses a narrative div given as text (JSON form). Succeeds iff it is well-formed XML whose
// only top-level node is a `div` element in the XHTML namespace (declared with xmlns on the div
// itself, as https://hl7.org/fhir/R4/narrative.html#xhtml requires). Reasons name the problem.
Status check_div_text(std::string_view text, pugi::xml_document& doc);

// Parse flags for FHIR XML: keep whitespace-only text (it matters inside the xhtml div), decode
// entities, and do not normalise whitespace inside attribute values (pugixml's default would
// turn a newline written as &#10; into a space... see append_xml_escaped).
inline constexpr unsigned kXmlParseFlags =
    pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol | pugi::parse_ws_pcdata;

// "line L, column C" for a byte offset in text.
std::string line_column(std::string_view text, size_t offset);

}  // namespace midhurst::fhir::internal
