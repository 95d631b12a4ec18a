// Compiling care→fhir rules: every check happens here, at load, so that the engine
// (fhir_engine.cc) only walks paths it knows are good.
#include <algorithm>

#include "mapping/care_fhir_rule.h"
#include "mapping/rule_json.h"

namespace midhurst::mapping {

namespace {

constexpr std::string_view kResourceKeys[] = {"id", "description", "source", "when", "resource",
                                              "profile", "key", "request", "served", "rules"};
constexpr std::string_view kGroupKeys[] = {"id", "description", "source", "when", "target", "rules"};
constexpr std::string_view kLeafKeys[] = {"id", "description", "source", "value", "target", "when",
                                          "transform", "conceptMap", "unmapped", "default",
                                          "required", "reference"};

ValueKind kind_of_scalar(const care::Scalar& v) {
  if (std::holds_alternative<bool>(v)) return ValueKind::kBoolean;
  if (std::holds_alternative<std::int64_t>(v)) return ValueKind::kInteger;
  return ValueKind::kText;
}

ValueKind kind_of_care(care::Kind k) {
  switch (k) {
    case care::Kind::kDate: return ValueKind::kDate;
    case care::Kind::kDateTime: return ValueKind::kDateTime;
    case care::Kind::kBoolean: return ValueKind::kBoolean;
    case care::Kind::kInteger: return ValueKind::kInteger;
    default: return ValueKind::kText;
  }
}

// "" when a value of `kind` can be written to an element of FHIR type `t`; else why not.
std::string fits(ValueKind kind, const fhir::TypeDef& t, bool constant) {
  const std::string is = "the target is FHIR " + t.name + ", but the value is " + value_kind_name(kind);
  if (!t.is_primitive()) {
    if ((t.name == "Coding" || t.name == "CodeableConcept") && kind == ValueKind::kCoding) return "";
    if (t.name == "Coding" || t.name == "CodeableConcept")
      return is + "; look the code up with a 'conceptMap', or write its elements";
    if (t.name == "Reference") return is + "; write a 'reference' rule or its elements";
    return is + "; write its elements (a group with inner rules)";
  }
  if (t.json == fhir::JsonKind::kXhtml) return "narrative xhtml is not written by mapping rules";
  if (t.json == fhir::JsonKind::kBoolean) return kind == ValueKind::kBoolean ? "" : is;
  if (t.json == fhir::JsonKind::kNumber) return kind == ValueKind::kInteger ? "" : is;
  if (t.name == "date") return kind == ValueKind::kDate || (constant && kind == ValueKind::kText) ? "" : is;
  if (t.name == "dateTime")
    return kind == ValueKind::kDate || kind == ValueKind::kDateTime || (constant && kind == ValueKind::kText) ? "" : is;
  if (t.name == "instant") return kind == ValueKind::kDateTime || (constant && kind == ValueKind::kText) ? "" : is;
  if (t.name == "code" && kind == ValueKind::kCoding) return "";  // the Coding's code
  if (t.name == "string" && (kind == ValueKind::kDate || kind == ValueKind::kDateTime)) return "";  // as written
  return kind == ValueKind::kText ? "" : is;
}

CareFhirRule::TargetForm target_form(const fhir::TypeDef& t) {
  using F = CareFhirRule::TargetForm;
  if (t.name == "code") return F::kCode;
  if (t.name == "CodeableConcept") return F::kCodeableConcept;
  if (t.name == "dateTime") return F::kDateTime;
  if (t.name == "instant") return F::kInstant;
  return F::kPlain;
}

class Compiler {
 public:
  Compiler(const fhir::Model& model, const std::function<const ConceptMap*(std::string_view)>& cm, LoadErrors* errors)
      : model_(model), concept_map_(cm), errors_(errors) {}

