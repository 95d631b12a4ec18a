#include "care/json.h"

#include <random>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/writer.h>

#include "care/model.h"
#include "care/registry.h"
#include "care/test_util.h"

namespace care = midhurst::care;
using care::from_json;
using care::to_json;
using care::test::read_example;
using care::test::same_json;

namespace {

template <class T>
void check_round_trip(std::string_view entity) {
  const std::string text = read_example(entity);
  REQUIRE_FALSE(text.empty());
  auto parsed = from_json<T>(text);
  INFO((parsed.ok() ? std::string() : parsed.error().to_string()));
  REQUIRE(parsed.ok());
  const std::string out = to_json(*parsed, /*pretty=*/true);
  CHECK(same_json(text, out));
  auto again = from_json<T>(out);
  REQUIRE(again.ok());
  CHECK(*again == *parsed);
  // Compact and pretty forms carry the same value.
  CHECK(same_json(to_json(*parsed), out));
}

// The first error from_json<T> reports for `json`, as "path: message".
template <class T>
std::string error_of(const std::string& json) {
  auto r = from_json<T>(json);
  if (r.ok()) return "(accepted)";
  return r.error().to_string();
}

// A minimal valid patient to mutate in error tests.
const char* const kMinimalPatient =
    R"({"id":"p1","version":1,"lastUpdated":"2024-03-01T14:05:02+00:00")";

std::string patient_with(const std::string& members) {
  return std::string(kMinimalPatient) + "," + members + "}";
}

}  // namespace

TEST_CASE("fully populated examples round-trip exactly", "[json]") {
  SECTION("patient") { check_round_trip<care::Patient>("patient"); }
  SECTION("relatedPerson") { check_round_trip<care::RelatedPerson>("relatedPerson"); }
  SECTION("organization") { check_round_trip<care::Organization>("organization"); }
  SECTION("practitioner") { check_round_trip<care::Practitioner>("practitioner"); }
  SECTION("practitionerRole") { check_round_trip<care::PractitionerRole>("practitionerRole"); }
  SECTION("careTeamMember") { check_round_trip<care::CareTeamMember>("careTeamMember"); }
  SECTION("encounter") { check_round_trip<care::Encounter>("encounter"); }
  SECTION("referral") { check_round_trip<care::Referral>("referral"); }
  SECTION("eol") { check_round_trip<care::EndOfLifePlan>("eol"); }
  SECTION("provenance") { check_round_trip<care::Provenance>("provenance"); }
}

namespace {

// Records "Type.field" for every field present in `v`, walking nested structs.
void collect_fields(const care::StructInfo& s, const rapidjson::Value& v,
                    std::set<std::string>& seen) {
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const care::FieldInfo* f = s.find(m->name.GetString());
    if (!f) continue;  // the round-trip test reports unknown fields
    seen.insert(std::string(s.name) + "." + std::string(f->name));
    if (f->kind != care::Kind::kStruct) continue;
    if (m->value.IsArray()) {
      for (const auto& item : m->value.GetArray()) collect_fields(*f->struct_info(), item, seen);
    } else {
      collect_fields(*f->struct_info(), m->value, seen);
    }
  }
}

void all_fields(const care::StructInfo& s, std::set<const care::StructInfo*>& visited,
                std::set<std::string>& out) {
  if (!visited.insert(&s).second) return;
  for (const care::FieldInfo& f : s.fields) {
    out.insert(std::string(s.name) + "." + std::string(f.name));
    if (f.kind == care::Kind::kStruct) all_fields(*f.struct_info(), visited, out);
  }
}

}  // namespace

