// The gateway's configuration: listen addresses, paths, limits and API clients.
//
// Sources, later ones overriding earlier ones key by key:
//   1. built-in defaults (below, each with its reason);
//   2. one JSON file (`--config FILE` or MIDHURST_CONFIG), documented in README.md
//      ("Configuration") with a full example in examples/midhurst.json;
//   3. environment variables (MIDHURST_HTTP, MIDHURST_MLLP, MIDHURST_STORE, ... one per key,
//      see kSettings in config.cc and the README table);
//   4. command-line flags (`--http`, `--mllp`, `--store`, `--data-dir`, and `--set KEY=VALUE`
//      for every other key).
//
// Every key of the file has a dotted name ("http.max_body_bytes") used by --set and by the
// error messages, and an environment variable. A bad file is refused with
// "FILE:LINE:COLUMN: reason" for every problem found (syntax errors, and a key repeated in one
// object, stop at the first). The file is read by common/json_reader.h, as mapping profiles are:
// strict JSON, columns counted in characters.
//
// This file is deliberately free of Beast/Asio: it compiles fast and is unit-tested alone.
// Threading: plain values; parse functions are reentrant.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace midhurst::server {

// A TCP listen address. Port 0 asks the OS for a free port (tests); the bound port is then
// reported in the "listening" log line and the --port-file.
struct Endpoint {
  std::string host;  // IPv4/IPv6 literal or a name; IPv6 written "[::1]:2575"
  uint16_t port = 0;

  // "127.0.0.1:8080", "[::1]:2575".
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

// Parses "HOST:PORT" / "[V6]:PORT". Errors: a sentence naming what is wrong.
Result<Endpoint, std::string> parse_endpoint(std::string_view text);

// One API client: a bearer token (only its SHA-256 is stored, so the file holds no secret)
// and its SMART-style scopes (auth.h says how they are matched).
struct ClientConfig {
  std::string name;
  std::string token_sha256;  // 64 lower-case hex digits
  std::vector<std::string> scopes;
};

struct HttpLimits {
  // Largest request body. FHIR transaction Bundles can be large; 8 MiB bounds memory per
  // connection (max_connections x this is the worst case) while holding a big Bundle.
  size_t max_body_bytes = size_t{8} << 20;
  // Largest request line + headers. 16 KiB: bearer JWTs (later) run to a few KiB.
  size_t max_header_bytes = size_t{16} << 10;
  // Concurrent connections; the next one gets 503 and is closed.
  size_t max_connections = 256;
  // A connection that sends nothing (between requests, or mid-request) for this long is
  // closed. Short, because FHIR clients reconnect cheaply and idle sockets cost memory.
  std::chrono::seconds idle_timeout{30};
  // Rendered FHIR resources kept as JSON text (render_cache.h), in MiB; 0 turns the cache off.
  // 64 MiB holds roughly 50,000 rendered Patients: the ones being read again and again.
  size_t render_cache_mib = 64;
};

struct MllpLimits {
  // Largest MLLP payload (hl7v2::MllpDecoderOptions). 1 MiB: far above an ADT message, small
  // enough that a sender that lost its end block cannot make us hold much.
  size_t max_frame_bytes = size_t{1} << 20;
  // Concurrent connections; beyond it a connection is closed at once (MLLP has no way to
  // say "busy" before a message arrives).
  size_t max_connections = 256;
  // Interface engines keep MLLP connections open for hours and send in bursts, so the idle
  // timeout is long; it still reclaims connections a peer forgot.
  std::chrono::seconds idle_timeout{600};
  // Frames read ahead and handed to the ingest before their ACKs are written, per
  // connection. Bounds memory and keeps one connection's messages in order; senders
  // normally wait for each ACK, so 1 would do for them, but pipelining senders gain.
  size_t max_in_flight = 8;
};

// Journal retention limits (Store::prune_journal): an entry goes when it is older than max_age
// or when its sender's payloads exceed max_bytes (oldest first); absent = no such limit.
struct RetentionLimits {
  std::optional<uint64_t> max_age_days;
  std::optional<uint64_t> max_bytes;
  bool operator==(const RetentionLimits&) const = default;
};

// The limits for one sender: MSH-3 application and MSH-4 facility (an empty facility: every
// facility of that application without an entry of its own).
struct SenderRetention {
  std::string application;
  std::string facility;
  RetentionLimits limits;
  bool operator==(const SenderRetention&) const = default;
};

struct JournalRetention {
  // How often `serve` prunes. Hourly: retention is counted in days, and each prune is one
  // short write transaction.
  std::chrono::seconds prune_interval{3600};
  // For senders without an entry of their own. Default: keep everything (retention is a
  // site's information-governance decision, not ours).
  RetentionLimits defaults;
  std::vector<SenderRetention> senders;
  // True when some rule limits anything (otherwise `serve` does not prune at all).
  bool any_limit() const;
};

struct Config {
  Endpoint http{"127.0.0.1", 8080};
  Endpoint mllp{"127.0.0.1", 2575};
  HttpLimits http_limits;
  MllpLimits mllp_limits;
  // Where the gateway keeps its files (the SQLite store by default).
  std::string data_dir = "data";
  // Store URL; empty means sqlite:<data_dir>/midhurst.db (see store_url()).
  std::string store;
  // The CapabilityStatement served at /metadata (relative paths: to the working directory).
  std::string capability_statement = "conformance/CapabilityStatement.json";
  // Mapping profiles (read by the mapping engine once it is wired in).
  std::string mappings_dir = "mappings";
  // Poll the mapping directory's files this often and reload the profiles when one changed
  // (as SIGHUP does); 0 turns watching off. Every 2 s: a stat per file is cheap, and an
  // engineer editing a profile sees the effect at once.
  std::chrono::seconds profile_watch{2};
  JournalRetention journal_retention;
  // I/O threads per listener (HTTP and MLLP each). 0: the number of cores.
  unsigned threads = 0;
  // On SIGTERM/SIGINT, in-flight work gets this long to finish before connections are cut.
  std::chrono::seconds shutdown_grace{10};
  // debug, info, warn, error.
  std::string log_level = "info";
  std::vector<ClientConfig> clients;

