#include "mapping/fhir_care_engine.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>

#include "care/codes.h"
#include "care/json.h"
#include "mapping/fhir_read_path.h"

namespace midhurst::mapping {

namespace {

const std::string kBundleRule = "(bundle)";

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return buf;
}

std::string member_text(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return "";
  const auto m = v.FindMember(name);
  return m == v.MemberEnd() ? "" : fhir_text(m->value);
}

// "Patient.name[0].given[1]" -> "Patient.name.given": the form `ignore` entries are written in.
std::string without_indexes(const std::string& location) {
  std::string out;
  bool in = false;
  for (char c : location) {
    if (c == '[') in = true;
    else if (c == ']') in = false;
    else if (!in) out += c;
  }
  return out;
}

struct Resource {
  const rapidjson::Value* json = nullptr;
  std::string type;
  std::string location;  // "Patient" or "Bundle.entry[2].resource"
};

// Where a group's rules write: created on first write (lazily, so a group that finds nothing
// leaves no empty element behind).
struct Slot {
  Slot* parent = nullptr;
  const FhirCareRule* group = nullptr;  // the rule whose target this slot is
  care::ValueRef ref;                   // ptr == nullptr until materialised
  bool own = false;                     // this slot's rule has its own target (else: the parent's)
  bool sourced = false;                 // a value read from the input was written here
  std::string location;                 // the FHIR value the group runs on (for issues)
};

class Run {
 public:
  Run(const ProfileSet& set, const rapidjson::Value& input, Translation& out)
      : set_(set), input_(input), out_(out) {}

  bool collect() {
    if (!input_.IsObject() || member_text(input_, "resourceType").empty()) {
      message_issue(hl7v2::ErrorCode::kApplicationInternalError, "", "the input is not a FHIR resource (no resourceType)");
      return false;
    }
    const std::string type = member_text(input_, "resourceType");
    if (type != "Bundle") {
      resources_.push_back(Resource{&input_, type, type});
      index(input_, type, "");
      return true;
    }
    const auto entries = input_.FindMember("entry");
    if (entries == input_.MemberEnd() || !entries->value.IsArray()) return true;
    for (rapidjson::SizeType i = 0; i < entries->value.Size(); ++i) {
      const rapidjson::Value& e = entries->value[i];
      if (!e.IsObject()) continue;
      const auto r = e.FindMember("resource");
      if (r == e.MemberEnd() || !r->value.IsObject()) continue;
      const std::string location = "Bundle.entry[" + std::to_string(i) + "].resource";
      resources_.push_back(Resource{&r->value, member_text(r->value, "resourceType"), location});
      index(r->value, resources_.back().type, member_text(e, "fullUrl"));
    }
    return true;
  }

  void profile(const Profile& p) {
    profile_ = &p;
    for (const FhirCareRule& rule : p.fhir_care_rules) {
      // A care record holds one entity of each type (and one CPR decision...): a resource rule
      // whose target does not append takes the first resource; the others are left out, said so.
      const bool single = !rule.target_path->text().ends_with("[]");
      const Resource* taken = nullptr;
      for (const Resource& res : resources_) {
        if (res.type != rule.resource_type || !claims_profile(*res.json, rule.meta_profiles)) continue;
        if (rule.when && !holds(*rule.when, *res.json, res.location, rule)) continue;
        if (single && taken) {
          issue(rule, hl7v2::ErrorCode::kDataType, false, res.location,
                "a second " + res.type + " for " + rule.target_path->text() + " (already mapped from " +
                    taken->location + "); a care record holds one, so this one is left out");
          continue;
        }
        resource(rule, res);
        taken = &res;
      }
    }
  }

