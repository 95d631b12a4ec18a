#include "server/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace midhurst::server {

namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
std::function<void(std::string_view)>& sink() {
  static std::function<void(std::string_view)> s;
  return s;
}

// RFC 3339 UTC with milliseconds: sortable, unambiguous across clock changes.
std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

LogLevel parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

void set_log_level(LogLevel level) { g_level = level; }

void set_log_sink(std::function<void(std::string_view)> s) {
  std::lock_guard lock(sink_mutex());
  sink() = std::move(s);
}

std::string format_log_line(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("time");
  write_string(w, now_rfc3339());
  w.Key("level");
  write_string(w, to_string(level));
  w.Key("event");
  write_string(w, event);
  for (const LogField& f : fields) {
    w.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) write_string(w, v);
          else if constexpr (std::is_same_v<T, int64_t>) w.Int64(v);
          else if constexpr (std::is_same_v<T, uint64_t>) w.Uint64(v);
          else if constexpr (std::is_same_v<T, double>) w.Double(v);
          else w.Bool(v);
        },
        f.value);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line = format_log_line(level, event, fields);
  std::lock_guard lock(sink_mutex());
  if (sink()) {
    sink()(line);
    return;
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace midhurst::server
