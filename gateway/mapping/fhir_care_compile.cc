// Compiling fhir→care rules: every check happens here, at load, so that the engine
// (fhir_care_engine.cc) only walks paths it knows are good.
#include <algorithm>

#include "mapping/fhir_care_rule.h"
#include "mapping/rule_json.h"

namespace midhurst::mapping {

namespace {

constexpr std::string_view kResourceKeys[] = {"id", "description", "resource", "profile", "target", "when", "rules"};
constexpr std::string_view kGroupKeys[] = {"id", "description", "source", "when", "target", "distinct", "rules"};
constexpr std::string_view kLeafKeys[] = {"id", "description", "source", "value", "target", "when",
                                          "transform", "conceptMap", "reverse", "unmapped", "default",
                                          "required", "invalid", "reference"};

bool is_coded(const fhir::TypeDef& t) { return t.name == "Coding" || t.name == "CodeableConcept"; }

// "" when a FHIR value of type `t` can be written to the care field `info`; else why not.
std::string fits(const fhir::TypeDef& t, const care::PathInfo& info, bool concept_map, bool reference) {
  const std::string is = "the source is FHIR " + t.name + ", but the target is " + info.type_name();
  if (reference) {
    if (t.name != "Reference") return "'reference' reads a FHIR Reference, not " + t.name;
    if (info.kind == care::Kind::kStruct && info.struct_info == &care::Reference::describe()) return "";
    if (info.kind == care::Kind::kString) return "";
    return "a 'reference' rule writes a care Reference or the identifier's value (text), not " + info.type_name();
  }
  if (info.kind == care::Kind::kStruct) {
    const bool coded_target =
        info.struct_info == &care::Coding::describe() || info.struct_info == &care::CodeableConcept::describe();
    if (coded_target && (is_coded(t) || concept_map)) return "";
    return is + "; write its fields with a group";
  }
  if (!t.is_primitive()) {
    if (is_coded(t)) return "";  // the (mapped) code
    return is + "; read one of its elements";
  }
  if (concept_map) return "";
  switch (info.kind) {
    case care::Kind::kBoolean: return t.json == fhir::JsonKind::kBoolean ? "" : is;
    case care::Kind::kInteger: return t.json == fhir::JsonKind::kNumber ? "" : is;
    case care::Kind::kDate: return t.name == "date" || t.name == "dateTime" ? "" : is;
    case care::Kind::kDateTime: return t.name == "dateTime" || t.name == "instant" ? "" : is;
    default: return t.json == fhir::JsonKind::kString ? "" : is;
  }
}

class Compiler {
 public:
  Compiler(const fhir::Model& model, const std::function<const ConceptMap*(std::string_view)>& concept_map,
           LoadErrors* errors)
      : model_(model), concept_map_(concept_map), errors_(errors) {}

  std::optional<FhirCareRule> resource_rule(const RuleNode& rn) {
    const ErrorSink s(rn.file, rn.doc, errors_);
    const JsonNode& n = *rn.node;
    FhirCareRule r = base(rn, s);
    check_keys(n, kResourceKeys, s, "a resource rule");
    const JsonNode* res = n.find("resource");
    if (!res || !res->is_string()) {
      s.at(n, "a top-level fhir→care rule names the FHIR 'resource' it maps");
      return std::nullopt;
    }
    r.resource_type = res->string;
    r.resource = model_.resource(res->string);
    if (!r.resource) {
      s.at(*res, "'" + res->string + "' is not a FHIR resource type");
      return std::nullopt;
    }
    r.source_type = r.resource;
    if (const JsonNode* p = n.find("profile")) {
      if (p->is_string()) r.meta_profiles.push_back(p->string);
      else if (p->is_array()) {
        for (const JsonNode& u : p->items) {
          if (u.is_string()) r.meta_profiles.push_back(u.string);
          else s.at(u, "'profile' lists canonical URLs (strings)");
        }
      } else s.at(*p, "'profile' is a canonical URL or an array of them");
    }
    const JsonNode* t = n.find("target");
    if (!t || !t->is_string()) {
      s.at(n, "a resource rule needs a 'target': the care structure it fills (\"patient\", \"eol.cprDecision\")");
      return std::nullopt;
    }
    if (!target(r, *t, "", 0, s, true)) return std::nullopt;
    if (const JsonNode* w = n.find("when")) r.when = condition(*w, s, r.resource);
    if (!n.find("rules")) s.at(n, "a resource rule needs 'rules'");
    r.is_group = true;
    inner(rn, r, s);
    return r;
  }

