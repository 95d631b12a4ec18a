#include "fhir/model.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace midhurst::fhir {

std::string ElementDef::name_for(const TypeDef& type) const {
  if (!choice) return name;
  std::string out = name;
  out += static_cast<char>(std::toupper(static_cast<unsigned char>(type.name[0])));
  out += type.name.substr(1);
  return out;
}

// Length and three bytes of the name: element names of one type rarely share all four, and the
// probe compares the whole name anyway.
std::uint32_t TypeDef::slot_hash(std::string_view name) {
  std::uint32_t h = static_cast<std::uint32_t>(name.size()) * 0x9E3779B1u;
  if (!name.empty()) {
    h ^= static_cast<unsigned char>(name[0]) * 0x85EBCA77u;
    h ^= static_cast<unsigned char>(name[name.size() / 2]) * 0xC2B2AE3Du;
    h ^= static_cast<unsigned char>(name[name.size() - 1]) * 0x27D4EB2Fu;
  }
  return h ^ (h >> 15);
}

namespace {
// Element names are short: compared inline rather than by a memcmp call, in loads that may
// overlap (the last word ends at the last byte), so no byte loop runs for the tail.
bool same_bytes(const char* a, const char* b, std::size_t n) {
  auto differ = [&](std::size_t at, auto word) {
    decltype(word) x, y;
    std::memcpy(&x, a + at, sizeof x);
    std::memcpy(&y, b + at, sizeof y);
    return x != y;
  };
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (differ(i, std::uint64_t{})) return false;
    return !differ(n - 8, std::uint64_t{});
  }
  if (n >= 4) return !differ(0, std::uint32_t{}) && !differ(n - 4, std::uint32_t{});
  if (n >= 2) return !differ(0, std::uint16_t{}) && !differ(n - 2, std::uint16_t{});
  return n == 0 || a[0] == b[0];
}
}  // namespace

const TypeDef::Slot* TypeDef::find(std::string_view json_name) const {
  if (table_.empty()) return nullptr;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t at = slot_hash(json_name) & mask;; at = (at + 1) & mask) {
    const std::uint16_t e = table_[at];
    if (e == 0) return nullptr;
    const std::string& name = slot_names_[e - 1];
    if (name.size() == json_name.size() && same_bytes(name.data(), json_name.data(), name.size()))
      return &slots_[e - 1];
  }
}

void TypeDef::add_slot(std::string name, Slot slot) {
  slot_names_.push_back(std::move(name));
  slots_.push_back(slot);
}

std::string TypeDef::build_slot_table() {
  std::size_t size = 8;
  while (size < slots_.size() * 4) size *= 2;  // at most a quarter full: short probes
  table_.assign(size, 0);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    std::size_t at = slot_hash(slot_names_[i]) & (size - 1);
    for (; table_[at] != 0; at = (at + 1) & (size - 1))
      if (slot_names_[table_[at] - 1] == slot_names_[i]) return slot_names_[i];
    table_[at] = static_cast<std::uint16_t>(i + 1);
  }
  return "";
}

const TypeDef* Model::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

const TypeDef* Model::resource(std::string_view resource_type) const {
  const TypeDef* t = find(resource_type);
  return t && t->kind == TypeKind::kResource && !t->is_abstract ? t : nullptr;
}

Result<Model> Model::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Error::Code::kIo, "", "cannot open FHIR model file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto model = parse(ss.str());
  if (!model.ok()) {
    Error e = model.error();
    e.reason = path + ": " + e.reason;
    return err(std::move(e));
  }
  return model;
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Err<Error> model_error(std::string reason) {
  return make_error(Error::Code::kModel, "", std::move(reason));
}

}  // namespace

