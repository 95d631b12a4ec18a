#include "server/config.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

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

std::pair<size_t, size_t> line_column(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') ++line, line_start = i + 1;
  return {line, offset - line_start + 1};
}

namespace {

// ---------------------------------------------------------------------------------------------
// Positions.
//
// The input stream. rapidjson::StringStream is marked for "copy optimisation": the Reader
// parses each token on a local copy and writes the position back only afterwards, so a
// handler asking the stream for its position mid-token gets a stale answer. This stream is
// not marked (StreamTraits default), so Tell() is exact inside every handler call.
class TrackedStream {
 public:
  using Ch = char;
  explicit TrackedStream(const char* text) : begin_(text), cur_(text) {}
  Ch Peek() const { return *cur_; }
  Ch Take() { return *cur_++; }
  size_t Tell() const { return static_cast<size_t>(cur_ - begin_); }
  // Output functions, required by the concept and never called by a Reader.
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }

 private:
  const char* begin_;
  const char* cur_;
};

// RapidJSON's DOM keeps no source positions, so the file is parsed through its SAX
// Reader with a handler that builds the same Document while recording where each value (and
// each object key) starts, keyed by JSON-pointer-like paths ("/clients/0/scopes/1").

struct Positions {
  std::map<std::string, size_t> values;
  std::map<std::string, size_t> keys;
  std::vector<std::pair<size_t, std::string>> duplicates;  // offset, dotted key
};

class PositionHandler {
 public:
  PositionHandler(rapidjson::Document& doc, const TrackedStream& is, std::string_view text,
                  Positions& pos)
      : doc_(doc), is_(is), text_(text), pos_(pos) {
    next_ = skip(0);
  }

  bool Null() { begin_value(); return end_scalar(doc_.Null()); }
  bool Bool(bool b) { begin_value(); return end_scalar(doc_.Bool(b)); }
  bool Int(int i) { begin_value(); return end_scalar(doc_.Int(i)); }
  bool Uint(unsigned u) { begin_value(); return end_scalar(doc_.Uint(u)); }
  bool Int64(int64_t i) { begin_value(); return end_scalar(doc_.Int64(i)); }
  bool Uint64(uint64_t u) { begin_value(); return end_scalar(doc_.Uint64(u)); }
  bool Double(double d) { begin_value(); return end_scalar(doc_.Double(d)); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    begin_value();
    return end_scalar(doc_.RawNumber(s, n, copy));
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    begin_value();
    return end_scalar(doc_.String(s, n, copy));
  }
  bool StartObject() {
    const std::string path = begin_value();
    stack_.push_back({false, 0, path, {}, {}});
    advance();
    return doc_.StartObject();
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    Frame& f = stack_.back();
    f.key.assign(s, n);
    const std::string path = f.path + "/" + f.key;
    if (!f.seen.insert(f.key).second) pos_.duplicates.emplace_back(next_, path);
    pos_.keys[path] = next_;
    advance();
    return doc_.Key(s, n, copy);
  }
  bool EndObject(rapidjson::SizeType n) {
    stack_.pop_back();
    advance();
    return doc_.EndObject(n);
  }
  bool StartArray() {
    const std::string path = begin_value();
    stack_.push_back({true, 0, path, {}, {}});
    advance();
    return doc_.StartArray();
  }
  bool EndArray(rapidjson::SizeType n) {
    stack_.pop_back();
    advance();
    return doc_.EndArray(n);
  }

 private:
  struct Frame {
    bool array;
    size_t index;
    std::string path;
    std::string key;
    std::set<std::string> seen;
  };

  // Records where the value about to be delivered starts; returns its path.
  std::string begin_value() {
    std::string path;
    if (!stack_.empty()) {
      Frame& f = stack_.back();
      path = f.path + "/" + (f.array ? std::to_string(f.index++) : f.key);
    }
    pos_.values[path] = next_;
    return path;
  }
  bool end_scalar(bool ok) {
    advance();
    return ok;
  }
  // At each SAX event the stream stands just past the token delivered, so the next value or
  // key starts after any whitespace, ',' or ':' from here.
  void advance() { next_ = skip(is_.Tell()); }
  size_t skip(size_t at) const {
    while (at < text_.size() && (text_[at] == ' ' || text_[at] == '\t' || text_[at] == '\n' ||
                                 text_[at] == '\r' || text_[at] == ',' || text_[at] == ':'))
      ++at;
    return at;
  }

