#include "mapping/care_v2_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>

namespace midhurst::mapping {

namespace {

std::string now_hl7() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S+0000", &tm);
  return buf;
}

std::string scalar_text(const care::Scalar& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "Y" : "N";
  return std::to_string(std::get<std::int64_t>(v));
}

std::string condition_text(const care::Scalar& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return scalar_text(v);
}

// Where rules read from: a care struct, or (ptr == nullptr) the record, for absolute paths.
struct Context {
  const void* ptr = nullptr;
  const care::StructInfo* info = nullptr;
};

void for_each_value(const care::Record& record, const care::CompiledPath& path, const Context& ctx,
                    const std::function<void(const care::ValueRef&)>& fn) {
  if (ctx.ptr) {
    path.for_each(ctx.ptr, *ctx.info, fn);
    return;
  }
  const care::EntityInfo* e = path.info().entity;
  if (const void* root = e ? record.find(e->type) : nullptr) path.for_each(root, e->info(), fn);
}

bool holds(const care::Record& record, const CareCondition& c, const Context& ctx) {
  switch (c.op) {
    case CareCondition::Op::kAll:
      return std::all_of(c.children.begin(), c.children.end(), [&](const auto& k) { return holds(record, k, ctx); });
    case CareCondition::Op::kAny:
      return std::any_of(c.children.begin(), c.children.end(), [&](const auto& k) { return holds(record, k, ctx); });
    case CareCondition::Op::kNot: return !holds(record, c.children.front(), ctx);
    default: break;
  }
  bool any = false, match = false;
  for_each_value(record, *c.path, ctx, [&](const care::ValueRef& r) {
    const auto v = care::read_scalar(r);
    if (r.kind == care::Kind::kStruct || v) any = true;
    if (v && std::find(c.values.begin(), c.values.end(), condition_text(*v)) != c.values.end()) match = true;
  });
  if (c.op == CareCondition::Op::kExists) return any == c.exists;
  return match;
}

class Build {
 public:
  Build(const care::Record& record, const Profile& profile, V2Build& out) : record_(record), profile_(profile), out_(out) {}

  void rules() {
    for (const CareV2Rule& r : profile_.care_v2_rules) apply(r, Context{}, "", 0);
  }

  MappingIssues errors;

 private:
  // The concrete path of a target in the context of the enclosing group's target `base`.
  std::string resolve(const CareV2Rule& r, const std::string& base) {
    std::string t = r.target_kind == CareV2Rule::TargetKind::kAbsolute ? r.target : base + r.target;
    const std::size_t br = t.find("[]");
    if (br == std::string::npos) return t;
    const std::string head = t.substr(0, br);
    std::size_t n = 1;
    if (head.find('-') == std::string::npos) {
      n = out_.message.all(head).size() + 1;  // the next occurrence of the segment
    } else {
      while (out_.message.get(head + "[" + std::to_string(n) + "]").present()) ++n;  // the next repetition
    }
    return head + "[" + std::to_string(n) + "]" + t.substr(br + 2);
  }