Result<Model> Model::parse(std::string_view json_text) {
  rapidjson::Document doc;
  doc.Parse(json_text.data(), json_text.size());
  if (doc.HasParseError()) {
    return make_error(Error::Code::kSyntax, "",
                      "model is not JSON: " +
                          std::string(rapidjson::GetParseError_En(doc.GetParseError())) +
                          " at offset " + std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject() || !doc.HasMember("format") || !doc["format"].IsString() ||
      std::string_view(doc["format"].GetString()) != "midhurst-fhir-model/1") {
    return model_error("not a midhurst-fhir-model/1 file");
  }
  if (!doc.HasMember("types") || !doc["types"].IsArray()) return model_error("no types array");

  Model model;
  if (doc.HasMember("fhirVersion") && doc["fhirVersion"].IsString()) {
    model.fhir_version_ = doc["fhirVersion"].GetString();
  }
  // Pass 1: every type, so pass 2 can resolve references in any order (backbones and
  // contentReferences point forwards and backwards).
  for (const auto& t : doc["types"].GetArray()) {
    if (!t.IsObject() || !t.HasMember("name") || !t["name"].IsString() || !t.HasMember("kind") ||
        !t["kind"].IsString()) {
      return model_error("a type entry without name or kind");
    }
    auto def = std::make_unique<TypeDef>();
    def->name = t["name"].GetString();
    std::string_view kind = t["kind"].GetString();
    if (kind == "primitive") def->kind = TypeKind::kPrimitive;
    else if (kind == "complex") def->kind = TypeKind::kComplex;
    else if (kind == "resource") def->kind = TypeKind::kResource;
    else if (kind == "backbone") def->kind = TypeKind::kBackbone;
    else return model_error("type " + def->name + " has unknown kind " + std::string(kind));
    def->is_abstract = t.HasMember("abstract") && t["abstract"].IsTrue();
    if (def->kind == TypeKind::kPrimitive) {
      std::string_view json = t.HasMember("json") && t["json"].IsString() ? t["json"].GetString()
                                                                            : "";
      if (json == "string") def->json = JsonKind::kString;
      else if (json == "boolean") def->json = JsonKind::kBoolean;
      else if (json == "number") def->json = JsonKind::kNumber;
      else if (json == "xhtml") def->json = JsonKind::kXhtml;
      else return model_error("primitive " + def->name + " has no valid json kind");
    }
    std::string name = def->name;
    if (!model.types_.emplace(name, std::move(def)).second) {
      return model_error("type " + name + " is defined twice");
    }
  }
  // Pass 2: elements.
  for (const auto& t : doc["types"].GetArray()) {
    TypeDef& def = *model.types_.find(std::string_view(t["name"].GetString()))->second;
    if (def.kind == TypeKind::kPrimitive) continue;
    if (!t.HasMember("elements") || !t["elements"].IsArray()) {
      return model_error("type " + def.name + " has no elements array");
    }
    for (const auto& e : t["elements"].GetArray()) {
      if (!e.IsString()) return model_error("type " + def.name + " has a non-string element");
      std::string_view entry = e.GetString();
      auto parts = split(entry, '|');
      if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
        return model_error("type " + def.name + ": bad element entry '" + std::string(entry) +
                           "'");
      }
      ElementDef el;
      std::string_view name = parts[0];
      if (name.size() > 3 && name.substr(name.size() - 3) == "[x]") {
        el.choice = true;
        name.remove_suffix(3);
      }
      el.name = std::string(name);
      for (std::string_view type_name : split(parts[1], ',')) {
        const TypeDef* type = model.find(type_name);
        if (!type) {
          return model_error(def.name + "." + el.name + " refers to unknown type '" +
                             std::string(type_name) + "'");
        }
        el.types.push_back(type);
      }
      if (!el.choice && el.types.size() != 1) {
        return model_error(def.name + "." + el.name + " has several types but is no choice");
      }
      if (parts.size() == 3) {
        for (char f : parts[2]) {
          if (f == '*') el.repeats = true;
          else if (f == '@') el.xml_attribute = true;
          else return model_error(def.name + "." + el.name + ": unknown flag");
        }
      }
      def.elements.push_back(std::move(el));
    }
    for (size_t i = 0; i < def.elements.size(); ++i) {
      const ElementDef& el = def.elements[i];
      for (const TypeDef* type : el.types) {
        def.add_slot(el.name_for(*type), TypeDef::Slot{&el, type, i});
      }
    }
    if (def.slots_.size() >= UINT16_MAX) return model_error(def.name + " has too many elements");
    if (std::string twice = def.build_slot_table(); !twice.empty())
      return model_error(def.name + " has two elements named " + twice);
  }
  // The converters rely on these two: Element is the shape of a primitive's `_field` object
  // (id and extensions), Extension the one of every extension.
  for (const char* required : {"Element", "Extension"}) {
    if (!model.find(required)) return model_error(std::string("model defines no ") + required);
  }
  return model;
}

}  // namespace midhurst::fhir
