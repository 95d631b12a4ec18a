// The validator's walk: a resource's JSON against the element lists of ProfileSet. See
// validator.h for what is checked and what is not.
#include "fhir/validator.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "fhir/internal.h"
#include "fhir/json.h"

namespace midhurst::fhir {
namespace {

using rapidjson::Value;

std::string json_text(const Value& v) {
  if (v.IsString()) return std::string("'") + v.GetString() + "'";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNumber()) {
    std::string s;
    internal::number_text(v, &s);
    return s;
  }
  return v.IsObject() ? "(an object)" : v.IsArray() ? "(an array)" : "null";
}

std::string capitalised(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

bool scalar_equal(const Value& a, const Value& b) {
  std::string ta, tb;
  if (internal::number_text(a, &ta) && internal::number_text(b, &tb)) return ta == tb;
  if (a.IsBool() && b.IsBool()) return a.GetBool() == b.GetBool();
  return false;
}

// https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.pattern_x_:
// every member the pattern has, the value has with a matching value; every item of a pattern
// array is matched by some item of the value array.
bool pattern_matches(const Value& value, const Value& pattern) {
  if (pattern.IsObject()) {
    if (!value.IsObject()) return false;
    for (auto it = pattern.MemberBegin(); it != pattern.MemberEnd(); ++it) {
      auto m = value.FindMember(it->name);
      if (m == value.MemberEnd() || !pattern_matches(m->value, it->value)) return false;
    }
    return true;
  }
  if (pattern.IsArray()) {
    if (!value.IsArray()) return false;
    for (const auto& p : pattern.GetArray()) {
      bool found = false;
      for (const auto& v : value.GetArray()) found = found || pattern_matches(v, p);
      if (!found) return false;
    }
    return true;
  }
  if (pattern.IsString() && value.IsString()) {
    return std::string_view(pattern.GetString(), pattern.GetStringLength()) ==
           std::string_view(value.GetString(), value.GetStringLength());
  }
  return scalar_equal(value, pattern);
}

bool fixed_matches(const Value& value, const Value& fixed) {
  if (fixed.IsString() && value.IsString()) return pattern_matches(value, fixed);
  if (!fixed.IsObject() && !fixed.IsArray()) return scalar_equal(value, fixed);
  return json_equivalent(value, fixed);
}

// The values at a simple FHIRPath (dot-separated member names, "$this") below `v`; arrays on
// the way are flattened.
std::vector<const Value*> walk(const Value& v, std::string_view path) {
  std::vector<const Value*> cur = {&v};
  if (path == "$this" || path.empty()) return cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t dot = path.find('.', pos);
    std::string seg(path.substr(pos, dot == std::string_view::npos ? path.size() - pos : dot - pos));
    std::vector<const Value*> next;
    for (const Value* c : cur) {
      if (!c->IsObject()) continue;
      auto m = c->FindMember(seg.c_str());
      if (m == c->MemberEnd()) continue;
      if (m->value.IsArray()) {
        for (const auto& x : m->value.GetArray()) next.push_back(&x);
      } else {
        next.push_back(&m->value);
      }
    }
    cur = std::move(next);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return cur;
}

struct Item {
  const Value* value = nullptr;  // null for a primitive that has only `_name`
  const Value* ext = nullptr;    // the `_name` object of a primitive
  std::string type;              // FHIR type of this value
  std::string path;
};

bool is_number_type(std::string_view t) {
  return t == "integer" || t == "decimal" || t == "positiveInt" || t == "unsignedInt";
}

class Walker {
 public:
  Walker(const ProfileSet& ps, const ValidationOptions& o) : ps_(ps), options_(o) {}

  std::vector<Issue> issues;

  void add(Severity s, IssueType t, std::string path, std::string why) {
    Issue i{s, t, std::move(path), std::move(why)};
    if (std::find(issues.begin(), issues.end(), i) == issues.end()) issues.push_back(std::move(i));
  }

  void resource(const Value& r, const std::string& path, std::string_view profile_url) {
    if (!r.IsObject() || !r.HasMember("resourceType") || !r["resourceType"].IsString()) {
      add(Severity::kError, IssueType::kStructure, path, "not a resource: no resourceType");
      return;
    }
    std::string type = r["resourceType"].GetString();
    std::string at = path.empty() ? type : path;
    const StructureDef* base = ps_.base_type(type);
    if (!base || base->kind != "resource" || base->is_abstract) {
      add(Severity::kError, IssueType::kNotSupported, at, "unknown resource type '" + type + "'");
      return;
    }
    std::vector<const StructureDef*> defs;
    if (!profile_url.empty()) {
      const StructureDef* p = ps_.structure(profile_url);
      if (!p) {
        add(Severity::kError, IssueType::kNotSupported, at,
            "unknown profile " + std::string(profile_url));
        return;
      }
      if (p->type != type) {
        add(Severity::kError, IssueType::kInvalid, at,
            "profile " + p->url + " constrains " + p->type + ", not " + type);
        return;
      }
      defs.push_back(p);
    } else {
      for (const Value* u : walk(r, "meta.profile")) {
        if (!u->IsString()) continue;
        const StructureDef* p = ps_.structure(u->GetString());
        if (!p || p->kind != "resource") {
          add(options_.unknown_profile, IssueType::kNotSupported, at + ".meta.profile",
              std::string("profile ") + u->GetString() + " is not known; not checked");
        } else if (p->type != type) {
          add(Severity::kError, IssueType::kInvalid, at + ".meta.profile",
              "profile " + p->url + " constrains " + p->type + ", not " + type);
        } else {
          defs.push_back(p);
        }
      }
      if (defs.empty()) defs.push_back(base);
    }
    bool structural = true;
    for (const StructureDef* d : defs) {
      object(r, *d, 0, at, structural);
      structural = false;  // the first pass reported unknown members already
    }
  }

  // Checks the members of `obj` against the children of element `ei` of `sd`.
  void object(const Value& obj, const StructureDef& sd, size_t ei, const std::string& path,
              bool structural) {
    if (++depth_ > 64) {
      add(Severity::kError, IssueType::kTooCostly, path, "nested too deeply to validate");
      --depth_;
      return;
    }
    const auto& kids = sd.children(ei);
    std::set<std::string> consumed;
    if (ei == 0 && sd.kind == "resource") consumed.insert("resourceType");
    std::set<std::string> child_names;
    for (size_t ci : kids) child_names.insert(sd.elements[ci].name());
    for (size_t ci : kids) {
      const ElementRule& c = sd.elements[ci];
      std::vector<Item> items;
      collect(obj, c, child_names, path, items, consumed);
      std::string base_name = c.name();
      if (c.is_choice()) base_name.resize(base_name.size() - 3);
      std::string at = path + "." + base_name;
      cardinality(c, items.size(), at, "");
      const auto& slices = sd.slices(ci);
      std::string name = c.name();
      bool is_extension = name == "extension" || name == "modifierExtension";
      if (slices.empty() && !is_extension) {
        for (const auto& it : items) item(it, sd, ci, structural);
        continue;
      }
      std::vector<Discriminator> discs;
      if (c.slicing) discs = c.slicing->discriminators;
      if (discs.empty() && is_extension) discs.push_back({"value", "url"});
      std::vector<size_t> counts(slices.size(), 0);
      for (const auto& it : items) {
        size_t which = slices.size();
        for (size_t s = 0; s < slices.size() && which == slices.size(); ++s) {
          if (matches(it, sd, sd.elements[slices[s]], discs)) which = s;
        }
        if (which < slices.size()) {
          ++counts[which];
          item(it, sd, slices[which], structural);
          continue;
        }
        if (c.slicing && c.slicing->rules == "closed") {
          add(Severity::kError, IssueType::kStructure, it.path,
              "matches none of the slices of " + c.id + ", and the slicing is closed");
        }
        item(it, sd, ci, structural);
        if (is_extension) unsliced_extension(it);
      }
      for (size_t s = 0; s < slices.size(); ++s) {
        const ElementRule& sl = sd.elements[slices[s]];
        cardinality(sl, counts[s], at, sl.slice_name);
      }
    }
    if (structural && obj.IsObject()) {
      for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
        std::string n(m->name.GetString(), m->name.GetStringLength());
        if (consumed.count(n)) continue;
        add(Severity::kError, IssueType::kStructure, path + "." + n,
            "unknown element '" + n + "' in " + (sd.elements[ei].types.empty()
                                                      ? sd.type
                                                      : sd.elements[ei].types[0].code));
      }
    }
    --depth_;
  }

 private:
  const ProfileSet& ps_;
  const ValidationOptions& options_;
  int depth_ = 0;

  void cardinality(const ElementRule& c, size_t count, const std::string& at,
                   const std::string& slice) {
    std::string what = slice.empty() ? "" : "slice '" + slice + "': ";
    if (c.min > 0 && count < static_cast<size_t>(c.min)) {
      add(Severity::kError, IssueType::kRequired, at,
          what + "minimum cardinality " + std::to_string(c.min) + ", found " +
              std::to_string(count));
    }
    if (c.max != "*" && !c.max.empty() && count > std::stoul(c.max)) {
      add(Severity::kError, IssueType::kStructure, at,
          what + (c.max == "0" ? std::string("not allowed by the profile")
                               : "maximum cardinality " + c.max + ", found " +
                                     std::to_string(count)));
    }
  }

  // The JSON values of child element `c` in `obj`, as items with their type and path.
  void collect(const Value& obj, const ElementRule& c, const std::set<std::string>& siblings,
               const std::string& path, std::vector<Item>& items, std::set<std::string>& consumed) {
    if (!obj.IsObject()) return;
    std::string name = c.name();
    std::vector<std::pair<std::string, std::string>> found;  // json name, type
    if (c.is_choice()) {
      std::string prefix = name.substr(0, name.size() - 3);
      for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
        std::string n(m->name.GetString(), m->name.GetStringLength());
        std::string bare = n[0] == '_' ? n.substr(1) : n;
        if (bare.size() <= prefix.size() || bare.compare(0, prefix.size(), prefix) != 0) continue;
        if (!std::isupper(static_cast<unsigned char>(bare[prefix.size()]))) continue;
        if (siblings.count(bare)) continue;
        std::string suffix = bare.substr(prefix.size());
        std::string type;
        for (const auto& t : c.types) {
          if (capitalised(t.code) == suffix) type = t.code;
        }
        if (type.empty()) {
          add(Severity::kError, IssueType::kStructure, path + "." + bare,
              "type " + suffix + " is not allowed for " + c.id);
          consumed.insert(n);
          continue;
        }
        if (std::none_of(found.begin(), found.end(), [&](auto& f) { return f.first == bare; })) {
          found.push_back({bare, type});
        }
      }
    } else {
      std::string type = c.types.empty() ? "" : c.types[0].code;
      if (obj.HasMember(name.c_str()) || obj.HasMember(("_" + name).c_str())) {
        found.push_back({name, type});
      }
    }
    for (const auto& [jname, type] : found) {
      consumed.insert(jname);
      consumed.insert("_" + jname);
      auto v = obj.FindMember(jname.c_str());
      auto e = obj.FindMember(("_" + jname).c_str());
      const Value* value = v == obj.MemberEnd() ? nullptr : &v->value;
      const Value* ext = e == obj.MemberEnd() ? nullptr : &e->value;
      bool repeats = c.base_max != "1";
      bool is_array = (value && value->IsArray()) || (ext && ext->IsArray());
      std::string at = path + "." + jname;
      if (is_array && !repeats) {
        add(Severity::kError, IssueType::kStructure, at, "an array where one value belongs");
        continue;
      }
      if (!is_array && repeats) {
        add(Severity::kError, IssueType::kStructure, at, "must be an array (the element repeats)");
        continue;
      }
      if (!is_array) {
        items.push_back({value, ext, type, at});
        continue;
      }
      size_t n = std::max(value && value->IsArray() ? value->Size() : 0,
                          ext && ext->IsArray() ? ext->Size() : 0);
      for (size_t i = 0; i < n; ++i) {
        const Value* vi = value && value->IsArray() && i < value->Size() ? &(*value)[i] : nullptr;
        const Value* ei = ext && ext->IsArray() && i < ext->Size() ? &(*ext)[i] : nullptr;
        if (vi && vi->IsNull()) vi = nullptr;
        if (ei && ei->IsNull()) ei = nullptr;
        if (!vi && !ei) {
          add(Severity::kError, IssueType::kStructure, at + "[" + std::to_string(i) + "]",
              "null without a matching value or extension");
          continue;
        }
        items.push_back({vi, ei, type, at + "[" + std::to_string(i) + "]"});
      }
    }
  }

