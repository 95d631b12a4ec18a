#include "mapping/fhir_engine.h"

#include <algorithm>
#include <cstdio>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "fhir/bundle.h"

namespace midhurst::mapping {

namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string text_of(const care::Scalar& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return std::to_string(std::get<std::int64_t>(v));
}

// The first scalar a path reaches, as text ("" when none).
std::string first_text(const care::CompiledPath& p, const void* obj, const care::StructInfo& info) {
  std::string out;
  p.for_each(obj, info, [&](const care::ValueRef& r) {
    if (!out.empty()) return;
    if (auto v = care::read_scalar(r)) out = text_of(*v);
  });
  return out;
}

bool holds(const CareCondition& c, const void* obj, const care::StructInfo& info) {
  switch (c.op) {
    case CareCondition::Op::kAll:
      return std::all_of(c.children.begin(), c.children.end(), [&](const CareCondition& k) { return holds(k, obj, info); });
    case CareCondition::Op::kAny:
      return std::any_of(c.children.begin(), c.children.end(), [&](const CareCondition& k) { return holds(k, obj, info); });
    case CareCondition::Op::kNot: return !holds(c.children.front(), obj, info);
    default: break;
  }
  bool any = false;
  c.path->for_each(obj, info, [&](const care::ValueRef& r) {
    if (r.kind == care::Kind::kStruct) {
      any = any || c.op == CareCondition::Op::kExists;
      return;
    }
    const auto v = care::read_scalar(r);
    if (!v) return;
    if (c.op == CareCondition::Op::kExists) any = true;
    else if (std::find(c.values.begin(), c.values.end(), text_of(*v)) != c.values.end()) any = true;
  });
  return c.op == CareCondition::Op::kExists ? any == c.exists : any;
}

// FHIR dateTime/instant: a time needs seconds; the care model keeps hh:mm when that is all the
// source sent, so ":00" is added (the offset and the date precision are kept as they are).
std::string fhir_date_time(const std::string& v) {
  const std::size_t t = v.find('T');
  if (t == std::string::npos || v.size() < t + 6) return v;
  if (v.size() > t + 6 && v[t + 6] == ':') return v;
  return v.substr(0, t + 6) + ":00" + v.substr(t + 6);
}

// Merges `from` into `into`: absent members are added, arrays appended, objects merged. False
// when a primitive is already set to something else (the existing value is kept).
bool merge(Value& into, Value& from, Alloc& a) {
  bool ok = true;
  for (auto& m : from.GetObject()) {
    auto it = into.FindMember(m.name);
    if (it == into.MemberEnd()) {
      into.AddMember(Value(m.name, a), m.value, a);
    } else if (it->value.IsArray() && m.value.IsArray()) {
      for (auto& e : m.value.GetArray()) it->value.PushBack(e, a);
    } else if (it->value.IsObject() && m.value.IsObject()) {
      ok = merge(it->value, m.value, a) && ok;
    } else if (it->value != m.value) {
      ok = false;
    }
  }
  return ok;
}

// Writes `v` at `path` under `obj`, creating what is missing (fhir_path.h semantics). False when
// the element holds one value and already has another.
bool place(Value& obj, const FhirPath& path, Value& v, Alloc& a) {
  Value* cur = &obj;
  const auto& steps = path.steps();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const FhirPath::Step& step = steps[i];
    const bool last = i + 1 == steps.size();
    auto it = cur->FindMember(step.name.c_str());
    if (step.element->repeats) {
      if (it == cur->MemberEnd()) {
        cur->AddMember(str(step.name, a), Value(rapidjson::kArrayType), a);
        it = cur->FindMember(step.name.c_str());
      }
      Value& arr = it->value;
      if (step.select == FhirPath::Step::Select::kAppend) {
        if (last) {
          arr.PushBack(v, a);
          return true;
        }
        arr.PushBack(Value(rapidjson::kObjectType), a);
        cur = &arr[arr.Size() - 1];
      } else {
        Value* found = nullptr;
        for (auto& e : arr.GetArray()) {
          auto k = e.FindMember(step.key.c_str());
          if (k != e.MemberEnd() && k->value.IsString() && step.key_value == k->value.GetString()) found = &e;
        }
        if (!found) {
          Value e(rapidjson::kObjectType);
          e.AddMember(str(step.key, a), str(step.key_value, a), a);
          arr.PushBack(e, a);
          found = &arr[arr.Size() - 1];
        }
        cur = found;
      }
    } else if (last) {
      if (it == cur->MemberEnd()) {
        cur->AddMember(str(step.name, a), v, a);
        return true;
      }
      if (it->value.IsObject() && v.IsObject()) return merge(it->value, v, a);
      return it->value == v;
    } else {
      if (it == cur->MemberEnd()) {
        cur->AddMember(str(step.name, a), Value(rapidjson::kObjectType), a);
        it = cur->FindMember(step.name.c_str());
      }
      cur = &it->value;
    }
  }
  return true;
}

