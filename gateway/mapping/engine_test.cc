#include "mapping/engine.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "care/json.h"
#include "hl7v2/batch.h"
#include "mapping/fixtures.h"
#include "mapping/test_support.h"

using namespace midhurst;
using namespace midhurst::mapping;
using namespace midhurst::mapping::test;

namespace {

hl7v2::Message msg(std::string text) {
  auto m = hl7v2::Message::parse(std::move(text));
  REQUIRE(m.ok());
  return std::move(*m);
}

const char* kAdmit =
    "MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01^ADT_A01|1391320453338055|P|2.4|1||||GBR|UNICODE|EN||iTKv1.0\r"
    "EVN|A01|201010101418\r"
    "PID|1||3333333333^^^NHS^NH~633^^^RCB^MR||SMITH^FREDRICA^J ANN^^MRS^^L||196512131515|2|||29 WEST AVENUE^BURYTHORPE^MALTON^NORTH YORKSHIRE^yo32 5tt^GBR^H||01234 567890^PRN^PH~^NET^Internet^fred@example.org|||||||||C22|||||||20261025013000|Y||NSTS01\r"
    "PD1|||MALTON GP PRACTICE^^Y06601|G5612908^Townley^Gregory^^^Dr^^^GMP\r"
    "PV1|1|I|RCB^OBS1^BAY2-6^RCB55\r";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

bool has_issue(const Translation& t, const std::string& text) {
  for (const MappingIssue& i : t.issues)
    if (i.to_string().find(text) != std::string::npos) return true;
  return false;
}

std::string issues_of(const Translation& t) {
  std::string s;
  for (const MappingIssue& i : t.issues) s += i.to_string() + "\n";
  return s;
}

}  // namespace

TEST_CASE("an ITK ADT^A01 maps to a typed Patient with provenance", "[engine]") {
  const Translation t = translate(*shipped_profiles(), msg(kAdmit), {"2026-01-01T00:00:00+00:00", "j-1"});
  INFO(issues_of(t));
  REQUIRE(t.accepted);
  REQUIRE(t.profile);
  CHECK(t.profile->name == "adt-patient");
  const care::Patient* p = t.record.get<care::Patient>();
  REQUIRE(p);
  CHECK(p->nhs_number->value == "3333333333");
  CHECK(p->nhs_number->verification_status->code == "01");
  REQUIRE(p->identifiers.size() == 1);
  CHECK(p->identifiers[0].value == "633");
  CHECK(p->identifiers[0].system == "https://fhir.rcb.nhs.uk/Id/mrn");
  CHECK(p->identifiers[0].assigner_ods == "RCB");
  REQUIRE(p->names.size() == 1);
  CHECK(p->names[0].given == std::vector<std::string>{"FREDRICA", "J", "ANN"});
  CHECK(p->names[0].use == care::NameUse::kOfficial);
  CHECK(p->birth_date == "1965-12-13");
  CHECK(p->gender == care::AdministrativeGender::kFemale);
  CHECK(p->stated_gender->code == "2");
  CHECK(p->addresses[0].postcode == "YO32 5TT");
  CHECK(p->addresses[0].lines == std::vector<std::string>{"29 WEST AVENUE", "BURYTHORPE"});
  REQUIRE(p->telecoms.size() == 2);
  CHECK(p->telecoms[1].system == care::ContactSystem::kEmail);
  CHECK(p->telecoms[1].value == "fred@example.org");
  CHECK(p->registered_gp->practice_ods == "Y06601");
  CHECK(p->registered_gp->gp_gmp == "G5612908");
  CHECK(p->ethnic_category->codings[0].code == "C");
  CHECK(p->ethnic_category->original_text == "C22");
  CHECK(p->deceased == true);
  CHECK(p->deceased_at == "2026-10-25T01:30:00+01:00");  // ambiguous: first occurrence (BST)
  const care::Provenance* prov = t.record.get<care::Provenance>();
  REQUIRE(prov);
  CHECK(prov->sender.application == "PAS");
  CHECK(prov->sender.organization_ods == "RCB");
  CHECK(prov->message_id == "1391320453338055");
  CHECK(prov->message_type == "ADT^A01");
  CHECK(prov->profile->name == "adt-patient");
  CHECK(prov->profile->version == "0.2.0");
  CHECK(prov->received_at == "2026-01-01T00:00:00+00:00");
  // The output is typed, so it always serialises to valid care JSON that reads back.
  care::Patient stored = *p;  // the store assigns id and lastUpdated
  stored.id = "pat-1";
  stored.last_updated = prov->received_at;
  auto back = care::from_json<care::Patient>(care::to_json(stored));
  INFO((back.ok() ? std::string() : back.error().to_string()));
  CHECK(back.ok());
}

