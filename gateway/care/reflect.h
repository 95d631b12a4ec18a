// The care model's reflection table: one description of every field, read by everything else.
//
// Why a reflection table over C++ structs (and not a JSON schema file with generated code, or a
// dynamic JSON model):
//  - The store, the mapping engine and the FHIR/HL7 renderers want plain typed structs
//    (`patient.birth_date`), checked by the compiler. A schema file would need a code generator
//    in the build to give them that; a dynamic model would give them nothing.
//  - Every consumer that works by *name* (JSON form, path checking for mapping profiles, the
//    field reference in MODEL.md, the exported schema) must agree on the names and types. So each
//    struct lists its fields exactly once, in `describe()` (model.cc): JSON name, member pointer,
//    meaning, and a few flags. The C++ type of the member gives the rest: std::optional<X> is
//    0..1, std::vector<X> is 0..*, bool/int/enum/struct members are 1..1, and a std::string is
//    0..1 unless flagged kRequired (an empty string means "absent" and is never written).
//  - From that one table: to_json/from_json (json.h), lookup_path (registry.h), schema_json() for
//    non-C++ tools, and the generated field reference in MODEL.md (a test fails if MODEL.md is
//    stale). A field added to a struct but not to describe() is caught by the round-trip tests of
//    the fully populated examples.
//
// Thread-safety: every StructInfo/EnumInfo is built once, on first use, in a function-local
// static (thread-safe initialisation) and is immutable after that; share them freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <rapidjson/document.h>

namespace midhurst::care {

// What a leaf value is. kDate/kDateTime are strings with a checked format (see json.h).
enum class Kind { kString, kDate, kDateTime, kBoolean, kInteger, kEnum, kStruct };

// How many values a field holds.
enum class Shape {
  kOne,       // 1..1 (a plain member; for strings, only when flagged kRequired)
  kOptional,  // 0..1
  kList,      // 0..* (or 1..* / 0..max with min_items/max_items)
};

const char* kind_name(Kind k);  // "string", "date", "dateTime", "boolean", "integer", "enum", "struct"

struct EnumValue {
  std::string_view code;     // the JSON value, e.g. "in-progress"
  std::string_view meaning;  // what it means, with its SNOMED/NHS DD code where one is verified
};

struct EnumInfo {
  std::string_view name;  // e.g. "EncounterStatus"
  std::string_view doc;
  std::span<const EnumValue> values;  // index i is the enumerator with underlying value i

  // The enumerator index of `code`, or nullopt when `code` is not an allowed value.
  std::optional<std::size_t> index_of(std::string_view code) const;
  // "planned | in-progress | ..." for messages and docs.
  std::string joined(std::string_view sep = " | ") const;
};

struct StructInfo;
class ReadContext;

// One field of a struct. The std::function members are type-erased accessors built by
// Describe<T>::field from a member pointer; `obj` is always a pointer to the owning struct.
struct FieldInfo {
  std::string_view name;  // camelCase JSON name and path segment
  std::string_view doc;   // meaning, codes; shown in MODEL.md
  Kind kind = Kind::kString;
  Shape shape = Shape::kOptional;
  std::size_t min_items = 0;  // kList only
  std::size_t max_items = 0;  // kList only; 0 = unbounded
  const StructInfo* (*struct_info)() = nullptr;  // kStruct only
  const EnumInfo* (*enum_info)() = nullptr;      // kEnum only

  bool required() const { return shape == Shape::kOne || (shape == Shape::kList && min_items > 0); }
  // "string", "date", "Coding", "enum EncounterStatus", "list of Identifier", ...
  std::string type_name() const;
  // "1..1", "0..1", "0..*", "0..2"
  std::string cardinality() const;

  std::function<bool(const void* obj)> present;  // iff the field has a value to write
  std::function<void(const void* obj, rapidjson::Value& out, rapidjson::Document::AllocatorType&)>
      write;  // REQUIRES: present(obj)
  std::function<bool(void* obj, const rapidjson::Value& in, ReadContext& ctx)> read;
  // The member itself, for later generic access by path (mapping engine).
  std::function<void*(void* obj)> member;

