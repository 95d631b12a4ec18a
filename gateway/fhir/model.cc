#include "fhir/model.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cctype>
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

const TypeDef::Slot* TypeDef::find(std::string_view json_name) const {
  auto it = slots_.find(json_name);
  return it == slots_.end() ? nullptr : &it->second;
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
        if (!def.slots_.emplace(el.name_for(*type), TypeDef::Slot{&el, type, i}).second) {
          return model_error(def.name + " has two elements named " + el.name_for(*type));
        }
      }
    }
  }
  // The converters rely on these two: Element is the shape of a primitive's `_field` object
  // (id and extensions), Extension the one of every extension.
  for (const char* required : {"Element", "Extension"}) {
    if (!model.find(required)) return model_error(std::string("model defines no ") + required);
  }
  return model;
}

}  // namespace midhurst::fhir