  rapidjson::Document& doc_;
  const TrackedStream& is_;
  std::string_view text_;
  Positions& pos_;
  std::vector<Frame> stack_;
  size_t next_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Settings: one table drives the file, --set and the environment.

// Reports an error about the value at `subpath` below the setting being applied ("" for the
// setting's own value).
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void error(std::string_view subpath, std::string reason) = 0;
  // The same, pointing at the key of the member at `subpath` rather than its value.
  virtual void key_error(std::string_view subpath, std::string reason) { error(subpath, std::move(reason)); }
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

const char* json_type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "?";
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Reads the clients array. Every problem is reported with its own position.
void apply_clients(const rapidjson::Value& v, Config& config, Reporter& r) {
  if (!v.IsArray()) return r.error("", std::string("must be an array of clients, not ") + json_type_name(v));
  std::vector<ClientConfig> clients;
  std::map<std::string, size_t> names, tokens;
  bool ok = true;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const std::string at = "/" + std::to_string(i);
    const rapidjson::Value& c = v[i];
    if (!c.IsObject()) {
      r.error(at, std::string("a client must be an object, not ") + json_type_name(c));
      ok = false;
      continue;
    }
    ClientConfig client;
    bool has_name = false, has_token = false, has_scopes = false;
    for (auto m = c.MemberBegin(); m != c.MemberEnd(); ++m) {
      const std::string key(m->name.GetString(), m->name.GetStringLength());
      const std::string here = at + "/" + key;
      const rapidjson::Value& mv = m->value;
      if (key == "client") {
        has_name = true;
        if (!mv.IsString() || mv.GetStringLength() == 0) {
          r.error(here, "\"client\" must be a non-empty string (the client's name)");
          ok = false;
        } else {
          client.name = mv.GetString();
        }
      } else if (key == "token_sha256") {
        has_token = true;
        if (!mv.IsString() || !is_hex64(mv.GetString())) {
          r.error(here, "\"token_sha256\" must be the SHA-256 of the token as 64 hex digits "
                        "(e.g. printf %s TOKEN | sha256sum)");
          ok = false;
        } else {
          client.token_sha256 = mv.GetString();
          for (char& ch : client.token_sha256) ch = static_cast<char>(std::tolower(ch));
        }
      } else if (key == "scopes") {
        has_scopes = true;
        if (!mv.IsArray()) {
          r.error(here, "\"scopes\" must be an array of strings such as \"system/Patient.read\"");
          ok = false;
          continue;
        }
        for (rapidjson::SizeType k = 0; k < mv.Size(); ++k) {
          const std::string sat = here + "/" + std::to_string(k);
          if (!mv[k].IsString()) {
            r.error(sat, "a scope must be a string such as \"system/Patient.read\"");
            ok = false;
            continue;
          }
          auto scope = parse_scope(mv[k].GetString());
          if (!scope) {
            r.error(sat, scope.error());
            ok = false;
            continue;
          }
          client.scopes.emplace_back(mv[k].GetString());
        }
      } else {
        r.key_error(here, "unknown client key \"" + key + "\" (expected client, token_sha256, scopes)");
        ok = false;
      }
    }
    if (!has_name || !has_token || !has_scopes) {
      r.error(at, "a client needs \"client\", \"token_sha256\" and \"scopes\"");
      ok = false;
      continue;
    }
    if (!client.name.empty() && !names.emplace(client.name, i).second) {
      r.error(at + "/client", "client \"" + client.name + "\" is listed twice");
      ok = false;
    }
    if (!client.token_sha256.empty() && !tokens.emplace(client.token_sha256, i).second) {
      r.error(at + "/token_sha256", "client \"" + client.name +
                                         "\" has the same token as client #" +
                                         std::to_string(tokens[client.token_sha256] + 1));
      ok = false;
    }
    clients.push_back(std::move(client));
  }
  if (ok) config.clients = std::move(clients);
}

