// SQLite-specific: idx_term (migration 3) holds exactly the terms of each current version however
// the entity got there (E3), updates write only the terms that changed, and a version-2 file's
// five index tables are carried over.
#include <algorithm>
#include <filesystem>
#include <random>

#include <sqlite3.h>

#include "store/fault.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/test_support.h"
#include "store/time_range.h"

namespace midhurst::store::test {

namespace {

namespace fs = std::filesystem;

// Every row of one query on the file, each row's columns joined by '|'.
std::vector<std::string> rows_of(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      if (i) row += '|';
      if (auto t = sqlite3_column_text(s, i)) row += reinterpret_cast<const char*>(t);
    }
    out.push_back(row);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// Counts the statements that write inside apply() (the "write" fault point), failing none.
struct WriteCounter : FaultInjection {
  int writes = 0;
  bool should_fail(std::string_view point) override {
    if (point == "write") ++writes;
    return false;
  }
};

std::vector<std::string> search_ids(Store& s, Query q) {
  q.type = care::EntityType::kPatient;
  return all_pages(s, std::move(q));
}

}  // namespace

TEST_CASE("sqlite: an update that keeps its search terms writes no index rows", "[sqlite][index]") {
  TempDir dir;
  WriteCounter counter;
  StoreOptions o;
  o.faults = &counter;
  auto s = open_store("sqlite:" + (dir.path() / "store.db").string(), o);
  REQUIRE(s.ok());
  Store& store = **s;
  auto p = patient("p1", nhs_number(1), "Smith", "Ann", "1950-02-03", care::AdministrativeGender::kFemale);
  p.identifiers.push_back(mrn("M1"));
  apply_ok(store, batch({message("C1", {EntityWrite::put(p)})}));

  counter.writes = 0;
  apply_ok(store, batch({message("C2", {EntityWrite::put(p)})}));
  const int same = counter.writes;

  auto renamed = p;
  renamed.names[0].family = "Jones";  // family and name change: two rows out, two in
  counter.writes = 0;
  apply_ok(store, batch({message("C3", {EntityWrite::put(renamed)})}));
  const int changed = counter.writes;
  CHECK(changed == same + 4);

  Query q;
  q.family = "smith";
  CHECK(search_ids(store, q).empty());
  q.family = "jones";
  CHECK(search_ids(store, q) == std::vector<std::string>{"p1"});
  Query by_mrn;
  by_mrn.identifier = {"https://fhir.example.org/Id/mrn-RYJ", "M1"};
  CHECK(search_ids(store, by_mrn) == std::vector<std::string>{"p1"});
}

TEST_CASE("sqlite: index rows are those of the current versions after any sequence of writes",
          "[sqlite][index]") {
  // Store A sees a random history of updates and deletes; store B gets only each entity's final
  // state, written once. Their idx_term tables must be identical.
  TempDir dir;
  const std::string a_path = (dir.path() / "a.db").string();
  const std::string b_path = (dir.path() / "b.db").string();
  auto a = open_store("sqlite:" + a_path);
  auto b = open_store("sqlite:" + b_path);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  std::mt19937 rng(42);
  const std::vector<std::string> families = {"Smith", "Jones", "O'Neill", "Zoë", "Smith"};
  const std::vector<std::string> dates = {"1950-02-03", "1950", "", "2001-12-31"};
  std::vector<std::optional<care::Patient>> final_state(12);
  int control = 0;
  for (int step = 0; step < 300; ++step) {
    const std::size_t k = rng() % final_state.size();
    const std::string id = "p" + std::to_string(k);
    Message m;
    if (final_state[k] && rng() % 8 == 0) {
      m = message("C" + std::to_string(++control), {EntityWrite::remove(care::EntityType::kPatient, id)});
      final_state[k].reset();
    } else {
      auto p = patient(id, rng() % 3 ? nhs_number(static_cast<std::int64_t>(k)) : "",
                       families[rng() % families.size()], rng() % 2 ? "Ann" : "",
                       dates[rng() % dates.size()]);
      if (rng() % 2) p.identifiers.push_back(mrn("M" + std::to_string(rng() % 3)));
      if (rng() % 3 == 0) p.names.push_back(p.names[0]);  // a repeated name: its terms repeat
      m = message("C" + std::to_string(++control), {EntityWrite::put(p)});
      final_state[k] = p;
    }
    apply_ok(**a, batch({std::move(m)}));
  }
  std::vector<EntityWrite> writes;
  for (const auto& p : final_state)
    if (p) writes.push_back(EntityWrite::put(*p));
  apply_ok(**b, batch({message("FINAL", std::move(writes))}));
  a->reset();
  b->reset();
  const std::string sql =
      "SELECT kind, type, param, a, b, id FROM idx_term WHERE type='Patient' ORDER BY 1,2,3,4,5,6";
  const auto rows_a = rows_of(a_path, sql);
  CHECK(rows_a.size() > 10);
  CHECK(rows_a == rows_of(b_path, sql));
}

TEST_CASE("sqlite: a version-2 file's search index is carried into idx_term", "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "v2.db").string();
  const std::string nhs = nhs_number(7);
  {
    // The file as version 2 wrote it: one patient with a row in each of the five index tables
    // (the family name twice, as a repeated name made it).
    auto c = sqlite::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                      std::chrono::milliseconds(1000));
    REQUIRE(c.ok());
    REQUIRE(sqlite::migrate(**c, 2).ok());
    const auto born = date_range("1950-02-03");
    REQUIRE(born.has_value());
    const std::string body =
        R"({"id":"old","version":1,"lastUpdated":"2024-01-01T00:00:00.000Z","nhsNumber":{"value":")" +
        nhs + R"("},"names":[{"family":"Oldname","given":["Ann"]}],"birthDate":"1950-02-03"})";
    for (const std::string& sql : {
             "INSERT INTO entity_version(type, id, version, last_updated, body) VALUES('Patient', "
             "'old', 1, '2024-01-01T00:00:00.000Z', '" + body + "')",
             std::string("INSERT INTO entity_current(type, id, version, seq, last_updated) "
                         "VALUES('Patient', 'old', 1, 1, '2024-01-01T00:00:00.000Z')"),
             "INSERT INTO idx_identifier VALUES('Patient', 'old', '" +
                 std::string(care::codes::kNhsNumber) + "', '" + nhs + "')",
             std::string("INSERT INTO idx_string VALUES('Patient', 'old', 'family', 'oldname')"),
             std::string("INSERT INTO idx_string VALUES('Patient', 'old', 'family', 'oldname')"),
             std::string("INSERT INTO idx_string VALUES('Patient', 'old', 'given', 'ann')"),
             "INSERT INTO idx_date VALUES('Patient', 'old', 'birthdate', '" + born->lo + "', '" +
                 born->hi + "')",
             std::string("INSERT INTO idx_token VALUES('Patient', 'old', 'gender', '', 'female')"),
             std::string("INSERT INTO idx_ref VALUES('Patient', 'old', 'general-practitioner', "
                         "'Practitioner', 'gp1')"),
         })
      REQUIRE((*c)->exec(sql).ok());
  }
  auto s = open_store("sqlite:" + path);
  REQUIRE(s.ok());
  Store& store = **s;
  CHECK(rows_of(path, "SELECT version FROM schema_version") ==
        std::vector<std::string>{std::to_string(sqlite::latest_schema_version())});
  CHECK(rows_of(path, "SELECT name FROM sqlite_schema WHERE name LIKE 'idx_%' AND type='table'") ==
        std::vector<std::string>{"idx_term"});
  CHECK(rows_of(path, "SELECT count(*) FROM idx_term WHERE id='old'") == std::vector<std::string>{"6"});

  const std::vector<std::string> old{"old"};
  Query q;
  q.identifier = {std::string(care::codes::kNhsNumber), nhs};
  CHECK(search_ids(store, q) == old);
  q = {};
  q.family = "old";
  CHECK(search_ids(store, q) == old);
  q = {};
  q.birthdate.push_back({DatePrefix::kEq, "1950-02"});
  CHECK(search_ids(store, q) == old);
  q = {};
  q.gender = "female";
  CHECK(search_ids(store, q) == old);
  q = {};
  q.references.push_back({"general-practitioner", "gp1"});
  CHECK(search_ids(store, q) == old);

  // The next version replaces the migrated rows like any others: nothing stale is left.
  apply_ok(store, batch({message("N1", {EntityWrite::put(patient("old", nhs, "Newname", "Ann"))})}));
  q = {};
  q.family = "old";
  CHECK(search_ids(store, q).empty());
  q.family = "new";
  CHECK(search_ids(store, q) == old);
  q = {};
  q.gender = "female";
  CHECK(search_ids(store, q).empty());
  s->reset();
  CHECK(rows_of(path, "SELECT param || '=' || a FROM idx_term WHERE id='old' ORDER BY 1") ==
        std::vector<std::string>{"family=newname", "given=ann", "identifier=" + nhs, "name=ann",
                                 "name=newname"});
}

}  // namespace midhurst::store::test

