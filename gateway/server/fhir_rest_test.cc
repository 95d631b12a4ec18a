// The FHIR REST read API through HttpApp's handler (no sockets) over a real SQLite store and the
// shipped care→fhir profiles: read, vread, history, search, include/revinclude, paging,
// formats, errors, audit, $everything and $summary.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <thread>

#include "fhir/json.h"
#include "fhir/xml.h"
#include "server/fhir_rest_format.h"
#include "server/fhir_rest_internal.h"
#include "server/fhir_rest_test_env.h"
#include "store/fault.h"

namespace midhurst::server {
namespace {

using store::EntityWrite;
using store::test::nhs_number;
using store::test::patient;
using testing::entry_refs;
using testing::eol_plan;
using testing::link;
using testing::Reply;
using testing::RestEnv;

constexpr const char* kNhs = "https://fhir.nhs.uk/Id/nhs-number";

// The target of a link URL (scheme and host dropped).
std::string target_of(const std::string& url) {
  const std::string base = "http://gw.test";
  REQUIRE(url.starts_with(base));
  return url.substr(base.size());
}

void check_outcome(const Reply& r, int status, std::string_view code, std::string_view mentions = "") {
  INFO(r.r.body);
  CHECK(r.status() == status);
  REQUIRE(r.json.IsObject());
  CHECK(std::string(r.json["resourceType"].GetString()) == "OperationOutcome");
  CHECK(std::string(r.json["issue"][0]["code"].GetString()) == code);
  if (!mentions.empty()) CHECK(r.r.body.find(mentions) != std::string::npos);
}

TEST_CASE("fhir rest: read answers the rendered Patient with ETag and Last-Modified; 304, 404, 410") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01", care::AdministrativeGender::kFemale))});

  Reply r = env.get("/Patient/p1");
  INFO(r.r.body);
  REQUIRE(r.status() == 200);
  CHECK(std::string(r.json["resourceType"].GetString()) == "Patient");
  CHECK(std::string(r.json["id"].GetString()) == "p1");
  CHECK(std::string(r.json["meta"]["versionId"].GetString()) == "1");
  CHECK(std::string(r.json["identifier"][0]["value"].GetString()) == nhs_number(1));
  CHECK(r.header("ETag") == "W/\"1\"");
  CHECK(r.header("Last-Modified").ends_with(" GMT"));

  CHECK(env.get("/Patient/p1", "all", {{"if-none-match", "W/\"1\""}}).status() == 304);
  CHECK(env.get("/Patient/p1", "all", {{"if-none-match", "W/\"2\""}}).status() == 200);

  check_outcome(env.get("/Patient/nope"), 404, "not-found", "Patient/nope");

  env.write({EntityWrite::remove(care::EntityType::kPatient, "p1")});
  check_outcome(env.get("/Patient/p1"), 410, "deleted");
}

TEST_CASE("fhir rest: vread and history over versions, with a tombstone in the history") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith-Jones", "Anna"))});
  env.write({EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});

  Reply v1 = env.get("/Patient/p1/_history/1");
  REQUIRE(v1.status() == 200);
  CHECK(std::string(v1.json["name"][0]["family"].GetString()) == "Smith");
  CHECK(v1.header("ETag") == "W/\"1\"");
  Reply v2 = env.get("/Patient/p1/_history/2");
  REQUIRE(v2.status() == 200);
  CHECK(std::string(v2.json["name"][0]["family"].GetString()) == "Smith-Jones");
  check_outcome(env.get("/Patient/p1/_history/3"), 404, "not-found");
  check_outcome(env.get("/Patient/p1/_history/x"), 400, "invalid");

  Reply h = env.get("/Patient/p1/_history");
  REQUIRE(h.status() == 200);
  CHECK(std::string(h.json["type"].GetString()) == "history");
  REQUIRE(h.json["entry"].Size() == 2);
  CHECK(std::string(h.json["entry"][0]["resource"]["meta"]["versionId"].GetString()) == "2");
  CHECK(std::string(h.json["entry"][0]["request"]["method"].GetString()) == "PUT");
  CHECK(std::string(h.json["entry"][1]["request"]["method"].GetString()) == "POST");

  Reply page = env.get("/Patient/_history?_count=2");
  REQUIRE(page.status() == 200);
  REQUIRE(page.json["entry"].Size() == 2);
  const std::string next = link(page.json, "next");
  REQUIRE_FALSE(next.empty());
  Reply rest = env.get(target_of(next));
  REQUIRE(rest.status() == 200);
  CHECK(rest.json["entry"].Size() == 1);

  env.write({EntityWrite::remove(care::EntityType::kPatient, "p2")});
  Reply h2 = env.get("/Patient/p2/_history");
  REQUIRE(h2.status() == 200);
  REQUIRE(h2.json["entry"].Size() == 2);
  CHECK(std::string(h2.json["entry"][0]["request"]["method"].GetString()) == "DELETE");
  CHECK_FALSE(h2.json["entry"][0].HasMember("resource"));
  check_outcome(env.get("/Patient/nobody/_history"), 404, "not-found");
}