  // The value a slice requires at a discriminator path, from the slice's child element
  // (`<slice>.system` fixed/pattern) or from inside the slice's own fixed/pattern value.
  const Value* expected(const StructureDef& sd, const ElementRule& slice, const std::string& path,
                        bool* is_pattern) {
    if (path == "$this" || path.empty()) {
      *is_pattern = slice.pattern != nullptr;
      return slice.pattern ? slice.pattern : slice.fixed;
    }
    if (const ElementRule* child = sd.find(slice.id + "." + path)) {
      if (child->fixed || child->pattern) {
        *is_pattern = child->pattern != nullptr;
        return child->pattern ? child->pattern : child->fixed;
      }
    }
    const Value* whole = slice.pattern ? slice.pattern : slice.fixed;
    if (!whole) return nullptr;
    *is_pattern = true;
    auto found = walk(*whole, path);
    return found.empty() ? nullptr : found[0];
  }

  bool matches(const Item& it, const StructureDef& sd, const ElementRule& slice,
               const std::vector<Discriminator>& discs) {
    if (discs.empty() || !it.value) return false;
    for (const auto& d : discs) {
      if (d.type == "exists") continue;
      if (d.type != "value" && d.type != "pattern") return false;  // type/profile: unsupported
      auto actual = walk(*it.value, d.path);
      bool is_pattern = false;
      const Value* want = expected(sd, slice, d.path, &is_pattern);
      if (!want && d.path == "url" && !slice.types.empty() && !slice.types[0].profiles.empty()) {
        // An extension slice is declared by its type's profile: that is the url to match.
        const std::string& url = slice.types[0].profiles[0];
        bool ok = std::any_of(actual.begin(), actual.end(), [&](const Value* a) {
          return a->IsString() && url == a->GetString();
        });
        if (!ok) return false;
        continue;
      }
      if (!want) return false;
      bool ok = std::any_of(actual.begin(), actual.end(), [&](const Value* a) {
        return is_pattern ? pattern_matches(*a, *want) : fixed_matches(*a, *want);
      });
      if (!ok) return false;
    }
    return true;
  }

