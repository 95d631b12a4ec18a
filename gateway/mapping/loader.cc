// Profile loading: parse every file with positions, resolve `extends`, merge rules by id, then
// compile and check each effective rule. Every problem is reported with its file, line and
// column; one problem anywhere refuses the whole set (ProfileSet is all or nothing).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "care/json.h"
#include "fhir/r4.h"
#include "mapping/fhir_render_core.h"
#include "mapping/profile.h"
#include "mapping/rule_json.h"

namespace midhurst::mapping {

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::kHl7v2ToCare: return "hl7v2→care";
    case Direction::kCareToFhir: return "care→fhir";
    case Direction::kFhirToCare: return "fhir→care";
    case Direction::kCareToHl7v2: return "care→hl7v2";
  }
  return "?";
}

std::optional<Direction> parse_direction(std::string_view text) {
  std::string s(text);
  if (const auto arrow = s.find("->"); arrow != std::string::npos) s.replace(arrow, 2, "→");
  for (Direction d : {Direction::kHl7v2ToCare, Direction::kCareToFhir, Direction::kFhirToCare,
                      Direction::kCareToHl7v2})
    if (s == direction_name(d)) return d;
  return std::nullopt;
}

const Profile* ProfileSet::find(std::string_view name) const {
  for (const auto& p : profiles_)
    if (p->name == name) return p.get();
  return nullptr;
}

const ConceptMap* ProfileSet::concept_map(std::string_view name) const {
  auto it = concept_map_index_.find(name);
  return it == concept_map_index_.end() ? nullptr : it->second;
}

std::shared_ptr<const ProfileSet> ProfileStore::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void ProfileStore::replace(std::shared_ptr<const ProfileSet> set) {
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(set);
}

Status<LoadErrors> ProfileStore::reload(const std::string& mappings_dir, const LoadOptions& options) {
  auto loaded = ProfileSet::load_dir(mappings_dir, options);  // outside the lock: it is slow
  if (!loaded) return err(loaded.error());
  replace(std::move(*loaded));
  return {};
}

// ---------------------------------------------------------------------------------------------