// Puts every object's members in FHIR definition order, resourceType first.
void order(Value& v, const fhir::TypeDef& type, Alloc& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) order(e, type, a);
    return;
  }
  if (!v.IsObject() || type.is_primitive()) return;
  std::vector<std::pair<std::size_t, Value::MemberIterator>> members;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const fhir::TypeDef::Slot* slot = type.find(std::string_view(it->name.GetString(), it->name.GetStringLength()));
    if (slot) order(it->value, *slot->type, a);
    members.emplace_back(slot ? slot->index + 1 : 0, it);  // resourceType (no slot) first
  }
  std::stable_sort(members.begin(), members.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  Value sorted(rapidjson::kObjectType);
  for (auto& [index, it] : members) sorted.AddMember(it->name, it->value, a);
  v = sorted;
}

// A stable urn:uuid from a name: two FNV-1a 64 hashes laid out as an RFC 9562 version 8
// (custom) UUID. Not for security; for stable fullUrls.
std::string name_uuid(std::string_view name) {
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  };
  std::uint64_t hi = fnv(0xcbf29ce484222325ULL), lo = fnv(0x84222325cbf29ce4ULL ^ hi);
  hi = (hi & ~0xF000ULL) | 0x8000ULL;                   // version 8
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);   // variant 10
  char buf[64];
  std::snprintf(buf, sizeof buf, "urn:uuid:%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

class Renderer {
 public:
  Renderer(Alloc& a, MappingIssues& issues) : a_(a), issues_(issues) {}
  bool failed = false;

  void rules(const std::vector<CareFhirRule>& rs, const void* ctx, const care::StructInfo& info, Value& elem,
             bool& wrote) {
    for (const CareFhirRule& r : rs) {
      if (r.is_group) group(r, ctx, info, elem, wrote);
      else leaf(r, ctx, info, elem, wrote);
    }
  }

  void issue(const CareFhirRule& r, bool error, hl7v2::ErrorCode code, std::string why) {
    MappingIssue mi;
    mi.issue.severity = error ? hl7v2::Severity::kError : hl7v2::Severity::kWarning;
    mi.issue.code = code;
    mi.issue.why = std::move(why);
    mi.rule = r.id;
    mi.source = r.source_text;
    mi.target = r.target ? r.target->text() : r.resource_type;
    issues_.push_back(std::move(mi));
    failed = failed || error;
  }

 private:
  void group(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Value& elem, bool& wrote) {
    r.source->for_each(ctx, info, [&](const care::ValueRef& v) {
      const care::StructInfo& inner = *v.struct_info;
      if (r.when && !holds(*r.when, v.ptr, inner)) return;
      if (!r.target) {
        rules(r.rules, v.ptr, inner, elem, wrote);
        return;
      }
      Value pending(rapidjson::kObjectType);
      bool w = false;
      rules(r.rules, v.ptr, inner, pending, w);
      if (!w || pending.MemberCount() == 0) return;  // only constants: nothing from the record
      if (!place(elem, *r.target, pending, a_))
        issue(r, false, hl7v2::ErrorCode::kDataType, "'" + r.target->text() + "' holds one value and already has another");
      wrote = true;
    });
  }

  void leaf(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Value& elem, bool& wrote) {
    if (r.when && !holds(*r.when, ctx, info)) return;
    std::vector<Item> items;
    if (r.source) {
      r.source->for_each(ctx, info, [&](const care::ValueRef& ref) {
        if (auto s = care::read_scalar(ref)) {
          Item it;
          std::visit([&](const auto& x) { it.value = x; }, *s);
          it.original = text_of(*s);
          items.push_back(std::move(it));
        }
      });
    }
    bool from_record = !items.empty();
    if (r.value) {
      Item it;
      std::visit([&](const auto& x) { it.value = x; }, *r.value);
      items.push_back(std::move(it));
    }
    if (!r.transforms.empty() && !items.empty()) {
      TransformEnv env;
      for (const Transform& t : r.transforms) {
        Cursor failed_at;
        if (auto s = apply(t, items, env, &failed_at); !s) {
          issue(r, r.required, hl7v2::ErrorCode::kDataType, s.error());
          return;
        }
      }
    }
    if (items.empty() && r.default_value) {
      Item it;
      std::visit([&](const auto& x) { it.value = x; }, *r.default_value);
      items.push_back(std::move(it));
      from_record = false;
    }
    if (items.empty()) {
      if (r.required) issue(r, true, hl7v2::ErrorCode::kRequiredFieldMissing, "required value missing");
      return;
    }
    const fhir::TypeDef& type = *r.target->leaf_type();
    for (Item& item : items) {
      Value v;
      if (!value(r, item, type, v)) continue;
      if (!place(elem, *r.target, v, a_)) {
        issue(r, false, hl7v2::ErrorCode::kDataType, "'" + r.target->text() + "' holds one value and already has another");
        continue;
      }
      wrote = wrote || from_record;
    }
  }

  // The JSON for one value at an element of `type`; false (with an issue) when it has none.
  bool value(const CareFhirRule& r, Item& item, const fhir::TypeDef& type, Value& out) {
    if (!r.reference_type.empty()) {
      out.SetObject();
      const std::string ref = fhir::conditional_reference(r.reference_type, r.reference_system,
                                                          std::get<std::string>(item.value));
      out.AddMember("reference", str(ref, a_), a_);
      return true;
    }
    if (r.concept_map) {
      const std::string& code = std::get<std::string>(item.value);
      ConceptMap::Translation t = r.concept_map->translate(code);
      if (t.kind == ConceptMap::Translation::Kind::kUnmapped) {
        if (r.unmapped == CareFhirRule::Unmapped::kKeep) {
          t.coding.code = code;
        } else {
          issue(r, r.required || r.unmapped == CareFhirRule::Unmapped::kReject, hl7v2::ErrorCode::kTableValueNotFound,
                "code '" + code + "' is not in ConceptMap " + r.concept_map_name);
          return false;
        }
      }
      item.value = t.coding;
    }
    if (const auto* c = std::get_if<care::Coding>(&item.value)) {
      if (type.name == "code") {
        out = str(c->code, a_);
        return true;
      }
      Value coding(rapidjson::kObjectType);
      if (!c->system.empty()) coding.AddMember("system", str(c->system, a_), a_);
      coding.AddMember("code", str(c->code, a_), a_);
      if (!c->display.empty()) coding.AddMember("display", str(c->display, a_), a_);
      if (type.name == "CodeableConcept") {
        out.SetObject();
        Value list(rapidjson::kArrayType);
        list.PushBack(coding, a_);
        out.AddMember("coding", list, a_);
      } else {
        out = coding;
      }
      return true;
    }
    if (const auto* b = std::get_if<bool>(&item.value)) {
      out.SetBool(*b);
      return true;
    }
    if (const auto* i = std::get_if<std::int64_t>(&item.value)) {
      out.SetInt64(*i);
      return true;
    }
    const std::string& s = std::get<std::string>(item.value);
    if (s.empty()) return false;
    if (type.name == "instant" && s.find('T') == std::string::npos) {
      issue(r, r.required, hl7v2::ErrorCode::kDataType, "'" + s + "' has no time; FHIR instant needs one");
      return false;
    }
    out = str(type.name == "dateTime" || type.name == "instant" ? fhir_date_time(s) : s, a_);
    return true;
  }

  Alloc& a_;
  MappingIssues& issues_;
};

MappingIssue message_issue(hl7v2::ErrorCode code, std::string why) {
  MappingIssue mi;
  mi.issue.severity = hl7v2::Severity::kError;
  mi.issue.code = code;
  mi.issue.why = std::move(why);
  return mi;
}

}  // namespace

