// Shared suite: entity versions, vread, history, deletes, preconditions, provenance.
#include "care/json.h"
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {
using care::EntityType;
}

TEMPLATE_TEST_CASE("entities: every write is a new version; vread reads each",
                   "[entities]", STORE_FACTORIES) {
  Fixture<TestType> f;
  care::Patient p = patient("p1", nhs_number(7), "Smith", "Ann", "1950-02-03");
  apply_ok(*f, batch({message("C1", {EntityWrite::put(p)})}));
  f.clock.advance(std::chrono::seconds(1));
  p.names[0].family = "Jones";
  p.version = 99;  // ignored: the store assigns versions
  auto r2 = apply_ok(*f, batch({message("C2", {EntityWrite::put(p)})}));
  CHECK(r2.messages[0].versions[0].version == 2);
  f.clock.advance(std::chrono::seconds(1));
  p.names[0].family = "Brown";
  apply_ok(*f, batch({message("C3", {EntityWrite::put(p)})}));

  auto cur = f->read(EntityType::kPatient, "p1");
  REQUIRE(cur.ok());
  REQUIRE(cur->has_value());
  CHECK((*cur)->version == 3);
  CHECK((*cur)->last_updated == "2024-03-01T10:00:02.000Z");
  auto parsed = care::from_json<care::Patient>((*cur)->json);
  REQUIRE(parsed.ok());
  CHECK(parsed->id == "p1");
  CHECK(parsed->version == 3);
  CHECK(parsed->last_updated == "2024-03-01T10:00:02.000Z");
  CHECK(parsed->names[0].family == "Brown");

  const char* families[] = {"Smith", "Jones", "Brown"};
  for (int v = 1; v <= 3; ++v) {
    auto old = f->vread(EntityType::kPatient, "p1", v);
    REQUIRE(old.ok());
    REQUIRE(old->has_value());
    auto e = care::from_json<care::Patient>((*old)->json);
    REQUIRE(e.ok());
    CHECK(e->version == v);
    CHECK(e->names[0].family == families[v - 1]);
  }
  auto missing = f->vread(EntityType::kPatient, "p1", 4);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  auto none = f->read(EntityType::kPatient, "nope");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  // Types are separate namespaces.
  auto other = f->read(EntityType::kEncounter, "p1");
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
}

TEMPLATE_TEST_CASE("entities: instance and type history, newest first, paged", "[entities]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  for (int v = 0; v < 5; ++v) {
    apply_ok(*f, batch({message("A" + std::to_string(v),
                                {EntityWrite::put(patient("a", "", "A" + std::to_string(v), "")),
                                 EntityWrite::put(patient("b", "", "B" + std::to_string(v), ""))})}));
    f.clock.advance(std::chrono::minutes(1));
  }
  auto h = f->history(EntityType::kPatient, "a", HistoryQuery{"", 2, ""});
  REQUIRE(h.ok());
  REQUIRE(h->entries.size() == 2);
  CHECK(h->entries[0].version == 5);
  CHECK(h->entries[1].version == 4);
  REQUIRE_FALSE(h->next_cursor.empty());
  std::vector<std::int64_t> versions;
  HistoryQuery q{"", 2, ""};
  for (;;) {
    auto page = f->history(EntityType::kPatient, "a", q);
    REQUIRE(page.ok());
    for (const auto& e : page->entries) versions.push_back(e.version);
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  CHECK(versions == std::vector<std::int64_t>{5, 4, 3, 2, 1});

  auto since = f->history(EntityType::kPatient, "a", HistoryQuery{"2024-03-01T10:03:00Z", 50, ""});
  REQUIRE(since.ok());
  CHECK(since->entries.size() == 2);

  auto th = f->type_history(EntityType::kPatient, HistoryQuery{"", 50, ""});
  REQUIRE(th.ok());
  CHECK(th->entries.size() == 10);
  CHECK(th->entries.front().version == 5);
  CHECK(th->entries.back().version == 1);
  auto enc = f->type_history(EntityType::kEncounter, HistoryQuery{"", 50, ""});
  REQUIRE(enc.ok());
  CHECK(enc->entries.empty());
  CHECK(f->history(EntityType::kPatient, "a", HistoryQuery{"", 50, "garbage"}).error().code ==
        StoreError::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("entities: a delete is a tombstone version", "[entities]", STORE_FACTORIES) {
  Fixture<TestType> f;
  apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("p1", nhs_number(3), "Smith", ""))})}));
  auto del = apply_ok(*f, batch({message("C2", {EntityWrite::remove(EntityType::kPatient, "p1")})}));
  REQUIRE(del.messages[0].status == JournalStatus::kAccepted);
  CHECK(del.messages[0].versions[0].version == 2);
  CHECK(del.messages[0].versions[0].deleted);

  auto cur = f->read(EntityType::kPatient, "p1");
  REQUIRE(cur.ok());
  REQUIRE(cur->has_value());  // answered as deleted (410), not as unknown (404)
  CHECK((*cur)->deleted);
  CHECK((*cur)->version == 2);
  CHECK((*cur)->json.empty());
  auto v1 = f->vread(EntityType::kPatient, "p1", 1);
  REQUIRE(v1.ok());
  CHECK_FALSE((*v1)->deleted);

  Query q;
  q.identifier = {std::string(care::codes::kNhsNumber), nhs_number(3)};
  auto found = f->search(q);
  REQUIRE(found.ok());
  CHECK(found->entries.empty());

  // Deleting again changes nothing; deleting what never existed fails the message.
  auto again = apply_ok(*f, batch({message("C3", {EntityWrite::remove(EntityType::kPatient, "p1")})}));
  CHECK(again.messages[0].status == JournalStatus::kAccepted);
  CHECK(again.messages[0].versions[0].version == 2);
  auto ghost = apply_ok(*f, batch({message("C4", {EntityWrite::remove(EntityType::kPatient, "zz")})}));
  CHECK(ghost.messages[0].status == JournalStatus::kFailed);
  CHECK(ghost.messages[0].reason.find("Patient/zz") != std::string::npos);

  // Writing after a delete revives the entity with the next version.
  auto back = apply_ok(*f, batch({message("C5", {EntityWrite::put(patient("p1", nhs_number(3), "Smith", ""))})}));
  CHECK(back.messages[0].versions[0].version == 3);
  found = f->search(q);
  REQUIRE(found.ok());
  CHECK(ids_of(found->entries) == std::vector<std::string>{"p1"});
}