TEST_CASE("fhir rest: a merged-away Patient names its survivor with link replaced-by") {
  RestEnv env;
  env.write({EntityWrite::put(patient("keep", nhs_number(1), "Smith", "Anna"))});
  care::Patient old = patient("gone", "", "Smith", "Ann");
  old.identifiers.push_back(store::test::mrn("123"));
  old.replaced_by = store::test::patient_ref("keep");
  env.write({EntityWrite::put(old)});
  Reply r = env.get("/Patient/gone");
  INFO(r.r.body);
  REQUIRE(r.status() == 200);
  REQUIRE(r.json.HasMember("link"));
  bool found = false;
  for (const auto& l : r.json["link"].GetArray())
    if (std::string(l["type"].GetString()) == "replaced-by")
      found = std::string(l["other"]["reference"].GetString()) == "Patient/keep";
  CHECK(found);
}

TEST_CASE("fhir rest: Patient search by identifier, names, birthdate prefixes, gender and _id") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01", care::AdministrativeGender::kFemale)),
             EntityWrite::put(patient("p2", nhs_number(2), "Smithson", "Bob", "1960-07-15", care::AdministrativeGender::kMale)),
             EntityWrite::put(patient("p3", nhs_number(3), "Jones", "Anna", "1970-01-01", care::AdministrativeGender::kFemale))});
  auto ids = [&](const std::string& q) {
    Reply r = env.get("/Patient?" + q);
    INFO(q << " -> " << r.r.body);
    REQUIRE(r.status() == 200);
    CHECK(std::string(r.json["type"].GetString()) == "searchset");
    auto refs = entry_refs(r.json, "match");
    std::set<std::string> out;
    for (auto& s : refs) out.insert(s.substr(s.find('/') + 1));
    return out;
  };
  CHECK(ids("identifier=" + std::string(kNhs) + "|" + nhs_number(2)) == std::set<std::string>{"p2"});
  CHECK(ids("family=smith") == std::set<std::string>{"p1", "p2"});
  CHECK(ids("given=anna") == std::set<std::string>{"p1", "p3"});
  CHECK(ids("name=jon") == std::set<std::string>{"p3"});
  CHECK(ids("birthdate=1950") == std::set<std::string>{"p1"});
  CHECK(ids("birthdate=ge1960-01-01") == std::set<std::string>{"p2", "p3"});
  CHECK(ids("birthdate=lt1960-07-15") == std::set<std::string>{"p1"});
  CHECK(ids("gender=female") == std::set<std::string>{"p1", "p3"});
  CHECK(ids("gender=male,female") == std::set<std::string>{"p1", "p2", "p3"});
  CHECK(ids("_id=p2,p3") == std::set<std::string>{"p2", "p3"});
  CHECK(ids("family=smith&gender=male") == std::set<std::string>{"p2"});
  CHECK(ids("_lastUpdated=gt2000-01-01").size() == 3);

  Reply total = env.get("/Patient?family=smith");
  REQUIRE(total.json.HasMember("total"));
  CHECK(total.json["total"].GetInt() == 2);
  // A page that does not hold every match still reports them all (counted by the store).
  Reply paged = env.get("/Patient?family=smith&_count=1");
  REQUIRE(paged.json.HasMember("total"));
  CHECK(paged.json["total"].GetInt() == 2);
  CHECK(paged.json["entry"].GetArray().Size() == 1);
  Reply count = env.get("/Patient?given=anna&_summary=count");
  REQUIRE(count.status() == 200);
  CHECK(count.json["total"].GetInt() == 2);
  CHECK_FALSE(count.json.HasMember("entry"));

  Reply post = env.call("POST", "/Patient/_search", "all", {{"content-type", "application/x-www-form-urlencoded"}},
                        "family=Jones&_count=5");
  REQUIRE(post.status() == 200);
  CHECK(entry_refs(post.json, "match") == std::vector<std::string>{"Patient/p3"});
}

TEST_CASE("fhir rest: unknown parameters are 400, or a warning under Prefer: handling=lenient") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  check_outcome(env.get("/Patient?colour=blue"), 400, "not-supported", "colour");
  Reply lenient = env.get("/Patient?colour=blue&family=smith", "all", {{"prefer", "handling=lenient"}});
  REQUIRE(lenient.status() == 200);
  CHECK(entry_refs(lenient.json, "match") == std::vector<std::string>{"Patient/p1"});
  bool warned = false;
  for (const auto& e : lenient.json["entry"].GetArray())
    if (std::string(e["search"]["mode"].GetString()) == "outcome")
      warned = std::string(e["resource"]["issue"][0]["severity"].GetString()) == "warning" &&
               std::string(e["resource"]["issue"][0]["diagnostics"].GetString()).find("colour") != std::string::npos;
  CHECK(warned);
  check_outcome(env.get("/Patient?family:exact=Smith"), 400, "invalid", "family:exact");
  check_outcome(env.get("/Patient?birthdate=soon"), 400, "invalid", "birthdate");
  check_outcome(env.get("/Patient?_count=0"), 400, "invalid", "_count");
  check_outcome(env.get("/Patient?_sort=birthdate"), 400, "invalid", "_sort");
  check_outcome(env.get("/Patient?_elements=id"), 400, "invalid", "_elements");
}

