// fhir::Error: why a FHIR conversion or load failed, and where.
//
// One small value type for every fallible call in the fhir module. `path` is a FHIRPath-like
// location in the resource as JSON names it (`Patient.name[1].given`, `Bundle.entry[0].resource`,
// `Observation.valueQuantity.value`; indices are 0-based and written only for repeating
// elements); it is empty when the problem is not inside a resource (a file that cannot be read,
// text that is not JSON or XML at all). `reason` is one sentence for a person.
//
// These errors are about conversion, not validation: the converters reject only what they cannot
// represent losslessly in the other format (see xml.h). Cardinality, terminology and invariants
// belong to the validator.
#pragma once

#include <string>

#include "common/result.h"

namespace midhurst::fhir {

struct Error {
  enum class Code {
    kIo,              // a file could not be read
    kSyntax,          // the text is not well-formed JSON / XML
    kModel,           // the model data file is malformed or inconsistent
    kUnknownType,     // resourceType / root element names no resource the model knows
    kUnknownElement,  // a JSON property or XML element/attribute the type does not define
    kStructure,       // shape mismatch: array where one value belongs, object for a primitive, ...
    kInvalidValue,    // a value whose lexical form changes between formats is malformed
                      // (boolean, decimal, integer) or cannot be represented (control char)
    kNamespace,       // XML element not in the namespace it must be in
  };

  Code code = Code::kSyntax;
  std::string path;
  std::string reason;

  // "Patient.name[1].given: unknown element 'givn'", or just the reason when path is empty.
  std::string to_string() const { return path.empty() ? reason : path + ": " + reason; }
};

template <typename T>
using Result = midhurst::Result<T, Error>;

inline Err<Error> make_error(Error::Code code, std::string path, std::string reason) {
  return err(Error{code, std::move(path), std::move(reason)});
}

}  // namespace midhurst::fhir

namespace midhurst::fhir {
// Success, or an Error. For steps that produce nothing.
using Status = midhurst::Status<Error>;
}  // namespace midhurst::fhir
