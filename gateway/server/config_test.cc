// Configuration: the file format, every kind of error with its line and column, overrides by
// --set and environment, and the example file in examples/.
#include <catch2/catch.hpp>

#include <map>

#include "common/json_reader.h"
#include "server/config.h"

namespace midhurst::server {
namespace {

const std::string kToken = std::string(64, 'a');

std::string errors_text(const ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

TEST_CASE("config: defaults", "[config]") {
  Config c;
  CHECK(c.http.to_string() == "127.0.0.1:8080");
  CHECK(c.mllp.to_string() == "127.0.0.1:2575");
  CHECK(c.data_dir == "data");
  CHECK(c.store_url() == "sqlite:data/midhurst.db");
  c.data_dir = "/var/lib/midhurst/";
  CHECK(c.store_url() == "sqlite:/var/lib/midhurst/midhurst.db");
  c.store = "postgresql://db/midhurst";
  CHECK(c.store_url() == "postgresql://db/midhurst");
  CHECK(c.mllp_limits.max_frame_bytes == 1u << 20);
}

TEST_CASE("config: endpoints", "[config]") {
  auto e = parse_endpoint("0.0.0.0:2575");
  REQUIRE(e.ok());
  CHECK(e->host == "0.0.0.0");
  CHECK(e->port == 2575);
  auto v6 = parse_endpoint("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->to_string() == "[::1]:0");
  CHECK_FALSE(parse_endpoint("localhost").ok());
  CHECK_FALSE(parse_endpoint(":80").ok());
  CHECK_FALSE(parse_endpoint("host:99999").ok());
  CHECK_FALSE(parse_endpoint("host:8o").ok());
  CHECK_FALSE(parse_endpoint("::1:80").ok());
}

TEST_CASE("config: a complete file is applied", "[config]") {
  const std::string json = R"({
  "http": {"listen": "0.0.0.0:8443", "max_body_bytes": 1048576, "max_header_bytes": 8192,
           "max_connections": 10, "idle_timeout_seconds": 5},
  "mllp": {"listen": "0.0.0.0:2576", "max_frame_bytes": 4096, "max_connections": 3,
           "idle_timeout_seconds": 60, "max_in_flight": 2},
  "data_dir": "/tmp/m", "store": "sqlite:/tmp/m/x.db", "capability_statement": "cs.json",
  "mappings_dir": "maps", "threads": 4, "shutdown_grace_seconds": 3, "log_level": "debug",
  "clients": [{"client": "hospice", "token_sha256": ")" + std::string(64, 'A') + R"(", "scopes": ["system/Patient.read", "system/*.write"]}]
})";
  Config c;
  const ConfigErrors errors = apply_config_json(json, "m.json", c);
  INFO(errors_text(errors));
  REQUIRE(errors.empty());
  CHECK(c.http.to_string() == "0.0.0.0:8443");
  CHECK(c.http_limits.max_body_bytes == 1048576);
  CHECK(c.http_limits.max_header_bytes == 8192);
  CHECK(c.http_limits.max_connections == 10);
  CHECK(c.http_limits.idle_timeout == std::chrono::seconds(5));
  CHECK(c.mllp.port == 2576);
  CHECK(c.mllp_limits.max_frame_bytes == 4096);
  CHECK(c.mllp_limits.max_connections == 3);
  CHECK(c.mllp_limits.idle_timeout == std::chrono::seconds(60));
  CHECK(c.mllp_limits.max_in_flight == 2);
  CHECK(c.data_dir == "/tmp/m");
  CHECK(c.store_url() == "sqlite:/tmp/m/x.db");
  CHECK(c.capability_statement == "cs.json");
  CHECK(c.mappings_dir == "maps");
  CHECK(c.threads == 4);
  CHECK(c.shutdown_grace == std::chrono::seconds(3));
  CHECK(c.log_level == "debug");
  REQUIRE(c.clients.size() == 1);
  CHECK(c.clients[0].name == "hospice");
  CHECK(c.clients[0].token_sha256 == std::string(64, 'a'));  // normalised to lower case
  CHECK(c.clients[0].scopes == std::vector<std::string>{"system/Patient.read", "system/*.write"});
}

TEST_CASE("config: the example file is valid", "[config]") {
  Config c;
  const ConfigErrors errors = load_config_file(MIDHURST_SOURCE_DIR "/examples/midhurst.json", c);
  INFO(errors_text(errors));
  CHECK(errors.empty());
  CHECK_FALSE(c.clients.empty());
}

TEST_CASE("config: a missing file is one error", "[config]") {
  Config c;
  const ConfigErrors errors = load_config_file("no/such/file.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "no/such/file.json: cannot open the configuration file");
}

TEST_CASE("config: syntax errors give line and column", "[config]") {
  Config c;
  // Line 3 lacks the comma after the value on line 2; RapidJSON stops at the next key.
  const ConfigErrors errors = apply_config_json("{\n  \"data_dir\": \"x\"\n  \"store\": \"y\"\n}", "bad.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 3);
  CHECK(errors[0].column == 3);
  CHECK(errors[0].to_string() == "bad.json:3:3: invalid JSON: Missing a comma or '}' after an object member.");

  const ConfigErrors trailing = apply_config_json("{\"threads\": 1,}", "t.json", c);
  REQUIRE(trailing.size() == 1);
  CHECK(trailing[0].line == 1);
  CHECK(trailing[0].column == 15);

  const ConfigErrors empty = apply_config_json("", "e.json", c);
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].line == 1);
  CHECK(empty[0].column == 1);
}

TEST_CASE("config: unknown keys are refused where they are", "[config]") {
  Config c;
  const ConfigErrors errors =
      apply_config_json("{\n  \"http\": {\n    \"listen\": \"127.0.0.1:1\",\n    \"max_body\": 5\n  },\n  \"colour\": 1\n}", "u.json", c);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].to_string() == "u.json:4:5: unknown key \"http.max_body\"");
  CHECK(errors[1].to_string() == "u.json:6:3: unknown key \"colour\"");
}

