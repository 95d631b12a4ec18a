// Shared suite: the journal and deduplication.
#include "store/test_support.h"

namespace midhurst::store::test {

TEMPLATE_TEST_CASE("journal: an accepted message is journaled with everything it came with",
                   "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  Message m = message("CTRL1", {EntityWrite::put(patient("p1", nhs_number(1), "Smith", "Ann"))});
  m.journal.received_at = "2024-03-01T09:59:59.500+00:00";
  m.journal.unmapped_json = R"(["PID-12","ZU1-3"])";
  m.journal.payload += std::string("\0\xff binary", 9);
  auto r = apply_ok(*f, batch({m}));
  REQUIRE(r.messages.size() == 1);
  const MessageOutcome& o = r.messages[0];
  CHECK(o.status == JournalStatus::kAccepted);
  REQUIRE(o.versions.size() == 1);
  CHECK(o.versions[0].id == "p1");
  CHECK(o.versions[0].version == 1);

  auto j = f->journal_entry(o.journal_seq);
  REQUIRE(j.ok());
  REQUIRE(j->has_value());
  const JournalRecord& rec = **j;
  CHECK(rec.entry.payload == m.journal.payload);
  CHECK(rec.entry.kind == PayloadKind::kHl7v2);
  CHECK(rec.entry.sender == m.journal.sender);
  CHECK(rec.entry.control_id == "CTRL1");
  CHECK(rec.entry.received_at == m.journal.received_at);
  CHECK(rec.entry.status == JournalStatus::kAccepted);
  CHECK(rec.entry.unmapped_json == m.journal.unmapped_json);
  CHECK(rec.stored_at == "2024-03-01T10:00:00.000Z");
  CHECK(rec.duplicate_of == 0);

  auto found = f->find_journal(m.journal.sender, "CTRL1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->seq == o.journal_seq);
}

TEMPLATE_TEST_CASE("journal: a duplicate is journaled as duplicate and changes nothing",
                   "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  auto first = apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("p1", "", "Smith", "Ann"))})}));
  f.clock.advance(std::chrono::seconds(5));
  // The resend carries different content: it must still change nothing.
  Message again = message("C1", {EntityWrite::put(patient("p1", "", "Jones", "Bob"))});
  again.outbox.push_back(OutboxMessage{"hospice", "text/plain", "x", ""});
  auto second = apply_ok(*f, batch({again}));
  const MessageOutcome& o = second.messages[0];
  CHECK(o.status == JournalStatus::kDuplicate);
  CHECK(o.duplicate_of == first.messages[0].journal_seq);
  CHECK(o.original_status == JournalStatus::kAccepted);
  CHECK(o.versions.empty());
  CHECK(o.journal_seq > first.messages[0].journal_seq);

  auto p = f->read(care::EntityType::kPatient, "p1");
  REQUIRE(p.ok());
  REQUIRE(p->has_value());
  CHECK((*p)->version == 1);
  CHECK((*p)->json.find("Smith") != std::string::npos);
  auto dup = f->journal_entry(o.journal_seq);
  REQUIRE(dup.ok());
  REQUIRE(dup->has_value());
  CHECK((*dup)->entry.status == JournalStatus::kDuplicate);
  CHECK((*dup)->duplicate_of == first.messages[0].journal_seq);
  auto claimed = f->claim_outbox("w", std::chrono::seconds(30), 10);
  REQUIRE(claimed.ok());
  CHECK(claimed->empty());
}

TEMPLATE_TEST_CASE("journal: duplicates inside one batch are detected", "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  auto r = apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("p1", "", "A", ""))}),
                               message("C1", {EntityWrite::put(patient("p1", "", "B", ""))}),
                               message("C2")}));
  CHECK(r.messages[0].status == JournalStatus::kAccepted);
  CHECK(r.messages[1].status == JournalStatus::kDuplicate);
  CHECK(r.messages[1].duplicate_of == r.messages[0].journal_seq);
  CHECK(r.messages[2].status == JournalStatus::kAccepted);
  auto p = f->read(care::EntityType::kPatient, "p1");
  REQUIRE(p.ok());
  CHECK((*p)->version == 1);
}

