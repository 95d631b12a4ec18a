// Time zones from the system's tz database (IANA), read from TZif files (RFC 8536), so that an
// HL7 timestamp sent without an offset gets the offset its sender's zone had at that instant.
//
// Why a reader of our own: the C library's localtime() answers only for the process's TZ, which
// is the server's zone, and Midhurst must never take a zone from the server clock (domain.md
// section 0). The files come from Debian's tzdata package (/usr/share/zoneinfo). Version 2+
// files are read (64-bit transition times); instants after the last transition follow the
// file's footer, a POSIX TZ rule such as "GMT0BST,M3.5.0/1,M10.5.0" (slim TZif files rely on it).
//
// Thread-safety: a TimeZone is an immutable value after load(); share it freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace midhurst::mapping {

// The default system location of the tz database (Debian package tzdata).
inline constexpr std::string_view kSystemZoneinfoDir = "/usr/share/zoneinfo";

class TimeZone {
 public:
  // What a local (wall-clock) time means in this zone.
  struct Local {
    enum class Kind { kUnique, kAmbiguous, kGap } kind = Kind::kUnique;
    // kUnique: the offset. kAmbiguous (clocks went back, the wall time happened twice): the
    // offset of the FIRST occurrence, the earlier instant (RFC 5545 3.3.5, java.time and
    // Python's fold=0 choose the same). kGap (clocks went forward, the wall time never
    // happened): the offset in force BEFORE the gap, so the instant is the wall time read in
    // the old offset, i.e. it lies after the gap (java.time's rule).
    int offset_seconds = 0;
    int other_offset_seconds = 0;  // kAmbiguous: the second occurrence's; kGap: the offset after
  };

  // Loads zone `name` ("Europe/London") from `zoneinfo_dir`. Errors: a name that is not a zone
  // name (only letters, digits, '_', '-', '+', '/', no "..", no leading '/'), a missing file, a
  // file that is not TZif version 2 or later, a malformed footer rule.
  static Result<TimeZone, std::string> load(std::string_view name,
                                            std::string_view zoneinfo_dir = kSystemZoneinfoDir);
  // Same from the file's bytes.
  static Result<TimeZone, std::string> from_tzif(std::string_view name, std::string_view bytes);

  const std::string& name() const { return name_; }

  // The offset from UTC, in seconds east, in force at `utc` (seconds since 1970-01-01T00:00Z).
  int offset_at(std::int64_t utc) const;
  // What the wall time `local` (seconds since 1970-01-01T00:00 local) means.
  Local resolve(std::int64_t local) const;

 private:
  struct Type {
    int offset = 0;
    bool dst = false;
  };
  struct Rule {  // a POSIX TZ date rule: Jn, n or Mm.w.d, and a time of day in seconds
    char kind = 0;  // 'J', 'N' or 'M'
    int a = 0, b = 0, c = 0;
    int time = 7200;
  };
  bool parse_footer(std::string_view tz);
  std::int64_t rule_instant(const Rule& r, int year, int offset_before) const;

  std::string name_;
  std::vector<std::int64_t> transitions_;
  std::vector<std::uint8_t> transition_types_;
  std::vector<Type> types_;
  // The footer: standard offset, and when has_dst_, the DST offset and its two rules.
  bool has_footer_ = false;
  bool has_dst_ = false;
  int std_offset_ = 0, dst_offset_ = 0;
  Rule start_, end_;
};

// Calendar helpers (proleptic Gregorian), exposed for the timestamp conversions.
std::int64_t days_from_civil(int y, int m, int d);
void civil_from_days(std::int64_t days, int& y, int& m, int& d);

}  // namespace midhurst::mapping
