// The JSON form of the care model: to_json / from_json for every struct of model.h.
//
// Driven by the reflection table (reflect.h), so the JSON names are the field names of MODEL.md.
// Rules:
//  - camelCase names; absent values (empty strings, empty optionals, empty lists) are omitted;
//  - from_json is strict: unknown fields, duplicate fields, wrong JSON types, empty strings or
//    arrays, values outside an enum, bad date/dateTime text, missing required fields and failed
//    cross-field rules (e.g. NHS number Modulus 11) are all errors;
//  - every error names the JSON path of the offending value, rooted at the entity's path name
//    (registry.h): "patient.identifiers[1].system: expected string";
//  - round trip is exact: from_json(to_json(x)) == x for any x that from_json accepts, and
//    to_json(from_json(j)) equals j as a JSON value.
// Formats: a date is YYYY, YYYY-MM or YYYY-MM-DD; a dateTime is a date, or
// YYYY-MM-DDThh:mm[:ss[.fraction]] followed by Z or +hh:mm/-hh:mm (the offset is mandatory once
// there is a time; the source's precision is kept).
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "care/reflect.h"
#include "common/result.h"

namespace midhurst::care {

struct JsonError {
  std::string path;     // e.g. "patient.identifiers[1].system"; the root name for syntax errors
  std::string message;  // e.g. "expected string"
  std::string to_string() const { return path + ": " + message; }
};

// The path name a struct's JSON is rooted at in error paths: the entity's registry name
// ("patient", "eol", ...) or, for other structs, the type name with a lower-case first letter.
std::string json_root_name(const StructInfo& s);

// Type-erased forms; `obj` points to an object of the type `s` describes.
std::string struct_to_json(const StructInfo& s, const void* obj, bool pretty);
Status<JsonError> struct_from_json(const StructInfo& s, void* obj, std::string_view json);
Status<JsonError> struct_from_value(const StructInfo& s, void* obj, const rapidjson::Value& in);
// What struct_from_json(struct_to_json(obj)) would report, found without writing or parsing
// JSON: the same checks, in the same order, with the same first error.
Status<JsonError> struct_check(const StructInfo& s, const void* obj);

// Serialises `value`; `pretty` indents by 2 spaces.
template <class T>
std::string to_json(const T& value, bool pretty = false) {
  return struct_to_json(T::describe(), &value, pretty);
}

// Writes `value` into `out` (for embedding in a larger document).
template <class T>
void to_json_value(const T& value, rapidjson::Value& out,
                   rapidjson::Document::AllocatorType& alloc) {
  write_struct(T::describe(), &value, out, alloc);
}

// Parses and checks `json`; on error nothing is returned, only the first error found.
template <class T>
Result<T, JsonError> from_json(std::string_view json) {
  T value{};
  Status<JsonError> s = struct_from_json(T::describe(), &value, json);
  if (!s.ok()) return err(s.error());
  return value;
}

// Whether `value` would read back: from_json(to_json(value)) succeeds, or fails with exactly this
// error. For checking a value before it is stored, at a fraction of the round trip's cost.
template <class T>
Status<JsonError> check_reads_back(const T& value) {
  return struct_check(T::describe(), &value);
}

template <class T>
Result<T, JsonError> from_json_value(const rapidjson::Value& in) {
  T value{};
  Status<JsonError> s = struct_from_value(T::describe(), &value, in);
  if (!s.ok()) return err(s.error());
  return value;
}

}  // namespace midhurst::care
