#include "hl7v2/types.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace midhurst::hl7v2;
using Catch::Contains;

namespace {

const char* kMsh = "MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01^ADT_A01|1|P|2.4|||||GBR|UNICODE|EN\r";

// A message of kMsh plus `segments` (each ended by \r by the caller).
Message message(const std::string& segments) {
  auto m = Message::parse(kMsh + segments);
  REQUIRE(m.ok());
  return std::move(m).value();
}

Timestamp ok_timestamp(std::string_view text) {
  auto r = parse_timestamp(text);
  INFO(text);
  if (!r.ok()) FAIL("refused: " << r.error());
  return *r;
}

std::string refusal(std::string_view text) {
  auto r = parse_timestamp(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::filesystem::path corpus_dir() { return std::filesystem::path(MIDHURST_CORPUS_DIR) / "hl7v2"; }

// The bytes of a corpus file, without the UTF-8 byte-order mark some of them start with.
std::string read_corpus_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (bytes.rfind("\xEF\xBB\xBF", 0) == 0) bytes.erase(0, 3);
  return bytes;
}

std::vector<std::filesystem::path> corpus_files(std::string_view prefix) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && entry.path().extension() == ".hl7") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// parse_timestamp: what it accepts

TEST_CASE("timestamp: every precision from year to second is kept") {
  struct Case {
    const char* hl7;
    TimePrecision precision;
    const char* iso;
  };
  const Case cases[] = {
      {"2026", TimePrecision::kYear, "2026"},
      {"202611", TimePrecision::kMonth, "2026-11"},
      {"20261101", TimePrecision::kDay, "2026-11-01"},
      {"2026110114", TimePrecision::kHour, "2026-11-01T14"},
      {"202611011418", TimePrecision::kMinute, "2026-11-01T14:18"},
      {"20261101141805", TimePrecision::kSecond, "2026-11-01T14:18:05"},
  };
  for (const Case& c : cases) {
    Timestamp t = ok_timestamp(c.hl7);
    CHECK(t.precision == c.precision);
    CHECK(t.to_iso8601() == c.iso);
    CHECK(t.to_hl7() == c.hl7);
    CHECK_FALSE(t.offset_minutes.has_value());
  }
  Timestamp t = ok_timestamp("20261101141805");
  CHECK(t.year == 2026);
  CHECK(t.month == 11);
  CHECK(t.day == 1);
  CHECK(t.hour == 14);
  CHECK(t.minute == 18);
  CHECK(t.second == 5);
}

TEST_CASE("timestamp: parts below the precision hold their lowest value") {
  Timestamp t = ok_timestamp("1965");
  CHECK(t.month == 1);
  CHECK(t.day == 1);
  CHECK(t.hour == 0);
  CHECK(t.minute == 0);
  CHECK(t.second == 0);
  CHECK(t.fraction_digits == 0);
}

TEST_CASE("timestamp: NHS examples from the ITK specification") {
  Timestamp dob = ok_timestamp("196512131515");
  CHECK(dob.precision == TimePrecision::kMinute);
  CHECK(dob.to_iso8601() == "1965-12-13T15:15");
  CHECK_FALSE(dob.offset_minutes.has_value());

  Timestamp west = ok_timestamp("20120918173931-0500");
  CHECK(west.precision == TimePrecision::kSecond);
  REQUIRE(west.offset_minutes.has_value());
  CHECK(*west.offset_minutes == -300);
  CHECK(west.to_iso8601() == "2012-09-18T17:39:31-05:00");
  CHECK(west.to_hl7() == "20120918173931-0500");

  Timestamp east = ok_timestamp("198908181126+0215");
  REQUIRE(east.offset_minutes.has_value());
  CHECK(*east.offset_minutes == 135);
  CHECK(east.to_iso8601() == "1989-08-18T11:26+02:15");
  CHECK(east.to_hl7() == "198908181126+0215");
}

TEST_CASE("timestamp: fractions of a second keep the digits sent") {
  Timestamp t = ok_timestamp("20261101141805.05");
  CHECK(t.fraction == 5);
  CHECK(t.fraction_digits == 2);
  CHECK(t.to_iso8601() == "2026-11-01T14:18:05.05");
  CHECK(t.to_hl7() == "20261101141805.05");

  Timestamp four = ok_timestamp("20261101141805.1230+0100");
  CHECK(four.fraction == 1230);
  CHECK(four.fraction_digits == 4);
  CHECK(four.to_iso8601() == "2026-11-01T14:18:05.1230+01:00");
  CHECK(four.to_hl7() == "20261101141805.1230+0100");

  CHECK(ok_timestamp("20261101141805.0").to_iso8601() == "2026-11-01T14:18:05.0");
}

TEST_CASE("timestamp: offsets are kept at every precision, printed in ISO only with a time") {
  Timestamp day = ok_timestamp("20261101+0100");
  REQUIRE(day.offset_minutes.has_value());
  CHECK(*day.offset_minutes == 60);
  CHECK(day.to_iso8601() == "2026-11-01");  // ISO 8601 has no date-with-offset form
  CHECK(day.to_hl7() == "20261101+0100");

  Timestamp hour = ok_timestamp("2026110114-0330");
  CHECK(hour.to_iso8601() == "2026-11-01T14-03:30");

  CHECK(ok_timestamp("202611011418+0000").to_iso8601() == "2026-11-01T14:18+00:00");
  CHECK(ok_timestamp("202611011418+1400").offset_minutes == 840);
  CHECK(ok_timestamp("202611011418-1400").offset_minutes == -840);
}

TEST_CASE("timestamp: -0000 is read as UTC and written back as +0000") {
  Timestamp t = ok_timestamp("202611011418-0000");
  CHECK(t.offset_minutes == 0);
  CHECK(t.to_hl7() == "202611011418+0000");
}

TEST_CASE("timestamp: leap years follow the Gregorian rules") {
  CHECK(ok_timestamp("20240229").day == 29);  // divisible by 4
  CHECK(ok_timestamp("20000229").day == 29);  // divisible by 400
  CHECK_THAT(refusal("20230229"), Contains("day 29") && Contains("February 2023"));
  CHECK_THAT(refusal("21000229"), Contains("day 29") && Contains("February 2100"));  // by 100, not 400
  CHECK_THAT(refusal("19000229"), Contains("February 1900"));
}

TEST_CASE("timestamp: the last valid value of each part is accepted") {
  Timestamp t = ok_timestamp("99991231235959.9999+1400");
  CHECK(t.to_iso8601() == "9999-12-31T23:59:59.9999+14:00");
  CHECK(ok_timestamp("20260430").day == 30);
  CHECK(ok_timestamp("20260131").day == 31);
}

TEST_CASE("timestamp: equal inputs give equal values") {
  CHECK(ok_timestamp("202611011418+0100") == ok_timestamp("202611011418+0100"));
  CHECK_FALSE(ok_timestamp("202611011418") == ok_timestamp("202611011418+0000"));
  CHECK_FALSE(ok_timestamp("20261101") == ok_timestamp("2026110100"));  // same instant, other precision
}

// ---------------------------------------------------------------------------------------------
// parse_timestamp: one case per refusal

TEST_CASE("timestamp refused: empty") { CHECK_THAT(refusal(""), Contains("empty")); }

TEST_CASE("timestamp refused: year with fewer than 4 digits") {
  CHECK_THAT(refusal("202"), Contains("year needs 4 digits, found 3"));
}

TEST_CASE("timestamp refused: month cut short") {
  CHECK_THAT(refusal("20261"), Contains("month needs 2 digits, found 1"));
}

TEST_CASE("timestamp refused: day cut short") {
  CHECK_THAT(refusal("2026110"), Contains("day needs 2 digits, found 1"));
}

TEST_CASE("timestamp refused: minute cut short") {
  CHECK_THAT(refusal("20261101141"), Contains("minute needs 2 digits, found 1"));
}

TEST_CASE("timestamp refused: more than 14 digits before the fraction") {
  CHECK_THAT(refusal("202611011418050"), Contains("too many digits") && Contains("found 15"));
}

TEST_CASE("timestamp refused: month 00") { CHECK_THAT(refusal("202600"), Contains("month 00 is not 01-12")); }

TEST_CASE("timestamp refused: month 13") {
  std::string why = refusal("20261301");
  CHECK_THAT(why, Contains("month 13 is not 01-12"));
  CHECK_THAT(why, Contains("\"20261301\""));  // the reason quotes the value
}

TEST_CASE("timestamp refused: day 00") { CHECK_THAT(refusal("20261100"), Contains("day 00")); }

TEST_CASE("timestamp refused: February 30") {
  CHECK_THAT(refusal("20240230"), Contains("day 30 is not in February 2024 (01-29)"));
}

TEST_CASE("timestamp refused: February 29 outside a leap year") {
  CHECK_THAT(refusal("20260229"), Contains("day 29 is not in February 2026 (01-28)"));
}

TEST_CASE("timestamp refused: day 31 in a 30-day month") {
  CHECK_THAT(refusal("20260431"), Contains("day 31 is not in April 2026 (01-30)"));
}

TEST_CASE("timestamp refused: hour 24") { CHECK_THAT(refusal("2026110124"), Contains("hour 24 is not 00-23")); }

TEST_CASE("timestamp refused: minute 60") {
  CHECK_THAT(refusal("202611011460"), Contains("minute 60 is not 00-59"));
}

TEST_CASE("timestamp refused: second 60 (no leap seconds)") {
  CHECK_THAT(refusal("20261231235960"), Contains("second 60 is not 00-59"));
}

TEST_CASE("timestamp refused: fraction without seconds") {
  CHECK_THAT(refusal("202611011418.5"), Contains("fraction") && Contains("only allowed after the seconds"));
}

TEST_CASE("timestamp refused: fraction without digits") {
  CHECK_THAT(refusal("20261101141805."), Contains("no digits after '.'"));
  CHECK_THAT(refusal("20261101141805.+0100"), Contains("no digits after '.'"));
}

TEST_CASE("timestamp refused: fraction with more than 4 digits") {
  CHECK_THAT(refusal("20261101141805.12345"), Contains("5 digits; at most 4"));
}

TEST_CASE("timestamp refused: offset without 4 digits") {
  CHECK_THAT(refusal("202611011418+01"), Contains("offset needs 4 digits") && Contains("found 2"));
  CHECK_THAT(refusal("202611011418+01000"), Contains("offset needs 4 digits") && Contains("found 5"));
  CHECK_THAT(refusal("202611011418-"), Contains("offset needs 4 digits") && Contains("found 0"));
}

TEST_CASE("timestamp refused: offset minutes 60 or more") {
  CHECK_THAT(refusal("202611011418+0160"), Contains("offset minutes 60"));
}

TEST_CASE("timestamp refused: offset beyond +14:00") {
  CHECK_THAT(refusal("202611011418+1401"), Contains("offset +1401 is beyond +/-14:00"));
}

TEST_CASE("timestamp refused: offset beyond -14:00") {
  CHECK_THAT(refusal("202611011418-1500"), Contains("offset -1500 is beyond +/-14:00"));
}

TEST_CASE("timestamp refused: ISO 8601 punctuation is a stray character") {
  CHECK_THAT(refusal("2026-11-01"), Contains("offset needs 4 digits") && Contains("without '-', ':' or 'T'"));
  CHECK_THAT(refusal("2026-11-01T14:18"), Contains("without '-', ':' or 'T'"));
  CHECK_THAT(refusal("20261101T1418"), Contains("stray character 'T' at position 9"));
  CHECK_THAT(refusal("202611011418Z"), Contains("stray character 'Z' at position 13"));
}

TEST_CASE("timestamp refused: surrounding whitespace is not trimmed") {
  CHECK_THAT(refusal("20261101 "), Contains("stray character ' ' at position 9"));
  CHECK_THAT(refusal(" 20261101"), Contains("4-digit year") && Contains("' ' at position 1"));
  CHECK_THAT(refusal("20261101\r"), Contains("stray character 0x0D"));
}

TEST_CASE("timestamp refused: characters after the offset") {
  CHECK_THAT(refusal("202611011418+0100x"), Contains("stray character 'x' at position 18"));
}

TEST_CASE("timestamp refused: the reason quotes a long value cut short and printable") {
  std::string why = refusal("2026110114180" + std::string(60, '1'));
  CHECK_THAT(why, Contains("...\""));
  CHECK(why.size() < 200);
  CHECK_THAT(refusal("2026\x01"), Contains("\\x01"));
}

// ---------------------------------------------------------------------------------------------
// read_timestamp

TEST_CASE("read_timestamp: a TS field reads TS.1 and ignores the degree of precision") {
  Message m = message("EVN|A01|20120918173931-0500^S\r");
  auto t = read_timestamp(m.get("EVN-2"));
  REQUIRE(t.ok());
  REQUIRE(t->has_value());
  CHECK((*t)->to_iso8601() == "2012-09-18T17:39:31-05:00");
}

TEST_CASE("read_timestamp: absent, empty and HL7 null are no timestamp, not an error") {
  Message m = message("EVN|A01||\"\"\r");
  for (const char* path : {"EVN-2", "EVN-3", "EVN-9", "ZZZ-1"}) {
    INFO(path);
    auto t = read_timestamp(m.get(path));
    REQUIRE(t.ok());
    CHECK_FALSE(t->has_value());
  }
  CHECK(m.get("EVN-3").is_null());  // callers that honour deletes can still tell
}

TEST_CASE("read_timestamp: a bad value is an error with the parser's reason") {
  Message m = message("PID|1||123||SMITH||19651313\r");
  auto t = read_timestamp(m.get("PID-7"));
  REQUIRE_FALSE(t.ok());
  CHECK_THAT(t.error(), Contains("month 13"));
}

TEST_CASE("read_timestamp: a TS nested in a component reads its first sub-component") {
  // XCN.19 effective date is a TS inside a component: TS.1&TS.2.
  Message m = message("PV1|1|I||||||C123^DOE^JOHN^^^^^^^^^^^^^^^^20240229&D\r");
  auto t = read_timestamp(m.get("PV1-8.19"));
  REQUIRE(t.ok());
  REQUIRE(t->has_value());
  CHECK((*t)->to_iso8601() == "2024-02-29");
}

TEST_CASE("read_timestamp: escapes are decoded before parsing") {
  // Nobody should send this, but the reader must see the same text as Element::text().
  Message m = message("EVN|A01|2026\\X30\\1\r");
  auto t = read_timestamp(m.get("EVN-2"));
  REQUIRE(t.ok());
  REQUIRE(t->has_value());
  CHECK((*t)->to_hl7() == "202601");
}

// ---------------------------------------------------------------------------------------------
// Composite readers with the NHS examples of domain.md

TEST_CASE("CX: NHS number and hospital number from PID-3") {
  Message m = message("PID|1||3333333333^^^NHS~633^^^R0A^MR||SMITH^FREDRICA^J^^MRS^^L\r");
  std::vector<CX> ids = read_cx_list(whole_field(m, "PID-3"));
  REQUIRE(ids.size() == 2);
  CHECK(ids[0].id_number == "3333333333");
  CHECK(ids[0].assigning_authority.namespace_id == "NHS");
  CHECK(ids[0].identifier_type_code.empty());
  CHECK(ids[1].id_number == "633");
  CHECK(ids[1].assigning_authority.namespace_id == "R0A");
  CHECK(ids[1].identifier_type_code == "MR");
  // A field reads as its first repetition.
  CHECK(read_cx(m.get("PID-3")) == ids[0]);
  CHECK(read_cx(m.get("PID-3[2]")) == ids[1]);
}

TEST_CASE("CX: assigning authority and facility are HDs in sub-components") {
  Message m = message(
      "PID|1||PATID1234^5^M11^test1&2.16.1&HCD^MR^GOOD HEALTH HOSPITAL&2.16.840.1&ISO^20200101^20301231"
      "^GBR&England&ISO3166^AG1&Agency\r");
  CX cx = read_cx(m.get("PID-3"));
  CHECK(cx.id_number == "PATID1234");
  CHECK(cx.check_digit == "5");
  CHECK(cx.check_digit_scheme == "M11");
  CHECK(cx.assigning_authority == HD{"test1", "2.16.1", "HCD"});
  CHECK(cx.identifier_type_code == "MR");
  CHECK(cx.assigning_facility == HD{"GOOD HEALTH HOSPITAL", "2.16.840.1", "ISO"});
  CHECK(cx.effective_date == "20200101");
  CHECK(cx.expiration_date == "20301231");
  CHECK(cx.assigning_jurisdiction.identifier == "GBR");
  CHECK(cx.assigning_jurisdiction.text == "England");
  CHECK(cx.assigning_jurisdiction.coding_system == "ISO3166");
  CHECK(cx.assigning_agency.identifier == "AG1");
  CHECK(cx.assigning_agency.text == "Agency");
}

TEST_CASE("XPN: the ITK patient name") {
  Message m = message("PID|1||3333333333^^^NHS||SMITH^FREDRICA^J^^MRS^^L\r");
  XPN n = read_xpn(m.get("PID-5"));
  CHECK(n.family_name == "SMITH");
  CHECK(n.given_name == "FREDRICA");
  CHECK(n.further_given_names == "J");
  CHECK(n.suffix.empty());
  CHECK(n.prefix == "MRS");
  CHECK(n.degree.empty());
  CHECK(n.name_type_code == "L");
}

TEST_CASE("XPN: escaped delimiters in a name come out decoded") {
  Message m = message("PID|1||1||O\\S\\BRIEN-SMITH\\T\\CO^ANNE\\R\\MARIE^\\F\\X\\E\\Y~JONES\r");
  std::vector<XPN> names = read_xpn_list(whole_field(m, "PID-5"));
  REQUIRE(names.size() == 2);
  CHECK(names[0].family_name == "O^BRIEN-SMITH&CO");
  CHECK(names[0].given_name == "ANNE~MARIE");
  CHECK(names[0].further_given_names == "|X\\Y");
  CHECK(names[1].family_name == "JONES");
}

TEST_CASE("XPN: the family name is FN.1 when FN has sub-components") {
  Message m = message("PID|1||1||EVERYMAN&&&&Aniston^ADAM^A^III^Dr.^MD^D^^^19241012^^^^PF^Addsm\r");
  XPN n = read_xpn(m.get("PID-5"));
  CHECK(n.family_name == "EVERYMAN");
  CHECK(n.suffix == "III");
  CHECK(n.prefix == "Dr.");
  CHECK(n.degree == "MD");
  CHECK(n.name_type_code == "D");
  CHECK(n.professional_suffix == "PF");
}

TEST_CASE("XAD: the ITK home address") {
  Message m = message(
      "PID|1||1||SMITH||||||29 WEST AVENUE^BURYTHORPE^MALTON^NORTH YORKSHIRE^YO32 5TT^GBR^H\r");
  XAD a = read_xad(m.get("PID-11"));
  CHECK(a.street == "29 WEST AVENUE");
  CHECK(a.other_designation == "BURYTHORPE");
  CHECK(a.city == "MALTON");
  CHECK(a.state == "NORTH YORKSHIRE");
  CHECK(a.postal_code == "YO32 5TT");
  CHECK(a.country == "GBR");
  CHECK(a.address_type == "H");
}

TEST_CASE("XAD: XAD.1 is SAD: street, street name, dwelling number") {
  Message m = message(
      "PID|1||1||X||||||1000&Hospital Lane&12^Ste. 123^Ann Arbor^MI^99999^USA^M^^W^^^^20000110^20000120\r");
  XAD a = read_xad(m.get("PID-11"));
  CHECK(a.street == "1000");
  CHECK(a.street_name == "Hospital Lane");
  CHECK(a.dwelling_number == "12");
  CHECK(a.county_code == "W");
  CHECK(a.effective_date == "20000110");
  CHECK(a.expiration_date == "20000120");
}

TEST_CASE("XTN: NW-GMSA home and mobile numbers") {
  Message m = message("PID|1||1||X||||||||01656 123123^PRN^PH~07927655295^ORN^CP\r");
  std::vector<XTN> phones = read_xtn_list(whole_field(m, "PID-13"));
  REQUIRE(phones.size() == 2);
  CHECK(phones[0].telephone_number == "01656 123123");
  CHECK(phones[0].use_code == "PRN");
  CHECK(phones[0].equipment_type == "PH");
  CHECK(phones[1].telephone_number == "07927655295");
  CHECK(phones[1].use_code == "ORN");
  CHECK(phones[1].equipment_type == "CP");
}

TEST_CASE("XTN: email address and structured number") {
  Message m = message(
      "PID|1||1||X||||||||^NET^Internet^fred@example.org~^WPN^PH^^44^1632^960123^77^day^9^#6^+441632960123\r");
  std::vector<XTN> t = read_xtn_list(whole_field(m, "PID-13"));
  REQUIRE(t.size() == 2);
  CHECK(t[0].telephone_number.empty());
  CHECK(t[0].use_code == "NET");
  CHECK(t[0].equipment_type == "Internet");
  CHECK(t[0].email_address == "fred@example.org");
  CHECK(t[1].country_code == "44");
  CHECK(t[1].area_code == "1632");
  CHECK(t[1].local_number == "960123");
  CHECK(t[1].extension == "77");
  CHECK(t[1].any_text == "day");
  CHECK(t[1].extension_prefix == "9");
  CHECK(t[1].speed_dial_code == "#6");
  CHECK(t[1].unformatted_telephone_number == "+441632960123");
}

TEST_CASE("Coded: a CWE with all nine components") {
  Message m = message("PID|1||1||X||||||||||ara^^HL70296^eng^English-us^HL70296^v2^v2.1^TextInEnglish\r");
  Coded c = read_coded(m.get("PID-15"));
  CHECK(c.identifier == "ara");
  CHECK(c.text.empty());
  CHECK(c.coding_system == "HL70296");
  CHECK(c.alternate_identifier == "eng");
  CHECK(c.alternate_text == "English-us");
  CHECK(c.alternate_coding_system == "HL70296");
  CHECK(c.coding_system_version == "v2");
  CHECK(c.alternate_coding_system_version == "v2.1");
  CHECK(c.original_text == "TextInEnglish");
  CHECK_FALSE(c.empty());
}

TEST_CASE("Coded: a CE leaves the CWE-only components empty") {
  Message m = message("PID|1||1||X|||||||||||||||||C^White and Black Caribbean^NHSETHNIC2001\r");
  Coded c = read_coded(m.get("PID-22"));
  CHECK(c.identifier == "C");
  CHECK(c.text == "White and Black Caribbean");
  CHECK(c.coding_system == "NHSETHNIC2001");
  CHECK(c.coding_system_version.empty());
  CHECK(c.original_text.empty());
  CHECK(read_coded(m.get("PID-21")).empty());
}

TEST_CASE("XCN: the registered GP in PD1-4") {
  Message m = message("PD1|||MALTON GP PRACTICE^^Y06601|G5612908^Townley^Gregory^^^Dr^^^GMP\r");
  XCN gp = read_xcn(m.get("PD1-4"));
  CHECK(gp.id_number == "G5612908");
  CHECK(gp.family_name == "Townley");
  CHECK(gp.given_name == "Gregory");
  CHECK(gp.prefix == "Dr");
  CHECK(gp.assigning_authority.namespace_id == "GMP");
  CHECK(gp.identifier_type_code.empty());
}

TEST_CASE("XCN: identifier type, assigning facility and professional suffix") {
  Message m = message(
      "PV1|1|I|||||C3456789^Darwin^Samuel^R^JR^Dr^MD^SRC^GMC&2.16.840.1.113883.2.1.3.2.4.16.11&ISO^L^7^M11^DN"
      "^RCB&1.2.3&ISO^^^^^^^FRCP\r");
  XCN c = read_xcn(m.get("PV1-7"));
  CHECK(c.id_number == "C3456789");
  CHECK(c.further_given_names == "R");
  CHECK(c.suffix == "JR");
  CHECK(c.degree == "MD");
  CHECK(c.source_table == "SRC");
  CHECK(c.assigning_authority == HD{"GMC", "2.16.840.1.113883.2.1.3.2.4.16.11", "ISO"});
  CHECK(c.name_type_code == "L");
  CHECK(c.check_digit == "7");
  CHECK(c.check_digit_scheme == "M11");
  CHECK(c.identifier_type_code == "DN");
  CHECK(c.assigning_facility == HD{"RCB", "1.2.3", "ISO"});
  CHECK(c.professional_suffix == "FRCP");
}

TEST_CASE("PL: the ITK inpatient location in PV1-3") {
  Message m = message("PV1|1|I|RCB^OBS1^BAY2-6^RCB55|13\r");
  PL p = read_pl(m.get("PV1-3"));
  CHECK(p.point_of_care == "RCB");
  CHECK(p.room == "OBS1");
  CHECK(p.bed == "BAY2-6");
  CHECK(p.facility.namespace_id == "RCB55");
  CHECK(p.location_status.empty());
}

TEST_CASE("PL: all components, with HDs as sub-components") {
  Message m = message("PV1|1|I|WARD A&1.2&ISO^12^B^RCB&2.16.840&ISO^O^N^Main^3^By the lift^^TRUST&9.9&ISO\r");
  PL p = read_pl(m.get("PV1-3"));
  CHECK(p.point_of_care == "WARD A");  // an HD from v2.7: its namespace id
  CHECK(p.facility == HD{"RCB", "2.16.840", "ISO"});
  CHECK(p.location_status == "O");
  CHECK(p.person_location_type == "N");
  CHECK(p.building == "Main");
  CHECK(p.floor == "3");
  CHECK(p.location_description == "By the lift");
  CHECK(p.assigning_authority_for_location == HD{"TRUST", "9.9", "ISO"});
}

TEST_CASE("XON: the ITK GP practice in PD1-3 has its ODS code in XON.3") {
  Message m = message("PD1|||MALTON GP PRACTICE^^Y06601|G5612908^Townley^Gregory^^^Dr^^^GMP\r");
  XON o = read_xon(m.get("PD1-3"));
  CHECK(o.organization_name == "MALTON GP PRACTICE");
  CHECK(o.id_number == "Y06601");
  CHECK(o.organization_identifier.empty());
  CHECK(o.identifier() == "Y06601");
}

TEST_CASE("XON: v2.5 organization identifier in XON.10, authority and type in 6 and 7") {
  Message m = message("PD1|||MALTON GP PRACTICE^L^^^^NHS&2.16.840.1.113883.2.1.4.3&ISO^ODS^RCB^A^Y06601\r");
  XON o = read_xon(m.get("PD1-3"));
  CHECK(o.organization_name_type_code == "L");
  CHECK(o.assigning_authority == HD{"NHS", "2.16.840.1.113883.2.1.4.3", "ISO"});
  CHECK(o.identifier_type_code == "ODS");
  CHECK(o.assigning_facility.namespace_id == "RCB");
  CHECK(o.name_representation_code == "A");
  CHECK(o.organization_identifier == "Y06601");
  CHECK(o.identifier() == "Y06601");
}

TEST_CASE("HD: read from a field's components or a component's sub-components") {
  Message m = message("PID|1||1^^^NHS&2.16.840.1.113883.2.1.4.1&ISO\r");
  CHECK(read_hd(m.get("MSH-4")) == HD{"RCB", "", ""});
  CHECK(read_hd(m.get("PID-3.4")) == HD{"NHS", "2.16.840.1.113883.2.1.4.1", "ISO"});
  CHECK_FALSE(read_hd(m.get("PID-3.4")).empty());
  CHECK(read_hd(m.get("PID-3.6")).empty());
}

// ---------------------------------------------------------------------------------------------
// Behaviour shared by all readers

TEST_CASE("readers: an absent element gives an empty struct") {
  Message m = message("PID|1\r");
  CHECK(read_cx(m.get("PID-3")) == CX{});
  CHECK(read_xpn(m.get("PID-5")) == XPN{});
  CHECK(read_xad(m.get("PID-11")) == XAD{});
  CHECK(read_xtn(m.get("PID-13")) == XTN{});
  CHECK(read_coded(m.get("PID-15")) == Coded{});
  CHECK(read_xcn(m.get("PD1-4")) == XCN{});
  CHECK(read_pl(m.get("PV1-3")) == PL{});
  CHECK(read_xon(m.get("PD1-3")) == XON{});
  CHECK(read_hd(Element{}) == HD{});
  CHECK(read_cx_list(whole_field(m, "PID-3")).empty());
  CHECK(read_cx_list(Element{}).empty());
}

TEST_CASE("readers: the HL7 null reads as an empty value") {
  Message m = message("PID|1||\"\"^^^NHS||\"\"^ANNE\r");
  CHECK(read_cx(m.get("PID-3")).id_number.empty());
  CHECK(read_cx(m.get("PID-3")).assigning_authority.namespace_id == "NHS");
  XPN n = read_xpn(m.get("PID-5"));
  CHECK(n.family_name.empty());
  CHECK(n.given_name == "ANNE");
}

TEST_CASE("lists: repetitions without a value are skipped") {
  Message m = message("PID|1||~633^^^R0A^MR~^^^~\"\"~3333333333^^^NHS^NH~\r");
  std::vector<CX> ids = read_cx_list(whole_field(m, "PID-3"));
  REQUIRE(ids.size() == 2);
  CHECK(ids[0].id_number == "633");
  CHECK(ids[1].id_number == "3333333333");
  CHECK(ids[1].identifier_type_code == "NH");
}

TEST_CASE("lists: given one repetition, a list reader reads just that one") {
  Message m = message("PID|1||3333333333^^^NHS~633^^^R0A^MR\r");
  std::vector<CX> ids = read_cx_list(m.get("PID-3[2]"));
  REQUIRE(ids.size() == 1);
  CHECK(ids[0].id_number == "633");
  // Message::get returns the first repetition, so it reads as a list of one.
  CHECK(read_cx_list(m.get("PID-3")).size() == 1);
  CHECK(read_repetitions(whole_field(m, "PID-3"), &read_cx).size() == 2);
  CHECK(read_hd_list(m.get("MSH-4")).size() == 1);
}

TEST_CASE("whole_field: the field a path names, every repetition included") {
  Message m = message("PID|1||A~B~C\rPID|2||D~E\r");
  CHECK(whole_field(m, "PID-3").size() == 3);
  CHECK(whole_field(m, "PID-3.1").size() == 3);  // deeper parts of the path are ignored
  CHECK(whole_field(m, "PID[2]-3").size() == 2);
  CHECK(whole_field(m, "PID[2]-3").repetition(2).text() == "E");
  CHECK_FALSE(whole_field(m, "PID[3]-3").present());
  CHECK_FALSE(whole_field(m, "PID-30").present());
  CHECK_FALSE(whole_field(m, "not a path").present());
}

TEST_CASE("has_value: delimiters and nulls alone are no value") {
  Message m = message("PID|1||^^^|^&&^|\"\"|x|^\"\"^\r");
  CHECK_FALSE(has_value(m.get("PID-2")));
  CHECK_FALSE(has_value(m.get("PID-3")));
  CHECK_FALSE(has_value(m.get("PID-4")));
  CHECK_FALSE(has_value(m.get("PID-5")));
  CHECK(has_value(m.get("PID-6")));
  CHECK_FALSE(has_value(m.get("PID-7")));
  CHECK_FALSE(has_value(m.get("PID-99")));
}

TEST_CASE("readers: a message's own delimiters are honoured") {
  auto m = Message::parse("MSH$!*#%$PAS$RCB\rPID$1$$3333333333!!!NHS%2.16%ISO*633!!!R0A!MR$$O#S#BRIEN!ANN\r");
  REQUIRE(m.ok());
  std::vector<CX> ids = read_cx_list(whole_field(*m, "PID-3"));
  REQUIRE(ids.size() == 2);
  CHECK(ids[0].assigning_authority == HD{"NHS", "2.16", "ISO"});
  CHECK(ids[1].identifier_type_code == "MR");
  XPN n = read_xpn(m->get("PID-5"));
  CHECK(n.family_name == "O!BRIEN");  // #S# is the escaped component separator
  CHECK(n.given_name == "ANN");
}

TEST_CASE("readers: text in an ISO-8859-1 message comes out as UTF-8") {
  auto m = Message::parse(std::string("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.4|||||GBR|8859/1\r") +
                          "PID|1||1||M\xFCLLER^J\xD6RG\r");
  REQUIRE(m.ok());
  XPN n = read_xpn(m->get("PID-5"));
  CHECK(n.family_name == "M\xC3\xBCLLER");
  CHECK(n.given_name == "J\xC3\x96RG");
}

// ---------------------------------------------------------------------------------------------
// The shared corpus

TEST_CASE("corpus: PID-3/5/7/11/13 of every msfc ADT message read") {
  const auto files = corpus_files("msfc__ADT-");
  REQUIRE(files.size() == 52);
  size_t pids = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto m = Message::parse(read_corpus_file(path));
    REQUIRE(m.ok());
    for (const Segment& pid : m->all("PID")) {
      ++pids;
      std::vector<CX> ids = read_cx_list(pid.field(3));
      REQUIRE_FALSE(ids.empty());
      for (const CX& cx : ids) CHECK_FALSE(cx.id_number.empty());

      std::vector<XPN> names = read_xpn_list(pid.field(5));
      REQUIRE_FALSE(names.empty());
      CHECK_FALSE(names[0].family_name.empty());

      // Every PID-7 in these files is a valid timestamp, and reads back as it was sent.
      auto dob = read_timestamp(pid.field(7));
      REQUIRE(dob.ok());
      REQUIRE(dob->has_value());
      CHECK((*dob)->to_hl7() == pid.field(7).text());

      std::vector<XAD> addresses = read_xad_list(pid.field(11));
      REQUIRE_FALSE(addresses.empty());
      CHECK_FALSE(addresses[0].city.empty());

      for (const XTN& t : read_xtn_list(pid.field(13)))
        CHECK_FALSE((t.telephone_number.empty() && t.local_number.empty() && t.email_address.empty()));
    }
  }
  CHECK(pids == 55);  // A40-02, A41-02 and A47-02 carry two patients each
}

