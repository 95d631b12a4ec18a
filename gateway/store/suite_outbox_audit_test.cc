// Shared suite: the outbox state machine (FORMAT.md O1-O7) and the audit trail.
#include <algorithm>

#include "store/test_support.h"

namespace midhurst::store::test {

TEMPLATE_TEST_CASE("outbox: pending -> in_flight -> delivered, with the causing message",
                   "[outbox]", STORE_FACTORIES) {
  Fixture<TestType> f;
  Message m = message("C1");
  m.outbox.push_back(OutboxMessage{"hospice-fhir", "application/fhir+json", "{\"a\":1}", ""});
  m.outbox.push_back(OutboxMessage{"gp-mllp", "x-application/hl7-v2+er7", "MSH|...", ""});
  auto r = apply_ok(*f, batch({m}));
  auto claimed = f->claim_outbox("w1", std::chrono::seconds(30), 1);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);  // limit respected, oldest first
  const OutboxItem& item = claimed->front();
  CHECK(item.message.destination == "hospice-fhir");
  CHECK(item.message.payload == "{\"a\":1}");
  CHECK(item.journal_seq == r.messages[0].journal_seq);
  CHECK(item.state == OutboxState::kInFlight);
  CHECK(item.attempts == 1);
  CHECK(item.lease_owner == "w1");
  CHECK(item.lease_until == "2024-03-01T10:00:30.000Z");

  auto second = f->claim_outbox("w2", std::chrono::seconds(30), 10);
  REQUIRE(second.ok());
  REQUIRE(second->size() == 1);  // the first is leased
  CHECK(second->front().message.destination == "gp-mllp");

  CHECK(f->complete_outbox(item.seq, "w2").error().code == StoreError::Code::kConflict);
  REQUIRE(f->complete_outbox(item.seq, "w1").ok());
  auto done = f->outbox_item(item.seq);
  REQUIRE(done.ok());
  CHECK((*done)->state == OutboxState::kDelivered);
  CHECK(f->complete_outbox(item.seq, "w1").error().code == StoreError::Code::kConflict);
  CHECK(f->complete_outbox(424242, "w1").error().code == StoreError::Code::kNotFound);
}

TEMPLATE_TEST_CASE("outbox: failures retry later, or go dead and can be revived", "[outbox]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  Message m = message("C1");
  m.outbox.push_back(OutboxMessage{"hospice", "text/plain", "p", ""});
  apply_ok(*f, batch({m}));
  auto c1 = f->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(c1.ok());
  REQUIRE(c1->size() == 1);
  const std::int64_t seq = c1->front().seq;
  REQUIRE(f->fail_outbox(seq, "w", "HTTP 503", f.clock() + std::chrono::minutes(1)).ok());
  auto early = f->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(early.ok());
  CHECK(early->empty());  // not before retry_at
  f.clock.advance(std::chrono::minutes(2));
  auto c2 = f->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(c2.ok());
  REQUIRE(c2->size() == 1);
  CHECK(c2->front().attempts == 2);
  CHECK(c2->front().last_error == "HTTP 503");
  REQUIRE(f->fail_outbox(seq, "w", "HTTP 400: rejected", std::nullopt).ok());
  auto dead = f->outbox_item(seq);
  REQUIRE(dead.ok());
  CHECK((*dead)->state == OutboxState::kDead);
  auto none = f->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(f->revive_outbox(seq).ok());
  CHECK(f->revive_outbox(seq).error().code == StoreError::Code::kConflict);
  auto c3 = f->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(c3.ok());
  CHECK(c3->size() == 1);
}

TEMPLATE_TEST_CASE("outbox: an expired lease is claimed by another worker", "[outbox]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  Message m = message("C1");
  m.outbox.push_back(OutboxMessage{"hospice", "text/plain", "p", ""});
  apply_ok(*f, batch({m}));
  auto c1 = f->claim_outbox("crashed", std::chrono::seconds(30), 10);
  REQUIRE(c1.ok());
  REQUIRE(c1->size() == 1);
  f.clock.advance(std::chrono::seconds(31));
  auto c2 = f->claim_outbox("w2", std::chrono::seconds(30), 10);
  REQUIRE(c2.ok());
  REQUIRE(c2->size() == 1);
  CHECK(c2->front().attempts == 2);
  // The first worker's late answer no longer counts.
  CHECK(f->complete_outbox(c1->front().seq, "crashed").error().code == StoreError::Code::kConflict);
  REQUIRE(f->complete_outbox(c2->front().seq, "w2").ok());
}