  // An extension no slice claimed: checked against its definition if we have one.
  void unsliced_extension(const Item& it) {
    if (!it.value || !it.value->IsObject()) return;
    auto url = it.value->FindMember("url");
    if (url == it.value->MemberEnd() || !url->value.IsString()) return;  // the min of url says it
    const StructureDef* def = ps_.structure(url->value.GetString());
    if (def && def->type == "Extension") {
      object(*it.value, *def, 0, it.path, false);
      return;
    }
    add(options_.unknown_extension, IssueType::kExtension, it.path,
        std::string("unknown extension ") + url->value.GetString());
  }

  void binding(const Item& it, const ElementRule& e) {
    if (!e.binding || !it.value || e.binding->strength == "example") return;
    const CodeSet* vs = ps_.value_set(e.binding->value_set);
    if (!vs) return;  // a value set we do not ship: not checked (validator.h)
    std::vector<std::pair<std::string, std::string>> codings;
    const Value& v = *it.value;
    auto coding_of = [&](const Value& c) {
      if (!c.IsObject() || !c.HasMember("code") || !c["code"].IsString()) return;
      std::string system = c.HasMember("system") && c["system"].IsString() ? c["system"].GetString() : "";
      codings.push_back({system, c["code"].GetString()});
    };
    if (it.type == "code" && v.IsString()) {
      codings.push_back({"", v.GetString()});
    } else if (it.type == "Coding") {
      coding_of(v);
    } else if (it.type == "CodeableConcept") {
      for (const Value* c : walk(v, "coding")) coding_of(*c);
    } else {
      return;
    }
    bool required = e.binding->strength == "required";
    if (codings.empty()) {
      if (required) {
        add(Severity::kError, IssueType::kCodeInvalid, it.path,
            "no code from the required value set " + e.binding->value_set);
      }
      return;
    }
    for (const auto& [system, code] : codings) {
      if (vs->contains(system, code)) return;
    }
    const auto& [system, code] = codings[0];
    add(required ? Severity::kError : Severity::kWarning, IssueType::kCodeInvalid, it.path,
        "code '" + code + "'" + (system.empty() ? "" : " (system " + system + ")") +
            " is not in the value set " + e.binding->value_set + " (" + e.binding->strength +
            " binding)");
  }