 private:
  FhirCareRule base(const RuleNode& rn, const ErrorSink& s) {
    FhirCareRule r;
    r.id = rn.id;
    r.file = rn.file;
    const TextPosition p = rn.doc->position(rn.node->offset);
    r.line = p.line;
    r.column = p.column;
    if (const JsonNode* d = rn.node->find("description")) {
      if (d->is_string()) r.description = d->string;
      else s.at(*d, "'description' is text");
    }
    return r;
  }

  void inner(const RuleNode& rn, FhirCareRule& g, const ErrorSink& s) {
    for (const RuleNode& c : rn.children)
      if (auto r = rule(c, g)) g.rules.push_back(std::move(*r));
    (void)s;
  }

  // Compiles the care target, relative to the enclosing group's full target `prefix` (`steps`
  // steps); `whole` requires a struct (resource rules and groups).
  bool target(FhirCareRule& r, const JsonNode& t, const std::string& prefix, std::size_t steps, const ErrorSink& s,
              bool whole) {
    r.target_text = t.string;
    const std::string full = prefix.empty() ? t.string : prefix + "." + t.string;
    auto c = care::CompiledPath::compile(full);
    if (!c) {
      const std::size_t at = c.error().offset >= prefix.size() + 1 && !prefix.empty() ? c.error().offset - prefix.size() - 1
                                                                                          : (prefix.empty() ? c.error().offset : 0);
      s.at(t, "care target '" + full + "': " + c.error().message, at);
      return false;
    }
    if (whole && c->info().kind != care::Kind::kStruct) {
      s.at(t, "'" + full + "' is " + c->info().type_name() + "; this rule's target must be a care structure");
      return false;
    }
    if (c->info().is_list && (whole || c->info().kind == care::Kind::kStruct)) {
      s.at(t, "'" + full + "' is a list: append one element per value with '[]'");
      return false;
    }
    r.target_rel = c->suffix(steps);
    r.target_path = std::move(*c);
    return true;
  }

