#include "care/registry.h"

#include <cctype>
#include <optional>
#include <set>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace midhurst::care {

namespace {

constexpr EntityInfo kEntities[] = {
    {"patient", EntityType::kPatient, &Patient::describe},
    {"relatedPerson", EntityType::kRelatedPerson, &RelatedPerson::describe},
    {"organization", EntityType::kOrganization, &Organization::describe},
    {"practitioner", EntityType::kPractitioner, &Practitioner::describe},
    {"practitionerRole", EntityType::kPractitionerRole, &PractitionerRole::describe},
    {"careTeamMember", EntityType::kCareTeamMember, &CareTeamMember::describe},
    {"encounter", EntityType::kEncounter, &Encounter::describe},
    {"referral", EntityType::kReferral, &Referral::describe},
    {"eol", EntityType::kEndOfLifePlan, &EndOfLifePlan::describe},
    {"provenance", EntityType::kProvenance, &Provenance::describe},
};

std::string entity_names() {
  std::string out;
  for (const EntityInfo& e : kEntities) {
    if (!out.empty()) out += ", ";
    out += e.path_name;
  }
  return out;
}

bool is_entity(const StructInfo* s) {
  for (const EntityInfo& e : kEntities)
    if (&e.info() == s) return true;
  return false;
}

// Every struct and enum reachable from the entities, in first-seen depth-first order, so the
// generated documentation has a stable order that follows the model.
struct Reachable {
  std::vector<const StructInfo*> structs;
  std::vector<const EnumInfo*> enums;
  std::set<const void*> seen;

  void visit(const StructInfo* s) {
    if (!seen.insert(s).second) return;
    structs.push_back(s);
    for (const FieldInfo& f : s->fields) {
      if (f.kind == Kind::kStruct) visit(f.struct_info());
      if (f.kind == Kind::kEnum && seen.insert(f.enum_info()).second) enums.push_back(f.enum_info());
    }
  }
};

Reachable reachable() {
  Reachable r;
  for (const EntityInfo& e : kEntities) r.visit(&e.info());
  return r;
}

}  // namespace

std::span<const EntityInfo> entities() { return kEntities; }

const EntityInfo* find_entity(std::string_view path_name) {
  for (const EntityInfo& e : kEntities)
    if (e.path_name == path_name) return &e;
  return nullptr;
}

const EntityInfo& entity_info(EntityType type) {
  return kEntities[static_cast<std::size_t>(type)];
}

std::string PathInfo::type_name() const {
  std::string t;
  if (kind == Kind::kStruct) t = std::string(struct_info->name);
  else if (kind == Kind::kEnum) t = "enum " + std::string(enum_info->name);
  else t = kind_name(kind);
  return is_list ? "list of " + t : t;
}

