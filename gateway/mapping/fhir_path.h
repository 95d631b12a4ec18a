// FhirPath: the target of a care→fhir rule, an element path into a FHIR resource, checked
// against the FHIR model (fhir/model.h) when the profile loads.
//
// Syntax (documented for profile authors in mappings/README.md, "care→fhir"):
//   path     = [ ResourceType "." ] step *( "." step )
//   step     = name [ "[]" | "[" key "=" value "]" ]
//   name     = the element's JSON name; a choice element by its concrete name
//              (deceasedDateTime, valueCodeableConcept)
// `name[]` appends a new element to a repeating element on every write (a group appends one per
// run); `name[key=value]` selects the element whose primitive child `key` equals `value`, and
// creates it with that child when there is none: extensions by url
// (`extension[url=https://...]`) and slices by a fixed child (`identifier[system=https://...]`).
// The value runs to the matching ']' (URLs may hold '.' and '='). A repeating element must be
// selected one of those two ways; a non-repeating one must not be.
// A path starts with the resource type at the top of a resource rule, and is relative to the
// enclosing group's element inside a group.
//
// Thread-safety: immutable after parse(); TypeDef/ElementDef pointers live as long as the Model.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "fhir/model.h"

namespace midhurst::mapping {

struct FhirPathError {
  std::size_t offset = 0;  // character in the path text
  std::string message;
};

class FhirPath {
 public:
  struct Step {
    std::string name;                          // JSON name, e.g. "valueCodeableConcept"
    const fhir::ElementDef* element = nullptr;
    const fhir::TypeDef* type = nullptr;       // the element's type (the chosen one for a choice)
    enum class Select : std::uint8_t { kNone, kAppend, kKey } select = Select::kNone;
    std::string key, key_value;                // kKey
    // The element's place among its parent's (its definition index + 1): the renderer keeps
    // members in this order as it adds them.
    std::size_t order = 0;
  };

  // Parses `text` below `root` (a resource or data type); when `root` is nullptr the path must
  // start with a resource type name, which becomes the root.
  static Result<FhirPath, FhirPathError> parse(std::string_view text, const fhir::Model& model,
                                               const fhir::TypeDef* root);

  const std::string& text() const { return text_; }
  const fhir::TypeDef* root() const { return root_; }
  const std::vector<Step>& steps() const { return steps_; }
  // The type the path ends at (the root for an empty path).
  const fhir::TypeDef* leaf_type() const { return steps_.empty() ? root_ : steps_.back().type; }
  // True iff some step appends: the path takes several values.
  bool appends() const;

 private:
  std::string text_;
  const fhir::TypeDef* root_ = nullptr;
  std::vector<Step> steps_;
};

}  // namespace midhurst::mapping