TEST_CASE("the examples together use every field of every type", "[json]") {
  std::set<std::string> seen, expected;
  std::set<const care::StructInfo*> visited;
  for (const care::EntityInfo& e : care::entities()) {
    all_fields(e.info(), visited, expected);
    rapidjson::Document doc;
    doc.Parse(read_example(e.path_name).c_str());
    REQUIRE_FALSE(doc.HasParseError());
    collect_fields(e.info(), doc, seen);
  }
  std::string missing;
  for (const std::string& f : expected)
    if (!seen.count(f)) missing += f + " ";
  INFO("fields no example uses: " << missing);
  CHECK(missing.empty());
  CHECK(expected.size() > 250);
}

TEST_CASE("absent values are omitted from the JSON form", "[json]") {
  care::Patient p;
  p.id = "p1";
  p.last_updated = "2024-03-01T14:05:02+00:00";
  CHECK(to_json(p) == R"({"id":"p1","version":1,"lastUpdated":"2024-03-01T14:05:02+00:00"})");
  p.deceased = false;  // an optional bool that is set is written, even when false
  p.names.push_back({});
  p.names.back().family = "SMITH";
  CHECK(to_json(p) == R"({"id":"p1","version":1,"lastUpdated":"2024-03-01T14:05:02+00:00",)"
                      R"("names":[{"family":"SMITH"}],"deceased":false})");
  auto back = from_json<care::Patient>(to_json(p));
  REQUIRE(back.ok());
  CHECK(*back == p);
}

TEST_CASE("from_json names the JSON path of a value of the wrong type", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(
            R"("identifiers":[{"system":"a","value":"1"},{"system":5,"value":"2"}])")) ==
        "patient.identifiers[1].system: expected string");
  CHECK(error_of<care::Patient>(patient_with(R"("identifiers":{"system":"a"})")) ==
        "patient.identifiers: expected array");
  CHECK(error_of<care::Patient>(patient_with(R"("deceased":"yes")")) ==
        "patient.deceased: expected boolean");
  CHECK(error_of<care::Patient>(R"({"id":"p1","version":"1","lastUpdated":"2024"})") ==
        "patient.version: expected integer");
  CHECK(error_of<care::Patient>(R"({"id":"p1","version":1.5,"lastUpdated":"2024"})") ==
        "patient.version: expected integer");
  CHECK(error_of<care::Patient>(patient_with(R"("registeredGp":"Y06601")")) ==
        "patient.registeredGp: expected object (RegisteredGp)");
  CHECK(error_of<care::Patient>("[]") == "patient: expected object (Patient)");
  CHECK(error_of<care::EndOfLifePlan>("{}") == "eol.id: required field missing");
}

TEST_CASE("from_json rejects unknown and duplicate fields", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("nhsNumbr":{"value":"9449305552"})")) ==
        "patient.nhsNumbr: unknown field of Patient");
  CHECK(error_of<care::Patient>(patient_with(R"("names":[{"family":"X","middle":"Y"}])")) ==
        "patient.names[0].middle: unknown field of HumanName");
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"1965","birthDate":"1966")")) ==
        "patient.birthDate: duplicate field");
}

TEST_CASE("from_json checks enum values", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("gender":"woman")")) ==
        "patient.gender: 'woman' is not an allowed value of AdministrativeGender "
        "(male | female | other | unknown)");
  CHECK(error_of<care::Patient>(patient_with(R"("gender":2)")) ==
        "patient.gender: expected string (enum AdministrativeGender)");
  const std::string enc =
      R"({"id":"e1","version":1,"lastUpdated":"2024-03-01","patient":{"type":"Patient","id":"p1"},)"
      R"("class":"inpatient","status":"admitted"})";
  CHECK(error_of<care::Encounter>(enc) ==
        "encounter.status: 'admitted' is not an allowed value of EncounterStatus "
        "(planned | in-progress | onleave | finished | cancelled | entered-in-error)");
}