TEST_CASE("config: wrong types and ranges point at the value", "[config]") {
  Config c;
  const std::string json =
      "{\n"
      "  \"http\": {\"listen\": \"nowhere\", \"max_connections\": 0},\n"
      "  \"mllp\": {\"max_frame_bytes\": -1, \"idle_timeout_seconds\": 1.5},\n"
      "  \"threads\": \"four\",\n"
      "  \"log_level\": \"loud\",\n"
      "  \"data_dir\": \"\"\n"
      "}";
  const ConfigErrors errors = apply_config_json(json, "r.json", c);
  INFO(errors_text(errors));
  REQUIRE(errors.size() == 7);
  CHECK(errors[0].to_string() == "r.json:2:22: http.listen: expected HOST:PORT");
  CHECK(errors[1].to_string() == "r.json:2:52: http.max_connections: must be a whole number from 1 to 100000");
  CHECK(errors[2].to_string() == "r.json:3:31: mllp.max_frame_bytes: must be a whole number from 1024 to 268435456 bytes");
  CHECK(errors[3].to_string() == "r.json:3:59: mllp.idle_timeout_seconds: must be a whole number from 1 to 604800 seconds");
  CHECK(errors[4].to_string() == "r.json:4:14: threads: must be a whole number from 0 to 256");
  CHECK(errors[5].to_string() == "r.json:5:16: log_level: must be one of \"debug\", \"info\", \"warn\", \"error\"");
  CHECK(errors[6].to_string() == "r.json:6:15: data_dir: must be a non-empty string");
}