TEST_CASE("fhir rest: paging follows keyset cursors, stable while entities are added between pages") {
  RestEnv env;
  std::vector<EntityWrite> writes;
  for (int i = 0; i < 7; ++i)
    writes.push_back(EntityWrite::put(patient("p" + std::to_string(i), nhs_number(i + 1), "Page", "P" + std::to_string(i))));
  env.write(std::move(writes));

  for (const char* sort : {"_lastUpdated", "-_lastUpdated", "_id"}) {
    INFO(sort);
    std::vector<std::string> seen;
    Reply r = env.get(std::string("/Patient?family=page&_count=3&_sort=") + sort);
    REQUIRE(r.status() == 200);
    CHECK(link(r.json, "self").find("_count=3") != std::string::npos);
    int pages = 0;
    for (;;) {
      ++pages;
      for (auto& ref : entry_refs(r.json, "match")) seen.push_back(ref);
      // Inserted between pages: with _lastUpdated it sorts after every page already read.
      env.write({EntityWrite::put(patient("new" + std::to_string(pages) + sort, "", "Page", "New"))});
      const std::string next = link(r.json, "next");
      if (next.empty()) break;
      REQUIRE(pages < 20);
      r = env.get(target_of(next));
      REQUIRE(r.status() == 200);
    }
    std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());  // nothing twice
    for (int i = 0; i < 7; ++i) CHECK(unique.count("Patient/p" + std::to_string(i)) == 1);  // nothing skipped
  }
  check_outcome(env.get("/Patient?_cursor=garbage"), 400, "invalid");
}

TEST_CASE("fhir rest: end-of-life resources by patient, code filters, include and revinclude") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna")),
             EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});

  Reply flags = env.get("/Flag?patient=p1");
  INFO(flags.r.body);
  REQUIRE(flags.status() == 200);
  const auto flag_refs = entry_refs(flags.json, "match");
  REQUIRE_FALSE(flag_refs.empty());
  for (const auto& f : flag_refs) CHECK(f.starts_with("Flag/plan1-"));
  CHECK(entry_refs(env.get("/Flag?patient=p2").json).empty());

  // Each Flag reads back by its id, and names the patient.
  Reply one = env.get("/" + flag_refs[0]);
  REQUIRE(one.status() == 200);
  CHECK(std::string(one.json["subject"]["reference"].GetString()) == "Patient/p1");

  // DNACPR (SNOMED 450476008) picks out the CPR Flag only.
  Reply cpr = env.get("/Flag?patient=Patient/p1&code=http://snomed.info/sct|450476008");
  REQUIRE(cpr.status() == 200);
  CHECK(entry_refs(cpr.json, "match").size() == 1);

  Reply inc = env.get("/Flag?patient=p1&_include=Flag:patient");
  REQUIRE(inc.status() == 200);
  CHECK(entry_refs(inc.json, "include") == std::vector<std::string>{"Patient/p1"});

  Reply rev = env.get("/Patient?_id=p1&_revinclude=Flag:patient&_revinclude=CarePlan:patient");
  REQUIRE(rev.status() == 200);
  CHECK(entry_refs(rev.json, "match") == std::vector<std::string>{"Patient/p1"});
  const auto included = entry_refs(rev.json, "include");
  CHECK(std::count_if(included.begin(), included.end(), [](auto& s) { return s.starts_with("Flag/"); }) ==
        static_cast<long>(flag_refs.size()));
  CHECK(std::count_if(included.begin(), included.end(), [](auto& s) { return s.starts_with("CarePlan/"); }) == 1);

  check_outcome(env.get("/Patient?_include=Patient:colour"), 400, "not-supported");
  check_outcome(env.get("/Patient?_revinclude=Flag:colour"), 400, "not-supported");
}

TEST_CASE("fhir rest: scopes per resource type, and 401 without a token") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});
  CHECK(env.get("/Patient/p1", "pat").status() == 200);
  CHECK(env.get("/Flag?patient=p1", "pat").status() == 403);
  CHECK(env.get("/Patient/p1", "").status() == 401);
  CHECK(env.get("/Patient/p1", "wrong").status() == 401);
  CHECK(env.get("/AuditEvent", "pat").status() == 403);
  CHECK(env.get("/AuditEvent", "all").status() == 200);  // system/*.read covers AuditEvent
}