TEST_CASE("from_json reports required fields that are missing", "[json][errors]") {
  CHECK(error_of<care::Patient>(R"({"version":1,"lastUpdated":"2024"})") ==
        "patient.id: required field missing");
  CHECK(error_of<care::Patient>(patient_with(R"("identifiers":[{"system":"a"}])")) ==
        "patient.identifiers[0].value: required field missing");
  // Non-optional struct, enum and integer members are required too.
  CHECK(error_of<care::Encounter>(
            R"({"id":"e1","version":1,"lastUpdated":"2024","class":"inpatient","status":"planned"})") ==
        "encounter.patient: required field missing");
  CHECK(error_of<care::Referral>(
            R"({"id":"r1","version":1,"lastUpdated":"2024","patient":{"type":"Patient","id":"p"},"status":"active",)"
            R"("priority":"routine","requester":{},"recipient":{}})") ==
        "referral.authoredOn: required field missing");
}

TEST_CASE("from_json refuses empty strings and arrays so that round trips stay exact",
          "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"")")) ==
        "patient.birthDate: empty string; omit the field instead");
  CHECK(error_of<care::Patient>(patient_with(R"("names":[])")) ==
        "patient.names: empty array; omit the field instead");
}

TEST_CASE("from_json checks date and dateTime formats", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"1965-13-01")")) ==
        "patient.birthDate: expected date YYYY, YYYY-MM or YYYY-MM-DD");
  CHECK(error_of<care::Patient>(patient_with(R"("birthDate":"1965-12-13T10:00Z")")) ==
        "patient.birthDate: expected date YYYY, YYYY-MM or YYYY-MM-DD");
  CHECK(error_of<care::Patient>(patient_with(R"("deceasedAt":"2024-03-20T03:10")")) ==
        "patient.deceasedAt: dateTime with a time needs Z or an offset (+hh:mm)");
}

TEST_CASE("check_date and check_date_time", "[json]") {
  for (const char* ok : {"2024", "2024-02", "2024-02-29", "2000-02-29"}) {
    INFO(ok);
    CHECK(care::check_date(ok).empty());
  }
  for (const char* bad : {"24", "2024-2", "2023-02-29", "1900-02-29", "2024-04-31", "2024-00",
                          "2024-01-01 ", "20240101"}) {
    INFO(bad);
    CHECK_FALSE(care::check_date(bad).empty());
  }
  for (const char* ok : {"2024", "2024-03-01", "2024-03-01T14:05Z", "2024-03-01T14:05:02+01:00",
                         "2024-03-01T14:05:02.123-05:30", "2024-03-31T23:59:60Z"}) {
    INFO(ok);
    CHECK(care::check_date_time(ok).empty());
  }
  for (const char* bad : {"2024-03-01T14Z", "2024-03-01T24:00Z", "2024-03-01T14:05+0100",
                          "2024-03-01T14:05:02.Z", "2024-03T14:05Z", "2024-03-01T14:05Zx",
                          "2024-03-01 14:05Z"}) {
    INFO(bad);
    CHECK_FALSE(care::check_date_time(bad).empty());
  }
}

TEST_CASE("from_json applies the cross-field rules", "[json][errors]") {
  CHECK(error_of<care::Patient>(patient_with(R"("nhsNumber":{"value":"3478526985"})")) ==
        "patient.nhsNumber: value: NHS number fails the Modulus 11 check: check digit should "
        "be 1, found 5");
  CHECK(error_of<care::Patient>(patient_with(R"("nhsNumber":{"value":"944 930 5552"})")) ==
        "patient.nhsNumber: value: must be the 10 digits without spaces");
  CHECK(error_of<care::Patient>(patient_with(R"("deceased":false,"deceasedAt":"2024")")) ==
        "patient: deceasedAt is set but deceased is false");
  CHECK(error_of<care::Patient>(R"({"id":"p1","version":0,"lastUpdated":"2024"})") ==
        "patient: version must be 1 or more");
  CHECK(error_of<care::Patient>(patient_with(R"("replacedBy":{"type":"Patient"})")) ==
        "patient.replacedBy: a Reference needs an id or an identifier");

  const std::string eol =
      R"({"id":"x","version":1,"lastUpdated":"2024","patient":{"type":"Patient","id":"p1"},"createdAt":"2024",)";
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("functionalStatus":{"akpsScore":55}})") ==
        "eol.functionalStatus: akpsScore must be 0..100 in steps of 10");
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("respect":{"formPresent":true,"carePriorityScale":10}})") ==
        "eol.respect: carePriorityScale must be 1..9");
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("lpaHealthWelfare":{"attorneys":[{"type":"RelatedPerson","id":"rp1"}]}})") ==
        "eol.lpaHealthWelfare: attorneys are given but authority is not");
  CHECK(error_of<care::EndOfLifePlan>(
            eol + R"("preferredPlaceOfDeath":[{"locationType":"21"},{"locationType":"30"},)"
                  R"({"locationType":"10"}]})") ==
        "eol.preferredPlaceOfDeath: at most 2 items allowed, got 3");
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("preferredPlaceOfDeath":[{"locationType":"60"}]})") ==
        "eol.preferredPlaceOfDeath[0].locationType: '60' is not an allowed value of "
        "DeathLocationType (10 | 20 | 21 | 22 | 30 | 40 | 41 | 42 | 50)");
}