std::string FhirTranslation::to_json(bool pretty) const {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    bundle.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    bundle.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

Result<FhirTranslation, MappingIssues> translate_to_fhir(const care::Record& record, const ProfileSet& set,
                                                         const FhirTranslateOptions& options) {
  std::vector<const Profile*> chosen;
  for (const auto& p : set.profiles()) {
    if (p->direction != Direction::kCareToFhir || p->abstract) continue;
    if (!options.profile.empty()) {
      if (p->name == options.profile) chosen.push_back(p.get());
      continue;
    }
    const bool extended = std::any_of(set.profiles().begin(), set.profiles().end(),
                                      [&](const auto& o) { return o->base == p.get() && !o->abstract; });
    if (!extended) chosen.push_back(p.get());
  }
  if (chosen.empty() || !set.fhir_model())
    return err(MappingIssues{message_issue(hl7v2::ErrorCode::kUnsupportedMessageType,
                                           options.profile.empty() ? "no care→fhir profile is loaded"
                                                                   : "no care→fhir profile '" + options.profile + "'")});

  FhirTranslation out;
  fhir::BundleBuilder builder(fhir::BundleType::kTransaction);
  if (!options.bundle_id.empty()) builder.id(options.bundle_id);
  if (!options.timestamp.empty()) builder.timestamp(options.timestamp);
  rapidjson::Document scratch;  // resources are built here; the builder copies them
  Alloc& a = scratch.GetAllocator();
  Renderer renderer(a, out.issues);
  std::vector<std::string> seen;  // "Type|system|value" already emitted
  for (const Profile* p : chosen) {
    for (const CareFhirRule& r : p->fhir_rules) {
      const void* entity = record.find(r.source->info().entity->type);
      if (!entity) continue;
      std::size_t run = 0;
      r.source->for_each(entity, r.source->info().entity->info(), [&](const care::ValueRef& v) {
        const care::StructInfo& info = *v.struct_info;
        if (r.when && !holds(*r.when, v.ptr, info)) return;
        Value res(rapidjson::kObjectType);
        res.AddMember("resourceType", str(r.resource_type, a), a);
        if (!r.meta_profiles.empty()) {
          Value meta(rapidjson::kObjectType), profiles(rapidjson::kArrayType);
          for (const std::string& u : r.meta_profiles) profiles.PushBack(str(u, a), a);
          meta.AddMember("profile", profiles, a);
          res.AddMember("meta", meta, a);
        }
        bool wrote = false;
        renderer.rules(r.rules, v.ptr, info, res, wrote);
        if (!wrote) return;
        order(res, *r.resource, a);
        std::string system, value;
        for (const ResourceKey& k : r.keys) {
          value = first_text(k.source, v.ptr, info);
          system = k.system_source ? first_text(*k.system_source, v.ptr, info) : k.system;
          if (!value.empty() && !system.empty()) break;
          value.clear();
        }
        const std::string name = value.empty() ? p->name + "|" + r.id + "|" + std::to_string(run++)
                                               : r.resource_type + "|" + system + "|" + value;
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) return;
        seen.push_back(name);
        const std::string full_url = name_uuid(name);
        if (value.empty()) builder.add_create(res, full_url);
        else if (r.conditional_update) builder.add_conditional_update(res, full_url, system, value);
        else builder.add_conditional_create(res, full_url, system, value);
      });
    }
  }
  if (renderer.failed) return err(std::move(out.issues));
  auto bundle = builder.finish();
  if (!bundle)
    return err(MappingIssues{message_issue(hl7v2::ErrorCode::kApplicationInternalError, bundle.error().to_string())});
  out.bundle = std::move(*bundle);
  return out;
}

}  // namespace midhurst::mapping