TEST_CASE("config: sections and the root must be objects", "[config]") {
  Config c;
  ConfigErrors errors = apply_config_json("[1]", "a.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "a.json:1:1: the configuration must be a JSON object, not an array");
  errors = apply_config_json("{\"http\": 8080}", "h.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "h.json:1:10: \"http\" must be an object");
}

TEST_CASE("config: duplicate keys are refused", "[config]") {
  Config c;
  const ConfigErrors errors = apply_config_json("{\"threads\": 1,\n \"threads\": 2}", "d.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "d.json:2:2: key \"threads\" appears twice in one object");
}

TEST_CASE("config: client errors point inside the client", "[config]") {
  Config c;
  const std::string json =
      "{\"clients\": [\n"
      "  {\"client\": \"a\", \"token_sha256\": \"" + kToken + "\", \"scopes\": [\"system/Patient.read\"]},\n"
      "  {\"client\": \"b\", \"token_sha256\": \"abc\", \"scopes\": [\"user/Patient.read\", 7]},\n"
      "  {\"client\": \"a\", \"token_sha256\": \"" + kToken + "\", \"scopes\": []},\n"
      "  {\"client\": \"c\", \"scopes\": [], \"role\": \"x\"},\n"
      "  \"d\"\n"
      "]}";
  const ConfigErrors errors = apply_config_json(json, "c.json", c);
  INFO(errors_text(errors));
  REQUIRE(errors.size() == 8);
  CHECK(errors[0].line == 3);
  CHECK(errors[0].reason.find("token_sha256\" must be the SHA-256") != std::string::npos);
  CHECK(errors[1].line == 3);
  CHECK(errors[1].column == 53);
  CHECK(errors[1].reason.find("only system/ scopes are supported") != std::string::npos);
  CHECK(errors[2].to_string() == "c.json:3:74: clients: a scope must be a string such as \"system/Patient.read\"");
  CHECK(errors[3].to_string() == "c.json:4:14: clients: client \"a\" is listed twice");
  CHECK(errors[4].to_string().rfind("c.json:4:35: clients: client \"a\" has the same token as client #1", 0) == 0);
  CHECK(errors[5].to_string() == "c.json:5:33: clients: unknown client key \"role\" (expected client, token_sha256, scopes)");
  CHECK(errors[6].to_string() == "c.json:5:3: clients: a client needs \"client\", \"token_sha256\" and \"scopes\"");
  CHECK(errors[7].to_string() == "c.json:6:3: clients: a client must be an object, not a string");
  CHECK(c.clients.empty());  // nothing applied from a bad list
}

TEST_CASE("config: --set and the environment", "[config]") {
  Config c;
  CHECK(apply_setting("http.listen", "127.0.0.1:0", "--http", c).empty());
  CHECK(c.http.port == 0);
  CHECK(apply_setting("mllp.max_in_flight", "3", "--set", c).empty());
  CHECK(c.mllp_limits.max_in_flight == 3);

  ConfigErrors errors = apply_setting("mllp.max_in_flight", "lots", "--set", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "--set mllp.max_in_flight: \"lots\" is not a whole number");
  errors = apply_setting("nope", "1", "--set", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "--set: unknown key \"nope\"");
  errors = apply_setting("mllp.listen", "x", "--mllp", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "--mllp mllp.listen: expected HOST:PORT");

  std::map<std::string, std::string> env = {
      {"MIDHURST_HTTP", "0.0.0.0:9000"},
      {"MIDHURST_STORE", "sqlite:/x.db"},
      {"MIDHURST_MLLP_MAX_FRAME_BYTES", "2048"},
      {"MIDHURST_CLIENTS", "[{\"client\":\"e\",\"token_sha256\":\"" + kToken + "\",\"scopes\":[\"system/*.read\"]}]"},
      {"MIDHURST_THREADS", "x"},
  };
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  errors = apply_environment(getenv, c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "MIDHURST_THREADS threads: \"x\" is not a whole number");
  CHECK(c.http.to_string() == "0.0.0.0:9000");
  CHECK(c.store_url() == "sqlite:/x.db");
  CHECK(c.mllp_limits.max_frame_bytes == 2048);
  REQUIRE(c.clients.size() == 1);
  CHECK(c.clients[0].name == "e");
}

TEST_CASE("config: the render cache size by file, --set and environment, and 0 turns it off", "[config]") {
  Config c;
  CHECK(c.http_limits.render_cache_mib == 64);
  CHECK(apply_config_json(R"({"http": {"render_cache_mib": 16}})", "f.json", c).empty());
  CHECK(c.http_limits.render_cache_mib == 16);
  CHECK(apply_setting("http.render_cache_mib", "0", "--set", c).empty());
  CHECK(c.http_limits.render_cache_mib == 0);
  std::map<std::string, std::string> env = {{"MIDHURST_HTTP_RENDER_CACHE_MIB", "128"}};
  CHECK(apply_environment([&](const char* n) { return env.count(n) ? env[n].c_str() : nullptr; }, c).empty());
  CHECK(c.http_limits.render_cache_mib == 128);
  const ConfigErrors errors = apply_config_json(R"({"http": {"render_cache_mib": 100000}})", "f.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "f.json:1:31: http.render_cache_mib: must be a whole number from 0 to 65536");
}

TEST_CASE("config: http and mllp on one address is refused", "[config]") {
  Config c;
  c.mllp = c.http;
  const ConfigErrors errors = validate_config(c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].reason == "http.listen and mllp.listen are the same address 127.0.0.1:8080");
  c.http.port = c.mllp.port = 0;  // two ephemeral ports never clash
  CHECK(validate_config(c).empty());
}

TEST_CASE("config: every setting has an environment variable", "[config]") {
  for (const SettingInfo& s : config_settings()) {
    CHECK(s.env.substr(0, 9) == "MIDHURST_");
    CHECK_FALSE(s.help.empty());
  }
}

// Positions come from common/json_reader, as the mapping profiles' do: columns count characters.
TEST_CASE("config: line and column", "[config]") {
  auto at = [](std::string text, size_t offset) {
    const TextPosition p = LineIndex(std::move(text)).position(offset);
    return std::pair<size_t, size_t>{p.line, p.column};
  };
  CHECK(at("ab\ncd", 0) == std::pair<size_t, size_t>{1, 1});
  CHECK(at("ab\ncd", 3) == std::pair<size_t, size_t>{2, 1});
  CHECK(at("ab\ncd", 4) == std::pair<size_t, size_t>{2, 2});
  CHECK(at("ab", 99) == std::pair<size_t, size_t>{1, 3});

  Config c;
  const ConfigErrors errors = apply_config_json("{\"data_dir\": \"\xC3\xA9\", \"threads\": \"x\"}", "u.json", c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "u.json:1:30: threads: must be a whole number from 0 to 256");
  const ConfigErrors nested = apply_config_json("{\"http\": {\"listen\": \"127.0.0.1:1\",\n\"listen\": \"127.0.0.1:2\"}}", "n.json", c);
  REQUIRE(nested.size() == 1);
  CHECK(nested[0].to_string() == "n.json:2:1: key \"listen\" appears twice in one object");
}

}  // namespace
TEST_CASE("config: journal retention and profile watching", "[config]") {
  const std::string json = R"({
  "profile_watch_seconds": 5,
  "journal_retention": {
    "prune_interval_seconds": 600,
    "max_age_days": 90,
    "senders": [
      {"application": "PAS", "facility": "RYJ", "max_age_days": 30, "max_bytes": 1000000},
      {"application": "EPR", "max_bytes": 5000},
      {"application": "AUDIT"}
    ]
  }
})";
  Config c;
  CHECK(c.profile_watch == std::chrono::seconds(2));
  CHECK_FALSE(c.journal_retention.any_limit());
  const ConfigErrors errors = apply_config_json(json, "m.json", c);
  INFO(errors_text(errors));
  REQUIRE(errors.empty());
  CHECK(c.profile_watch == std::chrono::seconds(5));
  CHECK(c.journal_retention.prune_interval == std::chrono::seconds(600));
  CHECK(c.journal_retention.defaults.max_age_days == 90u);
  CHECK_FALSE(c.journal_retention.defaults.max_bytes);
  REQUIRE(c.journal_retention.senders.size() == 3);
  CHECK(c.journal_retention.senders[0] == SenderRetention{"PAS", "RYJ", {30, 1000000}});
  CHECK(c.journal_retention.senders[1] == SenderRetention{"EPR", "", {std::nullopt, 5000}});
  CHECK(c.journal_retention.senders[2] == SenderRetention{"AUDIT", "", {}});
  CHECK(c.journal_retention.any_limit());

  Config d;
  CHECK(apply_setting("journal_retention.max_bytes", "4096", "--set", d).empty());
  CHECK(d.journal_retention.defaults.max_bytes == 4096u);
  CHECK(apply_setting("journal_retention.senders", R"([{"application":"PAS","max_age_days":7}])", "--set", d).empty());
  REQUIRE(d.journal_retention.senders.size() == 1);
  CHECK(d.journal_retention.senders[0].limits.max_age_days == 7u);
  CHECK(apply_setting("profile_watch_seconds", "0", "--set", d).empty());
  CHECK(d.profile_watch == std::chrono::seconds(0));
  std::map<std::string, std::string> env{{"MIDHURST_JOURNAL_RETENTION_MAX_AGE_DAYS", "14"}};
  CHECK(apply_environment([&](const char* n) { return env.count(n) ? env[n].c_str() : nullptr; }, d).empty());
  CHECK(d.journal_retention.defaults.max_age_days == 14u);
}

