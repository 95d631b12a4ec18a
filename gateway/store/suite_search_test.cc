// Shared suite: search by every index, and keyset pagination.
#include <algorithm>
#include <set>

#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

using care::AdministrativeGender;
using care::EntityType;

std::vector<std::string> search_ids(Store& s, const Query& q) {
  auto p = s.search(q);
  if (!p.ok()) FAIL(p.error().message);
  auto ids = ids_of(p->entries);
  std::sort(ids.begin(), ids.end());
  return ids;
}

using Ids = std::vector<std::string>;

// Four patients, an encounter and a referral and an EoL plan for p1.
template <class F>
void seed(Fixture<F>& f) {
  care::Patient p1 = patient("p1", nhs_number(1), "O'Súilleabháin", "Zoë", "1950", AdministrativeGender::kFemale);
  p1.identifiers.push_back(mrn("M1"));
  care::Patient p2 = patient("p2", nhs_number(2), "Smith", "Ann", "1950-06-15", AdministrativeGender::kFemale);
  care::Patient p3 = patient("p3", nhs_number(3), "Smithson", "Bob", "1951-01-01", AdministrativeGender::kMale);
  care::Patient p4 = patient("p4", nhs_number(4), "Jones", "Anne-Marie", "1949-12-31T23:00:00+00:00",
                             AdministrativeGender::kMale);
  p4.birth_date = "1949-12-31";
  care::Referral ref;
  ref.id = "r1";
  ref.patient = patient_ref("p1");
  ref.status = care::ReferralStatus::kActive;
  ref.authored_on = "2024-02-01T09:00:00Z";
  ref.requester.organization = care::Reference{EntityType::kOrganization, "org1", std::nullopt, ""};
  care::EndOfLifePlan eol;
  eol.id = "eol1";
  eol.patient = patient_ref("p1");
  eol.created_at = "2024-02-02T10:00:00Z";
  eol.cpr_decision = care::CprDecision{};
  eol.cpr_decision->decision = care::CprDecisionCode::kDnacpr;
  care::PlaceChoice hospice;
  hospice.location_type = care::DeathLocationType::k30Hospice;
  eol.preferred_place_of_death.push_back(hospice);
  apply_ok(*f, batch({message("S1", {EntityWrite::put(p1), EntityWrite::put(p2)})}));
  f.clock.advance(std::chrono::hours(1));
  apply_ok(*f, batch({message("S2", {EntityWrite::put(p3), EntityWrite::put(p4),
                                     EntityWrite::put(encounter("e1", "p1", "2024-01-10T08:00:00Z",
                                                                "2024-01-12T17:00:00Z")),
                                     EntityWrite::put(encounter("e2", "p2", "2024-02-10T08:00:00Z")),
                                     EntityWrite::put(ref), EntityWrite::put(eol)})}));
}

}  // namespace

TEMPLATE_TEST_CASE("search: by identifier, with and without system", "[search]", STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  Query q;
  q.identifier = {std::string(care::codes::kNhsNumber), nhs_number(2)};
  CHECK(search_ids(*f, q) == Ids{"p2"});
  q.identifier = {"", nhs_number(2)};
  CHECK(search_ids(*f, q) == Ids{"p2"});
  q.identifier = {"https://fhir.example.org/Id/mrn-RYJ", "M1"};
  CHECK(search_ids(*f, q) == Ids{"p1"});
  q.identifier = {"https://other.example/ids", "M1"};
  CHECK(search_ids(*f, q).empty());
  // The index follows the current version: an identifier removed by an update no longer matches.
  care::Patient p1 = patient("p1", nhs_number(1), "X", "");
  apply_ok(*f, batch({message("U1", {EntityWrite::put(p1)})}));
  q.identifier = {"", "M1"};
  CHECK(search_ids(*f, q).empty());
}

