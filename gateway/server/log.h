// Structured logs: one JSON object per line on stdout, for log shippers.
//
//   {"time":"2026-01-02T03:04:05.678Z","level":"info","event":"mllp.listening","address":"127.0.0.1:2575"}
//
// `event` is a stable dotted name (grep and alert on it); fields carry the details. Lines are
// written whole (one fwrite under a mutex, then fflush), so lines from many threads never
// interleave and a crash loses at most the line being written.
//
// Threading: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace midhurst::server {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn", "error"; parse_log_level returns kInfo for anything else.
std::string_view to_string(LogLevel level);
LogLevel parse_log_level(std::string_view text);

// One field of a log line. Holds views: the values must outlive the log() call only.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  LogField(std::string_view k, I v)
      : key(k), value(std::is_signed_v<I> ? Value(static_cast<int64_t>(v)) : Value(static_cast<uint64_t>(v))) {}

  using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool>;
  std::string_view key;
  Value value;
};

// Writes one line if `level` is at or above the threshold.
void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

inline void log_debug(std::string_view event, std::initializer_list<LogField> f = {}) { log(LogLevel::kDebug, event, f); }
inline void log_info(std::string_view event, std::initializer_list<LogField> f = {}) { log(LogLevel::kInfo, event, f); }
inline void log_warn(std::string_view event, std::initializer_list<LogField> f = {}) { log(LogLevel::kWarn, event, f); }
inline void log_error(std::string_view event, std::initializer_list<LogField> f = {}) { log(LogLevel::kError, event, f); }

// The threshold (default kInfo).
void set_log_level(LogLevel level);

// Replaces the sink (default: stdout). Each call receives one complete line without its
// newline. For tests; pass nullptr to restore stdout.
void set_log_sink(std::function<void(std::string_view line)> sink);

// The JSON line log() would write, without the trailing newline (for tests).
std::string format_log_line(LogLevel level, std::string_view event, std::initializer_list<LogField> fields);

}  // namespace midhurst::server
