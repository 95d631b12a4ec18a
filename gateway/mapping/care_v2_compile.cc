// Compiling care→hl7v2 rules: care sources against the registry, HL7v2 targets by syntax and by
// their place in the group nesting, all at load.
#include <algorithm>
#include <regex>

#include "mapping/care_v2_rule.h"
#include "mapping/rule_json.h"

namespace midhurst::mapping {

namespace {

constexpr std::string_view kGroupKeys[] = {"id", "description", "source", "when", "target", "rules", "last"};
constexpr std::string_view kLeafKeys[] = {"id", "description", "source", "value", "target", "when", "transform",
                                          "conceptMap", "reverse", "unmapped", "default", "required",
                                          "sequence", "encoded", "skip", "last", "targetFrom"};

// What a group's target leaves its inner rules: a segment ("OBX[]": they write "-5"), a field or
// repetition ("PID-3[]": they write ".1"), or nothing to be relative to (no target).
enum class Level : std::uint8_t { kNone, kSegment, kField, kComponent };

const std::regex kAbsolute(R"(^[A-Z][A-Z0-9]{2}(\[[0-9]*\])?(-[0-9]+(\[[0-9]*\])?(\.[0-9]+(\.[0-9]+)?)?)?$)");
const std::regex kField(R"(^-[0-9]+(\[[0-9]*\])?(\.[0-9]+(\.[0-9]+)?)?$)");
const std::regex kComponent(R"(^\.[0-9]+(\.[0-9]+)?$)");
// The segments a `targetFrom` rule may write: "Z*" (every Z-segment), "ZU*" (HL72UK ones).
const std::regex kSegmentWildcard(R"(^[A-Z][A-Z0-9]?\*$)");

// The level a target ends at.
Level level_of(const std::string& t) {
  const std::size_t dash = t.find('-');
  if (dash == std::string::npos && t.front() != '.') return Level::kSegment;
  const std::size_t dots = std::count(t.begin(), t.end(), '.');
  if (t.front() == '.') return Level::kComponent;
  return dots == 0 ? Level::kField : Level::kComponent;
}

class Compiler {
 public:
  Compiler(const std::function<const ConceptMap*(std::string_view)>& concept_map, LoadErrors* errors)
      : concept_map_(concept_map), errors_(errors) {}