  void provenance(const FhirCareOptions& o, const Profile* p) {
    care::Provenance& prov = out_.record.ensure<care::Provenance>();
    prov.format = care::SourceFormat::kFhir;
    prov.message_id = member_text(input_, "id");
    const std::string type = member_text(input_, "resourceType");
    const std::string bundle_type = type == "Bundle" ? member_text(input_, "type") : "";
    prov.message_type = bundle_type.empty() ? type : type + " " + bundle_type;
    prov.received_at = o.received_at.empty() ? now_utc() : o.received_at;
    prov.journal_id = o.journal_id;
    // The sender: what the input's own Provenance said (its agent, read by the profile's rules),
    // else the system its meta.source names, else what the caller knows of the client.
    auto meta_source = [](const rapidjson::Value& resource) {
      const auto meta = resource.FindMember("meta");
      return meta == resource.MemberEnd() ? std::string() : member_text(meta->value, "source");
    };
    if (prov.sender.application.empty() && input_.IsObject()) prov.sender.application = meta_source(input_);
    for (const Resource& r : resources_) {  // a Bundle without one: the first entry that names it
      if (!prov.sender.application.empty()) break;
      prov.sender.application = meta_source(*r.json);
    }
    if (prov.sender.application.empty()) prov.sender.application = o.sender.application;
    if (prov.sender.organization_ods.empty()) prov.sender.organization_ods = o.sender.organization_ods;
    if (p) prov.profile = care::ProfileRef{p->name, p->version};
  }

  void ledger() {
    auto ignored = [&](const std::string& location) {
      std::string key = without_indexes(location);
      // Entries are keyed by their resource type: "Bundle.entry.resource.name" -> "Patient.name".
      for (const Resource& r : resources_)
        if (location.starts_with(r.location + ".") && r.location != r.type) {
          key = r.type + without_indexes(location.substr(r.location.size()));
          break;
        }
      for (const Profile* p : profiles_)
        for (const IgnoreEntry& e : p->ignore)
          if (key == e.text || key.starts_with(e.text + ".")) return true;
      return false;
    };
    for_each_fhir_leaf(input_, member_text(input_, "resourceType"), [&](const std::string& location) {
      LedgerEntry e;
      e.field = location;
      std::set<std::string> rules;
      for (const auto& [at, rule] : reads_)
        if (location == at || (location.starts_with(at) && (location[at.size()] == '.' || location[at.size()] == '[')))
          rules.insert(*rule);
      if (is_bundle_structure(location)) rules.insert(kBundleRule);
      if (!rules.empty()) {
        e.status = LedgerEntry::Status::kMapped;
        e.rules.assign(rules.begin(), rules.end());
      } else {
        e.status = ignored(location) ? LedgerEntry::Status::kIgnored : LedgerEntry::Status::kUnread;
      }
      out_.ledger.entries.push_back(std::move(e));
    });
  }

  void message_issue(hl7v2::ErrorCode code, std::string location, std::string why) {
    MappingIssue i;
    i.issue.severity = hl7v2::Severity::kError;
    i.issue.code = code;
    i.issue.why = std::move(why);
    i.source = std::move(location);
    out_.issues.push_back(std::move(i));
  }

  std::vector<const Profile*> profiles_;

 private:
  static bool is_bundle_structure(const std::string& location) {
    if (!location.starts_with("Bundle.")) return false;
    const std::string key = without_indexes(location);
    return key == "Bundle.id" || key == "Bundle.type" || key == "Bundle.timestamp" || key == "Bundle.entry.fullUrl" ||
           key.starts_with("Bundle.entry.request.") || key.starts_with("Bundle.meta.");
  }

  void index(const rapidjson::Value& r, const std::string& type, const std::string& full_url) {
    if (!full_url.empty()) by_url_[full_url] = &r;
    if (const std::string id = member_text(r, "id"); !id.empty()) by_url_[type + "/" + id] = &r;
  }

  static bool claims_profile(const rapidjson::Value& r, const std::vector<std::string>& wanted) {
    if (wanted.empty()) return true;
    const auto meta = r.FindMember("meta");
    if (meta == r.MemberEnd() || !meta->value.IsObject()) return false;
    const auto p = meta->value.FindMember("profile");
    if (p == meta->value.MemberEnd() || !p->value.IsArray()) return false;
    for (const auto& u : p->value.GetArray())
      if (std::find(wanted.begin(), wanted.end(), fhir_text(u)) != wanted.end()) return true;
    return false;
  }