  // Generic access to live objects (access.h). "Element" means one value of the member's
  // element type V: the member itself (kOne), the optional's value (kOptional) or one list item
  // (kList). `obj` is the owning struct, `value` a pointer to one element.
  std::function<std::size_t(const void* obj)> count;  // 0/1, or the list's size
  // The i-th element, or nullptr when i >= count(obj).
  std::function<const void*(const void* obj, std::size_t i)> element;
  // For writing: kOne gives the member, kOptional emplaces when empty, kList appends when
  // i == count(obj); nullptr when i > count(obj) or (kOne/kOptional) i > 0.
  std::function<void*(void* obj, std::size_t i)> ensure;
  // Keeps the first n elements (kList), or makes the field absent when n == 0 (kOptional: reset;
  // kOne: the default value). Used to drop an element a mapping could not complete.
  std::function<void(void* obj, std::size_t n)> truncate;
  // Removes element i (kList), or makes the field absent (i == 0, kOptional/kOne as truncate).
  std::function<void(void* obj, std::size_t i)> erase;
  // Integer and enum elements (V is int, std::int64_t or an enum); unset for other kinds.
  // std::string and bool elements are accessed directly through the pointer.
  std::function<void(void* value, std::int64_t)> set_integer;
  std::function<std::int64_t(const void* value)> get_integer;
  std::function<void(void* value, std::size_t index)> set_enum;  // REQUIRES: index < values
  std::function<std::size_t(const void* value)> get_enum;
};

struct StructInfo {
  std::string_view name;  // C++/model type name, e.g. "Patient", "Coding"
  std::string_view doc;
  std::vector<FieldInfo> fields;
  // Rules across fields (e.g. "a Reference needs id or identifier"); each returns "" when the
  // object is fine, else a sentence saying what is wrong.
  std::vector<std::function<std::string(const void* obj)>> validators;

  const FieldInfo* find(std::string_view field_name) const;
};

// Reading state for from_json: the JSON path of the value being read and the first error.
class ReadContext {
 public:
  explicit ReadContext(std::string root) : path_(std::move(root)) {}
  const std::string& path() const { return path_; }
  std::size_t mark() const { return path_.size(); }
  void push_field(std::string_view name) { path_ += '.'; path_ += name; }
  void push_index(std::size_t i) { path_ += '[' + std::to_string(i) + ']'; }
  void pop(std::size_t mark) { path_.resize(mark); }
  // Records the error at the current path; always returns false so callers can `return fail(..)`.
  bool fail(std::string message) {
    if (!failed_) {
      failed_ = true;
      error_path_ = path_;
      error_message_ = std::move(message);
    }
    return false;
  }
  bool failed() const { return failed_; }
  const std::string& error_path() const { return error_path_; }
  const std::string& error_message() const { return error_message_; }

