// The rendered-resource cache (render_cache.h): alone (bound, LRU order, renderer identity) and
// behind the FHIR REST routes over a real SQLite store, where a hit must answer the very bytes
// a miss does and a new version or a new renderer must never be answered from it.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "server/fhir_rest_test_env.h"

namespace midhurst::server {
namespace {

using store::EntityWrite;
using store::test::nhs_number;
using store::test::patient;
using testing::Reply;
using testing::RestEnv;

std::shared_ptr<const mapping::FhirRenderer> new_renderer() {
  auto r = mapping::FhirRenderer::create(testing::care_fhir_profiles());
  REQUIRE(r.ok());
  return *r;
}

// `n` letters that repeat nothing (so that the cache's coding cannot shorten them), by seed.
std::string unrepeated(std::size_t n, std::uint64_t seed) {
  std::string out;
  out.reserve(n);
  for (std::uint64_t x = seed * 2654435761u + 1; out.size() < n;) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out.push_back(static_cast<char>('a' + x % 26));
  }
  return out;
}

std::shared_ptr<const CachedRender> one(std::string id, std::size_t text_bytes) {
  auto v = std::make_shared<CachedRender>();
  CachedResource c;
  c.json = unrepeated(text_bytes, std::hash<std::string>{}(id));
  c.id = std::move(id);
  c.patients = {"p"};
  v->push_back(std::move(c));
  return v;
}

// A render as the gateway makes them: several resources of two rules, JSON texts that share most
// of their bytes with each other, ids and patients (one the resource's own id).
std::shared_ptr<const CachedRender> patient_like(int n, const mapping::ServedRule* rule,
                                                 const mapping::ServedRule* other) {
  auto v = std::make_shared<CachedRender>();
  for (int k = 0; k < 3; ++k) {
    CachedResource c;
    c.rule = k == 2 ? other : rule;
    c.id = "id-" + std::to_string(n) + "-" + std::to_string(k);
    c.item = static_cast<std::size_t>(k) * 1000003u;
    c.plain = k == 1;
    c.json = R"({"resourceType":"Patient","id":")" + c.id +
             R"(","meta":{"versionId":"1","profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},)"
             R"("identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":")" +
             std::to_string(4000000000 + n * 7) + R"("}],"name":[{"family":")" + unrepeated(3 + n % 11, n) +
             R"(","given":["Anna"]}],"text":"é\"")" + std::string(n % 5, '"') + "}";
    c.patients = {c.id, "other-" + std::to_string(n), ""};
    if (k == 2) c.patients.clear();
    v->push_back(std::move(c));
  }
  return v;
}

void check_same(const CachedRender& got, const CachedRender& put) {
  REQUIRE(got.size() == put.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].rule == put[i].rule);
    CHECK(got[i].id == put[i].id);
    CHECK(got[i].item == put[i].item);
    CHECK(got[i].plain == put[i].plain);
    CHECK(got[i].json == put[i].json);
    CHECK(got[i].patients == put[i].patients);
  }
}

RenderKey key(const std::string& id, std::int64_t version = 1, std::string_view type = "Patient") {
  return RenderKey{care::EntityType::kPatient, id, version, type, id};
}

// A metric's value in the /metrics text (0 when absent).
double metric(RestEnv& env, const std::string& name) {
  const std::string text = env.registry.expose();
  const std::string at = "\n" + name + " ";
  const size_t p = text.find(at);
  if (p == std::string::npos) return 0;
  return std::stod(text.substr(p + at.size()));
}

// Blanks the text after the first (or every) `marker` up to the next '"' or '&'.
void blank_after(std::string* body, std::string_view marker, bool every) {
  for (size_t p = body->find(marker); p != std::string::npos; p = body->find(marker, p + 1)) {
    const size_t start = p + marker.size();
    body->replace(start, body->find_first_of("\"&", start) - start, "-");
    if (!every) break;
  }
}