TEST_CASE("from_json reports malformed JSON with its offset", "[json][errors]") {
  CHECK(error_of<care::Patient>(R"({"id":"p1",)") ==
        "patient: invalid JSON at offset 11: Missing a name for object member.");
  CHECK(error_of<care::Patient>(std::string(kMinimalPatient) + "} trailing") ==
        "patient: invalid JSON at offset 66: The document root must not be followed by other "
        "values.");
}

TEST_CASE("non-entity structs have their own JSON form", "[json]") {
  care::Coding c{"http://snomed.info/sct", "450476008", "Not for attempted CPR"};
  const std::string j = to_json(c);
  CHECK(j == R"({"system":"http://snomed.info/sct","code":"450476008","display":"Not for attempted CPR"})");
  auto back = from_json<care::Coding>(j);
  REQUIRE(back.ok());
  CHECK(*back == c);
  CHECK(error_of<care::Coding>(R"({"system":"x"})") == "coding.code: required field missing");
}

TEST_CASE("encounter status transitions follow the ADT state machine", "[model]") {
  using S = care::EncounterStatus;
  using care::encounter_transition_allowed;
  CHECK(encounter_transition_allowed(S::kPlanned, S::kInProgress));    // A01 after A05
  CHECK(encounter_transition_allowed(S::kInProgress, S::kOnLeave));    // A21
  CHECK(encounter_transition_allowed(S::kOnLeave, S::kInProgress));    // A22
  CHECK(encounter_transition_allowed(S::kInProgress, S::kFinished));   // A03
  CHECK(encounter_transition_allowed(S::kFinished, S::kInProgress));   // A13
  CHECK(encounter_transition_allowed(S::kInProgress, S::kCancelled));  // A11
  CHECK(encounter_transition_allowed(S::kInProgress, S::kInProgress)); // A02, A08
  CHECK(encounter_transition_allowed(S::kFinished, S::kEnteredInError));
  CHECK_FALSE(encounter_transition_allowed(S::kFinished, S::kPlanned));
  CHECK_FALSE(encounter_transition_allowed(S::kCancelled, S::kInProgress));
  CHECK_FALSE(encounter_transition_allowed(S::kPlanned, S::kFinished));
  CHECK_FALSE(encounter_transition_allowed(S::kEnteredInError, S::kInProgress));
}

// --- The streaming reader against the DOM reader ------------------------------------------------
//
// from_json reads with a SAX pass (json_sax.cc); struct_from_value reads a parsed DOM, the
// reference for what the model accepts. Both must agree on every input: the same value, or the
// same first error with the same path. Checked on thousands of variants of every example, each
// with one value replaced (by every JSON type, empty strings and arrays, bad dates, lists
// grown past their limits), a member removed or repeated, or the text cut or garbled.
namespace {

// What the DOM reader says of `json`: "ok " + the value written back, or the error.
template <class T>
std::string dom_verdict(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    return care::json_root_name(T::describe()) + ": invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) +
           ": " + rapidjson::GetParseError_En(doc.GetParseError());
  auto v = care::from_json_value<T>(doc);
  return v.ok() ? "ok " + to_json(*v) : v.error().to_string();
}

template <class T>
std::string sax_verdict(const std::string& json) {
  auto v = from_json<T>(json);
  return v.ok() ? "ok " + to_json(*v) : v.error().to_string();
}

// Compact, or indented as the example files are.
std::string write(const rapidjson::Value& v, bool pretty = false) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

// Every value of the document, depth first (the root included).
void collect(rapidjson::Value& v, std::vector<rapidjson::Value*>& out) {
  out.push_back(&v);
  if (v.IsObject())
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) collect(m->value, out);
  else if (v.IsArray())
    for (auto& item : v.GetArray()) collect(item, out);
}

// One variant of `text`, made by mutation number `n` of a seeded generator.
std::string variant(const std::string& text, std::mt19937& rng) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  auto& a = doc.GetAllocator();
  std::vector<rapidjson::Value*> values;
  collect(doc, values);
  rapidjson::Value& target = *values[rng() % values.size()];
  static const char* const kReplacements[] = {
      "null", "true", "false", "0", "1", "-1", "1.5", "9999999999999", "18446744073709551615",
      "99999999999999999999", "\"\"", "\"x\"", "\"1965-13-01\"", "\"2024-02-29\"", "\"2023-02-29\"",
      "\"2024-03-01T10:00\"", "\"2024-03-01T10:00:00Z\"", "\"in-progress\"", "\"9449305552\"",
      "[]", "[1]", "[\"\"]", "[{}]", "{}", "{\"x\":1}", "{\"code\":\"x\"}", "100", "-0", "1e2",
      "\"a\\\"b\\\\c\\n\\/\\t\"", "\"\\u00e9\\u0000\"", "\"caf\u00e9 \\ud83d\\ude00\"", "\"x\\q\""};
  switch (rng() % 8) {
    case 0:
    case 1: {  // replace a value
      rapidjson::Document r(&a);
      r.Parse(kReplacements[rng() % std::size(kReplacements)]);
      target.CopyFrom(r, a);
      break;
    }
    case 2: {  // a list grown (past max_items, or with a duplicate item)
      if (!target.IsArray() || target.Empty()) return text.substr(0, rng() % (text.size() + 1));
      rapidjson::Value item(target[0], a);
      const unsigned copies = 1 + rng() % 4;
      for (unsigned i = 0; i < copies; ++i) target.PushBack(rapidjson::Value(item, a), a);
      break;
    }
    case 3: {  // a member removed
      if (!target.IsObject() || target.MemberCount() == 0) return text + " ";
      target.RemoveMember(target.MemberBegin() + static_cast<long>(rng() % target.MemberCount()));
      break;
    }
    case 4: {  // a member repeated, or an unknown one added
      if (!target.IsObject() || target.MemberCount() == 0) return "[" + text + "]";
      const auto m = target.MemberBegin() + static_cast<long>(rng() % target.MemberCount());
      rapidjson::Value name(m->name, a), value(m->value, a);
      if (rng() % 2) name.SetString("unknownField", a);
      target.AddMember(name, value, a);
      break;
    }
    case 5: {  // a bad value deep inside, then the text cut after it
      std::string out = write(doc, rng() % 2 == 0);
      return out.substr(0, out.size() - 1 - rng() % std::min<std::size_t>(out.size(), 40));
    }
    case 6: {  // one byte garbled
      std::string out = write(doc, rng() % 2 == 0);
      static const char kBytes[] = "{}[]\",:0a-\\ tn\x01\xff";
      out[rng() % out.size()] = kBytes[rng() % (sizeof(kBytes) - 1)];
      return out;
    }
    default: {  // two replacements: the first error must be the same one
      rapidjson::Document r(&a);
      r.Parse(kReplacements[rng() % std::size(kReplacements)]);
      target.CopyFrom(r, a);
      rapidjson::Value& second = *values[rng() % values.size()];
      if (&second != &target && !second.IsObject() && !second.IsArray()) second.SetString("", a);
      break;
    }
  }
  std::string out = write(doc, rng() % 3 == 0);
  if (rng() % 8 == 0) out.insert(0, "\xEF\xBB\xBF");  // a byte-order mark, skipped by both
  return out;
}