  std::optional<FhirCareRule> rule(const RuleNode& rn, const FhirCareRule& parent) {
    const ErrorSink s(rn.file, rn.doc, errors_);
    const JsonNode& n = *rn.node;
    FhirCareRule r = base(rn, s);
    const bool group = n.find("rules") != nullptr;
    if (group) check_keys(n, kGroupKeys, s, "a group rule");
    else check_keys(n, kLeafKeys, s, "a rule");
    const std::string& prefix = parent.target_path->text();
    const std::size_t steps = parent.target_path->steps().size();
    const std::size_t errors_before = errors_->size();

    const JsonNode* src = n.find("source");
    const JsonNode* val = n.find("value");
    if (src) {
      if (!src->is_string()) {
        s.at(*src, "'source' is a FHIR element path");
      } else {
        auto p = FhirPath::parse(src->string, model_, parent.source_type);
        if (!p) s.at(*src, "source '" + src->string + "': " + p.error().message, p.error().offset);
        else {
          r.source_text = src->string;
          r.source_type = p->leaf_type();
          r.source = std::move(*p);
        }
      }
    }
    if (val) {
      if (group) s.at(*val, "a group reads a 'source'; constants belong to its inner rules");
      else if (auto v = scalar_of(*val)) r.value = v;
      else s.at(*val, "'value' is a string, boolean or integer");
    }
    if (!group && !src && !val) s.at(n, "a rule needs a 'source' or a 'value'");
    if (src && val) s.at(*val, "a rule has a 'source' or a 'value', not both");
    if (group && !src) s.at(n, "a group needs a 'source' (the FHIR element its rules read from)");
    if (const JsonNode* w = n.find("when"))  // a group's per value, a leaf's in its source's context
      r.when = condition(*w, s, group && r.source_type ? r.source_type : parent.source_type);

    const JsonNode* t = n.find("target");
    if (t && !t->is_string()) {
      s.at(*t, "'target' is a care path");
      t = nullptr;
    }
    if (group) {
      r.is_group = true;
      if (t) target(r, *t, prefix, steps, s, true);
      else {
        r.target_path = parent.target_path;  // write into the enclosing structure
        r.target_rel = parent.target_path->suffix(steps);
      }
      if (r.source_type && r.source_type->is_primitive())
        s.at(*src, "a group's source must reach a FHIR structure, not the primitive " + r.source_type->name);
      if (const JsonNode* d = n.find("distinct")) {
        if (d->type != JsonNode::Type::kBool) s.at(*d, "'distinct' is true or false");
        else if (d->boolean && (!t || !t->string.ends_with("[]")))
          s.at(*d, "'distinct' goes with a group that appends to a list (\"target\": \"...[]\")");
        else r.distinct = d->boolean;
      }
      if (errors_->size() != errors_before || !r.target_path || !r.source_type) return std::nullopt;
      for (const RuleNode& c : rn.children)
        if (auto inner = rule(c, r)) r.rules.push_back(std::move(*inner));
      return r;
    }

    if (!t) {
      s.at(n, "a rule needs a 'target' (a care path)");
      return std::nullopt;
    }
    if (t->string.starts_with("/")) {
      // "/patient": a field of the resource rule's entity (the subject of an end-of-life item).
      const std::string entity(parent.target_path->info().entity->path_name);
      JsonNode rest = *t;
      rest.string = t->string.substr(1);
      r.from_entity = target(r, rest, entity, 0, s, false);
    } else {
      target(r, *t, prefix, steps, s, false);
    }
    if (r.source_type && r.source_type->name == "Reference") r.is_reference = true;
    if (const JsonNode* tr = n.find("transform")) {
      if (!tr->is_array()) s.at(*tr, "'transform' is an array of steps");
      else
        for (const JsonNode& step : tr->items) {
          auto x = Transform::from_json(step, s, V2Level::kMessage);
          if (!x) continue;
          if (x->reads_hl7v2())
            s.at(step, "this transform reads HL7v2 (timestamps, other fields); FHIR values are already typed");
          else r.transforms.push_back(std::move(*x));
        }
    }
    if (const JsonNode* cm = n.find("conceptMap")) {
      if (!cm->is_string()) s.at(*cm, "'conceptMap' names a ConceptMap in concepts/");
      else {
        r.concept_map_name = cm->string;
        r.concept_map = concept_map_(cm->string);
        if (!r.concept_map) s.at(*cm, "no ConceptMap '" + cm->string + "' in concepts/");
      }
    }
    if (const JsonNode* rv = n.find("reverse")) {
      if (rv->type != JsonNode::Type::kBool) s.at(*rv, "'reverse' is true or false");
      else r.reverse = rv->boolean;
      if (!r.concept_map && !n.find("conceptMap")) s.at(*rv, "'reverse' goes with a 'conceptMap'");
    }
    if (const JsonNode* u = n.find("unmapped")) {
      if (!u->is_string() || (u->string != "warn" && u->string != "keep" && u->string != "reject"))
        s.at(*u, "'unmapped' is warn, keep or reject");
      else r.unmapped = u->string == "keep" ? FhirCareRule::Unmapped::kKeep
                        : u->string == "reject" ? FhirCareRule::Unmapped::kReject
                                                : FhirCareRule::Unmapped::kWarn;
    }
    if (const JsonNode* d = n.find("default")) {
      if (auto v = scalar_of(*d)) r.default_value = v;
      else s.at(*d, "'default' is a string, boolean or integer");
    }
    if (const JsonNode* q = n.find("required")) {
      if (q->type != JsonNode::Type::kBool) s.at(*q, "'required' is true or false");
      else r.required = q->boolean;
    }
    if (const JsonNode* iv = n.find("invalid")) {
      if (!iv->is_string() || (iv->string != "warn" && iv->string != "reject")) s.at(*iv, "'invalid' is warn or reject");
      else r.reject_invalid = iv->string == "reject";
    }
    if (const JsonNode* ref = n.find("reference")) {
      r.is_reference = true;
      const JsonNode* systems = ref->is_object() ? ref->find("systems") : nullptr;
      if (const JsonNode* type = ref->is_object() ? ref->find("type") : nullptr) {
        if (!type->is_string() || !model_.resource(type->string)) s.at(*type, "'type' is the FHIR resource type referenced");
        else r.reference_type = type->string;
      }
      if (const JsonNode* entity = ref->is_object() ? ref->find("entity") : nullptr) {
        if (!entity->is_string() || !care::find_entity(entity->string))
          s.at(*entity, "'entity' names the care entity type referenced (careTeamMember, practitioner...)");
        else r.reference_entity = care::find_entity(entity->string);
      }
      if (const JsonNode* types = ref->is_object() ? ref->find("types") : nullptr) {
        if (!types->is_array() || types->items.empty()) s.at(*types, "'types' lists the FHIR resource types the rule takes");
        else
          for (const JsonNode& u : types->items) {
            if (!u.is_string() || !model_.resource(u.string)) s.at(u, "'types' lists FHIR resource types");
            else r.reference_types.push_back(u.string);
          }
      }
      if (!ref->is_object() || (systems && !systems->is_array()))
        s.at(*ref, "'reference' is {\"systems\": [identifier system URIs, in order of preference], \"type\": the resource type when the Reference does not say, \"types\": [the only resource types taken], \"entity\": the care entity type when not the namesake}");
      else if (systems) {
        for (const JsonNode& u : systems->items) {
          if (u.is_string()) r.reference_systems.push_back(u.string);
          else s.at(u, "an identifier system is a URI string");
        }
      }
    }
    if (r.target_path && r.source_type) {
      if (std::string why = fits(*r.source_type, r.target_path->info(), r.concept_map != nullptr, r.is_reference);
          !why.empty())
        s.at(*t, why);
    }
    if (r.target_path && r.value && r.target_path->info().kind == care::Kind::kStruct)
      s.at(*t, "a constant cannot fill the care structure " + r.target_path->info().type_name());
    if (errors_->size() != errors_before || !r.target_path) return std::nullopt;
    return r;
  }