TEST_CASE("fhir rest: JSON and XML by _format and Accept; XML converts back to the same JSON; 406") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});
  const fhir::Model& model = *testing::care_fhir_profiles()->fhir_model();

  for (const std::string target : {"/Patient/p1", "/Flag?patient=p1", "/Patient/p1/_history", "/Patient/p1/$summary"}) {
    INFO(target);
    Reply json = env.get(target);
    REQUIRE(json.status() == 200);
    const char* sep = target.find('?') == std::string::npos ? "?" : "&";
    Reply xml = env.get(target + sep + "_format=xml");
    INFO(xml.r.body.substr(0, 400));
    REQUIRE(xml.status() == 200);
    CHECK(xml.r.content_type.starts_with("application/fhir+xml"));
    auto back = fhir::xml_to_json(xml.r.body, model);
    INFO(xml.r.body.substr(0, 400));
    REQUIRE(back.ok());
    // Bundle ids and timestamps are made per response; compare what is not.
    if (std::string(json.json["resourceType"].GetString()) == "Bundle") {
      for (auto* d : {&json.json, &*back}) {
        d->RemoveMember("id");
        d->RemoveMember("timestamp");
        d->RemoveMember("link");
        d->RemoveMember("identifier");
      }
    }
    if (target.find("$summary") == std::string::npos) {
      std::string diff;
      CHECK(fhir::json_equivalent(json.json, *back, &diff));
      INFO(diff);
    }
  }
  CHECK(env.get("/Patient/p1", "all", {{"accept", "application/fhir+xml"}}).r.content_type.starts_with("application/fhir+xml"));
  CHECK(env.get("/Patient/p1", "all", {{"accept", "application/xml;q=0, application/json"}}).r.content_type.starts_with("application/fhir+json"));
  Reply pretty = env.get("/Patient/p1?_pretty=true");
  CHECK(pretty.r.body.find("\n  \"") != std::string::npos);
  check_outcome(env.get("/Patient/p1", "all", {{"accept", "text/html"}}), 406, "not-supported");
  check_outcome(env.get("/Patient/p1?_format=text/turtle"), 406, "not-supported");
  // An error in XML when XML was asked for.
  Reply missing = env.get("/Patient/none?_format=xml");
  CHECK(missing.status() == 404);
  CHECK(missing.r.body.find("<OperationOutcome xmlns=\"http://hl7.org/fhir\"") != std::string::npos);
}

TEST_CASE("fhir rest: Last-Modified dates agree with timegm and strftime, day by day over centuries") {
  auto reference = [](int y, int mo, int d, int h, int mi, int s) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    const std::time_t t = timegm(&tm);
    std::tm out{};
    gmtime_r(&t, &out);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &out);
    return std::string(buf);
  };
  int checked = 0;
  for (int y : {1899, 1900, 1969, 1970, 1999, 2000, 2023, 2024, 2100, 2400, 9998}) {
    for (int mo = 1; mo <= 12; ++mo) {
      for (int d = 1; d <= 31; ++d) {  // 31 in every month: timegm normalises (Feb 30 = 1 or 2 Mar)
        const int h = (d * 7) % 24, mi = (d * 13) % 60, s = (mo * 11) % 60;
        char instant[96];
        std::snprintf(instant, sizeof instant, "%04d-%02d-%02dT%02d:%02d:%02d.123Z", y, mo, d, h, mi, s);
        INFO(instant);
        CHECK(rest::http_date(instant) == reference(y, mo, d, h, mi, s));
        ++checked;
      }
    }
  }
  CHECK(checked == 11 * 12 * 31);
  CHECK(rest::http_date("2024-03-01T10:00:00Z") == "Fri, 01 Mar 2024 10:00:00 GMT");
  CHECK(rest::http_date("2024-03-01T24:00:00Z") == "Sat, 02 Mar 2024 00:00:00 GMT");
  CHECK(rest::http_date("2024-03-01").empty());
  CHECK(rest::http_date("2024-03-01T1x:00:00Z").empty());
  CHECK(rest::http_date("").empty());
}

TEST_CASE("fhir rest: now_instant is the current time as store::format_instant writes it, across seconds") {
  // now_instant reuses the text of the second it last formatted: it must still follow the clock
  // over second boundaries. Each answer lies between the instants read just before and after.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1300);
  std::set<std::string> seconds;
  int checked = 0;
  while (std::chrono::steady_clock::now() < until) {
    const std::string before = store::format_instant(std::chrono::system_clock::now());
    const std::string now = rest::now_instant();
    const std::string after = store::format_instant(std::chrono::system_clock::now());
    INFO(before << " " << now << " " << after);
    REQUIRE(now.size() == before.size());
    CHECK(before <= now);
    CHECK(now <= after);
    CHECK(now.back() == 'Z');
    seconds.insert(now.substr(0, 19));
    ++checked;
    std::this_thread::sleep_for(std::chrono::microseconds(700));
  }
  CHECK(checked > 100);
  CHECK(seconds.size() >= 2);
}