  bool holds(const FhirCondition& c, const rapidjson::Value& ctx, const std::string& location, const FhirCareRule& r) {
    switch (c.op) {
      case FhirCondition::Op::kAll:
        return std::all_of(c.children.begin(), c.children.end(), [&](const auto& k) { return holds(k, ctx, location, r); });
      case FhirCondition::Op::kAny:
        return std::any_of(c.children.begin(), c.children.end(), [&](const auto& k) { return holds(k, ctx, location, r); });
      case FhirCondition::Op::kNot: return !holds(c.children.front(), ctx, location, r);
      default: break;
    }
    std::vector<FhirValue> values;
    read_fhir_path(ctx, location, *c.path, values);
    for (const FhirValue& v : values) reads_.emplace_back(v.location, &r.id);
    if (c.op == FhirCondition::Op::kExists) return values.empty() != c.exists;
    if (c.op == FhirCondition::Op::kMatches)
      return c.pattern && std::any_of(values.begin(), values.end(), [&](const FhirValue& v) {
               return std::regex_match(fhir_text(*v.value), *c.pattern);
             });
    for (const FhirValue& v : values)
      if (std::find(c.values.begin(), c.values.end(), fhir_text(*v.value)) != c.values.end()) return true;
    return false;
  }

  void resource(const FhirCareRule& rule, const Resource& res) {
    const care::EntityInfo* e = rule.target_path->info().entity;
    care::ValueRef root;
    root.ptr = out_.record.ensure(e->type);
    root.struct_info = &e->info();
    root.kind = care::Kind::kStruct;
    Slot entity;
    entity.ref = root;
    entity_ = &entity;
    Slot slot;
    slot.parent = &entity;
    slot.group = &rule;
    slot.own = true;
    slot.location = res.location;
    for (const FhirCareRule& r : rule.rules) apply(r, *res.json, res.location, slot);
    finish(slot, rule);
  }

  // Drops an appended element that received nothing from the input, or that is incomplete.
  void finish(Slot& slot, const FhirCareRule& r) {
    if (!slot.own || !slot.ref.ptr || !slot.ref.field) return;
    const bool element = r.target_path->info().element;
    if (!slot.sourced && element) {
      slot.ref.field->erase(slot.ref.owner, slot.ref.index);
      return;
    }
    if (slot.ref.struct_info) {
      if (std::string why = care::check_complete(*slot.ref.struct_info, slot.ref.ptr); !why.empty()) {
        issue(r, hl7v2::ErrorCode::kRequiredFieldMissing, false, slot.location,
              r.target_path->text() + " left out: " + why);
        slot.ref.field->erase(slot.ref.owner, slot.ref.index);
        return;
      }
      if (r.distinct) {
        const std::string mine = care::struct_to_json(*slot.ref.struct_info, slot.ref.ptr, false);
        for (std::size_t i = 0; i < slot.ref.index; ++i)
          if (care::struct_to_json(*slot.ref.struct_info, slot.ref.field->element(slot.ref.owner, i), false) == mine) {
            slot.ref.field->erase(slot.ref.owner, slot.ref.index);
            return;
          }
      }
    }
  }

  care::ValueRef* materialize(Slot& slot) {
    if (slot.ref.ptr) return &slot.ref;
    if (!slot.own) {
      care::ValueRef* p = materialize(*slot.parent);
      if (p) slot.ref = *p;
      return p ? &slot.ref : nullptr;
    }
    care::ValueRef* base = materialize(*slot.parent);
    if (!base) return nullptr;
    auto ref = slot.group->target_rel->locate_for_write(base->ptr, *base->struct_info);
    if (!ref) {
      issue(*slot.group, hl7v2::ErrorCode::kApplicationInternalError, false, slot.location, ref.error());
      return nullptr;
    }
    slot.ref = *ref;
    return &slot.ref;
  }

  void mark_sourced(Slot* s) {
    for (; s; s = s->parent) s->sourced = true;
  }