TEST_CASE("the field ledger says of every populated field: mapped, ignored or unread", "[engine]") {
  const Translation t = translate(*shipped_profiles(), msg(kAdmit));
  auto entry = [&](const std::string& f) -> const LedgerEntry* {
    for (const LedgerEntry& e : t.ledger.entries)
      if (e.field == f) return &e;
    return nullptr;
  };
  REQUIRE(entry("PID-5"));
  CHECK(entry("PID-5")->status == LedgerEntry::Status::kMapped);
  CHECK(entry("PID-5")->rules == std::vector<std::string>{"name.family", "name.given", "name.middle", "name.prefix", "name.use"});
  CHECK(entry("PID-3")->status == LedgerEntry::Status::kMapped);
  // The engine's own reads first, then the rules that read the event (the encounter's state).
  REQUIRE(entry("MSH-9")->rules.size() > 2);
  CHECK(entry("MSH-9")->rules[0] == "(match)");
  CHECK(entry("MSH-9")->rules[1] == "(provenance)");
  CHECK(entry("MSH-9")->rules[2] == "encounter.status");
  CHECK(entry("PID-1")->status == LedgerEntry::Status::kIgnored);
  CHECK(entry("MSH-7")->status == LedgerEntry::Status::kIgnored);
  CHECK(entry("PD1-3")->status == LedgerEntry::Status::kMapped);
  CHECK(entry("PD1-3")->unread == std::vector<std::string>{"PD1-3.1"});
  CHECK(entry("PD1-4")->unread.size() == 4);  // family, given, prefix, assigning authority
  CHECK(entry("PV1-1")->status == LedgerEntry::Status::kIgnored);
  CHECK(entry("PV1-3")->rules == std::vector<std::string>{"encounter.location.site-name", "encounter.location.ward",
                                                           "encounter.location.bed", "encounter.location.site-ods"});
  CHECK(entry("EVN-2")->rules == std::vector<std::string>{"encounter.transition.recorded"});
  CHECK(t.ledger.fields(LedgerEntry::Status::kUnread).empty());
  CHECK(entry("MSH-1") == nullptr);  // the delimiters are not data
}

TEST_CASE("the ledger skips fields of delimiters only and tells whole-field ignores from component ones",
          "[engine]") {
  // PV1-19 holds only its 4th component, which adt-patient ignores ("PV1-19.4"); PV1-1 is ignored
  // whole ("PV1-1"); AL1 is read by no rule: AL1-1 and AL1-4 hold only delimiters.
  const std::string text = replace(kAdmit, "PV1|1|I|RCB^OBS1^BAY2-6^RCB55\r",
                                   "PV1|1|I|RCB^OBS1^BAY2-6^RCB55||||||||||||||||^^^V1\rAL1|^^~^|x||^\r");
  const Translation t = translate(*shipped_profiles(), msg(text));
  auto entry = [&](const std::string& f) -> const LedgerEntry* {
    for (const LedgerEntry& e : t.ledger.entries)
      if (e.field == f) return &e;
    return nullptr;
  };
  CHECK(entry("AL1-1") == nullptr);
  CHECK(entry("AL1-4") == nullptr);
  REQUIRE(entry("AL1-2"));
  CHECK(entry("AL1-2")->status == LedgerEntry::Status::kUnread);
  CHECK(entry("AL1-2")->rules.empty());
  CHECK(entry("AL1-2")->unread.empty());
  REQUIRE(entry("PV1-1"));
  CHECK(entry("PV1-1")->status == LedgerEntry::Status::kIgnored);
  REQUIRE(entry("PV1-19"));
  CHECK(entry("PV1-19")->status == LedgerEntry::Status::kIgnored);
  CHECK(t.ledger.fields(LedgerEntry::Status::kUnread) == std::vector<std::string>{"AL1-2"});
}