TEST_CASE("fhir rest: responses are written exactly as fhir::write_json writes them, numbers as numbers") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});
  const fhir::Model& model = *testing::care_fhir_profiles()->fhir_model();
  auto same_as_write_json = [&](const rapidjson::Value& resource) {
    for (const bool pretty : {false, true}) {
      auto expected = fhir::write_json(resource, model, {.pretty = pretty});
      REQUIRE(expected.ok());
      const HttpResponse r = resource_response(200, resource, Negotiated{WireFormat::kJson, pretty}, &model);
      CHECK(r.body == *expected);
    }
  };
  // What the renderer serves: resources and Bundles (entries hold resources).
  for (const std::string target : {"/Patient/p1", "/Flag?patient=p1", "/Patient/p1/$summary", "/Patient/p1/$everything"}) {
    INFO(target);
    Reply got = env.get(target);
    REQUIRE(got.status() == 200);
    same_as_write_json(got.json);
  }
  // Numbers held as text (decimal keeps its form), native integers, booleans, primitive
  // extensions (_given with a null placeholder) and a contained resource.
  auto doc = fhir::parse_json(R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},
    "valueQuantity":{"value":72.50,"unit":"kg"},"contained":[{"resourceType":"Patient","id":"c","active":true,
    "name":[{"given":["A","B"],"_given":[null,{"extension":[{"url":"http://x","valueInteger":3}]}]}],
    "multipleBirthInteger":2}],"referenceRange":[{"low":{"value":1e3}}]})");
  REQUIRE(doc.ok());
  same_as_write_json(*doc);
  rapidjson::Document native;
  native.CopyFrom(*doc, native.GetAllocator());
  native["contained"][0]["multipleBirthInteger"].SetInt64(-7);
  same_as_write_json(native);
  // What write_json refuses (a double, a bad number, an unknown element) is still written the
  // way it always was: write_json's text for a double, plain JSON otherwise.
  native["valueQuantity"]["value"].SetDouble(0.25);
  same_as_write_json(native);
  native["contained"][0]["multipleBirthInteger"].SetString("01");
  CHECK(resource_response(200, native, {}, &model).body.find(R"("multipleBirthInteger":"01")") != std::string::npos);
  native["contained"][0].RemoveMember("multipleBirthInteger");
  native.AddMember("notAnElement", true, native.GetAllocator());
  CHECK(resource_response(200, native, {}, &model).body.find(R"("notAnElement":true)") != std::string::npos);
}

TEST_CASE("fhir rest: every read and search is audited and served as AuditEvent") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna")),
             EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});
  REQUIRE(env.get("/Patient/p1").status() == 200);
  REQUIRE(env.get("/Patient/p1/_history/1").status() == 200);
  REQUIRE(env.get("/Patient/p1/_history").status() == 200);
  REQUIRE(env.get("/Patient?family=smith").status() == 200);
  REQUIRE(env.get("/Flag?patient=p1").status() == 200);
  REQUIRE(env.get("/Patient/p2").status() == 200);
  REQUIRE(env.get("/Patient/missing").status() == 404);
  REQUIRE(env.audit->flush());

  auto all = env.store->list_audit(0, 100, "");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 7);
  std::vector<std::string> interactions;
  for (const auto& a : *all) {
    interactions.push_back(a.interaction);
    CHECK(a.client == "reader");
  }
  CHECK(interactions == std::vector<std::string>{"read", "vread", "history-instance", "search-type", "search-type", "read", "read"});
  CHECK((*all)[0].detail == "GET /Patient/p1");
  CHECK((*all)[6].outcome == "404");

  auto p1 = env.store->list_audit(0, 100, "p1");
  REQUIRE(p1.ok());
  CHECK(p1->size() == 5);

  Reply events = env.get("/AuditEvent?patient=Patient/p1", "audit");
  INFO(events.r.body);
  REQUIRE(events.status() == 200);
  REQUIRE(events.json["entry"].Size() == 5);
  const auto& ev = events.json["entry"][0]["resource"];
  CHECK(std::string(ev["resourceType"].GetString()) == "AuditEvent");
  CHECK(std::string(ev["subtype"][0]["code"].GetString()) == "read");
  CHECK(std::string(ev["action"].GetString()) == "R");
  CHECK(std::string(ev["outcome"].GetString()) == "0");
  CHECK(std::string(ev["agent"][0]["who"]["display"].GetString()) == "reader");
  CHECK(std::string(ev["entity"][0]["what"]["reference"].GetString()) == "Patient/p1");

  Reply paged = env.get("/AuditEvent?patient=p1&_count=2", "audit");
  REQUIRE(paged.json["entry"].Size() == 2);
  Reply next = env.get(target_of(link(paged.json, "next")), "audit");
  CHECK(next.json["entry"].Size() == 2);
  check_outcome(env.get("/AuditEvent?patient=Practitioner/x", "audit"), 400, "invalid");
  CHECK(env.get("/AuditEvent?patient=p1", "pat").status() == 403);
}