  std::optional<FhirCondition> condition(const JsonNode& n, const ErrorSink& s, const fhir::TypeDef* context) {
    FhirCondition c;
    if (n.is_array() || n.find("all") || n.find("any")) {
      const JsonNode* list = n.is_array() ? &n : n.find("all") ? n.find("all") : n.find("any");
      c.op = (n.is_array() || n.find("all")) ? FhirCondition::Op::kAll : FhirCondition::Op::kAny;
      if (!list->is_array()) {
        s.at(*list, "'all' and 'any' take an array of conditions");
        return std::nullopt;
      }
      for (const JsonNode& k : list->items)
        if (auto child = condition(k, s, context)) c.children.push_back(std::move(*child));
      return c;
    }
    if (const JsonNode* inner = n.find("not")) {
      c.op = FhirCondition::Op::kNot;
      auto child = condition(*inner, s, context);
      if (!child) return std::nullopt;
      c.children.push_back(std::move(*child));
      return c;
    }
    const JsonNode* p = n.is_object() ? n.find("path") : nullptr;
    if (!p || !p->is_string()) {
      s.at(n, "a condition is {\"path\": P, \"equals\"|\"in\"|\"exists\": ...}, or all/any/not");
      return std::nullopt;
    }
    auto path = FhirPath::parse(p->string, model_, context);
    if (!path) {
      s.at(*p, "condition path '" + p->string + "': " + path.error().message, path.error().offset);
      return std::nullopt;
    }
    c.path = std::move(*path);
    if (const JsonNode* e = n.find("equals")) {
      c.op = FhirCondition::Op::kEquals;
      if (auto v = scalar_of(*e)) c.values.push_back(std::visit([](const auto& x) {
          if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) return x;
          else if constexpr (std::is_same_v<std::decay_t<decltype(x)>, bool>) return std::string(x ? "true" : "false");
          else return std::to_string(x);
        }, *v));
      else s.at(*e, "'equals' takes a string, boolean or integer");
    } else if (const JsonNode* in = n.find("in")) {
      c.op = FhirCondition::Op::kIn;
      if (!in->is_array()) s.at(*in, "'in' takes an array of strings");
      else
        for (const JsonNode& v : in->items)
          if (v.is_string()) c.values.push_back(v.string);
          else s.at(v, "'in' takes strings");
    } else if (const JsonNode* ex = n.find("exists")) {
      c.op = FhirCondition::Op::kExists;
      if (ex->type != JsonNode::Type::kBool) s.at(*ex, "'exists' is true or false");
      else c.exists = ex->boolean;
    } else if (const JsonNode* m = n.find("matches")) {
      c.op = FhirCondition::Op::kMatches;
      if (!m->is_string()) s.at(*m, "'matches' takes a regular expression (text)");
      else {
        try {
          c.pattern.emplace(m->string, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          s.at(*m, "'matches': not a regular expression: " + std::string(e.what()));
        }
      }
    } else {
      s.at(n, "a condition needs 'equals', 'in', 'exists' or 'matches'");
      return std::nullopt;
    }
    return c;
  }

  const fhir::Model& model_;
  const std::function<const ConceptMap*(std::string_view)>& concept_map_;
  LoadErrors* errors_;
};

}  // namespace

bool compile_fhir_care_rules(const std::vector<RuleNode>& rules, const fhir::Model& model,
                             const std::function<const ConceptMap*(std::string_view)>& concept_map,
                             LoadErrors* errors, std::vector<FhirCareRule>* out) {
  const std::size_t before = errors->size();
  Compiler c(model, concept_map, errors);
  for (const RuleNode& rn : rules)
    if (auto r = c.resource_rule(rn)) out->push_back(std::move(*r));
  return errors->size() == before;
}

}  // namespace midhurst::mapping
