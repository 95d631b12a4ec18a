#include "mapping/fhir_render_core.h"

#include <algorithm>

#include "fhir/bundle.h"

namespace midhurst::mapping::render {

namespace {

using rapidjson::Value;

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string text_of(const care::Scalar& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return std::to_string(std::get<std::int64_t>(v));
}

// Merges `from` into `into`: absent members are added, arrays appended, objects merged. False
// when a primitive is already set to something else (the existing value is kept).
bool merge(Value& into, Value& from, Alloc& a) {
  bool ok = true;
  // By index: clang's C++20 mode finds rapidjson's iterator comparison ambiguous.
  for (rapidjson::SizeType i = 0; i < from.MemberCount(); ++i) {
    auto& m = *(from.MemberBegin() + i);
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

}  // namespace

std::vector<const Profile*> applicable_profiles(const ProfileSet& set, std::string_view only) {
  std::vector<const Profile*> chosen;
  for (const auto& p : set.profiles()) {
    if (p->direction != Direction::kCareToFhir || p->abstract) continue;
    if (!only.empty()) {
      if (p->name == only) chosen.push_back(p.get());
      continue;
    }
    const bool extended = std::any_of(set.profiles().begin(), set.profiles().end(),
                                      [&](const auto& o) { return o->base == p.get() && !o->abstract; });
    if (!extended) chosen.push_back(p.get());
  }
  return chosen;
}

bool renders_whole_entity(const CareFhirRule& r) { return r.source && r.source->steps().empty(); }

std::vector<std::string> entity_resource_types(const std::vector<const Profile*>& profiles) {
  std::vector<std::string> out(care::entities().size());
  for (const Profile* p : profiles)
    for (const CareFhirRule& r : p->fhir_rules) {
      if (!r.served || !renders_whole_entity(r)) continue;
      std::string& slot = out[static_cast<std::size_t>(r.source->info().entity->type)];
      if (slot.empty()) slot = r.resource_type;
    }
  return out;
}

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

void order(Value& v, const fhir::TypeDef& type, Alloc& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) order(e, type, a);
    return;
  }
  if (!v.IsObject() || type.is_primitive()) return;
  std::vector<std::pair<std::size_t, Value::MemberIterator>> members;
  members.reserve(v.MemberCount());
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const fhir::TypeDef::Slot* slot = type.find(std::string_view(it->name.GetString(), it->name.GetStringLength()));
    if (slot) order(it->value, *slot->type, a);
    members.emplace_back(slot ? slot->index + 1 : 0, it);  // resourceType (no slot) first
  }
  if (std::is_sorted(members.begin(), members.end(), [](const auto& x, const auto& y) { return x.first < y.first; }))
    return;
  std::stable_sort(members.begin(), members.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  Value sorted(rapidjson::kObjectType);
  for (auto& [index, it] : members) sorted.AddMember(it->name, it->value, a);
  v = sorted;
}

bool RuleWalker::resource(const CareFhirRule& r, const void* entity, const void* value, const care::StructInfo& info,
                          Value& resource) {
  entity_ = entity;
  entity_info_ = r.source->info().entity;
  bool wrote = false;
  rules(r.rules, value, info, resource, wrote);
  return wrote;
}

void RuleWalker::issue(const CareFhirRule& r, bool error, hl7v2::ErrorCode code, std::string why) {
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

void RuleWalker::note_read(const care::ValueRef& ref) {
  if (ctx_.read_whole) ctx_.read_whole->push_back(ref.ptr);
}

void RuleWalker::rules(const std::vector<CareFhirRule>& rs, const void* ctx, const care::StructInfo& info, Value& elem,
                       bool& wrote) {
  for (const CareFhirRule& r : rs) {
    if (r.is_group) group(r, ctx, info, elem, wrote);
    else leaf(r, ctx, info, elem, wrote);
  }
}

void RuleWalker::group(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Value& elem, bool& wrote) {
  const void* from = r.from_root ? entity_ : ctx;
  const care::StructInfo& from_info = r.from_root ? entity_info_->info() : info;
  r.source->for_each(from, from_info, [&](const care::ValueRef& v) {
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

// A care Reference as a FHIR Reference (see RefMode); false when it has nothing to write.
bool RuleWalker::reference_value(const CareFhirRule& r, const care::Reference& ref, Value& out) {
  const auto t = static_cast<std::size_t>(ref.type);
  const std::string* type =
      ctx_.entity_resource && t < ctx_.entity_resource->size() && !(*ctx_.entity_resource)[t].empty()
          ? &(*ctx_.entity_resource)[t]
          : nullptr;
  const bool has_identifier = ref.identifier && !ref.identifier->system.empty() && !ref.identifier->value.empty();
  out.SetObject();
  if (ctx_.mode == RefMode::kTransaction && type && has_identifier) {
    out.AddMember("reference",
                  str(fhir::conditional_reference(*type, ref.identifier->system, ref.identifier->value), a_), a_);
  } else if (type && !ref.id.empty()) {
    out.AddMember("reference", str(*type + "/" + ref.id, a_), a_);
  } else if (has_identifier) {
    Value id(rapidjson::kObjectType);
    id.AddMember("system", str(ref.identifier->system, a_), a_);
    id.AddMember("value", str(ref.identifier->value, a_), a_);
    out.AddMember("identifier", id, a_);
  } else if (ref.display.empty()) {
    issue(r, false, hl7v2::ErrorCode::kDataType,
          "a reference with only a gateway id to an entity type no loaded profile renders");
    return false;
  }
  if (!ref.display.empty()) out.AddMember("display", str(ref.display, a_), a_);
  return true;
}

void RuleWalker::self_reference(const CareFhirRule& r, Value& elem, bool& wrote) {
  const auto type = static_cast<std::size_t>(entity_info_->type);
  Value v(rapidjson::kObjectType);
  if (ctx_.mode == RefMode::kTransaction && ctx_.entity_urls && type < ctx_.entity_urls->size() &&
      !(*ctx_.entity_urls)[type].empty()) {
    v.AddMember("reference", str((*ctx_.entity_urls)[type], a_), a_);
  } else {
    care::Reference self;
    self.type = entity_info_->type;
    self.id = static_cast<const care::Entity*>(entity_)->id;
    if (!reference_value(r, self, v)) return;
  }
  if (place(elem, *r.target, v, a_)) wrote = true;
}

void RuleWalker::referenced_by(const CareFhirRule& r, Value& elem, bool& wrote) {
  if (ctx_.mode == RefMode::kTransaction) {
    if (!ctx_.referenced_urls) return;
    for (const std::string& url : *ctx_.referenced_urls) {
      Value v(rapidjson::kObjectType);
      v.AddMember("reference", str(url, a_), a_);
      place(elem, *r.target, v, a_);
      wrote = true;
    }
    return;
  }
  if (!ctx_.referenced_by) return;
  for (const care::Reference& ref : *ctx_.referenced_by) {
    Value v;
    if (!reference_value(r, ref, v)) continue;
    place(elem, *r.target, v, a_);
    wrote = true;
  }
}

void RuleWalker::leaf(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Value& elem, bool& wrote) {
  if (r.when && !holds(*r.when, ctx, info)) return;
  if (r.referenced_by) {
    referenced_by(r, elem, wrote);
    return;
  }
  if (r.self_reference) {
    self_reference(r, elem, wrote);
    return;
  }
  const void* from = r.from_root ? entity_ : ctx;
  const care::StructInfo& from_info = r.from_root ? entity_info_->info() : info;
  if (r.care_reference) {
    r.source->for_each(from, from_info, [&](const care::ValueRef& ref) {
      Value v;
      if (!reference_value(r, *static_cast<const care::Reference*>(ref.ptr), v)) return;
      if (!place(elem, *r.target, v, a_)) {
        issue(r, false, hl7v2::ErrorCode::kDataType, "'" + r.target->text() + "' holds one value and already has another");
        return;
      }
      note_read(ref);
      wrote = true;
    });
    return;
  }
  std::vector<Item> items;
  std::vector<const void*> read;
  if (r.source) {
    r.source->for_each(from, from_info, [&](const care::ValueRef& ref) {
      if (auto s = care::read_scalar(ref)) {
        Item it;  // (Item::original is for v2 sources' CodeableConcept text; unused here)
        std::visit([&](auto& x) { it.value = std::move(x); }, *s);
        items.push_back(std::move(it));
        read.push_back(ref.ptr);
      }
    });
  }
  bool from_record = !items.empty();
  if (r.value) {
    Item it;
    std::visit([&](const auto& x) { it.value = x; }, *r.value);
    items.push_back(std::move(it));
  } else if (r.coding_value) {
    Item it;
    it.value = *r.coding_value;
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
  bool placed = false;
  for (Item& item : items) {
    Value v;
    if (!value(r, item, type, v)) continue;
    if (!place(elem, *r.target, v, a_)) {
      issue(r, false, hl7v2::ErrorCode::kDataType, "'" + r.target->text() + "' holds one value and already has another");
      continue;
    }
    placed = true;
    wrote = wrote || from_record;
  }
  if (placed && ctx_.read) ctx_.read->insert(ctx_.read->end(), read.begin(), read.end());
}

// The JSON for one value at an element of `type`; false (with an issue) when it has none.
bool RuleWalker::value(const CareFhirRule& r, Item& item, const fhir::TypeDef& type, Value& out) {
  if (!r.reference_type.empty()) {
    out.SetObject();
    const std::string& value = std::get<std::string>(item.value);
    if (ctx_.mode == RefMode::kTransaction) {
      out.AddMember("reference", str(fhir::conditional_reference(r.reference_type, r.reference_system, value), a_), a_);
    } else {  // outside a transaction the conditional form means nothing: a logical reference
      Value id(rapidjson::kObjectType);
      id.AddMember("system", str(r.reference_system, a_), a_);
      id.AddMember("value", str(value, a_), a_);
      out.AddMember("identifier", id, a_);
    }
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
    if (type.json == fhir::JsonKind::kString) out = str(*b ? "true" : "false", a_);
    else out.SetBool(*b);
    return true;
  }
  if (const auto* i = std::get_if<std::int64_t>(&item.value)) {
    if (type.json == fhir::JsonKind::kString) out = str(std::to_string(*i), a_);
    else out.SetInt64(*i);
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

}  // namespace midhurst::mapping::render