TEST_CASE("fhir rest: $everything gathers the patient and what refers to it") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna")),
             EntityWrite::put(patient("p2", nhs_number(2), "Brown", "Bob"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1")), EntityWrite::put(eol_plan("plan2", "p2"))});
  Reply r = env.get("/Patient/p1/$everything");
  INFO(r.r.body.substr(0, 2000));
  REQUIRE(r.status() == 200);
  const auto refs = entry_refs(r.json);
  REQUIRE_FALSE(refs.empty());
  CHECK(refs[0] == "Patient/p1");
  for (const auto& ref : refs) CHECK(ref.find("plan2") == std::string::npos);
  CHECK(std::count_if(refs.begin(), refs.end(), [](auto& s) { return s.starts_with("CarePlan/"); }) == 1);
  CHECK(std::count_if(refs.begin(), refs.end(), [](auto& s) { return s.starts_with("Flag/plan1"); }) >= 1);
  CHECK(r.json["total"].GetUint() == refs.size());
  check_outcome(env.get("/Patient/nobody/$everything"), 404, "not-found");
}

TEST_CASE("fhir rest: $everything pages by _count with next links") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});
  Reply whole = env.get("/Patient/p1/$everything");
  REQUIRE(whole.status() == 200);
  CHECK(link(whole.json, "next").empty());
  std::set<std::string> expected;
  for (const auto& ref : entry_refs(whole.json)) expected.insert(ref);
  REQUIRE(expected.size() > 3);

  // One entity per page: each compartment type of the plan is a page of its own.
  std::set<std::string> seen;
  std::string target = "/Patient/p1/$everything?_count=1";
  int pages = 0;
  while (!target.empty() && pages < 50) {
    Reply page = env.get(target);
    INFO(target << " -> " << page.r.body.substr(0, 1500));
    REQUIRE(page.status() == 200);
    const std::string next = link(page.json, "next");
    if (pages == 0) {
      CHECK(entry_refs(page.json)[0] == "Patient/p1");
      CHECK_FALSE(page.json.HasMember("total"));  // several pages: not counted
    } else {
      for (const auto& ref : entry_refs(page.json)) CHECK(ref != "Patient/p1");
    }
    for (const auto& ref : entry_refs(page.json)) {
      // A Provenance comes with every page whose entries it produced; nothing else repeats.
      if (!ref.starts_with("Provenance/")) CHECK(seen.insert(ref).second);
      else seen.insert(ref);
    }
    ++pages;
    target = next.empty() ? "" : target_of(next);
  }
  CHECK(pages > 2);
  CHECK(seen == expected);

  check_outcome(env.get("/Patient/p1/$everything?_count=0"), 400, "invalid");
  check_outcome(env.get("/Patient/p1/$everything?_count=abc"), 400, "invalid");
  check_outcome(env.get("/Patient/p1/$everything?_cursor=nonsense"), 400, "invalid");
  check_outcome(env.get("/Patient/p1/$everything?_cursor=2.not-a-store-cursor"), 400, "invalid");
  check_outcome(env.get("/Patient/p1/$everything?_since=2020"), 400, "not-supported");
}

TEST_CASE("fhir rest: $summary is a document with the Composition first and the CPR decision first") {
  RestEnv env;
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))});
  env.write({EntityWrite::put(eol_plan("plan1", "p1"))});
  Reply r = env.get("/Patient/p1/$summary");
  INFO(r.r.body.substr(0, 3000));
  REQUIRE(r.status() == 200);
  CHECK(std::string(r.json["type"].GetString()) == "document");
  REQUIRE(r.json.HasMember("identifier"));
  const auto& comp = r.json["entry"][0]["resource"];
  REQUIRE(std::string(comp["resourceType"].GetString()) == "Composition");
  CHECK(std::string(comp["type"]["coding"][0]["system"].GetString()) == "http://loinc.org");
  CHECK(std::string(comp["subject"]["reference"].GetString()) == "Patient/p1");
  CHECK(std::string(comp["author"][0]["reference"].GetString()) == "Organization/midhurst-gateway");
  std::vector<std::string> titles;
  for (const auto& s : comp["section"].GetArray()) titles.push_back(s["title"].GetString());
  CHECK(titles == std::vector<std::string>{"Demographics and GP", "Care team", "Encounters", "Referrals",
                                           "End-of-life preferences"});
  const auto& eol = comp["section"][4];
  REQUIRE(eol.HasMember("entry"));
  const std::string first = eol["entry"][0]["reference"].GetString();
  CHECK(first.starts_with("Flag/"));
  // Every section reference resolves to an entry of the Bundle.
  std::set<std::string> present;
  for (const auto& ref : entry_refs(r.json)) present.insert(ref);
  for (const auto& s : comp["section"].GetArray())
    if (s.HasMember("entry"))
      for (const auto& e : s["entry"].GetArray()) CHECK(present.count(e["reference"].GetString()) == 1);
  // The first End-of-life entry is the CPR decision (SNOMED 450475007/450476008).
  bool cpr = false;
  for (const auto& e : r.json["entry"].GetArray())
    if (std::string(e["resource"]["resourceType"].GetString()) + "/" + e["resource"]["id"].GetString() == first)
      for (const auto& c : e["resource"]["code"]["coding"].GetArray())
        cpr = cpr || std::string(c["code"].GetString()) == "450476008";
  CHECK(cpr);
}

}  // namespace
}  // namespace midhurst::server