  std::optional<CareFhirRule> resource_rule(const RuleNode& raw) {
    const ErrorSink s(raw.file, raw.doc, errors_);
    const std::size_t before = errors_->size();
    const JsonNode& n = *raw.node;
    CareFhirRule r = header(raw);
    const JsonNode* res = n.find("resource");
    if (!res) {
      s.at(n, "a top-level care→fhir rule makes a resource: it needs 'resource' (a FHIR resource type)");
      return std::nullopt;
    }
    check_keys(n, kResourceKeys, s, "a resource rule");
    r.is_group = true;
    if (!res->is_string() || !(r.resource = model_.resource(res->string))) {
      s.at(*res, "'resource' must name a FHIR resource type" + (res->is_string() ? ", not '" + res->string + "'" : std::string()));
      return std::nullopt;
    }
    r.resource_type = res->string;
    r.inner_type = r.resource;
    const JsonNode* src = n.find("source");
    if (!src || !src->is_string()) {
      s.at(src ? *src : n, "a resource rule needs 'source': the care entity or structure it renders (e.g. \"patient\")");
      return std::nullopt;
    }
    auto p = care::CompiledPath::compile(src->string);
    if (!p) {
      s.at(*src, "bad care source path '" + src->string + "': " + p.error().message, p.error().offset);
      return std::nullopt;
    }
    if (p->info().kind != care::Kind::kStruct || p->info().is_list) {
      s.at(*src, "a resource rule's source must reach care structures (one resource each), but '" + src->string +
                     "' is " + p->info().type_name());
      return std::nullopt;
    }
    r.source_text = src->string;
    r.inner_context = p->info().struct_info ? p->info().struct_info : &p->info().entity->info();
    r.source = std::move(*p);
    if (const JsonNode* w = n.find("when")) r.when = condition(*w, s, r.source_text, r.source->steps().size());
    if (const JsonNode* pr = n.find("profile")) {
      std::vector<const JsonNode*> items;
      if (pr->is_array()) for (const JsonNode& i : pr->items) items.push_back(&i);
      else items.push_back(pr);
      for (const JsonNode* i : items) {
        if (!i->is_string() || !(i->string.starts_with("http://") || i->string.starts_with("https://")))
          s.at(*i, "'profile' gives the canonical URL(s) written to meta.profile");
        else r.meta_profiles.push_back(i->string);
      }
    }
    if (const JsonNode* keys = n.find("key")) {
      if (!keys->is_array() || keys->items.empty()) s.at(*keys, "'key' is a non-empty array of {\"system\" or \"systemSource\", \"source\"}");
      else
        for (const JsonNode& k : keys->items)
          if (auto key = resource_key(k, s, r.source_text, r.source->steps().size())) r.keys.push_back(std::move(*key));
    }
    if (const JsonNode* req = n.find("request")) {
      if (!req->is_string() || (req->string != "create" && req->string != "update"))
        s.at(*req, "'request' is \"create\" (conditional create: POST with ifNoneExist) or \"update\" (conditional update: PUT Type?identifier=...)");
      else if (req->string == "update" && !n.find("key"))
        s.at(*req, "a conditional update needs a 'key' (the business identifier to update by)");
      else r.conditional_update = req->string == "update";
    }
    if (const JsonNode* sv = n.find("served")) {
      if (sv->type != JsonNode::Type::kBool) s.at(*sv, "'served' must be true or false");
      else r.served = sv->boolean;
    }
    inner(raw, s, r);
    if (errors_->size() != before) return std::nullopt;
    r.uses_referenced_by = reads_referenced_by(r);
    return r;
  }

 private:
  static bool reads_referenced_by(const CareFhirRule& r) {
    return r.referenced_by || std::any_of(r.rules.begin(), r.rules.end(), reads_referenced_by);
  }

  CareFhirRule header(const RuleNode& raw) {
    CareFhirRule r;
    r.id = raw.id;
    r.file = raw.file;
    const TextPosition pos = raw.doc->position(raw.node->offset);
    r.line = pos.line;
    r.column = pos.column;
    if (const JsonNode* d = raw.node->find("description"); d && d->is_string()) r.description = d->string;
    return r;
  }