  void apply(const FhirCareRule& r, const rapidjson::Value& ctx, const std::string& location, Slot& slot) {
    if (r.is_group) {
      std::vector<FhirValue> values;
      read_fhir_path(ctx, location, *r.source, values);
      bool filled = false;  // a group with a target that holds one value has been filled
      for (const FhirValue& v : values) {
        if (r.when && !holds(*r.when, *v.value, v.location, r)) continue;
        Slot inner;
        inner.parent = &slot;
        inner.group = &r;
        inner.own = r.target_path->text() != slot.group->target_path->text() || slot.group == nullptr;
        inner.location = v.location;
        const bool single = !(inner.own && r.target_path->text().ends_with("[]"));
        if (single && filled) {
          issue(r, hl7v2::ErrorCode::kDataType, false, v.location,
                "a second value for " + r.target_path->text() + ", which holds one; left out");
          continue;
        }
        for (const FhirCareRule& k : r.rules) apply(k, *v.value, v.location, inner);
        if (inner.own) finish(inner, r);
        else if (inner.sourced) mark_sourced(&slot);
        filled |= single && inner.sourced;
      }
      return;
    }
    if (r.when && !holds(*r.when, ctx, location, r)) return;
    const bool reject = r.required || r.reject_invalid;
    std::vector<FhirValue> values;
    if (r.source) read_fhir_path(ctx, location, *r.source, values);
    bool wrote = false, failed = false;
    const care::PathInfo& info = r.target_path->info();
    const bool many = info.is_list || info.repeated;
    for (const FhirValue& v : values) {
      if (!takes_type(r, v)) continue;  // a reference for another rule: not read here
      reads_.emplace_back(v.location, &r.id);
      if (wrote && !many) {
        if (r.is_reference) continue;  // the first reference with an identifier of the systems asked for won
        issue(r, hl7v2::ErrorCode::kDataType, false, v.location,
              "a second value for " + r.target_path->text() + ", which holds one; left out");
        continue;
      }
      auto ok = value(r, v, slot, reject);
      if (ok) wrote = true, mark_sourced(&slot);
      else failed = true;
    }
    if (!r.source && r.value) {
      wrote = write_scalar(r, slot, *r.value, location, reject);
    }
    if (!wrote && !failed && r.default_value) wrote = write_scalar(r, slot, *r.default_value, location, reject);
    if (!wrote && r.required && !failed)
      issue(r, hl7v2::ErrorCode::kRequiredFieldMissing, true, location + (r.source ? "." + r.source_text : ""),
            "required value missing for " + r.target_path->text());
  }

  // One source value through the rule: true when written.
  bool value(const FhirCareRule& r, const FhirValue& v, Slot& slot, bool reject) {
    const std::string& type = r.source_type->name;
    if (r.is_reference) return reference(r, v, slot, reject);
    if (type == "Coding" || type == "CodeableConcept") {
      std::vector<care::Coding> codings;
      auto add = [&](const rapidjson::Value& c) {
        care::Coding k{member_text(c, "system"), member_text(c, "code"), member_text(c, "display")};
        if (!k.code.empty()) codings.push_back(std::move(k));
      };
      std::string text;
      if (type == "Coding") add(*v.value);
      else {
        text = member_text(*v.value, "text");
        const auto cs = v.value->IsObject() ? v.value->FindMember("coding") : v.value->MemberEnd();
        if (v.value->IsObject() && cs != v.value->MemberEnd() && cs->value.IsArray())
          for (const auto& c : cs->value.GetArray()) add(c);
      }
      if (r.concept_map) {
        for (const care::Coding& c : codings)
          if (auto hit = lookup(r, c.code, c.system)) return write_coding(r, slot, *hit, text, v.location, reject);
        const std::string sent = codings.empty() ? text : codings.front().code;
        return unmapped(r, slot, sent, codings.empty() ? "" : codings.front().system, v.location, text);
      }
      care::ValueRef* base = materialize(r.from_entity ? *entity_ : slot);
      if (!base) return false;
      auto ref = r.target_rel->locate_for_write(base->ptr, *base->struct_info);
      if (!ref) return issue(r, hl7v2::ErrorCode::kDataType, reject, v.location, ref.error()), false;
      if (ref->struct_info == &care::CodeableConcept::describe()) {
        auto* cc = static_cast<care::CodeableConcept*>(ref->ptr);
        cc->codings = codings;
        cc->original_text = text;
        return !codings.empty() || !text.empty();
      }
      if (codings.empty()) return false;
      if (ref->struct_info == &care::Coding::describe()) {
        *static_cast<care::Coding*>(ref->ptr) = codings.front();
        return true;
      }
      return assign(r, *ref, care::Scalar(codings.front().code), v.location, reject, hl7v2::ErrorCode::kTableValueNotFound);
    }
    // A primitive.
    std::vector<Item> items(1);
    if (v.value->IsBool()) items[0].value = v.value->GetBool();
    else if (v.value->IsInt64()) items[0].value = v.value->GetInt64();
    else items[0].value = fhir_text(*v.value);
    if (const auto* s = std::get_if<std::string>(&items[0].value); s && s->empty()) return false;
    items[0].original = fhir_text(*v.value);
    TransformEnv env;
    for (const Transform& t : r.transforms) {
      Cursor at;
      auto s = apply_transform(t, items, env, &at);
      if (!s) {
        issue(r, hl7v2::ErrorCode::kDataType, reject, v.location, s.error());
        return false;
      }
    }
    bool any = false;
    for (const Item& item : items) {
      if (r.concept_map) {
        const std::string code = std::holds_alternative<std::string>(item.value) ? std::get<std::string>(item.value) : "";
        if (auto hit = lookup(r, code, "")) any |= write_coding(r, slot, *hit, item.original, v.location, reject);
        else any |= unmapped(r, slot, code, "", v.location, item.original);
        continue;
      }
      care::Scalar s = std::visit(
          [](const auto& x) -> care::Scalar {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, care::Coding>) return x.code;
            else return x;
          },
          item.value);
      any |= write_scalar(r, slot, s, v.location, reject);
    }
    return any;
  }

