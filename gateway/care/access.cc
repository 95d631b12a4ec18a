#include "care/access.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "care/record.h"

namespace midhurst::care {

std::string describe_scalar(const Scalar& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return "string '" + *s + "'";
  if (const auto* b = std::get_if<bool>(&v)) return std::string("boolean ") + (*b ? "true" : "false");
  return "integer " + std::to_string(std::get<std::int64_t>(v));
}

Result<CompiledPath, PathError> CompiledPath::compile(std::string_view path) {
  auto info = lookup_path(path);
  if (!info) return err(info.error());
  CompiledPath out;
  out.text_ = std::string(path);
  out.info_ = *info;
  // lookup_path has checked every segment, so this walk only records the steps.
  const StructInfo* s = &info->entity->info();
  std::size_t pos = path.find('.');
  while (pos != std::string_view::npos) {
    const std::size_t start = pos + 1;
    const std::size_t end = path.find('.', start);
    std::string_view seg = path.substr(start, end == std::string_view::npos ? end : end - start);
    pos = end;
    Step step;
    std::string_view name = seg;
    if (const std::size_t br = seg.find('['); br != std::string_view::npos) {
      name = seg.substr(0, br);
      const std::string_view digits = seg.substr(br + 1, seg.size() - br - 2);
      if (digits.empty()) {
        step.index = Step::Index::kEach;
      } else {
        step.index = Step::Index::kAt;
        step.at = std::stoul(std::string(digits));
      }
    }
    step.field = s->find(name);
    out.steps_.push_back(step);
    s = step.field->kind == Kind::kStruct ? step.field->struct_info() : nullptr;
  }
  return out;
}

CompiledPath CompiledPath::suffix(std::size_t n) const {
  CompiledPath out = *this;
  out.steps_.erase(out.steps_.begin(), out.steps_.begin() + static_cast<std::ptrdiff_t>(std::min(n, steps_.size())));
  return out;
}

Result<ValueRef, std::string> CompiledPath::locate_for_write(void* root,
                                                             const StructInfo& root_info) const {
  ValueRef cur;
  cur.ptr = root;
  cur.kind = Kind::kStruct;
  cur.struct_info = &root_info;
  for (const Step& step : steps_) {
    const FieldInfo* f = step.field;
    void* obj = cur.ptr;
    std::size_t i = 0;
    if (f->shape == Shape::kList && step.index != Step::Index::kAt) i = f->count(obj);  // append
    else if (step.index == Step::Index::kAt) i = step.at;
    void* next = f->ensure(obj, i);
    if (!next)
      return err("'" + std::string(f->name) + "[" + std::to_string(i) + "]' is beyond the list's " +
                 std::to_string(f->count(obj)) + " element(s)");
    cur = value_ref_of(f, next);
    cur.owner = obj;
    cur.index = i;
  }
  return cur;
}

void CompiledPath::for_each(const void* root, const StructInfo& root_info,
                            const std::function<void(const ValueRef&)>& fn) const {
  visit(root, root_info, fn);
}

Status<std::string> assign(const ValueRef& ref, const Scalar& v) {
  switch (ref.kind) {
    case Kind::kString:
    case Kind::kDate:
    case Kind::kDateTime: {
      const auto* s = std::get_if<std::string>(&v);
      if (!s) return err("expected text, got " + describe_scalar(v));
      if (s->empty()) return err(std::string("empty text"));
      if (ref.kind == Kind::kDate) {
        if (std::string why = check_date(*s); !why.empty()) return err(why);
      } else if (ref.kind == Kind::kDateTime) {
        if (std::string why = check_date_time(*s); !why.empty()) return err(why);
      }
      *static_cast<std::string*>(ref.ptr) = *s;
      return {};
    }
    case Kind::kBoolean: {
      const auto* b = std::get_if<bool>(&v);
      if (!b) return err("expected boolean, got " + describe_scalar(v));
      *static_cast<bool*>(ref.ptr) = *b;
      return {};
    }
    case Kind::kInteger: {
      const auto* i = std::get_if<std::int64_t>(&v);
      if (!i) return err("expected integer, got " + describe_scalar(v));
      ref.field->set_integer(ref.ptr, *i);
      return {};
    }
    case Kind::kEnum: {
      const auto* s = std::get_if<std::string>(&v);
      if (!s) return err("expected a code of " + std::string(ref.enum_info->name) + ", got " + describe_scalar(v));
      auto idx = ref.enum_info->index_of(*s);
      if (!idx)
        return err("'" + *s + "' is not an allowed value of " + std::string(ref.enum_info->name) +
                   " (" + ref.enum_info->joined() + ")");
      ref.field->set_enum(ref.ptr, *idx);
      return {};
    }
    case Kind::kStruct:
      return err("cannot store " + describe_scalar(v) + " in a " +
                 std::string(ref.struct_info ? ref.struct_info->name : "struct") +
                 "; address one of its fields");
  }
  return err(std::string("unknown kind"));
}

std::optional<Scalar> read_scalar(const ValueRef& ref) {
  switch (ref.kind) {
    case Kind::kString:
    case Kind::kDate:
    case Kind::kDateTime: {
      const auto& s = *static_cast<const std::string*>(ref.ptr);
      if (s.empty()) return std::nullopt;
      return Scalar(s);
    }
    case Kind::kBoolean: return Scalar(*static_cast<const bool*>(ref.ptr));
    case Kind::kInteger: return Scalar(ref.field->get_integer(ref.ptr));
    case Kind::kEnum:
      return Scalar(std::string(ref.enum_info->values[ref.field->get_enum(ref.ptr)].code));
    case Kind::kStruct: return std::nullopt;
  }
  return std::nullopt;
}

Status<std::string> set_path(void* entity, std::string_view path, const Scalar& v) {
  auto p = CompiledPath::compile(path);
  if (!p) return err(p.error().to_string());
  auto ref = p->locate_for_write(entity, p->info().entity->info());
  if (!ref) return err(ref.error());
  return assign(*ref, v);
}

std::vector<Scalar> get_path(const void* entity, std::string_view path) {
  std::vector<Scalar> out;
  auto p = CompiledPath::compile(path);
  if (!p) return out;
  p->for_each(entity, p->info().entity->info(), [&](const ValueRef& r) {
    if (auto s = read_scalar(r)) out.push_back(std::move(*s));
  });
  return out;
}

std::string check_complete(const StructInfo& s, const void* obj) {
  for (const FieldInfo& f : s.fields)
    if (f.required() && !f.present(obj)) return std::string(f.name) + ": required field missing";
  for (const auto& rule : s.validators)
    if (std::string why = rule(obj); !why.empty()) return why;
  return "";
}

// ---------------------------------------------------------------------------------------------
// Record

namespace {

template <std::size_t I = 0, class Tuple>
void* tuple_ensure(Tuple& t, std::size_t index) {
  if constexpr (I == std::tuple_size_v<Tuple>) {
    return nullptr;
  } else {
    if (I == index) {
      auto& o = std::get<I>(t);
      if (!o) o.emplace();
      return &*o;
    }
    return tuple_ensure<I + 1>(t, index);
  }
}

template <std::size_t I = 0, class Tuple>
const void* tuple_find(const Tuple& t, std::size_t index) {
  if constexpr (I == std::tuple_size_v<Tuple>) {
    return nullptr;
  } else {
    if (I == index) return std::get<I>(t) ? &*std::get<I>(t) : nullptr;
    return tuple_find<I + 1>(t, index);
  }
}

template <std::size_t I = 0, class Tuple>
void tuple_erase(Tuple& t, std::size_t index) {
  if constexpr (I < std::tuple_size_v<Tuple>) {
    if (I == index) std::get<I>(t).reset();
    else tuple_erase<I + 1>(t, index);
  }
}

}  // namespace

void* Record::ensure(EntityType type) { return tuple_ensure(entities_, static_cast<std::size_t>(type)); }
const void* Record::find(EntityType type) const {
  return tuple_find(entities_, static_cast<std::size_t>(type));
}
void Record::erase(EntityType type) { tuple_erase(entities_, static_cast<std::size_t>(type)); }

bool Record::empty() const {
  for (const EntityInfo& e : entities())
    if (find(e.type)) return false;
  return true;
}

void Record::to_json_value(rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) const {
  out.SetObject();
  for (const EntityInfo& e : entities()) {
    const void* obj = find(e.type);
    if (!obj) continue;
    rapidjson::Value v;
    write_struct(e.info(), obj, v, alloc);
    out.AddMember(rapidjson::StringRef(e.path_name.data(), e.path_name.size()), v, alloc);
  }
}

std::string Record::to_json(bool pretty) const {
  rapidjson::Document doc;
  to_json_value(doc, doc.GetAllocator());
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    doc.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace midhurst::care