 private:
  std::string path_;
  bool failed_ = false;
  std::string error_path_;
  std::string error_message_;
};

// Generic walkers over a StructInfo (json.cc).
void write_struct(const StructInfo& s, const void* obj, rapidjson::Value& out,
                  rapidjson::Document::AllocatorType& alloc);
bool read_struct(const StructInfo& s, void* obj, const rapidjson::Value& in, ReadContext& ctx);
// Checks the text of a kDate/kDateTime value; returns "" when fine, else why not.
std::string check_date(std::string_view s);
std::string check_date_time(std::string_view s);

// Field flags for Describe<T>::field.
enum FieldFlags : unsigned {
  kRequired = 1u << 0,  // a std::string that must be present and non-empty
  kDate = 1u << 1,      // a std::string holding a date (YYYY, YYYY-MM or YYYY-MM-DD)
  kDateTime = 1u << 2,  // a std::string holding a dateTime (see json.h)
};
struct FieldOpts {
  unsigned flags = 0;
  std::size_t max_items = 0;  // lists only; 0 = unbounded
  std::size_t min_items = 0;  // lists only
};

namespace detail {

template <class M>
struct ShapeOf {
  using Elem = M;
  static constexpr Shape shape = Shape::kOne;
};
template <class V>
struct ShapeOf<std::optional<V>> {
  using Elem = V;
  static constexpr Shape shape = Shape::kOptional;
};
template <class V>
struct ShapeOf<std::vector<V>> {
  using Elem = V;
  static constexpr Shape shape = Shape::kList;
};

template <class V>
constexpr Kind leaf_kind() {
  if constexpr (std::is_same_v<V, std::string>) return Kind::kString;
  else if constexpr (std::is_same_v<V, bool>) return Kind::kBoolean;
  else if constexpr (std::is_integral_v<V>) return Kind::kInteger;
  else if constexpr (std::is_enum_v<V>) return Kind::kEnum;
  else return Kind::kStruct;
}

// One value of a leaf type. Enums find their EnumInfo through an ADL overload
// `const EnumInfo& describe_enum(E)`; structs through `static const StructInfo& describe()`.
template <class V>
void write_value(const V& v, rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) {
  if constexpr (std::is_same_v<V, std::string>) {
    out.SetString(v.data(), static_cast<rapidjson::SizeType>(v.size()), alloc);
  } else if constexpr (std::is_same_v<V, bool>) {
    out.SetBool(v);
  } else if constexpr (std::is_integral_v<V>) {
    out.SetInt64(static_cast<std::int64_t>(v));
  } else if constexpr (std::is_enum_v<V>) {
    const std::string_view code = describe_enum(V{}).values[static_cast<std::size_t>(v)].code;
    // Codes are string literals in static tables, so a reference (no copy) is safe.
    out.SetString(rapidjson::StringRef(code.data(), code.size()));
  } else {
    write_struct(V::describe(), &v, out, alloc);
  }
}

template <class V>
bool read_value(const rapidjson::Value& in, V& v, Kind kind, ReadContext& ctx) {
  if constexpr (std::is_same_v<V, std::string>) {
    if (!in.IsString()) return ctx.fail(std::string("expected ") + kind_name(kind));
    v.assign(in.GetString(), in.GetStringLength());
    // An empty string would not survive a round trip (empty means absent), so it is refused.
    if (v.empty()) return ctx.fail("empty string; omit the field instead");
    if (kind == Kind::kDate) {
      if (std::string why = check_date(v); !why.empty()) return ctx.fail(why);
    } else if (kind == Kind::kDateTime) {
      if (std::string why = check_date_time(v); !why.empty()) return ctx.fail(why);
    }
    return true;
  } else if constexpr (std::is_same_v<V, bool>) {
    if (!in.IsBool()) return ctx.fail("expected boolean");
    v = in.GetBool();
    return true;
  } else if constexpr (std::is_integral_v<V>) {
    if (!in.IsInt64()) return ctx.fail("expected integer");
    const std::int64_t i = in.GetInt64();
    if (i < static_cast<std::int64_t>(std::numeric_limits<V>::min()) ||
        i > static_cast<std::int64_t>(std::numeric_limits<V>::max()))
      return ctx.fail("integer out of range");
    v = static_cast<V>(i);
    return true;
  } else if constexpr (std::is_enum_v<V>) {
    const EnumInfo& e = describe_enum(V{});
    if (!in.IsString()) return ctx.fail("expected string (enum " + std::string(e.name) + ")");
    auto idx = e.index_of(std::string_view(in.GetString(), in.GetStringLength()));
    if (!idx)
      return ctx.fail("'" + std::string(in.GetString(), in.GetStringLength()) +
                      "' is not an allowed value of " + std::string(e.name) + " (" + e.joined() +
                      ")");
    v = static_cast<V>(*idx);
    return true;
  } else {
    return read_struct(V::describe(), &v, in, ctx);
  }
}

template <class V>
bool value_present(const V& v) {
  if constexpr (std::is_same_v<V, std::string>) return !v.empty();
  else return true;
}

}  // namespace detail

// Builds the StructInfo of T. Used only inside T::describe() (model.cc):
//   static const StructInfo info = Describe<Coding>("Coding", "doc")
//       .field("system", &Coding::system, "...")
//       .field("code", &Coding::code, "...", {kRequired})
//       .build();
template <class T>
class Describe {
 public:
  Describe(std::string_view name, std::string_view doc) {
    info_.name = name;
    info_.doc = doc;
  }

