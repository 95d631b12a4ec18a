// Gateway: the running `midhurst serve`: configuration in, both listeners up, signals handled,
// graceful shutdown out. Free of Beast/Asio (the servers hide theirs), so the CLI compiles fast.
//
// What the lead plugs in (GatewayHooks), each optional:
//   ingest      the journal+mapping+store Ingest; default: ValidateOnlyIngest (interim, logged)
//   add_routes  FHIR REST routes on the HttpApp (before the servers start)
//   add_checks  readiness checks (store reachable, profiles loaded); default ones say
//               "not wired" but ready, since the interim ingest needs neither
//   on_reload   SIGHUP (profile reload); default: logged only
//   before_stop after the listeners drained and before they are stopped: flush the ingest
//               (the store's group commit) so no `done` arrives after the servers are gone
//
// Lifecycle: start() -> (run_until_signal() | shutdown()). Shutdown is two-step: stop
// accepting and let in-flight work finish (HTTP responses, MLLP ACKs) for up to
// config.shutdown_grace, then close what is left and join the I/O threads.
//
// Threading: call everything from one thread. run_until_signal() needs block_signals() to
// have been called before start(), so that every I/O thread inherits the blocked mask and
// the signals are taken by sigwait() alone.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "server/config.h"

namespace midhurst::server {

class HttpApp;
class Ingest;
class MetricsRegistry;
class Readiness;
struct ServerMetrics;

struct GatewayHooks {
  Ingest* ingest = nullptr;  // not owned; must outlive the Gateway
  std::function<void(HttpApp&)> add_routes;
  std::function<void(Readiness&)> add_checks;
  std::function<void()> on_reload;
  std::function<void()> before_stop;
};

class Gateway {
 public:
  explicit Gateway(Config config, GatewayHooks hooks = {});
  ~Gateway();  // shutdown()s
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Loads the CapabilityStatement, binds both listeners and starts their threads; logs
  // "gateway.listening" with both bound addresses. Errors: a sentence to print.
  Status<std::string> start();

  // The bound addresses (real ports when 0 was configured). REQUIRES: start() succeeded.
  Endpoint http_endpoint() const;
  Endpoint mllp_endpoint() const;

  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in threads it starts).
  static void block_signals();

  // Waits for signals: SIGHUP runs on_reload; SIGTERM or SIGINT starts shutdown(), during
  // which a second one cuts the grace period short. Returns 0.
  int run_until_signal();

  // The two-step shutdown. Idempotent. `force` skips the grace period.
  void shutdown(bool force = false);

  MetricsRegistry& metrics();
  ServerMetrics& server_metrics();
  Readiness& readiness();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace midhurst::server
