#include "mapping/fhir_render_core.h"

#include <algorithm>
#include <cstring>

#include "fhir/bundle.h"

namespace midhurst::mapping::render {

namespace {

using rapidjson::Value;

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Where ":00" seconds go in a care dateTime that stops at hh:mm (FHIR needs seconds), or npos.
std::size_t missing_seconds_at(std::string_view v) {
  const std::size_t t = v.find('T');
  if (t == std::string_view::npos || v.size() < t + 6) return std::string_view::npos;
  if (v.size() > t + 6 && v[t + 6] == ':') return std::string_view::npos;
  return t + 6;
}

ValueView view_of_scalar(const care::Scalar& v) {
  ValueView out;
  if (const auto* s = std::get_if<std::string>(&v)) {
    out.text = *s;
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out.kind = ValueView::Kind::kBoolean;
    out.boolean = *b;
  } else {
    out.kind = ValueView::Kind::kInteger;
    out.integer = std::get<std::int64_t>(v);
  }
  return out;
}

ValueView view_of_item(const Item& item) {
  if (const auto* c = std::get_if<care::Coding>(&item.value)) {
    ValueView out;
    out.kind = ValueView::Kind::kCoding;
    out.coding = c;
    return out;
  }
  if (const auto* s = std::get_if<std::string>(&item.value)) return ValueView{ValueView::Kind::kText, *s, false, 0, nullptr};
  if (const auto* b = std::get_if<bool>(&item.value)) return ValueView{ValueView::Kind::kBoolean, {}, *b, 0, nullptr};
  return ValueView{ValueView::Kind::kInteger, {}, false, std::get<std::int64_t>(item.value), nullptr};
}

ValueView view_of_coding(const care::Coding& c) {
  ValueView out;
  out.kind = ValueView::Kind::kCoding;
  out.coding = &c;
  return out;
}

// The key order() sorts a member by: its element's definition index + 1; 0 for a name the type
// does not define (resourceType).
std::size_t member_key(const fhir::TypeDef& type, const Value& name) {
  const fhir::TypeDef::Slot* slot = type.find(std::string_view(name.GetString(), name.GetStringLength()));
  return slot ? slot->index + 1 : 0;
}

// Moves `obj`'s last member back to its place in definition order (members in order before it;
// after those with the same key: a stable order); returns it. *max_key, when given, is set to
// the largest key of obj's members.
Value::MemberIterator move_into_order(Value& obj, const fhir::TypeDef& type, std::size_t key, std::size_t* max_key) {
  auto at = obj.MemberEnd() - 1;
  // The others are in order: the one just before the new member holds the largest of their keys.
  std::size_t largest = key;
  for (bool last = true; at != obj.MemberBegin(); last = false) {
    const std::size_t before = member_key(type, (at - 1)->name);
    if (last) largest = std::max(key, before);
    if (before <= key) break;
    at->name.Swap((at - 1)->name);
    at->value.Swap((at - 1)->value);
    --at;
  }
  if (max_key) *max_key = largest;
  return at;
}

// Adds a member to `obj` (of `type`) at its place in FHIR definition order, so that no resource
// needs order() afterwards; returns it. With `max_key` (Element::max_key of `obj`), a member whose
// key is at least the largest there goes last without a look at the one before it.
Value::MemberIterator add_in_order(Value& obj, const fhir::TypeDef& type, std::size_t key, Value name, Value value,
                                   Alloc& a, std::size_t* max_key = nullptr) {
  obj.AddMember(name, value, a);
  if (max_key && *max_key != Element::kUnknown && *max_key <= key) {
    *max_key = key;
    return obj.MemberEnd() - 1;
  }
  return move_into_order(obj, type, key, max_key);
}

// obj's member `name`, or MemberEnd(). Names of one object mostly differ in length or first letter,
// which are compared before the bytes.
Value::MemberIterator find_member(Value& obj, std::string_view name) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    const char* n = it->name.GetString();
    if (it->name.GetStringLength() == name.size() && !name.empty() && n[0] == name[0] &&
        std::memcmp(n, name.data(), name.size()) == 0)
      return it;
  }
  return obj.MemberEnd();
}