namespace {

// One parsed file.
struct ParsedFile {
  std::string name;
  JsonDocument doc;
};

// A rule before compilation: its JSON and where it comes from, merged across `extends`.
struct RawRule {
  std::string id;
  const JsonNode* node = nullptr;
  const ParsedFile* file = nullptr;
  std::vector<RawRule> children;
};

struct RawProfile {
  const ParsedFile* file = nullptr;
  std::string name, version, description, extends, timezone;
  const JsonNode* extends_node = nullptr;
  const JsonNode* match = nullptr;
  const JsonNode* timezone_node = nullptr;
  const JsonNode* ignore = nullptr;
  const JsonNode* rules = nullptr;
  const JsonNode* remove = nullptr;
  std::optional<Direction> direction;
  bool abstract = false;
  int priority = 0;
  bool ok = true;  // false: a structural error already reported; skip dependent checks
};

constexpr std::string_view kProfileKeys[] = {"name", "version", "description", "direction", "extends",
                                             "abstract", "priority", "match", "timezone", "ignore",
                                             "rules", "remove", "message"};
constexpr std::string_view kRuleKeys[] = {"id", "description", "source", "value", "target", "when",
                                          "transform", "default", "conceptMap", "unmapped",
                                          "required", "invalid", "rules"};

bool valid_id(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

class Loader {
 public:
  Loader(const LoadOptions& options) : options_(options) {}

  Result<std::shared_ptr<const ProfileSet>, LoadErrors> run(const std::vector<ProfileSet::SourceFile>& profiles,
                                                            const std::vector<ProfileSet::SourceFile>& maps) {
    set_ = std::make_shared<ProfileSet>();
    load_concept_maps(maps);
    for (const auto& f : profiles) parse_profile(f);
    resolve();
    if (!errors_.empty()) {
      // Inherited rules are checked once per profile that uses them: report each problem once.
      LoadErrors unique;
      for (LoadError& e : errors_)
        if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(std::move(e));
      return err(std::move(unique));
    }
    set_->care_fhir_profiles_ = render::applicable_profiles(*set_, "");
    set_->care_fhir_entity_resources_ = render::entity_resource_types(set_->care_fhir_profiles_);
    return std::shared_ptr<const ProfileSet>(set_);
  }

 private:
  ErrorSink sink(const ParsedFile& f) { return ErrorSink(f.name, &f.doc, &errors_); }

  const ParsedFile* parse_file(const ProfileSet::SourceFile& f) {
    auto doc = parse_json_with_positions(f.text);
    if (!doc) {
      const JsonSyntaxError& e = doc.error();
      errors_.push_back(LoadError{f.name, e.position.line, e.position.column, "JSON syntax: " + e.message});
      return nullptr;
    }
    files_.push_back(std::make_unique<ParsedFile>(ParsedFile{f.name, std::move(*doc)}));
    return files_.back().get();
  }

  void load_concept_maps(const std::vector<ProfileSet::SourceFile>& maps) {
    for (const auto& f : maps) {
      const ParsedFile* pf = parse_file(f);
      if (!pf) continue;
      auto cm = ConceptMap::from_json(pf->doc, sink(*pf));
      if (!cm) continue;
      set_->concept_maps_.push_back(std::make_unique<ConceptMap>(std::move(*cm)));
      const ConceptMap* p = set_->concept_maps_.back().get();
      std::string stem = std::filesystem::path(f.name).filename().string();
      if (stem.size() > 5 && stem.ends_with(".json")) stem.resize(stem.size() - 5);
      set_->concept_map_index_[stem] = p;
      if (!p->url().empty()) set_->concept_map_index_[p->url()] = p;
    }
  }

  void parse_profile(const ProfileSet::SourceFile& f) {
    const ParsedFile* pf = parse_file(f);
    if (!pf) return;
    const ErrorSink s = sink(*pf);
    const JsonNode& root = pf->doc.root;
    if (!root.is_object()) {
      s.at(root, "a profile file must hold a JSON object");
      return;
    }
    RawProfile p;
    p.file = pf;
    p.ok = check_keys(root, kProfileKeys, s, "a profile");
    auto str = [&](const char* key, std::string& out, bool required) -> const JsonNode* {
      const JsonNode* n = root.find(key);
      if (!n) {
        if (required) {
          s.at(root, std::string("missing '") + key + "'");
          p.ok = false;
        }
        return nullptr;
      }
      if (!n->is_string() || n->string.empty()) {
        s.at(*n, std::string("'") + key + "' must be a non-empty string");
        p.ok = false;
        return nullptr;
      }
      out = n->string;
      return n;
    };
    str("name", p.name, true);
    str("version", p.version, true);
    str("description", p.description, false);
    std::string direction;
    if (const JsonNode* d = str("direction", direction, true)) {
      p.direction = parse_direction(direction);
      if (!p.direction) {
        s.at(*d, "unknown direction '" + direction + "' (hl7v2→care, care→fhir, fhir→care, care→hl7v2; '->' also accepted)");
        p.ok = false;
      }
    }
    p.extends_node = str("extends", p.extends, false);
    p.timezone_node = str("timezone", p.timezone, false);
    if (const JsonNode* a = root.find("abstract")) {
      if (a->type != JsonNode::Type::kBool) s.at(*a, "'abstract' must be true or false");
      else p.abstract = a->boolean;
    }
    if (const JsonNode* pr = root.find("priority")) {
      if (pr->type != JsonNode::Type::kNumber || !pr->is_integer) s.at(*pr, "'priority' must be an integer");
      else p.priority = static_cast<int>(pr->integer);
    }
    p.match = root.find("match");
    p.ignore = root.find("ignore");
    p.rules = root.find("rules");
    p.remove = root.find("remove");
    if (p.rules && !p.rules->is_array()) {
      s.at(*p.rules, "'rules' must be an array of rules");
      p.rules = nullptr;
      p.ok = false;
    }
    if (!p.rules && p.extends.empty()) {
      s.at(root, "missing 'rules'");
      p.ok = false;
    }
    if (p.remove && p.extends.empty()) {
      s.at(*p.remove, "'remove' only makes sense with 'extends'");
      p.ok = false;
    }
    for (const RawProfile& other : raw_) {
      if (!p.name.empty() && other.name == p.name) {
        s.at(*root.find("name"), "profile name '" + p.name + "' is already used by " + other.file->name);
        p.ok = false;
      }
    }
    raw_.push_back(p);
  }

  // Reads the rule tree (ids and nesting only), checking ids for clashes within one file.
  std::vector<RawRule> raw_rules(const JsonNode& rules, const ParsedFile& f,
                                 std::map<std::string, const JsonNode*>& seen) {
    const ErrorSink s = sink(f);
    std::vector<RawRule> out;
    for (const JsonNode& r : rules.items) {
      if (!r.is_object()) {
        s.at(r, "a rule must be an object");
        continue;
      }
      RawRule rr;
      rr.node = &r;
      rr.file = &f;
      const JsonNode* id = r.find("id");
      if (!id) {
        s.at(r, "a rule needs an 'id'");
        continue;
      }
      if (!id->is_string() || !valid_id(id->string)) {
        s.at(*id, "a rule id must be a non-empty string of letters, digits, '_', '-' and '.'");
        continue;
      }
      rr.id = id->string;
      if (auto it = seen.find(rr.id); it != seen.end()) {
        const TextPosition first = f.doc.position(it->second->offset);
        s.at(*id, "rule id '" + rr.id + "' is already used at line " + std::to_string(first.line) + " of this file");
        continue;
      }
      seen[rr.id] = id;
      if (const JsonNode* inner = r.find("rules")) {
        if (!inner->is_array() || inner->items.empty()) {
          s.at(*inner, "'rules' of a group must be a non-empty array");
          continue;
        }
        rr.children = raw_rules(*inner, f, seen);
      }
      out.push_back(std::move(rr));
    }
    return out;
  }

  static RawRule* find_rule(std::vector<RawRule>& rules, std::string_view id) {
    for (RawRule& r : rules) {
      if (r.id == id) return &r;
      if (RawRule* hit = find_rule(r.children, id)) return hit;
    }
    return nullptr;
  }
  static bool erase_rule(std::vector<RawRule>& rules, std::string_view id) {
    for (auto it = rules.begin(); it != rules.end(); ++it) {
      if (it->id == id) {
        rules.erase(it);
        return true;
      }
      if (erase_rule(it->children, id)) return true;
    }
    return false;
  }

  // The effective raw rules of profile i (memoised), or nullopt when its chain is broken.
  std::optional<std::vector<RawRule>> effective(std::size_t i, std::vector<int>& state) {
    RawProfile& p = raw_[i];
    if (state[i] == 2) return effective_[i];
    if (state[i] == 3) return std::nullopt;
    if (state[i] == 1) return std::nullopt;  // cycle: reported by the caller chain
    state[i] = 1;
    std::vector<RawRule> rules;
    const ErrorSink s = sink(*p.file);
    if (!p.extends.empty()) {
      std::size_t base = raw_.size();
      for (std::size_t k = 0; k < raw_.size(); ++k)
        if (raw_[k].name == p.extends) base = k;
      if (base == raw_.size()) {
        s.at(*p.extends_node, "extends '" + p.extends + "': no profile has that name");
        state[i] = 3;
        return std::nullopt;
      }
      if (state[base] == 1) {
        s.at(*p.extends_node, "extends '" + p.extends + "' makes a cycle (" + p.name + " is among its own bases)");
        state[i] = 3;
        return std::nullopt;
      }
      auto b = effective(base, state);
      if (!b) {
        if (state[base] == 3 && state[i] == 1) {
          s.at(*p.extends_node, "extends '" + p.extends + "', which cannot be loaded (see its errors)");
        }
        state[i] = 3;
        return std::nullopt;
      }
      rules = *b;
      base_of_[i] = base;
      if (raw_[base].direction && p.direction && *raw_[base].direction != *p.direction)
        s.at(*p.extends_node, "extends '" + p.extends + "', whose direction is " +
                                  direction_name(*raw_[base].direction) + ", not " + direction_name(*p.direction));
    }
    std::map<std::string, const JsonNode*> seen;
    std::vector<RawRule> own = p.rules ? raw_rules(*p.rules, *p.file, seen) : std::vector<RawRule>{};
    if (p.remove) {
      if (!p.remove->is_array()) s.at(*p.remove, "'remove' must be an array of rule ids");
      else
        for (const JsonNode& id : p.remove->items) {
          if (!id.is_string()) s.at(id, "'remove' lists rule ids (strings)");
          else if (!erase_rule(rules, id.string))
            s.at(id, "remove '" + id.string + "': the base profile '" + p.extends + "' has no rule with that id");
        }
    }
    for (RawRule& r : own) {
      if (RawRule* existing = find_rule(rules, r.id)) *existing = std::move(r);  // override by id
      else rules.push_back(std::move(r));
    }
    effective_[i] = rules;
    state[i] = 2;
    return rules;
  }

  void resolve() {
    std::vector<int> state(raw_.size(), 0);
    effective_.assign(raw_.size(), {});
    base_of_.assign(raw_.size(), SIZE_MAX);
    std::vector<std::optional<std::vector<RawRule>>> eff(raw_.size());
    for (std::size_t i = 0; i < raw_.size(); ++i) eff[i] = effective(i, state);
    // Build Profile objects (base first so that `base` pointers resolve).
    std::vector<Profile*> built(raw_.size(), nullptr);
    std::vector<bool> done(raw_.size(), false);
    for (std::size_t round = 0; round <= raw_.size(); ++round) {
      for (std::size_t i = 0; i < raw_.size(); ++i) {
        if (done[i] || !eff[i] || !raw_[i].ok) continue;
        const std::size_t b = base_of_[i];
        if (b != SIZE_MAX && !done[b]) continue;
        done[i] = true;
        built[i] = build(raw_[i], *eff[i], b == SIZE_MAX ? nullptr : built[b]);
      }
    }
  }

  Profile* build(const RawProfile& rp, const std::vector<RawRule>& rules, const Profile* base) {
    const ErrorSink s = sink(*rp.file);
    auto p = std::make_unique<Profile>();
    p->name = rp.name;
    p->version = rp.version;
    p->description = rp.description;
    p->file = rp.file->name;
    p->direction = rp.direction.value_or(Direction::kHl7v2ToCare);
    p->abstract = rp.abstract;
    p->priority = rp.priority;
    p->base = base;
    p->depth = base ? base->depth + 1 : 0;
    if (p->direction == Direction::kCareToFhir) return build_care_fhir(rp, rules, std::move(p));
    if (p->direction == Direction::kFhirToCare || p->direction == Direction::kCareToHl7v2)
      return build_write_back(rp, rules, std::move(p));
    if (p->direction != Direction::kHl7v2ToCare) {
      s.at(*rp.file->doc.root.find("direction"),
           std::string("direction ") + direction_name(p->direction) +
               " is not supported yet (this version maps hl7v2→care)");
      return nullptr;
    }
    if (rp.match) {
      p->match = condition(*rp.match, s, V2Level::kMessage);
    } else if (base) {
      p->match = base->match;
    }
    if (!rp.match && !base && !rp.abstract)
      s.at(rp.file->doc.root, "missing 'match' (which messages this profile is for); mark a profile "
                              "that is only extended \"abstract\": true");
    p->timezone = !rp.timezone.empty() ? rp.timezone : base ? base->timezone : "Europe/London";
    if (auto it = zones_.find(p->timezone); it != zones_.end()) {
      p->zone = it->second;
    } else {
      auto z = TimeZone::load(p->timezone, options_.zoneinfo_dir);
      if (!z) {
        if (rp.timezone_node) s.at(*rp.timezone_node, z.error());
        else s.at(rp.file->doc.root, z.error());
      } else {
        p->zone = std::make_shared<const TimeZone>(std::move(*z));
        zones_[p->timezone] = p->zone;
      }
    }
    if (base) p->ignore = base->ignore;
    if (rp.ignore) {
      if (!rp.ignore->is_array()) s.at(*rp.ignore, "'ignore' must be an array of source paths");
      else
        for (const JsonNode& n : rp.ignore->items)
          if (auto e = ignore_entry(n, s)) p->ignore.push_back(std::move(*e));
    }
    for (const RawRule& r : rules)
      if (auto compiled = rule(r, nullptr, V2Level::kMessage)) p->rules.push_back(std::move(*compiled));
    set_->profiles_.push_back(std::move(p));
    return set_->profiles_.back().get();
  }

  // care→fhir: every profile applies (no match); the rules are compiled by care_fhir_compile.cc
  // against the FHIR model, loaded on first need.
  Profile* build_care_fhir(const RawProfile& rp, const std::vector<RawRule>& rules, std::unique_ptr<Profile> p) {
    const ErrorSink s = sink(*rp.file);
    for (const JsonNode* n : {rp.match, rp.ignore, rp.timezone_node})
      if (n) s.at(*n, "care→fhir profiles take no 'match', 'ignore' or 'timezone': every one applies to every "
                      "record, and care dateTimes already carry their offset");
    if (!set_->fhir_model_) {
      if (options_.fhir_model) {
        set_->fhir_model_ = options_.fhir_model;
      } else if (options_.fhir_profiles_dir.empty()) {
        s.at(*rp.file->doc.root.find("direction"),
             "care→fhir needs the FHIR model: set LoadOptions::fhir_model or fhir_profiles_dir");
        return nullptr;
      } else {
        auto m = fhir::r4::load_model(options_.fhir_profiles_dir);
        if (!m) {
          s.at(*rp.file->doc.root.find("direction"), "care→fhir needs the FHIR model: " + m.error().to_string());
          return nullptr;
        }
        set_->fhir_model_ = std::make_shared<const fhir::Model>(std::move(*m));
      }
    }
    std::vector<RuleNode> nodes;
    std::function<void(const std::vector<RawRule>&, std::vector<RuleNode>&)> convert =
        [&](const std::vector<RawRule>& in, std::vector<RuleNode>& out) {
          for (const RawRule& r : in) {
            RuleNode n{r.id, r.node, r.file->name, &r.file->doc, {}};
            convert(r.children, n.children);
            out.push_back(std::move(n));
          }
        };
    convert(rules, nodes);
    const ProfileSet* set = set_.get();
    const std::function<const ConceptMap*(std::string_view)> lookup = [set](std::string_view name) {
      return set->concept_map(name);
    };
    compile_care_fhir_rules(nodes, *set_->fhir_model_, lookup, &errors_, &p->fhir_rules);
    set_->profiles_.push_back(std::move(p));
    return set_->profiles_.back().get();
  }

  // fhir→care and care→hl7v2: rules compiled by fhir_care_compile.cc / care_v2_compile.cc.
  Profile* build_write_back(const RawProfile& rp, const std::vector<RawRule>& rules, std::unique_ptr<Profile> p) {
    const ErrorSink s = sink(*rp.file);
    const JsonNode* message = rp.file->doc.root.find("message");
    std::vector<RuleNode> nodes;
    std::function<void(const std::vector<RawRule>&, std::vector<RuleNode>&)> convert =
        [&](const std::vector<RawRule>& in, std::vector<RuleNode>& out) {
          for (const RawRule& r : in) {
            RuleNode n{r.id, r.node, r.file->name, &r.file->doc, {}};
            convert(r.children, n.children);
            out.push_back(std::move(n));
          }
        };
    convert(rules, nodes);
    const ProfileSet* set = set_.get();
    const std::function<const ConceptMap*(std::string_view)> lookup = [set](std::string_view name) {
      return set->concept_map(name);
    };
    if (p->direction == Direction::kCareToHl7v2) {
      for (const JsonNode* n : {rp.ignore, rp.timezone_node})
        if (n) s.at(*n, "care→hl7v2 profiles take no 'ignore' or 'timezone'");
      if (p->base) p->v2_message = p->base->v2_message, p->care_match = p->base->care_match;
      compile_care_v2_header(message, rp.match, s, &p->v2_message, &p->care_match);
      compile_care_v2_rules(nodes, lookup, &errors_, &p->care_v2_rules);
    } else {
      for (const JsonNode* n : {rp.match, rp.timezone_node, message})
        if (n) s.at(*n, "fhir→care profiles take no 'match', 'timezone' or 'message': resource rules say which resources they take");
      if (!set_->fhir_model_) {
        if (options_.fhir_model) set_->fhir_model_ = options_.fhir_model;
        else if (!options_.fhir_profiles_dir.empty())
          if (auto m = fhir::r4::load_model(options_.fhir_profiles_dir)) set_->fhir_model_ = std::make_shared<const fhir::Model>(std::move(*m));
      }
      if (!set_->fhir_model_) {
        s.at(*rp.file->doc.root.find("direction"), "fhir→care needs the FHIR model (fhir-r4-model.json)");
        return nullptr;
      }
      if (p->base) p->ignore = p->base->ignore;
      if (rp.ignore && rp.ignore->is_array()) {
        for (const JsonNode& n : rp.ignore->items) {
          if (n.is_string()) p->ignore.push_back(IgnoreEntry{n.string, "", 0, 0, 0});
          else s.at(n, "an ignore entry is a FHIR element path such as \"Patient.text\"");
        }
      }
      compile_fhir_care_rules(nodes, *set_->fhir_model_, lookup, &errors_, &p->fhir_care_rules);
    }
    set_->profiles_.push_back(std::move(p));
    return set_->profiles_.back().get();
  }

  std::optional<IgnoreEntry> ignore_entry(const JsonNode& n, const ErrorSink& s) {
    if (!n.is_string()) {
      s.at(n, "an ignore entry is a source path string such as \"PID-1\" or \"ZU1\"");
      return std::nullopt;
    }
    const std::string& t = n.string;
    IgnoreEntry e;
    e.text = t;
    std::size_t i = 0;
    auto bad = [&](std::string why) {
      s.at(n, "bad ignore path '" + t + "': " + why, i);
      return std::nullopt;
    };
    auto num = [&](std::uint32_t& out) {
      std::uint32_t v = 0;
      std::size_t start = i;
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])) && i - start < 5) v = v * 10 + static_cast<std::uint32_t>(t[i++] - '0');
      out = v;
      return i > start && v > 0;
    };
    for (; i < 3; ++i)
      if (i >= t.size() || !(std::isupper(static_cast<unsigned char>(t[i])) || std::isdigit(static_cast<unsigned char>(t[i]))))
        return bad("expected a 3-character segment id");
    e.segment = t.substr(0, 3);
    if (i < t.size() && t[i] == '[') {
      ++i;
      if (!num(e.occurrence) || i >= t.size() || t[i] != ']') return bad("expected an occurrence number and ']'");
      ++i;
    }
    if (i < t.size() && t[i] == '-') {
      ++i;
      if (!num(e.field)) return bad("expected a field number");
      if (i < t.size() && t[i] == '.') {
        ++i;
        if (!num(e.component)) return bad("expected a component number");
      }
    }
    if (i != t.size()) return bad("ignore paths are SEG, SEG-f, SEG[n]-f or SEG-f.c");
    return e;
  }

  std::optional<Condition> condition(const JsonNode& n, const ErrorSink& s, V2Level context) {
    if (n.is_array()) {  // shorthand for all
      Condition c;
      c.op = Condition::Op::kAll;
      for (const JsonNode& k : n.items)
        if (auto child = condition(k, s, context)) c.children.push_back(std::move(*child));
        else return std::nullopt;
      return c;
    }
    if (!n.is_object()) {
      s.at(n, "a condition is an object: {\"path\": ..., \"equals\": ...}, {\"all\": [...]}, {\"any\": [...]} or {\"not\": ...}");
      return std::nullopt;
    }
    Condition c;
    for (const char* group : {"all", "any"}) {
      if (const JsonNode* list = n.find(group)) {
        if (n.members.size() != 1) s.at(n, std::string("'") + group + "' stands alone in its condition object");
        if (!list->is_array() || list->items.empty()) {
          s.at(*list, std::string("'") + group + "' needs a non-empty array of conditions");
          return std::nullopt;
        }
        c.op = std::string_view(group) == "all" ? Condition::Op::kAll : Condition::Op::kAny;
        for (const JsonNode& k : list->items)
          if (auto child = condition(k, s, context)) c.children.push_back(std::move(*child));
          else return std::nullopt;
        return c;
      }
    }
    if (const JsonNode* inner = n.find("not")) {
      if (n.members.size() != 1) s.at(n, "'not' stands alone in its condition object");
      c.op = Condition::Op::kNot;
      auto child = condition(*inner, s, context);
      if (!child) return std::nullopt;
      c.children.push_back(std::move(*child));
      return c;
    }
    const JsonNode* path = n.find("path");
    for (const JsonMember& m : n.members) {
      if (m.key != "path" && m.key != "equals" && m.key != "in" && m.key != "exists") {
        s.at(m.key_offset, "unknown key '" + m.key + "' in a condition (allowed: path with equals, in or exists; all; any; not)");
        return std::nullopt;
      }
    }
    if (!path || !path->is_string()) {
      s.at(path ? *path : n, "a condition needs 'path': a source path string");
      return std::nullopt;
    }
    auto p = V2Path::parse(path->string, context);
    if (!p) {
      s.at(*path, "bad source path '" + path->string + "': " + p.error().message, p.error().offset);
      return std::nullopt;
    }
    c.path = std::move(*p);
    const JsonNode* eq = n.find("equals");
    const JsonNode* in = n.find("in");
    const JsonNode* ex = n.find("exists");
    if ((eq != nullptr) + (in != nullptr) + (ex != nullptr) != 1) {
      s.at(n, "a path condition needs exactly one of 'equals', 'in' and 'exists'");
      return std::nullopt;
    }
    if (eq) {
      if (!eq->is_string()) {
        s.at(*eq, "'equals' compares text: give a string");
        return std::nullopt;
      }
      c.op = Condition::Op::kEquals;
      c.values.push_back(eq->string);
    } else if (in) {
      if (!in->is_array() || in->items.empty()) {
        s.at(*in, "'in' needs a non-empty array of strings");
        return std::nullopt;
      }
      c.op = Condition::Op::kIn;
      for (const JsonNode& v : in->items) {
        if (!v.is_string()) {
          s.at(v, "'in' lists strings");
          return std::nullopt;
        }
        c.values.push_back(v.string);
      }
    } else {
      if (ex->type != JsonNode::Type::kBool) {
        s.at(*ex, "'exists' must be true or false");
        return std::nullopt;
      }
      c.op = Condition::Op::kExists;
      c.exists = ex->boolean;
    }
    return c;
  }

  // Compiles one rule. `group` is the enclosing group (nullptr at top level); `context` the level
  // its relative source paths read from.
  std::optional<Rule> rule(const RawRule& raw, const Rule* group, V2Level context) {
    const ErrorSink s = sink(*raw.file);
    const JsonNode& n = *raw.node;
    const std::size_t errors_before = errors_.size();
    check_keys(n, kRuleKeys, s, "a rule");
    Rule r;
    r.id = raw.id;
    r.file = raw.file->name;
    const TextPosition pos = raw.file->doc.position(n.offset);
    r.line = pos.line;
    r.column = pos.column;
    r.context = context;
    r.is_group = n.find("rules") != nullptr;
    if (const JsonNode* d = n.find("description"); d && d->is_string()) r.description = d->string;

    if (const JsonNode* src = n.find("source")) {
      if (!src->is_string()) {
        s.at(*src, "'source' must be a source path string");
      } else {
        auto p = V2Path::parse(src->string, context);
        if (!p) s.at(*src, "bad source path '" + src->string + "': " + p.error().message, p.error().offset);
        else r.source = std::move(*p);
      }
    }
    if (const JsonNode* v = n.find("value")) {
      if (n.find("source")) s.at(*v, "a rule has a 'source' or a constant 'value', not both");
      r.value = scalar_of(*v);
      if (!r.value) s.at(*v, "'value' must be a string, a boolean or an integer");
    }
    const V2Level inner_context = r.source ? r.source->level() : context;
    if (const JsonNode* w = n.find("when")) r.when = condition(*w, s, r.is_group ? inner_context : context);
    if (const JsonNode* req = n.find("required")) {
      if (req->type != JsonNode::Type::kBool) s.at(*req, "'required' must be true or false");
      else r.required = req->boolean;
    }
    if (const JsonNode* inv = n.find("invalid")) {
      if (!inv->is_string() || (inv->string != "warn" && inv->string != "reject"))
        s.at(*inv, "'invalid' must be \"warn\" (leave the field out, the default) or \"reject\" (reject the message)");
      else r.reject_invalid = inv->string == "reject";
    }
    r.reject_invalid = r.reject_invalid || r.required;

    // Target.
    const JsonNode* tgt = n.find("target");
    const bool group_has_target = group && group->target_path;
    if (tgt) {
      if (!tgt->is_string() || tgt->string.empty()) {
        s.at(*tgt, "'target' must be a care path string");
      } else {
        r.target = tgt->string;
        const std::string prefix = group_has_target ? group->target_path->text() + "." : "";
        auto cp = care::CompiledPath::compile(prefix + r.target);
        if (!cp) {
          const std::size_t off = cp.error().offset >= prefix.size() ? cp.error().offset - prefix.size() : 0;
          s.at(*tgt, "target '" + r.target + "' is not in the care model: " + cp.error().message, off);
        } else {
          r.target_path = std::move(*cp);
          r.target_prefix = group_has_target ? group->target_path->steps().size() : 0;
          r.target_rel = r.target_path->suffix(r.target_prefix);
        }
      }
    } else if (!r.is_group && !n.find("conceptMap")) {
      // Without a target, a rule with a ConceptMap only checks its codes (a warning or a
      // rejection per `unmapped`); any other rule needs somewhere to write.
      s.at(n, "rule '" + r.id + "' needs a 'target' (only a rule with a 'conceptMap' may go without one, to check codes)");
    }

    if (r.is_group) {
      for (const char* k : {"value", "transform", "default", "conceptMap", "unmapped"})
        if (const JsonNode* x = n.find(k)) s.at(*x, std::string("a group (a rule with 'rules') takes no '") + k + "'; put it on an inner rule");
      if (r.target_path && r.target_path->steps().size() == r.target_prefix)
        s.at(*tgt, "a group's target must be a field of an entity (e.g. \"" + r.target +
                       ".recorded\"), not the entity itself; leave 'target' out to write absolute paths");
      else if (r.target_path && r.target_path->info().kind != care::Kind::kStruct)
        s.at(*tgt, "a group's target must be a structure its inner rules fill, but '" + r.target + "' is " +
                       r.target_path->info().type_name());
      else if (r.target_path && r.target_path->info().is_list)
        s.at(*tgt, "'" + r.target + "' is a list; a group appends one element per source with '[]' (e.g. \"" +
                       r.target + "[]\")");
      if (errors_.size() != errors_before) return std::nullopt;
      bool ok = true;
      for (const RawRule& child : raw.children) {
        auto c = rule(child, &r, inner_context);
        if (c) r.rules.push_back(std::move(*c));
        else ok = false;
      }
      if (!ok) return std::nullopt;
      return r;
    }

    // Pipeline.
    ValueKind kind = ValueKind::kText;
    bool multi = r.source && r.source->iterates();
    if (r.value) {
      if (std::holds_alternative<bool>(*r.value)) kind = ValueKind::kBoolean;
      else if (std::holds_alternative<std::int64_t>(*r.value)) kind = ValueKind::kInteger;
    }
    if (const JsonNode* tr = n.find("transform")) {
      if (!tr->is_array()) {
        s.at(*tr, "'transform' must be an array of steps");
      } else {
        for (const JsonNode& step : tr->items) {
          auto t = Transform::from_json(step, s, context);
          if (!t) continue;
          auto k = t->output_kind(kind);
          if (!k) {
            s.at(step, k.error());
            continue;
          }
          kind = *k;
          multi = multi || t->multiplies();
          r.transforms.push_back(std::move(*t));
        }
      }
    }
    if (const JsonNode* cm = n.find("conceptMap")) {
      if (!cm->is_string()) {
        s.at(*cm, "'conceptMap' names a ConceptMap in concepts/ (its file name without .json, or its url)");
      } else {
        r.concept_map_name = cm->string;
        r.concept_map = set_->concept_map(cm->string);
        if (!r.concept_map) s.at(*cm, "no ConceptMap '" + cm->string + "' in concepts/ (by file name or url)");
        if (kind != ValueKind::kText) s.at(*cm, std::string("a ConceptMap looks up text codes, but the value is ") + value_kind_name(kind));
        kind = ValueKind::kCoding;
      }
    }
    if (const JsonNode* u = n.find("unmapped")) {
      if (!n.find("conceptMap")) s.at(*u, "'unmapped' needs a 'conceptMap'");
      if (!u->is_string() || (u->string != "warn" && u->string != "keep" && u->string != "reject"))
        s.at(*u, "'unmapped' must be \"warn\", \"keep\" or \"reject\"");
      else r.unmapped = u->string == "warn" ? Rule::Unmapped::kWarn : u->string == "keep" ? Rule::Unmapped::kKeep : Rule::Unmapped::kReject;
    }
    if (const JsonNode* d = n.find("default")) {
      r.default_value = scalar_of(*d);
      if (!r.default_value) s.at(*d, "'default' must be a string, a boolean or an integer");
    }
    if (!n.find("source") && !n.find("value") && !n.find("default"))
      s.at(n, "rule '" + r.id + "' needs a 'source', a constant 'value' or a 'default'");
    r.kind = kind;

    if (r.target_path) {
      const care::PathInfo& info = r.target_path->info();
      // Does the target take several values? Some list must be crossed with [] after the group's
      // part, or the path must end at a whole list of scalars.
      bool target_multi = info.is_list;
      const auto& steps = r.target_path->steps();
      for (std::size_t k = r.target_prefix; k < steps.size(); ++k)
        if (steps[k].index == care::CompiledPath::Step::Index::kEach) target_multi = true;
      if (multi && !target_multi)
        s.at(*tgt, "the source gives several values (" +
                       std::string(r.source && r.source->iterates() ? "[*]" : "split") + ") but target '" + r.target +
                       "' holds one; append with '[]' or use a group");
      if (std::string why = fits(r, kind, info, r.value.has_value()); !why.empty()) s.at(*tgt, why);
      if (r.default_value) {
        if (std::string why = scalar_fits(*r.default_value, info); !why.empty()) s.at(*n.find("default"), "default: " + why);
      }
      if (r.value && kind != ValueKind::kCoding && r.transforms.empty()) {
        if (std::string why = scalar_fits(*r.value, info); !why.empty()) s.at(*n.find("value"), "value: " + why);
      }
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return r;
  }

  // "" when a constant fits the target.
  static std::string scalar_fits(const care::Scalar& v, const care::PathInfo& info) {
    if (info.kind == care::Kind::kStruct) return "cannot store a single value in a " + info.type_name();
    if (info.kind == care::Kind::kEnum) {
      const auto* s = std::get_if<std::string>(&v);
      if (!s || !info.enum_info->index_of(*s))
        return care::describe_scalar(v) + " is not an allowed value of " + std::string(info.enum_info->name) + " (" +
               info.enum_info->joined() + ")";
      return "";
    }
    if (info.kind == care::Kind::kBoolean) return std::holds_alternative<bool>(v) ? "" : "expected true or false";
    if (info.kind == care::Kind::kInteger) return std::holds_alternative<std::int64_t>(v) ? "" : "expected an integer";
    const auto* s = std::get_if<std::string>(&v);
    if (!s) return "expected text, got " + care::describe_scalar(v);
    if (info.kind == care::Kind::kDate) return care::check_date(*s);
    if (info.kind == care::Kind::kDateTime) return care::check_date_time(*s);
    return "";
  }

  // "" when the pipeline's output kind fits the target; else why not.
  static std::string fits(const Rule& r, ValueKind kind, const care::PathInfo& info, bool constant) {
    const std::string t = "target '" + r.target + "' is " + info.type_name();
    if (info.is_list && info.kind == care::Kind::kStruct)
      return t + "; select an element with '[]' and write its fields, e.g. '" + r.target + "[].value'";
    switch (info.kind) {
      case care::Kind::kStruct:
        if (kind == ValueKind::kCoding && info.struct_info &&
            (info.struct_info->name == "Coding" || info.struct_info->name == "CodeableConcept"))
          return "";
        return t + "; write its fields (e.g. '" + r.target + "." +
               std::string(info.struct_info && !info.struct_info->fields.empty() ? info.struct_info->fields[0].name : "x") +
               "')" + (info.struct_info && (info.struct_info->name == "Coding" || info.struct_info->name == "CodeableConcept")
                           ? " or look the value up with a 'conceptMap'"
                           : "");
      case care::Kind::kEnum:
        if (kind == ValueKind::kCoding) {
          if (!r.concept_map) return "";
          std::string bad;
          for (const std::string& code : r.concept_map->target_codes())
            if (!info.enum_info->index_of(code)) bad += (bad.empty() ? "" : ", ") + code;
          if (!bad.empty())
            return "ConceptMap '" + r.concept_map_name + "' maps to codes that " + std::string(info.enum_info->name) +
                   " does not allow: " + bad + " (allowed: " + info.enum_info->joined() + ")";
          return "";
        }
        if (kind == ValueKind::kText && constant) return "";
        return t + " (" + info.enum_info->joined() + "): translate the source with a 'conceptMap' or give a constant 'value'";
      case care::Kind::kString:
        if (kind == ValueKind::kBoolean || kind == ValueKind::kInteger)
          return t + ", but the value is " + value_kind_name(kind);
        return "";
      case care::Kind::kDate:
        if (kind == ValueKind::kDate || (kind == ValueKind::kText && constant)) return "";
        return t + "; convert the value with the \"date\" transform (it is " + value_kind_name(kind) + ")";
      case care::Kind::kDateTime:
        if (kind == ValueKind::kDateTime || kind == ValueKind::kDate || (kind == ValueKind::kText && constant)) return "";
        return t + "; convert the value with the \"dateTime\" transform (it is " + value_kind_name(kind) + ")";
      case care::Kind::kBoolean:
        if (kind == ValueKind::kBoolean) return "";
        return t + "; convert the value with the \"boolean\" transform (it is " + value_kind_name(kind) + ")";
      case care::Kind::kInteger:
        if (kind == ValueKind::kInteger) return "";
        return t + "; convert the value with the \"integer\" transform (it is " + value_kind_name(kind) + ")";
    }
    return "";
  }

  LoadOptions options_;
  std::shared_ptr<ProfileSet> set_;
  LoadErrors errors_;
  std::vector<std::unique_ptr<ParsedFile>> files_;
  std::vector<RawProfile> raw_;
  std::vector<std::vector<RawRule>> effective_;
  std::vector<std::size_t> base_of_;
  std::map<std::string, std::shared_ptr<const TimeZone>> zones_;
};