template <class T>
void check_sax_agrees(std::string_view example, unsigned seed) {
  const std::string text = read_example(example);
  REQUIRE_FALSE(text.empty());
  CHECK(sax_verdict<T>(text) == dom_verdict<T>(text));
  std::mt19937 rng(seed);
  int accepted = 0, refused = 0;
  for (int n = 0; n < 3000; ++n) {
    const std::string json = variant(text, rng);
    const std::string dom = dom_verdict<T>(json);
    INFO(json);
    REQUIRE(sax_verdict<T>(json) == dom);
    (dom.rfind("ok ", 0) == 0 ? accepted : refused)++;
  }
  // Both outcomes are exercised.
  CHECK(accepted > 50);
  CHECK(refused > 1000);
}

}  // namespace

TEST_CASE("from_json (streaming) answers exactly as the DOM reader on broken variants", "[json][errors]") {
  SECTION("patient") { check_sax_agrees<care::Patient>("patient", 1); }
  SECTION("relatedPerson") { check_sax_agrees<care::RelatedPerson>("relatedPerson", 2); }
  SECTION("organization") { check_sax_agrees<care::Organization>("organization", 3); }
  SECTION("practitioner") { check_sax_agrees<care::Practitioner>("practitioner", 4); }
  SECTION("practitionerRole") { check_sax_agrees<care::PractitionerRole>("practitionerRole", 5); }
  SECTION("careTeamMember") { check_sax_agrees<care::CareTeamMember>("careTeamMember", 6); }
  SECTION("encounter") { check_sax_agrees<care::Encounter>("encounter", 7); }
  SECTION("referral") { check_sax_agrees<care::Referral>("referral", 8); }
  SECTION("eol") { check_sax_agrees<care::EndOfLifePlan>("eol", 9); }
  SECTION("provenance") { check_sax_agrees<care::Provenance>("provenance", 10); }
}