TEST_CASE("corpus: msfc ADT^A01 PID read field by field") {
  auto m = Message::parse(read_corpus_file(corpus_dir() / "msfc__ADT-A01-01.hl7"));
  REQUIRE(m.ok());

  std::vector<CX> ids = read_cx_list(whole_field(*m, "PID-3"));
  REQUIRE(ids.size() == 2);
  CHECK(ids[0].id_number == "PATID1234");
  CHECK(ids[0].check_digit == "5");
  CHECK(ids[0].check_digit_scheme == "M11");
  CHECK(ids[0].assigning_authority == HD{"test1", "2.16.1", "HCD"});
  CHECK(ids[0].identifier_type_code == "MR");
  CHECK(ids[0].assigning_facility.namespace_id == "GOOD HEALTH HOSPITAL");
  CHECK(ids[1].id_number == "123456789");
  CHECK(ids[1].assigning_authority.namespace_id == "USSSA");
  CHECK(ids[1].identifier_type_code == "SS");

  std::vector<XPN> names = read_xpn_list(whole_field(*m, "PID-5"));
  REQUIRE(names.size() == 2);
  CHECK(names[0].family_name == "EVERYMAN");
  CHECK(names[0].given_name == "ADAM");
  CHECK(names[1].family_name == "Josh");
  CHECK(names[1].further_given_names == "stanley");
  CHECK(names[1].name_type_code == "L");

  auto dob = read_timestamp(m->get("PID-7"));
  REQUIRE(dob.ok());
  REQUIRE(dob->has_value());
  CHECK((*dob)->to_iso8601() == "1988-08-18T11:26+02:15");

  XAD home = read_xad(m->get("PID-11"));
  CHECK(home.street == "1000");
  CHECK(home.street_name == "Hospital Lane");
  CHECK(home.other_designation == "Ste. 123");
  CHECK(home.city == "Ann Arbor ");  // the trailing space is in the file
  CHECK(home.state == "MI");
  CHECK(home.postal_code == "99999");
  CHECK(home.country == "USA");
  CHECK(home.address_type == "M");

  std::vector<XTN> phones = read_xtn_list(whole_field(*m, "PID-13"));
  REQUIRE(phones.size() == 2);
  CHECK(phones[0].telephone_number == "78788788");
  CHECK(phones[0].equipment_type == "CP");
  CHECK(phones[0].email_address == "5555");
  CHECK(phones[0].local_number == "1111");
  CHECK(phones[0].unformatted_telephone_number == "2222");
  CHECK(phones[1].telephone_number == "12121212");

  Coded language = read_coded(m->get("PID-15"));
  CHECK(language.identifier == "ara");
  CHECK(language.original_text == "TextInEnglish");

  CX account = read_cx(m->get("PID-18"));
  CHECK(account.assigning_facility.namespace_id == "1");
  auto effective = read_timestamp(m->get("PID-18.7"));
  REQUIRE(effective.ok());
  REQUIRE(effective->has_value());
  CHECK((*effective)->to_iso8601() == "1924-10-11");
}