TEST_CASE("match rules select the profile; a site overlay beats its base", "[engine]") {
  const std::string site =
      "{\"name\": \"site-rx1\", \"version\": \"1\", \"direction\": \"hl7v2→care\", \"extends\": \"base\",\n"
      " \"match\": {\"all\": [{\"path\": \"MSH-9.1\", \"equals\": \"ADT\"}, {\"path\": \"MSH-4.1\", \"equals\": \"RX1\"}]},\n"
      " \"rules\": [{\"id\": \"dob\", \"source\": \"PID-29.1\", \"target\": \"patient.birthDate\", \"transform\": [\"date\"]}]}";
  const std::string base =
      "{\"name\": \"base\", \"version\": \"1\", \"direction\": \"hl7v2→care\",\n"
      " \"match\": {\"path\": \"MSH-9.1\", \"equals\": \"ADT\"},\n"
      " \"rules\": [{\"id\": \"dob\", \"source\": \"PID-7.1\", \"target\": \"patient.birthDate\", \"transform\": [\"date\"]}]}";
  const std::string orders =
      "{\"name\": \"orders\", \"version\": \"1\", \"direction\": \"hl7v2→care\",\n"
      " \"match\": {\"path\": \"MSH-9.1\", \"in\": [\"ORM\", \"OML\"]},\n"
      " \"rules\": [{\"id\": \"dob\", \"source\": \"PID-7.1\", \"target\": \"patient.birthDate\", \"transform\": [\"date\"]}]}";
  auto set = ProfileSet::load({{"base.json", base}, {"site.json", site}, {"orders.json", orders}}, {});
  REQUIRE(set.ok());
  auto pick = [&](const char* facility, const char* type) {
    auto p = select_profile(**set, msg(std::string("MSH|^~\\&|APP|") + facility + "|||2026||" + type + "|1|P|2.4\rPID|1||1||X||19500101||||||||||||||||||||||20000101\r"));
    return p.ok() ? (*p)->name : "error: " + p.error().issue.why;
  };
  CHECK(pick("RCB", "ADT^A01") == "base");
  CHECK(pick("RX1", "ADT^A01") == "site-rx1");
  CHECK(pick("RX1", "ORM^O01") == "orders");
  CHECK(pick("RX1", "ORU^R01") == "error: no hl7v2→care profile matches this message (ORU^R01 from RX1)");
  const Translation t = translate(**set, msg("MSH|^~\\&|APP|RX1|||2026||ADT^A08|1|P|2.4\rPID|1||1||X||19500101||||||||||||||||||||||20000101\r"));
  REQUIRE(t.record.get<care::Patient>());
  CHECK(t.record.get<care::Patient>()->birth_date == "2000-01-01");  // the site's override
}

TEST_CASE("a failing required rule rejects the message with the v2 location", "[engine]") {
  // 3478526985 fails the Modulus 11 check (domain.md section 5).
  const Translation t = translate(*shipped_profiles(), msg(replace(kAdmit, "3333333333^^^NHS^NH", "3478526985^^^NHS^NH")));
  CHECK(!t.accepted);
  REQUIRE(!t.issues.empty());
  const MappingIssue& i = t.issues[0];
  CHECK(i.issue.severity == hl7v2::Severity::kError);
  CHECK(i.issue.code == hl7v2::ErrorCode::kDataType);
  CHECK(i.issue.where.segment_id == "PID");
  CHECK(i.issue.where.field == 3);
  CHECK(i.issue.where.repetition == 1);
  CHECK(i.issue.where.component == 1);
  CHECK(i.rule == "nhs-number.value");
  CHECK(i.source == "PID-3.1");
  CHECK(i.to_string().find("not a valid NHS number") != std::string::npos);
  // The same list feeds ERR segments and OperationOutcomes.
  CHECK(to_hl7_issues(t.issues)[0].where.field == 3);
  CHECK(operation_outcome_json(t.issues).find("\"code\":\"value\"") != std::string::npos);
}

