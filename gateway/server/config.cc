#include "server/config.h"

#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "common/json_reader.h"
#include "server/auth.h"

namespace midhurst::server {

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint, std::string> parse_endpoint(std::string_view text) {
  Endpoint e;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return err(std::string("expected [IPV6]:PORT"));
    e.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return err(std::string("expected HOST:PORT"));
    e.host = std::string(text.substr(0, colon));
    if (e.host.find(':') != std::string::npos)
      return err(std::string("an IPv6 address must be written [ADDRESS]:PORT"));
    port = text.substr(colon + 1);
  }
  if (e.host.empty()) return err(std::string("the host is empty"));
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return err("the port must be a number from 0 to 65535, not \"" + std::string(port) + "\"");
  e.port = static_cast<uint16_t>(value);
  return e;
}

bool JournalRetention::any_limit() const {
  auto limits = [](const RetentionLimits& l) { return l.max_age_days || l.max_bytes; };
  if (limits(defaults)) return true;
  for (const SenderRetention& s : senders)
    if (limits(s.limits)) return true;
  return false;
}

std::string Config::store_url() const {
  if (!store.empty()) return store;
  std::string dir = data_dir.empty() ? "." : data_dir;
  if (dir.back() == '/') dir.pop_back();
  return "sqlite:" + dir + "/midhurst.db";
}

