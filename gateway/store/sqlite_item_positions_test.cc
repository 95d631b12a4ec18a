// SQLite-specific: migration 7 gives the end-of-life plans stored before it their
// prognosis-awareness position and AKPS score terms (index_terms.h), which FHIR Observation
// counts rely on.
#include <sqlite3.h>

#include "store/index_terms.h"
#include "store/sqlite_schema.h"
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// Plans holding the item (a care path).
std::int64_t holding(Store& s, const std::string& item) {
  Query q;
  q.type = care::EntityType::kEndOfLifePlan;
  q.tokens.push_back({std::string(kItemParam), "", item});
  auto n = s.count(q);
  REQUIRE(n.ok());
  return *n;
}

care::EndOfLifePlan plan_with_awareness(const std::string& id, int findings) {
  care::EndOfLifePlan p;
  p.id = id;
  p.patient = patient_ref("p1");
  p.created_at = "2024-02-02T10:00:00Z";
  p.prognosis.emplace();
  for (int i = 0; i < findings; ++i) {
    care::CodeableConcept c;
    c.original_text = "finding " + std::to_string(i);
    p.prognosis->awareness.push_back(c);
  }
  if (findings == 1) {
    p.functional_status.emplace();
    p.functional_status->akps_score = 50;
  }
  return p;
}

}  // namespace

TEST_CASE("sqlite: migration 7 indexes the awareness positions and AKPS scores of the stored plans",
          "[sqlite][migration]") {
  TempDir dir;
  const std::string path = (dir.path() / "store.db").string();
  {
    auto s = open_store("sqlite:" + path);
    REQUIRE(s.ok());
    apply_ok(**s, batch({message("M1", {EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Ann")),
                                        EntityWrite::put(plan_with_awareness("plan-none", 0)),
                                        EntityWrite::put(plan_with_awareness("plan-one", 1)),
                                        EntityWrite::put(plan_with_awareness("plan-three", 3))})}));
    CHECK(holding(**s, "prognosis.awareness[0]") == 2);
    CHECK(holding(**s, "prognosis.awareness[2]") == 1);
    CHECK(holding(**s, "functionalStatus.akpsScore") == 1);
  }
  // The file as version 6 left it: the same plans without their position terms.
  exec(path, "DELETE FROM idx_term WHERE kind='t' AND param='item' AND "
             "(a LIKE 'prognosis.awareness[%' OR a='functionalStatus.akpsScore'); "
             "UPDATE schema_version SET version=6");
  {
    auto s = open_store("sqlite:" + path);
    REQUIRE(s.ok());
    CHECK(holding(**s, "prognosis.awareness[0]") == 2);
    CHECK(holding(**s, "prognosis.awareness[1]") == 1);
    CHECK(holding(**s, "prognosis.awareness[2]") == 1);
    CHECK(holding(**s, "prognosis.awareness[3]") == 0);
    CHECK(holding(**s, "functionalStatus.akpsScore") == 1);
  }
}

}  // namespace midhurst::store::test