  void apply(const CareV2Rule& r, const Context& ctx, const std::string& base, std::size_t run) {
    if (r.is_group) {
      std::vector<Context> values;
      for_each_value(record_, *r.source, ctx, [&](const care::ValueRef& v) {
        if (v.ptr && v.struct_info) values.push_back(Context{v.ptr, v.struct_info});
      });
      if (r.when) std::erase_if(values, [&](const Context& v) { return !holds(record_, *r.when, v); });
      if (r.last && values.size() > 1) values.erase(values.begin(), values.end() - 1);
      for (const Context& v : values) {
        const std::string here = r.target.empty() ? base : resolve(r, base);
        // `sequence` writes the occurrence (OBX[3]) or repetition (PID-3[2]) this run fills.
        const std::size_t open = here.find('['), close = here.find(']');
        const std::size_t number = open != std::string::npos && close > open
                                       ? std::strtoul(here.c_str() + open + 1, nullptr, 10) : run;
        for (const CareV2Rule& k : r.rules) apply(k, v, here, number);
      }
      return;
    }
    if (r.when && !holds(record_, *r.when, ctx)) return;
    std::vector<std::string> texts;
    if (r.sequence) texts.push_back(std::to_string(run));
    else if (r.value) texts.push_back(scalar_text(*r.value));
    else if (r.source)
      for_each_value(record_, *r.source, ctx, [&](const care::ValueRef& v) {
        if (v.kind == care::Kind::kStruct) {
          if (v.struct_info == &care::Coding::describe()) {
            const auto* c = static_cast<const care::Coding*>(v.ptr);
            if (!c->code.empty()) texts.push_back(c->code);
          }
          return;
        }
        const auto s = care::read_scalar(v);
        if (!s) return;
        if (v.kind == care::Kind::kDate || v.kind == care::Kind::kDateTime) texts.push_back(care_to_hl7_time(std::get<std::string>(*s)));
        else texts.push_back(scalar_text(*s));
      });
    texts.erase(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(std::min(r.skip, texts.size())));
    if (r.last && texts.size() > 1) texts.erase(texts.begin(), texts.end() - 1);
    std::vector<Item> items;
    for (std::string& t : texts) {
      Item i;
      i.value = t;
      i.original = t;
      items.push_back(std::move(i));
    }
    TransformEnv env;
    for (const Transform& t : r.transforms) {
      Cursor at;
      if (auto s = apply_step(t, items, env, &at); !s) {
        issue(r, hl7v2::ErrorCode::kDataType, false, s.error());
        items.clear();
      }
    }
    std::vector<std::string> out;
    for (const Item& i : items) {
      std::string text = std::holds_alternative<std::string>(i.value) ? std::get<std::string>(i.value)
                         : std::holds_alternative<bool>(i.value) ? (std::get<bool>(i.value) ? "Y" : "N")
                         : std::holds_alternative<std::int64_t>(i.value) ? std::to_string(std::get<std::int64_t>(i.value))
                                                                          : std::get<care::Coding>(i.value).code;
      if (r.concept_map) {
        auto mapped = lookup(r, text);
        if (!mapped) {
          if (r.unmapped == CareV2Rule::Unmapped::kKeep) {
            out.push_back(text);
          } else {
            issue(r, hl7v2::ErrorCode::kTableValueNotFound, r.unmapped == CareV2Rule::Unmapped::kReject || r.required,
                  "code '" + text + "' is not in ConceptMap " + r.concept_map_name);
          }
          continue;
        }
        text = *mapped;
      }
      if (!text.empty()) out.push_back(std::move(text));
    }
    if (out.empty() && r.default_value) out.push_back(scalar_text(*r.default_value));
    if (out.empty()) {
      if (r.required) issue(r, hl7v2::ErrorCode::kRequiredFieldMissing, true, "required value missing at " + r.source_text);
      return;
    }
    if (r.target_from) {
      write_keyed(r, ctx, out.front());
      return;
    }
    // Several values go to successive repetitions when the target is a field that names none,
    // are joined by spaces in a component (further given names), else the first is kept.
    const std::string target = resolve(r, base);
    const std::size_t dash = target.find('-');
    if (out.size() > 1 && dash != std::string::npos && target.find('.', dash) != std::string::npos) {
      std::string joined;
      for (const std::string& o : out) joined += (joined.empty() ? "" : " ") + o;
      out.assign(1, joined);
    }
    for (std::size_t k = 0; k < out.size(); ++k) {
      std::string at = target;
      if (k > 0) {
        if (out.size() > 1 && target.find('[', target.find('-')) == std::string::npos && target.find('-') != std::string::npos) {
          const std::size_t dash = target.find('-');
          const std::size_t end = target.find('.', dash);
          at = target.substr(0, end) + "[" + std::to_string(k + 1) + "]" + (end == std::string::npos ? "" : target.substr(end));
        } else {
          issue(r, hl7v2::ErrorCode::kDataType, false, "a second value for " + target + ", which holds one; left out");
          break;
        }
      }
      auto path = hl7v2::Path::parse(at);
      if (!path) {
        issue(r, hl7v2::ErrorCode::kApplicationInternalError, false, at + ": " + path.error());
        continue;
      }
      auto s = r.encoded ? out_.message.set_encoded(*path, out[k]) : out_.message.set(*path, out[k]);
      if (!s) issue(r, hl7v2::ErrorCode::kApplicationInternalError, false, at + ": " + s.error());
    }
  }