// Merges `from` into `into` (of `type`): absent members are added, arrays appended, objects
// merged. False when a primitive is already set to something else (the existing value is kept).
bool merge(Value& into, Value& from, const fhir::TypeDef& type, Alloc& a, bool& unordered) {
  bool ok = true;
  // By index: clang's C++20 mode finds rapidjson's iterator comparison ambiguous.
  for (rapidjson::SizeType i = 0; i < from.MemberCount(); ++i) {
    auto& m = *(from.MemberBegin() + i);
    auto it = into.FindMember(m.name);
    if (it == into.MemberEnd()) {
      add_in_order(into, type, member_key(type, m.name), Value(m.name, a), std::move(m.value), a);
    } else if (it->value.IsArray() && m.value.IsArray()) {
      for (auto& e : m.value.GetArray()) it->value.PushBack(e, a);
    } else if (it->value.IsObject() && m.value.IsObject()) {
      const fhir::TypeDef::Slot* slot = type.find(std::string_view(m.name.GetString(), m.name.GetStringLength()));
      if (!slot) unordered = true;  // not a FHIR element: let order() decide
      ok = merge(it->value, m.value, slot ? *slot->type : type, a, unordered) && ok;
    } else if (it->value != m.value) {
      ok = false;
    }
  }
  return ok;
}

// Writes `v` at `path` under `obj`, creating what is missing (fhir_path.h semantics), each member
// at its place in definition order. False when the element holds one value and already has
// another. `v`'s own members are in definition order already (built so, or by place()).
bool place(Element& obj, const FhirPath& path, Value& v, Alloc& a, bool& unordered) {
  Value* cur = &obj.json;
  const fhir::TypeDef* cur_type = path.root();
  const auto& steps = path.steps();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const FhirPath::Step& step = steps[i];
    const bool last = i + 1 == steps.size();
    auto it = find_member(*cur, step.name);
    const fhir::TypeDef& parent = *cur_type;
    cur_type = step.type;
    // What is known of the order of `cur`'s members: only of obj's own (the objects below are
    // looked at afresh).
    std::size_t* max_key = i == 0 ? &obj.max_key : nullptr;
    if (step.element->repeats) {
      if (it == cur->MemberEnd())
        it = add_in_order(*cur, parent, step.order, str(step.name, a), Value(rapidjson::kArrayType), a, max_key);
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
          auto k = find_member(e, step.key);
          if (k != e.MemberEnd() && k->value.IsString() &&
              std::string_view(k->value.GetString(), k->value.GetStringLength()) == step.key_value)
            found = &e;
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
        add_in_order(*cur, parent, step.order, str(step.name, a), std::move(v), a, max_key);
        return true;
      }
      if (it->value.IsObject() && v.IsObject()) return merge(it->value, v, *step.type, a, unordered);
      return it->value == v;
    } else {
      if (it == cur->MemberEnd())
        it = add_in_order(*cur, parent, step.order, str(step.name, a), Value(rapidjson::kObjectType), a, max_key);
      cur = &it->value;
    }
  }
  return true;
}

}  // namespace

