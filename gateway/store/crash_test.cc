// Crash safety: a child process applies batches in a loop and reports each batch id on a pipe
// once apply() has returned (the moment the gateway would ACK); the parent SIGKILLs it at a
// random point, reopens the store, and proves that every reported batch is present exactly once
// and that no batch is partially present. Repeated several times on the same file.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>

#include "store/test_support.h"

namespace midhurst::store::test {

namespace {

constexpr int kMessagesPerBatch = 3;

std::string control(std::int64_t batch, int i) {
  return "b" + std::to_string(batch) + "-m" + std::to_string(i);
}

Batch crash_batch(std::int64_t id) {
  Batch b;
  for (int i = 0; i < kMessagesPerBatch; ++i) {
    Message m = message(control(id, i), {EntityWrite::put(patient("p" + std::to_string(id) + "-" +
                                                                  std::to_string(i), "", "Crash", "")),
                                         EntityWrite::put(provenance("PAS", control(id, i)))});
    m.outbox.push_back(OutboxMessage{"hospice", "text/plain", control(id, i), ""});
    b.messages.push_back(std::move(m));
  }
  b.audit.push_back(AuditRecord{0, "", "PAS", "ingest", "success", {}, "batch " + std::to_string(id)});
  return b;
}

// The child: apply batches start, start+1, ... forever, reporting each after apply() returns.
template <class F>
[[noreturn]] void child_loop(const TempDir& dir, std::int64_t start, int fd) {
  auto s = F::open(dir, StoreOptions{});
  if (!s.ok()) ::_exit(3);
  for (std::int64_t id = start;; ++id) {
    auto r = (*s)->apply(crash_batch(id));
    if (!r.ok()) ::_exit(4);
    for (const auto& m : r->messages)
      if (m.status != JournalStatus::kAccepted) ::_exit(5);
    if (::write(fd, &id, sizeof id) != sizeof id) ::_exit(6);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("crash: batches reported committed survive SIGKILL exactly once, none half",
                   "[crash]", STORE_FACTORIES) {
  TempDir dir;
  { REQUIRE(TestType::open(dir, StoreOptions{}).ok()); }  // create the schema up front
  std::mt19937 rng(20240301);
  std::set<std::int64_t> reported;
  std::int64_t next = 1;
  constexpr int kKills = 6;
  for (int round = 0; round < kKills; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_loop<TestType>(dir, next, fds[1]);
    }
    ::close(fds[1]);
    // Let it commit a random number of batches, then kill it at a random moment after that
    // (usually inside a later apply()).
    const int wait_for = std::uniform_int_distribution<int>(3, 40)(rng);
    const int extra_us = std::uniform_int_distribution<int>(0, 20000)(rng);
    int got = 0;
    auto read_one = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      std::int64_t id;
      if (::read(fds[0], &id, sizeof id) != sizeof id) return false;
      reported.insert(id);
      ++got;
      return true;
    };
    while (got < wait_for && read_one(20000)) {
    }
    REQUIRE(got >= wait_for);  // the child must have made progress
    ::usleep(extra_us);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    while (read_one(0)) {  // whatever it reported before dying still counts
    }
    ::close(fds[0]);

    // Reopen (recovery) and check every batch.
    auto s = TestType::open(dir, StoreOptions{});
    REQUIRE(s.ok());
    std::map<std::int64_t, int> messages_of;  // batch id -> journal rows seen
    std::map<std::string, int> rows_of_control;
    std::int64_t after = 0;
    for (;;) {
      auto page = (*s)->list_journal(after, 500);
      REQUIRE(page.ok());
      if (page->empty()) break;
      for (const auto& r : *page) {
        after = r.seq;
        ++rows_of_control[r.entry.control_id];
        ++messages_of[std::stoll(r.entry.control_id.substr(1))];
      }
    }
    for (const auto& [c, n] : rows_of_control) {
      CAPTURE(c);
      CHECK(n == 1);  // exactly once
    }
    for (const auto& [batch_id, n] : messages_of) {
      CAPTURE(batch_id);
      CHECK(n == kMessagesPerBatch);  // never part of a batch
      for (int i = 0; i < kMessagesPerBatch; ++i) {
        auto p = (*s)->read(care::EntityType::kPatient,
                            "p" + std::to_string(batch_id) + "-" + std::to_string(i));
        REQUIRE(p.ok());
        REQUIRE(p->has_value());
        CHECK((*p)->version == 1);
      }
    }
    for (std::int64_t id : reported) {
      CAPTURE(id);
      CHECK(messages_of.count(id) == 1);  // every ACKed batch is there
    }
    Query q;
    q.family = "crash";
    auto n = (*s)->count(q);
    REQUIRE(n.ok());
    CHECK(*n == static_cast<std::int64_t>(messages_of.size()) * kMessagesPerBatch);
    next = messages_of.empty() ? 1 : messages_of.rbegin()->first + 1;
  }
  CHECK(reported.size() >= static_cast<std::size_t>(kKills) * 3);
}

}  // namespace midhurst::store::test