  // A value whose place is itself a care value (a Z-segment key "ZU1[2]-3", "ZU8-3[2]"): written
  // there when the key is an HL7v2 path into the segments the rule's target allows.
  void write_keyed(const CareV2Rule& r, const Context& ctx, const std::string& text) {
    std::string key;
    for_each_value(record_, *r.target_from, ctx, [&](const care::ValueRef& v) {
      if (const auto k = care::read_scalar(v); k && key.empty()) key = scalar_text(*k);
    });
    auto path = hl7v2::Path::parse(key);
    if (key.empty() || !path || !key.starts_with(r.target_segments) || key.starts_with("MSH")) {
      issue(r, hl7v2::ErrorCode::kDataType, false,
            "'" + key + "' (" + r.target_from_text + ") is not a path into the segments " + r.target + "; value left out");
      if (!key.empty()) out_.issues.back().source = key;  // where the record asked to write
      return;
    }
    if (auto s = out_.message.set(*path, text); !s)
      issue(r, hl7v2::ErrorCode::kApplicationInternalError, false, key + ": " + s.error());
  }

  static Status<std::string> apply_step(const Transform& t, std::vector<Item>& items, const TransformEnv& env, Cursor* at) {
    return ::midhurst::mapping::apply(t, items, env, at);
  }

  std::optional<std::string> lookup(const CareV2Rule& r, const std::string& code) const {
    if (!r.reverse) {
      const ConceptMap::Translation t = r.concept_map->translate(code);
      if (t.kind == ConceptMap::Translation::Kind::kUnmapped) return std::nullopt;
      return t.coding.code;
    }
    for (const ConceptMap::Group& g : r.concept_map->groups())
      for (const auto& [source, target] : g.elements)
        if (target.code == code) return source;
    return std::nullopt;
  }

  void issue(const CareV2Rule& r, hl7v2::ErrorCode code, bool reject, std::string why) {
    MappingIssue i;
    i.issue.severity = reject ? hl7v2::Severity::kError : hl7v2::Severity::kWarning;
    i.issue.code = code;
    i.issue.why = std::move(why);
    i.rule = r.id;
    i.source = r.target;
    i.target = r.source_text;
    (reject ? errors : out_.issues).push_back(std::move(i));
  }

  const care::Record& record_;
  const Profile& profile_;
  V2Build& out_;
};

// A profile gives way to an extension of it whose match holds for the record: a site overlay
// (which inherits the match) always replaces its base, and a variant with a narrower match of its
// own (care-adt-a08 over care-adt-a31: "the record holds an encounter") replaces it only there.
bool replaced_by_extension(const care::Record& record, const ProfileSet& set, const Profile* p) {
  return std::any_of(set.profiles().begin(), set.profiles().end(), [&](const auto& q) {
    return q->base == p && (!q->care_match || holds(record, *q->care_match, Context{}));
  });
}

}  // namespace