TEST_CASE("config: journal retention errors point at the value", "[config]") {
  const std::string json = "{\n"
                           "  \"journal_retention\": {\n"
                           "    \"max_age_days\": 0,\n"
                           "    \"senders\": [\n"
                           "      {\"facility\": \"RYJ\"},\n"
                           "      {\"application\": \"PAS\", \"max_bytes\": -5},\n"
                           "      {\"application\": \"PAS\", \"max_age\": 3},\n"
                           "      \"PAS\"\n"
                           "    ],\n"
                           "    \"prune_every\": 5\n"
                           "  }\n"
                           "}\n";
  Config c;
  const ConfigErrors errors = apply_config_json(json, "m.json", c);
  const std::string text = errors_text(errors);
  INFO(text);
  CHECK(text.find("m.json:3:21: journal_retention.max_age_days: must be a whole number from 1 to 36500") != std::string::npos);
  CHECK(text.find("m.json:5:7: journal_retention.senders: a sender rule needs \"application\" (MSH-3)") != std::string::npos);
  CHECK(text.find("m.json:6:43: journal_retention.senders: \"max_bytes\" must be a whole number of bytes") != std::string::npos);
  CHECK(text.find("m.json:7:30: journal_retention.senders: unknown sender rule key \"max_age\"") != std::string::npos);
  CHECK(text.find("m.json:8:7: journal_retention.senders: a sender rule must be an object, not a string") != std::string::npos);
  CHECK(text.find("m.json:10:5: unknown key \"journal_retention.prune_every\"") != std::string::npos);
  // Nothing of a bad sender list is applied.
  CHECK(c.journal_retention.senders.empty());

  Config d;
  const ConfigErrors twice = apply_setting("journal_retention.senders",
                                           R"([{"application":"PAS"},{"application":"PAS"}])", "--set", d);
  REQUIRE(twice.size() == 1);
  CHECK(twice[0].to_string().find("sender PAS has two rules") != std::string::npos);
  CHECK_FALSE(apply_setting("journal_retention", "{}", "--set", d).empty());
}

}  // namespace midhurst::server
