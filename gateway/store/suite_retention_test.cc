// Shared suite: journal retention by age and size, per sender; incomplete entries stay.
#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

std::vector<std::string> controls(Store& s) {
  auto all = s.list_journal(0, 1000);
  if (!all.ok()) FAIL(all.error().message);
  std::vector<std::string> out;
  for (const auto& r : *all) out.push_back(r.entry.sender.application + ":" + r.entry.control_id);
  return out;
}

Message sized(const std::string& control, const std::string& app, std::size_t bytes) {
  Message m = message(control, {}, app);
  m.journal.payload.assign(bytes, 'x');
  return m;
}

using Strings = std::vector<std::string>;

}  // namespace

TEMPLATE_TEST_CASE("retention: entries older than max_age go", "[retention]", STORE_FACTORIES) {
  Fixture<TestType> f;
  apply_ok(*f, batch({message("OLD1"), message("OLD2")}));
  f.clock.advance(std::chrono::hours(48));
  apply_ok(*f, batch({message("NEW1")}));
  RetentionPolicy policy;
  policy.default_rule.max_age = std::chrono::hours(24);
  auto stats = f->prune_journal(policy, f.clock());
  REQUIRE(stats.ok());
  CHECK(stats->entries == 2);
  CHECK(controls(*f) == Strings{"PAS:NEW1"});
  // Pruning again finds nothing.
  stats = f->prune_journal(policy, f.clock());
  REQUIRE(stats.ok());
  CHECK(stats->entries == 0);
}

TEMPLATE_TEST_CASE("retention: the oldest go until a sender is within max_bytes", "[retention]",
                   STORE_FACTORIES) {
  Fixture<TestType> f;
  for (int i = 0; i < 5; ++i) apply_ok(*f, batch({sized("A" + std::to_string(i), "PAS", 100)}));
  apply_ok(*f, batch({sized("B0", "EPR", 1000)}));
  RetentionPolicy policy;
  policy.default_rule.max_bytes = 250;             // per sender
  policy.per_sender[Sender{"EPR", ""}] = RetentionRule{};  // EPR (any facility): keep everything
  auto stats = f->prune_journal(policy, f.clock());
  REQUIRE(stats.ok());
  CHECK(stats->entries == 3);
  CHECK(stats->bytes == 300);
  CHECK(controls(*f) == Strings{"PAS:A3", "PAS:A4", "EPR:B0"});
}

TEMPLATE_TEST_CASE("retention: per-sender rules override the default", "[retention]", STORE_FACTORIES) {
  Fixture<TestType> f;
  apply_ok(*f, batch({message("A", {}, "PAS"), message("B", {}, "EPR")}));
  f.clock.advance(std::chrono::hours(2));
  RetentionPolicy policy;
  policy.default_rule.max_age = std::chrono::hours(1);
  policy.per_sender[Sender{"EPR", "RYJ"}] = RetentionRule{std::chrono::hours(24 * 30), std::nullopt};
  auto stats = f->prune_journal(policy, f.clock());
  REQUIRE(stats.ok());
  CHECK(controls(*f) == Strings{"EPR:B"});
}

TEMPLATE_TEST_CASE("retention: entries whose processing is not complete are never pruned",
                   "[retention]", STORE_FACTORIES) {
  Fixture<TestType> f;
  Message received = message("R1");
  received.journal.status = JournalStatus::kReceived;
  Message with_delivery = message("D1");
  with_delivery.outbox.push_back(OutboxMessage{"hospice", "text/plain", "payload", ""});
  apply_ok(*f, batch({received, with_delivery, message("DONE")}));
  f.clock.advance(std::chrono::hours(48));
  RetentionPolicy policy;
  policy.default_rule.max_age = std::chrono::hours(1);
  policy.default_rule.max_bytes = 0;
  auto stats = f->prune_journal(policy, f.clock());
  REQUIRE(stats.ok());
  CHECK(controls(*f) == Strings{"PAS:R1", "PAS:D1"});

  // In flight is still not complete.
  auto claimed = f->claim_outbox("w1", std::chrono::minutes(5), 10);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);
  REQUIRE(f->prune_journal(policy, f.clock()).ok());
  CHECK(controls(*f) == Strings{"PAS:R1", "PAS:D1"});

  // Once delivered and finished, both may go.
  REQUIRE(f->complete_outbox(claimed->front().seq, "w1").ok());
  auto list = f->list_journal(0, 10);
  REQUIRE(list.ok());
  REQUIRE(f->finish_journal_entry(list->front().seq, JournalStatus::kAccepted, "").ok());
  stats = f->prune_journal(policy, f.clock());
  REQUIRE(stats.ok());
  CHECK(stats->entries == 2);
  CHECK(controls(*f).empty());
}

}  // namespace midhurst::store::test