  // `prefix`: the enclosing group's full care source ("" at the top); `level`: what its target
  // leaves relative targets.
  std::optional<CareV2Rule> rule(const RuleNode& rn, const std::string& prefix, std::size_t steps, Level level,
                                 bool in_group) {
    const ErrorSink s(rn.file, rn.doc, errors_);
    const JsonNode& n = *rn.node;
    CareV2Rule r;
    r.id = rn.id;
    r.file = rn.file;
    const TextPosition pos = rn.doc->position(n.offset);
    r.line = pos.line;
    r.column = pos.column;
    const bool group = n.find("rules") != nullptr;
    if (group) check_keys(n, kGroupKeys, s, "a group rule");
    else check_keys(n, kLeafKeys, s, "a rule");
    const std::size_t before = errors_->size();
    if (const JsonNode* d = n.find("description"); d && d->is_string()) r.description = d->string;

    std::string full;
    if (const JsonNode* src = n.find("source")) {
      if (!src->is_string() || src->string.empty()) s.at(*src, "'source' is a care path");
      else {
        full = prefix.empty() ? src->string : prefix + "." + src->string;
        auto c = care::CompiledPath::compile(full);
        if (!c) s.at(*src, "care source '" + full + "': " + c.error().message);
        else {
          r.source_info = c->info();
          r.source_text = src->string;
          r.source = c->suffix(steps);
          if (group) {
            if (c->info().kind != care::Kind::kStruct) s.at(*src, "a group's source must reach a care structure, not " + c->info().type_name());
            else r.inner_context = c->info().struct_info;
          }
        }
      }
    }
    if (const JsonNode* v = n.find("value")) {
      if (auto x = scalar_of(*v)) r.value = x;
      else s.at(*v, "'value' is a string, boolean or integer");
    }
    if (const JsonNode* q = n.find("sequence")) {
      if (q->type != JsonNode::Type::kBool) s.at(*q, "'sequence' is true or false");
      else r.sequence = q->boolean;
      if (r.sequence && !in_group) s.at(*q, "'sequence' numbers the runs of a group; this rule is not in one");
    }
    if (const JsonNode* k = n.find("skip")) {
      if (k->type != JsonNode::Type::kNumber || !k->is_integer || k->integer < 0) s.at(*k, "'skip' is how many leading values to leave out");
      else r.skip = static_cast<std::size_t>(k->integer);
    }
    if (const JsonNode* l = n.find("last")) {
      if (l->type != JsonNode::Type::kBool) s.at(*l, "'last' is true or false");
      else r.last = l->boolean;
    }
    if (const JsonNode* e = n.find("encoded")) {
      if (e->type != JsonNode::Type::kBool) s.at(*e, "'encoded' is true or false");
      else r.encoded = e->boolean;
    }
    if (group && !n.find("source")) s.at(n, "a group needs a 'source' (the care values it runs over)");
    if (!group && !n.find("source") && !r.value && !r.sequence) s.at(n, "a rule needs a 'source', a 'value' or 'sequence'");
    if (const JsonNode* w = n.find("when"))
      r.when = condition(*w, s, group ? full : prefix, group ? (r.source ? steps + r.source->steps().size() : 0) : steps);

    Level inner_level = Level::kNone;
    const JsonNode* target_from = n.find("targetFrom");
    if (const JsonNode* t = n.find("target"); t && target_from) {
      // The path comes from the record; the target only says which segments it may name.
      if (!t->is_string() || !std::regex_match(t->string, kSegmentWildcard) || t->string.starts_with("M"))
        s.at(*t, "with 'targetFrom' the target names the segments it may write, as a wildcard: \"Z*\", \"ZU*\"");
      else {
        r.target = t->string;
        r.target_segments = t->string.substr(0, t->string.size() - 1);
      }
      if (!target_from->is_string() || target_from->string.empty()) s.at(*target_from, "'targetFrom' is a care path");
      else {
        const std::string from = prefix.empty() ? target_from->string : prefix + "." + target_from->string;
        auto c = care::CompiledPath::compile(from);
        if (!c) s.at(*target_from, "care path '" + from + "': " + c.error().message);
        else if (c->info().kind != care::Kind::kString)
          s.at(*target_from, "'" + from + "' is " + c->info().type_name() + "; 'targetFrom' reads an HL7v2 path as text");
        else {
          r.target_from = c->suffix(steps);
          r.target_from_text = target_from->string;
        }
      }
    } else if (target_from) {
      s.at(*target_from, "'targetFrom' needs a 'target' naming the segments it may write (\"Z*\")");
    } else if (const JsonNode* t = n.find("target")) {
      if (!t->is_string() || t->string.empty()) s.at(*t, "'target' is an HL7v2 path");
      else {
        r.target = t->string;
        if (std::regex_match(r.target, kAbsolute)) r.target_kind = CareV2Rule::TargetKind::kAbsolute;
        else if (std::regex_match(r.target, kField)) r.target_kind = CareV2Rule::TargetKind::kField;
        else if (std::regex_match(r.target, kComponent)) r.target_kind = CareV2Rule::TargetKind::kComponent;
        else s.at(*t, "'" + r.target + "' is not an HL7v2 target (PID-5.1, PID-3[].1, OBX[]; inside a group -5, .1)");
        if (r.target_kind == CareV2Rule::TargetKind::kField && level != Level::kSegment)
          s.at(*t, "'" + r.target + "' is relative to a segment: it belongs in a group whose target is a segment (OBX[])");
        if (r.target_kind == CareV2Rule::TargetKind::kComponent && level != Level::kField && level != Level::kComponent)
          s.at(*t, "'" + r.target + "' is relative to a field: it belongs in a group whose target is a field (PID-3[])");
        if (r.target.find("[]") != std::string::npos && !group)
          s.at(*t, "'[]' (the next repetition or occurrence) is for group targets, one per run");
        if (r.target.starts_with("MSH")) s.at(*t, "MSH is built from the options and the profile's 'message'");
        inner_level = level_of(r.target);
      }
    } else if (!group) {
      s.at(n, "a rule needs a 'target' (an HL7v2 path)");
    } else {
      inner_level = level;
    }
    if (!group) {
      if (const JsonNode* tr = n.find("transform")) {
        if (!tr->is_array()) s.at(*tr, "'transform' is an array of steps");
        else
          for (const JsonNode& step : tr->items) {
            auto x = Transform::from_json(step, s, V2Level::kMessage);
            if (!x) continue;
            if (x->reads_hl7v2())
              s.at(step, "this transform reads HL7v2; care dates and dateTimes are written in HL7 form by themselves");
            else r.transforms.push_back(std::move(*x));
          }
      }
      if (const JsonNode* cm = n.find("conceptMap")) {
        if (!cm->is_string()) s.at(*cm, "'conceptMap' names a ConceptMap in concepts/");
        else if (!(r.concept_map = concept_map_(cm->string))) s.at(*cm, "no ConceptMap '" + cm->string + "' in concepts/");
        else r.concept_map_name = cm->string;
      }
      if (const JsonNode* rv = n.find("reverse")) {
        if (rv->type != JsonNode::Type::kBool) s.at(*rv, "'reverse' is true or false");
        else r.reverse = rv->boolean;
      }
      if (const JsonNode* u = n.find("unmapped")) {
        if (!u->is_string() || (u->string != "warn" && u->string != "keep" && u->string != "reject"))
          s.at(*u, "'unmapped' is warn, keep or reject");
        else r.unmapped = u->string == "keep" ? CareV2Rule::Unmapped::kKeep
                          : u->string == "reject" ? CareV2Rule::Unmapped::kReject : CareV2Rule::Unmapped::kWarn;
      }
      if (const JsonNode* d = n.find("default")) {
        if (auto v = scalar_of(*d)) r.default_value = v;
        else s.at(*d, "'default' is a string, boolean or integer");
      }
      if (const JsonNode* q = n.find("required")) {
        if (q->type != JsonNode::Type::kBool) s.at(*q, "'required' is true or false");
        else r.required = q->boolean;
      }
      if (r.source && r.source_info.kind == care::Kind::kStruct && r.source_info.struct_info != &care::Coding::describe())
        s.at(*n.find("source"), "'" + full + "' is " + r.source_info.type_name() + "; write its fields with a group");
    }
    if (errors_->size() != before) return std::nullopt;
    if (group) {
      r.is_group = true;
      for (const RuleNode& c : rn.children)
        if (auto inner = rule(c, full, steps + (r.source ? r.source->steps().size() : 0), inner_level, true))
          r.rules.push_back(std::move(*inner));
    }
    return r;
  }

