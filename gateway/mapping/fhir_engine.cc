#include "mapping/fhir_engine.h"

#include <algorithm>
#include <cstdio>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "fhir/bundle.h"
#include "fhir/json.h"
#include "mapping/fhir_render_core.h"

namespace midhurst::mapping {

namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// A stable urn:uuid from a name: two FNV-1a 64 hashes laid out as an RFC 9562 version 8
// (custom) UUID. Not for security; for stable fullUrls.
std::string name_uuid(std::string_view name) {
  auto fnv = [&](std::uint64_t h) {
    // A chain of multiplies, one per byte: unrolled, the loop's own count and branch are spread
    // over eight bytes.
#pragma GCC unroll 8
    for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  };
  std::uint64_t hi = fnv(0xcbf29ce484222325ULL), lo = fnv(0x84222325cbf29ce4ULL ^ hi);
  hi = (hi & ~0xF000ULL) | 0x8000ULL;                   // version 8
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);   // variant 10
  // urn:uuid:8-4-4-4-12 lowercase hex digits: hi gives the first 16, lo the last 16.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  std::size_t at = out.size();
  auto put = [&](std::uint64_t v, int digits) {
    for (int i = 0; i < digits; ++i, v >>= 4) {
      if (out[--at] == '-') --at;
      out[at] = kHex[v & 0xF];
    }
  };
  put(lo, 16);
  put(hi, 16);
  return out;
}

MappingIssue message_issue(hl7v2::ErrorCode code, std::string why) {
  MappingIssue mi;
  mi.issue.severity = hl7v2::Severity::kError;
  mi.issue.code = code;
  mi.issue.why = std::move(why);
  return mi;
}

// Appends a ledger entry for every populated scalar under `obj` (`rendered` sorted), its steps
// under `parent`; `header_end` > obj skips the fields stored inside the entity header
// (care::Entity) at the root.
void walk_ledger(const care::StructInfo& info, const void* obj, std::uint32_t parent, const char* header_end,
                 const std::vector<const void*>& rendered, const std::vector<const void*>& whole, bool covered,
                 FhirLedger& out) {
  for (const care::FieldInfo& f : info.fields) {
    if (!f.present(obj)) continue;
    const std::size_t n = f.count(obj);
    for (std::size_t i = 0; i < n; ++i) {
      const void* e = f.element(obj, i);
      if (header_end && static_cast<const char*>(e) >= static_cast<const char*>(obj) &&
          static_cast<const char*>(e) < header_end)
        break;
      FhirLedgerStep step;
      step.parent = parent;
      step.name = f.name;
      if (f.shape == care::Shape::kList) step.index = static_cast<std::uint32_t>(i);
      const auto at = static_cast<std::uint32_t>(out.steps.size());
      out.steps.push_back(step);
      // A struct rendered as a whole (a care Reference) covers every value inside it.
      if (f.kind == care::Kind::kStruct) {
        const bool all = covered || std::binary_search(whole.begin(), whole.end(), e);
        walk_ledger(*f.struct_info(), e, at, nullptr, rendered, whole, all, out);
      } else {
        const bool done = covered || std::binary_search(rendered.begin(), rendered.end(), e);
        out.entries.push_back({at, done});
      }
    }
  }
}

}  // namespace

std::string FhirLedger::path(const FhirLedgerEntry& e) const {
  std::vector<const FhirLedgerStep*> chain;
  for (std::uint32_t i = e.step; i != FhirLedgerStep::kRoot; i = steps[i].parent) chain.push_back(&steps[i]);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it != chain.rbegin()) out += '.';
    out += (*it)->name;
    if ((*it)->index != FhirLedgerStep::kNoIndex) out.append("[").append(std::to_string((*it)->index)).append("]");
  }
  return out;
}

std::vector<std::string> FhirLedger::fields(bool rendered) const {
  std::vector<std::string> out;
  for (const FhirLedgerEntry& e : entries)
    if (e.rendered == rendered) out.push_back(path(e));
  return out;
}

void FhirLedger::to_json_value(rapidjson::Value& out, rapidjson::Document::AllocatorType& a) const {
  out.SetObject();
  Value yes(rapidjson::kArrayType), no(rapidjson::kArrayType);
  for (const FhirLedgerEntry& e : entries) (e.rendered ? yes : no).PushBack(str(path(e), a), a);
  out.AddMember("rendered", yes, a);
  out.AddMember("notRendered", no, a);
}

FhirLedger fhir_ledger(const care::Record& record, std::vector<const void*> rendered,
                       std::vector<const void*> rendered_whole) {
  FhirLedger out;
  std::sort(rendered.begin(), rendered.end());
  std::sort(rendered_whole.begin(), rendered_whole.end());
  for (const care::EntityInfo& e : care::entities()) {
    const void* obj = record.find(e.type);
    if (!obj) continue;
    FhirLedgerStep root;
    root.name = e.path_name;
    out.steps.push_back(root);
    walk_ledger(e.info(), obj, static_cast<std::uint32_t>(out.steps.size() - 1),
                static_cast<const char*>(obj) + sizeof(care::Entity), rendered, rendered_whole, false, out);
  }
  return out;
}

