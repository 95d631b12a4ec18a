#include "fhir/profile_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "fhir/element_rule.h"
#include "fhir/json.h"
#include "fhir/snapshot.h"

namespace midhurst::fhir {

namespace {

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}

std::string_view strip_version(std::string_view url) {
  auto bar = url.find('|');
  return bar == std::string_view::npos ? url : url.substr(0, bar);
}

constexpr std::string_view kCorePrefix = "http://hl7.org/fhir/StructureDefinition/";

}  // namespace

bool CodeSet::contains(std::string_view system, std::string_view code) const {
  if (open_systems.count("*")) return true;
  if (system.empty()) {
    for (const auto& [s, set] : codes) {
      if (set.count(std::string(code))) return true;
    }
    return !open_systems.empty();
  }
  if (open_systems.count(system)) return true;
  auto it = codes.find(system);
  return it != codes.end() && it->second.count(std::string(code)) > 0;
}

struct ProfileSet::Raw {
  // Everything added, by url, pointing into docs_.
  std::map<std::string, const rapidjson::Value*, std::less<>> structures, value_sets, code_systems;
  std::map<std::string, std::string, std::less<>> source;  // url -> file, for messages
};

ProfileSet::ProfileSet() : raw_(std::make_unique<Raw>()) {}
ProfileSet::~ProfileSet() = default;
ProfileSet::ProfileSet(ProfileSet&&) noexcept = default;
ProfileSet& ProfileSet::operator=(ProfileSet&&) noexcept = default;

Status ProfileSet::add_json(std::string_view text, const std::string& source_name) {
  auto doc = parse_json(text);
  if (!doc.ok()) {
    return make_error(doc.error().code, {}, source_name + ": " + doc.error().to_string());
  }
  docs_.push_back(std::make_unique<rapidjson::Document>(std::move(doc).value()));
  const rapidjson::Value& root = *docs_.back();
  std::vector<const rapidjson::Value*> resources;
  if (str(root, "resourceType") == "Bundle" && root.HasMember("entry")) {
    for (const auto& e : root["entry"].GetArray()) {
      if (e.HasMember("resource")) resources.push_back(&e["resource"]);
    }
  } else {
    resources.push_back(&root);
  }
  for (const auto* r : resources) {
    std::string type = str(*r, "resourceType");
    std::string url = str(*r, "url");
    decltype(raw_->structures)* into = nullptr;
    if (type == "StructureDefinition") into = &raw_->structures;
    if (type == "ValueSet") into = &raw_->value_sets;
    if (type == "CodeSystem") into = &raw_->code_systems;
    if (!into) continue;  // other resources (examples, ConceptMaps) are not definitions
    if (url.empty()) {
      return make_error(Error::Code::kModel, {}, source_name + ": a " + type + " without url");
    }
    if (!into->emplace(url, r).second) {
      return make_error(Error::Code::kModel, {},
                        source_name + ": " + url + " is defined twice (also in " +
                            raw_->source[url] + ")");
    }
    raw_->source[url] = source_name;
  }
  return {};
}

namespace {

void add_concepts(const rapidjson::Value& concepts, std::set<std::string>& out) {
  if (!concepts.IsArray()) return;
  for (const auto& c : concepts.GetArray()) {
    std::string code = str(c, "code");
    if (!code.empty()) out.insert(code);
    if (c.HasMember("concept")) add_concepts(c["concept"], out);
  }
}

}  // namespace

