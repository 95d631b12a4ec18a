#include "mapping/fixtures.h"
#include "mapping/fhir_care_fixtures.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "care/json.h"
#include "mapping/engine.h"
#include "mapping/fhir_engine.h"

namespace midhurst::mapping {

namespace {

std::string pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

std::string fixture_actual_json(const ProfileSet& set, const std::string& hl7_text) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); };
  auto parsed = hl7v2::Message::parse(hl7_text);
  if (!parsed) {
    d.AddMember("profile", "", a);
    d.AddMember("accepted", false, a);
    d.AddMember("record", rapidjson::Value(rapidjson::kObjectType), a);
    rapidjson::Value issues(rapidjson::kArrayType);
    issues.PushBack(str(parsed.error().to_string()), a);
    d.AddMember("issues", issues, a);
    d.AddMember("unread", rapidjson::Value(rapidjson::kArrayType), a);
    return pretty(d);
  }
  TranslateOptions o;
  o.received_at = kFixtureReceivedAt;
  const Translation t = translate(set, *parsed, o);
  d.AddMember("profile", str(t.profile ? t.profile->name : ""), a);
  d.AddMember("accepted", t.accepted, a);
  rapidjson::Value rec;
  t.record.to_json_value(rec, a);
  d.AddMember("record", rec, a);
  rapidjson::Value issues(rapidjson::kArrayType);
  for (const MappingIssue& i : t.issues) issues.PushBack(str(i.to_string()), a);
  d.AddMember("issues", issues, a);
  rapidjson::Value unread(rapidjson::kArrayType);
  for (const std::string& f : t.ledger.fields(LedgerEntry::Status::kUnread)) unread.PushBack(str(f), a);
  d.AddMember("unread", unread, a);
  return pretty(d);
}

Result<care::Record, std::string> record_from_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return err(std::string("a care record is a JSON object"));
  care::Record record;
  for (const auto& m : d.GetObject()) {
    const std::string name(m.name.GetString(), m.name.GetStringLength());
    const care::EntityInfo* e = care::find_entity(name);
    if (!e) return err("'" + name + "' is not a care entity");
    if (auto s = care::struct_from_value(e->info(), record.ensure(e->type), m.value); !s.ok())
      return err(s.error().to_string());
  }
  return record;
}

std::string fixture_actual_fhir_json(const ProfileSet& set, const std::string& care_json) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); };
  rapidjson::Value issues(rapidjson::kArrayType);
  auto record = record_from_json(care_json);
  if (!record) {
    d.AddMember("accepted", false, a);
    issues.PushBack(str(record.error()), a);
    d.AddMember("issues", issues, a);
    return pretty(d);
  }
  auto t = translate_to_fhir(*record, set);
  d.AddMember("accepted", t.ok(), a);
  for (const MappingIssue& i : t.ok() ? t->issues : t.error()) issues.PushBack(str(i.to_string()), a);
  d.AddMember("issues", issues, a);
  if (t.ok()) d.AddMember("bundle", rapidjson::Value(t->bundle, a), a);
  return pretty(d);
}

std::string line_diff(const std::string& a, const std::string& b) {
  const std::vector<std::string> x = lines(a), y = lines(b);
  const std::size_t n = x.size(), m = y.size();
  std::vector<std::vector<std::uint32_t>> lcs(n + 1, std::vector<std::uint32_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<std::string> out;
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] == y[j]) {
      out.push_back("  " + x[i]), ++i, ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back("- " + x[i++]);
    } else {
      out.push_back("+ " + y[j++]);
    }
  }
  // Keep two lines of context around each change.
  std::string text;
  for (std::size_t k = 0; k < out.size(); ++k) {
    bool near = false;
    for (std::size_t d = (k >= 2 ? k - 2 : 0); d <= std::min(out.size() - 1, k + 2); ++d)
      if (out[d][0] != ' ') near = true;
    if (near) text += out[k] + "\n";
  }
  return text;
}

std::vector<FixtureResult> run_fixtures(const ProfileSet& set, const std::string& dir, std::ostream& out,
                                        bool update) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().parent_path().filename() == "fixtures" &&
        (it->path().extension() == ".hl7" || it->path().filename().string().ends_with(".care.json") ||
         is_direction_fixture_input(it->path())))
      inputs.push_back(it->path());
  std::sort(inputs.begin(), inputs.end());
  std::vector<FixtureResult> results;
  std::size_t passed = 0;
  for (const fs::path& in : inputs) {
    FixtureResult r;
    r.name = fs::relative(in, dir).generic_string();
    const bool care_input = in.extension() != ".hl7";
    fs::path expected_path = in;
    if (care_input) expected_path.replace_extension("").replace_extension(".fhir.json");  // NAME.care.json -> NAME.fhir.json
    else expected_path.replace_extension(".json");
    std::string actual;
    if (is_direction_fixture_input(in)) {  // fhir→care, care→hl7v2 (fhir_care_fixtures.h)
      DirectionFixture f = run_direction_fixture(set, in);
      expected_path = f.expected;
      actual = std::move(f.actual);
    } else {
      actual = care_input ? fixture_actual_fhir_json(set, read_file(in)) : fixture_actual_json(set, read_file(in));
    }
    if (!fs::exists(expected_path)) {
      r.diff = "no expected result " + fs::relative(expected_path, dir).generic_string() + "; the actual one is:\n" + actual;
    } else {
      rapidjson::Document e, a;
      const std::string expected = read_file(expected_path);
      e.Parse(expected.c_str());
      a.Parse(actual.c_str());
      if (e.HasParseError()) {
        r.diff = "expected result is not valid JSON (offset " + std::to_string(e.GetErrorOffset()) + ")";
      } else if (e == a) {
        r.passed = true;
      } else {
        r.diff = line_diff(pretty(e), actual);
      }
    }
    if (!r.passed && update) {
      std::ofstream(expected_path, std::ios::binary) << actual;
      r.diff += "(expected result rewritten)\n";
    }
    out << (r.passed ? "PASS " : "FAIL ") << r.name << "\n";
    if (!r.passed) out << r.diff;
    passed += r.passed;
    results.push_back(std::move(r));
  }
  out << passed << " of " << results.size() << " fixture(s) passed\n";
  return results;
}

}  // namespace midhurst::mapping
