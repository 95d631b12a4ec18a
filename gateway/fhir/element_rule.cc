// Reading ElementDefinitions (snapshot or differential JSON) into ElementRules, and the
// StructureDef index. Internal to profile_set.cc and snapshot.cc; see profile_set.h.
#include "fhir/element_rule.h"

#include <string>

namespace midhurst::fhir {

std::string ElementRule::name() const {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

bool ElementRule::is_choice() const {
  return path.size() > 3 && path.compare(path.size() - 3, 3, "[x]") == 0;
}

const ElementRule* StructureDef::find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &elements[it->second];
}

const std::vector<size_t>& StructureDef::children(size_t index) const { return children_[index]; }
const std::vector<size_t>& StructureDef::slices(size_t index) const { return slices_[index]; }

void StructureDef::index() {
  by_id_.clear();
  children_.assign(elements.size(), {});
  slices_.assign(elements.size(), {});
  for (size_t i = 0; i < elements.size(); ++i) by_id_[elements[i].id] = i;
  for (size_t i = 1; i < elements.size(); ++i) {
    const std::string& id = elements[i].id;
    auto dot = id.rfind('.');
    if (dot == std::string::npos) continue;
    std::string last = id.substr(dot + 1);
    auto colon = last.find(':');
    if (colon != std::string::npos) {
      // A slice (or re-slice) of the element named without its slice name.
      auto base = by_id_.find(id.substr(0, dot + 1 + colon));
      if (base != by_id_.end()) slices_[base->second].push_back(i);
    } else {
      auto parent = by_id_.find(std::string_view(id).substr(0, dot));
      if (parent != by_id_.end()) children_[parent->second].push_back(i);
    }
  }
}

namespace internal {

namespace {
std::string str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}
std::vector<std::string> strings(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& s : it->value.GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString());
  }
  return out;
}
}  // namespace

ElementRule read_element(const rapidjson::Value& el) {
  ElementRule r;
  r.id = str(el, "id");
  r.path = str(el, "path");
  if (r.id.empty()) r.id = r.path;
  r.slice_name = str(el, "sliceName");
  // Numbers may be held as text (json.h contract) or as numbers (RapidJSON parse).
  if (auto it = el.FindMember("min"); it != el.MemberEnd()) {
    if (it->value.IsInt()) r.min = it->value.GetInt();
    if (it->value.IsString()) r.min = std::stoi(it->value.GetString());
  }
  r.max = str(el, "max");
  if (auto it = el.FindMember("base"); it != el.MemberEnd() && it->value.IsObject()) {
    r.base_max = str(it->value, "max");
  }
  r.content_reference = str(el, "contentReference");
  if (auto it = el.FindMember("type"); it != el.MemberEnd() && it->value.IsArray()) {
    for (const auto& t : it->value.GetArray()) {
      r.types.push_back({str(t, "code"), strings(t, "profile"), strings(t, "targetProfile")});
    }
  }
  for (auto it = el.MemberBegin(); it != el.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (name.rfind("fixed", 0) == 0 && name.size() > 5) {
      r.fixed = &it->value;
      r.fixed_type = std::string(name.substr(5));
    } else if (name.rfind("pattern", 0) == 0 && name.size() > 7) {
      r.pattern = &it->value;
      r.pattern_type = std::string(name.substr(7));
    }
  }
  if (auto it = el.FindMember("binding"); it != el.MemberEnd() && it->value.IsObject()) {
    r.binding = Binding{str(it->value, "strength"), str(it->value, "valueSet")};
  }
  if (auto it = el.FindMember("slicing"); it != el.MemberEnd() && it->value.IsObject()) {
    Slicing s;
    std::string rules = str(it->value, "rules");
    if (!rules.empty()) s.rules = rules;
    if (auto d = it->value.FindMember("discriminator");
        d != it->value.MemberEnd() && d->value.IsArray()) {
      for (const auto& disc : d->value.GetArray()) {
        s.discriminators.push_back({str(disc, "type"), str(disc, "path")});
      }
    }
    r.slicing = std::move(s);
  }
  return r;
}

void merge_element(ElementRule& into, const ElementRule& diff) {
  if (diff.min >= 0) into.min = diff.min;
  if (!diff.max.empty()) into.max = diff.max;
  if (!diff.types.empty()) into.types = diff.types;
  if (!diff.content_reference.empty()) into.content_reference = diff.content_reference;
  if (diff.fixed) {
    into.fixed = diff.fixed;
    into.fixed_type = diff.fixed_type;
  }
  if (diff.pattern) {
    into.pattern = diff.pattern;
    into.pattern_type = diff.pattern_type;
  }
  if (diff.binding) {
    // A differential binding may restate the strength only; keep the value set then.
    Binding b = *diff.binding;
    if (b.value_set.empty() && into.binding) b.value_set = into.binding->value_set;
    into.binding = b;
  }
  if (diff.slicing) into.slicing = diff.slicing;
  if (!diff.slice_name.empty()) into.slice_name = diff.slice_name;
}

}  // namespace internal
}  // namespace midhurst::fhir