  void item(const Item& it, const StructureDef& sd, size_t ei, bool structural) {
    const ElementRule& e = sd.elements[ei];
    if (it.value && e.fixed && !fixed_matches(*it.value, *e.fixed)) {
      add(Severity::kError, IssueType::kValue, it.path,
          "must be exactly " + json_text(*e.fixed) + ", found " + json_text(*it.value));
    }
    if (it.value && e.pattern && !pattern_matches(*it.value, *e.pattern)) {
      add(Severity::kError, IssueType::kValue, it.path,
          "does not match the pattern required by " + e.id);
    }
    binding(it, e);
    const std::string& type = it.type;
    if (type == "Resource" || type == "DomainResource") {
      if (it.value) resource(*it.value, it.path, "");
      return;
    }
    const StructureDef* tdef = type.empty() ? nullptr : ps_.base_type(type);
    bool primitive = tdef && tdef->kind == "primitive-type";
    if (primitive) {
      if (it.value) primitive_kind(*it.value, type, it.path);
      if (it.ext) {
        if (!it.ext->IsObject()) {
          add(Severity::kError, IssueType::kStructure, it.path, "'_' member must be an object");
        } else if (!sd.children(ei).empty()) {
          object(*it.ext, sd, ei, it.path, structural);
        } else {
          object(*it.ext, *tdef, 0, it.path, structural);
        }
      }
      return;
    }
    if (!it.value) return;
    if (!it.value->IsObject()) {
      add(Severity::kError, IssueType::kStructure, it.path,
          "must be a JSON object (" + (type.empty() ? std::string("element") : type) + ")");
      return;
    }
    if (!sd.children(ei).empty()) {
      object(*it.value, sd, ei, it.path, structural);
    } else if (!e.content_reference.empty()) {
      const ElementRule* target = sd.find(e.content_reference.substr(e.content_reference.find('#') + 1));
      if (target) object(*it.value, sd, target - sd.elements.data(), it.path, structural);
    } else if (tdef) {
      object(*it.value, *tdef, 0, it.path, structural);
    }
    // Profiles on the type (an extension slice's definition, SimpleQuantity): also checked.
    for (const auto& t : e.types) {
      if (t.code != type) continue;
      for (const auto& p : t.profiles) {
        const StructureDef* pd = ps_.structure(p);
        if (pd && pd != tdef) object(*it.value, *pd, 0, it.path, false);
      }
    }
  }