  // A care path relative to the context `prefix` (an absolute path of `prefix_steps` steps).
  // A path starting with '/' (only where `root` is given) reads from the entity root instead: it
  // is returned whole and *root is set.
  std::optional<care::CompiledPath> relative(const JsonNode& node, const std::string& text, const ErrorSink& s,
                                             const std::string& prefix, std::size_t prefix_steps, std::string* full,
                                             bool* root = nullptr) {
    if (text.empty()) {
      s.at(node, "empty care path");
      return std::nullopt;
    }
    if (text == ".") {  // the context itself: a group that only adds a target or a condition
      auto p = care::CompiledPath::compile(prefix);
      if (!p) {
        s.at(node, "bad care source path '" + prefix + "': " + p.error().message);
        return std::nullopt;
      }
      if (full) *full = prefix;
      return p->suffix(prefix_steps);
    }
    if (text[0] == '/') {
      if (!root) {
        s.at(node, "a path from the entity root ('/...') is for rule sources only");
        return std::nullopt;
      }
      const std::string entity = prefix.substr(0, prefix.find_first_of(".["));
      const std::string whole = entity + "." + text.substr(1);
      auto p = care::CompiledPath::compile(whole);
      if (!p) {
        s.at(node, "bad care source path '" + text + "' (from the entity root " + entity + "): " + p.error().message);
        return std::nullopt;
      }
      *root = true;
      if (full) *full = whole;
      return std::move(*p);
    }
    const std::string whole = prefix + "." + text;
    auto p = care::CompiledPath::compile(whole);
    if (!p) {
      const std::size_t off = p.error().offset > prefix.size() ? p.error().offset - prefix.size() - 1 : 0;
      s.at(node, "bad care source path '" + text + "' (relative to " + prefix + "): " + p.error().message, off);
      return std::nullopt;
    }
    if (full) *full = whole;
    return p->suffix(prefix_steps);
  }

  std::optional<ResourceKey> resource_key(const JsonNode& k, const ErrorSink& s, const std::string& prefix, std::size_t n) {
    if (!k.is_object()) {
      s.at(k, "a key is {\"system\": URI or \"systemSource\": care path, \"source\": care path}");
      return std::nullopt;
    }
    for (const JsonMember& m : k.members)
      if (m.key != "system" && m.key != "systemSource" && m.key != "source")
        s.at(m.key_offset, "unknown key '" + m.key + "' in a key (allowed: system, systemSource, source)");
    const JsonNode* sys = k.find("system");
    const JsonNode* sys_src = k.find("systemSource");
    const JsonNode* src = k.find("source");
    if ((sys != nullptr) == (sys_src != nullptr) || !src || !src->is_string()) {
      s.at(k, "a key needs 'source' and exactly one of 'system' and 'systemSource'");
      return std::nullopt;
    }
    auto value = relative(*src, src->string, s, prefix, n, nullptr);
    if (!value) return std::nullopt;
    ResourceKey key{"", std::nullopt, std::move(*value)};
    if (key.source.info().kind == care::Kind::kStruct) s.at(*src, "a key's source must reach text");
    if (sys) {
      if (!sys->is_string() || sys->string.empty()) s.at(*sys, "'system' is an identifier system URI");
      else key.system = sys->string;
    } else if (sys_src->is_string()) {
      key.system_source = relative(*sys_src, sys_src->string, s, prefix, n, nullptr);
    } else {
      s.at(*sys_src, "'systemSource' is a care path");
    }
    return key;
  }

  std::optional<CareCondition> condition(const JsonNode& n, const ErrorSink& s, const std::string& prefix, std::size_t steps) {
    CareCondition c;
    if (n.is_array() || (n.is_object() && (n.find("all") || n.find("any")))) {
      const JsonNode* list = n.is_array() ? &n : n.find("all") ? n.find("all") : n.find("any");
      c.op = (n.is_array() || n.find("all")) ? CareCondition::Op::kAll : CareCondition::Op::kAny;
      if (!list->is_array() || list->items.empty()) {
        s.at(*list, "'all'/'any' need a non-empty array of conditions");
        return std::nullopt;
      }
      for (const JsonNode& k : list->items)
        if (auto child = condition(k, s, prefix, steps)) c.children.push_back(std::move(*child));
        else return std::nullopt;
      return c;
    }
    if (!n.is_object()) {
      s.at(n, "a condition is an object: {\"path\": ..., \"equals\": ...}, {\"all\": [...]}, {\"any\": [...]} or {\"not\": ...}");
      return std::nullopt;
    }
    if (const JsonNode* inner = n.find("not")) {
      c.op = CareCondition::Op::kNot;
      auto child = condition(*inner, s, prefix, steps);
      if (!child) return std::nullopt;
      c.children.push_back(std::move(*child));
      return c;
    }
    for (const JsonMember& m : n.members)
      if (m.key != "path" && m.key != "equals" && m.key != "in" && m.key != "exists") {
        s.at(m.key_offset, "unknown key '" + m.key + "' in a condition (allowed: path with equals, in or exists; all; any; not)");
        return std::nullopt;
      }
    const JsonNode* path = n.find("path");
    if (!path || !path->is_string()) {
      s.at(path ? *path : n, "a condition needs 'path': a care path");
      return std::nullopt;
    }
    c.path = relative(*path, path->string, s, prefix, steps, nullptr);
    if (!c.path) return std::nullopt;
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
      c.op = CareCondition::Op::kEquals;
      c.values.push_back(eq->string);
    } else if (in) {
      c.op = CareCondition::Op::kIn;
      if (!in->is_array() || in->items.empty()) {
        s.at(*in, "'in' needs a non-empty array of strings");
        return std::nullopt;
      }
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
      c.op = CareCondition::Op::kExists;
      c.exists = ex->boolean;
    }
    return c;
  }

