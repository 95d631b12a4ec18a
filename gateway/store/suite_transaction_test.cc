// Shared suite: atomicity. A fault injected at any write of a batch, or at its commit, leaves
// nothing of the batch behind and the store usable (fault.h).
#include <atomic>
#include <thread>

#include "store/fault.h"
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

using care::EntityType;

// Fails the Nth "write" (counting from 1), or the commit.
class FailAt : public FaultInjection {
 public:
  int fail_write = 0;  // 0 = never
  bool fail_commit = false;
  int writes = 0;
  bool should_fail(std::string_view point) override {
    if (point == "commit") return fail_commit;
    return ++writes == fail_write;
  }
};

Batch big_batch(const std::string& tag) {
  Message a = message(tag + "-1", {EntityWrite::put(patient(tag + "-p1", nhs_number(1), "Smith", "Ann")),
                                   EntityWrite::put(provenance("PAS", tag + "-1"))});
  a.outbox.push_back(OutboxMessage{"hospice", "text/plain", "x", ""});
  Message b = message(tag + "-2", {EntityWrite::put(patient(tag + "-p2", nhs_number(2), "Jones", "Bob")),
                                   EntityWrite::put(encounter(tag + "-e1", tag + "-p2"))});
  Batch out = batch({a, b});
  out.audit.push_back(AuditRecord{0, "", "PAS", "ingest", "success", {tag + "-p1"}, ""});
  return out;
}

// True iff nothing at all is stored: no journal, entities, index rows, outbox or audit.
template <class F>
void check_empty(Fixture<F>& f, const std::string& tag) {
  auto j = f->list_journal(0, 100);
  REQUIRE(j.ok());
  CHECK(j->empty());
  for (const char* id : {"-p1", "-p2"}) {
    auto p = f->read(EntityType::kPatient, tag + id);
    REQUIRE(p.ok());
    CHECK_FALSE(p->has_value());
  }
  auto th = f->type_history(EntityType::kProvenance, HistoryQuery{});
  REQUIRE(th.ok());
  CHECK(th->entries.empty());
  Query q;
  q.family = "smith";
  auto n = f->count(q);
  REQUIRE(n.ok());
  CHECK(*n == 0);
  auto o = f->claim_outbox("w", std::chrono::seconds(1), 10);
  REQUIRE(o.ok());
  CHECK(o->empty());
  auto a = f->list_audit(0, 10, "");
  REQUIRE(a.ok());
  CHECK(a->empty());
}

}  // namespace

TEMPLATE_TEST_CASE("transaction: a fault at any write leaves nothing half-applied",
                   "[transaction]", STORE_FACTORIES) {
  FailAt faults;
  StoreOptions o;
  o.faults = &faults;
  Fixture<TestType> f(o);
  // Count the writes a clean batch makes, on a throwaway fixture.
  int total = 0;
  {
    FailAt counter;
    StoreOptions o2;
    o2.faults = &counter;
    Fixture<TestType> probe(o2);
    apply_ok(*probe, big_batch("probe"));
    total = counter.writes;
  }
  REQUIRE(total > 10);
  for (int n = 1; n <= total; ++n) {
    CAPTURE(n);
    faults.writes = 0;
    faults.fail_write = n;
    auto r = f->apply(big_batch("t"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::Code::kInjected);
    faults.fail_write = 0;  // the checks below must not trip it
    check_empty(f, "t");
  }
  // And at the commit itself.
  faults.fail_write = 0;
  faults.fail_commit = true;
  auto r = f->apply(big_batch("t"));
  REQUIRE_FALSE(r.ok());
  faults.fail_commit = false;
  check_empty(f, "t");
  // The store is still usable, and the same batch now applies whole.
  auto ok = apply_ok(*f, big_batch("t"));
  CHECK(ok.messages[0].status == JournalStatus::kAccepted);
  CHECK(ok.messages[1].status == JournalStatus::kAccepted);
  auto p = f->read(EntityType::kPatient, "t-p2");
  REQUIRE(p.ok());
  CHECK(p->has_value());
}

TEMPLATE_TEST_CASE("transaction: readers see whole batches while a writer runs", "[transaction]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  // Each batch writes two patients with the same family name; a reader must never see one
  // without the other.
  std::thread reader([&] {
    while (!done) {
      for (int i = 0; i < 50; ++i) {
        Query q;
        q.family = "fam" + std::to_string(i) + "x";
        auto n = f->count(q);
        if (!n.ok() || (*n != 0 && *n != 2)) ++torn;
        ++reads;
      }
    }
  });
  for (int i = 0; i < 50; ++i) {
    std::string fam = "Fam" + std::to_string(i) + "x";
    apply_ok(*f, batch({message("A" + std::to_string(i), {EntityWrite::put(patient("a" + std::to_string(i), "", fam, ""))}),
                        message("B" + std::to_string(i), {EntityWrite::put(patient("b" + std::to_string(i), "", fam, ""))})}));
  }
  done = true;
  reader.join();
  CHECK(torn == 0);
  CHECK(reads > 0);
}

}  // namespace midhurst::store::test
