#include "server/gateway.h"

#include <signal.h>

#include <chrono>
#include <functional>
#include <thread>

#include "server/auth.h"
#include "server/http_app.h"
#include "server/http_server.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/mllp_server.h"
#include "server/readiness.h"
#include "server/routes.h"
#include "server/server_metrics.h"
#include "server/validate_ingest.h"

namespace midhurst::server {

struct Gateway::Impl {
  explicit Impl(Config c, GatewayHooks h) : config(std::move(c)), hooks(std::move(h)), metrics(registry) {}

  Config config;
  GatewayHooks hooks;
  MetricsRegistry registry;
  ServerMetrics metrics;
  Readiness readiness;
  std::unique_ptr<ValidateOnlyIngest> interim;
  Ingest* ingest = nullptr;
  std::unique_ptr<HttpApp> app;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<MllpServer> mllp;
  bool started = false;
  bool stopped = false;

  // The two-step shutdown: stop accepting and let connections finish their in-flight work
  // for up to `grace`, then cut what is left and join the I/O threads. `wait` pauses
  // briefly between checks and returns true to stop waiting at once. Idempotent.
  void drain_and_stop(std::chrono::seconds grace, const std::function<bool()>& wait) {
    if (!started || stopped) return;
    stopped = true;
    log_info("gateway.shutdown_begin", {{"grace_seconds", static_cast<int64_t>(grace.count())}});
    http->begin_shutdown();
    mllp->begin_shutdown();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (http->connections() + mllp->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
      if (wait()) break;
    }
    const size_t left = http->connections() + mllp->connections();
    if (hooks.before_stop) hooks.before_stop();
    http->stop();
    mllp->stop();
    log_info("gateway.stopped", {{"forced", left > 0}, {"connections_cut", left}});
  }
};

Gateway::Gateway(Config config, GatewayHooks hooks) : impl_(std::make_unique<Impl>(std::move(config), std::move(hooks))) {}

Gateway::~Gateway() { shutdown(true); }

Status<std::string> Gateway::start() {
  Impl& g = *impl_;
  set_log_level(parse_log_level(g.config.log_level));
  auto capability = load_capability_statement(g.config.capability_statement);
  if (!capability) return err(capability.error());

  g.ingest = g.hooks.ingest;
  if (!g.ingest) {
    g.interim = std::make_unique<ValidateOnlyIngest>();
    g.ingest = g.interim.get();
    log_warn("gateway.interim_ingest",
             {{"detail", "validate-only ingest: messages are checked and ACKed but NOT stored"}});
  }
  if (g.hooks.add_checks) {
    g.hooks.add_checks(g.readiness);
  } else {
    const std::string store = g.config.store_url();
    g.readiness.add("store", [store] {
      return CheckResult{true, "not wired yet (" + store + "); the interim ingest stores nothing"};
    });
    g.readiness.add("profiles", [] { return CheckResult{true, "not wired yet; the interim ingest maps nothing"}; });
  }

  g.app = std::make_unique<HttpApp>(Authenticator(g.config.clients), g.metrics);
  add_operational_routes(*g.app, {&g.readiness, &g.metrics, g.ingest, *capability});
  if (g.hooks.add_routes) g.hooks.add_routes(*g.app);

  const unsigned threads = g.config.threads ? g.config.threads : std::max(1u, std::thread::hardware_concurrency());
  g.http = std::make_unique<HttpServer>(HttpServerOptions{g.config.http, g.config.http_limits, threads}, *g.app, g.metrics);
  g.mllp = std::make_unique<MllpServer>(MllpServerOptions{g.config.mllp, g.config.mllp_limits, threads}, *g.ingest, g.metrics);
  if (auto s = g.http->start(); !s) return err(s.error());
  if (auto s = g.mllp->start(); !s) {
    g.http->stop();
    return err(s.error());
  }
  g.started = true;
  log_info("gateway.listening", {{"http", g.http->bound().to_string()},
                                 {"mllp", g.mllp->bound().to_string()},
                                 {"store", g.config.store_url()},
                                 {"data_dir", g.config.data_dir},
                                 {"clients", g.config.clients.size()},
                                 {"threads", threads}});
  if (g.config.clients.empty())
    log_warn("gateway.no_clients", {{"detail", "no API clients configured: every protected route answers 401"}});
  return {};
}

Endpoint Gateway::http_endpoint() const { return impl_->http->bound(); }
Endpoint Gateway::mllp_endpoint() const { return impl_->mllp->bound(); }

MetricsRegistry& Gateway::metrics() { return impl_->registry; }
ServerMetrics& Gateway::server_metrics() { return impl_->metrics; }
Readiness& Gateway::readiness() { return impl_->readiness; }

void Gateway::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
  }
  return "signal";
}

}  // namespace

int Gateway::run_until_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log_info("gateway.reload", {{"signal", "SIGHUP"}, {"wired", static_cast<bool>(impl_->hooks.on_reload)}});
      if (impl_->hooks.on_reload) impl_->hooks.on_reload();
      continue;
    }
    log_info("gateway.signal", {{"signal", signal_name(sig)}});
    break;
  }
  // A second SIGTERM/SIGINT while draining means "stop now".
  impl_->drain_and_stop(impl_->config.shutdown_grace, [&set] {
    timespec wait{0, 50'000'000};
    const int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig != SIGTERM && sig != SIGINT) return false;
    log_info("gateway.signal", {{"signal", signal_name(sig)}, {"detail", "second signal: not waiting any longer"}});
    return true;
  });
  return 0;
}

void Gateway::shutdown(bool force) {
  impl_->drain_and_stop(force ? std::chrono::seconds(0) : impl_->config.shutdown_grace, [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return false;
  });
}

}  // namespace midhurst::server
