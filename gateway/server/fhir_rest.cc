// The FHIR REST read API: routes, read/vread/history, search and AuditEvent (fhir_rest.h).
#include "server/fhir_rest.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <set>
#include <tuple>

#include "fhir/bundle.h"
#include "fhir/operation_outcome.h"
#include "mapping/profile.h"
#include "server/fhir_rest_internal.h"
#include "server/log.h"

namespace midhurst::server {

const std::vector<std::string> kDefaultFhirTypes = {
    "Patient",  "Encounter", "ServiceRequest", "Task",         "Flag",         "Observation",      "Consent",
    "CarePlan", "CareTeam",  "RelatedPerson",  "Organization", "Practitioner", "PractitionerRole", "Provenance"};

RendererSource renderer_source(const mapping::ProfileStore& profiles) {
  struct Cache {
    std::mutex mu;
    std::shared_ptr<const mapping::ProfileSet> set;          // GUARDED_BY(mu)
    std::shared_ptr<const mapping::FhirRenderer> renderer;  // GUARDED_BY(mu)
  };
  auto cache = std::make_shared<Cache>();
  return [&profiles, cache]() -> std::shared_ptr<const mapping::FhirRenderer> {
    std::shared_ptr<const mapping::ProfileSet> set = profiles.current();
    std::lock_guard lock(cache->mu);
    if (set != cache->set) {
      cache->set = set;
      cache->renderer = nullptr;
      if (set) {
        auto made = mapping::FhirRenderer::create(set);
        if (made) cache->renderer = std::move(*made);
        else log_error("fhir.renderer_failed", {{"error", made.error()}});
      }
    }
    return cache->renderer;
  };
}

namespace rest {
namespace {

using rapidjson::Value;

std::string str(const Value& v, const char* member) {
  if (!v.IsObject()) return {};
  auto m = v.FindMember(member);
  return m != v.MemberEnd() && m->value.IsString() ? std::string(m->value.GetString(), m->value.GetStringLength())
                                                   : std::string();
}

std::string etag(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

// If-None-Match holds this version (weak comparison, RFC 9110 section 13.1.2), or "*".
bool none_match_hits(std::string_view header, std::int64_t version) {
  const std::string want = "\"" + std::to_string(version) + "\"";
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view tag = header.substr(start, comma - start);
    start = comma + 1;
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == want) return true;
  }
  return false;
}

bool parse_int(std::string_view s, std::int64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Form body (application/x-www-form-urlencoded) pairs; false on a bad escape.
bool parse_form(std::string_view body, std::vector<std::pair<std::string, std::string>>* out) {
  size_t start = 0;
  while (start < body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view pair = body.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string k, v;
    if (!percent_decode(pair.substr(0, eq), true, &k)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, &v)) return false;
    out->emplace_back(std::move(k), std::move(v));
  }
  return true;
}

HttpResponse with_headers(HttpResponse r, std::int64_t version, const std::string& last_updated) {
  r.headers.emplace_back("ETag", etag(version));
  if (const std::string d = http_date(last_updated); !d.empty()) r.headers.emplace_back("Last-Modified", d);
  return r;
}

// The RESTful interaction (http://hl7.org/fhir/restful-interaction) each handler audits as.
constexpr const char* kRead = "read";
constexpr const char* kVread = "vread";
constexpr const char* kHistoryInstance = "history-instance";
constexpr const char* kHistoryType = "history-type";
constexpr const char* kSearchType = "search-type";

}  // namespace

std::optional<std::pair<std::string, std::string>> literal_reference(const Value& ref) {
  const std::string r = str(ref, "reference");
  const size_t slash = r.find('/');
  if (r.empty() || slash == std::string::npos || r.find('/', slash + 1) != std::string::npos ||
      r.find(':') != std::string::npos || r.find('?') != std::string::npos)
    return std::nullopt;
  return std::make_pair(r.substr(0, slash), r.substr(slash + 1));
}

std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params) {
  auto enc = [](std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '/' || c == '|' ||
          c == ',' || c == '$')
        out += static_cast<char>(c);
      else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  };
  std::string q;
  for (const auto& [k, v] : params) {
    if (!q.empty()) q += '&';
    q += enc(k) + "=" + enc(v);
  }
  return q;
}

// Within one second only the milliseconds change: the rest of the text is formatted once per
// second and thread (snprintf cost more than the rest of a search Bundle's envelope).
std::string now_instant() {
  using std::chrono::milliseconds;
  const std::int64_t ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  thread_local std::int64_t cached_second = INT64_MIN;
  thread_local std::string prefix;  // "2024-03-01T10:00:00."
  if (second != cached_second) {
    prefix = store::format_instant(std::chrono::system_clock::time_point(milliseconds(second * 1000)));
    prefix.resize(prefix.size() - 4);  // drops "000Z"
    cached_second = second;
  }
  const int milli = static_cast<int>(ms - second * 1000);
  std::string out;
  out.reserve(prefix.size() + 4);
  out += prefix;
  out += static_cast<char>('0' + milli / 100);
  out += static_cast<char>('0' + milli / 10 % 10);
  out += static_cast<char>('0' + milli % 10);
  out += 'Z';
  return out;
}