  // A FHIR target relative to `parent` (a resource rule's own type name may lead the path).
  std::optional<FhirPath> target(const JsonNode& node, const ErrorSink& s, const fhir::TypeDef& parent) {
    if (!node.is_string() || node.string.empty()) {
      s.at(node, "'target' must be a FHIR element path string");
      return std::nullopt;
    }
    std::string_view text = node.string;
    std::size_t skipped = 0;
    if (parent.kind == fhir::TypeKind::kResource && text.starts_with(parent.name + ".")) {
      skipped = parent.name.size() + 1;
      text.remove_prefix(skipped);
    }
    auto p = FhirPath::parse(text, model_, &parent);
    if (!p) {
      s.at(node, "bad FHIR target '" + node.string + "': " + p.error().message, skipped + p.error().offset);
      return std::nullopt;
    }
    return std::move(*p);
  }

  // The inner rules of a group or resource rule.
  void inner(const RuleNode& raw, const ErrorSink& s, CareFhirRule& group) {
    if (raw.children.empty()) {
      s.at(*raw.node, "rule '" + raw.id + "' needs 'rules'");
      return;
    }
    for (const RuleNode& child : raw.children) {
      const JsonNode& cn = *child.node;
      std::optional<CareFhirRule> c = cn.find("rules") ? group_rule(child, group) : leaf_rule(child, group);
      if (c) group.rules.push_back(std::move(*c));
    }
  }

  std::optional<CareFhirRule> group_rule(const RuleNode& raw, const CareFhirRule& parent) {
    const ErrorSink s(raw.file, raw.doc, errors_);
    const std::size_t before = errors_->size();
    const JsonNode& n = *raw.node;
    CareFhirRule r = header(raw);
    r.is_group = true;
    check_keys(n, kGroupKeys, s, "a group");
    const JsonNode* src = n.find("source");
    if (!src || !src->is_string()) {
      s.at(src ? *src : n, "a group needs 'source': a care path relative to its group, iterated once per value");
      return std::nullopt;
    }
    std::string full;
    r.source = relative(*src, src->string, s, parent.source_text, count_steps(parent.source_text), &full, &r.from_root);
    if (!r.source) return std::nullopt;
    if (r.source->info().kind != care::Kind::kStruct || r.source->info().is_list) {
      s.at(*src, "a group's source must reach care structures, but '" + src->string + "' is " + r.source->info().type_name() +
                     (r.source->info().is_list ? " (iterate it with '[]')" : ""));
      return std::nullopt;
    }
    r.source_text = full;
    r.context = parent.inner_context;
    r.inner_context = r.source->info().struct_info;
    if (const JsonNode* w = n.find("when")) r.when = condition(*w, s, full, count_steps(full));
    r.inner_type = parent.inner_type;
    if (const JsonNode* t = n.find("target")) {
      r.target = target(*t, s, *parent.inner_type);
      if (!r.target) return std::nullopt;
      if (r.target->steps().empty() || r.target->leaf_type()->is_primitive()) {
        s.at(*t, "a group's target is a FHIR structure its inner rules fill, but '" + t->string + "' is " +
                     r.target->leaf_type()->name);
        return std::nullopt;
      }
      r.inner_type = r.target->leaf_type();
    }
    inner(raw, s, r);
    if (errors_->size() != before) return std::nullopt;
    return r;
  }