namespace midhurst::store::test {

TEST_CASE("sqlite: identifier and patient together find only that patient's entity",
          "[sqlite][index]") {
  // The ingest looks up "this patient's encounter with this visit number"; a visit number that
  // other patients' encounters share must not match theirs.
  TempDir dir;
  auto s = open_store("sqlite:" + (dir.path() / "store.db").string());
  REQUIRE(s.ok());
  std::vector<EntityWrite> writes;
  for (int k = 0; k < 5; ++k) {
    auto e = encounter("e" + std::to_string(k), "p" + std::to_string(k));
    e.identifiers.push_back(care::Identifier{"https://example.org/visit", "2139", "VN", "", std::nullopt});
    writes.push_back(EntityWrite::put(e));
  }
  apply_ok(**s, batch({message("E1", std::move(writes))}));
  Query q;
  q.type = care::EntityType::kEncounter;
  q.identifier = {"https://example.org/visit", "2139"};
  q.patient = "p3";
  CHECK(all_pages(**s, q) == std::vector<std::string>{"e3"});
  q.identifier = {"", "2139"};
  CHECK(all_pages(**s, q) == std::vector<std::string>{"e3"});
  q.identifier = {"https://example.org/visit", "9999"};
  CHECK(all_pages(**s, q).empty());
  q.patient = "";
  q.identifier = {"https://example.org/visit", "2139"};
  CHECK(all_pages(**s, q).size() == 5);
}

}  // namespace midhurst::store::test

