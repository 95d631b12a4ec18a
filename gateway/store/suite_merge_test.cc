// Shared suite: A40 merges (replaced-by links).
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {
using care::EntityType;

care::Patient merged_into(care::Patient p, const std::string& survivor) {
  p.replaced_by = patient_ref(survivor);
  return p;
}
}  // namespace

TEMPLATE_TEST_CASE("merge: the old identifiers find the survivor", "[merge]", STORE_FACTORIES) {
  Fixture<TestType> f;
  care::Patient old = patient("old", nhs_number(10), "Smith", "Ann");
  old.identifiers.push_back(mrn("OLD-MRN"));
  care::Patient survivor = patient("new", nhs_number(11), "Smith", "Ann");
  survivor.identifiers.push_back(mrn("NEW-MRN"));
  apply_ok(*f, batch({message("C1", {EntityWrite::put(old), EntityWrite::put(survivor),
                                     EntityWrite::put(encounter("e-old", "old")),
                                     EntityWrite::put(encounter("e-new", "new"))})}));
  // The A40: the old record is replaced by the survivor (and says so), the survivor lists it.
  survivor.replaces.push_back(patient_ref("old"));
  auto r = apply_ok(*f, batch({message("A40", {EntityWrite::put(merged_into(old, "new")),
                                               EntityWrite::put(survivor)})}));
  REQUIRE(r.messages[0].status == JournalStatus::kAccepted);

  Query q;
  q.identifier = {"", "OLD-MRN"};
  auto page = f->search(q);
  REQUIRE(page.ok());
  CHECK(ids_of(page->entries) == std::vector<std::string>{"new"});
  q.identifier = {std::string(care::codes::kNhsNumber), nhs_number(10)};
  page = f->search(q);
  REQUIRE(page.ok());
  CHECK(ids_of(page->entries) == std::vector<std::string>{"new"});
  auto resolved = f->resolve_patient("old");
  REQUIRE(resolved.ok());
  CHECK(*resolved == "new");
  // Reading the old id answers with the record and its replaced-by link.
  auto o = f->read(EntityType::kPatient, "old");
  REQUIRE(o.ok());
  CHECK((*o)->json.find("\"replacedBy\"") != std::string::npos);
  // Encounters of the merged-away record are found through the survivor.
  Query enc;
  enc.type = EntityType::kEncounter;
  enc.patient = "new";
  enc.sort = SortOrder::kId;
  page = f->search(enc);
  REQUIRE(page.ok());
  CHECK(ids_of(page->entries) == std::vector<std::string>{"e-new", "e-old"});
}

TEMPLATE_TEST_CASE("merge: chains collapse to the final survivor; cycles are refused", "[merge]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("a", "", "A", "")),
                                     EntityWrite::put(patient("b", "", "B", "")),
                                     EntityWrite::put(patient("c", "", "C", ""))})}));
  apply_ok(*f, batch({message("M1", {EntityWrite::put(merged_into(patient("a", "", "A", ""), "b"))})}));
  apply_ok(*f, batch({message("M2", {EntityWrite::put(merged_into(patient("b", "", "B", ""), "c"))})}));
  for (const char* id : {"a", "b", "c"}) {
    auto r = f->resolve_patient(id);
    REQUIRE(r.ok());
    CHECK(*r == "c");
  }
  // c merged into a would make a loop (a already resolves to c).
  auto loop = apply_ok(*f, batch({message("M3", {EntityWrite::put(merged_into(patient("c", "", "C", ""), "a"))})}));
  CHECK(loop.messages[0].status == JournalStatus::kFailed);
  auto c = f->read(EntityType::kPatient, "c");
  REQUIRE(c.ok());
  CHECK((*c)->version == 1);
  // A37 unlink: writing b without replacedBy undoes its link (a keeps pointing at c).
  apply_ok(*f, batch({message("U1", {EntityWrite::put(patient("b", "", "B", ""))})}));
  auto b = f->resolve_patient("b");
  REQUIRE(b.ok());
  CHECK(*b == "b");
  auto unknown = f->resolve_patient("never-seen");
  REQUIRE(unknown.ok());
  CHECK(*unknown == "never-seen");
}

TEMPLATE_TEST_CASE("merge: an identifier several merged records share finds the survivor once, paged",
                   "[merge]", STORE_FACTORIES) {
  Fixture<TestType> f;
  // Three records hold the same local number; two are merged into the third.
  std::vector<EntityWrite> writes;
  for (const char* id : {"a", "b", "c"}) {
    care::Patient p = patient(id, "", "Shared", "Mrn");
    p.identifiers.push_back(mrn("SHARED-MRN"));
    writes.push_back(EntityWrite::put(p));
    writes.push_back(EntityWrite::put(encounter(std::string("e-") + id, id)));
  }
  apply_ok(*f, batch({message("C1", writes)}));
  for (const char* old : {"a", "b"}) {
    care::Patient p = patient(old, "", "Shared", "Mrn");
    p.identifiers.push_back(mrn("SHARED-MRN"));
    apply_ok(*f, batch({message(std::string("A40-") + old, {EntityWrite::put(merged_into(p, "c"))})}));
  }
  for (SortOrder sort : {SortOrder::kLastUpdated, SortOrder::kLastUpdatedDesc, SortOrder::kId}) {
    Query q;
    q.identifier = {"", "SHARED-MRN"};
    q.sort = sort;
    auto page = f->search(q);
    REQUIRE(page.ok());
    CHECK(ids_of(page->entries) == std::vector<std::string>{"c"});
    CHECK(page->next_cursor.empty());
    q.count = 1;
    page = f->search(q);
    REQUIRE(page.ok());
    CHECK(ids_of(page->entries) == std::vector<std::string>{"c"});
    CHECK(page->next_cursor.empty());
  }
  // The survivor's encounters, its own and the merged records', one page at a time in each
  // order, forward and back: each once, in order.
  for (SortOrder sort : {SortOrder::kLastUpdated, SortOrder::kLastUpdatedDesc, SortOrder::kId}) {
    Query q;
    q.type = EntityType::kEncounter;
    q.patient = "c";
    q.sort = sort;
    auto all = f->search(q);
    REQUIRE(all.ok());
    REQUIRE(all->entries.size() == 3);
    q.count = 1;
    std::vector<std::string> forward, back;
    std::string last_prev;
    for (int k = 0; k < 5; ++k) {
      auto page = f->search(q);
      REQUIRE(page.ok());
      REQUIRE(page->entries.size() == 1);
      forward.push_back(page->entries[0].id);
      last_prev = page->prev_cursor;
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    CHECK(forward == ids_of(all->entries));
    q.cursor = last_prev;
    while (!q.cursor.empty()) {
      auto page = f->search(q);
      REQUIRE(page.ok());
      REQUIRE(page->entries.size() == 1);
      back.insert(back.begin(), page->entries[0].id);
      q.cursor = page->prev_cursor;
    }
    back.push_back(forward.back());
    CHECK(back == forward);
  }
}

}  // namespace midhurst::store::test
