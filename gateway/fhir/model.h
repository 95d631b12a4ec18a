// fhir::Model: the shape of a FHIR version's types, as the JSON <-> XML converters need it.
//
// The model is data, generated once from the version's StructureDefinitions by fhir_modelgen
// (gateway/fhir/modelgen.cc) into a committed file, profiles/fhir-r4-model.json for R4, and loaded
// at run time. The code here knows no resource or type by name except the structural ones the
// FHIR formats themselves single out (Resource as the wrapper type, xhtml, Extension's url).
//
// File format ("midhurst-fhir-model/1"): {"format", "fhirVersion", "types": [TYPE...]} where TYPE is
//   {"name", "kind": "primitive"|"complex"|"resource"|"backbone", "base"?, "abstract"?,
//    "json"?: "string"|"boolean"|"number"|"xhtml"          (primitives: their JSON form),
//    "elements"?: ["name|Type1,Type2|flags", ...]}          (the others, in definition order)
// An element's name ends in "[x]" for a choice; its types are FHIR type names or, for a
// BackboneElement or contentReference, the name of a backbone type ("Patient.contact",
// "Bundle.link"). Flags: '*' the element repeats (max != "1"), '@' it is an XML attribute
// (Element.id, Extension.url). Inherited elements (Resource.id, DomainResource.text, Element.id,
// BackboneElement.modifierExtension) are listed in every type, as the snapshots list them.
//
// Thread-safety: a loaded Model is immutable; share it freely between threads. TypeDef and
// ElementDef pointers stay valid as long as the Model (moving the Model keeps them valid).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/error.h"

namespace midhurst::fhir {

// How a primitive's value is written in JSON (https://hl7.org/fhir/R4/json.html#primitive).
enum class JsonKind { kString, kBoolean, kNumber, kXhtml };

enum class TypeKind { kPrimitive, kComplex, kResource, kBackbone };

struct TypeDef;

struct ElementDef {
  std::string name;  // without "[x]": "value" for value[x]
  bool choice = false;
  bool repeats = false;
  bool xml_attribute = false;
  std::vector<const TypeDef*> types;  // exactly one unless `choice`
  // The JSON/XML name of this element holding `type`: `name`, or for a choice name + the
  // type name with its first letter upper-cased ("valueQuantity", "deceasedDateTime").
  std::string name_for(const TypeDef& type) const;
};

struct TypeDef {
  std::string name;
  TypeKind kind = TypeKind::kComplex;
  JsonKind json = JsonKind::kString;  // meaningful for primitives only
  bool is_abstract = false;
  std::vector<ElementDef> elements;  // in definition (= XML) order; empty for primitives

  // An element as it appears under a JSON/XML name. For "valueQuantity" returns
  // value[x] and sets *chosen to Quantity.
  struct Slot {
    const ElementDef* element = nullptr;
    const TypeDef* type = nullptr;
    size_t index = 0;  // position of `element` in `elements`
  };
  // nullptr iff the type has no element of that name. An open-addressing table: writers look
  // every member of every object up, so this is on the hot path of rendering and printing.
  const Slot* find(std::string_view json_name) const;

  bool is_primitive() const { return kind == TypeKind::kPrimitive; }
  // True for Resource and DomainResource: an element of this type holds any resource, wrapped in
  // XML in an element named after the field (https://hl7.org/fhir/R4/xml.html#resource-types).
  bool is_resource_wrapper() const { return kind == TypeKind::kResource && is_abstract; }

 private:
  friend class Model;
  void add_slot(std::string name, Slot slot);
  // Indexes the slots added; returns a name added twice ("" when none).
  std::string build_slot_table();
  static std::uint32_t slot_hash(std::string_view name);

  std::vector<std::string> slot_names_;
  std::vector<Slot> slots_;            // slots_[i] is named slot_names_[i]
  std::vector<std::uint16_t> table_;   // index + 1 into slots_, 0 when free; size a power of two
};

class Model {
 public:
  // Reads and checks a model file (format above). Errors: kIo, kSyntax, kModel (an unknown
  // type reference, a duplicate name, a bad element entry).
  static Result<Model> load_file(const std::string& path);
  // The same from text already in memory.
  static Result<Model> parse(std::string_view json_text);

  // The type of that name (primitive, complex, backbone or resource), or nullptr.
  const TypeDef* find(std::string_view name) const;
  // A concrete (non-abstract) resource type, or nullptr: what resourceType may name.
  const TypeDef* resource(std::string_view resource_type) const;

  const std::string& fhir_version() const { return fhir_version_; }
  size_t type_count() const { return types_.size(); }

 private:
  std::map<std::string, std::unique_ptr<TypeDef>, std::less<>> types_;
  std::string fhir_version_;
};

}  // namespace midhurst::fhir