  std::optional<CareFhirRule> leaf_rule(const RuleNode& raw, const CareFhirRule& parent) {
    const ErrorSink s(raw.file, raw.doc, errors_);
    const std::size_t before = errors_->size();
    const JsonNode& n = *raw.node;
    CareFhirRule r = header(raw);
    check_keys(n, kLeafKeys, s, "a rule");
    r.context = parent.inner_context;
    const std::size_t parent_steps = count_steps(parent.source_text);
    bool multi = false;
    const JsonNode* src_node = n.find("source");
    if (src_node && src_node->is_string() && src_node->string == "@referencedBy") {
      // The caller's references to the entities citing this one: several, Reference-typed.
      r.referenced_by = true;
      r.source_text = src_node->string;
      multi = true;
    } else if (src_node && src_node->is_string() && src_node->string == "@entity") {
      r.self_reference = true;
      r.source_text = src_node->string;
    } else if (const JsonNode* src = src_node) {
      if (!src->is_string()) {
        s.at(*src, "'source' must be a care path string");
      } else if ((r.source = relative(*src, src->string, s, parent.source_text, parent_steps, &r.source_text,
                                      &r.from_root))) {
        const care::PathInfo& info = r.source->info();
        if (info.kind == care::Kind::kStruct && info.struct_info == &care::Reference::describe())
          r.care_reference = true;
        else if (info.kind == care::Kind::kStruct)
          s.at(*src, "source '" + src->string + "' is " + info.type_name() +
                         "; read one of its fields, or make this rule a group with 'rules'");
        r.kind = kind_of_care(info.kind);
        multi = info.is_list;
        for (const auto& step : r.source->steps())
          if (step.index == care::CompiledPath::Step::Index::kEach) multi = true;
      }
    }
    if (const JsonNode* v = n.find("value")) {
      if (n.find("source")) s.at(*v, "a rule has a 'source' or a constant 'value', not both");
      if (v->is_object()) {
        r.coding_value = coding_of(*v, s);
        r.kind = ValueKind::kCoding;
      } else {
        r.value = scalar_of(*v);
        if (!r.value) s.at(*v, "'value' must be a string, a boolean, an integer or a coding {\"system\", \"code\", \"display\"}");
        else r.kind = kind_of_scalar(*r.value);
      }
    }
    if (const JsonNode* d = n.find("default")) {
      r.default_value = scalar_of(*d);
      if (!r.default_value) s.at(*d, "'default' must be a string, a boolean or an integer");
    }
    if (!n.find("source") && !n.find("value")) s.at(n, "rule '" + r.id + "' needs a 'source' or a constant 'value'");
    if (const JsonNode* w = n.find("when")) r.when = condition(*w, s, parent.source_text, parent_steps);
    if (const JsonNode* req = n.find("required")) {
      if (req->type != JsonNode::Type::kBool) s.at(*req, "'required' must be true or false");
      else r.required = req->boolean;
    }
    if (const JsonNode* tr = n.find("transform")) {
      if (!tr->is_array()) {
        s.at(*tr, "'transform' must be an array of steps");
      } else {
        for (const JsonNode& step : tr->items) {
          auto t = Transform::from_json(step, s, V2Level::kMessage);
          if (!t) continue;
          if (t->reads_hl7v2()) {
            s.at(step, "this step reads HL7v2 data; care→fhir values are already typed (dates carry their precision "
                       "and offset)");
            continue;
          }
          auto k = t->output_kind(r.kind);
          if (!k) {
            s.at(step, k.error());
            continue;
          }
          r.kind = *k;
          multi = multi || t->multiplies();
          r.transforms.push_back(std::move(*t));
        }
      }
    }
    if (const JsonNode* cm = n.find("conceptMap")) {
      if (!cm->is_string() || !(r.concept_map = concept_map_(cm->string))) {
        s.at(*cm, "no ConceptMap '" + (cm->is_string() ? cm->string : std::string()) + "' in concepts/ (by file name or url)");
      } else {
        r.concept_map_name = cm->string;
        if (r.kind != ValueKind::kText)
          s.at(*cm, std::string("a ConceptMap looks up text codes, but the value is ") + value_kind_name(r.kind));
        r.kind = ValueKind::kCoding;
      }
    }
    if (const JsonNode* u = n.find("unmapped")) {
      if (!n.find("conceptMap")) s.at(*u, "'unmapped' needs a 'conceptMap'");
      if (!u->is_string() || (u->string != "warn" && u->string != "keep" && u->string != "reject"))
        s.at(*u, "'unmapped' must be \"warn\", \"keep\" or \"reject\"");
      else
        r.unmapped = u->string == "warn" ? CareFhirRule::Unmapped::kWarn
                     : u->string == "keep" ? CareFhirRule::Unmapped::kKeep
                                           : CareFhirRule::Unmapped::kReject;
    }
    if (r.care_reference || r.referenced_by || r.self_reference) {
      for (const char* k : {"value", "transform", "conceptMap", "default", "reference"})
        if (const JsonNode* x = n.find(k))
          s.at(*x, std::string("'") + k + "' does not apply to a rule that writes a care Reference");
    }
    const JsonNode* ref = n.find("reference");
    if (ref) {
      const JsonNode* type = ref->is_object() ? ref->find("resource") : nullptr;
      const JsonNode* sys = ref->is_object() ? ref->find("system") : nullptr;
      if (!type || !type->is_string() || !model_.resource(type->string) || !sys || !sys->is_string() || sys->string.empty()) {
        s.at(*ref, "'reference' is {\"resource\": a FHIR resource type, \"system\": the identifier system of the value}");
      } else {
        r.reference_type = type->string;
        r.reference_system = sys->string;
      }
      if (r.kind != ValueKind::kText) s.at(*ref, std::string("a reference is made from an identifier value (text), not ") + value_kind_name(r.kind));
    }
    const JsonNode* tgt = n.find("target");
    const bool source_failed = n.find("source") && !r.source && !r.referenced_by && !r.self_reference;  // its kind is unknown: no cascade
    if (!tgt) {
      s.at(n, "rule '" + r.id + "' needs a 'target'");
    } else if ((r.target = target(*tgt, s, *parent.inner_type)) && !source_failed) {
      if (r.target->steps().empty()) {
        s.at(*tgt, "a rule's target names an element");
      } else {
        const FhirPath::Step& last = r.target->steps().back();
        const fhir::TypeDef& t = *last.type;
        if (last.select == FhirPath::Step::Select::kKey)
          s.at(*tgt, "a keyed selection '[key=value]' selects an element to write into; it cannot be written itself");
        else if (multi && !r.target->appends())
          s.at(*tgt, "the source gives several values but target '" + tgt->string +
                         "' holds one; append with '[]' or use a group");
        else if (ref || r.care_reference || r.referenced_by || r.self_reference) {
          if (t.name != "Reference") s.at(*tgt, "a reference rule writes a Reference, but '" + tgt->string + "' is " + t.name);
        } else if (std::string why = fits(r.kind, t, r.value.has_value() && r.transforms.empty()); !why.empty()) {
          s.at(*tgt, "type mismatch: " + why);
        }
        r.target_form = target_form(t);
      }
    }
    if (errors_->size() != before) return std::nullopt;
    return r;
  }