// Blanks the string value of the first (or every) member `name`, compact or pretty.
void blank(std::string* body, std::string_view name, bool every) {
  blank_after(body, "\"" + std::string(name) + "\":\"", every);
  blank_after(body, "\"" + std::string(name) + "\": \"", every);
}

// A resource's text without its write times (two stores written a moment apart differ there,
// and so do page cursors, which carry them).
std::string without_times(std::string body) {
  blank(&body, "lastUpdated", true);
  blank_after(&body, "_cursor=", true);
  return body;
}

// A searchset's text with its per-request parts (Bundle id and timestamp) blanked too.
std::string without_envelope_ids(std::string body) {
  blank(&body, "id", false);  // the Bundle's own come first
  blank(&body, "timestamp", false);
  return without_times(body);
}

TEST_CASE("render cache: keeps and answers by key, per version, resource type and id") {
  RenderCache cache(1 << 20);
  auto r = new_renderer();
  CHECK(cache.get(r.get(), key("a")) == nullptr);
  cache.put(r, key("a"), one("a", 100));
  auto hit = cache.get(r.get(), key("a"));
  REQUIRE(hit);
  CHECK(hit->at(0).id == "a");
  CHECK(cache.get(r.get(), key("a", 2)) == nullptr);
  CHECK(cache.get(r.get(), key("a", 1, "Flag")) == nullptr);
  CHECK(cache.get(r.get(), RenderKey{care::EntityType::kPatient, "a", 1, "Patient", ""}) == nullptr);
  CHECK(cache.get(r.get(), RenderKey{care::EntityType::kEncounter, "a", 1, "Patient", "a"}) == nullptr);
  const RenderCacheStats s = cache.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 5);
  CHECK(s.entries == 1);
  CHECK(s.bytes >= 100);
}

TEST_CASE("render cache: the byte bound holds and the least recently used go first") {
  const std::size_t bound = 64 << 10;
  RenderCache cache(bound, 1);
  auto r = new_renderer();
  cache.put(r, key("first"), one("first", 1000));
  for (int i = 0; i < 500; ++i) {
    cache.put(r, key("k" + std::to_string(i)), one("k" + std::to_string(i), 1000));
    REQUIRE(cache.get(r.get(), key("first")));  // kept in use: never the oldest
    CHECK(cache.stats().bytes <= bound);
  }
  CHECK(cache.get(r.get(), key("k0")) == nullptr);  // evicted
  CHECK(cache.get(r.get(), key("k499")));
  CHECK(cache.stats().evictions > 400);
  // An entry larger than the bound is not kept at all.
  cache.put(r, key("huge"), one("huge", bound + 1));
  CHECK(cache.get(r.get(), key("huge")) == nullptr);
  CHECK(cache.stats().bytes <= bound);
}

TEST_CASE("render cache: another renderer misses, and its first entry replaces the old ones") {
  RenderCache cache(1 << 20, 1);
  auto old_renderer = new_renderer();
  auto reloaded = new_renderer();
  cache.put(old_renderer, key("a"), one("a", 10));
  CHECK(cache.get(reloaded.get(), key("a")) == nullptr);
  cache.put(reloaded, key("b"), one("b", 10));
  CHECK(cache.get(old_renderer.get(), key("a")) == nullptr);
  CHECK(cache.get(reloaded.get(), key("b")));
  CHECK(cache.stats().entries == 1);
}

