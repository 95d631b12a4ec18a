// Readiness: named checks that /readyz runs (store reachable, profiles loaded, ...).
//
// /healthz says the process is up; /readyz says it can do its job, so that a load balancer
// sends traffic only to instances whose store answers. Each part of the gateway registers a
// check at start-up; the lead wires the store's and the mapping engine's.
//
// Threading: add() before the servers start; run() from any thread, concurrently. Checks run
// on the HTTP I/O thread, so they must be quick (a cached state, or a cheap ping).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace midhurst::server {

struct CheckResult {
  bool ready = false;
  std::string detail;  // one sentence for the operator: "sqlite:data/midhurst.db open"
};

struct ReadinessReport {
  bool ready = true;  // iff every check is ready (true when there are none)
  std::vector<std::pair<std::string, CheckResult>> checks;

  // {"status":"ready"|"not ready","checks":{"store":{"ready":true,"detail":"..."}}}
  std::string to_json() const;
};

class Readiness {
 public:
  using Check = std::function<CheckResult()>;

  void add(std::string name, Check check);
  // Runs every check in registration order. A check that throws counts as not ready.
  ReadinessReport run() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Check>> checks_;
};

}  // namespace midhurst::server