TEST_CASE("corpus: msfc ADT^A01 PD1, PV1 and ROL read") {
  auto m = Message::parse(read_corpus_file(corpus_dir() / "msfc__ADT-A01-01.hl7"));
  REQUIRE(m.ok());

  XON practice = read_xon(m->get("PD1-3"));
  CHECK(practice.organization_name == "LINDAS TEST ORGANIZATION");
  CHECK(practice.identifier() == "SIISCLIENT818");

  XCN gp = read_xcn(m->get("PD1-4"));
  CHECK(gp.id_number == "88");
  CHECK(gp.family_name == "Hippo");
  CHECK(gp.assigning_authority.namespace_id == "TE");
  CHECK(gp.check_digit_scheme == "M10");
  CHECK(gp.identifier_type_code == "DN");

  PL bed = read_pl(m->get("PV1-3"));
  CHECK(bed.point_of_care == "HUH AE OMU");
  CHECK(bed.room == "OMU B");
  CHECK(bed.bed == "Bed 03");
  CHECK(bed.facility.namespace_id == "HOMERTON UNIVER");
  CHECK(bed.person_location_type == "C");
  CHECK(bed.building == "Homerton UH");
  CHECK(bed.floor == "Floor5");

  XCN attending = read_xcn(m->get("PV1-7"));
  CHECK(attending.id_number == "1122334");
  CHECK(attending.assigning_authority == HD{"PERSONNELt", "1.23", "HCD"});
  CHECK(attending.name_type_code == "B");
  CHECK(attending.identifier_type_code == "BR");
  CHECK(attending.professional_suffix == "Al");

  // PV1-14 holds a real escape: "A\T\E" is "A&E".
  CHECK(read_coded(m->get("PV1-14")).identifier == "NHS Provider-General (inc.A&E-this Hosp)");

  XON hospital = read_xon(m->get("ROL-14"));
  CHECK(hospital.organization_name == "Good Health Hospital");
  CHECK(hospital.organization_name_type_code == "L");
  CHECK(hospital.assigning_authority.namespace_id == "CMS");
  CHECK(hospital.identifier_type_code == "XX");
  CHECK(hospital.name_representation_code == "A");

  XTN email = read_xtn(m->get("ROL-12"));
  CHECK(email.equipment_type == "Internet");
  CHECK(email.email_address == "fred@nnnn.com");
  CHECK(email.extension == "1234");
}

