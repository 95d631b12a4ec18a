#include "hl7v2/types.h"

#include <cstdio>

namespace midhurst::hl7v2 {
namespace {

// ---------------------------------------------------------------------------------------------
// Navigation

// The n-th (1-based) part of a composite value. A composite sent as a field or repetition has
// its parts in components; one nested in a component (the HD in CX.4) has them in
// sub-components. A sub-component cannot be split further, so it is its own first part.
Element member(const Element& composite, size_t n) {
  switch (composite.level()) {
    case Level::kField:
    case Level::kRepetition:
      return composite.component(n);
    case Level::kComponent:
      return composite.subcomponent(n);
    case Level::kSubcomponent:
    case Level::kSegment:
      break;
  }
  return n == 1 ? composite : Element{};
}

// The decoded text of a primitive part. A component that holds sub-components where a
// primitive is expected (FN in XPN.1, an HD in PL.1 from v2.7) reads as its first one; the
// HL7 null reads as "" (see the header).
std::string leaf(const Element& part) {
  const Element first = part.level() == Level::kComponent ? part.subcomponent(1) : part;
  if (first.is_null()) return {};
  return first.text();
}

std::string leaf(const Element& composite, size_t n) { return leaf(member(composite, n)); }

// ---------------------------------------------------------------------------------------------
// Timestamps

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int digits_value(std::string_view s, size_t pos, size_t count) {
  int v = 0;
  for (size_t i = 0; i < count; ++i) v = v * 10 + (s[pos + i] - '0');
  return v;
}

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

const char* month_name(int month) {
  static constexpr const char* kNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                           "July",    "August",   "September", "October", "November", "December"};
  return kNames[month - 1];
}

// The input as it can be quoted in a reason: long values cut, control and non-ASCII bytes
// shown as hex, so a reason is always one printable line.
std::string quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > kMax) out += "...";
  out += "\"";
  return out;
}

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    return buf;
  }
  return std::string("'") + c + "'";
}

std::string two_digits(int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

// "+hh:mm" (separator ":") or "+hhmm" (separator "").
std::string format_offset(int minutes, const char* separator) {
  const char sign = minutes < 0 ? '-' : '+';
  const int a = minutes < 0 ? -minutes : minutes;
  return std::string(1, sign) + two_digits(a / 60) + separator + two_digits(a % 60);
}

std::string format_fraction(const Timestamp& t) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*d", t.fraction_digits, t.fraction);
  return buf;
}

// The parts of the date-time in order, with the digits each takes.
struct PartSpec {
  const char* name;
  size_t digits;
};
constexpr PartSpec kParts[] = {{"year", 4}, {"month", 2}, {"day", 2}, {"hour", 2}, {"minute", 2}, {"second", 2}};

}  // namespace

Result<Timestamp, std::string> parse_timestamp(std::string_view s) {
  const std::string in = " in " + quote(s);
  if (s.empty()) return err(std::string("the timestamp is empty"));

  size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;

  // How many parts the leading digits make, and whether one is cut short.
  Timestamp t;
  size_t used = 0, parts = 0;
  for (const PartSpec& p : kParts) {
    if (used == n) break;
    if (n - used < p.digits)
      return err(std::string(p.name) + " needs " + std::to_string(p.digits) + " digits, found " +
                 std::to_string(n - used) + in);
    used += p.digits;
    ++parts;
  }
  if (parts == 0) {
    return err("a timestamp starts with a 4-digit year, found " + describe_char(s[0]) + " at position 1" + in);
  }
  if (used < n)
    return err("too many digits: a timestamp has at most 14 (YYYYMMDDHHMMSS) before the fraction, found " +
               std::to_string(n) + in);

  t.precision = static_cast<TimePrecision>(parts - 1);
  t.year = digits_value(s, 0, 4);
  if (parts > 1) {
    t.month = digits_value(s, 4, 2);
    if (t.month < 1 || t.month > 12) return err("month " + two_digits(t.month) + " is not 01-12" + in);
  }
  if (parts > 2) {
    t.day = digits_value(s, 6, 2);
    const int max_day = days_in_month(t.year, t.month);
    if (t.day < 1 || t.day > max_day)
      return err("day " + two_digits(t.day) + " is not in " + month_name(t.month) + " " + std::to_string(t.year) +
                 " (01-" + std::to_string(max_day) + ")" + in);
  }
  if (parts > 3) {
    t.hour = digits_value(s, 8, 2);
    if (t.hour > 23) return err("hour " + two_digits(t.hour) + " is not 00-23" + in);
  }
  if (parts > 4) {
    t.minute = digits_value(s, 10, 2);
    if (t.minute > 59) return err("minute " + two_digits(t.minute) + " is not 00-59" + in);
  }
  if (parts > 5) {
    t.second = digits_value(s, 12, 2);
    // HL7 allows no leap second, and FHIR instants cannot hold one either.
    if (t.second > 59) return err("second " + two_digits(t.second) + " is not 00-59" + in);
  }

  size_t pos = n;
  if (pos < s.size() && s[pos] == '.') {
    if (t.precision != TimePrecision::kSecond)
      return err("a fraction ('.' at position " + std::to_string(pos + 1) +
                 ") is only allowed after the seconds (YYYYMMDDHHMMSS.SSSS)" + in);
    size_t end = pos + 1;
    while (end < s.size() && is_digit(s[end])) ++end;
    const size_t digits = end - pos - 1;
    if (digits == 0) return err("the fraction of a second has no digits after '.'" + in);
    if (digits > 4) return err("the fraction of a second has " + std::to_string(digits) + " digits; at most 4" + in);
    t.fraction = digits_value(s, pos + 1, digits);
    t.fraction_digits = static_cast<int>(digits);
    pos = end;
  }

  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const bool negative = s[pos] == '-';
    size_t end = pos + 1;
    while (end < s.size() && is_digit(s[end])) ++end;
    if (end - pos - 1 != 4) {
      // "2026-11-01" lands here: the first '-' reads as an offset sign. Say what went wrong.
      const bool iso_like = s.find_first_of("-:T", pos + 1) != std::string_view::npos;
      return err("the offset needs 4 digits (+hhmm or -hhmm), found " + std::to_string(end - pos - 1) +
                 (iso_like ? "; HL7 writes timestamps without '-', ':' or 'T' (YYYYMMDDHHMMSS)" : "") + in);
    }
    const int hours = digits_value(s, pos + 1, 2);
    const int minutes = digits_value(s, pos + 3, 2);
    if (minutes > 59) return err("offset minutes " + two_digits(minutes) + " are not 00-59" + in);
    const int total = hours * 60 + minutes;
    // Real zones run from -12:00 to +14:00; anything beyond is a typo, not a place.
    if (total > 14 * 60) return err("offset " + std::string(s.substr(pos, 5)) + " is beyond +/-14:00" + in);
    t.offset_minutes = negative ? -total : total;
    pos = end;
  }

  if (pos < s.size())
    return err("stray character " + describe_char(s[pos]) + " at position " + std::to_string(pos + 1) + in);
  return t;
}

