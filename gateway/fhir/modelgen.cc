// fhir_modelgen: builds Midhurst's compact FHIR model file from StructureDefinitions.
//
// Usage: fhir_modelgen OUT.json BUNDLE.json [BUNDLE.json...]
//
// Each input is a FHIR Bundle of StructureDefinitions (the spec downloads profiles-types.json and
// profiles-resources.json). The output is the data the JSON <-> XML converter needs and nothing
// more: for every primitive type its JSON kind, and for every complex type, resource and
// BackboneElement the ordered list of its elements (name, type(s), repeats?, XML attribute?).
// The format is described in gateway/fhir/model.h. One type per line, so regenerating gives a
// reviewable diff. This tool is not part of the normal build's data flow: its output is committed
// (profiles/fhir-r4-model.json) and the `fhir_model` target regenerates it.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char* kFhirTypeExtension =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
constexpr const char* kSdPrefix = "http://hl7.org/fhir/StructureDefinition/";

struct OutType {
  std::string name;
  std::string kind;  // primitive | complex | resource | backbone
  std::string base;
  bool is_abstract = false;
  std::string json;  // primitives only
  std::vector<std::string> elements;  // "name|type,type|flags"
};

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The FHIR type code of one ElementDefinition.type entry. R4 writes the types of Element.id,
// Extension.url and the primitives' `value` as FHIRPath system types
// (http://hl7.org/fhirpath/System.String) and names the FHIR type in an extension.
std::string type_code(const rapidjson::Value& type) {
  std::string code = str(type, "code");
  if (code.rfind("http://hl7.org/fhirpath/System.", 0) != 0) return code;
  auto ext = type.FindMember("extension");
  if (ext != type.MemberEnd() && ext->value.IsArray()) {
    for (const auto& e : ext->value.GetArray()) {
      if (str(e, "url") == kFhirTypeExtension) return str(e, "valueUrl");
    }
  }
  return "string";
}

bool has_representation(const rapidjson::Value& el, const char* rep) {
  auto it = el.FindMember("representation");
  if (it == el.MemberEnd() || !it->value.IsArray()) return false;
  for (const auto& r : it->value.GetArray()) {
    if (r.IsString() && std::string(r.GetString()) == rep) return true;
  }
  return false;
}

