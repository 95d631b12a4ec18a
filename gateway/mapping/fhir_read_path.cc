#include "mapping/fhir_read_path.h"

namespace midhurst::mapping {

namespace {

void step_into(const rapidjson::Value& from, const std::string& location, const FhirPath& path, std::size_t i,
               std::vector<FhirValue>& out) {
  if (i == path.steps().size()) {
    out.push_back(FhirValue{&from, location});
    return;
  }
  if (!from.IsObject()) return;
  const FhirPath::Step& step = path.steps()[i];
  const auto m = from.FindMember(step.name.c_str());
  if (m == from.MemberEnd() || m->value.IsNull()) return;
  const std::string here = location + "." + step.name;
  if (!m->value.IsArray()) {
    // A non-repeating element (or a sender writing one value where an array belongs: read it).
    if (step.select == FhirPath::Step::Select::kKey) {
      const auto k = m->value.IsObject() ? m->value.FindMember(step.key.c_str()) : m->value.MemberEnd();
      if (!m->value.IsObject() || k == m->value.MemberEnd() || fhir_text(k->value) != step.key_value) return;
    }
    step_into(m->value, here, path, i + 1, out);
    return;
  }
  for (rapidjson::SizeType n = 0; n < m->value.Size(); ++n) {
    const rapidjson::Value& e = m->value[n];
    if (step.select == FhirPath::Step::Select::kKey) {
      if (!e.IsObject()) continue;
      const auto k = e.FindMember(step.key.c_str());
      if (k == e.MemberEnd() || fhir_text(k->value) != step.key_value) continue;
    }
    step_into(e, here + "[" + std::to_string(n) + "]", path, i + 1, out);
    if (step.select == FhirPath::Step::Select::kNone) break;  // a single element path reads the first
  }
}

}  // namespace

void read_fhir_path(const rapidjson::Value& from, const std::string& location, const FhirPath& path,
                    std::vector<FhirValue>& out) {
  step_into(from, location, path, 0, out);
}

void for_each_fhir_leaf(const rapidjson::Value& v, const std::string& location,
                        const std::function<void(const std::string&)>& fn) {
  if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      if (name == "resourceType") continue;
      for_each_fhir_leaf(m->value, location + "." + name, fn);
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType n = 0; n < v.Size(); ++n)
      for_each_fhir_leaf(v[n], location + "[" + std::to_string(n) + "]", fn);
  } else if (!v.IsNull()) {
    fn(location);
  }
}

std::string fhir_text(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) {
    std::string s = std::to_string(v.GetDouble());
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  return "";
}

}  // namespace midhurst::mapping
