// Generic access to live care objects by path: get and set fields of a Patient, an Encounter...
// through the reflection tables (reflect.h), without knowing their C++ types.
//
// Paths use the registry syntax (registry.h): "patient.identifiers[].value". A path is compiled
// once (checked by lookup_path, then turned into steps over FieldInfo entries) and applied many
// times, so the mapping engine resolves names at profile load and not per message.
//
// Writing semantics (locate_for_write):
//   field      a 0..1 struct is created when absent; a 1..1 member is used as it is;
//   field[]    a new element is appended to the list (each write through [] appends one);
//   field[n]   element n, appended when n == size; an error when n > size (no gaps are invented);
//   a list of scalars at the end of a path without [] ("names[0].given") appends too.
// Reading semantics (for_each): [] and a trailing whole list visit every element; absent
// optional fields and out-of-range indexes match nothing.
//
// Thread-safety: a CompiledPath is immutable after compile(); share it. The objects it is applied
// to are plain values: the caller serialises writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "care/registry.h"
#include "common/result.h"

namespace midhurst::care {

// One element reached by a path: a pointer to a value of the field's element type.
struct ValueRef {
  const FieldInfo* field = nullptr;  // nullptr for the entity itself
  void* ptr = nullptr;
  Kind kind = Kind::kStruct;
  const StructInfo* struct_info = nullptr;  // kind == kStruct
  const EnumInfo* enum_info = nullptr;      // kind == kEnum
  void* owner = nullptr;   // the struct holding `field` (to erase the element: field->erase(owner, index))
  std::size_t index = 0;   // the element's index in the field
};

// A scalar to store or that was read: text (string, date, dateTime, enum code), boolean, integer.
using Scalar = std::variant<std::string, bool, std::int64_t>;

// "string 'x'", "boolean true", "integer 3": for messages.
std::string describe_scalar(const Scalar& v);

class CompiledPath {
 public:
  struct Step {
    const FieldInfo* field = nullptr;
    enum class Index : std::uint8_t { kNone, kEach, kAt } index = Index::kNone;
    std::size_t at = 0;  // kAt only
  };

  // Compiles an entity-rooted path; errors are lookup_path's.
  static Result<CompiledPath, PathError> compile(std::string_view path);

  const std::string& text() const { return text_; }
  const PathInfo& info() const { return info_; }
  const std::vector<Step>& steps() const { return steps_; }
  // The steps after the first `n` (for paths relative to a prefix path of n steps).
  CompiledPath suffix(std::size_t n) const;

  // Walks from `root` (an object of the struct the path starts at: the entity, or for a suffix the
  // struct the prefix reached), creating what is missing; see the semantics above. The error says
  // which index was out of range.
  Result<ValueRef, std::string> locate_for_write(void* root, const StructInfo& root_info) const;
  // Calls fn for every element the path matches, in order.
  void for_each(const void* root, const StructInfo& root_info,
                const std::function<void(const ValueRef&)>& fn) const;
  // The same with fn inlined: no std::function built per call (the care→fhir renderer reads
  // hundreds of paths per record).
  template <class Fn>
  void visit(const void* root, const StructInfo& root_info, Fn&& fn) const;

 private:
  template <class Fn>
  void visit_from(std::size_t k, const ValueRef& cur, Fn& fn) const;

  std::string text_;
  PathInfo info_;
  std::vector<Step> steps_;
};

inline ValueRef value_ref_of(const FieldInfo* f, const void* ptr) {
  ValueRef r;
  r.field = f;
  r.ptr = const_cast<void*>(ptr);  // readers never write through it
  r.kind = f->kind;
  if (f->kind == Kind::kStruct) r.struct_info = f->struct_info();
  if (f->kind == Kind::kEnum) r.enum_info = f->enum_info();
  return r;
}

template <class Fn>
void CompiledPath::visit(const void* root, const StructInfo& root_info, Fn&& fn) const {
  ValueRef cur;
  cur.ptr = const_cast<void*>(root);
  cur.kind = Kind::kStruct;
  cur.struct_info = &root_info;
  visit_from(0, cur, fn);
}

template <class Fn>
void CompiledPath::visit_from(std::size_t k, const ValueRef& cur, Fn& fn) const {
  if (k == steps_.size()) {
    fn(cur);
    return;
  }
  const Step& step = steps_[k];
  const FieldInfo* f = step.field;
  if (step.index == Step::Index::kAt) {
    if (const void* e = f->element(cur.ptr, step.at)) visit_from(k + 1, value_ref_of(f, e), fn);
    return;
  }
  const std::size_t n = f->count(cur.ptr);
  for (std::size_t i = 0; i < n; ++i) visit_from(k + 1, value_ref_of(f, f->element(cur.ptr, i)), fn);
}

// Stores `v` in the element `ref` points at. Errors: a struct element, a scalar of the wrong
// kind, a code the enum does not allow (the message lists the allowed codes), text that is not a
// date/dateTime of the model's format (json.h), an empty string.
Status<std::string> assign(const ValueRef& ref, const Scalar& v);
// The scalar at `ref`; nullopt for a struct or an absent (empty) string.
std::optional<Scalar> read_scalar(const ValueRef& ref);

// Convenience for tests and tools: sets / reads one path on an entity object whose StructInfo is
// the path's entity (e.g. a Patient for "patient.*").
Status<std::string> set_path(void* entity, std::string_view path, const Scalar& v);
std::vector<Scalar> get_path(const void* entity, std::string_view path);

// "" when every required field of `obj` is present and the struct's cross-field rules hold; else
// the first problem ("value: required field missing", or a validator's sentence). Not recursive.
std::string check_complete(const StructInfo& s, const void* obj);

}  // namespace midhurst::care