TEST_CASE("an impossible birth date rejects; a missing NHS number does not", "[engine]") {
  const Translation bad_dob = translate(*shipped_profiles(), msg(replace(kAdmit, "196512131515", "19650230")));
  CHECK(!bad_dob.accepted);
  CHECK(has_issue(bad_dob, "error 102 (Data type error) at PID-7.1 [rule birth-date]"));
  const Translation no_nhs = translate(*shipped_profiles(), msg(replace(kAdmit, "3333333333^^^NHS^NH~", "")));
  INFO(issues_of(no_nhs));
  CHECK(no_nhs.accepted);
  CHECK(!no_nhs.record.get<care::Patient>()->nhs_number);
  CHECK(no_nhs.record.get<care::Patient>()->identifiers.size() == 1);
}

TEST_CASE("an optional failing rule leaves its target out with a warning; the rest converts", "[engine]") {
  std::string m = replace(kAdmit, "|2|||29 WEST", "|Q|||29 WEST");  // unknown sex code
  m = replace(m, "20261025013000|Y", "20261399|Y");                   // impossible death time
  const Translation t = translate(*shipped_profiles(), msg(m));
  INFO(issues_of(t));
  CHECK(t.accepted);
  const care::Patient* p = t.record.get<care::Patient>();
  CHECK(!p->gender);
  CHECK(p->deceased_at.empty());
  CHECK(p->birth_date == "1965-12-13");
  CHECK(has_issue(t, "warning 103 (Table value not found) at PID-8.1 [rule gender]: code 'Q' is not in ConceptMap"));
  CHECK(has_issue(t, "warning 102 (Data type error) at PID-29.1 [rule death-time]"));
}

TEST_CASE("the fixtures of the default profiles pass", "[fixtures]") {
  std::ostringstream out;
  // MIDHURST_UPDATE_FIXTURES=1 rewrites the expected files from the actual results.
  const bool update = std::getenv("MIDHURST_UPDATE_FIXTURES") != nullptr;
  const std::vector<FixtureResult> results = run_fixtures(*shipped_profiles(), MIDHURST_MAPPINGS_DIR, out, update);
  INFO(out.str());
  CHECK(results.size() >= 3);
  for (const FixtureResult& r : results) CHECK(r.passed);
}

TEST_CASE("the fixture runner prints a diff on failure", "[fixtures]") {
  CHECK(line_diff("a\nb\nc\n", "a\nx\nc\n") == "  a\n- b\n+ x\n  c\n");
}

