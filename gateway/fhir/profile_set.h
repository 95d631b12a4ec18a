// fhir::ProfileSet: the StructureDefinitions, ValueSets and CodeSystems a validator checks
// against, loaded from profiles/ and turned into element lists it can walk.
//
// What is loaded (ProfileSet::load(profiles_dir)):
//  * fhir-r4-definitions.json: the base R4 StructureDefinitions (every data type and the
//    resources Midhurst uses) with snapshots, trimmed by fhir_profilegen to what is read here;
//  * ukcore/*.json: the UK Core profiles, extensions, ValueSets and CodeSystems Midhurst uses,
//    converted from the published XML (differential only, as published);
//  * midhurst/*.json: Midhurst's own profiles (differentials on UK Core), ValueSets and
//    CodeSystems.
// Examples (profiles/examples/) are not loaded.
//
// Snapshots. A StructureDefinition without a snapshot gets one here, from its base (recursively)
// and its differential, the way the FHIR snapshot generator does it, but only as far as
// validation needs: a differential element whose id names a slice (`Patient.identifier:nhsNumber`)
// copies the sliced element and its descendants; one that reaches inside a data type
// (`Patient.identifier:nhsNumber.system`) unfolds that type's elements under its parent first.
// Then min, max, type, fixed[x], pattern[x], binding and slicing are overridden. Limits:
// constraints (FHIRPath invariants) are not kept; a differential element named by a concrete
// choice name (`Observation.valueQuantity` rather than `value[x]`) is refused; a type profile on
// an element is kept as a reference (the validator checks against it), not merged in.
//
// Thread-safety: a loaded ProfileSet is immutable; share it freely between threads. Pointers it
// hands out live as long as it does.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/error.h"

namespace midhurst::fhir {

struct TypeRef {
  std::string code;                          // FHIR type: "Identifier", "string", "Extension"
  std::vector<std::string> profiles;         // type.profile: for Extension, the extension's url
  std::vector<std::string> target_profiles;  // Reference/canonical targets (not checked yet)
};

struct Discriminator {
  std::string type;  // value | pattern | exists | type | profile
  std::string path;  // FHIRPath: "system", "coding.system", "url", "$this"
};

struct Slicing {
  std::vector<Discriminator> discriminators;
  std::string rules = "open";  // open | closed | openAtEnd
};

struct Binding {
  std::string strength;   // required | extensible | preferred | example
  std::string value_set;  // canonical, possibly with |version
};

// One ElementDefinition as the validator reads it. While a differential is parsed, unset
// fields are min < 0, empty max, empty types, null fixed/pattern, no binding/slicing.
struct ElementRule {
  std::string id;          // "Patient.identifier:nhsNumber.system"
  std::string path;        // "Patient.identifier.system"
  std::string slice_name;  // "nhsNumber" on the slice's own element
  int min = -1;
  std::string max;       // "1", "*", "0", ...
  std::string base_max;  // the base resource/type's max: decides the JSON shape (array or not)
  std::vector<TypeRef> types;
  std::string content_reference;  // "#Questionnaire.item"
  // fixed[x] / pattern[x]: the value, held in a document the ProfileSet owns, and its type
  // suffix as written ("Uri", "CodeableConcept").
  const rapidjson::Value* fixed = nullptr;
  std::string fixed_type;
  const rapidjson::Value* pattern = nullptr;
  std::string pattern_type;
  std::optional<Binding> binding;
  std::optional<Slicing> slicing;

  // "identifier", "value[x]": the last path segment.
  std::string name() const;
  bool is_choice() const;
};

struct StructureDef {
  std::string url;
  std::string name;
  std::string type;  // the resource or data type constrained: "Patient", "Extension"
  std::string kind;  // primitive-type | complex-type | resource
  std::string base_url;
  bool is_abstract = false;
  bool is_constraint = false;  // derivation = constraint (a profile)
  std::vector<ElementRule> elements;  // elements[0] is the root ("Patient")

  // By id; nullptr if absent.
  const ElementRule* find(std::string_view id) const;
  // Direct children of an element (not slices), and the slices of an element, in order.
  const std::vector<size_t>& children(size_t index) const;
  const std::vector<size_t>& slices(size_t index) const;

 private:
  friend class ProfileSet;
  friend struct SnapshotBuilder;
  void index();  // fills by_id_, children_, slices_ from elements
  std::map<std::string, size_t, std::less<>> by_id_;
  std::vector<std::vector<size_t>> children_;
  std::vector<std::vector<size_t>> slices_;
};

// A ValueSet reduced to what membership checks need.
struct CodeSet {
  std::string url;
  // Enumerated codes per system.
  std::map<std::string, std::set<std::string>, std::less<>> codes;
  // Systems included whole or by filter whose codes we cannot list (SNOMED CT, a CodeSystem we
  // do not ship): any code of theirs is accepted.
  std::set<std::string, std::less<>> open_systems;

  // True iff (system, code) is in the set, or system is open. An empty system matches a code in
  // any system (a `code` element bound to the set).
  bool contains(std::string_view system, std::string_view code) const;
};

class ProfileSet {
 public:
  // Loads profiles_dir as described above and builds every snapshot. Errors: kIo, kSyntax,
  // kModel (a definition without url, a duplicate url, a base that is not loaded, a differential
  // element that cannot be placed; the reason names the definition and the element id).
  static Result<ProfileSet> load(const std::string& profiles_dir);

  // Adds definitions from JSON text (a StructureDefinition, ValueSet, CodeSystem, or a Bundle of
  // them) to a set under construction; then finish() builds snapshots. load() uses these; tests
  // use them to add a definition of their own.
  Status add_json(std::string_view text, const std::string& source_name);
  Status finish();

  // A StructureDefinition by canonical url (a "|version" suffix is ignored), or by bare type
  // name for the base definitions ("Patient", "Identifier"). nullptr if unknown.
  const StructureDef* structure(std::string_view url_or_type) const;
  // The base (core) definition of a FHIR type, or nullptr.
  const StructureDef* base_type(std::string_view type) const;
  // The expanded ValueSet, or nullptr if we do not ship it.
  const CodeSet* value_set(std::string_view url) const;

  size_t structure_count() const { return structures_.size(); }

  ProfileSet();
  ~ProfileSet();
  ProfileSet(ProfileSet&&) noexcept;
  ProfileSet& operator=(ProfileSet&&) noexcept;

 private:
  struct Raw;  // definitions as loaded, before finish()
  std::unique_ptr<Raw> raw_;
  std::vector<std::unique_ptr<rapidjson::Document>> docs_;  // own the fixed/pattern values
  std::map<std::string, std::unique_ptr<StructureDef>, std::less<>> structures_;  // by url
  std::map<std::string, const StructureDef*, std::less<>> base_types_;           // by type
  std::map<std::string, CodeSet, std::less<>> value_sets_;                       // by url
};

}  // namespace midhurst::fhir