  void primitive_kind(const Value& v, const std::string& type, const std::string& path) {
    if (type == "boolean") {
      if (!v.IsBool()) add(Severity::kError, IssueType::kStructure, path, "must be a JSON boolean");
      return;
    }
    if (is_number_type(type)) {
      std::string text;
      bool ok = v.IsNumber() ||
                (v.IsString() && internal::number_text(v, &text) &&
                 (type == "decimal" ? internal::is_fhir_decimal(text)
                                    : internal::is_fhir_integer(text)));
      if (!ok) {
        add(Severity::kError, IssueType::kStructure, path, "must be a JSON number (" + type + ")");
      } else if (type == "positiveInt" || type == "unsignedInt") {
        internal::number_text(v, &text);
        bool negative = !text.empty() && text[0] == '-';
        bool zero = text == "0";
        if (negative || (type == "positiveInt" && zero)) {
          add(Severity::kError, IssueType::kValue, path, "out of range for " + type);
        }
      }
      return;
    }
    if (!v.IsString()) {
      add(Severity::kError, IssueType::kStructure, path, "must be a JSON string (" + type + ")");
    } else if (v.GetStringLength() == 0) {
      // https://hl7.org/fhir/R4/json.html#primitive: empty strings are not allowed.
      add(Severity::kError, IssueType::kValue, path, "must not be empty");
    }
  }
};

}  // namespace

std::vector<Issue> validate(const rapidjson::Value& resource, const ProfileSet& profiles,
                            std::string_view profile_url, const ValidationOptions& options) {
  Walker w(profiles, options);
  w.resource(resource, "", profile_url);
  return std::move(w.issues);
}

}  // namespace midhurst::fhir
