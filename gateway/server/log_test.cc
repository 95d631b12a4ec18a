// Structured logs: one JSON object per line, fields typed, text escaped, levels filtered.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "server/log.h"

namespace midhurst::server {
namespace {

TEST_CASE("log: a line is one JSON object with time, level, event and typed fields", "[log]") {
  const std::string line = format_log_line(LogLevel::kWarn, "mllp.framing_error",
                                           {{"peer", "127.0.0.1:1"}, {"offset", uint64_t{42}}, {"delta", -3},
                                            {"ratio", 0.5}, {"closed", true}, {"text", std::string("a\"b\nc")}});
  CHECK(line.find('\n') == std::string::npos);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["level"].GetString()) == "warn");
  CHECK(std::string(doc["event"].GetString()) == "mllp.framing_error");
  const std::string time = doc["time"].GetString();
  CHECK(time.size() == 24);  // 2026-01-02T03:04:05.678Z
  CHECK(time.back() == 'Z');
  CHECK(doc["offset"].GetUint64() == 42);
  CHECK(doc["delta"].GetInt() == -3);
  CHECK(doc["ratio"].GetDouble() == 0.5);
  CHECK(doc["closed"].GetBool());
  CHECK(std::string(doc["text"].GetString()) == "a\"b\nc");
}

TEST_CASE("log: the level threshold filters lines", "[log]") {
  std::vector<std::string> lines;
  set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  set_log_level(LogLevel::kWarn);
  log_info("quiet");
  log_warn("loud");
  log_error("louder");
  set_log_level(LogLevel::kInfo);
  set_log_sink(nullptr);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("\"event\":\"loud\"") != std::string::npos);
  CHECK(parse_log_level("debug") == LogLevel::kDebug);
  CHECK(parse_log_level("nonsense") == LogLevel::kInfo);
}

}  // namespace
}  // namespace midhurst::server
