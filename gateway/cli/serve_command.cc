// `midhurst serve`: configuration from defaults, file, environment and flags (in that order of
// precedence, last wins), then the Gateway until SIGTERM/SIGINT.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include "cli/commands.h"
#include "mapping/profile.h"
#include "server/config.h"
#include "server/durable_ingest.h"
#include "server/fhir_rest.h"
#include "server/fhir_rest_audit.h"
#include "server/gateway.h"
#include "server/journal_retention.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/profile_watch.h"
#include "server/readiness.h"
#include "server/render_cache.h"
#include "store/store.h"

namespace midhurst::cli {
namespace {

constexpr const char* kServeUsage =
    "usage: midhurst serve [--config FILE] [--http HOST:PORT] [--mllp HOST:PORT]\n"
    "                      [--store URL] [--data-dir DIR] [--set KEY=VALUE]...\n"
    "                      [--port-file FILE] [--check-config]\n"
    "\n"
    "Runs the gateway: the HTTP API (FHIR /metadata, POST /hl7v2, /healthz, /readyz, /metrics)\n"
    "and the MLLP listener, until SIGTERM or SIGINT; then stops accepting, lets in-flight\n"
    "messages and requests finish (shutdown_grace_seconds) and exits. SIGHUP, or a change\n"
    "to a file in mappings_dir (profile_watch_seconds), reloads the profiles. The journal\n"
    "is pruned by the journal_retention rules. Logs are JSON lines on standard output;\n"
    "\"gateway.listening\" says where it listens.\n"
    "\n"
    "Settings come from built-in defaults, then the JSON file, then MIDHURST_* environment\n"
    "variables, then these flags (see README.md, \"Configuration\"):\n"
    "  --config FILE       the JSON configuration file (or MIDHURST_CONFIG)\n"
    "  --http HOST:PORT    HTTP listen address (default 127.0.0.1:8080; port 0: any free port)\n"
    "  --mllp HOST:PORT    MLLP listen address (default 127.0.0.1:2575)\n"
    "  --store URL         store, sqlite:PATH or postgresql://... (default sqlite:DATA_DIR/midhurst.db)\n"
    "  --data-dir DIR      data directory, created if missing (default data)\n"
    "  --set KEY=VALUE     any other setting by its dotted key, e.g. --set http.max_body_bytes=1048576\n"
    "  --port-file FILE    once listening, write {\"http\":PORT,\"mllp\":PORT} to FILE (for tests)\n"
    "  --check-config      check the configuration, print the problems or OK, and exit\n"
    "  -h, --help          this help\n"
    "\n"
    "keys (environment variable):\n";

void print_usage(std::FILE* out) {
  std::fputs(kServeUsage, out);
  for (const server::SettingInfo& s : server::config_settings())
    std::fprintf(out, "  %-28s %-36s %.*s\n", std::string(s.key).c_str(), std::string(s.env).c_str(),
                 static_cast<int>(s.help.size()), s.help.data());
  std::fputs("\nexit status: 0 stopped by a signal, 1 configuration or start-up error, 2 bad usage.\n", out);
}

bool report(const server::ConfigErrors& errors) {
  for (const server::ConfigError& e : errors) std::fprintf(stderr, "midhurst serve: %s\n", e.to_string().c_str());
  return errors.empty();
}

}  // namespace

int run_serve(const Args& args) {
  std::string config_file;
  std::string port_file;
  bool check_only = false;
  std::vector<std::pair<std::string, std::string>> overrides;  // key, value (flag order)
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return 0;
    }
    if (a == "--check-config") {
      check_only = true;
      continue;
    }
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "midhurst serve: %s needs a value\n\n", flag);
        return nullptr;
      }
      return &args[++i];
    };
    const std::string* v = nullptr;
    if (a == "--config") {
      if (!(v = value("--config"))) return print_usage(stderr), 2;
      config_file = *v;
    } else if (a == "--port-file") {
      if (!(v = value("--port-file"))) return print_usage(stderr), 2;
      port_file = *v;
    } else if (a == "--http" || a == "--mllp" || a == "--store" || a == "--data-dir") {
      if (!(v = value(a.c_str()))) return print_usage(stderr), 2;
      const std::string key = a == "--http" ? "http.listen" : a == "--mllp" ? "mllp.listen"
                              : a == "--store" ? "store" : "data_dir";
      overrides.emplace_back(key, *v);
    } else if (a == "--set") {
      if (!(v = value("--set"))) return print_usage(stderr), 2;
      const size_t eq = v->find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "midhurst serve: --set wants KEY=VALUE, not '%s'\n", v->c_str());
        return 2;
      }
      overrides.emplace_back(v->substr(0, eq), v->substr(eq + 1));
    } else {
      std::fprintf(stderr, "midhurst serve: unknown argument '%s'\n\n", a.c_str());
      print_usage(stderr);
      return 2;
    }
  }

  server::Config config;
  if (config_file.empty())
    if (const char* env = std::getenv("MIDHURST_CONFIG")) config_file = env;
  bool ok = true;
  if (!config_file.empty()) ok &= report(server::load_config_file(config_file, config));
  ok &= report(server::apply_environment([](const char* name) { return std::getenv(name); }, config));
  for (const auto& [key, value] : overrides) {
    const std::string origin = key == "http.listen" ? "--http" : key == "mllp.listen" ? "--mllp"
                               : key == "store" ? "--store" : key == "data_dir" ? "--data-dir" : "--set";
    ok &= report(server::apply_setting(key, value, origin, config));
  }
  if (ok) ok &= report(server::validate_config(config));
  if (!ok) return 1;
  if (check_only) {
    std::printf("configuration OK: http %s, mllp %s, store %s, %zu client(s)\n", config.http.to_string().c_str(),
                config.mllp.to_string().c_str(), config.store_url().c_str(), config.clients.size());
    return 0;
  }

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "midhurst serve: cannot create data directory %s: %s\n", config.data_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }

  // Before any thread exists (the ingest's writer, the I/O threads), so that every thread
  // inherits the mask and only run_until_signal() receives SIGTERM, SIGINT and SIGHUP.
  server::Gateway::block_signals();

  // The pipeline behind the listeners: the store, the mapping profiles, and the durable ingest
  // that journals, maps and commits each message before its ACK.
  auto opened = store::open_store(config.store_url());
  if (!opened.ok()) {
    std::fprintf(stderr, "midhurst serve: cannot open the store: %s\n", opened.error().to_string().c_str());
    return 1;
  }
  std::unique_ptr<store::Store> store = std::move(*opened);
  mapping::ProfileStore profiles;
  if (auto loaded = profiles.reload(config.mappings_dir); !loaded.ok()) {
    std::fprintf(stderr, "midhurst serve: the mapping profiles in %s do not load:\n", config.mappings_dir.c_str());
    for (const mapping::LoadError& e : loaded.error()) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
    return 1;
  }
  server::DurableIngest ingest(*store, profiles);

  server::GatewayHooks hooks;
  hooks.ingest = &ingest;
  hooks.add_checks = [&](server::Readiness& readiness) {
    readiness.add("store", [&] {
      store::Query probe;
      probe.count = 1;
      auto counted = store->count(probe);
      return counted.ok() ? server::CheckResult{true, config.store_url() + " open"}
                          : server::CheckResult{false, counted.error().to_string()};
    });
    readiness.add("profiles", [&] {
      auto set = profiles.current();
      return set ? server::CheckResult{true, std::to_string(set->profiles().size()) + " profile(s) from " +
                                                 config.mappings_dir}
                 : server::CheckResult{false, "no mapping profiles loaded"};
    });
  };
  // SIGHUP and the file watcher reload through here, one at a time. A bad set is refused and
  // the one in use keeps serving.
  std::mutex reload_mu;
  auto reload_profiles = [&](const char* cause) {
    std::lock_guard<std::mutex> lock(reload_mu);
    if (auto reloaded = profiles.reload(config.mappings_dir); reloaded.ok()) {
      auto set = profiles.current();
      server::log_info("profiles.reloaded", {{"dir", config.mappings_dir}, {"cause", cause},
                                             {"profiles", set ? set->profiles().size() : size_t{0}}});
    } else {
      for (const mapping::LoadError& e : reloaded.error())
        server::log_error("profiles.reload_refused",
                          {{"dir", config.mappings_dir}, {"cause", cause}, {"error", e.to_string()}});
    }
  };
  hooks.on_reload = [&] { reload_profiles("signal"); };
  // Called once the listeners have stopped accepting and drained: what is queued is committed
  // and ACKed before the process exits.
  hooks.before_stop = [&] { ingest.stop(); };

  // The FHIR REST read API (server/fhir_rest.h). Its audit writer is declared before the
  // Gateway so that it outlives the listeners and commits what they queued.
  server::AuditWriter audit(*store);
  server::RenderCache render_cache(config.http_limits.render_cache_mib << 20);
  hooks.add_routes = [&](server::HttpApp& app) {
    server::FhirRestDeps rest;
    rest.store = store.get();
    rest.renderer = server::renderer_source(profiles);
    rest.audit = &audit;
    rest.render_cache = &render_cache;
    server::add_fhir_rest_routes(app, rest);
  };
  server::Gateway gateway(config, hooks);
  if (auto started = gateway.start(); !started) {
    std::fprintf(stderr, "midhurst serve: %s\n", started.error().c_str());
    return 1;
  }

  // Journal retention: prune every prune_interval when any rule limits anything; each prune
  // is logged and counted.
  auto& pruned_entries = gateway.metrics()
                             .counter("midhurst_journal_pruned_entries_total",
                                      "journal entries deleted by the retention rules")
                             .get();
  auto& pruned_bytes = gateway.metrics()
                           .counter("midhurst_journal_pruned_bytes_total",
                                    "payload bytes of the journal entries deleted by the retention rules")
                           .get();
  server::JournalPruner pruner(
      *store, server::retention_policy(config.journal_retention), config.journal_retention.prune_interval,
      [&](const store::StoreResult<store::PruneStats>& r, std::chrono::milliseconds took) {
        if (!r.ok()) {
          server::log_error("journal.prune_failed", {{"error", r.error().to_string()}});
          return;
        }
        pruned_entries.inc(static_cast<double>(r->entries));
        pruned_bytes.inc(static_cast<double>(r->bytes));
        server::log_info("journal.pruned", {{"entries", r->entries}, {"bytes", r->bytes}, {"ms", took.count()}});
      });
  if (config.journal_retention.any_limit()) pruner.start();

  server::ProfileWatcher watcher(config.mappings_dir, config.profile_watch, [&] { reload_profiles("file-change"); });
  if (config.profile_watch.count() > 0) watcher.start();
  if (!port_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half a file.
    const std::string tmp = port_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "{\"http\":" << gateway.http_endpoint().port << ",\"mllp\":" << gateway.mllp_endpoint().port << "}\n";
    }
    std::filesystem::rename(tmp, port_file, ec);
    if (ec) {
      std::fprintf(stderr, "midhurst serve: cannot write %s: %s\n", port_file.c_str(), ec.message().c_str());
      gateway.shutdown(true);
      return 1;
    }
  }
  return gateway.run_until_signal();
}

}  // namespace midhurst::cli