std::vector<const Profile*> applicable_profiles(const ProfileSet& set, std::string_view only) {
  std::vector<const Profile*> chosen;
  // The profiles some non-abstract profile extends, gathered in one pass (this runs per call of
  // translate_to_fhir).
  std::vector<const Profile*> extended;
  if (only.empty())
    for (const auto& o : set.profiles())
      if (o->base && !o->abstract) extended.push_back(o->base);
  for (const auto& p : set.profiles()) {
    if (p->direction != Direction::kCareToFhir || p->abstract) continue;
    if (!only.empty()) {
      if (p->name == only) chosen.push_back(p.get());
      continue;
    }
    if (std::find(extended.begin(), extended.end(), p.get()) == extended.end()) chosen.push_back(p.get());
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

void first_text_into(const care::CompiledPath& p, const void* obj, const care::StructInfo& info, std::string& out) {
  out.clear();
  p.visit(obj, info, [&](const care::ValueRef& r) {
    if (!out.empty()) return;
    if (const std::optional<ValueView> v = view_of(r)) {
      if (v->kind == ValueView::Kind::kText) out.assign(v->text);
      else if (v->kind == ValueView::Kind::kBoolean) out.assign(v->boolean ? "true" : "false");
      else out.assign(std::to_string(v->integer));
    }
  });
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
  c.path->visit(obj, info, [&](const care::ValueRef& r) {
    if (r.kind == care::Kind::kStruct) {
      any = any || c.op == CareCondition::Op::kExists;
      return;
    }
    const auto v = view_of(r);
    if (!v) return;
    if (c.op == CareCondition::Op::kExists) {
      any = true;
      return;
    }
    std::string number;  // integers compare as decimal text
    std::string_view text = v->text;
    if (v->kind == ValueView::Kind::kBoolean) text = v->boolean ? "true" : "false";
    else if (v->kind == ValueView::Kind::kInteger) text = number = std::to_string(v->integer);
    if (std::find(c.values.begin(), c.values.end(), text) != c.values.end()) any = true;
  });
  return c.op == CareCondition::Op::kExists ? any == c.exists : any;
}

// FHIR dateTime/instant: a time needs seconds; the care model keeps hh:mm when that is all the
// source sent, so ":00" is added (the offset and the date precision are kept as they are).
std::string fhir_date_time(std::string_view v) {
  const std::size_t at = missing_seconds_at(v);
  if (at == std::string_view::npos) return std::string(v);
  std::string out;
  out.reserve(v.size() + 3);
  out.append(v.substr(0, at)).append(":00").append(v.substr(at));
  return out;
}

std::optional<ValueView> view_of(const care::ValueRef& ref) {
  ValueView out;
  switch (ref.kind) {
    case care::Kind::kString:
    case care::Kind::kDate:
    case care::Kind::kDateTime: {
      const auto& s = *static_cast<const std::string*>(ref.ptr);
      if (s.empty()) return std::nullopt;
      out.text = s;
      return out;
    }
    case care::Kind::kBoolean:
      out.kind = ValueView::Kind::kBoolean;
      out.boolean = *static_cast<const bool*>(ref.ptr);
      return out;
    case care::Kind::kInteger:
      out.kind = ValueView::Kind::kInteger;
      out.integer = ref.field->get_integer(ref.ptr);
      return out;
    case care::Kind::kEnum:
      out.text = ref.enum_info->values[ref.field->get_enum(ref.ptr)].code;
      return out;
    case care::Kind::kStruct: return std::nullopt;
  }
  return std::nullopt;
}

void order(Value& v, const fhir::TypeDef& type, Alloc& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) order(e, type, a);
    return;
  }
  if (!v.IsObject() || type.is_primitive()) return;
  // Most objects are small: their (position, member) pairs stay on the stack.
  using Pair = std::pair<std::size_t, Value::MemberIterator>;
  constexpr std::size_t kLocal = 32;
  Pair local[kLocal];
  std::vector<Pair> heap;
  const std::size_t n = v.MemberCount();
  Pair* members = local;
  if (n > kLocal) {
    heap.resize(n);
    members = heap.data();
  }
  bool sorted_already = true;
  std::size_t k = 0;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it, ++k) {
    const fhir::TypeDef::Slot* slot = type.find(std::string_view(it->name.GetString(), it->name.GetStringLength()));
    if (slot) order(it->value, *slot->type, a);
    members[k] = {slot ? slot->index + 1 : 0, it};  // resourceType (no slot) first
    if (k > 0 && members[k].first < members[k - 1].first) sorted_already = false;
  }
  if (sorted_already) return;
  std::stable_sort(members, members + n, [](const Pair& x, const Pair& y) { return x.first < y.first; });
  Value sorted(rapidjson::kObjectType);
  for (std::size_t i = 0; i < n; ++i) sorted.AddMember(members[i].second->name, members[i].second->value, a);
  v = sorted;
}