std::string care_to_hl7_time(std::string_view t) {
  std::string out;
  std::size_t i = 0;
  for (; i < t.size() && t[i] != '+' && t[i] != 'Z' && !(t[i] == '-' && i > 7); ++i)
    if (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.') out += t[i];
  if (i < t.size()) {
    if (t[i] == 'Z') out += "+0000";
    else
      for (; i < t.size(); ++i)
        if (t[i] != ':') out += t[i];
  }
  return out;
}

namespace {

// Puts the segments after MSH in the order of `structure` (a stable sort: occurrences of a segment
// keep their order, and so do segments it does not list, which follow the listed ones: Z-segments
// written from a record's keys). The message is re-read from its segments, so its index stays
// the library's own.
Status<std::string> order_segments(hl7v2::Message& m, const std::vector<std::string>& structure) {
  if (structure.empty() || m.segment_count() < 2) return Status<std::string>::Ok();
  std::vector<std::pair<std::size_t, std::string_view>> rest;  // (rank, raw segment)
  for (std::size_t i = 1; i < m.segment_count(); ++i) {
    const hl7v2::Segment seg = m.segment(i);
    const auto at = std::find(structure.begin(), structure.end(), seg.id());
    rest.emplace_back(static_cast<std::size_t>(at - structure.begin()), seg.raw());
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string bytes(m.segment(0).raw());
  for (const auto& [rank, raw] : rest) (bytes += '\r') += raw;
  auto reordered = hl7v2::Message::parse(std::move(bytes));
  if (!reordered) return err("reordering the segments by the message structure: " + reordered.error().why);
  m = std::move(*reordered);
  return Status<std::string>::Ok();
}

}  // namespace

Result<const Profile*, MappingIssue> select_care_v2_profile(const care::Record& record, const ProfileSet& set,
                                                            const std::string& name) {
  const Profile* best = nullptr;
  for (const auto& p : set.profiles()) {
    if (p->direction != Direction::kCareToHl7v2) continue;
    if (!name.empty()) {
      if (p->name == name) return p.get();
      continue;
    }
    if (p->abstract || replaced_by_extension(record, set, p.get())) continue;
    if (p->care_match && !holds(record, *p->care_match, Context{})) continue;
    if (!best || p->priority > best->priority || (p->priority == best->priority && p->depth > best->depth)) best = p.get();
  }
  if (best) return best;
  MappingIssue i;
  i.issue.severity = hl7v2::Severity::kError;
  i.issue.code = hl7v2::ErrorCode::kUnsupportedMessageType;
  i.issue.why = name.empty() ? "no care→hl7v2 profile matches the record" : "no care→hl7v2 profile named '" + name + "'";
  return err(i);
}

Result<V2Build, MappingIssues> translate_to_hl7v2(const care::Record& record, const ProfileSet& set,
                                                  const V2BuildOptions& o) {
  auto p = select_care_v2_profile(record, set, o.profile);
  if (!p) return err(MappingIssues{p.error()});
  V2Build out;
  out.profile = *p;
  out.message = hl7v2::Message::create();
  hl7v2::Message& m = out.message;
  MappingIssues errors;
  auto set_msh = [&](const char* path, const std::string& text, bool encoded = false) {
    if (text.empty()) return;
    auto s = encoded ? m.set_encoded(*hl7v2::Path::parse(path), text) : m.set(std::string_view(path), text);
    if (!s) {
      MappingIssue i;
      i.issue.code = hl7v2::ErrorCode::kApplicationInternalError;
      i.issue.why = std::string(path) + ": " + s.error();
      errors.push_back(std::move(i));
    }
  };
  set_msh("MSH-3", o.sending_application);
  set_msh("MSH-4", o.sending_facility);
  set_msh("MSH-5", o.receiving_application);
  set_msh("MSH-6", o.receiving_facility);
  set_msh("MSH-7", o.timestamp.empty() ? now_hl7() : o.timestamp);
  set_msh("MSH-9", (*p)->v2_message.type, true);
  set_msh("MSH-10", o.control_id.empty() ? "1" : o.control_id);
  set_msh("MSH-11", "P");
  set_msh("MSH-12", (*p)->v2_message.version);
  Build b(record, **p, out);
  b.rules();
  errors.insert(errors.end(), b.errors.begin(), b.errors.end());
  if (auto ordered = order_segments(m, (*p)->v2_message.structure); !ordered) {
    MappingIssue i;
    i.issue.code = hl7v2::ErrorCode::kApplicationInternalError;
    i.issue.why = ordered.error();
    errors.push_back(std::move(i));
  }
  if (!errors.empty()) return err(std::move(errors));
  return out;
}

}  // namespace midhurst::mapping