std::string FhirTranslation::to_json(bool pretty) const {
  if (!pretty) {
    if (auto text = fhir::write_compact_json(bundle)) return std::move(*text);
  }
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
  // The default choice is worked out at load; a named profile is looked up here.
  std::vector<const Profile*> named;
  if (!options.profile.empty()) named = render::applicable_profiles(set, options.profile);
  const std::vector<const Profile*>& chosen = options.profile.empty() ? set.care_fhir_profiles() : named;
  if (chosen.empty() || !set.fhir_model())
    return err(MappingIssues{message_issue(hl7v2::ErrorCode::kUnsupportedMessageType,
                                           options.profile.empty() ? "no care→fhir profile is loaded"
                                                                   : "no care→fhir profile '" + options.profile + "'")});

  FhirTranslation out;
  fhir::BundleBuilder builder(fhir::BundleType::kTransaction);
  if (!options.bundle_id.empty()) builder.id(options.bundle_id);
  if (!options.timestamp.empty()) builder.timestamp(options.timestamp);
  // Resources are built in the Bundle's own allocator and moved in, not copied (a resource left
  // out only leaves its bytes in the Bundle's pool).
  Alloc& a = builder.allocator();
  std::vector<std::string> named_resources;
  if (!options.profile.empty()) named_resources = render::entity_resource_types(chosen);
  const std::vector<std::string>& entity_resource =
      options.profile.empty() ? set.care_fhir_entity_resources() : named_resources;
  std::vector<std::string> full_urls;  // of the resources emitted so far ("@referencedBy")
  std::vector<const void*> read, read_whole;  // care values some rule rendered (the ledger)
  std::vector<std::string> entity_urls(care::entities().size());  // "@entity"
  render::Context ctx;
  ctx.mode = render::RefMode::kTransaction;
  ctx.entity_resource = &entity_resource;
  ctx.referenced_urls = &full_urls;
  if (options.ledger) {  // else no rule notes what it read
    ctx.read = &read;
    ctx.read_whole = &read_whole;
  }
  ctx.entity_urls = &entity_urls;
  render::RuleWalker walker(a, out.issues, ctx);
  // "Type|system|value" of each resource emitted so far, one after another in `seen`. The
  // strings below are the thread's own, reused from resource to resource and from call to call,
  // so that naming a resource allocates nothing once they have grown (no call here re-enters).
  thread_local std::string seen, name, system, value;
  thread_local std::vector<std::size_t> seen_ends;
  seen.clear();
  seen_ends.clear();
  // A record renders a handful of resources: room for them up front rather than grown in steps.
  full_urls.reserve(16);
  auto seen_before = [&](std::string_view n) {
    std::size_t begin = 0;
    for (std::size_t end : seen_ends) {
      if (std::string_view(seen).substr(begin, end - begin) == n) return true;
      begin = end;
    }
    return false;
  };
  auto run_rule = [&](const Profile* p, const CareFhirRule& r) {
    const void* entity = record.find(r.source->info().entity->type);
    if (!entity) return;
    std::size_t run = 0;
    r.source->visit(entity, r.source->info().entity->info(), [&](const care::ValueRef& v) {
      const care::StructInfo& info = *v.struct_info;
      if (r.when && !render::holds(*r.when, v.ptr, info)) return;
      Value res(rapidjson::kObjectType);
      res.AddMember("resourceType", str(r.resource_type, a), a);
      if (!r.meta_profiles.empty()) {
        Value meta(rapidjson::kObjectType), profiles(rapidjson::kArrayType);
        for (const std::string& u : r.meta_profiles) profiles.PushBack(str(u, a), a);
        meta.AddMember("profile", profiles, a);
        res.AddMember("meta", meta, a);
      }
      if (!walker.resource(r, entity, v.ptr, info, res)) return;
      if (walker.needs_order()) render::order(res, *r.resource, a);
      value.clear();
      for (const ResourceKey& k : r.keys) {
        render::first_text_into(k.source, v.ptr, info, value);
        if (k.system_source) render::first_text_into(*k.system_source, v.ptr, info, system);
        else system = k.system;
        if (!value.empty() && !system.empty()) break;
        value.clear();
      }
      name.clear();
      if (value.empty()) name.append(p->name).append("|").append(r.id).append("|").append(std::to_string(run++));
      else name.append(r.resource_type).append("|").append(system).append("|").append(value);
      if (seen_before(name)) return;
      seen.append(name);
      seen_ends.push_back(seen.size());
      full_urls.push_back(name_uuid(name));
      const std::string& full_url = full_urls.back();  // (nothing is added to full_urls below)
      const auto et = static_cast<std::size_t>(r.source->info().entity->type);
      if (r.served && render::renders_whole_entity(r) && entity_urls[et].empty() && entity_resource[et] == r.resource_type)
        entity_urls[et] = full_url;
      if (value.empty()) builder.add_create(std::move(res), full_url);
      else if (r.conditional_update) builder.add_conditional_update(std::move(res), full_url, system, value);
      else builder.add_conditional_create(std::move(res), full_url, system, value);
    });
  };
  // Resources that cite the others ("@referencedBy", a Provenance's targets) come last.
  for (const bool citing : {false, true})
    for (const Profile* p : chosen)
      for (const CareFhirRule& r : p->fhir_rules)
        if (r.uses_referenced_by == citing) run_rule(p, r);
  if (walker.failed) return err(std::move(out.issues));
  auto bundle = builder.finish();
  if (!bundle)
    return err(MappingIssues{message_issue(hl7v2::ErrorCode::kApplicationInternalError, bundle.error().to_string())});
  out.bundle = std::move(*bundle);
  if (options.ledger) out.ledger = fhir_ledger(record, std::move(read), std::move(read_whole));
  return out;
}

}  // namespace midhurst::mapping