TEMPLATE_TEST_CASE("entities: a failed precondition fails only its message", "[entities]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("p1", "", "A", ""))})}));
  auto r = apply_ok(*f, batch({
      message("C2", {EntityWrite::put(patient("p2", "", "B", "")),
                     EntityWrite::put(patient("p1", "", "A2", ""), /*if_version=*/5)}),
      message("C3", {EntityWrite::put(patient("p1", "", "A3", ""), /*if_version=*/1)}),
      message("C4", {EntityWrite::put(patient("p1", "", "A4", ""), /*if_version=*/0)}),
  }));
  CHECK(r.messages[0].status == JournalStatus::kFailed);
  CHECK(r.messages[0].reason.find("version conflict: Patient/p1 is at version 1") != std::string::npos);
  CHECK(r.messages[0].versions.empty());
  CHECK(r.messages[1].status == JournalStatus::kAccepted);
  CHECK(r.messages[2].status == JournalStatus::kFailed);  // create-only, but it exists

  // p2 was in the failed message: it must not exist, though its write came before the conflict.
  auto p2 = f->read(EntityType::kPatient, "p2");
  REQUIRE(p2.ok());
  CHECK_FALSE(p2->has_value());
  auto p1 = f->read(EntityType::kPatient, "p1");
  REQUIRE(p1.ok());
  CHECK((*p1)->version == 2);
  auto failed = f->journal_entry(r.messages[0].journal_seq);
  REQUIRE(failed.ok());
  CHECK((*failed)->entry.status == JournalStatus::kFailed);
  CHECK((*failed)->entry.reason == r.messages[0].reason);
  // A failed message does not hold its key: the sender may resend it.
  auto again = apply_ok(*f, batch({message("C2", {EntityWrite::put(patient("p2", "", "B", ""))})}));
  CHECK(again.messages[0].status == JournalStatus::kAccepted);
}

TEMPLATE_TEST_CASE("entities: the message's provenance is linked to every version", "[entities]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  // The Provenance comes last in the message: the store writes it first anyway.
  auto r = apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("", "", "New", "")),
                                              EntityWrite::put(encounter("e1", "x")),
                                              EntityWrite::put(provenance("PAS", "C1"))})}));
  const MessageOutcome& o = r.messages[0];
  REQUIRE(o.versions.size() == 3);
  CHECK(o.versions[0].type == EntityType::kPatient);
  CHECK(o.versions[1].type == EntityType::kEncounter);
  CHECK(o.versions[2].type == EntityType::kProvenance);
  const std::string patient_id = o.versions[0].id;
  const std::string prov_id = o.versions[2].id;
  CHECK(patient_id.size() == 36);  // assigned by the store
  CHECK(prov_id.size() == 36);

  auto prov = f->read(EntityType::kProvenance, prov_id);
  REQUIRE(prov.ok());
  auto pv = care::from_json<care::Provenance>((*prov)->json);
  REQUIRE(pv.ok());
  CHECK(pv->journal_id == std::to_string(o.journal_seq));

  auto pat = f->read(EntityType::kPatient, patient_id);
  REQUIRE(pat.ok());
  CHECK((*pat)->provenance_id == prov_id);
  CHECK((*pat)->journal_seq == o.journal_seq);
  auto pe = care::from_json<care::Patient>((*pat)->json);
  REQUIRE(pe.ok());
  REQUIRE(pe->provenance);
  CHECK(pe->provenance->id == prov_id);
}

}  // namespace midhurst::store::test