// "2024-03-01T10:00:00.000Z" -> "Fri, 01 Mar 2024 10:00:00 GMT" (RFC 9110 IMF-fixdate).
// Written by hand: it is on every read, and sscanf/timegm/strftime cost more than the rest of
// the headers together. Out-of-range fields are normalised as timegm would (2024-02-30 is
// 1 March); "" when the text does not start with an instant.
std::string http_date(std::string_view instant) {
  auto field = [&](size_t at, size_t n, int* out) {
    if (at + n > instant.size()) return false;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (instant[i] < '0' || instant[i] > '9') return false;
      v = v * 10 + (instant[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (instant.size() < 19 || !field(0, 4, &year) || instant[4] != '-' || !field(5, 2, &month) || instant[7] != '-' ||
      !field(8, 2, &day) || instant[10] != 'T' || !field(11, 2, &hour) || instant[13] != ':' ||
      !field(14, 2, &minute) || instant[16] != ':' || !field(17, 2, &second))
    return {};
  // Days since 1970-01-01 by the civil-from-days inverse (H. Hinnant), months normalised first.
  std::int64_t y = year + (month - 1 >= 0 ? (month - 1) / 12 : (month - 12) / 12);
  const int m0 = ((month - 1) % 12 + 12) % 12;  // 0 = January
  const int mp = (m0 + 10) % 12;                // March-based month
  if (m0 < 2) --y;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * mp + 2) / 5;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  std::int64_t days = era * 146097 + doe - 719468 + (day - 1);
  std::int64_t secs = days * 86400 + std::int64_t{hour} * 3600 + minute * 60 + second;
  days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  secs -= days * 86400;
  // Back to a civil date for the normalised fields.
  const std::int64_t z = days + 719468;
  const std::int64_t e = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t d_oe = z - e * 146097;
  const std::int64_t y_oe = (d_oe - d_oe / 1460 + d_oe / 36524 - d_oe / 146096) / 365;
  const std::int64_t d_oy = d_oe - (365 * y_oe + y_oe / 4 - y_oe / 100);
  const std::int64_t m_p = (5 * d_oy + 2) / 153;
  const int out_day = static_cast<int>(d_oy - (153 * m_p + 2) / 5 + 1);
  const int out_month = static_cast<int>(m_p < 10 ? m_p + 3 : m_p - 9);
  const std::int64_t out_year = y_oe + e * 400 + (out_month <= 2 ? 1 : 0);
  if (out_year < 0 || out_year > 9999) return {};
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01: Thursday
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int weekday = static_cast<int>(((days % 7) + 7) % 7);
  std::string out;
  out.reserve(29);
  auto two = [&out](std::int64_t v) {
    out += static_cast<char>('0' + v / 10 % 10);
    out += static_cast<char>('0' + v % 10);
  };
  out += kDays[weekday];
  out += ", ";
  two(out_day);
  out += ' ';
  out += kMonths[out_month - 1];
  out += ' ';
  two(out_year / 100);
  two(out_year % 100);
  out += ' ';
  two(secs / 3600);
  out += ':';
  two(secs / 60 % 60);
  out += ':';
  two(secs % 60);
  out += " GMT";
  return out;
}

bool Service::begin(Call& call, const HttpRequest& request, const RequestContext& context, const Respond& respond,
                    bool form_body) const {
  call.request = &request;
  call.context = &context;
  call.params = request.query;
  if (form_body && !parse_form(request.body, &call.params)) {
    respond(outcome_response(400, fhir::IssueType::kInvalid, "the form body has a bad %-escape", call.how, nullptr));
    return false;
  }
  call.renderer = deps_.renderer ? deps_.renderer() : nullptr;
  auto how = negotiate_wire_format(call.params, request.header("accept"));
  if (!how) {
    respond(outcome_response(406, fhir::IssueType::kNotSupported, how.error(), call.how, nullptr));
    return false;
  }
  call.how = *how;
  const std::string_view host = request.header("host");
  call.base = "http://" + std::string(host.empty() ? "localhost" : host);
  if (!call.renderer) {
    respond(fail(call, 503, fhir::IssueType::kTransient, "no care→fhir mapping profiles are loaded"));
    return false;
  }
  return true;
}

std::shared_ptr<const CachedRender> Service::render_text(const Call& call, std::string_view resource_type,
                                                         const store::EntityVersion& v, std::string_view id) const {
  if (v.type == care::EntityType::kProvenance) return nullptr;  // its targets are other rows
  RenderCache* cache = deps_.render_cache && deps_.render_cache->enabled() ? deps_.render_cache : nullptr;
  const RenderKey key{v.type, v.id, v.version, resource_type, id};
  if (cache)
    if (auto hit = cache->get(call.renderer.get(), key)) return hit;
  auto made = std::make_shared<CachedRender>();
  for (mapping::RenderedResource& r : render(call, resource_type, v, id)) {
    CachedResource c;
    c.rule = r.rule;
    c.id = std::move(r.id);
    c.item = r.item;
    c.json = compact_resource_json(r.json, call.model(), &c.plain);
    c.json.shrink_to_fit();  // the writer's buffer is far larger than a resource: keep only the text
    patients_of(r.json, &c.patients);
    made->push_back(std::move(c));
  }
  // A render that failed is not kept: it is retried (and logged) on the next request.
  if (cache && !made->empty()) cache->put(call.renderer, key, made);
  return made;
}

std::vector<mapping::RenderedResource> Service::render(const Call& call, std::string_view resource_type,
                                                       const store::EntityVersion& v, std::string_view id) const {
  mapping::RenderOptions options;
  options.resource_type = std::string(resource_type);
  options.id = std::string(id);
  if (v.type == care::EntityType::kProvenance) provenance_targets(v.id, &options.referenced_by);
  auto r = call.renderer->render_entity_json(v.type, v.json, options);
  if (!r) {
    const std::string why = r.error().empty() ? std::string("no reason given") : r.error()[0].to_string();
    log_warn("fhir.render_failed", {{"type", std::string(store::type_name(v.type))}, {"id", v.id}, {"error", why}});
    return {};
  }
  return std::move(r->resources);
}

void Service::provenance_targets(const std::string& provenance_id, std::vector<care::Reference>* out) const {
  // Bounded: a Provenance names the versions one message wrote (a batch import stays far below).
  constexpr int kMaxTargets = 1000;
  auto cited = store().cited_by(provenance_id, kMaxTargets);
  if (!cited) {
    log_warn("fhir.provenance_targets_failed", {{"id", provenance_id}, {"error", cited.error().message}});
    return;
  }
  for (const store::VersionKey& k : *cited) {
    care::Reference r;
    r.type = k.type;
    r.id = k.id;
    if (std::find(out->begin(), out->end(), r) == out->end()) out->push_back(std::move(r));
  }
}

Lookup Service::lookup(const Call& call, std::string_view type, std::string_view id, std::int64_t version,
                       bool text) const {
  Lookup out;
  for (const mapping::FhirIdTarget& target : call.renderer->resolve_id(type, id)) {
    auto got = version > 0 ? store().vread(target.rule->entity, target.entity_id, version)
                           : store().read(target.rule->entity, target.entity_id);
    if (!got) {
      out.kind = Lookup::Kind::kError;
      out.error = got.error().message;
      return out;
    }
    if (!*got) continue;
    store::EntityVersion& v = **got;
    if (v.deleted) {
      out.kind = Lookup::Kind::kGone;
      out.gone_version = v.version;
      return out;
    }
    // memmem, not std::string::find: find stops at every '"' of the body to compare the rest.
    static constexpr std::string_view kReplacedBy = "\"replacedBy\"";
    const bool replaced = ::memmem(v.json.data(), v.json.size(), kReplacedBy.data(), kReplacedBy.size()) != nullptr;
    Found found;
    found.replaced = replaced;
    if (text && !replaced && v.type != care::EntityType::kProvenance) {
      // Every resource of the type the version renders, as a search renders them, so that reads
      // and searches share one cache entry; then the one with this id.
      found.cached = render_text(call, type, v);
      if (!found.cached) continue;
      const auto it = std::find_if(found.cached->begin(), found.cached->end(),
                                   [&](const CachedResource& c) { return c.id == id; });
      if (it == found.cached->end()) continue;
      found.match = static_cast<std::size_t>(it - found.cached->begin());
    } else {
      auto resources = render(call, type, v, id);
      if (resources.empty()) continue;
      found.resource = std::move(resources[0].json);
    }
    v.json.clear();
    found.version = std::move(v);
    out.kind = Lookup::Kind::kFound;
    out.found = std::move(found);
    return out;
  }
  return out;
}

std::optional<care::EntityType> Service::search_entity(const mapping::FhirRenderer& r,
                                                       std::string_view resource_type) const {
  const auto rules = r.rules_for(resource_type);
  if (rules.empty()) return std::nullopt;
  for (const mapping::ServedRule* rule : rules)
    if (rule->primary) return rule->entity;
  return rules[0]->entity;
}

void Service::patients_of(const Value& resource, std::vector<std::string>* out) {
  auto add = [&](const std::string& id) {
    if (!id.empty() && std::find(out->begin(), out->end(), id) == out->end()) out->push_back(id);
  };
  if (str(resource, "resourceType") == "Patient") return add(str(resource, "id"));
  for (const char* element : {"subject", "patient", "for", "beneficiary"}) {
    auto m = resource.FindMember(element);
    if (m == resource.MemberEnd()) continue;
    if (auto ref = literal_reference(m->value); ref && ref->first == "Patient") add(ref->second);
  }
}

bool Service::audit(const Call& call, std::string interaction, std::string outcome,
                    std::vector<std::string> patients) const {
  if (!deps_.audit) return true;
  store::AuditRecord record;
  record.client = call.context && call.context->principal ? call.context->principal->client : "";
  record.interaction = std::move(interaction);
  record.outcome = std::move(outcome);
  record.patients = std::move(patients);
  record.detail = call.request ? call.request->method + " " + call.request->target : "";
  return deps_.audit->enqueue(std::move(record));
}

Result<Service::SearchPage, std::pair<int, std::string>> Service::search(const Call& call, std::string_view type,
                                                                         const fhir::SearchRequest& request,
                                                                         bool want_total, bool text) const {
  SearchPage page;
  const auto entity = search_entity(*call.renderer, type);
  if (!entity) return err(std::make_pair(404, std::string(type) + " is not served by the loaded mapping profiles"));
  auto plan = plan_search(type, *entity, request, *call.renderer);
  if (!plan) return err(std::make_pair(400, plan.error()));
  if (!plan->provenance_targets.empty())
    if (auto resolved = resolve_provenance_targets(&*plan, store()); !resolved) return err(resolved.error());
  if (plan->nothing) {
    if (want_total) page.total = 0;
    return page;
  }
  auto found = store().search(plan->query);
  if (!found) {
    const bool bad = found.error().code == store::StoreError::Code::kInvalidArgument;
    return err(std::make_pair(bad ? 400 : 500, found.error().message));
  }
  // Text needs no document: only when nothing is checked on the rendered resources.
  const bool as_text =
      text && plan->filters.empty() && plan->fhir_ids.empty() && *entity != care::EntityType::kProvenance;
  for (const store::EntityVersion& v : found->entries) {
    if (as_text) {
      auto rendered = render_text(call, type, v);
      if (!rendered) continue;
      for (const CachedResource& c : *rendered) {
        page.cached.push_back(&c);
        page.provenance.push_back(v.provenance_id);
        page.entity_ids.push_back(v.id);
      }
      page.texts.push_back(std::move(rendered));
      continue;
    }
    for (mapping::RenderedResource& r : render(call, type, v)) {
      if (!plan->fhir_ids.empty() &&
          std::find(plan->fhir_ids.begin(), plan->fhir_ids.end(), r.id) == plan->fhir_ids.end())
        continue;
      bool ok = true;
      for (const ResourceFilter& f : plan->filters) ok = ok && matches(f, r.json);
      if (!ok) continue;
      page.matches.push_back(std::move(r));
      page.provenance.push_back(v.provenance_id);
      page.entity_ids.push_back(v.id);
    }
  }
  page.next_cursor = found->next_cursor;
  page.prev_cursor = found->prev_cursor;
  if (!want_total) return page;
  // A first page with no next page holds every match, rendered and checked: its size is the
  // total, and the count (the common case: a search by NHS number) is saved.
  if (plan->query.cursor.empty() && found->next_cursor.empty()) {
    page.total = static_cast<std::int64_t>(as_text ? page.cached.size() : page.matches.size());
    return page;
  }
  // Provenance by target: one resource per entity, over the ids the store listed.
  if (!plan->provenance_targets.empty()) {
    const auto rules = call.renderer->rules_for(type);
    store::Query q = plan->query;
    q.cursor.clear();
    if (plan->filters.empty() && plan->fhir_ids.empty() && rules.size() == 1 && rules[0]->primary && !rules[0]->per_item)
      if (auto n = store().count(q)) page.total = *n;
    return page;
  }
  // Else the store counts each rule's matching resources (plan_count), where it can alone.
  if (auto queries = plan_count(type, *entity, request, *call.renderer))
    if (auto n = count_planned(store(), *queries)) page.total = *n;
  return page;
}

namespace {

class Handlers {
 public:
  explicit Handlers(std::shared_ptr<const Service> s) : s_(std::move(s)) {}

  void read(const HttpRequest& req, const RequestContext& ctx, Respond respond, std::string type,
            std::int64_t version) const {
    Call call;
    if (!s_->begin(call, req, ctx, respond)) return;
    const std::string& id = ctx.params.at("id");
    const char* interaction = version > 0 ? kVread : kRead;
    if (version == 0 && ctx.params.count("vid")) {
      if (!parse_int(ctx.params.at("vid"), &version) || version < 1)
        return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, "the version id must be a positive integer"));
      interaction = kVread;
    }
    std::vector<std::string> patients;
    if (type == "Patient") patients.push_back(id);
    Lookup l = s_->lookup(call, type, id, version, call.compact_json());
    HttpResponse response;
    std::string outcome = "success";
    switch (l.kind) {
      case Lookup::Kind::kError:
        log_error("fhir.read_failed", {{"type", type}, {"id", id}, {"error", l.error}});
        response = s_->fail(call, 500, fhir::IssueType::kException, "the store could not be read");
        break;
      case Lookup::Kind::kNotFound:
        response = s_->fail(call, 404, fhir::IssueType::kNotFound,
                            type + "/" + id + (version > 0 ? "/_history/" + std::to_string(version) : "") +
                                " is not known");
        break;
      case Lookup::Kind::kGone:
        response = s_->fail(call, 410, fhir::IssueType::kDeleted,
                            type + "/" + id + " was deleted (version " + std::to_string(l.gone_version) + ")");
        response.headers.emplace_back("ETag", etag(l.gone_version));
        break;
      case Lookup::Kind::kFound: {
        const store::EntityVersion& v = l.found->version;
        const bool not_modified = version == 0 && none_match_hits(req.header("if-none-match"), v.version);
        if (const auto& cached = l.found->cached) {
          const CachedResource& c = (*cached)[l.found->match];
          for (const std::string& p : c.patients)
            if (std::find(patients.begin(), patients.end(), p) == patients.end()) patients.push_back(p);
          if (!not_modified) {
            response.content_type = std::string(kFhirJson);
            response.body = c.json;
          }
        } else {
          rapidjson::Document& res = l.found->resource;
          if (type == "Patient" && version == 0 && l.found->replaced) mark_merged(call, id, res);
          Service::patients_of(res, &patients);
          if (!not_modified) response = resource_response(200, res, call.how, call.model());
        }
        if (not_modified) response.status = 304;
        response = with_headers(std::move(response), v.version, v.last_updated);
        break;
      }
    }
    if (response.status >= 400) outcome = std::to_string(response.status);
    if (!s_->audit(call, interaction, outcome, patients))
      return respond(s_->fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
    respond(std::move(response));
  }

  void history(const HttpRequest& req, const RequestContext& ctx, Respond respond, std::string type,
               bool instance) const {
    Call call;
    if (!s_->begin(call, req, ctx, respond)) return;
    store::HistoryQuery hq;
    for (const auto& [k, v] : call.params) {
      if (k == "_count") {
        std::int64_t n = 0;
        if (!parse_int(v, &n) || n < 1 || n > 1000)
          return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, "_count=" + v + ": expected 1 to 1000"));
        hq.count = static_cast<int>(n);
      } else if (k == "_since") {
        auto d = fhir::parse_date(v);
        if (!d || d->comparator != fhir::DateComparator::kEq || d->value.size() < 20)
          return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, "_since=" + v + ": expected an instant"));
        hq.since = d->value;
      } else if (k == "_cursor") {
        hq.cursor = v;
      } else if (k != "_format" && k != "_pretty") {
        return respond(s_->fail(call, 400, fhir::IssueType::kNotSupported, k + " is not supported on _history"));
      }
    }
    const std::string id = instance ? ctx.params.at("id") : "";
    std::vector<std::string> patients;
    store::StoreResult<store::HistoryPage> page = store::HistoryPage{};
    if (instance) {
      const auto targets = call.renderer->resolve_id(type, id);
      if (targets.empty())
        return respond(s_->fail(call, 404, fhir::IssueType::kNotFound, type + "/" + id + " is not known"));
      page = s_->store().history(targets[0].rule->entity, targets[0].entity_id, hq);
      for (size_t i = 1; page && page->entries.empty() && i < targets.size(); ++i)
        page = s_->store().history(targets[i].rule->entity, targets[i].entity_id, hq);
    } else {
      const auto entity = s_->search_entity(*call.renderer, type);
      if (!entity)
        return respond(s_->fail(call, 404, fhir::IssueType::kNotFound, type + " is not served by the loaded profiles"));
      page = s_->store().type_history(*entity, hq);
    }
    if (!page) {
      const bool bad = page.error().code == store::StoreError::Code::kInvalidArgument;
      return respond(s_->fail(call, bad ? 400 : 500, bad ? fhir::IssueType::kInvalid : fhir::IssueType::kException,
                              bad ? page.error().message : "the store could not be read"));
    }
    if (instance && page->entries.empty() && hq.cursor.empty() && hq.since.empty())
      return respond(s_->fail(call, 404, fhir::IssueType::kNotFound, type + "/" + id + " is not known"));

    rapidjson::Document bundle(rapidjson::kObjectType);
    auto& a = bundle.GetAllocator();
    bundle.AddMember("resourceType", "Bundle", a);
    bundle.AddMember("type", "history", a);
    Value links(rapidjson::kArrayType);
    auto link = [&](const char* rel, const std::string& cursor) {
      auto params = call.params;
      std::erase_if(params, [](const auto& p) { return p.first == "_cursor"; });
      if (!cursor.empty()) params.emplace_back("_cursor", cursor);
      std::string url = call.base + req.path;
      if (!params.empty()) url += "?" + encode_query(params);
      Value l(rapidjson::kObjectType);
      l.AddMember("relation", Value(rel, a), a);
      l.AddMember("url", Value(url.c_str(), a), a);
      links.PushBack(l, a);
    };
    link("self", hq.cursor);
    if (!page->next_cursor.empty()) link("next", page->next_cursor);
    bundle.AddMember("link", links, a);
    Value entries(rapidjson::kArrayType);
    for (const store::EntityVersion& v : page->entries) {
      auto add_entry = [&](const std::string& rid, const Value* resource) {
        Value e(rapidjson::kObjectType);
        e.AddMember("fullUrl", Value(full_url(call, type, rid).c_str(), a), a);
        if (resource) e.AddMember("resource", Value(*resource, a), a);
        Value request(rapidjson::kObjectType);
        request.AddMember("method", Value(v.deleted ? "DELETE" : v.version == 1 ? "POST" : "PUT", a), a);
        request.AddMember("url", Value((v.version == 1 && !v.deleted ? type : type + "/" + rid).c_str(), a), a);
        e.AddMember("request", request, a);
        Value response(rapidjson::kObjectType);
        response.AddMember("status", Value(v.deleted ? "204" : v.version == 1 ? "201" : "200", a), a);
        response.AddMember("etag", Value(etag(v.version).c_str(), a), a);
        response.AddMember("lastModified", Value(v.last_updated.c_str(), a), a);
        e.AddMember("response", response, a);
        entries.PushBack(e, a);
      };
      if (v.deleted) {
        // A tombstone renders nothing: it names the entity's own resource when that is the type.
        if (instance) add_entry(id, nullptr);
        else if (const auto* p = call.renderer->primary(v.type); p && p->resource_type == type) add_entry(v.id, nullptr);
        continue;
      }
      for (const mapping::RenderedResource& r : s_->render(call, type, v, id)) {
        Service::patients_of(r.json, &patients);
        add_entry(r.id, &r.json);
      }
    }
    bundle.AddMember("entry", entries, a);
    if (bundle["entry"].Empty()) bundle.RemoveMember("entry");
    if (!s_->audit(call, instance ? kHistoryInstance : kHistoryType, "success", patients))
      return respond(s_->fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
    respond(resource_response(200, bundle, call.how, call.model()));
  }

  void search(const HttpRequest& req, const RequestContext& ctx, Respond respond, std::string type,
              bool post) const {
    Call call;
    if (!s_->begin(call, req, ctx, respond, post)) return;
    auto parsed = fhir::parse_search(call.params, search_param_kinds(type));
    if (!parsed) return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, parsed.error()));
    fhir::SearchRequest& request = *parsed;
    std::vector<std::string> warnings;
    const bool lenient = req.header("prefer").find("handling=lenient") != std::string_view::npos;
    for (const std::string& name : request.unknown) {
      const std::string why = name + " is not a search parameter of " + type + " on this server (supported: " +
                              join_names(search_param_names(type)) + ")";
      if (!lenient) return respond(s_->fail(call, 400, fhir::IssueType::kNotSupported, why));
      warnings.push_back(why + "; ignored");
    }
    for (const fhir::IncludeParam& inc : request.includes)
      if (inc.source_type != type || reference_elements(type, inc.param).empty())
        return respond(s_->fail(call, 400, fhir::IssueType::kNotSupported,
                                "_include=" + inc.source_type + ":" + inc.param + " is not supported for " + type));
    for (const fhir::IncludeParam& inc : request.revincludes) {
      // Provenance: each match's own (that of its current version), found by target only.
      if (inc.source_type == "Provenance" && inc.param != "target")
        return respond(s_->fail(call, 400, fhir::IssueType::kNotSupported,
                                "_revinclude=Provenance:" + inc.param + " is not supported (Provenance:target is)"));
      const auto& kinds = search_param_kinds(inc.source_type);
      auto k = kinds.find(inc.param);
      if (k == kinds.end() || k->second != fhir::SearchParamType::kReference ||
          !s_->search_entity(*call.renderer, inc.source_type))
        return respond(s_->fail(call, 400, fhir::IssueType::kNotSupported,
                                "_revinclude=" + inc.source_type + ":" + inc.param + " is not supported"));
    }

    std::vector<std::string> patients = searched_patients(type, request);
    if (request.summary == fhir::SummaryMode::kCount) {
      auto total = count_all(call, type, request);
      if (!total) return respond(s_->fail(call, total.error().first, fhir::IssueType::kInvalid, total.error().second));
      fhir::BundleBuilder b(fhir::BundleType::kSearchset);
      b.total(static_cast<unsigned>(*total));
      auto doc = b.finish();
      if (!s_->audit(call, kSearchType, "success", patients))
        return respond(s_->fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
      return respond(resource_response(200, *doc, call.how, call.model()));
    }

    const bool want_total = request.total != fhir::TotalMode::kNone;
    // Compact JSON without includes or warnings: the matches are spliced into the Bundle as
    // the render cache's text (search_text_response); otherwise the Bundle is built as a document.
    const bool as_text = call.compact_json() && request.includes.empty() && request.revincludes.empty() &&
                         warnings.empty();
    auto page = s_->search(call, type, request, want_total, as_text);
    // A match the model cannot write makes resource_response() write the whole Bundle as plain
    // JSON: that Bundle is built as a document.
    if (page && std::any_of(page->cached.begin(), page->cached.end(), [](auto* c) { return c->plain; }))
      page = s_->search(call, type, request, want_total, false);
    if (!page) {
      const auto& [status, why] = page.error();
      const fhir::IssueType type_code = status == 500   ? fhir::IssueType::kException
                                        : status == 404 ? fhir::IssueType::kNotFound
                                                        : fhir::IssueType::kInvalid;
      return respond(s_->fail(call, status, type_code, status == 500 ? "the store could not be searched" : why));
    }
    fhir::BundleBuilder b(fhir::BundleType::kSearchset);
    b.id(store::new_entity_id());
    b.timestamp(now_instant());
    if (page->total) b.total(static_cast<unsigned>(*page->total));
    auto link_url = [&](const std::string& cursor) {
      auto params = call.params;
      std::erase_if(params, [](const auto& p) { return p.first == "_cursor"; });
      if (!cursor.empty()) params.emplace_back("_cursor", cursor);
      std::string url = call.base + "/" + type;
      if (!params.empty()) url += "?" + encode_query(params);
      return url;
    };
    b.link("self", link_url(request.cursor));
    if (!page->next_cursor.empty()) b.link("next", link_url(page->next_cursor));
    if (!page->prev_cursor.empty()) b.link("previous", link_url(page->prev_cursor));
    if (page->matches.empty() && page->warnings.empty() && as_text) {
      for (const CachedResource* c : page->cached)
        for (const std::string& p : c->patients)
          if (std::find(patients.begin(), patients.end(), p) == patients.end()) patients.push_back(p);
      auto response = search_text_response(call, type, b, page->cached);
      if (response.status != 200) return respond(std::move(response));
      if (!s_->audit(call, kSearchType, "success", patients))
        return respond(s_->fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
      return respond(std::move(response));
    }

    std::set<std::string> seen;  // "Type/id" already in the Bundle
    for (const mapping::RenderedResource& r : page->matches) {
      seen.insert(type + "/" + r.id);
      Service::patients_of(r.json, &patients);
      if (type == "Provenance") target_patients(r.json, &patients);
      b.add_search_result(r.json, full_url(call, type, r.id));
    }
    // _include: what the matches reference, once each. A logical reference (by business
    // identifier, as Patient.generalPractitioner by ODS or GMP code) is found by identifier.
    std::vector<std::pair<std::string, std::string>> wanted;
    std::vector<std::tuple<std::string, std::string, std::string>> logical;  // type ("" = any), system, value
    for (const fhir::IncludeParam& inc : request.includes)
      for (const mapping::RenderedResource& r : page->matches)
        for (const std::string& element : reference_elements(type, inc.param)) {
          auto m = r.json.FindMember(element.c_str());
          if (m == r.json.MemberEnd()) continue;
          auto take = [&](const Value& ref) {
            if (auto lit = literal_reference(ref); lit && (inc.target_type.empty() || lit->first == inc.target_type))
              wanted.push_back(*lit);
            else if (!lit && ref.IsObject() && ref.HasMember("identifier"))
              logical.emplace_back(str(ref, "type").empty() ? inc.target_type : str(ref, "type"),
                                   str(ref["identifier"], "system"), str(ref["identifier"], "value"));
          };
          if (m->value.IsArray())
            for (const Value& item : m->value.GetArray()) take(item.IsObject() && item.HasMember("individual") ? item["individual"] : item);
          else
            take(m->value);
        }
    std::set<std::string> looked_up;
    for (const auto& [t, system, value] : logical) {
      if (value.empty() || !looked_up.insert(t + "|" + system + "|" + value).second) continue;
      const auto& types = s_->deps().types.empty() ? kDefaultFhirTypes : s_->deps().types;
      for (const std::string& candidate : types) {
        if ((!t.empty() && candidate != t) || candidate == "Patient" || !s_->search_entity(*call.renderer, candidate))
          continue;
        fhir::SearchRequest by_id;
        fhir::SearchParam p;
        p.name = "identifier";
        p.type = fhir::SearchParamType::kToken;
        p.tokens.push_back({system, value});
        by_id.params.push_back(std::move(p));
        by_id.count = 2;
        auto found = s_->search(call, candidate, by_id, false);
        if (found && found->matches.size() == 1) wanted.emplace_back(candidate, found->matches[0].id);
      }
    }
    for (const auto& [t, id] : wanted) {
      if (!seen.insert(t + "/" + id).second) continue;
      if (!ctx.principal->may(t, Access::kRead)) {
        warnings.push_back("_include of " + t + "/" + id + " left out: the client lacks system/" + t + ".read");
        continue;
      }
      Lookup l = s_->lookup(call, t, id);
      if (l.kind != Lookup::Kind::kFound) continue;
      Service::patients_of(l.found->resource, &patients);
      b.add_search_result(l.found->resource, full_url(call, t, id), true);
    }
    // _revinclude: what refers to the matches (a bounded number per page).
    constexpr std::size_t kMaxRevincluded = 1000;
    std::size_t revincluded = 0;
    for (const fhir::IncludeParam& inc : request.revincludes) {
      if (!ctx.principal->may(inc.source_type, Access::kRead)) {
        warnings.push_back("_revinclude=" + inc.source_type + ":" + inc.param +
                           " left out: the client lacks system/" + inc.source_type + ".read");
        continue;
      }
      if (inc.source_type == "Provenance") {
        // The Provenance of each match's current version (the page knows their ids), rendered as
        // a read shows them; older versions' are found by Provenance?target=.
        ProvenanceCites cites;
        for (std::size_t i = 0; i < page->matches.size(); ++i)
          if (const auto* rule = page->matches[i].rule)
            cites.emplace_back(rule->entity, page->entity_ids[i], page->provenance[i]);
        for (const mapping::RenderedResource& x : cited_provenance(*s_, call, cites, ProvenanceTargets::kAll)) {
          if (!seen.insert("Provenance/" + x.id).second) continue;
          if (++revincluded > kMaxRevincluded) {
            warnings.push_back("_revinclude=Provenance:target was cut off at " + std::to_string(kMaxRevincluded) +
                               " resources");
            break;
          }
          b.add_search_result(x.json, full_url(call, "Provenance", x.id), true);
        }
        continue;
      }
      for (const mapping::RenderedResource& r : page->matches) {
        fhir::SearchRequest sub;
        fhir::SearchParam p;
        p.name = inc.param;
        p.type = fhir::SearchParamType::kReference;
        p.references.push_back({type, r.id});
        sub.params.push_back(std::move(p));
        sub.count = 1000;
        auto found = s_->search(call, inc.source_type, sub, false);
        if (!found) continue;
        for (const mapping::RenderedResource& x : found->matches) {
          if (!seen.insert(inc.source_type + "/" + x.id).second) continue;
          if (++revincluded > kMaxRevincluded) break;
          Service::patients_of(x.json, &patients);
          b.add_search_result(x.json, full_url(call, inc.source_type, x.id), true);
        }
        if (!found->next_cursor.empty() || revincluded > kMaxRevincluded)
          warnings.push_back("_revinclude=" + inc.source_type + ":" + inc.param + " was cut off at " +
                             std::to_string(std::min(revincluded, kMaxRevincluded)) + " resources");
      }
    }
    auto doc = b.finish();
    if (!doc) return respond(s_->fail(call, 500, fhir::IssueType::kException, doc.error().to_string()));
    for (const std::string& w : page->warnings) warnings.push_back(w);
    if (!warnings.empty()) add_outcome_entry(*doc, warnings);
    if (!s_->audit(call, kSearchType, "success", patients))
      return respond(s_->fail(call, 503, fhir::IssueType::kTransient, "the audit trail cannot be written; try again"));
    respond(resource_response(200, *doc, call.how, call.model()));
  }

  void audit_events(const HttpRequest& req, const RequestContext& ctx, Respond respond) const {
    Call call;
    if (!s_->begin(call, req, ctx, respond)) return;
    std::string patient;
    std::int64_t after = 0, count = 50;
    for (const auto& [k, v] : call.params) {
      if (k == "patient" || k == "entity") {
        auto ref = fhir::parse_reference(v);
        if (!ref || (!ref->type.empty() && ref->type != "Patient"))
          return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, k + "=" + v + ": expected Patient/id or id"));
        patient = ref->id;
      } else if (k == "_count") {
        if (!parse_int(v, &count) || count < 1 || count > 1000)
          return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, "_count=" + v + ": expected 1 to 1000"));
      } else if (k == "_cursor") {
        if (!parse_int(v, &after) || after < 0)
          return respond(s_->fail(call, 400, fhir::IssueType::kInvalid, "_cursor=" + v + " is not a cursor of this search"));
      } else if (k != "_format" && k != "_pretty") {
        const std::string why = k + " is not a search parameter of AuditEvent on this server (supported: patient, entity)";
        if (req.header("prefer").find("handling=lenient") == std::string_view::npos)
          return respond(s_->fail(call, 400, fhir::IssueType::kNotSupported, why));
      }
    }
    auto records = s_->store().list_audit(after, static_cast<int>(count) + 1, patient);
    if (!records) return respond(s_->fail(call, 500, fhir::IssueType::kException, "the audit trail could not be read"));
    fhir::BundleBuilder b(fhir::BundleType::kSearchset);
    b.id(store::new_entity_id());
    b.timestamp(now_instant());
    auto link_url = [&](std::int64_t cursor) {
      auto params = call.params;
      std::erase_if(params, [](const auto& p) { return p.first == "_cursor"; });
      if (cursor > 0) params.emplace_back("_cursor", std::to_string(cursor));
      return call.base + "/AuditEvent" + (params.empty() ? "" : "?" + encode_query(params));
    };
    b.link("self", link_url(after));
    const bool more = records->size() > static_cast<size_t>(count);
    if (more) records->pop_back();
    if (more && !records->empty()) b.link("next", link_url(records->back().seq));
    for (const store::AuditRecord& r : *records) {
      rapidjson::Document ev = audit_event(r);
      b.add_search_result(ev, full_url(call, "AuditEvent", std::to_string(r.seq)));
    }
    auto doc = b.finish();
    if (!doc) return respond(s_->fail(call, 500, fhir::IssueType::kException, doc.error().to_string()));
    respond(resource_response(200, *doc, call.how, call.model()));
  }

 private:
  // A searchset Bundle as compact JSON: the envelope `b` holds (id, timestamp, total, links)
  // written as a document, then one entry per match with its text spliced in, in the order and
  // form BundleBuilder::add_search_result gives ({"fullUrl", "resource", "search": match}).
  // REQUIRES: no match is `plain` (the model would not have written the Bundle either).
  HttpResponse search_text_response(const Call& call, const std::string& type, fhir::BundleBuilder& b,
                                    const std::vector<const CachedResource*>& matches) const {
    auto doc = b.finish();
    if (!doc) return s_->fail(call, 500, fhir::IssueType::kException, doc.error().to_string());
    HttpResponse r = resource_response(200, *doc, call.how, call.model());
    if (matches.empty() || r.status != 200 || r.body.empty() || r.body.back() != '}') return r;
    // "http://host" as a JSON string without its closing quote; type and ids need no escapes.
    std::string url_prefix = json_string_literal(call.base + "/" + type + "/");
    url_prefix.pop_back();
    std::size_t size = r.body.size() + 16;
    for (const CachedResource* c : matches) size += url_prefix.size() + c->id.size() + c->json.size() + 64;
    std::string out;
    out.reserve(size);
    out.append(r.body, 0, r.body.size() - 1);
    out += ",\"entry\":[";
    bool first = true;
    for (const CachedResource* c : matches) {
      if (!first) out += ',';
      first = false;
      out += "{\"fullUrl\":";
      out += url_prefix;
      out += c->id;
      out += "\",\"resource\":";
      out += c->json;
      out += ",\"search\":{\"mode\":\"match\"}}";
    }
    out += "]}";
    r.body = std::move(out);
    return r;
  }

  // The Patients a Provenance names as targets (what a search of it touches, for the audit).
  static void target_patients(const Value& provenance, std::vector<std::string>* out) {
    auto m = provenance.FindMember("target");
    if (m == provenance.MemberEnd() || !m->value.IsArray()) return;
    for (const Value& t : m->value.GetArray())
      if (auto ref = literal_reference(t); ref && ref->first == "Patient" &&
                                           std::find(out->begin(), out->end(), ref->second) == out->end())
        out->push_back(ref->second);
  }

  static std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  // A merged-away Patient says which record replaced it (FHIR Patient.link replaced-by).
  void mark_merged(const Call& call, const std::string& id, rapidjson::Document& res) const {
    auto survivor = s_->store().resolve_patient(id);
    if (!survivor || *survivor == id) return;
    auto& a = res.GetAllocator();
    const std::string ref = "Patient/" + *survivor;
    if (res.HasMember("link"))
      for (const Value& l : res["link"].GetArray())
        if (str(l, "type") == "replaced-by") return;
    if (!res.HasMember("link")) res.AddMember("link", Value(rapidjson::kArrayType), a);
    Value l(rapidjson::kObjectType);
    Value other(rapidjson::kObjectType);
    other.AddMember("reference", Value(ref.c_str(), a), a);
    l.AddMember("other", other, a);
    l.AddMember("type", "replaced-by", a);
    res["link"].PushBack(l, a);
    (void)call;
  }

  Result<std::int64_t, std::pair<int, std::string>> count_all(const Call& call, const std::string& type,
                                                              const fhir::SearchRequest& request) const {
    fhir::SearchRequest r = request;
    r.summary = fhir::SummaryMode::kNone;
    r.count = 1000;
    auto first = s_->search(call, type, r, true);
    if (!first) return err(first.error());
    if (first->total) return *first->total;
    // Filters on rendered resources: walk every page (bounded by the store's size).
    std::int64_t n = static_cast<std::int64_t>(first->matches.size());
    std::string cursor = first->next_cursor;
    while (!cursor.empty()) {
      r.cursor = cursor;
      auto page = s_->search(call, type, r, false);
      if (!page) return err(page.error());
      n += static_cast<std::int64_t>(page->matches.size());
      cursor = page->next_cursor;
    }
    return n;
  }

  static void add_outcome_entry(rapidjson::Document& bundle, const std::vector<std::string>& warnings) {
    auto& a = bundle.GetAllocator();
    std::vector<fhir::Issue> issues;
    for (const std::string& w : warnings) issues.push_back({fhir::Severity::kWarning, fhir::IssueType::kNotSupported, "", w});
    Value oo = fhir::make_operation_outcome(issues, a);
    Value e(rapidjson::kObjectType);
    e.AddMember("resource", oo, a);
    Value search(rapidjson::kObjectType);
    search.AddMember("mode", "outcome", a);
    e.AddMember("search", search, a);
    if (!bundle.HasMember("entry")) bundle.AddMember("entry", Value(rapidjson::kArrayType), a);
    bundle["entry"].PushBack(e, a);
  }

  // An audit record as a FHIR AuditEvent (https://hl7.org/fhir/R4/auditevent.html).
  static rapidjson::Document audit_event(const store::AuditRecord& r) {
    static const std::set<std::string> kRestful = {"read", "vread", "update", "patch", "delete", "history",
                                                   "history-instance", "history-type", "history-system", "create",
                                                   "search", "search-type", "search-system", "capabilities",
                                                   "transaction", "batch", "operation"};
    rapidjson::Document ev(rapidjson::kObjectType);
    auto& a = ev.GetAllocator();
    auto coding = [&](const char* system, const std::string& code, const char* display) {
      Value c(rapidjson::kObjectType);
      c.AddMember("system", Value(system, a), a);
      c.AddMember("code", Value(code.c_str(), a), a);
      if (display) c.AddMember("display", Value(display, a), a);
      return c;
    };
    ev.AddMember("resourceType", "AuditEvent", a);
    ev.AddMember("id", Value(std::to_string(r.seq).c_str(), a), a);
    const bool restful = kRestful.count(r.interaction) > 0;
    if (restful) {
      ev.AddMember("type", coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"), a);
      Value sub(rapidjson::kArrayType);
      sub.PushBack(coding("http://hl7.org/fhir/restful-interaction", r.interaction, nullptr), a);
      ev.AddMember("subtype", sub, a);
    } else {
      // Inbound messages and other non-REST work: DICOM "Patient Record" activity.
      ev.AddMember("type", coding("http://dicom.nema.org/resources/ontology/DCM", "110110", "Patient Record"), a);
    }
    const bool reads = r.interaction.starts_with("read") || r.interaction == "vread" ||
                       r.interaction.starts_with("search") || r.interaction.starts_with("history") ||
                       r.interaction == "operation";
    const char* action = reads ? "R" : r.interaction == "create" ? "C" : r.interaction == "update" ? "U" : r.interaction == "delete" ? "D" : "E";
    ev.AddMember("action", Value(action, a), a);
    ev.AddMember("recorded", Value(r.time.c_str(), a), a);
    const bool success = r.outcome == "success" || r.outcome.empty();
    const char* outcome = success ? "0" : (!r.outcome.empty() && r.outcome[0] == '5') ? "8" : "4";
    ev.AddMember("outcome", Value(outcome, a), a);
    if (!success) ev.AddMember("outcomeDesc", Value(r.outcome.c_str(), a), a);
    Value agents(rapidjson::kArrayType);
    Value agent(rapidjson::kObjectType);
    Value who(rapidjson::kObjectType);
    who.AddMember("display", Value(r.client.empty() ? "unknown" : r.client.c_str(), a), a);
    agent.AddMember("who", who, a);
    agent.AddMember("requestor", true, a);
    agents.PushBack(agent, a);
    ev.AddMember("agent", agents, a);
    Value source(rapidjson::kObjectType);
    Value observer(rapidjson::kObjectType);
    observer.AddMember("display", "Midhurst gateway", a);
    source.AddMember("observer", observer, a);
    ev.AddMember("source", source, a);
    Value entities(rapidjson::kArrayType);
    for (const std::string& p : r.patients) {
      Value e(rapidjson::kObjectType);
      Value what(rapidjson::kObjectType);
      what.AddMember("reference", Value(("Patient/" + p).c_str(), a), a);
      e.AddMember("what", what, a);
      e.AddMember("type", coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"), a);
      entities.PushBack(e, a);
    }
    if (!r.detail.empty()) {
      Value e(rapidjson::kObjectType);
      e.AddMember("type", coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"), a);
      e.AddMember("description", Value(r.detail.c_str(), a), a);
      entities.PushBack(e, a);
    }
    if (!entities.Empty()) ev.AddMember("entity", entities, a);
    return ev;
  }

  std::shared_ptr<const Service> s_;
};

}  // namespace
}  // namespace rest

