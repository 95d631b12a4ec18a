// fhir_profilegen: makes the definition data the validator loads from profiles/.
//
// Usage:
//   fhir_profilegen base OUT.json BUNDLE.json [BUNDLE.json...]
//       Trims the base R4 StructureDefinitions (profiles-types.json, profiles-resources.json) to
//       what the validator reads (see profile_set.h) and writes them as one Bundle, one element
//       per line so that a regeneration gives a reviewable diff.
//   fhir_profilegen xml PROFILES_DIR OUT_DIR FILE.xml [FILE.xml...]
//       Converts published FHIR XML (the UK Core StructureDefinitions, ValueSets, CodeSystems) to
//       FHIR JSON with Midhurst's own xml_to_json (driven by PROFILES_DIR/fhir-r4-model.json),
//       one OUT_DIR/<name>.json per input, pretty-printed. Nothing is edited: the JSON carries
//       exactly what the XML did.
//
// Like fhir_modelgen, this is not part of the normal data flow: its output is committed and the
// `fhir_profiles` target regenerates it; a ctest fails when the committed files are stale.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/json.h"
#include "fhir/r4.h"
#include "fhir/xml.h"

namespace {

constexpr const char* kFhirTypeExtension =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

std::string read(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}

// The FHIR type of an ElementDefinition.type entry. R4 types Element.id, Extension.url and the
// primitives' `value` as FHIRPath system types and names the FHIR type in an extension; the
// validator wants the FHIR type (uri, string), so the trimmed file carries that.
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

// Copies one snapshot element, keeping what the validator reads: identity, cardinality (and the
// base cardinality, which decides the JSON shape), types, contentReference, fixed[x]/pattern[x],
// binding strength and value set, slicing.
void trim_element(const rapidjson::Value& in, rapidjson::Value& out,
                  rapidjson::Document::AllocatorType& a) {
  out.SetObject();
  for (const char* key : {"id", "path", "sliceName", "min", "max", "contentReference"}) {
    auto it = in.FindMember(key);
    if (it != in.MemberEnd()) out.AddMember(rapidjson::StringRef(key), rapidjson::Value(it->value, a), a);
  }
  if (in.HasMember("base")) {
    rapidjson::Value base(rapidjson::kObjectType);
    base.AddMember("max", rapidjson::Value(in["base"]["max"], a), a);
    out.AddMember("base", base, a);
  }
  if (in.HasMember("type")) {
    rapidjson::Value types(rapidjson::kArrayType);
    for (const auto& t : in["type"].GetArray()) {
      rapidjson::Value ty(rapidjson::kObjectType);
      ty.AddMember("code", rapidjson::Value(type_code(t).c_str(), a), a);
      for (const char* key : {"profile", "targetProfile"}) {
        if (t.HasMember(key)) ty.AddMember(rapidjson::StringRef(key), rapidjson::Value(t[key], a), a);
      }
      types.PushBack(ty, a);
    }
    out.AddMember("type", types, a);
  }
  for (auto it = in.MemberBegin(); it != in.MemberEnd(); ++it) {
    std::string name = it->name.GetString();
    if (name.rfind("fixed", 0) == 0 || name.rfind("pattern", 0) == 0) {
      out.AddMember(rapidjson::Value(name.c_str(), a), rapidjson::Value(it->value, a), a);
    }
  }
  if (in.HasMember("binding")) {
    rapidjson::Value b(rapidjson::kObjectType);
    b.AddMember("strength", rapidjson::Value(in["binding"]["strength"], a), a);
    if (in["binding"].HasMember("valueSet")) {
      b.AddMember("valueSet", rapidjson::Value(in["binding"]["valueSet"], a), a);
    }
    out.AddMember("binding", b, a);
  }
  if (in.HasMember("slicing")) out.AddMember("slicing", rapidjson::Value(in["slicing"], a), a);
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

int run_base(const std::string& out_path, const std::vector<std::string>& inputs) {
  std::string out =
      "{\"resourceType\":\"Bundle\",\"id\":\"midhurst-fhir-r4-definitions\","
      "\"type\":\"collection\",\"entry\":[";
  bool first_sd = true;
  for (const auto& path : inputs) {
    bool ok = false;
    std::string text = read(path, &ok);
    if (!ok) {
      std::cerr << "fhir_profilegen: cannot open " << path << "\n";
      return 1;
    }
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("entry")) {
      std::cerr << "fhir_profilegen: " << path << " is not a JSON Bundle\n";
      return 1;
    }
    for (const auto& entry : doc["entry"].GetArray()) {
      const auto& sd = entry["resource"];
      if (str(sd, "resourceType") != "StructureDefinition") continue;
      std::string kind = str(sd, "kind");
      if (kind != "primitive-type" && kind != "complex-type" && kind != "resource") continue;
      rapidjson::Document head(rapidjson::kObjectType);
      auto& a = head.GetAllocator();
      for (const char* key : {"resourceType", "id", "url", "name", "kind", "abstract", "type",
                              "baseDefinition", "derivation"}) {
        if (sd.HasMember(key)) head.AddMember(rapidjson::StringRef(key), rapidjson::Value(sd[key], a), a);
      }
      std::string h = compact(head);
      h.pop_back();  // reopen the object to append the snapshot
      out += first_sd ? "\n" : ",\n";
      first_sd = false;
      out += "{\"resource\":" + h + ",\"snapshot\":{\"element\":[";
      bool first_el = true;
      for (const auto& el : sd["snapshot"]["element"].GetArray()) {
        rapidjson::Value trimmed;
        trim_element(el, trimmed, a);
        out += first_el ? "\n  " : ",\n  ";
        first_el = false;
        out += compact(trimmed);
      }
      out += "]}}}";
    }
  }
  out += "\n]}\n";
  std::ofstream o(out_path, std::ios::binary);
  o << out;
  if (!o) {
    std::cerr << "fhir_profilegen: cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}

int run_xml(const std::string& profiles_dir, const std::string& out_dir,
            const std::vector<std::string>& inputs) {
  auto model = midhurst::fhir::r4::load_model(profiles_dir);
  if (!model.ok()) {
    std::cerr << "fhir_profilegen: " << model.error().to_string() << "\n";
    return 1;
  }
  std::filesystem::create_directories(out_dir);
  for (const auto& path : inputs) {
    bool ok = false;
    std::string text = read(path, &ok);
    if (!ok) {
      std::cerr << "fhir_profilegen: cannot open " << path << "\n";
      return 1;
    }
    auto json = midhurst::fhir::xml_to_json(text, *model);
    if (!json.ok()) {
      std::cerr << "fhir_profilegen: " << path << ": " << json.error().to_string() << "\n";
      return 1;
    }
    auto printed = midhurst::fhir::write_json(*json, *model, {.pretty = true});
    if (!printed.ok()) {
      std::cerr << "fhir_profilegen: " << path << ": " << printed.error().to_string() << "\n";
      return 1;
    }
    auto name = std::filesystem::path(path).stem().string() + ".json";
    std::ofstream o(std::filesystem::path(out_dir) / name, std::ios::binary);
    o << *printed << "\n";
    if (!o) {
      std::cerr << "fhir_profilegen: cannot write " << name << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "base") {
    return run_base(args[1], {args.begin() + 2, args.end()});
  }
  if (args.size() >= 4 && args[0] == "xml") {
    return run_xml(args[1], args[2], {args.begin() + 3, args.end()});
  }
  std::cerr << "usage: fhir_profilegen base OUT.json BUNDLE.json...\n"
               "       fhir_profilegen xml PROFILES_DIR OUT_DIR FILE.xml...\n";
  return 2;
}