  static Status<std::string> apply_transform(const Transform& t, std::vector<Item>& items, const TransformEnv& env,
                                             Cursor* at) {
    return ::midhurst::mapping::apply(t, items, env, at);
  }

  std::optional<care::Coding> lookup(const FhirCareRule& r, const std::string& code, const std::string& system) const {
    if (code.empty()) return std::nullopt;
    if (!r.reverse) {
      const ConceptMap::Translation t = r.concept_map->translate(code, system.empty() ? std::string_view{} : system);
      if (t.kind == ConceptMap::Translation::Kind::kUnmapped) {
        if (system.empty()) return std::nullopt;
        const ConceptMap::Translation any = r.concept_map->translate(code);
        if (any.kind == ConceptMap::Translation::Kind::kUnmapped) return std::nullopt;
        return any.coding;
      }
      return t.coding;
    }
    // Reverse: the first element whose target is `code` (in the group's target system).
    for (const ConceptMap::Group& g : r.concept_map->groups()) {
      if (!system.empty() && !g.target.empty() && g.target != system) continue;
      for (const auto& [source, target] : g.elements)
        if (target.code == code) return care::Coding{g.source, source, ""};
    }
    return std::nullopt;
  }

  bool unmapped(const FhirCareRule& r, Slot& slot, const std::string& code, const std::string& system,
                const std::string& location, const std::string& text) {
    if (code.empty()) return false;
    if (r.unmapped == FhirCareRule::Unmapped::kKeep)
      return write_coding(r, slot, care::Coding{system, code, ""}, text, location, r.required || r.reject_invalid);
    issue(r, hl7v2::ErrorCode::kTableValueNotFound, r.unmapped == FhirCareRule::Unmapped::kReject || r.required, location,
          "code '" + code + "' is not in ConceptMap " + r.concept_map_name);
    return false;
  }

  bool write_coding(const FhirCareRule& r, Slot& slot, const care::Coding& c, const std::string& text,
                    const std::string& location, bool reject) {
    care::ValueRef* base = materialize(r.from_entity ? *entity_ : slot);
    if (!base) return false;
    auto ref = r.target_rel->locate_for_write(base->ptr, *base->struct_info);
    if (!ref) return issue(r, hl7v2::ErrorCode::kDataType, reject, location, ref.error()), false;
    if (ref->struct_info == &care::Coding::describe()) {
      *static_cast<care::Coding*>(ref->ptr) = c;
      return true;
    }
    if (ref->struct_info == &care::CodeableConcept::describe()) {
      auto* cc = static_cast<care::CodeableConcept*>(ref->ptr);
      cc->codings.push_back(c);
      if (!text.empty()) cc->original_text = text;
      return true;
    }
    return assign(r, *ref, care::Scalar(c.code), location, reject, hl7v2::ErrorCode::kTableValueNotFound);
  }

  bool write_scalar(const FhirCareRule& r, Slot& slot, const care::Scalar& v, const std::string& location, bool reject) {
    care::ValueRef* base = materialize(r.from_entity ? *entity_ : slot);
    if (!base) return false;
    auto ref = r.target_rel->locate_for_write(base->ptr, *base->struct_info);
    if (!ref) return issue(r, hl7v2::ErrorCode::kDataType, reject, location, ref.error()), false;
    return assign(r, *ref, v, location, reject, hl7v2::ErrorCode::kDataType);
  }