TEST_CASE("render cache: a hit answers exactly what was put, coded against the first render of its rule") {
  RenderCache cache(std::size_t{4} << 20, 2);
  auto r = new_renderer();
  // Two distinct rule identities (the cache only compares their addresses).
  const auto* rule = reinterpret_cast<const mapping::ServedRule*>(&cache);
  const auto* other = reinterpret_cast<const mapping::ServedRule*>(&r);
  std::size_t raw = 0;
  for (int n = 0; n < 300; ++n) {
    auto v = patient_like(n, rule, other);
    for (const CachedResource& c : *v) raw += c.json.size();
    cache.put(r, key("p" + std::to_string(n)), v);
  }
  for (int n = 0; n < 300; ++n) {
    INFO(n);
    auto hit = cache.get(r.get(), key("p" + std::to_string(n)));
    REQUIRE(hit);
    check_same(*hit, *patient_like(n, rule, other));
  }
  // Texts that repeat nothing, and empty ones, come back as they were too.
  auto odd = std::make_shared<CachedRender>();
  for (std::size_t size : {0u, 1u, 7u, 8u, 9u, 5000u}) {
    CachedResource c;
    c.rule = rule;
    c.id = "odd";
    c.json = unrepeated(size, size);
    odd->push_back(std::move(c));
  }
  cache.put(r, key("odd"), odd);
  auto hit = cache.get(r.get(), key("odd"));
  REQUIRE(hit);
  check_same(*hit, *odd);
  // Similar texts take far less than they would as they are (the point of the coding).
  CHECK(cache.stats().entries == 301);
  CHECK(cache.stats().bytes < raw);
}

TEST_CASE("render cache: a bound of 0 keeps nothing") {
  RenderCache cache(0);
  auto r = new_renderer();
  CHECK_FALSE(cache.enabled());
  cache.put(r, key("a"), one("a", 10));
  CHECK(cache.get(r.get(), key("a")) == nullptr);
  CHECK(cache.stats().entries == 0);
}

TEST_CASE("fhir rest cache: a hit answers the same bytes as a miss and as no cache") {
  RestEnv env;
  RestEnv off(testing::care_fhir_profiles(), nullptr, 0);
  for (RestEnv* e : {&env, &off}) {
    e->write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01", care::AdministrativeGender::kFemale))});
    e->write({EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});
    e->write({EntityWrite::put(testing::eol_plan("e1", "p1"))});
  }
  const auto flags = testing::entry_refs(off.get("/Flag?patient=Patient/p1").json);
  REQUIRE_FALSE(flags.empty());
  const std::vector<std::string> targets = {"/Patient/p1", "/Flag?patient=Patient/p1", "/" + flags[0],
                                            "/" + flags.back() + "/_history/1"};
  for (const std::string& target : targets) {
    INFO(target);
    Reply miss = env.get(target);
    Reply hit = env.get(target);
    Reply plain = off.get(target);
    REQUIRE(miss.status() == 200);
    CHECK(hit.status() == 200);
    CHECK(hit.r.content_type == plain.r.content_type);
    if (target.find('?') == std::string::npos) {
      CHECK(hit.r.body == miss.r.body);
      CHECK(without_times(hit.r.body) == without_times(plain.r.body));
      CHECK(hit.header("ETag") == plain.header("ETag"));
      CHECK(hit.header("Last-Modified") == miss.header("Last-Modified"));
    } else {
      CHECK(without_envelope_ids(hit.r.body) == without_envelope_ids(miss.r.body));
      CHECK(without_envelope_ids(hit.r.body) == without_envelope_ids(plain.r.body));
    }
  }
  // Searches of several matches, with total and links, spliced from cached text or not.
  for (const char* target : {"/Patient?_count=1", "/Patient?_sort=_id", "/Patient?identifier=" "https://fhir.nhs.uk/Id/nhs-number|",
                             "/Patient?name=nobody"}) {
    INFO(target);
    env.get(target);
    Reply hit = env.get(target);
    Reply plain = off.get(target);
    REQUIRE(hit.status() == 200);
    CHECK(without_envelope_ids(hit.r.body) == without_envelope_ids(plain.r.body));
  }
  CHECK(metric(env, "midhurst_render_cache_hits_total") > 0);
  CHECK(metric(env, "midhurst_render_cache_misses_total") > 0);
  CHECK(metric(env, "midhurst_render_cache_bytes") > 0);
  // XML and _pretty are written from documents as before.
  CHECK(without_times(env.get("/Patient/p1?_pretty=true").r.body) ==
        without_times(off.get("/Patient/p1?_pretty=true").r.body));
  Reply xml = env.get("/Patient/p1?_format=xml");
  CHECK(xml.r.content_type.starts_with("application/fhir+xml"));
  CHECK(xml.r.body.find("<Patient xmlns=\"http://hl7.org/fhir\">") != std::string::npos);
  // Each read is still audited, hit or not.
  REQUIRE(env.audit->flush());
  auto trail = env.store->list_audit(0, 1000, "p1");
  REQUIRE(trail.ok());
  std::size_t reads = 0;
  for (const store::AuditRecord& a : *trail) reads += a.interaction == "read" ? 1 : 0;
  CHECK(reads >= 4);
}