namespace midhurst::store::test {

TEST_CASE("sqlite: a patient's entities are checked against names, tokens and references",
          "[sqlite][index]") {
  // The ingest looks up "this patient's contact named Jones who is a spouse": names, tokens and
  // references that many patients' entities share must narrow the patient's, never add others'.
  TempDir dir;
  auto s = open_store("sqlite:" + (dir.path() / "store.db").string());
  REQUIRE(s.ok());
  std::vector<EntityWrite> writes;
  auto person = [&](const std::string& id, const std::string& patient, const std::string& family,
                    const std::string& relationship) {
    care::RelatedPerson r;
    r.id = id;
    r.patient = patient_ref(patient);
    r.name = care::HumanName{};
    r.name->family = family;
    r.name->given = {"David"};
    r.relationships.push_back(care::CodeableConcept{{care::Coding{"", relationship, ""}}, ""});
    writes.push_back(EntityWrite::put(r));
  };
  for (int k = 0; k < 4; ++k) person("r" + std::to_string(k), "p" + std::to_string(k), "Jones", "02");
  person("r10", "p1", "Jonesworth", "02");
  person("r11", "p1", "Jones", "03");
  person("r12", "p1", "Smith", "02");
  apply_ok(**s, batch({message("R1", std::move(writes))}));
  Query q;
  q.type = care::EntityType::kRelatedPerson;
  q.patient = "p1";
  q.sort = SortOrder::kId;
  CHECK(all_pages(**s, q) == std::vector<std::string>{"r1", "r10", "r11", "r12"});
  q.family = "jones";  // a prefix
  CHECK(all_pages(**s, q) == std::vector<std::string>{"r1", "r10", "r11"});
  q.tokens.push_back({"relationship", "", "02"});
  CHECK(all_pages(**s, q) == std::vector<std::string>{"r1", "r10"});
  q.references.emplace_back("patient", "p1");
  CHECK(all_pages(**s, q) == std::vector<std::string>{"r1", "r10"});
  CHECK(*(*s)->count(q) == 2);
  q.tokens = {{"relationship", "", "99"}};
  CHECK(all_pages(**s, q).empty());
  // Without a patient the same criteria find every patient's.
  q.patient = "";
  q.references.clear();
  q.tokens = {{"relationship", "", "02"}};
  CHECK(all_pages(**s, q) == std::vector<std::string>{"r0", "r1", "r10", "r2", "r3"});
}


}  // namespace midhurst::store::test