TEMPLATE_TEST_CASE("audit: records from batches and from append_audit, by patient", "[audit]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  Batch b = batch({message("C1", {EntityWrite::put(patient("p1", "", "A", ""))})});
  b.audit.push_back(AuditRecord{0, "", "PAS", "ingest", "success", {"p1"}, "ADT^A01 C1"});
  apply_ok(*f, b);
  f.clock.advance(std::chrono::seconds(1));
  REQUIRE(f->append_audit({AuditRecord{0, "", "hospice-app", "read", "success", {"p1", "p2"}, "GET Patient/p1"},
                           AuditRecord{0, "2024-03-01T09:00:00Z", "hospice-app", "search-type", "403", {}, ""}})
              .ok());
  auto all = f->list_audit(0, 10, "");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].interaction == "ingest");
  CHECK((*all)[0].time == "2024-03-01T10:00:00.000Z");
  CHECK((*all)[1].time == "2024-03-01T10:00:01.000Z");
  auto patients = (*all)[1].patients;
  std::sort(patients.begin(), patients.end());
  CHECK(patients == std::vector<std::string>{"p1", "p2"});
  CHECK((*all)[2].time == "2024-03-01T09:00:00Z");
  CHECK((*all)[2].outcome == "403");

  auto p2 = f->list_audit(0, 10, "p2");
  REQUIRE(p2.ok());
  REQUIRE(p2->size() == 1);
  CHECK(p2->front().interaction == "read");
  auto after = f->list_audit((*all)[0].seq, 10, "p1");
  REQUIRE(after.ok());
  CHECK(after->size() == 1);
}

TEMPLATE_TEST_CASE("audit: a large group of records keeps every record, its order and its patients", "[audit]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  // 75 records: more than one multi-row statement's worth, and a remainder of odd size.
  // Patient ids from request paths can hold any byte; a record may name one twice.
  const std::string odd = std::string("q\"b\\s\nn") + '\0' + "z\x01";
  std::vector<AuditRecord> records;
  for (int i = 0; i < 75; ++i) {
    AuditRecord r{0, "", "client" + std::to_string(i), "read", "success", {}, "GET Patient/" + std::to_string(i)};
    if (i % 3 == 0) r.patients = {"p" + std::to_string(i)};
    if (i % 3 == 1) r.patients = {"p" + std::to_string(i), "shared", "p" + std::to_string(i)};
    if (i == 40) r.patients = {odd};
    records.push_back(std::move(r));
  }
  REQUIRE(f->append_audit(records).ok());
  REQUIRE(f->append_audit({AuditRecord{0, "", "late", "read", "success", {"shared"}, ""}}).ok());
  auto all = f->list_audit(0, 1000, "");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 76);
  for (int i = 0; i < 75; ++i) {
    const AuditRecord& got = (*all)[static_cast<std::size_t>(i)];
    INFO("record " << i);
    CHECK(got.client == "client" + std::to_string(i));
    CHECK(got.detail == "GET Patient/" + std::to_string(i));
    if (i > 0) CHECK(got.seq > (*all)[static_cast<std::size_t>(i) - 1].seq);
    std::vector<std::string> want;
    if (i % 3 == 0) want = {"p" + std::to_string(i)};
    if (i % 3 == 1) want = {"p" + std::to_string(i), "shared"};
    if (i == 40) want = {odd};
    auto patients = got.patients;
    std::sort(patients.begin(), patients.end());
    CHECK(patients == want);
  }
  CHECK((*all)[75].client == "late");
  CHECK((*all)[75].seq > (*all)[74].seq);

  auto shared = f->list_audit(0, 1000, "shared");
  REQUIRE(shared.ok());
  CHECK(shared->size() == 25);  // i % 3 == 1 but 40 (which names `odd` only): 24, and "late"
  CHECK(shared->back().client == "late");
  auto by_odd = f->list_audit(0, 1000, odd);
  REQUIRE(by_odd.ok());
  REQUIRE(by_odd->size() == 1);
  CHECK(by_odd->front().client == "client40");
  // Paging by seq resumes after the last record seen.
  auto page = f->list_audit((*all)[70].seq, 3, "");
  REQUIRE(page.ok());
  REQUIRE(page->size() == 3);
  CHECK(page->front().client == "client71");
}

}  // namespace midhurst::store::test