TEMPLATE_TEST_CASE("search: by name prefix, ignoring case and accents", "[search]", STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  Query q;
  q.family = "smith";
  CHECK(search_ids(*f, q) == Ids{"p2", "p3"});
  q.family = "SMITHS";
  CHECK(search_ids(*f, q) == Ids{"p3"});
  q.family = "o'suille";
  CHECK(search_ids(*f, q) == Ids{"p1"});
  q = Query{};
  q.given = "zoe";
  CHECK(search_ids(*f, q) == Ids{"p1"});
  q = Query{};
  q.name = "ann";  // given "Ann" and "Anne-Marie"
  CHECK(search_ids(*f, q) == Ids{"p2", "p4"});
  q.name = "jon";  // family
  CHECK(search_ids(*f, q) == Ids{"p4"});
  q = Query{};
  q.family = "smith";
  q.given = "bob";
  CHECK(search_ids(*f, q) == Ids{"p3"});
}

TEMPLATE_TEST_CASE("search: by birth date with prefixes and partial dates", "[search]", STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  // Birth dates: p1 "1950" (the whole year), p2 1950-06-15, p3 1951-01-01, p4 1949-12-31.
  auto by = [&](DatePrefix p, const char* v) {
    Query q;
    q.birthdate.push_back(DateParam{p, v});
    return search_ids(*f, q);
  };
  CHECK(by(DatePrefix::kEq, "1950") == Ids{"p1", "p2"});
  CHECK(by(DatePrefix::kEq, "1950-06") == Ids{"p2"});  // p1's range is wider than June
  CHECK(by(DatePrefix::kEq, "1950-06-15") == Ids{"p2"});
  CHECK(by(DatePrefix::kLt, "1950-01-01") == Ids{"p4"});
  CHECK(by(DatePrefix::kLt, "1950-06-15") == Ids{"p1", "p4"});  // p1's range starts before
  CHECK(by(DatePrefix::kGt, "1950-12-31") == Ids{"p3"});
  CHECK(by(DatePrefix::kGe, "1950-06-15") == Ids{"p1", "p2", "p3"});
  CHECK(by(DatePrefix::kLe, "1950") == Ids{"p1", "p2", "p4"});
  CHECK(by(DatePrefix::kNe, "1950") == Ids{"p3", "p4"});
  Query range;
  range.birthdate = {DateParam{DatePrefix::kGe, "1950-01-01"}, DateParam{DatePrefix::kLt, "1951"}};
  CHECK(search_ids(*f, range) == Ids{"p1", "p2"});
  Query bad;
  bad.birthdate.push_back(DateParam{DatePrefix::kEq, "1950-13"});
  CHECK(f->search(bad).error().code == StoreError::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("search: by gender, lastUpdated, id and tokens", "[search]", STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  Query q;
  q.gender = "male";
  CHECK(search_ids(*f, q) == Ids{"p3", "p4"});
  q = Query{};
  q.last_updated.push_back(DateParam{DatePrefix::kGe, "2024-03-01T10:30:00Z"});
  CHECK(search_ids(*f, q) == Ids{"p3", "p4"});
  q = Query{};
  q.last_updated.push_back(DateParam{DatePrefix::kLt, "2024-03-01T10:30:00+00:00"});
  CHECK(search_ids(*f, q) == Ids{"p1", "p2"});
  q = Query{};
  q.ids = {"p2", "p4", "zz"};
  CHECK(search_ids(*f, q) == Ids{"p2", "p4"});

  Query eol;
  eol.type = EntityType::kEndOfLifePlan;
  eol.tokens.push_back(TokenParam{"cpr-decision", "", "dnacpr"});
  CHECK(search_ids(*f, eol) == Ids{"eol1"});
  eol.tokens[0].code = "for-cpr";
  CHECK(search_ids(*f, eol).empty());
  eol.tokens = {TokenParam{"preferred-place-of-death", "", "30"}};
  CHECK(search_ids(*f, eol) == Ids{"eol1"});

  Query enc;
  enc.type = EntityType::kEncounter;
  enc.tokens.push_back(TokenParam{"status", "", "in-progress"});
  CHECK(search_ids(*f, enc) == Ids{"e1", "e2"});
  auto n = f->count(enc);
  REQUIRE(n.ok());
  CHECK(*n == 2);
}

TEMPLATE_TEST_CASE("search: by patient and other references, and clinical dates", "[search]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  Query q;
  q.type = EntityType::kEncounter;
  q.patient = "p1";
  CHECK(search_ids(*f, q) == Ids{"e1"});
  q.type = EntityType::kReferral;
  CHECK(search_ids(*f, q) == Ids{"r1"});
  q.type = EntityType::kEndOfLifePlan;
  CHECK(search_ids(*f, q) == Ids{"eol1"});
  q = Query{};
  q.type = EntityType::kReferral;
  q.references.push_back({"requester", "org1"});
  CHECK(search_ids(*f, q) == Ids{"r1"});
  q.references[0].second = "org2";
  CHECK(search_ids(*f, q).empty());

  Query d;
  d.type = EntityType::kEncounter;
  d.date.push_back(DateParam{DatePrefix::kEq, "2024-01"});  // e1 lies within January
  CHECK(search_ids(*f, d) == Ids{"e1"});
  d.date[0] = DateParam{DatePrefix::kGt, "2024-03-01"};  // e2 has no end: it is ongoing
  CHECK(search_ids(*f, d) == Ids{"e2"});
}

TEMPLATE_TEST_CASE("search_versions: what search finds, page by page, as current version keys",
                   "[search][versions]", STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  f.clock.advance(std::chrono::hours(1));
  // p1 at version 2 (a new current version) and p3 deleted: only current, live versions count.
  care::Patient p1 = patient("p1", nhs_number(1), "O'Súilleabháin", "Zoë", "1950", AdministrativeGender::kFemale);
  p1.identifiers.push_back(mrn("M1"));
  apply_ok(*f, batch({message("U1", {EntityWrite::put(p1), EntityWrite::remove(EntityType::kPatient, "p3")})}));

  auto same_walk = [&](Query q) {
    int pages = 0;
    for (;;) {
      auto full = f->search(q);
      auto keys = f->search_versions(q);
      REQUIRE(full.ok());
      REQUIRE(keys.ok());
      REQUIRE(keys->entries.size() == full->entries.size());
      for (std::size_t i = 0; i < full->entries.size(); ++i) {
        CHECK(keys->entries[i] == VersionKey{full->entries[i].type, full->entries[i].id, full->entries[i].version});
      }
      CHECK(keys->next_cursor == full->next_cursor);
      CHECK(keys->prev_cursor == full->prev_cursor);
      ++pages;
      if (full->next_cursor.empty()) return pages;
      q.cursor = full->next_cursor;
    }
  };
  Query by_identifier;
  by_identifier.identifier = {"", "M1"};
  CHECK(same_walk(by_identifier) == 1);
  auto p1_keys = f->search_versions(by_identifier);
  REQUIRE(p1_keys.ok());
  CHECK(p1_keys->entries == std::vector<VersionKey>{{EntityType::kPatient, "p1", 2}});

  Query by_patient;
  by_patient.type = EntityType::kEncounter;
  by_patient.patient = "p1";
  CHECK(same_walk(by_patient) == 1);

  for (SortOrder sort : {SortOrder::kLastUpdated, SortOrder::kId, SortOrder::kLastUpdatedDesc}) {
    Query all;
    all.count = 1;
    all.sort = sort;
    CHECK(same_walk(all) == 3);  // p1, p2, p4
  }
  Query none;
  none.identifier = {"", "nobody"};
  auto empty = f->search_versions(none);
  REQUIRE(empty.ok());
  CHECK(empty->entries.empty());
}

TEMPLATE_TEST_CASE("search: keyset pages are stable while entities are inserted", "[search][paging]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  std::set<std::string> originals;
  for (int i = 0; i < 40; ++i) {
    std::string id = "p" + std::to_string(100 + i);
    originals.insert(id);
    apply_ok(*f, batch({message("S" + std::to_string(i), {EntityWrite::put(patient(id, "", "Smith", ""))})}));
    if (i % 3 == 0) f.clock.advance(std::chrono::milliseconds(1));  // ties in lastUpdated too
  }
  for (SortOrder sort : {SortOrder::kLastUpdated, SortOrder::kId, SortOrder::kLastUpdatedDesc}) {
    DYNAMIC_SECTION("sort " << static_cast<int>(sort)) {
      Query q;
      q.family = "smith";
      q.count = 7;
      q.sort = sort;
      std::vector<std::string> seen;
      int inserted = 0;
      for (int guard = 0; guard < 100; ++guard) {
        auto page = f->search(q);
        REQUIRE(page.ok());
        for (const auto& e : page->entries) seen.push_back(e.id);
        // Between pages, others insert (ids sorting anywhere: before and after the cursor).
        for (const char* prefix : {"a", "z"}) {
          std::string id = prefix + std::to_string(sort == SortOrder::kId ? 0 : 1) +
                           std::to_string(static_cast<int>(sort)) + "-" + std::to_string(inserted++);
          apply_ok(*f, batch({message("I" + id, {EntityWrite::put(patient(id, "", "Smith", ""))})}));
        }
        f.clock.advance(std::chrono::milliseconds(1));
        if (page->next_cursor.empty()) break;
        q.cursor = page->next_cursor;
      }
      // Never a duplicate; every entity that existed before the walk is seen exactly once.
      std::set<std::string> unique(seen.begin(), seen.end());
      CHECK(unique.size() == seen.size());
      for (const auto& id : originals) CHECK(unique.count(id) == 1);
      if (sort == SortOrder::kLastUpdated) {
        // New entities sort after everything that existed: the walk reaches them too.
        CHECK(seen.size() > originals.size());
      }
    }
  }
}

TEMPLATE_TEST_CASE("search: prev cursors walk back to the same pages", "[search][paging]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  for (int i = 0; i < 10; ++i) {
    apply_ok(*f, batch({message("S" + std::to_string(i),
                                {EntityWrite::put(patient("p" + std::to_string(i), "", "Ng", ""))})}));
    f.clock.advance(std::chrono::seconds(1));
  }
  Query q;
  q.family = "ng";
  q.count = 4;
  auto p1 = f->search(q);
  REQUIRE(p1.ok());
  CHECK(p1->prev_cursor.empty());
  CHECK(ids_of(p1->entries) == Ids{"p0", "p1", "p2", "p3"});
  q.cursor = p1->next_cursor;
  auto p2 = f->search(q);
  REQUIRE(p2.ok());
  CHECK(ids_of(p2->entries) == Ids{"p4", "p5", "p6", "p7"});
  q.cursor = p2->next_cursor;
  auto p3 = f->search(q);
  REQUIRE(p3.ok());
  CHECK(ids_of(p3->entries) == Ids{"p8", "p9"});
  CHECK(p3->next_cursor.empty());
  q.cursor = p3->prev_cursor;
  auto back2 = f->search(q);
  REQUIRE(back2.ok());
  CHECK(ids_of(back2->entries) == Ids{"p4", "p5", "p6", "p7"});
  q.cursor = back2->prev_cursor;
  auto back1 = f->search(q);
  REQUIRE(back1.ok());
  CHECK(ids_of(back1->entries) == Ids{"p0", "p1", "p2", "p3"});
  CHECK(back1->prev_cursor.empty());
  CHECK(back1->next_cursor == p1->next_cursor);

  q.cursor = "not-a-cursor";
  CHECK(f->search(q).error().code == StoreError::Code::kInvalidArgument);
  q.cursor = p1->next_cursor;
  q.sort = SortOrder::kId;
  CHECK(f->search(q).error().code == StoreError::Code::kInvalidArgument);
  q.cursor = "";
  q.count = 0;
  CHECK(f->search(q).error().code == StoreError::Code::kInvalidArgument);
}

}  // namespace midhurst::store::test