// Reads journal_retention.senders: [{"application", "facility"?, "max_age_days"?, "max_bytes"?}].
void apply_retention_senders(const rapidjson::Value& v, Config& config, Reporter& r) {
  if (!v.IsArray()) return r.error("", std::string("must be an array of sender rules, not ") + json_type_name(v));
  std::vector<SenderRetention> senders;
  std::set<std::pair<std::string, std::string>> seen;
  bool ok = true;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const std::string at = "/" + std::to_string(i);
    const rapidjson::Value& e = v[i];
    if (!e.IsObject()) {
      r.error(at, std::string("a sender rule must be an object, not ") + json_type_name(e));
      ok = false;
      continue;
    }
    SenderRetention rule;
    bool has_application = false;
    for (auto m = e.MemberBegin(); m != e.MemberEnd(); ++m) {
      const std::string key(m->name.GetString(), m->name.GetStringLength());
      const std::string here = at + "/" + key;
      const rapidjson::Value& mv = m->value;
      if (key == "application" || key == "facility") {
        if (!mv.IsString() || mv.GetStringLength() == 0) {
          r.error(here, "\"" + key + "\" must be a non-empty string (MSH-" + (key == "application" ? "3" : "4") + ")");
          ok = false;
        } else if (key == "application") {
          rule.application = mv.GetString();
          has_application = true;
        } else {
          rule.facility = mv.GetString();
        }
      } else if (key == "max_age_days") {
        if (!mv.IsUint64() || mv.GetUint64() < 1 || mv.GetUint64() > 36500) {
          r.error(here, "\"max_age_days\" must be a whole number of days from 1 to 36500");
          ok = false;
        } else {
          rule.limits.max_age_days = mv.GetUint64();
        }
      } else if (key == "max_bytes") {
        if (!mv.IsUint64() || mv.GetUint64() < 1) {
          r.error(here, "\"max_bytes\" must be a whole number of bytes, at least 1");
          ok = false;
        } else {
          rule.limits.max_bytes = mv.GetUint64();
        }
      } else {
        r.key_error(here, "unknown sender rule key \"" + key +
                              "\" (expected application, facility, max_age_days, max_bytes)");
        ok = false;
      }
    }
    if (!has_application) {
      r.error(at, "a sender rule needs \"application\" (MSH-3)");
      ok = false;
      continue;
    }
    if (!seen.emplace(rule.application, rule.facility).second) {
      r.error(at, "sender " + rule.application + (rule.facility.empty() ? "" : "/" + rule.facility) +
                      " has two rules");
      ok = false;
    }
    senders.push_back(std::move(rule));
  }
  if (ok) config.journal_retention.senders = std::move(senders);
}

// Checks `v` against the binding's kind and applies it.
void apply_value(const Binding& b, const rapidjson::Value& v, Config& config, Reporter& r) {
  switch (b.kind) {
    case Kind::kEndpoint: {
      if (!v.IsString()) return r.error("", std::string("must be a string \"HOST:PORT\", not ") + json_type_name(v));
      auto e = parse_endpoint(v.GetString());
      if (!e) return r.error("", e.error());
      return b.apply(config, 0, v.GetString());
    }
    case Kind::kBytes:
    case Kind::kCount:
    case Kind::kSeconds: {
      if (!v.IsUint64() || v.GetUint64() < b.min || v.GetUint64() > b.max) {
        const char* unit = b.kind == Kind::kBytes ? " bytes" : b.kind == Kind::kSeconds ? " seconds" : "";
        return r.error("", "must be a whole number from " + std::to_string(b.min) + " to " +
                               std::to_string(b.max) + unit);
      }
      return b.apply(config, v.GetUint64(), {});
    }
    case Kind::kText:
      if (!v.IsString() || v.GetStringLength() == 0)
        return r.error("", "must be a non-empty string");
      return b.apply(config, 0, v.GetString());
    case Kind::kLogLevel: {
      const std::string level = v.IsString() ? v.GetString() : "";
      if (level != "debug" && level != "info" && level != "warn" && level != "error")
        return r.error("", "must be one of \"debug\", \"info\", \"warn\", \"error\"");
      return b.apply(config, 0, level);
    }
    case Kind::kClients:
      return apply_clients(v, config, r);
    case Kind::kRetentionSenders:
      return apply_retention_senders(v, config, r);
  }
}

