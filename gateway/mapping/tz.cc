#include "mapping/tz.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace midhurst::mapping {

// Howard Hinnant's algorithms (http://howardhinnant.github.io/date_algorithms.html).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

namespace {

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

std::int64_t be(std::string_view b, std::size_t pos, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(b[pos + static_cast<std::size_t>(i)]);
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// A tiny cursor over a POSIX TZ string (POSIX.1-2017 section 8.3, with the RFC 8536 extensions:
// hours up to 167 and negative in rule times).
struct TzCursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool name() {
    if (peek() == '<') {
      const std::size_t close = s.find('>', i);
      if (close == std::string_view::npos) return false;
      i = close + 1;
      return true;
    }
    const std::size_t start = i;
    while (!done() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    return i - start >= 3;
  }
  bool number(int& v, int max) {
    if (done() || !std::isdigit(static_cast<unsigned char>(peek()))) return false;
    v = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek()))) {
      v = v * 10 + (s[i++] - '0');
      if (v > max) return false;
    }
    return true;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  bool hms(int& out) {
    int sign = 1;
    if (peek() == '+' || peek() == '-') sign = s[i++] == '-' ? -1 : 1;
    int h = 0, m = 0, sec = 0;
    if (!number(h, 167)) return false;
    if (peek() == ':') {
      ++i;
      if (!number(m, 59)) return false;
      if (peek() == ':') {
        ++i;
        if (!number(sec, 59)) return false;
      }
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
};

}  // namespace

Result<TimeZone, std::string> TimeZone::load(std::string_view name, std::string_view zoneinfo_dir) {
  // The name comes from profile data: keep it inside the zoneinfo directory.
  bool ok = !name.empty() && name.front() != '/' && name.find("..") == std::string_view::npos;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' || c == '/')) ok = false;
  if (!ok) return err("'" + std::string(name) + "' is not a tz database zone name (e.g. Europe/London)");
  const std::string file = std::string(zoneinfo_dir) + "/" + std::string(name);
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return err("unknown time zone '" + std::string(name) + "': no file " + file +
               " (is the tzdata package installed?)");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return from_tzif(name, bytes.str());
}

Result<TimeZone, std::string> TimeZone::from_tzif(std::string_view name, std::string_view b) {
  const std::string what = "time zone '" + std::string(name) + "': ";
  auto header = [&](std::size_t pos, std::int64_t counts[6]) -> bool {
    if (b.size() < pos + 44 || b.substr(pos, 4) != "TZif") return false;
    for (int k = 0; k < 6; ++k) counts[k] = be(b, pos + 20 + static_cast<std::size_t>(k) * 4, 4);
    return true;
  };
  std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return err(what + "not a TZif file");
  if (b[4] < '2') return err(what + "TZif version 1 files are not supported (64-bit data needed)");
  // Skip the version 1 block (32-bit times) to reach the version 2 header.
  const std::size_t v1 = static_cast<std::size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
  std::size_t pos = 44 + v1;
  if (!header(pos, c)) return err(what + "truncated TZif file (no version 2 header)");
  pos += 44;
  const std::size_t need = static_cast<std::size_t>(c[3] * 9 + c[4] * 6 + c[5] + c[2] * 12 + c[1] + c[0]);
  if (c[4] < 1 || b.size() < pos + need) return err(what + "truncated TZif data");
  TimeZone tz;
  tz.name_ = std::string(name);
  for (std::int64_t k = 0; k < c[3]; ++k) tz.transitions_.push_back(be(b, pos + static_cast<std::size_t>(k) * 8, 8));
  pos += static_cast<std::size_t>(c[3]) * 8;
  for (std::int64_t k = 0; k < c[3]; ++k) {
    const auto t = static_cast<std::uint8_t>(b[pos + static_cast<std::size_t>(k)]);
    if (t >= c[4]) return err(what + "transition names a missing local time type");
    tz.transition_types_.push_back(t);
  }
  pos += static_cast<std::size_t>(c[3]);
  for (std::int64_t k = 0; k < c[4]; ++k) {
    const std::size_t p = pos + static_cast<std::size_t>(k) * 6;
    tz.types_.push_back(Type{static_cast<int>(be(b, p, 4)), b[p + 4] != 0});
  }
  pos += need - static_cast<std::size_t>(c[3] * 9);
  // Footer: "\n" TZ-string "\n".
  if (pos < b.size() && b[pos] == '\n') {
    const std::size_t end = b.find('\n', pos + 1);
    if (end != std::string_view::npos && end > pos + 1) {
      if (!tz.parse_footer(b.substr(pos + 1, end - pos - 1)))
        return err(what + "malformed footer rule '" + std::string(b.substr(pos + 1, end - pos - 1)) + "'");
    }
  }
  return tz;
}

bool TimeZone::parse_footer(std::string_view s) {
  TzCursor c{s};
  int off = 0;
  if (!c.name() || !c.hms(off)) return false;
  std_offset_ = -off;  // POSIX offsets are west-positive
  has_footer_ = true;
  if (c.done()) return true;
  if (!c.name()) return false;
  dst_offset_ = std_offset_ + 3600;
  if (c.peek() != ',' && !c.done()) {
    if (!c.hms(off)) return false;
    dst_offset_ = -off;
  }
  auto rule = [&](Rule& r) {
    if (c.peek() != ',') return false;
    ++c.i;
    if (c.peek() == 'M') {
      ++c.i;
      r.kind = 'M';
      if (!c.number(r.a, 12) || r.a < 1 || c.peek() != '.') return false;
      ++c.i;
      if (!c.number(r.b, 5) || r.b < 1 || c.peek() != '.') return false;
      ++c.i;
      if (!c.number(r.c, 6)) return false;
    } else if (c.peek() == 'J') {
      ++c.i;
      r.kind = 'J';
      if (!c.number(r.a, 365) || r.a < 1) return false;
    } else {
      r.kind = 'N';
      if (!c.number(r.a, 365)) return false;
    }
    r.time = 7200;
    if (c.peek() == '/') {
      ++c.i;
      if (!c.hms(r.time)) return false;
    }
    return true;
  };
  if (!rule(start_) || !rule(end_) || !c.done()) return false;
  has_dst_ = true;
  return true;
}

// The UTC instant at which rule `r` fires in `year`; its time of day is local time in the offset
// in force before the change.
std::int64_t TimeZone::rule_instant(const Rule& r, int year, int offset_before) const {
  std::int64_t day = 0;
  if (r.kind == 'M') {
    const std::int64_t first = days_from_civil(year, r.a, 1);
    const int first_wd = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    int dom = 1 + (r.c - first_wd + 7) % 7 + (r.b - 1) * 7;
    while (dom > days_in_month(year, r.a)) dom -= 7;
    day = days_from_civil(year, r.a, dom);
  } else if (r.kind == 'J') {  // 1..365, February 29 never counted
    int n = r.a - 1;
    if (is_leap(year) && r.a >= 60) ++n;
    day = days_from_civil(year, 1, 1) + n;
  } else {  // 0..365, February 29 counted
    day = days_from_civil(year, 1, 1) + r.a;
  }
  return day * 86400 + r.time - offset_before;
}

int TimeZone::offset_at(std::int64_t utc) const {
  if (!transitions_.empty()) {
    if (utc < transitions_.front()) return types_.front().offset;  // RFC 8536: type 0
    if (utc < transitions_.back() || !has_footer_) {
      auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
      const std::size_t k = static_cast<std::size_t>(it - transitions_.begin()) - 1;
      return types_[transition_types_[k]].offset;
    }
  } else if (!has_footer_) {
    return types_.front().offset;
  }
  if (!has_dst_) return std_offset_;
  // After the table: the footer rule. The year is taken in standard time; look at the changes of
  // the year before, the year and the year after, and take the last one at or before `utc`.
  int y, m, d;
  const std::int64_t local = utc + std_offset_;
  civil_from_days(local / 86400 - (local % 86400 < 0 ? 1 : 0), y, m, d);
  int offset = std_offset_;
  std::int64_t best = INT64_MIN;
  for (int yy = y - 1; yy <= y + 1; ++yy) {
    const std::int64_t on = rule_instant(start_, yy, std_offset_);
    const std::int64_t off = rule_instant(end_, yy, dst_offset_);
    if (on <= utc && on > best) best = on, offset = dst_offset_;
    if (off <= utc && off > best) best = off, offset = std_offset_;
  }
  return offset;
}

TimeZone::Local TimeZone::resolve(std::int64_t local) const {
  // Offsets change at most once in any two days in every real zone, so the offsets in force a day
  // either side are the only candidates.
  const int before = offset_at(local - 86400 - 14 * 3600);
  const int after = offset_at(local + 86400 + 14 * 3600);
  const bool before_ok = offset_at(local - before) == before;
  const bool after_ok = offset_at(local - after) == after;
  Local r;
  if (before_ok && after_ok && before != after) {
    r.kind = Local::Kind::kAmbiguous;
    r.offset_seconds = std::max(before, after);  // the earlier instant
    r.other_offset_seconds = std::min(before, after);
  } else if (before_ok || after_ok) {
    r.offset_seconds = before_ok ? before : after;
  } else {
    r.kind = Local::Kind::kGap;
    r.offset_seconds = before;
    r.other_offset_seconds = after;
  }
  return r;
}

}  // namespace midhurst::mapping