namespace midhurst::server {
namespace {

template <class T>
T example(const std::string& name, const std::string& id) {
  auto e = care::from_json<T>(testing::read_text(MIDHURST_SOURCE_DIR "/gateway/care/examples/" + name + ".json"));
  if (!e.ok()) FAIL(e.error().to_string());
  T out = std::move(*e);
  out.id = id;
  out.provenance.reset();  // the store links the message's Provenance
  return out;
}

TEST_CASE("fhir rest: encounters, referrals, includes and Provenance across every served profile") {
  RestEnv env(testing::care_fhir_profiles(/*all=*/true));
  auto org = example<care::Organization>("organization", "org1");
  auto gp = example<care::Practitioner>("practitioner", "gp1");
  auto pat = example<care::Patient>("patient", "p1");
  pat.replaced_by.reset();
  pat.contacts.clear();
  REQUIRE(pat.registered_gp);
  if (pat.registered_gp->practitioner) pat.registered_gp->practitioner->id = "gp1";
  if (pat.registered_gp->practice) pat.registered_gp->practice->id = "org1";
  auto enc = example<care::Encounter>("encounter", "e1");
  enc.patient = store::test::patient_ref("p1");
  if (enc.service_provider) enc.service_provider->id = "org1";
  auto ref = example<care::Referral>("referral", "r1");
  ref.patient = store::test::patient_ref("p1");
  ref.encounter.reset();
  ref.notes.clear();
  if (ref.requester.practitioner) ref.requester.practitioner->id = "gp1";
  if (ref.recipient.organization) ref.recipient.organization->id = "org1";
  org.ods_code = pat.registered_gp->practice_ods;  // the organisation is the patient's GP practice
  auto prov = example<care::Provenance>("provenance", "prov1");
  const auto written = env.write({EntityWrite::put(org), EntityWrite::put(gp), EntityWrite::put(pat), EntityWrite::put(enc),
                                  EntityWrite::put(ref), EntityWrite::put(prov)});
  REQUIRE(written.size() == 6);

  auto matches = [&](const std::string& q) {
    Reply r = env.get(q);
    INFO(q << " -> " << r.r.body.substr(0, 1500));
    REQUIRE(r.status() == 200);
    return entry_refs(r.json, "match");
  };
  CHECK(matches("/Encounter?patient=p1") == std::vector<std::string>{"Encounter/e1"});
  CHECK(matches("/Encounter?patient=p1&status=finished") == std::vector<std::string>{"Encounter/e1"});
  CHECK(matches("/Encounter?patient=p1&status=in-progress").empty());
  CHECK(matches("/Encounter?date=ge2024-03-02") == std::vector<std::string>{"Encounter/e1"});
  CHECK(matches("/Encounter?date=lt2024-01-01").empty());
  CHECK(matches("/ServiceRequest?patient=p1&status=active") == std::vector<std::string>{"ServiceRequest/r1"});
  CHECK(matches("/ServiceRequest?requester=Practitioner/gp1") == std::vector<std::string>{"ServiceRequest/r1"});
  CHECK(matches("/Organization?name=" + org.name.substr(0, 3)) == std::vector<std::string>{"Organization/org1"});

  Reply inc = env.get("/Encounter?patient=p1&_include=Encounter:service-provider");
  REQUIRE(inc.status() == 200);
  CHECK(entry_refs(inc.json, "include") == std::vector<std::string>{"Organization/org1"});
  Reply gp_inc = env.get("/Patient?_id=p1&_include=Patient:general-practitioner");
  REQUIRE(gp_inc.status() == 200);
  INFO(gp_inc.r.body.substr(0, 1500));
  // generalPractitioner is a logical reference by ODS code: found by identifier.
  CHECK(entry_refs(gp_inc.json, "include") == std::vector<std::string>{"Organization/org1"});

  Reply p = env.get("/Provenance/prov1");
  INFO(p.r.body.substr(0, 1500));
  CHECK(p.status() == 200);

  Reply all = env.get("/Patient/p1/$everything");
  REQUIRE(all.status() == 200);
  const auto refs = entry_refs(all.json);
  for (const char* want : {"Patient/p1", "Encounter/e1", "ServiceRequest/r1", "Provenance/prov1"}) {
    INFO(want);
    CHECK(std::count(refs.begin(), refs.end(), want) == 1);
  }

  Reply doc = env.get("/Patient/p1/$summary");
  REQUIRE(doc.status() == 200);
  const auto& sections = doc.json["entry"][0]["resource"]["section"];
  CHECK(std::string(sections[2]["entry"][0]["reference"].GetString()) == "Encounter/e1");
  CHECK(std::string(sections[3]["entry"][0]["reference"].GetString()) == "ServiceRequest/r1");
  const auto doc_refs = entry_refs(doc.json);
  CHECK(std::count(doc_refs.begin(), doc_refs.end(), "Provenance/prov1") == 1);
}

}  // namespace
}  // namespace midhurst::server