bool RuleWalker::resource(const CareFhirRule& r, const void* entity, const void* value, const care::StructInfo& info,
                          Value& resource) {
  entity_ = entity;
  entity_info_ = r.source->info().entity;
  // The members already there (resourceType, id, meta) are in order unless the caller says.
  unordered_ = false;
  bool wrote = false;
  Element root{resource};
  rules(r.rules, value, info, root, wrote);
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

void RuleWalker::rules(const std::vector<CareFhirRule>& rs, const void* ctx, const care::StructInfo& info, Element& elem,
                       bool& wrote) {
  for (const CareFhirRule& r : rs) {
    if (r.is_group) group(r, ctx, info, elem, wrote);
    else leaf(r, ctx, info, elem, wrote);
  }
}

void RuleWalker::group(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Element& elem, bool& wrote) {
  const void* from = r.from_root ? entity_ : ctx;
  const care::StructInfo& from_info = r.from_root ? entity_info_->info() : info;
  r.source->visit(from, from_info, [&](const care::ValueRef& v) {
    const care::StructInfo& inner = *v.struct_info;
    if (r.when && !holds(*r.when, v.ptr, inner)) return;
    if (!r.target) {
      rules(r.rules, v.ptr, inner, elem, wrote);
      return;
    }
    Value pending(rapidjson::kObjectType);
    Element into{pending, 0};  // empty: any member goes last
    bool w = false;
    rules(r.rules, v.ptr, inner, into, w);
    if (!w || pending.MemberCount() == 0) return;  // only constants: nothing from the record
    if (!place(elem, *r.target, pending, a_, unordered_))
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
    fhir::conditional_reference(*type, ref.identifier->system, ref.identifier->value, text_);
    out.AddMember("reference", str(text_, a_), a_);
  } else if (type && !ref.id.empty()) {
    text_.assign(*type).append("/").append(ref.id);
    out.AddMember("reference", str(text_, a_), a_);
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

void RuleWalker::self_reference(const CareFhirRule& r, Element& elem, bool& wrote) {
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
  if (place(elem, *r.target, v, a_, unordered_)) wrote = true;
}

void RuleWalker::referenced_by(const CareFhirRule& r, Element& elem, bool& wrote) {
  if (ctx_.mode == RefMode::kTransaction) {
    if (!ctx_.referenced_urls) return;
    for (const std::string& url : *ctx_.referenced_urls) {
      Value v(rapidjson::kObjectType);
      v.AddMember("reference", str(url, a_), a_);
      place(elem, *r.target, v, a_, unordered_);
      wrote = true;
    }
    return;
  }
  if (!ctx_.referenced_by) return;
  for (const care::Reference& ref : *ctx_.referenced_by) {
    Value v;
    if (!reference_value(r, ref, v)) continue;
    place(elem, *r.target, v, a_, unordered_);
    wrote = true;
  }
}

void RuleWalker::leaf(const CareFhirRule& r, const void* ctx, const care::StructInfo& info, Element& elem, bool& wrote) {
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
    r.source->visit(from, from_info, [&](const care::ValueRef& ref) {
      Value v;
      if (!reference_value(r, *static_cast<const care::Reference*>(ref.ptr), v)) return;
      if (!place(elem, *r.target, v, a_, unordered_)) {
        issue(r, false, hl7v2::ErrorCode::kDataType, "'" + r.target->text() + "' holds one value and already has another");
        return;
      }
      note_read(ref);
      wrote = true;
    });
    return;
  }
  if (!r.transforms.empty()) {
    transformed_leaf(r, from, from_info, elem, wrote);
    return;
  }
  // No transforms: the values go from the record (or the rule) to the JSON without copies, in the
  // order source values, then the constant, else the default.
  const std::size_t read_mark = ctx_.read ? ctx_.read->size() : 0;
  bool from_record = false, placed = false;
  if (r.source) {
    r.source->visit(from, from_info, [&](const care::ValueRef& ref) {
      const std::optional<ValueView> v = view_of(ref);
      if (!v) return;
      from_record = true;
      if (ctx_.read) ctx_.read->push_back(ref.ptr);
      emit(r, *v, true, elem, wrote, placed);
    });
  }
  if (r.value) emit(r, view_of_scalar(*r.value), from_record, elem, wrote, placed);
  else if (r.coding_value) emit(r, view_of_coding(*r.coding_value), from_record, elem, wrote, placed);
  else if (!from_record && r.default_value) emit(r, view_of_scalar(*r.default_value), false, elem, wrote, placed);
  else if (!from_record && r.required) issue(r, true, hl7v2::ErrorCode::kRequiredFieldMissing, "required value missing");
  if (!placed && ctx_.read) ctx_.read->resize(read_mark);
}

// Writes one value at the rule's target; `placed` is set when it was, `wrote` when it came from
// the record.
void RuleWalker::emit(const CareFhirRule& r, const ValueView& item, bool from_record, Element& elem, bool& wrote,
                      bool& placed) {
  Value v;
  if (!value(r, item, *r.target->leaf_type(), v)) return;
  if (!place(elem, *r.target, v, a_, unordered_)) {
    issue(r, false, hl7v2::ErrorCode::kDataType, "'" + r.target->text() + "' holds one value and already has another");
    return;
  }
  placed = true;
  wrote = wrote || from_record;
}

void RuleWalker::transformed_leaf(const CareFhirRule& r, const void* from, const care::StructInfo& from_info,
                                  Element& elem, bool& wrote) {
  std::vector<Item>& items = items_;
  items.clear();
  const std::size_t read_mark = ctx_.read ? ctx_.read->size() : 0;
  if (r.source) {
    r.source->visit(from, from_info, [&](const care::ValueRef& ref) {
      if (auto s = care::read_scalar(ref)) {
        Item it;  // (Item::original is for v2 sources' CodeableConcept text; unused here)
        std::visit([&](auto& x) { it.value = std::move(x); }, *s);
        items.push_back(std::move(it));
        if (ctx_.read) ctx_.read->push_back(ref.ptr);
      }
    });
  }
  const bool from_record = !items.empty();
  if (r.value) {
    Item it;
    std::visit([&](const auto& x) { it.value = x; }, *r.value);
    items.push_back(std::move(it));
  } else if (r.coding_value) {
    Item it;
    it.value = *r.coding_value;
    items.push_back(std::move(it));
  }
  bool placed = false;
  if (!items.empty()) {
    TransformEnv env;
    for (const Transform& t : r.transforms) {
      Cursor failed_at;
      if (auto s = apply(t, items, env, &failed_at); !s) {
        issue(r, r.required, hl7v2::ErrorCode::kDataType, s.error());
        if (ctx_.read) ctx_.read->resize(read_mark);
        return;
      }
    }
  }
  if (items.empty() && r.default_value) {
    emit(r, view_of_scalar(*r.default_value), false, elem, wrote, placed);
  } else if (items.empty()) {
    if (r.required) issue(r, true, hl7v2::ErrorCode::kRequiredFieldMissing, "required value missing");
  } else {
    for (const Item& item : items) emit(r, view_of_item(item), from_record, elem, wrote, placed);
  }
  if (!placed && ctx_.read) ctx_.read->resize(read_mark);
}

// The JSON for one value at an element of `type`; false (with an issue) when it has none.
bool RuleWalker::value(const CareFhirRule& r, const ValueView& in, const fhir::TypeDef& type, Value& out) {
  if (!r.reference_type.empty()) {  // the loader lets only text reach a reference rule
    out.SetObject();
    const std::string_view value = in.text;
    if (ctx_.mode == RefMode::kTransaction) {
      fhir::conditional_reference(r.reference_type, r.reference_system, value, text_);
      out.AddMember("reference", str(text_, a_), a_);
    } else {  // outside a transaction the conditional form means nothing: a logical reference
      Value id(rapidjson::kObjectType);
      id.AddMember("system", str(r.reference_system, a_), a_);
      id.AddMember("value", str(value, a_), a_);
      out.AddMember("identifier", id, a_);
    }
    return true;
  }
  // The coding to write, as views: the value's own, or the ConceptMap's entry (not copied).
  struct CodingView {
    std::string_view system, code, display;
  };
  std::optional<CodingView> coding;
  if (in.kind == ValueView::Kind::kCoding) coding = CodingView{in.coding->system, in.coding->code, in.coding->display};
  if (r.concept_map) {
    const std::string_view code = in.text;
    ConceptMap::TranslationView t = r.concept_map->lookup(code);
    if (t.kind == ConceptMap::Translation::Kind::kUnmapped) {
      if (r.unmapped == CareFhirRule::Unmapped::kKeep) {
        t.code = code;
      } else {
        issue(r, r.required || r.unmapped == CareFhirRule::Unmapped::kReject, hl7v2::ErrorCode::kTableValueNotFound,
              "code '" + std::string(code) + "' is not in ConceptMap " + r.concept_map_name);
        return false;
      }
    }
    coding = CodingView{t.system, t.code, t.display};
  }
  using Form = CareFhirRule::TargetForm;
  if (coding) {
    const CodingView& c = *coding;
    if (r.target_form == Form::kCode) {
      out = str(c.code, a_);
      return true;
    }
    Value cv(rapidjson::kObjectType);
    if (!c.system.empty()) cv.AddMember("system", str(c.system, a_), a_);
    cv.AddMember("code", str(c.code, a_), a_);
    if (!c.display.empty()) cv.AddMember("display", str(c.display, a_), a_);
    if (r.target_form == Form::kCodeableConcept) {
      out.SetObject();
      Value list(rapidjson::kArrayType);
      list.PushBack(cv, a_);
      out.AddMember("coding", list, a_);
    } else {
      out = cv;
    }
    return true;
  }
  if (in.kind == ValueView::Kind::kBoolean) {
    if (type.json == fhir::JsonKind::kString) out = str(in.boolean ? "true" : "false", a_);
    else out.SetBool(in.boolean);
    return true;
  }
  if (in.kind == ValueView::Kind::kInteger) {
    if (type.json == fhir::JsonKind::kString) out = str(std::to_string(in.integer), a_);
    else out.SetInt64(in.integer);
    return true;
  }
  const std::string_view s = in.text;
  if (s.empty()) return false;
  const bool date_time = r.target_form == Form::kDateTime;
  const bool instant = r.target_form == Form::kInstant;
  if (instant && s.find('T') == std::string_view::npos) {
    issue(r, r.required, hl7v2::ErrorCode::kDataType, "'" + std::string(s) + "' has no time; FHIR instant needs one");
    return false;
  }
  if ((date_time || instant) && missing_seconds_at(s) != std::string_view::npos) out = str(fhir_date_time(s), a_);
  else out = str(s, a_);
  return true;
}

}  // namespace midhurst::mapping::render