  std::optional<CareCondition> condition(const JsonNode& n, const ErrorSink& s, const std::string& prefix, std::size_t steps) {
    CareCondition c;
    if (n.is_array() || (n.is_object() && (n.find("all") || n.find("any")))) {
      const JsonNode* list = n.is_array() ? &n : n.find("all") ? n.find("all") : n.find("any");
      c.op = (n.is_array() || n.find("all")) ? CareCondition::Op::kAll : CareCondition::Op::kAny;
      if (!list->is_array()) {
        s.at(*list, "'all'/'any' need an array of conditions");
        return std::nullopt;
      }
      for (const JsonNode& k : list->items)
        if (auto child = condition(k, s, prefix, steps)) c.children.push_back(std::move(*child));
        else return std::nullopt;
      return c;
    }
    if (const JsonNode* inner = n.is_object() ? n.find("not") : nullptr) {
      c.op = CareCondition::Op::kNot;
      auto child = condition(*inner, s, prefix, steps);
      if (!child) return std::nullopt;
      c.children.push_back(std::move(*child));
      return c;
    }
    const JsonNode* path = n.is_object() ? n.find("path") : nullptr;
    if (!path || !path->is_string()) {
      s.at(n, "a condition is {\"path\": P, \"equals\"|\"in\"|\"exists\": ...}, or all/any/not");
      return std::nullopt;
    }
    const std::string full = prefix.empty() ? path->string : prefix + "." + path->string;
    auto cp = care::CompiledPath::compile(full);
    if (!cp) {
      s.at(*path, "care path '" + full + "': " + cp.error().message);
      return std::nullopt;
    }
    c.path = cp->suffix(steps);
    if (const JsonNode* eq = n.find("equals"); eq && eq->is_string()) {
      c.op = CareCondition::Op::kEquals;
      c.values.push_back(eq->string);
    } else if (const JsonNode* in = n.find("in"); in && in->is_array()) {
      c.op = CareCondition::Op::kIn;
      for (const JsonNode& v : in->items)
        if (v.is_string()) c.values.push_back(v.string);
    } else if (const JsonNode* ex = n.find("exists"); ex && ex->type == JsonNode::Type::kBool) {
      c.op = CareCondition::Op::kExists;
      c.exists = ex->boolean;
    } else {
      s.at(n, "a condition needs 'equals' (a string), 'in' (strings) or 'exists' (true/false)");
      return std::nullopt;
    }
    return c;
  }

