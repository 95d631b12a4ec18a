#include "store/time_range.h"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "store/types.h"

namespace midhurst::store {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Milliseconds since the epoch -> canonical text.
std::string format_ms(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  std::int64_t rest = ms - days * 86400000;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[96];  // room for any int64 year, to keep -Wformat-truncation quiet
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600000),
                static_cast<long long>(rest / 60000 % 60), static_cast<long long>(rest / 1000 % 60),
                static_cast<long long>(rest % 1000));
  return buf;
}

// Reads exactly `n` digits at `*p`; false when they are not there.
bool digits(std::string_view s, std::size_t* p, int n, int* out) {
  if (*p + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*p + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

}  // namespace

std::string format_instant(std::chrono::system_clock::time_point t) {
  return format_ms(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

std::optional<InstantRange> date_range(std::string_view s) {
  std::size_t p = 0;
  int year = 0, month = 0, day = 0;
  if (!digits(s, &p, 4, &year)) return std::nullopt;
  if (p == s.size()) {  // YYYY
    return InstantRange{format_ms(days_from_civil(year, 1, 1) * 86400000),
                        format_ms(days_from_civil(year + 1, 1, 1) * 86400000 - 1)};
  }
  if (s[p++] != '-' || !digits(s, &p, 2, &month) || month < 1 || month > 12) return std::nullopt;
  if (p == s.size()) {  // YYYY-MM
    std::int64_t first = days_from_civil(year, month, 1);
    return InstantRange{format_ms(first * 86400000),
                        format_ms((first + days_in_month(year, month)) * 86400000 - 1)};
  }
  if (s[p++] != '-' || !digits(s, &p, 2, &day) || day < 1 ||
      day > static_cast<int>(days_in_month(year, month)))
    return std::nullopt;
  const std::int64_t day_ms = days_from_civil(year, month, day) * 86400000;
  if (p == s.size()) return InstantRange{format_ms(day_ms), format_ms(day_ms + 86400000 - 1)};

  // A time: hh:mm[:ss[.fraction]] then Z or +hh:mm / -hh:mm.
  int hh = 0, mm = 0, ss = 0;
  if (s[p++] != 'T' || !digits(s, &p, 2, &hh) || hh > 23 || p >= s.size() || s[p++] != ':' ||
      !digits(s, &p, 2, &mm) || mm > 59)
    return std::nullopt;
  std::int64_t width = 60000;  // the precision given decides the range's width
  std::int64_t frac_ms = 0;
  if (p < s.size() && s[p] == ':') {
    ++p;
    if (!digits(s, &p, 2, &ss) || ss > 60) return std::nullopt;
    width = 1000;
    if (p < s.size() && s[p] == '.') {
      ++p;
      std::size_t start = p;
      std::int64_t scale = 100;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        frac_ms += (s[p] - '0') * scale;
        scale /= 10;
        ++p;
      }
      if (p == start) return std::nullopt;
      width = p - start >= 3 ? 1 : (p - start == 2 ? 10 : 100);
    }
  }
  if (ss == 60) ss = 59;  // a leap second sorts with the second before it
  std::int64_t offset_ms = 0;
  if (p >= s.size()) return std::nullopt;  // the offset is mandatory once there is a time
  if (s[p] == 'Z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    int sign = s[p++] == '-' ? -1 : 1, oh = 0, om = 0;
    if (!digits(s, &p, 2, &oh) || oh > 14 || p >= s.size() || s[p++] != ':' ||
        !digits(s, &p, 2, &om) || om > 59)
      return std::nullopt;
    offset_ms = sign * (oh * 3600000LL + om * 60000LL);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  const std::int64_t lo = day_ms + hh * 3600000LL + mm * 60000LL + ss * 1000LL + frac_ms - offset_ms;
  return InstantRange{format_ms(lo), format_ms(lo + width - 1)};
}

}  // namespace midhurst::store