  bool assign(const FhirCareRule& r, const care::ValueRef& ref, const care::Scalar& v, const std::string& location,
              bool reject, hl7v2::ErrorCode code) {
    auto s = care::assign(ref, v);
    if (!s) {
      // An enum code the model does not allow is a table miss; anything else a type error.
      issue(r, ref.kind == care::Kind::kEnum ? hl7v2::ErrorCode::kTableValueNotFound : code, reject, location, s.error());
      if (ref.field && ref.kind != care::Kind::kStruct && ref.field->shape == care::Shape::kList)
        ref.field->erase(ref.owner, ref.index);  // the element appended for it
      return false;
    }
    return true;
  }

  // The resource type a Reference points at, as far as it says: its `type`, its conditional form
  // (Type?identifier=...), the Bundle entry it names, or its literal Type/id; "" when unknown.
  std::string referenced_type(const rapidjson::Value& v) const {
    if (std::string type = member_text(v, "type"); !type.empty()) return type;
    const std::string reference = member_text(v, "reference");
    if (reference.empty()) return "";
    if (const std::size_t q = reference.find("?identifier="); q != std::string::npos) return reference.substr(0, q);
    if (auto it = by_url_.find(reference); it != by_url_.end()) return member_text(*it->second, "resourceType");
    const std::size_t slash = reference.rfind('/');
    if (slash == std::string::npos || slash == 0 || reference.starts_with("urn:")) return "";
    const std::size_t start = reference.rfind('/', slash - 1);
    const std::size_t from = start == std::string::npos ? 0 : start + 1;
    return reference.substr(from, slash - from);
  }

  // False for a reference the rule leaves to others (`reference.types`); a reference of unknown
  // type counts as the rule's `reference.type`.
  bool takes_type(const FhirCareRule& r, const FhirValue& v) const {
    if (!r.is_reference || r.reference_types.empty()) return true;
    std::string type = referenced_type(*v.value);
    if (type.empty()) type = r.reference_type;
    return std::find(r.reference_types.begin(), r.reference_types.end(), type) != r.reference_types.end();
  }

  // A FHIR Identifier's system and value, and its assigner when that is named by ODS code (as
  // care→fhir writes an MRN's or a merged record's issuing trust).
  static care::Identifier identifier_of(const rapidjson::Value& x) {
    care::Identifier out{member_text(x, "system"), member_text(x, "value"), "", "", {}};
    if (!x.IsObject()) return out;
    const auto a = x.FindMember("assigner");
    if (a == x.MemberEnd() || !a->value.IsObject()) return out;
    const auto ai = a->value.FindMember("identifier");
    if (ai != a->value.MemberEnd() && member_text(ai->value, "system") == care::codes::kOdsOrganization)
      out.assigner_ods = member_text(ai->value, "value");
    return out;
  }