std::string ConfigError::to_string() const {
  if (file.empty()) return reason;
  if (line == 0) return file + ": " + reason;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Settings: one table drives the file, --set and the environment.

// Reports an error about the value at `subpath` below the setting being applied ("" for the
// setting's own value), which starts at byte `offset` of the text (or, for key_error, about the
// key of the member `member`). A file names the line and column; a flag or a variable, the
// subpath.
class Reporter {
 public:
  virtual ~Reporter() = default;
  void error(std::string_view subpath, const JsonNode& value, std::string reason) {
    report(subpath, value.offset, std::move(reason));
  }
  void key_error(std::string_view subpath, const JsonMember& member, std::string reason) {
    report(subpath, member.key_offset, std::move(reason));
  }

 protected:
  virtual void report(std::string_view subpath, size_t offset, std::string reason) = 0;
};

enum class Kind { kEndpoint, kBytes, kCount, kSeconds, kText, kLogLevel, kClients, kRetentionSenders };

struct Binding {
  std::string_view key;
  std::string_view env;
  std::string_view help;
  Kind kind;
  uint64_t min, max;
  // Applies a checked value. Numbers arrive as uint64; text and endpoints as strings.
  void (*apply)(Config&, uint64_t number, const std::string& text);
};

constexpr uint64_t kGiB = uint64_t{1} << 30;

const std::vector<Binding>& bindings() {
  static const std::vector<Binding> table = {
      {"http.listen", "MIDHURST_HTTP", "HTTP listen address HOST:PORT (default 127.0.0.1:8080)",
       Kind::kEndpoint, 0, 0,
       [](Config& c, uint64_t, const std::string& t) { c.http = *parse_endpoint(t); }},
      {"http.max_body_bytes", "MIDHURST_HTTP_MAX_BODY_BYTES", "largest request body (8388608)",
       Kind::kBytes, 1, kGiB,
       [](Config& c, uint64_t n, const std::string&) { c.http_limits.max_body_bytes = n; }},
      {"http.max_header_bytes", "MIDHURST_HTTP_MAX_HEADER_BYTES",
       "largest request line and headers (16384)", Kind::kBytes, 1024, 1u << 20,
       [](Config& c, uint64_t n, const std::string&) { c.http_limits.max_header_bytes = n; }},
      {"http.max_connections", "MIDHURST_HTTP_MAX_CONNECTIONS",
       "concurrent HTTP connections; more get 503 (256)", Kind::kCount, 1, 100000,
       [](Config& c, uint64_t n, const std::string&) { c.http_limits.max_connections = n; }},
      {"http.idle_timeout_seconds", "MIDHURST_HTTP_IDLE_TIMEOUT_SECONDS",
       "close an HTTP connection silent this long (30)", Kind::kSeconds, 1, 86400,
       [](Config& c, uint64_t n, const std::string&) {
         c.http_limits.idle_timeout = std::chrono::seconds(n);
       }},
      {"http.render_cache_mib", "MIDHURST_HTTP_RENDER_CACHE_MIB",
       "MiB of rendered FHIR resources kept for reads and searches; 0 = off (64)", Kind::kCount, 0, 65536,
       [](Config& c, uint64_t n, const std::string&) { c.http_limits.render_cache_mib = n; }},
      {"mllp.listen", "MIDHURST_MLLP", "MLLP listen address HOST:PORT (default 127.0.0.1:2575)",
       Kind::kEndpoint, 0, 0,
       [](Config& c, uint64_t, const std::string& t) { c.mllp = *parse_endpoint(t); }},
      {"mllp.max_frame_bytes", "MIDHURST_MLLP_MAX_FRAME_BYTES", "largest MLLP message (1048576)",
       Kind::kBytes, 1024, 256u << 20,
       [](Config& c, uint64_t n, const std::string&) { c.mllp_limits.max_frame_bytes = n; }},
      {"mllp.max_connections", "MIDHURST_MLLP_MAX_CONNECTIONS",
       "concurrent MLLP connections; more are closed (256)", Kind::kCount, 1, 100000,
       [](Config& c, uint64_t n, const std::string&) { c.mllp_limits.max_connections = n; }},
      {"mllp.idle_timeout_seconds", "MIDHURST_MLLP_IDLE_TIMEOUT_SECONDS",
       "close an MLLP connection silent this long (600)", Kind::kSeconds, 1, 86400 * 7,
       [](Config& c, uint64_t n, const std::string&) {
         c.mllp_limits.idle_timeout = std::chrono::seconds(n);
       }},
      {"mllp.max_in_flight", "MIDHURST_MLLP_MAX_IN_FLIGHT",
       "messages read ahead per connection before their ACKs (8)", Kind::kCount, 1, 1024,
       [](Config& c, uint64_t n, const std::string&) { c.mllp_limits.max_in_flight = n; }},
      {"data_dir", "MIDHURST_DATA_DIR", "data directory (data)", Kind::kText, 0, 0,
       [](Config& c, uint64_t, const std::string& t) { c.data_dir = t; }},
      {"store", "MIDHURST_STORE", "store URL (sqlite:<data_dir>/midhurst.db)", Kind::kText, 0, 0,
       [](Config& c, uint64_t, const std::string& t) { c.store = t; }},
      {"capability_statement", "MIDHURST_CAPABILITY_STATEMENT",
       "CapabilityStatement JSON served at /metadata (conformance/CapabilityStatement.json)",
       Kind::kText, 0, 0,
       [](Config& c, uint64_t, const std::string& t) { c.capability_statement = t; }},
      {"mappings_dir", "MIDHURST_MAPPINGS_DIR", "mapping profiles directory (mappings)",
       Kind::kText, 0, 0,
       [](Config& c, uint64_t, const std::string& t) { c.mappings_dir = t; }},
      {"profile_watch_seconds", "MIDHURST_PROFILE_WATCH_SECONDS",
       "reload the profiles when a file in mappings_dir changed, polled this often; 0 = off (2)",
       Kind::kSeconds, 0, 3600,
       [](Config& c, uint64_t n, const std::string&) { c.profile_watch = std::chrono::seconds(n); }},
      {"journal_retention.prune_interval_seconds", "MIDHURST_JOURNAL_RETENTION_PRUNE_INTERVAL_SECONDS",
       "how often the journal is pruned (3600)", Kind::kSeconds, 1, 86400 * 7,
       [](Config& c, uint64_t n, const std::string&) {
         c.journal_retention.prune_interval = std::chrono::seconds(n);
       }},
      {"journal_retention.max_age_days", "MIDHURST_JOURNAL_RETENTION_MAX_AGE_DAYS",
       "journal entries older than this are pruned, for senders without their own rule (none)",
       Kind::kCount, 1, 36500,
       [](Config& c, uint64_t n, const std::string&) { c.journal_retention.defaults.max_age_days = n; }},
      {"journal_retention.max_bytes", "MIDHURST_JOURNAL_RETENTION_MAX_BYTES",
       "payload bytes kept per sender, oldest pruned first, for senders without their own rule (none)",
       Kind::kBytes, 1, uint64_t{1} << 50,
       [](Config& c, uint64_t n, const std::string&) { c.journal_retention.defaults.max_bytes = n; }},
      {"journal_retention.senders", "MIDHURST_JOURNAL_RETENTION_SENDERS",
       "per-sender retention rules, the JSON array of the file ([])", Kind::kRetentionSenders, 0, 0, nullptr},
      {"threads", "MIDHURST_THREADS", "I/O threads per listener, 0 = cores (0)", Kind::kCount, 0,
       256, [](Config& c, uint64_t n, const std::string&) { c.threads = static_cast<unsigned>(n); }},
      {"shutdown_grace_seconds", "MIDHURST_SHUTDOWN_GRACE_SECONDS",
       "time in-flight work gets on SIGTERM (10)", Kind::kSeconds, 0, 3600,
       [](Config& c, uint64_t n, const std::string&) { c.shutdown_grace = std::chrono::seconds(n); }},
      {"log_level", "MIDHURST_LOG_LEVEL", "debug, info, warn or error (info)", Kind::kLogLevel, 0,
       0, [](Config& c, uint64_t, const std::string& t) { c.log_level = t; }},
      {"clients", "MIDHURST_CLIENTS",
       "API clients, the JSON array of the file ([])", Kind::kClients, 0, 0, nullptr},
  };
  return table;
}

const Binding* find_binding(std::string_view key) {
  for (const Binding& b : bindings())
    if (b.key == key) return &b;
  return nullptr;
}

// "a string", "an object", "null": the value's JSON type for an error sentence.
std::string json_type_name(const JsonNode& v) {
  const std::string name = v.type_name();
  if (v.type == JsonNode::Type::kNull) return name;
  return (v.is_object() || v.is_array() ? "an " : "a ") + name;
}

// The value as a whole number from 0 up; nothing for anything else (negative, fractional, text).
std::optional<uint64_t> whole_number(const JsonNode& v) {
  if (v.type != JsonNode::Type::kNumber || !v.is_integer || v.integer < 0) return std::nullopt;
  return static_cast<uint64_t>(v.integer);
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Reads the clients array. Every problem is reported with its own position.
void apply_clients(const JsonNode& v, Config& config, Reporter& r) {
  if (!v.is_array()) return r.error("", v, "must be an array of clients, not " + json_type_name(v));
  std::vector<ClientConfig> clients;
  std::map<std::string, size_t> names, tokens;
  bool ok = true;
  for (size_t i = 0; i < v.items.size(); ++i) {
    const std::string at = "/" + std::to_string(i);
    const JsonNode& c = v.items[i];
    if (!c.is_object()) {
      r.error(at, c, "a client must be an object, not " + json_type_name(c));
      ok = false;
      continue;
    }
    ClientConfig client;
    bool has_name = false, has_token = false, has_scopes = false;
    for (const JsonMember& m : c.members) {
      const std::string& key = m.key;
      const std::string here = at + "/" + key;
      const JsonNode& mv = m.value;
      if (key == "client") {
        has_name = true;
        if (!mv.is_string() || mv.string.empty()) {
          r.error(here, mv, "\"client\" must be a non-empty string (the client's name)");
          ok = false;
        } else {
          client.name = mv.string;
        }
      } else if (key == "token_sha256") {
        has_token = true;
        if (!mv.is_string() || !is_hex64(mv.string)) {
          r.error(here, mv, "\"token_sha256\" must be the SHA-256 of the token as 64 hex digits "
                            "(e.g. printf %s TOKEN | sha256sum)");
          ok = false;
        } else {
          client.token_sha256 = mv.string;
          for (char& ch : client.token_sha256) ch = static_cast<char>(std::tolower(ch));
        }
      } else if (key == "scopes") {
        has_scopes = true;
        if (!mv.is_array()) {
          r.error(here, mv, "\"scopes\" must be an array of strings such as \"system/Patient.read\"");
          ok = false;
          continue;
        }
        for (size_t k = 0; k < mv.items.size(); ++k) {
          const std::string sat = here + "/" + std::to_string(k);
          const JsonNode& item = mv.items[k];
          if (!item.is_string()) {
            r.error(sat, item, "a scope must be a string such as \"system/Patient.read\"");
            ok = false;
            continue;
          }
          auto scope = parse_scope(item.string);
          if (!scope) {
            r.error(sat, item, scope.error());
            ok = false;
            continue;
          }
          client.scopes.push_back(item.string);
        }
      } else {
        r.key_error(here, m, "unknown client key \"" + key + "\" (expected client, token_sha256, scopes)");
        ok = false;
      }
    }
    if (!has_name || !has_token || !has_scopes) {
      r.error(at, c, "a client needs \"client\", \"token_sha256\" and \"scopes\"");
      ok = false;
      continue;
    }
    if (!client.name.empty() && !names.emplace(client.name, i).second) {
      r.error(at + "/client", *c.find("client"), "client \"" + client.name + "\" is listed twice");
      ok = false;
    }
    if (!client.token_sha256.empty() && !tokens.emplace(client.token_sha256, i).second) {
      r.error(at + "/token_sha256", *c.find("token_sha256"),
              "client \"" + client.name + "\" has the same token as client #" +
                  std::to_string(tokens[client.token_sha256] + 1));
      ok = false;
    }
    clients.push_back(std::move(client));
  }
  if (ok) config.clients = std::move(clients);
}

// Reads journal_retention.senders: [{"application", "facility"?, "max_age_days"?, "max_bytes"?}].
void apply_retention_senders(const JsonNode& v, Config& config, Reporter& r) {
  if (!v.is_array()) return r.error("", v, "must be an array of sender rules, not " + json_type_name(v));
  std::vector<SenderRetention> senders;
  std::set<std::pair<std::string, std::string>> seen;
  bool ok = true;
  for (size_t i = 0; i < v.items.size(); ++i) {
    const std::string at = "/" + std::to_string(i);
    const JsonNode& e = v.items[i];
    if (!e.is_object()) {
      r.error(at, e, "a sender rule must be an object, not " + json_type_name(e));
      ok = false;
      continue;
    }
    SenderRetention rule;
    bool has_application = false;
    for (const JsonMember& m : e.members) {
      const std::string& key = m.key;
      const std::string here = at + "/" + key;
      const JsonNode& mv = m.value;
      const std::optional<uint64_t> n = whole_number(mv);
      if (key == "application" || key == "facility") {
        if (!mv.is_string() || mv.string.empty()) {
          r.error(here, mv, "\"" + key + "\" must be a non-empty string (MSH-" + (key == "application" ? "3" : "4") + ")");
          ok = false;
        } else if (key == "application") {
          rule.application = mv.string;
          has_application = true;
        } else {
          rule.facility = mv.string;
        }
      } else if (key == "max_age_days") {
        if (!n || *n < 1 || *n > 36500) {
          r.error(here, mv, "\"max_age_days\" must be a whole number of days from 1 to 36500");
          ok = false;
        } else {
          rule.limits.max_age_days = *n;
        }
      } else if (key == "max_bytes") {
        if (!n || *n < 1) {
          r.error(here, mv, "\"max_bytes\" must be a whole number of bytes, at least 1");
          ok = false;
        } else {
          rule.limits.max_bytes = *n;
        }
      } else {
        r.key_error(here, m, "unknown sender rule key \"" + key +
                                 "\" (expected application, facility, max_age_days, max_bytes)");
        ok = false;
      }
    }
    if (!has_application) {
      r.error(at, e, "a sender rule needs \"application\" (MSH-3)");
      ok = false;
      continue;
    }
    if (!seen.emplace(rule.application, rule.facility).second) {
      r.error(at, e, "sender " + rule.application + (rule.facility.empty() ? "" : "/" + rule.facility) +
                         " has two rules");
      ok = false;
    }
    senders.push_back(std::move(rule));
  }
  if (ok) config.journal_retention.senders = std::move(senders);
}

// Checks `v` against the binding's kind and applies it.
void apply_value(const Binding& b, const JsonNode& v, Config& config, Reporter& r) {
  switch (b.kind) {
    case Kind::kEndpoint: {
      if (!v.is_string()) return r.error("", v, "must be a string \"HOST:PORT\", not " + json_type_name(v));
      auto e = parse_endpoint(v.string);
      if (!e) return r.error("", v, e.error());
      return b.apply(config, 0, v.string);
    }
    case Kind::kBytes:
    case Kind::kCount:
    case Kind::kSeconds: {
      const std::optional<uint64_t> n = whole_number(v);
      if (!n || *n < b.min || *n > b.max) {
        const char* unit = b.kind == Kind::kBytes ? " bytes" : b.kind == Kind::kSeconds ? " seconds" : "";
        return r.error("", v, "must be a whole number from " + std::to_string(b.min) + " to " +
                                  std::to_string(b.max) + unit);
      }
      return b.apply(config, *n, {});
    }
    case Kind::kText:
      if (!v.is_string() || v.string.empty()) return r.error("", v, "must be a non-empty string");
      return b.apply(config, 0, v.string);
    case Kind::kLogLevel: {
      const std::string level = v.is_string() ? v.string : "";
      if (level != "debug" && level != "info" && level != "warn" && level != "error")
        return r.error("", v, "must be one of \"debug\", \"info\", \"warn\", \"error\"");
      return b.apply(config, 0, level);
    }
    case Kind::kClients:
      return apply_clients(v, config, r);
    case Kind::kRetentionSenders:
      return apply_retention_senders(v, config, r);
  }
}

// Errors in a configuration file: "FILE:LINE:COLUMN: KEY: reason".
class FileReporter : public Reporter {
 public:
  FileReporter(const JsonDocument& doc, std::string_view file, std::string key, ConfigErrors& out)
      : doc_(doc), file_(file), key_(std::move(key)), out_(out) {}

 protected:
  void report(std::string_view, size_t offset, std::string reason) override {
    const TextPosition p = doc_.position(offset);
    out_.push_back({std::string(file_), p.line, p.column, key_ + ": " + std::move(reason)});
  }

 private:
  const JsonDocument& doc_;
  std::string_view file_;
  std::string key_;
  ConfigErrors& out_;
};

// Errors in a flag or an environment variable: "ORIGIN KEY (at SUBPATH): reason".
class PlainReporter : public Reporter {
 public:
  PlainReporter(std::string prefix, ConfigErrors& out) : prefix_(std::move(prefix)), out_(out) {}

 protected:
  void report(std::string_view subpath, size_t, std::string reason) override {
    std::string where = subpath.empty() ? "" : " (at " + std::string(subpath) + ")";
    out_.push_back({{}, 0, 0, prefix_ + where + ": " + std::move(reason)});
  }

 private:
  std::string prefix_;
  ConfigErrors& out_;
};

}  // namespace

ConfigErrors apply_config_json(std::string_view json, std::string_view file_name, Config& config) {
  ConfigErrors errors;
  auto parsed = parse_json_with_positions(json);
  if (!parsed) {
    const JsonSyntaxError& e = parsed.error();
    const std::string reason = e.duplicate_key.empty()
                                   ? "invalid JSON: " + e.message
                                   : "key \"" + e.duplicate_key + "\" appears twice in one object";
    errors.push_back({std::string(file_name), e.position.line, e.position.column, reason});
    return errors;
  }
  const JsonDocument& doc = *parsed;
  auto at = [&](size_t offset, std::string reason) {
    const TextPosition p = doc.position(offset);
    errors.push_back({std::string(file_name), p.line, p.column, std::move(reason)});
  };
  if (!doc.root.is_object()) {
    at(doc.root.offset, "the configuration must be a JSON object, not " + json_type_name(doc.root));
    return errors;
  }
  auto apply_member = [&](const std::string& dotted, const JsonMember& m) {
    const Binding* b = find_binding(dotted);
    if (!b) return at(m.key_offset, "unknown key \"" + dotted + "\"");
    FileReporter r(doc, file_name, dotted, errors);
    apply_value(*b, m.value, config, r);
  };
  for (const JsonMember& m : doc.root.members) {
    if (m.key == "http" || m.key == "mllp" || m.key == "journal_retention") {
      if (!m.value.is_object()) {
        at(m.value.offset, "\"" + m.key + "\" must be an object");
        continue;
      }
      for (const JsonMember& n : m.value.members) apply_member(m.key + "." + n.key, n);
    } else {
      apply_member(m.key, m);
    }
  }
  if (errors.empty()) {
    for (ConfigError e : validate_config(config)) {
      e.file = std::string(file_name);
      errors.push_back(std::move(e));
    }
  }
  return errors;
}

ConfigErrors load_config_file(const std::string& path, Config& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {{path, 0, 0, "cannot open the configuration file"}};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return {{path, 0, 0, "cannot read the configuration file"}};
  return apply_config_json(text, path, config);
}

ConfigErrors apply_setting(std::string_view key, std::string_view value, std::string_view origin,
                           Config& config) {
  ConfigErrors errors;
  const Binding* b = find_binding(key);
  if (!b) {
    errors.push_back({{}, 0, 0, std::string(origin) + ": unknown key \"" + std::string(key) + "\""});
    return errors;
  }
  PlainReporter r(std::string(origin) + " " + std::string(key), errors);
  const std::string text(value);
  // The value as the file would hold it, so that one apply_value checks both.
  JsonNode v;
  switch (b->kind) {
    case Kind::kBytes:
    case Kind::kCount:
    case Kind::kSeconds: {
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        r.error("", v, "\"" + text + "\" is not a whole number");
        return errors;
      }
      v.type = JsonNode::Type::kNumber;
      v.number = static_cast<double>(n);
      // Beyond int64 it is out of every setting's range: left a plain number, it is refused so.
      v.is_integer = n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      v.integer = v.is_integer ? static_cast<int64_t>(n) : 0;
      break;
    }
    case Kind::kClients:
    case Kind::kRetentionSenders: {
      auto parsed = parse_json_with_positions(text);
      if (!parsed) {
        r.error("", v, "invalid JSON at byte " + std::to_string(parsed.error().offset) + ": " + parsed.error().message);
        return errors;
      }
      v = std::move(parsed->root);
      break;
    }
    default:
      v.type = JsonNode::Type::kString;
      v.string = text;
  }
  apply_value(*b, v, config, r);
  return errors;
}

ConfigErrors apply_environment(const std::function<const char*(const char*)>& getenv, Config& config) {
  ConfigErrors errors;
  for (const Binding& b : bindings()) {
    const std::string name(b.env);
    if (const char* value = getenv(name.c_str())) {
      ConfigErrors e = apply_setting(b.key, value, name, config);
      errors.insert(errors.end(), e.begin(), e.end());
    }
  }
  return errors;
}

ConfigErrors validate_config(const Config& config) {
  ConfigErrors errors;
  if (config.http.port != 0 && config.http == config.mllp)
    errors.push_back({{}, 0, 0, "http.listen and mllp.listen are the same address " + config.http.to_string()});
  return errors;
}

const std::vector<SettingInfo>& config_settings() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> v;
    for (const Binding& b : bindings()) v.push_back({b.key, b.env, b.help});
    return v;
  }();
  return infos;
}

}  // namespace midhurst::server
