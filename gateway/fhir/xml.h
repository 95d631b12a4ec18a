// FHIR XML <-> FHIR JSON, by the rules of https://hl7.org/fhir/R4/xml.html.
//
// Both directions are driven by a Model (model.h): XML needs element order and JSON needs to
// know which elements repeat and which primitives are booleans or numbers, neither of which the
// other format carries. What the rules amount to:
//  * namespace http://hl7.org/fhir; the root element is named after the resourceType;
//  * primitives carry their value in a `value` attribute; their id and extensions (JSON
//    `_field`) become an `id` attribute and `extension` children of the same element, and in
//    repeating primitives `field[i]` and `_field[i]` describe the same XML element;
//  * Element.id and Extension.url are attributes; everything else is a child element, in the
//    order of the StructureDefinition; a repeating element is repeated XML elements;
//  * choice elements keep their type suffix (valueQuantity);
//  * a resource inside a resource (contained, Bundle.entry.resource, Parameters...resource) is
//    wrapped in an element named after the field: <contained><Patient>...</Patient></contained>;
//  * the narrative div is XHTML (namespace http://www.w3.org/1999/xhtml) embedded as XML in XML,
//    and a string in JSON.
//
// Lossless, not valid: the converters refuse what they cannot carry across (unknown elements,
// a single-valued element given twice, a malformed boolean or number, text content in a FHIR
// element, a wrong namespace), and nothing else. Required elements, value sets and invariants
// are the validator's business.
//
// Both functions are pure: safe to call concurrently with the same Model.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "fhir/error.h"
#include "fhir/model.h"

namespace midhurst::fhir {

struct XmlWriteOptions {
  // Indent nested elements by two spaces, one element per line. The narrative div is copied
  // as it is either way, since whitespace inside XHTML is content. Default false: one line.
  bool pretty = false;
};

// Converts a resource (json.h representation) to FHIR XML text, UTF-8, without an XML
// declaration. Errors, each with the element path:
//  kStructure       resource without resourceType, array for a single-valued element or the
//                   reverse, an empty array, null outside a primitive array, two types of one
//                   choice element, misaligned `field`/`_field` arrays
//  kUnknownType     resourceType (also of a contained resource) the model does not know
//  kUnknownElement  a member the element's type does not define
//  kInvalidValue    a boolean element that is not true/false, a number element whose text is
//                   not a FHIR decimal/integer, a string with a character XML cannot carry
//  kSyntax, kNamespace  a narrative div that is not well-formed XHTML in the XHTML namespace
Result<std::string> json_to_xml(const rapidjson::Value& resource, const Model& model,
                                const XmlWriteOptions& options = {});

struct XmlReadOptions {
  // Element order is part of FHIR XML. Default true: an element out of the StructureDefinition
  // order is an error (kStructure, naming the element and the one it must precede), because it
  // is how a broken sender shows itself. false: accept any order (JSON has none), still
  // grouping repeated elements into one array.
  bool strict_order = true;
};

// Converts FHIR XML text to a resource document (json.h representation: numbers as exact text).
// Comments and whitespace between elements are ignored. Errors, each with the element path:
//  kSyntax          not well-formed XML ("line L, column C")
//  kNamespace       an element outside http://hl7.org/fhir (the root included), or a narrative
//                   div outside the XHTML namespace
//  kUnknownType     the root or a wrapped resource is no resource the model knows
//  kUnknownElement  an element or attribute the type does not define
//  kStructure       a single-valued element repeated, order (see strict_order), text content
//                   in a FHIR element, an empty
//                   primitive (no value, id or extension), a resource wrapper without exactly
//                   one resource inside
//  kInvalidValue    a boolean other than true/false, a malformed decimal or integer
Result<rapidjson::Document> xml_to_json(std::string_view xml, const Model& model,
                                        const XmlReadOptions& options = {});

}  // namespace midhurst::fhir