 private:
  const std::function<const ConceptMap*(std::string_view)>& concept_map_;
  LoadErrors* errors_;
};

}  // namespace

bool compile_care_v2_rules(const std::vector<RuleNode>& rules,
                           const std::function<const ConceptMap*(std::string_view)>& concept_map, LoadErrors* errors,
                           std::vector<CareV2Rule>* out) {
  const std::size_t before = errors->size();
  Compiler c(concept_map, errors);
  for (const RuleNode& rn : rules)
    if (auto r = c.rule(rn, "", 0, Level::kNone, false)) out->push_back(std::move(*r));
  return errors->size() == before;
}

bool compile_care_v2_header(const JsonNode* message, const JsonNode* match, const ErrorSink& sink,
                            CareV2Message* out_message, std::optional<CareCondition>* out_match) {
  const std::size_t before = sink.count();
  if (message) {
    const JsonNode* type = message->is_object() ? message->find("type") : nullptr;
    if (!type || !type->is_string() || !std::regex_match(type->string, std::regex(R"(^[A-Z0-9]{3}\^[A-Z0-9]{3}(\^[A-Z0-9_]+)?$)")))
      sink.at(type ? *type : *message, "'message' is {\"type\": \"ADT^A31^ADT_A05\", \"version\": \"2.4\"}");
    else out_message->type = type->string;
    if (const JsonNode* v = message->is_object() ? message->find("version") : nullptr) {
      if (!v->is_string() || v->string.empty()) sink.at(*v, "'version' is the HL7 version (MSH-12), e.g. \"2.4\"");
      else out_message->version = v->string;
    }
    if (const JsonNode* st = message->is_object() ? message->find("structure") : nullptr) {
      static const std::regex segment_id(R"(^[A-Z][A-Z0-9]{2}$)");
      if (!st->is_array() || st->items.empty()) {
        sink.at(*st, "'structure' lists the message's segment ids in order, e.g. [\"RF1\", \"PRD\", \"PID\"]");
      } else {
        out_message->structure.clear();
        for (const JsonNode& id : st->items) {
          if (!id.is_string() || !std::regex_match(id.string, segment_id) || id.string == "MSH")
            sink.at(id, "'structure' entries are segment ids other than MSH (three letters or digits: \"PID\")");
          else if (std::find(out_message->structure.begin(), out_message->structure.end(), id.string) !=
                   out_message->structure.end())
            sink.at(id, "'structure' lists " + id.string + " twice");
          else out_message->structure.push_back(id.string);
        }
      }
    }
  } else if (out_message->type.empty()) {
    sink.at(sink.doc()->root, "a care→hl7v2 profile needs 'message': {\"type\": \"ADT^A31^ADT_A05\"}");
  }
  if (match) {
    LoadErrors errors;
    std::function<const ConceptMap*(std::string_view)> none = [](std::string_view) -> const ConceptMap* { return nullptr; };
    Compiler c(none, &errors);
    *out_match = c.condition(*match, sink, "", 0);
  }
  return sink.count() == before;
}

}  // namespace midhurst::mapping
