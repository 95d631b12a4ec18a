#include "mapping/fhir_render.h"

#include <algorithm>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "care/json.h"
#include "fhir/json.h"
#include "care/record.h"
#include "mapping/fhir_render_core.h"

namespace midhurst::mapping {

namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

// Gateway ids are 36-character UUIDs; a suffix of at most 20 and an item number of at most five
// digits keep `<id>-<suffix>-<n>` within FHIR's 64.
constexpr std::size_t kMaxSuffix = 20;

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

MappingIssue render_issue(hl7v2::ErrorCode code, std::string why) {
  MappingIssue mi;
  mi.issue.severity = hl7v2::Severity::kError;
  mi.issue.code = code;
  mi.issue.why = std::move(why);
  return mi;
}

bool per_item_source(const CareFhirRule& r) {
  return std::any_of(r.source->steps().begin(), r.source->steps().end(), [](const care::CompiledPath::Step& s) {
    return s.index == care::CompiledPath::Step::Index::kEach;
  });
}

}  // namespace

bool is_fhir_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), id_char);
}

std::string RenderedResource::to_json(bool pretty) const {
  if (!pretty) {
    if (auto text = fhir::write_compact_json(json)) return std::move(*text);
  }
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    json.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    json.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

Result<std::shared_ptr<const FhirRenderer>, std::string> FhirRenderer::create(std::shared_ptr<const ProfileSet> set) {
  if (!set) return err(std::string("no profile set"));
  const std::vector<const Profile*> chosen = render::applicable_profiles(*set, "");
  if (chosen.empty() || !set->fhir_model()) return err(std::string("no care→fhir profile is loaded"));
  std::shared_ptr<FhirRenderer> out(new FhirRenderer());
  out->set_ = set;
  out->entity_resource_ = render::entity_resource_types(chosen);
  for (const Profile* p : chosen) {
    for (const CareFhirRule& r : p->fhir_rules) {
      if (!r.served) continue;
      ServedRule s;
      s.resource_type = r.resource_type;
      s.entity = r.source->info().entity->type;
      s.entity_path = std::string(r.source->info().entity->path_name);
      s.rule_id = r.id;
      s.profile = p->name;
      s.per_item = per_item_source(r);
      s.meta_profiles = r.meta_profiles;
      s.rule = &r;
      const bool has_primary = std::any_of(out->served_.begin(), out->served_.end(), [&](const ServedRule& o) {
        return o.entity == s.entity && o.primary;
      });
      s.primary = !has_primary && render::renders_whole_entity(r);
      if (!s.primary) {
        if (r.id.size() > kMaxSuffix || !std::all_of(r.id.begin(), r.id.end(), id_char))
          return err(p->file + ": rule '" + r.id + "' renders " + r.resource_type +
                     " resources with ids '<entity id>-" + r.id +
                     "': a served rule's id is at most 20 characters of A-Z, a-z, 0-9, '-' and '.'");
        for (const ServedRule& o : out->served_)
          if (o.entity == s.entity && o.rule_id == s.rule_id)
            return err(p->file + ": rule id '" + r.id + "' is used by two served rules of " + s.entity_path +
                       " (profiles " + o.profile + " and " + p->name + "): their resource ids would collide");
      }
      out->served_.push_back(std::move(s));
    }
  }
  return std::shared_ptr<const FhirRenderer>(std::move(out));
}

std::vector<std::string> FhirRenderer::resource_types() const {
  std::vector<std::string> out;
  for (const ServedRule& s : served_) out.push_back(s.resource_type);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<const ServedRule*> FhirRenderer::rules_for(std::string_view resource_type) const {
  std::vector<const ServedRule*> out;
  for (const ServedRule& s : served_)
    if (s.resource_type == resource_type) out.push_back(&s);
  return out;
}

const ServedRule* FhirRenderer::primary(care::EntityType entity) const {
  for (const ServedRule& s : served_)
    if (s.entity == entity && s.primary) return &s;
  return nullptr;
}

std::vector<FhirIdTarget> FhirRenderer::resolve_id(std::string_view resource_type, std::string_view id) const {
  std::vector<FhirIdTarget> out;
  if (!is_fhir_id(id)) return out;
  for (const ServedRule& s : served_) {
    if (s.resource_type != resource_type) continue;
    if (s.primary) {
      out.push_back({&s, std::string(id), 0});
      continue;
    }
    std::string_view rest = id;
    std::size_t item = 0;
    if (s.per_item) {
      const std::size_t dash = rest.rfind('-');
      if (dash == std::string_view::npos || !all_digits(rest.substr(dash + 1))) continue;
      item = std::stoul(std::string(rest.substr(dash + 1)));
      if (item == 0) continue;
      rest = rest.substr(0, dash);
    }
    const std::string tail = "-" + s.rule_id;
    if (rest.size() <= tail.size() || !rest.ends_with(tail)) continue;
    out.push_back({&s, std::string(rest.substr(0, rest.size() - tail.size())), item});
  }
  return out;
}

Result<RenderResult, MappingIssues> FhirRenderer::render_entity(care::EntityType type, const void* entity,
                                                                const RenderOptions& options) const {
  const auto* header = static_cast<const care::Entity*>(entity);
  if (header->id.empty())
    return err(MappingIssues{render_issue(hl7v2::ErrorCode::kRequiredFieldMissing,
                                          "the entity has no gateway id: only stored entities are rendered")});
  RenderResult out;
  render::Context ctx;
  ctx.mode = render::RefMode::kRead;
  ctx.entity_resource = &entity_resource_;
  ctx.referenced_by = &options.referenced_by;
  const std::string version = std::to_string(header->version);
  const bool has_time = header->last_updated.find('T') != std::string::npos;
  const std::string last_updated = has_time ? render::fhir_date_time(header->last_updated) : std::string();
  bool failed = false;
  for (const ServedRule& s : served_) {
    if (s.entity != type) continue;
    if (!options.resource_type.empty() && s.resource_type != options.resource_type) continue;
    const CareFhirRule& r = *s.rule;
    std::size_t position = 0;  // of the value among all the source reaches, filtered or not
    r.source->visit(entity, r.source->info().entity->info(), [&](const care::ValueRef& v) {
      const std::size_t item = s.per_item ? ++position : 0;
      std::string id = s.primary ? header->id : header->id + "-" + s.rule_id;
      if (item) id += "-" + std::to_string(item);
      if (!options.id.empty() && id != options.id) return;
      const care::StructInfo& info = *v.struct_info;
      if (r.when && !render::holds(*r.when, v.ptr, info)) return;
      RenderedResource res;
      res.rule = &s;
      res.item = item;
      Alloc& a = res.json.GetAllocator();
      res.json.SetObject();
      res.json.AddMember("resourceType", str(r.resource_type, a), a);
      res.json.AddMember("id", str(id, a), a);
      Value meta(rapidjson::kObjectType);
      meta.AddMember("versionId", str(version, a), a);
      if (!last_updated.empty()) meta.AddMember("lastUpdated", str(last_updated, a), a);
      if (!r.meta_profiles.empty()) {
        Value profiles(rapidjson::kArrayType);
        for (const std::string& u : r.meta_profiles) profiles.PushBack(str(u, a), a);
        meta.AddMember("profile", profiles, a);
      }
      res.json.AddMember("meta", meta, a);
      render::RuleWalker walker(a, out.issues, ctx);
      const bool wrote = walker.resource(r, entity, v.ptr, info, res.json);
      failed = failed || walker.failed;
      if (!wrote) return;
      if (walker.needs_order()) render::order(res.json, *r.resource, a);
      if (!is_fhir_id(id)) {
        out.issues.push_back(render_issue(hl7v2::ErrorCode::kApplicationInternalError,
                                          "resource id '" + id + "' is not a valid FHIR id; the entity id is too long"));
        failed = true;
        return;
      }
      res.id = std::move(id);
      out.resources.push_back(std::move(res));
    });
  }
  if (failed) return err(std::move(out.issues));
  return out;
}

Result<RenderResult, MappingIssues> FhirRenderer::render_entity_json(care::EntityType type, std::string_view care_json,
                                                                     const RenderOptions& options) const {
  care::Record holder;  // a typed value of `type` to parse into
  void* obj = holder.ensure(type);
  if (auto s = care::struct_from_json(care::entity_info(type).info(), obj, care_json); !s.ok())
    return err(MappingIssues{render_issue(hl7v2::ErrorCode::kDataType, "stored entity: " + s.error().to_string())});
  return render_entity(type, obj, options);
}

}  // namespace midhurst::mapping
