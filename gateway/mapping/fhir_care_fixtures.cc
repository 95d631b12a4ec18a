#include "mapping/fhir_care_fixtures.h"

#include <fstream>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "mapping/fhir_care_engine.h"
#include "mapping/fixtures.h"

namespace midhurst::mapping {

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(b);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize()) + "\n";
}

rapidjson::Value str(const std::string& s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string ends_replaced(const std::string& name, const std::string& from, const std::string& to) {
  return name.substr(0, name.size() - from.size()) + to;
}

}  // namespace

V2BuildOptions fixture_v2_options() {
  V2BuildOptions o;
  o.sending_application = "MIDHURST";
  o.sending_facility = "MIDHURST";
  o.receiving_application = "EPR";
  o.receiving_facility = "RYJ";
  o.control_id = "MIDHURST0001";
  o.timestamp = "20260101000000+0000";
  return o;
}

bool is_direction_fixture_input(const std::filesystem::path& input) {
  const std::string name = input.filename().string();
  return name.ends_with(".fhir-in.json") || name.ends_with(".care-in.json");
}

std::string fixture_actual_care_json(const ProfileSet& set, const std::string& fhir_json) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Document in;
  in.Parse(fhir_json.c_str(), fhir_json.size());
  if (in.HasParseError()) {
    d.AddMember("profile", "", a);
    d.AddMember("accepted", false, a);
    rapidjson::Value issues(rapidjson::kArrayType);
    issues.PushBack(str("the input is not JSON (offset " + std::to_string(in.GetErrorOffset()) + ")", a), a);
    d.AddMember("issues", issues, a);
    return pretty(d);
  }
  FhirCareOptions o;
  o.received_at = kFixtureReceivedAt;
  const Translation t = translate_from_fhir(set, in, o);
  d.AddMember("profile", str(t.profile ? t.profile->name : "", a), a);
  d.AddMember("accepted", t.accepted, a);
  rapidjson::Value record;
  t.record.to_json_value(record, a);
  d.AddMember("record", record, a);
  rapidjson::Value issues(rapidjson::kArrayType);
  for (const MappingIssue& i : t.issues) issues.PushBack(str(i.to_string(), a), a);
  d.AddMember("issues", issues, a);
  rapidjson::Value unread(rapidjson::kArrayType);
  for (const std::string& f : t.ledger.fields(LedgerEntry::Status::kUnread)) unread.PushBack(str(f, a), a);
  d.AddMember("unread", unread, a);
  return pretty(d);
}

std::string fixture_actual_v2_json(const ProfileSet& set, const std::string& care_json) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value issues(rapidjson::kArrayType);
  auto record = record_from_json(care_json);
  if (!record) {
    d.AddMember("profile", "", a);
    d.AddMember("accepted", false, a);
    issues.PushBack(str(record.error(), a), a);
    d.AddMember("issues", issues, a);
    return pretty(d);
  }
  auto b = translate_to_hl7v2(*record, set, fixture_v2_options());
  d.AddMember("profile", str(b.ok() && b->profile ? b->profile->name : "", a), a);
  d.AddMember("accepted", b.ok(), a);
  for (const MappingIssue& i : b.ok() ? b->issues : b.error()) issues.PushBack(str(i.to_string(), a), a);
  d.AddMember("issues", issues, a);
  if (b.ok()) {
    rapidjson::Value segments(rapidjson::kArrayType);
    std::istringstream lines(b->message.encode('\n'));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) segments.PushBack(str(line, a), a);
    d.AddMember("message", segments, a);
  }
  return pretty(d);
}

DirectionFixture run_direction_fixture(const ProfileSet& set, const std::filesystem::path& input) {
  const std::string name = input.filename().string();
  DirectionFixture f;
  if (name.ends_with(".fhir-in.json")) {
    f.expected = input.parent_path() / ends_replaced(name, ".fhir-in.json", ".care-out.json");
    f.actual = fixture_actual_care_json(set, read_file(input));
  } else {
    f.expected = input.parent_path() / ends_replaced(name, ".care-in.json", ".v2-out.json");
    f.actual = fixture_actual_v2_json(set, read_file(input));
  }
  return f;
}

}  // namespace midhurst::mapping