namespace midhurst::store::test {

TEMPLATE_TEST_CASE("search: OR lists of identifiers, patients, references, names and tokens",
                   "[search][or]", STORE_FACTORIES) {
  Fixture<TestType> f;
  seed(f);
  const std::string nhs(care::codes::kNhsNumber);
  Query q;
  // identifier=sys|1,sys|2 and a value under any system.
  q.any_identifiers.push_back({{nhs, nhs_number(1)}, {nhs, nhs_number(3)}});
  CHECK(search_ids(*f, q) == Ids{"p1", "p3"});
  q.any_identifiers = {{{"", nhs_number(2)}, {"https://other.example/ids", nhs_number(4)}}};
  CHECK(search_ids(*f, q) == Ids{"p2"});
  // `system|` alone: every entity with an identifier of the system.
  q.any_identifiers = {{{"https://fhir.example.org/Id/mrn-RYJ", ""}}};
  CHECK(search_ids(*f, q) == Ids{"p1"});
  // Two OR lists AND each other.
  q.any_identifiers = {{{nhs, nhs_number(1)}, {nhs, nhs_number(2)}}, {{nhs, nhs_number(2)}, {nhs, nhs_number(3)}}};
  CHECK(search_ids(*f, q) == Ids{"p2"});
  CHECK(f->count(q).value() == 1);
  // An OR list with no alternative matches nothing.
  q.any_identifiers = {{}};
  CHECK(search_ids(*f, q).empty());
  CHECK(f->count(q).value() == 0);
  q.any_identifiers = {{{"", ""}}};
  CHECK(f->search(q).error().code == StoreError::Code::kInvalidArgument);

  q = {};
  q.any_strings.push_back({{"family", "smiths"}, {"given", "zo"}});
  CHECK(search_ids(*f, q) == Ids{"p1", "p3"});
  q.any_strings.push_back({{"name", "bob"}, {"name", "ann"}});  // AND: Bob Smithson only
  CHECK(search_ids(*f, q) == Ids{"p3"});

  q = {};
  q.type = EntityType::kEncounter;
  q.any_patients.push_back({"p2", "p1"});
  CHECK(search_ids(*f, q) == Ids{"e1", "e2"});
  q.any_patients = {{"p2", "p9"}};
  CHECK(search_ids(*f, q) == Ids{"e2"});
  // With other OR lists, the patient's entities drive the search: still exact.
  q.any_tokens.push_back({{"status", "", "in-progress"}, {"status", "", "finished"}});
  CHECK(search_ids(*f, q) == Ids{"e2"});
  q.any_tokens = {{{"status", "", "finished"}, {"status", "", "planned"}}};
  CHECK(search_ids(*f, q).empty());

  q = {};
  q.type = EntityType::kReferral;
  q.any_references.push_back({{"requester", "nobody"}, {"requester", "org1"}});
  CHECK(search_ids(*f, q) == Ids{"r1"});
  q.any_references = {{{"requester", "nobody"}, {"performer", "org1"}}};
  CHECK(search_ids(*f, q).empty());

  // Token alternatives may name different params: the plan's CPR item or its 2nd preferred place.
  q = {};
  q.type = EntityType::kEndOfLifePlan;
  q.any_tokens.push_back({{"item", "", "preferredPlaceOfDeath[1]"}, {"cpr-decision", "", "dnacpr"}});
  CHECK(search_ids(*f, q) == Ids{"eol1"});
  q.any_tokens = {{{"item", "", "preferredPlaceOfDeath[1]"}, {"cpr-decision", "", "for-cpr"}}};
  CHECK(search_ids(*f, q).empty());
  q.any_tokens = {{{"item", "", "preferredPlaceOfDeath[0]"}}, {{"item", "", "cprDecision"}}};
  CHECK(search_ids(*f, q) == Ids{"eol1"});
  CHECK(f->count(q).value() == 1);
}

TEMPLATE_TEST_CASE("search: OR lists page and count exactly", "[search][or][paging]", STORE_FACTORIES) {
  Fixture<TestType> f;
  std::vector<EntityWrite> writes;
  for (int i = 0; i < 30; ++i) {
    care::Encounter e = encounter("e" + std::to_string(100 + i), "p1");
    e.status = i % 3 == 0 ? care::EncounterStatus::kPlanned
               : i % 3 == 1 ? care::EncounterStatus::kInProgress : care::EncounterStatus::kFinished;
    writes.push_back(EntityWrite::put(e));
  }
  apply_ok(*f, batch({message("M", std::move(writes))}));
  Query q;
  q.type = EntityType::kEncounter;
  q.any_tokens.push_back({{"status", "", "planned"}, {"status", "", "in-progress"}});
  q.count = 7;
  auto first = f->search(q);
  REQUIRE(first.ok());
  CHECK(first->entries.size() == 7);  // full pages: the filter is in the query
  const auto ids = all_pages(*f, q);
  CHECK(ids.size() == 20);
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 20);
  CHECK(f->count(q).value() == 20);
}

}  // namespace midhurst::store::test