std::string Timestamp::to_iso8601() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  std::string out = buf;
  if (precision >= TimePrecision::kMonth) out += "-" + two_digits(month);
  if (precision >= TimePrecision::kDay) out += "-" + two_digits(day);
  if (precision >= TimePrecision::kHour) out += "T" + two_digits(hour);
  if (precision >= TimePrecision::kMinute) out += ":" + two_digits(minute);
  if (precision >= TimePrecision::kSecond) out += ":" + two_digits(second);
  if (fraction_digits > 0) out += "." + format_fraction(*this);
  if (offset_minutes && precision >= TimePrecision::kHour) out += format_offset(*offset_minutes, ":");
  return out;
}

std::string Timestamp::to_hl7() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  std::string out = buf;
  if (precision >= TimePrecision::kMonth) out += two_digits(month);
  if (precision >= TimePrecision::kDay) out += two_digits(day);
  if (precision >= TimePrecision::kHour) out += two_digits(hour);
  if (precision >= TimePrecision::kMinute) out += two_digits(minute);
  if (precision >= TimePrecision::kSecond) out += two_digits(second);
  if (fraction_digits > 0) out += "." + format_fraction(*this);
  if (offset_minutes) out += format_offset(*offset_minutes, "");
  return out;
}

Result<std::optional<Timestamp>, std::string> read_timestamp(const Element& element) {
  const Element value = member(element, 1);
  const Element first = value.level() == Level::kComponent ? value.subcomponent(1) : value;
  if (!first.present() || first.empty() || first.is_null()) return std::optional<Timestamp>{};
  std::string scratch;
  auto t = parse_timestamp(first.text(scratch));
  if (!t) return err(std::move(t.error()));
  return std::optional<Timestamp>(std::move(*t));
}

// ---------------------------------------------------------------------------------------------
// Composites

bool has_value(const Element& element) {
  if (!element.present() || element.empty()) return false;
  if (element.level() == Level::kSubcomponent) return !element.is_null();
  const size_t parts = element.size();
  for (size_t i = 1; i <= parts; ++i)
    if (has_value(element.part(i))) return true;
  return false;
}

Element whole_field(const Message& message, std::string_view path) {
  auto parsed = Path::parse(path);
  if (!parsed) return {};
  std::optional<Segment> segment = message.find(parsed->segment_id(), parsed->occurrence);
  if (!segment) return {};
  return segment->field(parsed->field);
}

HD read_hd(const Element& e) {
  HD hd;
  hd.namespace_id = leaf(e, 1);
  hd.universal_id = leaf(e, 2);
  hd.universal_id_type = leaf(e, 3);
  return hd;
}

bool Coded::empty() const {
  return identifier.empty() && text.empty() && coding_system.empty() && alternate_identifier.empty() &&
         alternate_text.empty() && alternate_coding_system.empty() && coding_system_version.empty() &&
         alternate_coding_system_version.empty() && original_text.empty();
}