namespace midhurst::store::test {

TEST_CASE("sqlite: migration 4 reindexes referrals and end-of-life plans", "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "v3.db").string();
  {
    auto s = open_store("sqlite:" + path);
    REQUIRE(s.ok());
    care::Referral ref;
    ref.id = "r1";
    ref.patient = patient_ref("p1");
    ref.status = care::ReferralStatus::kActive;
    ref.recipient_status = care::RecipientStatus::kAccepted;
    ref.authored_on = "2024-02-01T09:00:00Z";
    // A body the care model no longer reads (authoredOn is required): it keeps the rows it has.
    care::Referral invalid = ref;
    invalid.id = "r2";
    invalid.authored_on.clear();
    care::EndOfLifePlan eol;
    eol.id = "eol1";
    eol.patient = patient_ref("p1");
    eol.created_at = "2024-02-02T10:00:00Z";
    eol.cpr_decision = care::CprDecision{};
    eol.cpr_decision->decision = care::CprDecisionCode::kDnacpr;
    eol.preferred_place_of_death.resize(2);
    care::EndOfLifePlan gone = eol;
    gone.id = "eol2";
    apply_ok(**s, batch({message("M1", {EntityWrite::put(ref), EntityWrite::put(invalid), EntityWrite::put(eol),
                                        EntityWrite::put(gone)})}));
    apply_ok(**s, batch({message("M2", {EntityWrite::remove(care::EntityType::kEndOfLifePlan, "eol2")})}));
  }
  const std::string terms =
      "SELECT type, param, a, id FROM idx_term WHERE param IN ('item','recipient-status') ORDER BY 1,2,3,4";
  const std::vector<std::string> expected{
      "EndOfLifePlan|item|cprDecision|eol1", "EndOfLifePlan|item|preferredPlaceOfDeath[0]|eol1",
      "EndOfLifePlan|item|preferredPlaceOfDeath[1]|eol1", "Referral|recipient-status|accepted|r1"};
  CHECK(rows_of(path, terms + "") ==
        std::vector<std::string>{expected[0], expected[1], expected[2], expected[3],
                                 "Referral|recipient-status|accepted|r2"});
  const std::string others = "SELECT * FROM idx_term WHERE param NOT IN ('item','recipient-status') ORDER BY 1,2,3,4,5,6";
  const auto all_before = rows_of(path, others);
  {
    // The file as version 3 left it: the same entities without the new terms.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DELETE FROM idx_term WHERE param IN ('item','recipient-status'); "
                             "UPDATE schema_version SET version=3", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  REQUIRE(rows_of(path, terms).empty());
  auto s = open_store("sqlite:" + path);
  INFO((s.ok() ? "" : s.error().message));
  REQUIRE(s.ok());
  CHECK(rows_of(path, "SELECT version FROM schema_version") ==
        std::vector<std::string>{std::to_string(sqlite::latest_schema_version())});
  // Exactly the rows the store writes itself, and none for the deleted plan.
  CHECK(rows_of(path, terms) == expected);
  CHECK(rows_of(path, others) == all_before);
  CHECK(rows_of(path, "SELECT count(*) FROM idx_term WHERE id='r2'") != std::vector<std::string>{"0"});
  Query q;
  q.type = care::EntityType::kReferral;
  q.any_tokens.push_back({{"recipient-status", "", "accepted"}});
  CHECK(all_pages(**s, q) == std::vector<std::string>{"r1"});
}

}  // namespace midhurst::store::test

namespace midhurst::store::test {

TEST_CASE("sqlite: migration 5 adds the Provenance targets index and the record-status terms",
          "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "v4.db").string();
  {
    auto s = open_store("sqlite:" + path);
    REQUIRE(s.ok());
    care::Provenance prov = provenance("PAS", "M1");
    prov.id = "prov1";
    care::Referral ref;
    ref.id = "r1";
    ref.patient = patient_ref("p1");
    ref.status = care::ReferralStatus::kActive;  // no recipient status
    ref.authored_on = "2024-02-01T09:00:00Z";
    care::EndOfLifePlan eol;
    eol.id = "eol1";
    eol.patient = patient_ref("p1");
    eol.created_at = "2024-02-02T10:00:00Z";
    eol.cpr_decision = care::CprDecision{};
    eol.cpr_decision->recorded = care::Recorded{};
    eol.cpr_decision->recorded->status = care::RecordStatus::kInactive;
    eol.adrt = care::Adrt{};
    apply_ok(**s, batch({message("M1", {EntityWrite::put(prov), EntityWrite::put(ref), EntityWrite::put(eol)})}));
  }
  const std::string terms =
      "SELECT type, param, b, a, id FROM idx_term WHERE param='record-status' OR a='(absent)' ORDER BY 1,2,3,4,5";
  const std::vector<std::string> expected{"EndOfLifePlan|record-status|adrt|(absent)|eol1",
                                          "EndOfLifePlan|record-status|cprDecision|inactive|eol1",
                                          "Referral|recipient-status||(absent)|r1"};
  REQUIRE(rows_of(path, terms) == expected);
  const std::string others = "SELECT * FROM idx_term WHERE NOT (param='record-status' OR a='(absent)') ORDER BY 1,2,3,4,5,6";
  const auto all_before = rows_of(path, others);
  {
    // The file as version 4 left it.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DELETE FROM idx_term WHERE param='record-status' OR a='(absent)'; "
                             "DROP INDEX entity_version_provenance; UPDATE schema_version SET version=4",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  REQUIRE(rows_of(path, terms).empty());
  auto s = open_store("sqlite:" + path);
  INFO((s.ok() ? "" : s.error().message));
  REQUIRE(s.ok());
  CHECK(rows_of(path, "SELECT version FROM schema_version") ==
        std::vector<std::string>{std::to_string(sqlite::latest_schema_version())});
  CHECK(rows_of(path, terms) == expected);
  CHECK(rows_of(path, others) == all_before);
  CHECK(rows_of(path, "SELECT name FROM sqlite_schema WHERE name='entity_version_provenance'") ==
        std::vector<std::string>{"entity_version_provenance"});
  // cited_by answers through the index, not a scan of every version.
  const auto plan = rows_of(path, "EXPLAIN QUERY PLAN SELECT type, id, version FROM entity_version WHERE "
                                  "provenance_id='prov1' AND provenance_id <> '' ORDER BY seq LIMIT 10");
  REQUIRE_FALSE(plan.empty());
  CHECK(plan[0].find("entity_version_provenance") != std::string::npos);
  auto cited = (*s)->cited_by("prov1", 10);
  REQUIRE(cited.ok());
  CHECK(cited->size() == 2);
  Query q;
  q.type = care::EntityType::kEndOfLifePlan;
  q.any_tokens.push_back({{"record-status", "cprDecision", "inactive"}});
  CHECK(all_pages(**s, q) == std::vector<std::string>{"eol1"});
}

}  // namespace midhurst::store::test