  // C may be T or a base of T (entities inherit their header fields from Entity).
  template <class M, class C>
  Describe& field(std::string_view name, M C::*p, std::string_view doc, FieldOpts opts = {}) {
    static_assert(std::is_base_of_v<C, T>, "member of another struct");
    using Sh = detail::ShapeOf<M>;
    using V = typename Sh::Elem;
    FieldInfo f;
    f.name = name;
    f.doc = doc;
    f.kind = detail::leaf_kind<V>();
    if constexpr (std::is_same_v<V, std::string>) {
      if (opts.flags & kDate) f.kind = Kind::kDate;
      if (opts.flags & kDateTime) f.kind = Kind::kDateTime;
    }
    if constexpr (Sh::shape == Shape::kOne && std::is_same_v<V, std::string>) {
      f.shape = (opts.flags & kRequired) ? Shape::kOne : Shape::kOptional;
    } else {
      f.shape = Sh::shape;
    }
    f.min_items = opts.min_items;
    f.max_items = opts.max_items;
    if constexpr (detail::leaf_kind<V>() == Kind::kStruct) {
      f.struct_info = []() -> const StructInfo* { return &V::describe(); };
    }
    if constexpr (std::is_enum_v<V>) {
      f.enum_info = []() -> const EnumInfo* { return &describe_enum(V{}); };
    }
    const Kind kind = f.kind;
    f.present = [p](const void* obj) {
      const M& m = static_cast<const T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kOptional) return m.has_value();
      else if constexpr (Sh::shape == Shape::kList) return !m.empty();
      else return detail::value_present(m);
    };
    f.write = [p](const void* obj, rapidjson::Value& out,
                  rapidjson::Document::AllocatorType& alloc) {
      const M& m = static_cast<const T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kOptional) {
        detail::write_value(*m, out, alloc);
      } else if constexpr (Sh::shape == Shape::kList) {
        out.SetArray();
        for (const V& v : m) {
          rapidjson::Value item;
          detail::write_value(v, item, alloc);
          out.PushBack(item, alloc);
        }
      } else {
        detail::write_value(m, out, alloc);
      }
    };
    const std::size_t min_items = f.min_items, max_items = f.max_items;
    f.read = [p, kind, min_items, max_items](void* obj, const rapidjson::Value& in,
                                              ReadContext& ctx) {
      M& m = static_cast<T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kOptional) {
        m.emplace();
        return detail::read_value(in, *m, kind, ctx);
      } else if constexpr (Sh::shape == Shape::kList) {
        if (!in.IsArray()) return ctx.fail("expected array");
        // An empty array would not survive a round trip (empty lists are omitted).
        if (in.Empty()) return ctx.fail("empty array; omit the field instead");
        if (max_items && in.Size() > max_items)
          return ctx.fail("at most " + std::to_string(max_items) + " items allowed, got " +
                          std::to_string(in.Size()));
        if (in.Size() < min_items)
          return ctx.fail("at least " + std::to_string(min_items) + " items required");
        m.clear();
        m.reserve(in.Size());
        for (rapidjson::SizeType i = 0; i < in.Size(); ++i) {
          const std::size_t mark = ctx.mark();
          ctx.push_index(i);
          m.emplace_back();
          if (!detail::read_value(in[i], m.back(), kind, ctx)) return false;
          ctx.pop(mark);
        }
        return true;
      } else {
        return detail::read_value(in, m, kind, ctx);
      }
    };
    f.member = [p](void* obj) -> void* { return &(static_cast<T*>(obj)->*p); };
    f.count = [p](const void* obj) -> std::size_t {
      const M& m = static_cast<const T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kOptional) return m.has_value() ? 1 : 0;
      else if constexpr (Sh::shape == Shape::kList) return m.size();
      else return detail::value_present(m) ? 1 : 0;
    };
    f.element = [p](const void* obj, std::size_t i) -> const void* {
      const M& m = static_cast<const T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kOptional) return m && i == 0 ? &*m : nullptr;
      else if constexpr (Sh::shape == Shape::kList) return i < m.size() ? &m[i] : nullptr;
      else return i == 0 ? &m : nullptr;
    };
    f.ensure = [p](void* obj, std::size_t i) -> void* {
      M& m = static_cast<T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kOptional) {
        if (i != 0) return nullptr;
        if (!m) m.emplace();
        return &*m;
      } else if constexpr (Sh::shape == Shape::kList) {
        if (i > m.size()) return nullptr;
        if (i == m.size()) m.emplace_back();
        return &m[i];
      } else {
        return i == 0 ? &m : nullptr;
      }
    };
    f.truncate = [p](void* obj, std::size_t n) {
      M& m = static_cast<T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kList) {
        if (n < m.size()) m.resize(n);
      } else {
        if (n == 0) m = M{};
      }
    };
    f.erase = [p](void* obj, std::size_t i) {
      M& m = static_cast<T*>(obj)->*p;
      if constexpr (Sh::shape == Shape::kList) {
        if (i < m.size()) m.erase(m.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        if (i == 0) m = M{};
      }
    };
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
      f.set_integer = [](void* value, std::int64_t i) { *static_cast<V*>(value) = static_cast<V>(i); };
      f.get_integer = [](const void* value) {
        return static_cast<std::int64_t>(*static_cast<const V*>(value));
      };
    }
    if constexpr (std::is_enum_v<V>) {
      f.set_enum = [](void* value, std::size_t index) { *static_cast<V*>(value) = static_cast<V>(index); };
      f.get_enum = [](const void* value) {
        return static_cast<std::size_t>(*static_cast<const V*>(value));
      };
    }
    info_.fields.push_back(std::move(f));
    return *this;
  }

  // A rule across fields of T: returns "" when fine, else what is wrong.
  Describe& validate(std::string (*rule)(const T&)) {
    info_.validators.push_back(
        [rule](const void* obj) { return rule(*static_cast<const T*>(obj)); });
    return *this;
  }

  StructInfo build() { return std::move(info_); }

 private:
  StructInfo info_;
};

}  // namespace midhurst::care