Coded read_coded(const Element& e) {
  Coded c;
  c.identifier = leaf(e, 1);
  c.text = leaf(e, 2);
  c.coding_system = leaf(e, 3);
  c.alternate_identifier = leaf(e, 4);
  c.alternate_text = leaf(e, 5);
  c.alternate_coding_system = leaf(e, 6);
  c.coding_system_version = leaf(e, 7);
  c.alternate_coding_system_version = leaf(e, 8);
  c.original_text = leaf(e, 9);
  return c;
}

CX read_cx(const Element& e) {
  CX cx;
  cx.id_number = leaf(e, 1);
  cx.check_digit = leaf(e, 2);
  cx.check_digit_scheme = leaf(e, 3);
  cx.assigning_authority = read_hd(member(e, 4));
  cx.identifier_type_code = leaf(e, 5);
  cx.assigning_facility = read_hd(member(e, 6));
  cx.effective_date = leaf(e, 7);
  cx.expiration_date = leaf(e, 8);
  cx.assigning_jurisdiction = read_coded(member(e, 9));
  cx.assigning_agency = read_coded(member(e, 10));
  return cx;
}

XPN read_xpn(const Element& e) {
  XPN n;
  n.family_name = leaf(e, 1);
  n.given_name = leaf(e, 2);
  n.further_given_names = leaf(e, 3);
  n.suffix = leaf(e, 4);
  n.prefix = leaf(e, 5);
  n.degree = leaf(e, 6);
  n.name_type_code = leaf(e, 7);
  n.name_representation_code = leaf(e, 8);
  n.effective_date = leaf(e, 12);
  n.expiration_date = leaf(e, 13);
  n.professional_suffix = leaf(e, 14);
  return n;
}

XAD read_xad(const Element& e) {
  XAD a;
  // XAD.1 is SAD; when XAD itself sits in a component there is no level left for SAD's
  // parts, and the whole of XAD.1 is the street.
  const Element sad = member(e, 1);
  a.street = leaf(sad);
  if (sad.level() == Level::kComponent) {
    a.street_name = leaf(sad.subcomponent(2));
    a.dwelling_number = leaf(sad.subcomponent(3));
  }
  a.other_designation = leaf(e, 2);
  a.city = leaf(e, 3);
  a.state = leaf(e, 4);
  a.postal_code = leaf(e, 5);
  a.country = leaf(e, 6);
  a.address_type = leaf(e, 7);
  a.other_geographic_designation = leaf(e, 8);
  a.county_code = leaf(e, 9);
  a.census_tract = leaf(e, 10);
  a.address_representation_code = leaf(e, 11);
  a.effective_date = leaf(e, 13);
  a.expiration_date = leaf(e, 14);
  return a;
}

XTN read_xtn(const Element& e) {
  XTN t;
  t.telephone_number = leaf(e, 1);
  t.use_code = leaf(e, 2);
  t.equipment_type = leaf(e, 3);
  t.email_address = leaf(e, 4);
  t.country_code = leaf(e, 5);
  t.area_code = leaf(e, 6);
  t.local_number = leaf(e, 7);
  t.extension = leaf(e, 8);
  t.any_text = leaf(e, 9);
  t.extension_prefix = leaf(e, 10);
  t.speed_dial_code = leaf(e, 11);
  t.unformatted_telephone_number = leaf(e, 12);
  return t;
}

XCN read_xcn(const Element& e) {
  XCN x;
  x.id_number = leaf(e, 1);
  x.family_name = leaf(e, 2);
  x.given_name = leaf(e, 3);
  x.further_given_names = leaf(e, 4);
  x.suffix = leaf(e, 5);
  x.prefix = leaf(e, 6);
  x.degree = leaf(e, 7);
  x.source_table = leaf(e, 8);
  x.assigning_authority = read_hd(member(e, 9));
  x.name_type_code = leaf(e, 10);
  x.check_digit = leaf(e, 11);
  x.check_digit_scheme = leaf(e, 12);
  x.identifier_type_code = leaf(e, 13);
  x.assigning_facility = read_hd(member(e, 14));
  x.professional_suffix = leaf(e, 21);
  return x;
}

PL read_pl(const Element& e) {
  PL p;
  p.point_of_care = leaf(e, 1);
  p.room = leaf(e, 2);
  p.bed = leaf(e, 3);
  p.facility = read_hd(member(e, 4));
  p.location_status = leaf(e, 5);
  p.person_location_type = leaf(e, 6);
  p.building = leaf(e, 7);
  p.floor = leaf(e, 8);
  p.location_description = leaf(e, 9);
  p.assigning_authority_for_location = read_hd(member(e, 11));
  return p;
}

XON read_xon(const Element& e) {
  XON o;
  o.organization_name = leaf(e, 1);
  o.organization_name_type_code = leaf(e, 2);
  o.id_number = leaf(e, 3);
  o.check_digit = leaf(e, 4);
  o.check_digit_scheme = leaf(e, 5);
  o.assigning_authority = read_hd(member(e, 6));
  o.identifier_type_code = leaf(e, 7);
  o.assigning_facility = read_hd(member(e, 8));
  o.name_representation_code = leaf(e, 9);
  o.organization_identifier = leaf(e, 10);
  return o;
}

}  // namespace midhurst::hl7v2