  // The effective store URL: `store`, or sqlite:<data_dir>/midhurst.db when empty.
  std::string store_url() const;
};

// One problem with the configuration. `file` is empty for flags and environment variables.
struct ConfigError {
  std::string file;
  size_t line = 0, column = 0;  // 1-based; 0 when not from a file
  std::string reason;

  // "FILE:LINE:COLUMN: reason", or just the reason.
  std::string to_string() const;
};
using ConfigErrors = std::vector<ConfigError>;

// Reads `json` (the text of file `file_name`, used in errors) over `config`. Keys absent from
// the file keep their value; unknown keys, wrong types and out-of-range values are errors.
// Returns every error found (a syntax error is the only one reported, as nothing after it
// can be trusted). `config` may be partly updated when errors are returned.
ConfigErrors apply_config_json(std::string_view json, std::string_view file_name, Config& config);

// Reads the file at `path` and applies it as apply_config_json does; a file that cannot be
// read is one error.
ConfigErrors load_config_file(const std::string& path, Config& config);

// Sets one key from text, as `--set KEY=VALUE` and the environment do: "http.listen" takes
// "HOST:PORT", numbers take decimal text, "clients" takes the JSON array of the file.
// `origin` ("--set", "MIDHURST_HTTP") prefixes the error.
ConfigErrors apply_setting(std::string_view key, std::string_view value, std::string_view origin,
                           Config& config);

// Applies every MIDHURST_* variable that names a key (see kSettings), reading through
// `getenv` so tests can pass a fake environment.
ConfigErrors apply_environment(const std::function<const char*(const char*)>& getenv, Config& config);

// Checks what no single key can: e.g. two clients with one name or one token. Also run by
// apply_config_json; called again after overrides.
ConfigErrors validate_config(const Config& config);

// The dotted keys and their environment variables, for --help and the README.
struct SettingInfo {
  std::string_view key;
  std::string_view env;
  std::string_view help;
};
const std::vector<SettingInfo>& config_settings();

}  // namespace midhurst::server