void add_fhir_rest_routes(HttpApp& app, const FhirRestDeps& deps) {
  auto service = std::make_shared<const rest::Service>(deps);
  auto h = std::make_shared<const rest::Handlers>(service);
  // HttpApp writes /metadata in XML with the model of the profiles being served.
  app.set_model_source([renderer = deps.renderer]() -> std::shared_ptr<const fhir::Model> {
    std::shared_ptr<const mapping::FhirRenderer> r = renderer ? renderer() : nullptr;
    const fhir::Model* model = r ? r->profiles().fhir_model() : nullptr;
    if (!model) return nullptr;
    return std::shared_ptr<const fhir::Model>(r, model);  // keeps the renderer's profiles alive
  });
  if (AuditWriter* audit = deps.audit) {
    // Read at scrape time: keeping a gauge current would put a shared write on every request.
    Gauge& depth = app.metrics()
                       .registry
                       .gauge("midhurst_audit_queue_depth",
                              "Audit records waiting to be committed (queued or being committed); "
                              "requests get 503 when it reaches the writer's limit")
                       .get();
    app.metrics().registry.on_expose([audit, &depth] { depth.set(static_cast<double>(audit->depth())); });
  }
  if (RenderCache* cache = deps.render_cache; cache && cache->enabled()) {
    // Read at scrape time from the cache's own counters (kept under its shard locks).
    auto& reg = app.metrics().registry;
    Counter& hits = reg.counter("midhurst_render_cache_hits_total",
                                "FHIR reads and search matches served from the rendered-resource cache").get();
    Counter& misses = reg.counter("midhurst_render_cache_misses_total",
                                  "FHIR reads and search matches rendered because the cache did not hold them").get();
    Gauge& bytes = reg.gauge("midhurst_render_cache_bytes",
                             "Bytes the rendered-resource cache holds (bounded by http.render_cache_mib)").get();
    Gauge& entries = reg.gauge("midhurst_render_cache_entries", "Renders the rendered-resource cache holds").get();
    reg.on_expose([cache, &hits, &misses, &bytes, &entries] {
      const RenderCacheStats s = cache->stats();
      hits.inc(static_cast<double>(s.hits) - hits.value());
      misses.inc(static_cast<double>(s.misses) - misses.value());
      bytes.set(static_cast<double>(s.bytes));
      entries.set(static_cast<double>(s.entries));
    });
  }
  const std::vector<std::string>& types = deps.types.empty() ? kDefaultFhirTypes : deps.types;
  auto add = [&](std::string method, std::string pattern, std::string type, Handler handler,
                 std::vector<std::string> content_types = {}) {
    Route r;
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.resource = std::move(type);
    r.access = Access::kRead;
    r.fhir = false;  // these handlers negotiate JSON and XML themselves
    r.content_types = std::move(content_types);
    r.handler = std::move(handler);
    app.add(std::move(r));
  };
  for (const std::string& t : types) {
    // Literal segments before {id}: the first matching route wins.
    add("GET", "/" + t + "/_history", t, [h, t](auto& q, auto& c, Respond r) { h->history(q, c, std::move(r), t, false); });
    add("POST", "/" + t + "/_search", t, [h, t](auto& q, auto& c, Respond r) { h->search(q, c, std::move(r), t, true); },
        {"application/x-www-form-urlencoded"});
    add("GET", "/" + t, t, [h, t](auto& q, auto& c, Respond r) { h->search(q, c, std::move(r), t, false); });
    add("GET", "/" + t + "/{id}", t, [h, t](auto& q, auto& c, Respond r) { h->read(q, c, std::move(r), t, 0); });
    add("GET", "/" + t + "/{id}/_history", t,
        [h, t](auto& q, auto& c, Respond r) { h->history(q, c, std::move(r), t, true); });
    add("GET", "/" + t + "/{id}/_history/{vid}", t,
        [h, t](auto& q, auto& c, Respond r) { h->read(q, c, std::move(r), t, 0); });
  }
  add("GET", "/AuditEvent", "AuditEvent", [h](auto& q, auto& c, Respond r) { h->audit_events(q, c, std::move(r)); });
  rest::add_summary_routes(app, service);
}

}  // namespace midhurst::server