bool load(const char* path, rapidjson::Document& doc) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "fhir_modelgen: cannot open " << path << "\n";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) {
    std::cerr << "fhir_modelgen: " << path << ": JSON error at offset " << doc.GetErrorOffset()
              << ": " << rapidjson::GetParseError_En(doc.GetParseError()) << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: fhir_modelgen OUT.json BUNDLE.json [BUNDLE.json...]\n";
    return 2;
  }
  std::vector<rapidjson::Document> docs(argc - 2);
  std::vector<const rapidjson::Value*> sds;
  for (int i = 2; i < argc; ++i) {
    if (!load(argv[i], docs[i - 2])) return 1;
    const auto& bundle = docs[i - 2];
    if (!bundle.IsObject() || !bundle.HasMember("entry") || !bundle["entry"].IsArray()) {
      std::cerr << "fhir_modelgen: " << argv[i] << " is not a Bundle with entries\n";
      return 1;
    }
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (!entry.IsObject() || !entry.HasMember("resource")) continue;
      const auto& res = entry["resource"];
      if (str(res, "resourceType") != "StructureDefinition") continue;
      std::string kind = str(res, "kind");
      // Constraints (SimpleQuantity, profiles) and logical models add no wire shape.
      if (str(res, "derivation") == "constraint" || kind == "logical") continue;
      sds.push_back(&res);
    }
  }

  // Primitive JSON kinds: from the `value` element's system type, inherited along baseDefinition
  // (R4 types positiveInt.value as System.String, but positiveInt derives from integer, and
  // https://hl7.org/fhir/R4/json.html#primitive says integers are JSON numbers).
  std::map<std::string, std::string> json_kind;
  std::map<std::string, std::string> base_of;
  for (const auto* sd : sds) {
    if (str(*sd, "kind") != "primitive-type") continue;
    std::string name = str(*sd, "type");
    std::string base = str(*sd, "baseDefinition");
    if (base.rfind(kSdPrefix, 0) == 0) base_of[name] = base.substr(std::string(kSdPrefix).size());
    std::string kind = "string";
    for (const auto& el : (*sd)["snapshot"]["element"].GetArray()) {
      if (str(el, "path") != name + ".value" || !el.HasMember("type")) continue;
      std::string code = str(el["type"][0], "code");
      if (code == "http://hl7.org/fhirpath/System.Boolean") kind = "boolean";
      if (code == "http://hl7.org/fhirpath/System.Integer" ||
          code == "http://hl7.org/fhirpath/System.Decimal")
        kind = "number";
      if (has_representation(el, "xhtml")) kind = "xhtml";
    }
    json_kind[name] = kind;
  }
  for (auto& [name, kind] : json_kind) {
    for (std::string b = base_of[name]; kind == "string" && json_kind.count(b); b = base_of[b]) {
      if (json_kind[b] != "string") kind = json_kind[b];
    }
  }

  std::vector<OutType> out;
  std::set<std::string> seen;
  for (const auto* sd : sds) {
    std::string name = str(*sd, "type");
    std::string sd_kind = str(*sd, "kind");
    if (!seen.insert(name).second) {
      std::cerr << "fhir_modelgen: duplicate definition of " << name << "\n";
      return 1;
    }
    OutType t;
    t.name = name;
    t.is_abstract = sd->HasMember("abstract") && (*sd)["abstract"].IsTrue();
    std::string base = str(*sd, "baseDefinition");
    if (base.rfind(kSdPrefix, 0) == 0) t.base = base.substr(std::string(kSdPrefix).size());
    if (sd_kind == "primitive-type") {
      t.kind = "primitive";
      t.json = json_kind[name];
      out.push_back(t);
      continue;
    }
    t.kind = sd_kind == "resource" ? "resource" : "complex";

    // Owner type name -> index in `out`. Backbone types are named by their element path
    // (Patient.contact), which is also what contentReference (#Bundle.link) points at.
    std::map<std::string, size_t> owner;
    out.push_back(t);
    owner[name] = out.size() - 1;
    const auto& els = (*sd)["snapshot"]["element"].GetArray();
    for (rapidjson::SizeType i = 1; i < els.Size(); ++i) {
      const auto& el = els[i];
      std::string path = str(el, "path");
      size_t dot = path.rfind('.');
      std::string parent = path.substr(0, dot);
      std::string field = path.substr(dot + 1);
      if (!owner.count(parent)) {
        std::cerr << "fhir_modelgen: " << path << " has no parent element\n";
        return 1;
      }
      std::string max = str(el, "max");
      if (max == "0") continue;  // prohibited: never on the wire (e.g. xhtml.extension)
      bool has_children =
          i + 1 < els.Size() && str(els[i + 1], "path").rfind(path + ".", 0) == 0;
      std::string types;
      std::string content_ref = str(el, "contentReference");
      if (!content_ref.empty()) {
        types = content_ref.substr(content_ref.find('#') + 1);
      } else if (has_children) {
        types = path;
        OutType b;
        b.name = path;
        b.kind = "backbone";
        b.base = type_code(el["type"][0]);  // BackboneElement or Element
        out.push_back(b);
        owner[path] = out.size() - 1;
      } else if (el.HasMember("type")) {
        for (const auto& ty : el["type"].GetArray()) {
          if (!types.empty()) types += ",";
          types += type_code(ty);
        }
      } else {
        std::cerr << "fhir_modelgen: " << path << " has no type\n";
        return 1;
      }
      std::string flags;
      if (max != "1") flags += "*";
      if (has_representation(el, "xmlAttr")) flags += "@";
      std::string entry = field + "|" + types;
      if (!flags.empty()) entry += "|" + flags;
      out[owner[parent]].elements.push_back(entry);
    }
  }

  std::ostringstream os;
  os << "{\"format\": \"midhurst-fhir-model/1\",\n"
     << " \"fhirVersion\": \"4.0.1\",\n"
     << " \"note\": \"Generated by gateway/fhir/modelgen.cc (ninja fhir_model); do not edit.\",\n"
     << " \"types\": [\n";
  for (size_t i = 0; i < out.size(); ++i) {
    const auto& t = out[i];
    os << "  {\"name\": \"" << json_escape(t.name) << "\", \"kind\": \"" << t.kind << "\"";
    if (!t.base.empty()) os << ", \"base\": \"" << json_escape(t.base) << "\"";
    if (t.is_abstract) os << ", \"abstract\": true";
    if (!t.json.empty()) os << ", \"json\": \"" << t.json << "\"";
    if (t.kind != "primitive") {
      os << ", \"elements\": [";
      for (size_t j = 0; j < t.elements.size(); ++j) {
        os << (j ? ", " : "") << "\"" << json_escape(t.elements[j]) << "\"";
      }
      os << "]";
    }
    os << "}" << (i + 1 < out.size() ? "," : "") << "\n";
  }
  os << " ]}\n";

  std::ofstream f(argv[1], std::ios::binary);
  f << os.str();
  if (!f) {
    std::cerr << "fhir_modelgen: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
