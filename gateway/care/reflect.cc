#include "care/reflect.h"

namespace midhurst::care {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kString: return "string";
    case Kind::kDate: return "date";
    case Kind::kDateTime: return "dateTime";
    case Kind::kBoolean: return "boolean";
    case Kind::kInteger: return "integer";
    case Kind::kEnum: return "enum";
    case Kind::kStruct: return "struct";
  }
  return "?";
}

std::optional<std::size_t> EnumInfo::index_of(std::string_view code) const {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].code == code) return i;
  return std::nullopt;
}

std::string EnumInfo::joined(std::string_view sep) const {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += sep;
    out += values[i].code;
  }
  return out;
}

std::string FieldInfo::type_name() const {
  std::string t;
  if (kind == Kind::kStruct) t = std::string(struct_info()->name);
  else if (kind == Kind::kEnum) t = "enum " + std::string(enum_info()->name);
  else t = kind_name(kind);
  return shape == Shape::kList ? "list of " + t : t;
}

std::string FieldInfo::cardinality() const {
  switch (shape) {
    case Shape::kOne: return "1..1";
    case Shape::kOptional: return "0..1";
    case Shape::kList:
      return std::to_string(min_items) + ".." + (max_items ? std::to_string(max_items) : "*");
  }
  return "?";
}

const FieldInfo* StructInfo::find(std::string_view field_name) const {
  for (const FieldInfo& f : fields)
    if (f.name == field_name) return &f;
  return nullptr;
}

}  // namespace midhurst::care