// A searchset's members that do not depend on the request's form: its links carry the query
// (`_pretty` among it) and its id, meta and timestamp are made per request.
rapidjson::Document searchset_content(const Reply& reply) {
  rapidjson::Document d;
  d.CopyFrom(reply.json, d.GetAllocator());
  for (const char* name : {"id", "meta", "timestamp", "link"}) d.RemoveMember(name);
  return d;
}

TEST_CASE("fhir rest cache: a spliced searchset holds what the document-built one holds") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01", care::AdministrativeGender::kFemale))});
  env.write({EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});
  env.write({EntityWrite::put(testing::eol_plan("e1", "p1"))});
  // Compact JSON is spliced from the cache's text; _pretty builds the Bundle as a document.
  for (const std::string target : {"/Patient?_sort=_id", "/Patient?_count=1&_total=accurate", "/Flag?patient=Patient/p1",
                                   "/Observation?patient=Patient/p1", "/Patient?name=nobody"}) {
    INFO(target);
    env.get(target);  // fills the cache
    Reply spliced = env.get(target);
    Reply built = env.get(target + "&_pretty=true");
    REQUIRE(spliced.status() == 200);
    REQUIRE(built.status() == 200);
    REQUIRE(spliced.json.IsObject());
    REQUIRE(built.json.IsObject());
    CHECK(spliced.r.body.find('\n') == std::string::npos);
    // rapidjson compares objects member by member, whatever their order.
    CHECK(searchset_content(spliced) == searchset_content(built));
    const auto entries = [](const Reply& r) { return r.json.HasMember("entry") ? r.json["entry"].Size() : 0u; };
    CHECK(entries(spliced) == entries(built));
    if (target == "/Patient?_sort=_id") CHECK(entries(spliced) == 2);
  }
}

TEST_CASE("fhir rest cache: a new version is never answered from the cache") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  Reply v1 = env.get("/Patient/p1");
  REQUIRE(v1.status() == 200);
  CHECK(env.get("/Patient/p1").r.body == v1.r.body);  // cached now
  CHECK(env.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs_number(1)).status() == 200);

  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith-Jones", "Anna"))});
  Reply v2 = env.get("/Patient/p1");
  REQUIRE(v2.status() == 200);
  CHECK(std::string(v2.json["meta"]["versionId"].GetString()) == "2");
  CHECK(std::string(v2.json["name"][0]["family"].GetString()) == "Smith-Jones");
  CHECK(v2.header("ETag") == "W/\"2\"");
  Reply found = env.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs_number(1));
  REQUIRE(found.status() == 200);
  CHECK(std::string(found.json["entry"][0]["resource"]["name"][0]["family"].GetString()) == "Smith-Jones");
  // The old version is still served as itself by vread.
  CHECK(std::string(env.get("/Patient/p1/_history/1").json["name"][0]["family"].GetString()) == "Smith");
  // A tombstone is read from the store, not the cache.
  env.write({EntityWrite::remove(care::EntityType::kPatient, "p1")});
  CHECK(env.get("/Patient/p1").status() == 410);
}

// `text` (a $summary of `reply`) with what each request makes anew (the Bundle's and the
// Composition's ids, the time) replaced by "-".
std::string without_made(std::string text, const Reply& reply) {
  for (const std::string& made : {std::string(reply.json["id"].GetString()),
                                  std::string(reply.json["entry"][0]["resource"]["id"].GetString()),
                                  std::string(reply.json["timestamp"].GetString())})
    for (size_t at = text.find(made); at != std::string::npos; at = text.find(made, at + 1)) text.replace(at, made.size(), "-");
  return text;
}