TEST_CASE("every ADT message of the corpus translates to a Patient or fails with a clear reason", "[corpus]") {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2"))
    if (e.path().filename().string().rfind("msfc__ADT", 0) == 0) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 50);
  std::size_t patients = 0, rejected = 0, unsupported = 0;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    const std::string bytes = s.str();
    const hl7v2::BatchFile batch = hl7v2::split_batch(bytes);
    INFO(f.filename().string());
    for (const hl7v2::MessageSpan& span : batch.messages()) {
    auto m = hl7v2::Message::parse(std::string(span.bytes));
    REQUIRE(m.ok());
    const Translation t = translate(*shipped_profiles(), *m);
    if (t.accepted) {
      ++patients;
      CHECK(t.record.get<care::Patient>() != nullptr);
      // Every patient serialises and reads back as valid care JSON.
      care::Patient stored = *t.record.get<care::Patient>();
      stored.id = "pat-1";
      stored.last_updated = "2026-01-01T00:00:00+00:00";
      auto back = care::from_json<care::Patient>(care::to_json(stored));
      INFO((back.ok() ? std::string() : back.error().to_string()));
      CHECK(back.ok());
    } else {
      REQUIRE(!t.issues.empty());
      bool has_reason = false;
      for (const MappingIssue& i : t.issues)
        if (i.issue.severity == hl7v2::Severity::kError && !i.issue.why.empty() && !i.source.empty()) has_reason = true;
      CHECK(has_reason);
      if (t.profile) ++rejected;
      else ++unsupported;
      // Messages outside the profile's events must be refused as unsupported, naming MSH-9.
      if (!t.profile) CHECK(t.issues[0].source == "MSH-9");
    }
    }
  }
  CHECK(patients >= 20);
  WARN(patients << " patients, " << rejected << " rejected by rules, " << unsupported << " not supported");
}

namespace {

// The fixture messages of the default profiles, then every message of the HL7v2 corpus (whatever
// its outcome), as (name, message).
std::vector<std::pair<std::string, hl7v2::Message>> fixture_and_corpus_messages() {
  std::vector<std::pair<std::string, hl7v2::Message>> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(MIDHURST_MAPPINGS_DIR) + "/hl7v2-care/fixtures"))
    if (e.path().extension() == ".hl7") out.emplace_back(e.path().filename().string(), msg(read_file(e.path())));
  for (const auto& e : std::filesystem::directory_iterator(std::string(MIDHURST_CORPUS_DIR) + "/hl7v2")) {
    const std::string bytes = read_file(e.path());
    for (const hl7v2::MessageSpan& span : hl7v2::split_batch(bytes).messages())
      if (auto m = hl7v2::Message::parse(std::string(span.bytes))) out.emplace_back(e.path().filename().string(), std::move(*m));
  }
  return out;
}

}  // namespace

TEST_CASE("a lighter ledger: the same fields and statuses without rule lists, or none at all", "[engine]") {
  // Every fixture and corpus message: the record and issues do not depend on the ledger asked
  // for; kFields keeps each field's status (worked out without the rule lists), kNone builds no
  // ledger.
  std::size_t compared = 0, mapped = 0, ignored = 0, unread = 0;
  for (const auto& [name, m] : fixture_and_corpus_messages()) {
    TranslateOptions options;
    options.received_at = "2026-01-01T00:00:00+00:00";
    const Translation full = translate(*shipped_profiles(), m, options);
    const Translation fields = translate(*shipped_profiles(), m, options, LedgerDetail::kFields);
    const Translation none = translate(*shipped_profiles(), m, options, LedgerDetail::kNone);
    INFO(name);
    CHECK(fields.accepted == full.accepted);
    CHECK(fields.record == full.record);
    CHECK(none.record == full.record);
    CHECK(fields.issues.size() == full.issues.size());
    CHECK(none.ledger.entries.empty());
    REQUIRE(fields.ledger.entries.size() == full.ledger.entries.size());
    bool any_rules = false;
    for (std::size_t i = 0; i < full.ledger.entries.size(); ++i) {
      const LedgerEntry& entry = full.ledger.entries[i];
      CHECK(fields.ledger.entries[i].field == entry.field);
      CHECK(fields.ledger.entries[i].status == entry.status);
      CHECK(fields.ledger.entries[i].rules.empty());
      CHECK(fields.ledger.entries[i].unread.empty());
      any_rules = any_rules || !entry.rules.empty();
      mapped += entry.status == LedgerEntry::Status::kMapped;
      ignored += entry.status == LedgerEntry::Status::kIgnored;
      unread += entry.status == LedgerEntry::Status::kUnread;
    }
    if (full.profile) CHECK(any_rules);  // the full ledger names the rules
    ++compared;
  }
  CHECK(compared >= 100);
  CHECK(mapped > 0);
  CHECK(ignored > 0);
  CHECK(unread > 0);
}