  // A constant coding: {"system": URI, "code": C, "display": D}, system and code required.
  std::optional<care::Coding> coding_of(const JsonNode& v, const ErrorSink& s) {
    care::Coding c;
    for (const JsonMember& m : v.members) {
      if (m.key != "system" && m.key != "code" && m.key != "display") {
        s.at(m.key_offset, "unknown key '" + m.key + "' in a constant coding (allowed: system, code, display)");
        continue;
      }
      if (!m.value.is_string() || m.value.string.empty()) {
        s.at(m.value, "'" + m.key + "' must be a non-empty string");
        continue;
      }
      (m.key == "system" ? c.system : m.key == "code" ? c.code : c.display) = m.value.string;
    }
    if (c.system.empty() || c.code.empty()) {
      s.at(v, "a constant coding needs 'system' and 'code'");
      return std::nullopt;
    }
    return c;
  }

  static std::size_t count_steps(const std::string& absolute) {
    auto p = care::CompiledPath::compile(absolute);
    return p ? p->steps().size() : 0;
  }

  const fhir::Model& model_;
  const std::function<const ConceptMap*(std::string_view)>& concept_map_;
  LoadErrors* errors_;
};

}  // namespace

bool compile_care_fhir_rules(const std::vector<RuleNode>& rules, const fhir::Model& model,
                             const std::function<const ConceptMap*(std::string_view)>& concept_map,
                             LoadErrors* errors, std::vector<CareFhirRule>* out) {
  Compiler c(model, concept_map, errors);
  bool ok = true;
  for (const RuleNode& r : rules) {
    if (auto compiled = c.resource_rule(r)) out->push_back(std::move(*compiled));
    else ok = false;
  }
  return ok;
}

}  // namespace midhurst::mapping