namespace midhurst::store::test {

TEMPLATE_TEST_CASE("provenance: cited_by lists the versions a Provenance produced", "[search][provenance]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  care::Provenance prov1 = provenance("PAS", "M1");
  prov1.id = "prov1";
  care::Provenance prov2 = provenance("PAS", "M2");
  prov2.id = "prov2";
  apply_ok((*f.store), batch({message("M1", {EntityWrite::put(prov1), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Ann")),
                                            EntityWrite::put(patient("p2", nhs_number(2), "Jones", "Bob"))})}));
  apply_ok((*f.store), batch({message("M2", {EntityWrite::put(prov2), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))})}));

  auto first = (*f.store).cited_by("prov1", 100);
  REQUIRE(first.ok());
  // The versions M1 wrote, oldest first: p1's first version stays cited after p1 changed.
  CHECK(*first == std::vector<VersionKey>{{care::EntityType::kPatient, "p1", 1}, {care::EntityType::kPatient, "p2", 1}});
  auto second = (*f.store).cited_by("prov2", 100);
  REQUIRE(second.ok());
  CHECK(*second == std::vector<VersionKey>{{care::EntityType::kPatient, "p1", 2}});
  auto limited = (*f.store).cited_by("prov1", 1);
  REQUIRE(limited.ok());
  CHECK(limited->size() == 1);
  auto none = (*f.store).cited_by("no-such-provenance", 100);
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto empty = (*f.store).cited_by("", 100);  // "" means "no Provenance": never a match
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK((*f.store).cited_by("prov1", 0).error().code == StoreError::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("provenance: provenances_of lists the Provenance of every version of an entity",
                   "[search][provenance]", STORE_FACTORIES) {
  Fixture<TestType> f;
  std::vector<care::Provenance> provs;
  for (int i = 1; i <= 3; ++i) {
    provs.push_back(provenance("PAS", "M" + std::to_string(i)));
    provs.back().id = "prov" + std::to_string(i);
  }
  // M1 writes p1 and p2, M2 changes p1, M3 deletes p1; a message without a Provenance changes p2.
  apply_ok(*f.store, batch({message("M1", {EntityWrite::put(provs[0]), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Ann")),
                                           EntityWrite::put(patient("p2", nhs_number(2), "Jones", "Bob"))})}));
  apply_ok(*f.store, batch({message("M2", {EntityWrite::put(provs[1]), EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Anna"))})}));
  apply_ok(*f.store, batch({message("M3", {EntityWrite::put(provs[2]), EntityWrite::remove(care::EntityType::kPatient, "p1")})}));
  apply_ok(*f.store, batch({message("M4", {EntityWrite::put(patient("p2", nhs_number(2), "Jones", "Rob"))})}));

  auto p1 = f.store->provenances_of(care::EntityType::kPatient, "p1", 100);
  REQUIRE(p1.ok());
  // Oldest version first; the tombstone M3 wrote records no Provenance of its own.
  CHECK(*p1 == std::vector<std::string>{"prov1", "prov2"});
  auto p2 = f.store->provenances_of(care::EntityType::kPatient, "p2", 100);
  REQUIRE(p2.ok());
  CHECK(*p2 == std::vector<std::string>{"prov1"});  // version 2 has no Provenance
  auto limited = f.store->provenances_of(care::EntityType::kPatient, "p1", 1);
  REQUIRE(limited.ok());
  CHECK(*limited == std::vector<std::string>{"prov1"});
  // The type is part of the key: no Encounter p1 exists.
  auto other_type = f.store->provenances_of(care::EntityType::kEncounter, "p1", 100);
  REQUIRE(other_type.ok());
  CHECK(other_type->empty());
  auto unknown = f.store->provenances_of(care::EntityType::kPatient, "nobody", 100);
  REQUIRE(unknown.ok());
  CHECK(unknown->empty());
  CHECK(f.store->provenances_of(care::EntityType::kPatient, "p1", 0).error().code == StoreError::Code::kInvalidArgument);
}

}  // namespace midhurst::store::test