  // A FHIR Reference: its identifier, or the one of the resource it points at (in the Bundle, or
  // named by a conditional reference).
  bool reference(const FhirCareRule& r, const FhirValue& v, Slot& slot, bool reject) {
    std::string type = member_text(*v.value, "type");
    const std::string reference = member_text(*v.value, "reference");
    std::vector<care::Identifier> ids;
    std::string id;
    if (const auto i = v.value->IsObject() ? v.value->FindMember("identifier") : v.value->MemberEnd();
        v.value->IsObject() && i != v.value->MemberEnd())
      ids.push_back(identifier_of(i->value));
    if (!reference.empty()) {
      if (const std::size_t q = reference.find("?identifier="); q != std::string::npos) {
        if (type.empty()) type = reference.substr(0, q);
        const std::string token = reference.substr(q + 12);
        const std::size_t bar = token.find('|');
        if (bar != std::string::npos) {
          care::Identifier from_url{token.substr(0, bar), token.substr(bar + 1), "", "", {}};
          // The same identifier written out beside the conditional form may name its assigner.
          for (const care::Identifier& given : ids)
            if (given.system == from_url.system && given.value == from_url.value) from_url.assigner_ods = given.assigner_ods;
          ids.push_back(std::move(from_url));
        }
      } else if (auto it = by_url_.find(reference); it != by_url_.end()) {
        const rapidjson::Value& target = *it->second;
        if (type.empty()) type = member_text(target, "resourceType");
        if (id.empty()) id = member_text(target, "id");
        const auto is = target.FindMember("identifier");
        if (is != target.MemberEnd() && is->value.IsArray())
          for (const auto& x : is->value.GetArray()) ids.push_back(identifier_of(x));
      } else if (const std::size_t slash = reference.rfind('/'); slash != std::string::npos && !reference.starts_with("urn:")) {
        const std::size_t start = reference.rfind('/', slash - 1);
        if (type.empty()) type = reference.substr(start == std::string::npos ? 0 : start + 1, slash - (start == std::string::npos ? 0 : start + 1));
        id = reference.substr(slash + 1);
      }
    }
    std::optional<care::Identifier> chosen;
    if (r.reference_systems.empty()) {
      for (const auto& i : ids)
        if (!i.system.empty() && !i.value.empty()) {
          chosen = i;
          break;
        }
    } else {
      for (const std::string& sys : r.reference_systems) {
        for (const auto& i : ids)
          if (i.system == sys && !i.value.empty()) {
            chosen = i;
            break;
          }
        if (chosen) break;
      }
    }
    const care::PathInfo& info = r.target_path->info();
    if (info.kind == care::Kind::kString) {
      if (!chosen) return false;
      return write_scalar(r, slot, care::Scalar(chosen->value), v.location, reject);
    }
    if (type.empty()) type = r.reference_type;
    std::string entity_name = type;
    if (!entity_name.empty()) entity_name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(entity_name[0])));
    const care::EntityInfo* e = r.reference_entity ? r.reference_entity : care::find_entity(entity_name);
    if (!e || (!chosen && id.empty())) {
      issue(r, hl7v2::ErrorCode::kDataType, reject, v.location,
            e ? "the reference names no identifier" + std::string(r.reference_systems.empty() ? "" : " of the expected systems") +
                    " and no resource id"
              : "the reference's target type '" + type + "' is not a care entity");
      return false;
    }
    care::ValueRef* base = materialize(r.from_entity ? *entity_ : slot);
    if (!base) return false;
    auto ref = r.target_rel->locate_for_write(base->ptr, *base->struct_info);
    if (!ref) return issue(r, hl7v2::ErrorCode::kDataType, reject, v.location, ref.error()), false;
    auto* out = static_cast<care::Reference*>(ref->ptr);
    out->type = e->type;
    out->identifier = chosen;
    out->id = chosen ? "" : id;
    out->display = member_text(*v.value, "display");
    return true;
  }

  void issue(const FhirCareRule& r, hl7v2::ErrorCode code, bool reject, const std::string& location, std::string why) {
    MappingIssue i;
    i.issue.severity = reject ? hl7v2::Severity::kError : hl7v2::Severity::kWarning;
    i.issue.code = code;
    i.issue.why = std::move(why);
    i.rule = r.id;
    i.source = location;
    i.target = r.target_path ? r.target_path->text() : "";
    out_.issues.push_back(std::move(i));
  }

  const ProfileSet& set_;
  const rapidjson::Value& input_;
  Translation& out_;
  const Profile* profile_ = nullptr;
  std::vector<Resource> resources_;
  std::map<std::string, const rapidjson::Value*> by_url_;
  std::vector<std::pair<std::string, const std::string*>> reads_;
  Slot* entity_ = nullptr;  // the current resource rule's entity
};

}  // namespace

Translation translate_from_fhir(const ProfileSet& set, const rapidjson::Value& input, const FhirCareOptions& options) {
  Translation out;
  Run run(set, input, out);
  std::vector<const Profile*> chosen;
  for (const auto& p : set.profiles()) {
    if (p->direction != Direction::kFhirToCare || p->abstract) continue;
    if (!options.profile.empty() ? p->name != options.profile
                                 : std::any_of(set.profiles().begin(), set.profiles().end(),
                                               [&](const auto& q) { return q->base == p.get(); }))
      continue;
    chosen.push_back(p.get());
  }
  if (chosen.empty()) {
    run.message_issue(hl7v2::ErrorCode::kUnsupportedMessageType, "",
                      options.profile.empty() ? "no fhir→care profile is loaded"
                                              : "no fhir→care profile named '" + options.profile + "'");
  } else if (run.collect()) {
    run.profiles_ = chosen;
    for (const Profile* p : chosen) run.profile(*p);
    out.profile = chosen.front();
  }
  run.provenance(options, out.profile);
  run.ledger();
  out.accepted = std::none_of(out.issues.begin(), out.issues.end(),
                              [](const MappingIssue& i) { return i.issue.severity == hl7v2::Severity::kError; });
  return out;
}

}  // namespace midhurst::mapping