TEST_CASE("from_json (streaming) reports a list's size before an error inside it", "[json][errors]") {
  // read_struct checks the size first; the stream learns it at the list's end.
  const std::string eol =
      R"({"id":"x","version":1,"lastUpdated":"2024","patient":{"type":"Patient","id":"p1"},"createdAt":"2024",)";
  CHECK(error_of<care::EndOfLifePlan>(
            eol + R"("preferredPlaceOfDeath":[{"locationType":"60"},{"locationType":"30"},)"
                  R"({"locationType":"10"}]})") ==
        "eol.preferredPlaceOfDeath: at most 2 items allowed, got 3");
  // Within the limit, the item's own error.
  CHECK(error_of<care::EndOfLifePlan>(eol + R"("preferredPlaceOfDeath":[{"locationType":"21"},{"locationType":"6"}]})") ==
        "eol.preferredPlaceOfDeath[1].locationType: '6' is not an allowed value of "
        "DeathLocationType (10 | 20 | 21 | 22 | 30 | 40 | 41 | 42 | 50)");
  // A syntax error later in the text wins over a model error before it.
  const std::string late_syntax_error = patient_with(R"("gender":"woman",)");
  CHECK(error_of<care::Patient>(late_syntax_error) == "patient: invalid JSON at offset 82: Missing a name for object member.");
  CHECK(error_of<care::Patient>(late_syntax_error) == dom_verdict<care::Patient>(late_syntax_error));
}