// A $summary parsed and written as compact JSON, without what each request makes anew.
std::string summary_text(const Reply& reply) {
  REQUIRE(reply.status() == 200);
  REQUIRE(reply.json.IsObject());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  reply.json.Accept(w);
  return without_made(std::string(buf.GetString(), buf.GetSize()), reply);
}

TEST_CASE("fhir rest cache: a $summary from the cached Patient text holds what one from its render holds") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "O'Brien \"Jo\"", "Anna", "1950-03-01",
                                      care::AdministrativeGender::kFemale))});
  env.write({EntityWrite::put(testing::eol_plan("e1", "p1"))});
  env.write({EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});
  for (const std::string id : {"p1", "p2"}) {
    INFO(id);
    const std::string target = "/Patient/" + id + "/$summary";
    Reply cold = env.get(target);             // the Patient rendered for the cache, its text parsed back
    Reply warm = env.get(target);             // from the cache
    Reply rendered = env.get(target + "?_pretty=true");  // a document: rendered, never from text
    const RenderCacheStats s = env.cache->stats();
    CHECK(s.hits >= 1);
    CHECK(summary_text(warm) == summary_text(rendered));
    CHECK(summary_text(cold) == summary_text(rendered));
    // The compact answer's bytes are the rendered one's written compact: the same member order.
    CHECK(without_made(warm.r.body, warm) == summary_text(rendered));
  }
  // Each summary is audited with the patients it holds.
  REQUIRE(env.audit->flush());
  auto trail = env.store->list_audit(0, 1000, "p1");
  REQUIRE(trail.ok());
  std::size_t operations = 0;
  for (const store::AuditRecord& a : *trail) operations += a.interaction == "operation" ? 1 : 0;
  CHECK(operations == 3);
}

TEST_CASE("fhir rest cache: a profile reload (a new renderer) misses") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  Reply first = env.get("/Patient/p1");
  env.get("/Patient/p1");
  const RenderCacheStats before = env.cache->stats();
  CHECK(before.hits == 1);
  env.renderer = new_renderer();
  Reply after = env.get("/Patient/p1");
  CHECK(after.r.body == first.r.body);
  const RenderCacheStats s = env.cache->stats();
  CHECK(s.hits == before.hits);
  CHECK(s.misses == before.misses + 1);
  env.get("/Patient/p1");
  CHECK(env.cache->stats().hits == before.hits + 1);
}

TEST_CASE("fhir rest cache: the byte bound holds under many patients, and a cache of 0 bytes is off") {
  const std::size_t bound = 32 << 10;
  RestEnv env(testing::care_fhir_profiles(), nullptr, bound);
  RestEnv off(testing::care_fhir_profiles(), nullptr, 0);
  std::vector<EntityWrite> writes;
  for (int i = 0; i < 200; ++i)
    writes.push_back(EntityWrite::put(patient("p" + std::to_string(i), nhs_number(i), "Smith", "Anna")));
  env.write(writes);
  off.write(writes);
  for (int i = 0; i < 200; ++i) {
    const std::string target = "/Patient/p" + std::to_string(i);
    Reply a = env.get(target);
    Reply b = off.get(target);
    REQUIRE(a.status() == 200);
    CHECK(without_times(a.r.body) == without_times(b.r.body));
  }
  const RenderCacheStats s = env.cache->stats();
  CHECK(s.bytes <= bound);
  CHECK(s.evictions > 0);
  CHECK(metric(env, "midhurst_render_cache_bytes") <= static_cast<double>(bound));
  // Off: nothing kept, no cache series.
  CHECK(off.cache->stats().entries == 0);
  CHECK(off.registry.expose().find("midhurst_render_cache") == std::string::npos);
}

}  // namespace
}  // namespace midhurst::server