namespace midhurst::server {
namespace {

// Makes every database write fail while switched on.
struct FailingWrites : store::FaultInjection {
  std::atomic<bool> on{false};
  bool should_fail(std::string_view point) override { return on && point == "write"; }
};

TEST_CASE("fhir rest: the audit writer retries a failing store and refuses more than it can hold") {
  testing::QuietLog quiet;
  store::test::TempDir dir;
  FailingWrites faults;
  store::StoreOptions options;
  options.faults = &faults;
  auto opened = store::open_store("sqlite:" + (dir.path() / "store.db").string(), options);
  REQUIRE(opened.ok());
  std::unique_ptr<store::Store> s = std::move(*opened);
  {
    AuditWriterOptions o;
    o.max_queued = 2;
    o.enqueue_timeout = std::chrono::milliseconds(50);
    AuditWriter writer(*s, o);
    store::AuditRecord record;
    record.client = "c";
    record.interaction = "read";
    record.outcome = "success";
    record.patients = {"p1"};

    faults.on = true;
    REQUIRE(writer.enqueue(record));
    for (int i = 0; i < 200 && writer.failures() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(writer.failures() >= 1);
    CHECK(writer.enqueue(record));        // one being retried + one queued = the limit
    CHECK_FALSE(writer.enqueue(record));  // no room: the handler answers 503 instead
    CHECK_FALSE(writer.flush(std::chrono::milliseconds(100)));

    faults.on = false;  // the store recovers: the retry commits both
    CHECK(writer.flush(std::chrono::seconds(10)));
    CHECK(writer.committed() == 2);
    CHECK(writer.enqueue(record));
  }  // the destructor commits the last one
  auto stored = s->list_audit(0, 10, "p1");
  REQUIRE(stored.ok());
  CHECK(stored->size() == 3);
}

TEST_CASE("fhir rest: /metrics serves the audit queue depth, which grows while the store fails") {
  FailingWrites faults;
  RestEnv env(testing::care_fhir_profiles(), &faults);
  env.write({EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna", "1950-03-01"))});
  auto depth_line = [&] {
    const std::string text = env.registry.expose();
    const size_t at = text.find("\nmidhurst_audit_queue_depth ");
    REQUIRE(at != std::string::npos);
    return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  };
  REQUIRE(env.audit->flush());
  CHECK(depth_line() == "midhurst_audit_queue_depth 0");
  CHECK(env.registry.expose().find("# TYPE midhurst_audit_queue_depth gauge") != std::string::npos);

  faults.on = true;  // the writer cannot commit: reads wait in its queue
  CHECK(env.get("/Patient/p1").status() == 200);
  for (int i = 0; i < 200 && env.audit->failures() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(env.audit->failures() >= 1);
  CHECK(env.get("/Patient/p1").status() == 200);
  CHECK(env.get("/Patient?family=smith").status() == 200);
  CHECK(env.audit->depth() == 3);
  CHECK(depth_line() == "midhurst_audit_queue_depth 3");

  faults.on = false;  // it recovers and commits them
  REQUIRE(env.audit->flush(std::chrono::seconds(10)));
  CHECK(depth_line() == "midhurst_audit_queue_depth 0");
}

TEST_CASE("fhir rest: the audit writer gathers a batch, and a full one commits at once") {
  testing::QuietLog quiet;
  store::test::TempDir dir;
  auto opened = store::open_store("sqlite:" + (dir.path() / "store.db").string());
  REQUIRE(opened.ok());
  std::unique_ptr<store::Store> s = std::move(*opened);
  store::AuditRecord record;
  record.client = "c";
  record.interaction = "read";
  record.outcome = "success";
  record.patients = {"p2"};
  {
    AuditWriterOptions o;
    o.batch_window = std::chrono::milliseconds(60000);  // only a full batch (or stopping) commits
    o.max_batch = 8;
    AuditWriter writer(*s, o);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 2; ++i) CHECK(writer.enqueue(record));
      });
    for (auto& t : threads) t.join();
    CHECK(writer.flush(std::chrono::seconds(10)));  // 8 queued = a full batch: no 60 s wait
    CHECK(writer.committed() == 8);
    REQUIRE(writer.enqueue(record));
    CHECK_FALSE(writer.flush(std::chrono::milliseconds(200)));  // one record waits for the window
  }  // ... or for the destructor, which commits it
  auto stored = s->list_audit(0, 20, "p2");
  REQUIRE(stored.ok());
  CHECK(stored->size() == 9);
}

}  // namespace
}  // namespace midhurst::server