TEST_CASE("corpus: python-hl7's sample has an impossible PID-7") {
  auto m = Message::parse(read_corpus_file(corpus_dir() / "pyhl7__sample_hl7.hl7"));
  REQUIRE(m.ok());
  CHECK(m->text("PID-7") == "196203520");  // nine digits: the hour is cut short
  auto dob = read_timestamp(m->get("PID-7"));
  REQUIRE_FALSE(dob.ok());
  CHECK_THAT(dob.error(), Contains("hour needs 2 digits, found 1"));
}

TEST_CASE("corpus: HAPI's message 09 sends PID-7 as the HL7 null") {
  auto m = Message::parse(read_corpus_file(corpus_dir() / "hapi__messages_09.hl7"));
  REQUIRE(m.ok());
  CHECK(m->get("PID-7").is_null());
  auto dob = read_timestamp(m->get("PID-7"));
  REQUIRE(dob.ok());
  CHECK_FALSE(dob->has_value());
}

TEST_CASE("corpus: every other PID-7 in the corpus is a valid timestamp") {
  size_t read = 0;
  for (const auto& path : corpus_files("")) {
    const std::string name = path.filename().string();
    if (name == "pyhl7__sample_hl7.hl7") continue;  // the known-bad one, tested above
    auto m = Message::parse(read_corpus_file(path));
    if (!m.ok()) continue;  // batches and the deliberately malformed files
    for (const Segment& pid : m->all("PID")) {
      INFO(name << ": PID-7 " << pid.field(7).text());
      auto dob = read_timestamp(pid.field(7));
      CHECK(dob.ok());
      if (dob.ok() && dob->has_value()) {
        CHECK((*dob)->to_hl7() == pid.field(7).component(1).text());
        ++read;
      }
    }
  }
  CHECK(read > 100);
}