Status ProfileSet::finish() {
  Raw& raw = *raw_;

  // 1. StructureDefinitions with snapshots (the base definitions) first, then profiles in
  //    dependency order: a profile is built once its base is.
  std::function<Status(const std::string&, int)> build = [&](const std::string& url,
                                                               int depth) -> Status {
    if (structures_.count(url)) return {};
    auto it = raw.structures.find(url);
    if (it == raw.structures.end()) {
      return make_error(Error::Code::kModel, {}, "no StructureDefinition " + url);
    }
    if (depth > 20) return make_error(Error::Code::kModel, {}, url + ": baseDefinition loop");
    const rapidjson::Value& r = *it->second;
    auto sd = std::make_unique<StructureDef>();
    sd->url = url;
    sd->name = str(r, "name");
    sd->type = str(r, "type");
    sd->kind = str(r, "kind");
    sd->base_url = std::string(strip_version(str(r, "baseDefinition")));
    sd->is_abstract = r.HasMember("abstract") && r["abstract"].IsBool() && r["abstract"].GetBool();
    sd->is_constraint = str(r, "derivation") == "constraint";
    auto snap = r.FindMember("snapshot");
    if (snap != r.MemberEnd() && snap->value.HasMember("element")) {
      for (const auto& el : snap->value["element"].GetArray()) {
        sd->elements.push_back(internal::read_element(el));
      }
      for (auto& e : sd->elements) {
        if (e.min < 0) e.min = 0;
        if (e.max.empty()) e.max = "*";
        if (e.base_max.empty()) e.base_max = e.max;
      }
      sd->index();
    } else {
      if (sd->base_url.empty()) {
        return make_error(Error::Code::kModel, {}, url + ": neither snapshot nor baseDefinition");
      }
      if (auto st = build(sd->base_url, depth + 1); !st.ok()) {
        return make_error(Error::Code::kModel, {},
                          raw.source[url] + ": " + url + ": base: " + st.error().reason);
      }
      const StructureDef& base = *structures_.at(sd->base_url);
      auto diff = r.FindMember("differential");
      static const rapidjson::Value kEmpty(rapidjson::kArrayType);
      const rapidjson::Value& elements =
          diff != r.MemberEnd() && diff->value.HasMember("element") ? diff->value["element"]
                                                                    : kEmpty;
      BaseTypeLookup lookup = [&](std::string_view type) -> const StructureDef* {
        std::string type_url = std::string(kCorePrefix) + std::string(type);
        if (!build(type_url, depth + 1).ok()) return nullptr;
        return structures_.at(type_url).get();
      };
      std::string why = build_snapshot(*sd, base, elements, lookup);
      if (!why.empty()) {
        return make_error(Error::Code::kModel, {}, raw.source[url] + ": " + url + ": " + why);
      }
    }
    if (sd->elements.empty()) return make_error(Error::Code::kModel, {}, url + ": no elements");
    const StructureDef* p = sd.get();
    structures_.emplace(url, std::move(sd));
    if (!p->is_constraint && r.HasMember("snapshot")) base_types_[p->type] = p;
    return {};
  };
  for (const auto& [url, r] : raw.structures) {
    (void)r;
    if (auto st = build(url, 0); !st.ok()) return st;
  }

  // 2. ValueSets, expanded from compose (or from a stored expansion when there is no compose).
  std::function<Status(const std::string&, int)> expand = [&](const std::string& url,
                                                                int depth) -> Status {
    if (value_sets_.count(url)) return {};
    auto it = raw.value_sets.find(url);
    if (it == raw.value_sets.end()) return make_error(Error::Code::kModel, {}, "no ValueSet " + url);
    if (depth > 20) return make_error(Error::Code::kModel, {}, url + ": include loop");
    const rapidjson::Value& vs = *it->second;
    CodeSet set;
    set.url = url;
    auto compose = vs.FindMember("compose");
    if (compose != vs.MemberEnd()) {
      for (const char* part : {"include", "exclude"}) {
        auto items = compose->value.FindMember(part);
        if (items == compose->value.MemberEnd()) continue;
        bool include = std::string_view(part) == "include";
        for (const auto& inc : items->value.GetArray()) {
          std::string system = str(inc, "system");
          if (include && inc.HasMember("valueSet")) {
            for (const auto& nested : inc["valueSet"].GetArray()) {
              std::string n(strip_version(nested.GetString()));
              if (!raw.value_sets.count(n)) {
                // A value set we do not ship: nothing in it can be checked.
                set.open_systems.insert(system.empty() ? "*" : system);
                continue;
              }
              if (auto st = expand(n, depth + 1); !st.ok()) return st;
              const CodeSet& other = value_sets_.at(n);
              for (const auto& [s, codes] : other.codes) set.codes[s].insert(codes.begin(), codes.end());
              set.open_systems.insert(other.open_systems.begin(), other.open_systems.end());
            }
          }
          if (system.empty()) continue;
          if (inc.HasMember("concept")) {
            std::set<std::string> codes;
            add_concepts(inc["concept"], codes);
            auto& target = set.codes[system];
            if (include) {
              target.insert(codes.begin(), codes.end());
            } else {
              for (const auto& c : codes) target.erase(c);
            }
          } else if (include && !inc.HasMember("filter") && raw.code_systems.count(system) &&
                     str(*raw.code_systems.at(system), "content") == "complete") {
            add_concepts((*raw.code_systems.at(system))["concept"], set.codes[system]);
          } else if (include && !inc.HasMember("valueSet")) {
            set.open_systems.insert(system);  // filter, or a code system we do not ship
          }
        }
      }
    } else if (vs.HasMember("expansion") && vs["expansion"].HasMember("contains")) {
      for (const auto& c : vs["expansion"]["contains"].GetArray()) {
        set.codes[str(c, "system")].insert(str(c, "code"));
      }
    }
    // "*" (an unknown nested value set without a system) opens every system.
    value_sets_.emplace(url, std::move(set));
    return {};
  };
  for (const auto& [url, r] : raw.value_sets) {
    (void)r;
    if (auto st = expand(url, 0); !st.ok()) return st;
  }
  return {};
}

Result<ProfileSet> ProfileSet::load(const std::string& profiles_dir) {
  namespace fs = std::filesystem;
  ProfileSet set;
  std::vector<fs::path> files = {fs::path(profiles_dir) / "fhir-r4-definitions.json"};
  for (const char* sub : {"ukcore", "midhurst"}) {
    fs::path dir = fs::path(profiles_dir) / sub;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".json") found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return make_error(Error::Code::kIo, {}, "cannot read " + f.string());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string name = fs::relative(f, profiles_dir).string();
    if (auto st = set.add_json(ss.str(), name); !st.ok()) return err(st.error());
  }
  if (auto st = set.finish(); !st.ok()) return err(st.error());
  return set;
}

const StructureDef* ProfileSet::structure(std::string_view url_or_type) const {
  std::string_view url = strip_version(url_or_type);
  auto it = structures_.find(url);
  if (it != structures_.end()) return it->second.get();
  return base_type(url);
}

const StructureDef* ProfileSet::base_type(std::string_view type) const {
  auto it = base_types_.find(type);
  return it == base_types_.end() ? nullptr : it->second;
}

const CodeSet* ProfileSet::value_set(std::string_view url) const {
  auto it = value_sets_.find(strip_version(url));
  return it == value_sets_.end() ? nullptr : &it->second;
}

}  // namespace midhurst::fhir
