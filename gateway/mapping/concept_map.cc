#include "mapping/concept_map.h"

namespace midhurst::mapping {

namespace {

// A string member, or "" (with an error when present but not a string).
std::string str(const JsonNode& obj, std::string_view key, const ErrorSink& sink) {
  const JsonNode* n = obj.find(key);
  if (!n) return "";
  if (!n->is_string()) {
    sink.at(*n, "'" + std::string(key) + "' must be a string, not " + n->type_name());
    return "";
  }
  return n->string;
}

}  // namespace

std::optional<ConceptMap> ConceptMap::from_json(const JsonDocument& doc, const ErrorSink& sink) {
  const std::size_t errors_before = sink.count();
  const JsonNode& root = doc.root;
  if (!root.is_object()) {
    sink.at(root, "a ConceptMap file must hold a JSON object");
    return std::nullopt;
  }
  const JsonNode* rt = root.find("resourceType");
  if (!rt || !rt->is_string() || rt->string != "ConceptMap") {
    sink.at(rt ? *rt : root, "expected \"resourceType\": \"ConceptMap\"");
    return std::nullopt;
  }
  ConceptMap cm;
  cm.url_ = str(root, "url", sink);
  cm.name_ = str(root, "name", sink);
  const JsonNode* groups = root.find("group");
  if (!groups || !groups->is_array() || groups->items.empty()) {
    sink.at(groups ? *groups : root, "a ConceptMap needs a non-empty 'group' array");
    return std::nullopt;
  }
  for (const JsonNode& g : groups->items) {
    if (!g.is_object()) {
      sink.at(g, "a group must be an object");
      continue;
    }
    Group group;
    group.source = str(g, "source", sink);
    group.target = str(g, "target", sink);
    if (const JsonNode* elements = g.find("element")) {
      if (!elements->is_array()) sink.at(*elements, "'element' must be an array");
      for (const JsonNode& e : elements->items) {
        const std::string code = str(e, "code", sink);
        if (code.empty()) {
          sink.at(e, "an element needs a 'code'");
          continue;
        }
        if (group.elements.count(code)) {
          sink.at(e, "code '" + code + "' appears twice in this group");
          continue;
        }
        const JsonNode* targets = e.find("target");
        if (!targets || !targets->is_array()) continue;  // no target: not mapped
        for (const JsonNode& t : targets->items) {
          const std::string eq = str(t, "equivalence", sink);
          if (eq == "unmatched" || eq == "disjoint") continue;
          const std::string tc = str(t, "code", sink);
          if (tc.empty()) {
            sink.at(t, "a target needs a 'code' (or equivalence unmatched)");
            continue;
          }
          group.elements.emplace(code, Target{tc, str(t, "display", sink)});
          break;
        }
      }
    }
    if (const JsonNode* u = g.find("unmapped")) {
      const std::string mode = str(*u, "mode", sink);
      if (mode == "provided") {
        group.unmapped = Group::Unmapped::kProvided;
      } else if (mode == "fixed") {
        group.unmapped = Group::Unmapped::kFixed;
        group.fixed = Target{str(*u, "code", sink), str(*u, "display", sink)};
        if (group.fixed.code.empty()) sink.at(*u, "unmapped mode 'fixed' needs a 'code'");
      } else {
        sink.at(u->find("mode") ? *u->find("mode") : *u,
                "unmapped mode must be 'provided' or 'fixed' ('other-map' is not supported)");
      }
    }
    cm.groups_.push_back(std::move(group));
  }
  if (sink.count() != errors_before) return std::nullopt;
  cm.build_index();
  return cm;
}

void ConceptMap::build_index() {
  index_.clear();
  for (const Group& g : groups_) index_.emplace_back(g.elements.begin(), g.elements.end());
}

ConceptMap::TranslationView ConceptMap::lookup(std::string_view code, std::string_view source_system) const {
  TranslationView t;
  const bool hashed = index_.size() == groups_.size();
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const Group& g = groups_[i];
    if (!source_system.empty() && g.source != source_system) continue;
    const Target* target = nullptr;
    if (hashed) {
      if (auto it = index_[i].find(code); it != index_[i].end()) target = &it->second;
    } else if (auto it = g.elements.find(code); it != g.elements.end()) {
      target = &it->second;
    }
    if (!target) continue;
    return {Translation::Kind::kMapped, g.target, target->code, target->display};
  }
  for (const Group& g : groups_) {
    if (!source_system.empty() && g.source != source_system) continue;
    if (g.unmapped == Group::Unmapped::kProvided) return {Translation::Kind::kUnmappedProvided, g.source, code, {}};
    if (g.unmapped == Group::Unmapped::kFixed)
      return {Translation::Kind::kUnmappedFixed, g.target, g.fixed.code, g.fixed.display};
  }
  return t;
}

ConceptMap::Translation ConceptMap::translate(std::string_view code, std::string_view source_system) const {
  const TranslationView v = lookup(code, source_system);
  Translation t;
  t.kind = v.kind;
  if (v.kind != Translation::Kind::kUnmapped)
    t.coding = care::Coding{std::string(v.system), std::string(v.code), std::string(v.display)};
  return t;
}

std::vector<std::string> ConceptMap::target_codes() const {
  std::vector<std::string> out;
  for (const Group& g : groups_) {
    for (const auto& [code, target] : g.elements) out.push_back(target.code);
    if (g.unmapped == Group::Unmapped::kFixed) out.push_back(g.fixed.code);
  }
  return out;
}

}  // namespace midhurst::mapping