Result<PathInfo, PathError> lookup_path(std::string_view path) {
  auto fail = [](std::size_t offset, std::string message) {
    return err(PathError{offset, std::move(message)});
  };
  const std::size_t first_dot = path.find('.');
  const std::string_view entity_name = path.substr(0, first_dot);
  PathInfo info;
  info.entity = find_entity(entity_name);
  if (!info.entity)
    return fail(0, "unknown entity '" + std::string(entity_name) + "' (known: " + entity_names() +
                       ")");
  info.kind = Kind::kStruct;
  info.struct_info = &info.entity->info();
  std::string_view prev_name = entity_name;

  std::size_t pos = first_dot;
  while (pos != std::string_view::npos) {
    const std::size_t start = pos + 1;
    const std::size_t end = path.find('.', start);
    std::string_view seg = path.substr(start, end == std::string_view::npos ? end : end - start);
    pos = end;

    // Split "name[index]".
    std::string_view name = seg;
    bool indexed = false;
    std::optional<std::size_t> index;
    if (const std::size_t br = seg.find('['); br != std::string_view::npos) {
      name = seg.substr(0, br);
      if (seg.back() != ']')
        return fail(start, "segment '" + std::string(seg) + "': expected ']' at its end");
      const std::string_view digits = seg.substr(br + 1, seg.size() - br - 2);
      for (char c : digits)
        if (c < '0' || c > '9')
          return fail(start + br + 1,
                      "segment '" + std::string(seg) + "': index must be digits or empty");
      indexed = true;
      if (!digits.empty()) {
        if (digits.size() > 6) return fail(start + br + 1, "index too large");
        index = std::stoul(std::string(digits));
      }
    }
    if (name.empty()) return fail(start, "empty segment");

    // Going into a field needs a struct, and a list must have been indexed first.
    if (info.is_list)
      return fail(start, "'" + std::string(prev_name) + "' is a list; select its elements with " +
                             std::string(prev_name) + "[] or " + std::string(prev_name) +
                             "[n] before '." + std::string(name) + "'");
    if (info.kind != Kind::kStruct)
      return fail(start, "'" + std::string(prev_name) + "' is " + info.type_name() +
                             " and has no field '" + std::string(name) + "'");
    const FieldInfo* f = info.struct_info->find(name);
    if (!f)
      return fail(start, "unknown field '" + std::string(name) + "' in " +
                             std::string(info.struct_info->name) + " (path so far: " +
                             std::string(path.substr(0, start - 1)) + ")");
    const bool list = f->shape == Shape::kList;
    if (indexed && !list)
      return fail(start, "'" + std::string(name) + "' is " + f->type_name() +
                             ", not a list; it cannot be indexed");
    if (index && f->max_items && *index >= f->max_items)
      return fail(start, "'" + std::string(name) + "' holds at most " +
                             std::to_string(f->max_items) + " items; index " +
                             std::to_string(*index) + " is out of range");
    info.field = f;
    info.kind = f->kind;
    info.struct_info = f->kind == Kind::kStruct ? f->struct_info() : nullptr;
    info.enum_info = f->kind == Kind::kEnum ? f->enum_info() : nullptr;
    info.is_list = list && !indexed;
    info.element = indexed;
    if (indexed && !index) info.repeated = true;
    prev_name = name;
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Exports

namespace {

using Alloc = rapidjson::Document::AllocatorType;

rapidjson::Value str(std::string_view s, Alloc& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

std::string schema_json() {
  const Reachable r = reachable();
  rapidjson::Document doc;
  doc.SetObject();
  Alloc& a = doc.GetAllocator();

  rapidjson::Value ents(rapidjson::kObjectType);
  for (const EntityInfo& e : kEntities) ents.AddMember(str(e.path_name, a), str(e.info().name, a), a);
  doc.AddMember("entities", ents, a);

  rapidjson::Value types(rapidjson::kObjectType);
  for (const StructInfo* s : r.structs) {
    rapidjson::Value t(rapidjson::kObjectType);
    t.AddMember("doc", str(s->doc, a), a);
    rapidjson::Value fields(rapidjson::kArrayType);
    for (const FieldInfo& f : s->fields) {
      rapidjson::Value fv(rapidjson::kObjectType);
      fv.AddMember("name", str(f.name, a), a);
      fv.AddMember("type", str(f.type_name(), a), a);
      fv.AddMember("kind", str(kind_name(f.kind), a), a);
      fv.AddMember("cardinality", str(f.cardinality(), a), a);
      fv.AddMember("doc", str(f.doc, a), a);
      if (f.kind == Kind::kStruct) fv.AddMember("struct", str(f.struct_info()->name, a), a);
      if (f.kind == Kind::kEnum) fv.AddMember("enum", str(f.enum_info()->name, a), a);
      fields.PushBack(fv, a);
    }
    t.AddMember("fields", fields, a);
    types.AddMember(str(s->name, a), t, a);
  }
  doc.AddMember("types", types, a);

  rapidjson::Value enums(rapidjson::kObjectType);
  for (const EnumInfo* e : r.enums) {
    rapidjson::Value ev(rapidjson::kObjectType);
    ev.AddMember("doc", str(e->doc, a), a);
    rapidjson::Value values(rapidjson::kArrayType);
    for (const EnumValue& v : e->values) {
      rapidjson::Value vv(rapidjson::kObjectType);
      vv.AddMember("code", str(v.code, a), a);
      vv.AddMember("meaning", str(v.meaning, a), a);
      values.PushBack(vv, a);
    }
    ev.AddMember("values", values, a);
    enums.AddMember(str(e->name, a), ev, a);
  }
  doc.AddMember("enums", enums, a);

  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

namespace {

// Markdown table cells must not contain a bare '|'.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

std::string anchor_type(const FieldInfo& f) {
  // Link component types and enums to their sections (GitHub-style lower-case anchors).
  auto link = [](std::string_view name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "[" + std::string(name) + "](#" + lower + ")";
  };
  std::string t;
  if (f.kind == Kind::kStruct) t = link(f.struct_info()->name);
  else if (f.kind == Kind::kEnum) t = "enum " + link(f.enum_info()->name);
  else t = kind_name(f.kind);
  return f.shape == Shape::kList ? "list of " + t : t;
}

void field_table(const StructInfo& s, std::string& out) {
  out += "| Field | Type | Card. | Meaning |\n|---|---|---|---|\n";
  for (const FieldInfo& f : s.fields)
    out += "| `" + std::string(f.name) + "` | " + anchor_type(f) + " | " + f.cardinality() +
           " | " + cell(f.doc) + " |\n";
}

}  // namespace

std::string model_reference_markdown(
    const std::function<std::string(std::string_view)>& example) {
  const Reachable r = reachable();
  std::string out;
  out += "## Entities\n\n";
  for (const EntityInfo& e : kEntities) {
    const StructInfo& s = e.info();
    out += "### " + std::string(s.name) + "\n\n";
    out += "Path name `" + std::string(e.path_name) + "`. " + cell(s.doc) + "\n\n";
    field_table(s, out);
    const std::string ex = example(e.path_name);
    if (!ex.empty()) {
      out += "\nExample (`examples/" + std::string(e.path_name) + ".json`):\n\n```json\n" + ex;
      if (ex.back() != '\n') out += "\n";
      out += "```\n";
    }
    out += "\n";
  }
  out += "## Component types\n\n";
  for (const StructInfo* s : r.structs) {
    if (is_entity(s)) continue;
    out += "### " + std::string(s->name) + "\n\n" + cell(s->doc) + "\n\n";
    field_table(*s, out);
    out += "\n";
  }
  out += "## Enumerations\n\n";
  for (const EnumInfo* e : r.enums) {
    out += "### " + std::string(e->name) + "\n\n" + cell(e->doc) + "\n\n";
    out += "| Code | Meaning |\n|---|---|\n";
    for (const EnumValue& v : e->values)
      out += "| `" + std::string(v.code) + "` | " + cell(v.meaning) + " |\n";
    out += "\n";
  }
  return out;
}

}  // namespace midhurst::care