class FileReporter : public Reporter {
 public:
  FileReporter(std::string_view text, std::string_view file, const Positions& pos, std::string base,
               std::string key, ConfigErrors& out)
      : text_(text), file_(file), pos_(pos), base_(std::move(base)), key_(std::move(key)), out_(out) {}
  void error(std::string_view subpath, std::string reason) override { at(pos_.values, subpath, std::move(reason)); }
  void key_error(std::string_view subpath, std::string reason) override { at(pos_.keys, subpath, std::move(reason)); }

 private:
  void at(const std::map<std::string, size_t>& where, std::string_view subpath, std::string reason) {
    auto it = where.find(base_ + std::string(subpath));
    const size_t offset = it != where.end() ? it->second : 0;
    auto [line, column] = line_column(text_, offset);
    out_.push_back({std::string(file_), line, column, key_ + ": " + std::move(reason)});
  }

  std::string_view text_, file_;
  const Positions& pos_;
  std::string base_, key_;
  ConfigErrors& out_;
};

class PlainReporter : public Reporter {
 public:
  PlainReporter(std::string prefix, ConfigErrors& out) : prefix_(std::move(prefix)), out_(out) {}
  void error(std::string_view subpath, std::string reason) override {
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
  const std::string text(json);
  rapidjson::Document doc;
  Positions pos;
  TrackedStream is(text.c_str());
  rapidjson::ParseResult parsed;
  auto generate = [&](rapidjson::Document& d) {
    rapidjson::Reader reader;
    PositionHandler handler(d, is, text, pos);
    parsed = reader.Parse<rapidjson::kParseValidateEncodingFlag>(is, handler);
    return !parsed.IsError();
  };
  doc.Populate(generate);
  auto at = [&](size_t offset, std::string reason) {
    auto [line, column] = line_column(text, offset);
    errors.push_back({std::string(file_name), line, column, std::move(reason)});
  };
  if (parsed.IsError()) {
    at(parsed.Offset(), std::string("invalid JSON: ") + rapidjson::GetParseError_En(parsed.Code()));
    return errors;
  }
  for (const auto& [offset, path] : pos.duplicates)
    at(offset, "key \"" + path.substr(1) + "\" appears twice in one object");
  if (!doc.IsObject()) {
    at(pos.values[""], std::string("the configuration must be a JSON object, not ") + json_type_name(doc));
    return errors;
  }
  auto apply_member = [&](const std::string& dotted, const std::string& path, const rapidjson::Value& v) {
    const Binding* b = find_binding(dotted);
    if (!b) {
      at(pos.keys[path], "unknown key \"" + dotted + "\"");
      return;
    }
    FileReporter r(text, file_name, pos, path, dotted, errors);
    apply_value(*b, v, config, r);
  };
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string key = m->name.GetString();
    if (key == "http" || key == "mllp" || key == "journal_retention") {
      if (!m->value.IsObject()) {
        at(pos.values["/" + key], "\"" + key + "\" must be an object");
        continue;
      }
      for (auto n = m->value.MemberBegin(); n != m->value.MemberEnd(); ++n) {
        const std::string sub = n->name.GetString();
        apply_member(key + "." + sub, "/" + key + "/" + sub, n->value);
      }
    } else {
      apply_member(key, "/" + key, m->value);
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
  rapidjson::Document v;
  const std::string text(value);
  switch (b->kind) {
    case Kind::kBytes:
    case Kind::kCount:
    case Kind::kSeconds: {
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        r.error("", "\"" + text + "\" is not a whole number");
        return errors;
      }
      v.SetUint64(n);
      break;
    }
    case Kind::kClients:
    case Kind::kRetentionSenders:
      if (v.Parse(text.c_str()).HasParseError()) {
        r.error("", std::string("invalid JSON at byte ") + std::to_string(v.GetErrorOffset()) +
                        ": " + rapidjson::GetParseError_En(v.GetParseError()));
        return errors;
      }
      break;
    default:
      v.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), v.GetAllocator());
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