Result<std::shared_ptr<const ProfileSet>, LoadErrors> ProfileSet::load(const std::vector<SourceFile>& profiles,
                                                                       const std::vector<SourceFile>& concept_maps,
                                                                       const LoadOptions& options) {
  Loader loader(options);
  return loader.run(profiles, concept_maps);
}

Result<std::shared_ptr<const ProfileSet>, LoadErrors> ProfileSet::load_dir(const std::string& mappings_dir,
                                                                           const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::vector<SourceFile> profiles, maps;
  std::error_code ec;
  if (!fs::is_directory(mappings_dir, ec))
    return err(LoadErrors{LoadError{mappings_dir, 0, 0, "not a directory"}});
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(mappings_dir, ec); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && it->path().filename() == "fixtures") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());  // a stable order for stable messages
  for (const fs::path& p : files) {
    const std::string rel = fs::relative(p, mappings_dir).generic_string();
    SourceFile f{rel, read(p)};
    if (rel.starts_with("concepts/")) maps.push_back(std::move(f));
    else profiles.push_back(std::move(f));
  }
  LoadOptions with_model = options;
  if (!with_model.fhir_model && with_model.fhir_profiles_dir.empty()) {
    // The repository layout: profiles/ beside mappings/.
    fs::path dir = fs::path(mappings_dir).lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();  // a trailing '/'
    const fs::path beside = dir.parent_path() / "profiles";
    if (fs::exists(beside / "fhir-r4-model.json", ec)) with_model.fhir_profiles_dir = beside.string();
  }
  auto r = load(profiles, maps, with_model);
  if (r) std::const_pointer_cast<ProfileSet>(*r)->directory_ = mappings_dir;
  return r;
}

}  // namespace midhurst::mapping