TEMPLATE_TEST_CASE("journal: the dedup key is application, facility and control id",
                   "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  Message a = message("C1");
  Message b = message("C1", {}, "EPR");  // another application
  Message c = message("C1");
  c.journal.sender.facility = "RXX";  // another facility
  Message none1 = message(""), none2 = message("");  // no control id: never deduplicated
  auto r = apply_ok(*f, batch({a, b, c, none1, none2}));
  for (const auto& o : r.messages) CHECK(o.status == JournalStatus::kAccepted);
}

TEMPLATE_TEST_CASE("journal: rejected and failed messages do not hold the dedup key",
                   "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  Message bad = message("C1");
  bad.journal.status = JournalStatus::kRejected;
  bad.journal.reason = "PID-3: NHS number fails Modulus 11";
  Message failed = message("C1");
  failed.journal.status = JournalStatus::kFailed;
  failed.journal.reason = "no profile";
  auto r1 = apply_ok(*f, batch({bad, failed}));
  CHECK(r1.messages[0].status == JournalStatus::kRejected);
  CHECK(r1.messages[1].status == JournalStatus::kFailed);
  auto rec = f->journal_entry(r1.messages[0].journal_seq);
  REQUIRE(rec.ok());
  CHECK((*rec)->entry.reason == "PID-3: NHS number fails Modulus 11");
  // The corrected resend is processed.
  auto r2 = apply_ok(*f, batch({message("C1", {EntityWrite::put(patient("p1", "", "A", ""))})}));
  CHECK(r2.messages[0].status == JournalStatus::kAccepted);
  auto r3 = apply_ok(*f, batch({message("C1")}));
  CHECK(r3.messages[0].status == JournalStatus::kDuplicate);
}

TEMPLATE_TEST_CASE("journal: a received entry holds the key until it is finished",
                   "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  Message m = message("C9");
  m.journal.status = JournalStatus::kReceived;
  auto r = apply_ok(*f, batch({m}));
  const std::int64_t seq = r.messages[0].journal_seq;
  auto dup = apply_ok(*f, batch({message("C9")}));
  CHECK(dup.messages[0].status == JournalStatus::kDuplicate);
  CHECK(dup.messages[0].original_status == JournalStatus::kReceived);

  CHECK(f->finish_journal_entry(seq, JournalStatus::kReceived, "").error().code ==
        StoreError::Code::kInvalidArgument);
  REQUIRE(f->finish_journal_entry(seq, JournalStatus::kAccepted, "").ok());
  CHECK(f->finish_journal_entry(seq, JournalStatus::kFailed, "x").error().code ==
        StoreError::Code::kConflict);
  CHECK(f->finish_journal_entry(999999, JournalStatus::kFailed, "x").error().code ==
        StoreError::Code::kNotFound);
  auto rec = f->journal_entry(seq);
  REQUIRE(rec.ok());
  CHECK((*rec)->entry.status == JournalStatus::kAccepted);
}

TEMPLATE_TEST_CASE("journal: list_journal pages in commit order", "[journal]", STORE_FACTORIES) {
  Fixture<TestType> f;
  for (int i = 0; i < 5; ++i) apply_ok(*f, batch({message("C" + std::to_string(i))}));
  auto first = f->list_journal(0, 3);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 3);
  auto rest = f->list_journal(first->back().seq, 10);
  REQUIRE(rest.ok());
  REQUIRE(rest->size() == 2);
  CHECK(rest->back().entry.control_id == "C4");
}

TEMPLATE_TEST_CASE("journal: a batch breaking a REQUIRES is refused whole", "[journal]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  Message rejected_with_writes = message("C2", {EntityWrite::put(patient("p1", "", "A", ""))});
  rejected_with_writes.journal.status = JournalStatus::kRejected;
  auto r = f->apply(batch({message("C1"), rejected_with_writes}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == StoreError::Code::kInvalidArgument);
  CHECK(r.error().message.find("batch message 1") != std::string::npos);
  auto all = f->list_journal(0, 10);
  REQUIRE(all.ok());
  CHECK(all->empty());
}

}  // namespace midhurst::store::test
