// Patient-level operations: $everything (searchset of the patient and what refers to it) and
// $summary (a document Bundle for care coordination).
#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
#include <set>

#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "server/fhir_rest_internal.h"
#include "server/log.h"

namespace midhurst::server::rest {
namespace {

using rapidjson::Value;

// Everything referring to one patient, gathered per resource type, with the Provenance that
// produced each entity.
struct Gathered {
  struct Item {
    std::string type;
    mapping::RenderedResource resource;
    std::string provenance_id;
    std::string entity_id;
  };
  std::vector<Item> items;
  std::vector<std::string> warnings;
};

// The most resources one operation returns; beyond it the Bundle says it was cut.
constexpr std::size_t kMaxResources = 5000;

// Whether searches of `type` take `patient`.
bool takes_patient(const std::string& type) { return search_param_kinds(type).count("patient") > 0; }

// Types whose searches take `patient`, in the order the routes list them. Not Provenance: each
// operation adds the Provenance of the entries it returns (cited_provenance).
std::vector<std::string> patient_compartment(const Service& s, const Call& call) {
  std::vector<std::string> out;
  const auto& types = s.deps().types.empty() ? kDefaultFhirTypes : s.deps().types;
  for (const std::string& t : types) {
    if (t == "Patient" || t == "Provenance" || !takes_patient(t)) continue;
    if (!s.search_entity(*call.renderer, t)) continue;
    if (!call.context->principal->may(t, Access::kRead)) continue;
    out.push_back(t);
  }
  return out;
}

// A search for the resources of one patient's compartment (`patient=Patient/ID`).
fhir::SearchRequest in_compartment(const std::string& patient_id) {
  fhir::SearchRequest req;
  fhir::SearchParam p;
  p.name = "patient";
  p.type = fhir::SearchParamType::kReference;
  p.references.push_back({"Patient", patient_id});
  req.params.push_back(std::move(p));
  return req;
}

Result<Gathered, std::string> gather(const Service& s, const Call& call, const std::string& patient_id) {
  Gathered g;
  for (const std::string& t : patient_compartment(s, call)) {
    fhir::SearchRequest req = in_compartment(patient_id);
    req.count = 1000;
    for (;;) {
      auto page = s.search(call, t, req, false);
      if (!page) return err(page.error().second);
      for (size_t i = 0; i < page->matches.size(); ++i) {
        if (g.items.size() >= kMaxResources) break;
        g.items.push_back({t, std::move(page->matches[i]), page->provenance[i], page->entity_ids[i]});
      }
      if (g.items.size() >= kMaxResources) {
        g.warnings.push_back("cut off at " + std::to_string(kMaxResources) + " resources");
        break;
      }
      if (page->next_cursor.empty()) break;
      req.cursor = page->next_cursor;
    }
  }
  return g;
}

// Where a page of $everything starts: the compartment type (an index into
// patient_compartment()) and the store's keyset cursor within it. As text (the `_cursor` of the
// next link): "<type index>.<store cursor>".
struct Walk {
  std::size_t type = 0;
  std::string cursor;
};

std::optional<Walk> parse_walk(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  Walk w;
  for (char c : text.substr(0, dot)) {
    if (c < '0' || c > '9' || w.type > 1000) return std::nullopt;
    w.type = w.type * 10 + static_cast<std::size_t>(c - '0');
  }
  w.cursor = std::string(text.substr(dot + 1));
  return w;
}

// One page of the patient's compartment from `from`: the resources of at most `count` entities,
// type after type; `next` is where the following page starts (nullopt: this is the last).
Result<Gathered, std::pair<int, std::string>> gather_page(const Service& s, const Call& call,
                                                          const std::string& patient_id,
                                                          const std::vector<std::string>& types, const Walk& from,
                                                          std::size_t count, std::optional<Walk>* next) {
  Gathered g;
  std::size_t entities = 0;
  next->reset();
  for (std::size_t t = from.type; t < types.size(); ++t) {
    fhir::SearchRequest req = in_compartment(patient_id);
    req.cursor = t == from.type ? from.cursor : "";
    for (;;) {
      req.count = static_cast<int>(count - entities);
      auto page = s.search(call, types[t], req, false);
      if (!page) return err(page.error());
      for (std::size_t i = 0; i < page->matches.size(); ++i) {
        // Entities, not resources, fill a page: one end-of-life plan renders several Flags.
        if (i == 0 || page->entity_ids[i] != page->entity_ids[i - 1]) ++entities;
        g.items.push_back({types[t], std::move(page->matches[i]), page->provenance[i], page->entity_ids[i]});
      }
      if (page->next_cursor.empty()) break;
      if (entities >= count) {
        *next = Walk{t, page->next_cursor};
        return g;
      }
      req.cursor = page->next_cursor;
    }
    if (entities >= count && t + 1 < types.size()) {
      *next = Walk{t + 1, ""};
      return g;
    }
  }
  return g;
}

void add_issue_entry(rapidjson::Document& bundle, const std::vector<std::string>& warnings) {
  if (warnings.empty()) return;
  auto& a = bundle.GetAllocator();
  std::vector<fhir::Issue> issues;
  for (const std::string& w : warnings) issues.push_back({fhir::Severity::kWarning, fhir::IssueType::kIncomplete, "", w});
  Value e(rapidjson::kObjectType);
  e.AddMember("resource", fhir::make_operation_outcome(issues, a), a);
  Value search(rapidjson::kObjectType);
  search.AddMember("mode", "outcome", a);
  e.AddMember("search", search, a);
  if (!bundle.HasMember("entry")) bundle.AddMember("entry", Value(rapidjson::kArrayType), a);
  bundle["entry"].PushBack(e, a);
}

// Whether JSON text holds a number: a digit or '-' outside its strings (skipped with memchr:
// most of a resource's bytes are in them).
bool holds_number(std::string_view json) {
  std::size_t at = 0;
  while (at < json.size()) {
    const char c = json[at];
    if (c == '-' || (c >= '0' && c <= '9')) return true;
    if (c != '"') {
      ++at;
      continue;
    }
    // The closing quote: the next one not escaped (after an even run of backslashes).
    std::size_t end = at;
    for (;;) {
      end = json.find('"', end + 1);
      if (end == std::string_view::npos) return false;
      std::size_t backslashes = 0;
      while (json[end - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) break;
    }
    at = end + 1;
  }
  return false;
}

// The found resource's cached text parsed back into `resource`, when that gives the document a
// render would: text the model wrote (not plain) and without numbers (a render holds some as
// text, some as numbers; text parsed back cannot tell which). False: render it instead.
bool parse_cached(Found* found) {
  const CachedResource& c = (*found->cached)[found->match];
  if (c.plain || holds_number(c.json)) return false;
  // In place, in a copy the document's own pool holds (as long as the document): a parse that
  // copies each string costs twice as much.
  char* text = static_cast<char*>(found->resource.GetAllocator().Malloc(c.json.size() + 1));
  std::memcpy(text, c.json.c_str(), c.json.size() + 1);
  found->resource.ParseInsitu(text);
  return !found->resource.HasParseError() && found->resource.IsObject();
}

// The Patient, or the error response for it. With `text`, from the render cache when it can be
// (Found::cached then set, and `resource` parsed from it: far cheaper than a render).
bool load_patient(const Service& s, const Call& call, const std::string& id, const Respond& respond,
                  std::optional<Found>* out, bool text = false) {
  Lookup l = s.lookup(call, "Patient", id, 0, text);
  if (l.kind == Lookup::Kind::kFound && l.found->cached && !parse_cached(&*l.found))
    l = s.lookup(call, "Patient", id);
  switch (l.kind) {
    case Lookup::Kind::kFound:
      *out = std::move(l.found);
      return true;
    case Lookup::Kind::kGone:
      respond(s.fail(call, 410, fhir::IssueType::kDeleted, "Patient/" + id + " was deleted"));
      return false;
    case Lookup::Kind::kNotFound:
      respond(s.fail(call, 404, fhir::IssueType::kNotFound, "Patient/" + id + " is not known"));
      return false;
    case Lookup::Kind::kError:
      respond(s.fail(call, 500, fhir::IssueType::kException, "the store could not be read"));
      return false;
  }
  return false;
}

// What the Patient references directly (GP practice, GP, managing organisation), readable by the
// client, as (type, resource) pairs.
std::vector<std::pair<std::string, rapidjson::Document>> patient_references(const Service& s, const Call& call,
                                                                          const Value& patient) {
  std::vector<std::pair<std::string, rapidjson::Document>> out;
  std::set<std::string> seen;
  for (const char* element : {"generalPractitioner", "managingOrganization"}) {
    auto m = patient.FindMember(element);
    if (m == patient.MemberEnd()) continue;
    std::vector<const Value*> refs;
    if (m->value.IsArray())
      for (const Value& r : m->value.GetArray()) refs.push_back(&r);
    else
      refs.push_back(&m->value);
    for (const Value* r : refs) {
      auto lit = literal_reference(*r);
      if (!lit || !seen.insert(lit->first + "/" + lit->second).second) continue;
      if (!call.context->principal->may(lit->first, Access::kRead)) continue;
      Lookup l = s.lookup(call, lit->first, lit->second);
      if (l.kind == Lookup::Kind::kFound) out.emplace_back(lit->first, std::move(l.found->resource));
    }
  }
  return out;
}

// $everything pages: `_count` entities of the compartment per page (default and most 1000),
// the Patient and what it references on the first page, each page's Provenance with it, and a
// `next` link carrying the walk's position (`_cursor`) while more remain.
constexpr std::size_t kEverythingPage = 1000;

void everything(const Service& s, const HttpRequest& req, const RequestContext& ctx, Respond respond) {
  Call call;
  if (!s.begin(call, req, ctx, respond)) return;
  std::size_t count = kEverythingPage;
  Walk from;
  bool first = true;
  for (const auto& [k, v] : call.params) {
    if (k == "_format" || k == "_pretty") continue;
    if (k == "_count") {
      std::size_t n = 0;
      bool ok = !v.empty() && v.size() <= 4;
      for (char c : v) ok = ok && c >= '0' && c <= '9';
      if (ok) n = std::stoul(v);
      if (!ok || n < 1 || n > kEverythingPage)
        return respond(s.fail(call, 400, fhir::IssueType::kInvalid,
                              "_count=" + v + ": must be 1.." + std::to_string(kEverythingPage)));
      count = n;
    } else if (k == "_revinclude" && v == "Provenance:target") {
      continue;  // every page carries its entries' Provenance already
    } else if (k == "_cursor") {
      auto w = parse_walk(v);
      if (!w) return respond(s.fail(call, 400, fhir::IssueType::kInvalid, "bad page cursor '" + v + "'"));
      from = std::move(*w);
      first = false;
    } else {
      return respond(s.fail(call, 400, fhir::IssueType::kNotSupported, k + " is not supported on $everything"));
    }
  }
  const std::string& id = ctx.params.at("id");
  std::optional<Found> patient;
  if (!load_patient(s, call, id, respond, &patient)) return;
  std::optional<Walk> next;
  auto g = gather_page(s, call, id, patient_compartment(s, call), from, count, &next);
  if (!g) {
    const auto& [status, why] = g.error();
    return respond(s.fail(call, status, status == 500 ? fhir::IssueType::kException : fhir::IssueType::kInvalid,
                          status == 500 ? "the store could not be searched" : why));
  }

  fhir::BundleBuilder b(fhir::BundleType::kSearchset);
  b.id(store::new_entity_id());
  b.timestamp(now_instant());
  auto link_url = [&](const std::optional<Walk>& at) {
    auto params = call.params;
    std::erase_if(params, [](const auto& p) { return p.first == "_cursor"; });
    if (at) params.emplace_back("_cursor", std::to_string(at->type) + "." + at->cursor);
    return params.empty() ? call.base + req.path : call.base + req.path + "?" + encode_query(params);
  };
  b.link("self", link_url(first ? std::nullopt : std::optional<Walk>(from)));
  if (next) b.link("next", link_url(next));
  std::vector<std::string> patients{id};
  ProvenanceCites cites;
  std::size_t n = 0;
  if (first) {
    b.add_search_result(patient->resource, full_url(call, "Patient", id));
    cites.emplace_back(care::EntityType::kPatient, patient->version.id, patient->version.provenance_id);
    ++n;
    for (auto& [type, res] : patient_references(s, call, patient->resource)) {
      b.add_search_result(res, full_url(call, type, res["id"].GetString()));
      ++n;
    }
  }
  for (const Gathered::Item& item : g->items) {
    b.add_search_result(item.resource.json, full_url(call, item.type, item.resource.id));
    if (item.resource.rule) cites.emplace_back(item.resource.rule->entity, item.entity_id, item.provenance_id);
    ++n;
  }
  for (const auto& prov : cited_provenance(s, call, cites, ProvenanceTargets::kCited)) {
    b.add_search_result(prov.json, full_url(call, "Provenance", prov.id));
    ++n;
  }
  // One page holds everything: its size is the total; otherwise it is not counted.
  if (first && !next) b.total(static_cast<unsigned>(n));
  auto doc = b.finish();
  if (!doc) return respond(s.fail(call, 500, fhir::IssueType::kException, doc.error().to_string()));
  add_issue_entry(*doc, g->warnings);
  if (!s.audit(call, "operation", "success", patients))
    return respond(s.fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
  respond(resource_response(200, *doc, call.how, call.model()));
}

// CPR decision codes (domain.md 3.2, ISB 1580): a Flag carrying one is the CPR decision.
bool is_cpr_flag(const Value& flag) {
  for (const char* code : {"450475007", "450476008"})
    if (matches(ResourceFilter{"code", "code", {{std::string("http://snomed.info/sct"), code}}}, flag)) return true;
  return false;
}

// The $summary document of `patient` and what `g` gathered, and the patients it concerns.
Result<rapidjson::Document, fhir::Error> summary_bundle(const Service& s, const Call& call, const std::string& id,
                                                        const Found* patient, const Gathered* g,
                                                        std::vector<std::string>* patients) {
  // The sections, in the order a clinician reads them; the end-of-life section puts the CPR
  // decision first because that is what an urgent-care reader needs before anything else.
  struct Section {
    const char* title;
    std::vector<std::string> types;
    std::vector<std::string> refs;  // "Type/id"
  };
  std::vector<Section> sections = {
      {"Demographics and GP", {"Patient", "Organization", "Practitioner", "PractitionerRole"}, {}},
      {"Care team", {"CareTeam", "RelatedPerson"}, {}},
      {"Encounters", {"Encounter"}, {}},
      {"Referrals", {"ServiceRequest", "Task"}, {}},
      {"End-of-life preferences", {"Flag", "Consent", "Observation", "CarePlan"}, {}},
  };
  auto section_of = [&](const std::string& type) -> Section* {
    for (Section& sec : sections)
      if (std::find(sec.types.begin(), sec.types.end(), type) != sec.types.end()) return &sec;
    return nullptr;
  };

  rapidjson::Document composition(rapidjson::kObjectType);
  auto& ca = composition.GetAllocator();
  const std::string now = now_instant();
  const std::string composition_id = store::new_entity_id();
  // The author: the gateway itself, as an Organization (the FHIR model Midhurst ships has no
  // Device, so XML could not carry one).
  const std::string author_ref = "Organization/midhurst-gateway";

  // The entries besides the Composition: (fullUrl, resource), in section order.
  std::vector<std::pair<std::string, const Value*>> entries;
  ProvenanceCites cites;

  sections[0].refs.push_back("Patient/" + id);
  entries.emplace_back(full_url(call, "Patient", id), &patient->resource);
  cites.emplace_back(care::EntityType::kPatient, patient->version.id, patient->version.provenance_id);
  auto gp = patient_references(s, call, patient->resource);
  for (auto& [type, res] : gp) {
    const std::string rid = res["id"].GetString();
    sections[0].refs.push_back(type + "/" + rid);
    entries.emplace_back(full_url(call, type, rid), &res);
  }
  for (const Section& sec : sections) {
    for (const std::string& t : sec.types) {
      for (const Gathered::Item& item : g->items) {
        if (item.type != t) continue;
        section_of(t)->refs.push_back(t + "/" + item.resource.id);
        entries.emplace_back(full_url(call, t, item.resource.id), &item.resource.json);
        if (item.resource.rule) cites.emplace_back(item.resource.rule->entity, item.entity_id, item.provenance_id);
      }
    }
  }
  // The end-of-life section lists CPR Flags before the rest of its entries.
  {
    Section& eol = sections[4];
    std::stable_partition(eol.refs.begin(), eol.refs.end(), [&](const std::string& ref) {
      for (const Gathered::Item& item : g->items)
        if (item.type == "Flag" && "Flag/" + item.resource.id == ref) return is_cpr_flag(item.resource.json);
      return false;
    });
  }

  composition.AddMember("resourceType", "Composition", ca);
  composition.AddMember("id", Value(composition_id.c_str(), ca), ca);
  composition.AddMember("status", "final", ca);
  // LOINC 60591-5 "Patient summary Document": the document type of a patient summary (the
  // International Patient Summary uses it). domain.md lists no document-type code for an EPaCCS
  // summary, and its SNOMED codes (713673000 "Has end of life care plan"...) are findings, not
  // document types, so a Composition type taken from them would misstate what this is.
  {
    Value type(rapidjson::kObjectType);
    Value codings(rapidjson::kArrayType);
    Value c(rapidjson::kObjectType);
    c.AddMember("system", "http://loinc.org", ca);
    c.AddMember("code", "60591-5", ca);
    c.AddMember("display", "Patient summary Document", ca);
    codings.PushBack(c, ca);
    type.AddMember("coding", codings, ca);
    composition.AddMember("type", type, ca);
  }
  {
    Value subject(rapidjson::kObjectType);
    subject.AddMember("reference", Value(("Patient/" + id).c_str(), ca), ca);
    composition.AddMember("subject", subject, ca);
  }
  composition.AddMember("date", Value(now.c_str(), ca), ca);
  {
    Value authors(rapidjson::kArrayType);
    Value author(rapidjson::kObjectType);
    author.AddMember("reference", Value(author_ref.c_str(), ca), ca);
    author.AddMember("display", "Midhurst gateway", ca);
    authors.PushBack(author, ca);
    composition.AddMember("author", authors, ca);
  }
  composition.AddMember("title", "Palliative and end-of-life care coordination summary", ca);
  Value secs(rapidjson::kArrayType);
  for (const Section& sec : sections) {
    Value v(rapidjson::kObjectType);
    v.AddMember("title", Value(sec.title, ca), ca);
    if (sec.refs.empty()) {
      // cmp-1: a section needs text, entries or sub-sections; an empty one says why it is empty.
      Value text(rapidjson::kObjectType);
      text.AddMember("status", "generated", ca);
      text.AddMember("div", "<div xmlns=\"http://www.w3.org/1999/xhtml\">No entries recorded.</div>", ca);
      v.AddMember("text", text, ca);
      Value reason(rapidjson::kObjectType);
      Value codings(rapidjson::kArrayType);
      Value c(rapidjson::kObjectType);
      c.AddMember("system", "http://terminology.hl7.org/CodeSystem/list-empty-reason", ca);
      c.AddMember("code", "unavailable", ca);
      c.AddMember("display", "Unavailable", ca);
      codings.PushBack(c, ca);
      reason.AddMember("coding", codings, ca);
      v.AddMember("emptyReason", reason, ca);
    } else {
      Value refs(rapidjson::kArrayType);
      for (const std::string& r : sec.refs) {
        Value ref(rapidjson::kObjectType);
        ref.AddMember("reference", Value(r.c_str(), ca), ca);
        refs.PushBack(ref, ca);
      }
      v.AddMember("entry", refs, ca);
    }
    secs.PushBack(v, ca);
  }
  composition.AddMember("section", secs, ca);

  rapidjson::Document author(rapidjson::kObjectType);
  {
    auto& da = author.GetAllocator();
    author.AddMember("resourceType", "Organization", da);
    author.AddMember("id", "midhurst-gateway", da);
    author.AddMember("name", "Midhurst gateway", da);
  }

  fhir::BundleBuilder b(fhir::BundleType::kDocument);
  b.id(store::new_entity_id());
  b.identifier("urn:ietf:rfc:3986", "urn:uuid:" + composition_id);
  b.timestamp(now);
  b.add(composition, full_url(call, "Composition", composition_id));
  for (const auto& [url, res] : entries) b.add(*res, url);
  b.add(author, call.base + "/" + author_ref);
  // Provenance: each entry's origin (Provenance.target lists the entries it produced).
  const auto provs = cited_provenance(s, call, cites, ProvenanceTargets::kCited);
  for (const auto& prov : provs) b.add(prov.json, full_url(call, "Provenance", prov.id));
  auto doc = b.finish();
  if (doc) {
    patients->push_back(id);
    for (const auto& [url, res] : entries) Service::patients_of(*res, patients);
  }
  return doc;
}

void summary(const Service& s, const HttpRequest& req, const RequestContext& ctx, Respond respond) {
  Call call;
  if (!s.begin(call, req, ctx, respond)) return;
  for (const auto& [k, v] : call.params)
    if (k != "_format" && k != "_pretty")
      return respond(s.fail(call, 400, fhir::IssueType::kNotSupported, k + " is not supported on $summary"));
  const std::string& id = ctx.params.at("id");
  std::optional<Found> patient;
  if (!load_patient(s, call, id, respond, &patient, call.compact_json())) return;
  auto g = gather(s, call, id);
  if (!g) return respond(s.fail(call, 500, fhir::IssueType::kException, g.error()));
  std::vector<std::string> patients;
  auto doc = summary_bundle(s, call, id, &*patient, &*g, &patients);
  if (!doc) return respond(s.fail(call, 500, fhir::IssueType::kException, doc.error().to_string()));
  HttpResponse response;
  bool plain = false;
  if (patient->cached) {
    response.content_type = std::string(kFhirJson);
    response.body = compact_resource_json(*doc, call.model(), &plain);
  }
  if (plain) {
    // The model cannot write the Bundle: it goes out as plain JSON, in its documents' member
    // order, so the Patient must be the rendered document, not the cached text parsed back.
    if (!load_patient(s, call, id, respond, &patient)) return;
    patients.clear();
    doc = summary_bundle(s, call, id, &*patient, &*g, &patients);
    if (!doc) return respond(s.fail(call, 500, fhir::IssueType::kException, doc.error().to_string()));
  }
  if (!patient->cached) response = resource_response(200, *doc, call.how, call.model());
  if (!s.audit(call, "operation", "success", patients))
    return respond(s.fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
  respond(std::move(response));
}

}  // namespace

std::vector<mapping::RenderedResource> cited_provenance(const Service& s, const Call& call, const ProvenanceCites& cites,
                                                        ProvenanceTargets targets) {
  std::vector<mapping::RenderedResource> out;
  if (call.renderer->rules_for("Provenance").empty() || !call.context->principal->may("Provenance", Access::kRead))
    return out;
  std::map<std::string, std::vector<care::Reference>> by_provenance;
  for (const auto& [type, id, prov] : cites) {
    if (prov.empty()) continue;
    care::Reference r;
    r.type = type;
    r.id = id;
    auto& refs = by_provenance[prov];
    if (std::find(refs.begin(), refs.end(), r) == refs.end()) refs.push_back(std::move(r));
  }
  for (auto& [prov, refs] : by_provenance) {
    auto v = s.store().read(care::EntityType::kProvenance, prov);
    if (!v || !*v || (*v)->deleted) continue;
    if (targets == ProvenanceTargets::kAll) {
      // Service::render lists every version it produced (Store::cited_by), as a read does.
      for (auto& res : s.render(call, "Provenance", **v)) out.push_back(std::move(res));
      continue;
    }
    mapping::RenderOptions options;
    options.resource_type = "Provenance";
    options.referenced_by = std::move(refs);
    auto r = call.renderer->render_entity_json(care::EntityType::kProvenance, (*v)->json, options);
    if (!r) continue;
    for (auto& res : r->resources) out.push_back(std::move(res));
  }
  return out;
}

void add_summary_routes(HttpApp& app, std::shared_ptr<const Service> service) {
  for (const auto& [name, fn] : {std::make_pair("$everything", &everything), std::make_pair("$summary", &summary)}) {
    Route r;
    r.method = "GET";
    r.pattern = std::string("/Patient/{id}/") + name;
    r.resource = "Patient";
    r.access = Access::kRead;
    r.fhir = false;
    r.handler = [service, fn = fn](const HttpRequest& req, const RequestContext& ctx, Respond respond) {
      fn(*service, req, ctx, std::move(respond));
    };
    app.add(std::move(r));
  }
}

}  // namespace midhurst::server::rest
