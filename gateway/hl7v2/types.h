// Typed readers for HL7v2 data types: TS/DTM timestamps and the composite types that carry
// people, places, identifiers and codes (CX, XPN, XAD, XTN, CE/CWE, XCN, PL, HD, XON).
//
// Each composite reader takes an Element and returns a plain struct of decoded UTF-8
// strings (escapes such as \S\ decoded, the message's charset converted), so callers never
// see delimiters. Component positions are those of HL7 v2.5.1 (chapter 2A); for the parts
// read here they are the same from 2.3 to 2.8. Where a later version added a component
// (XON.10, CWE.7-9) an older message simply leaves it empty.
//
// What the Element may be: a field (read as its first repetition, as HL7 paths do), a
// repetition, or a component holding a type nested in another (the HD in CX.4, the TS in
// XCN.19): then the type's parts are that component's sub-components. A primitive part that
// itself holds sub-components (XPN.1 family name is FN: surname&prefix&...) reads as its
// first sub-component.
//
// Empty and null: a part that is absent or empty reads as "". The HL7 null "" (two double
// quotes, "delete the stored value") also reads as "": readers describe values, and a caller
// that must honour deletes checks Element::is_null() on the field itself.
//
// Lifetime and threading: the results own their strings, so they outlive the Message; the
// readers only read the Message, so a const Message may be read from many threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hl7v2/message.h"

namespace midhurst::hl7v2 {

// ---------------------------------------------------------------------------------------------
// TS / DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ] (v2.5.1 section 2A.22 DTM; the TS
// of v2.3-2.5 carries the same value in its first component).

// How much of a timestamp was sent. A fraction of a second is kept separately
// (Timestamp::fraction_digits), since it only refines kSecond.
enum class TimePrecision : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond };

// A calendar timestamp exactly as precise as it was sent. Parts finer than `precision` hold
// their lowest value (month 1, day 1, hour 0...) and are not printed.
//
// No offset means "local time of the sender"; Midhurst reads that as Europe/London
// (domain.md section 0), but that decision belongs to the mapping, not to this type.
struct Timestamp {
  int year = 0;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  TimePrecision precision = TimePrecision::kYear;
  // The fraction of a second as sent: `fraction_digits` (0-4) digits with the value
  // `fraction`, so ".05" is fraction 5 with 2 digits. Non-zero digits only with kSecond.
  int fraction = 0;
  int fraction_digits = 0;
  // Offset from UTC in minutes, east positive ("+0215" is 135, "-0500" is -300).
  std::optional<int> offset_minutes;

  // ISO 8601 extended form at the stored precision: "2026", "2026-11", "2026-11-01",
  // "2026-11-01T14", "2026-11-01T14:18", "2026-11-01T14:18:05.12", then the offset as
  // "+hh:mm" when there is one and the value has a time. ISO 8601 has no form for a date
  // with an offset, so at year/month/day precision the offset is left out of the string
  // (it stays in offset_minutes). FHIR dateTime needs minutes when there is an hour, and an
  // offset: that is for the FHIR mapping to supply.
  std::string to_iso8601() const;
  // The HL7 form, as parse_timestamp accepted it ("20120918173931-0500"). An offset of
  // "-0000" comes back as "+0000" (both mean UTC).
  std::string to_hl7() const;

  bool operator==(const Timestamp&) const = default;
};

// Parses the DTM form above. Refuses, with a reason that names the bad part and quotes the
// input: an empty value, a wrong number of digits (an odd count, fewer than 4 or more than
// 14 before the fraction), month outside 01-12, a day the month does not have (Gregorian
// leap years: 2024-02-29 yes, 2100-02-29 no), hour 24 or more, minute or second 60 or more
// (leap seconds are refused too), a fraction without seconds, without digits or with more
// than 4, an offset that is not +hhmm/-hhmm, has minutes 60+ or lies beyond +/-14:00, and
// any other character. No whitespace is trimmed.
Result<Timestamp, std::string> parse_timestamp(std::string_view text);

// Reads a TS (v2.3-2.5: TS.1 is the time, TS.2 the deprecated degree of precision, ignored)
// or a DTM (v2.6+) element. Ok(nullopt) means "no timestamp": the element is absent, empty,
// or the HL7 null "". An error is a value that is there but not a valid timestamp; the
// reason is parse_timestamp's, and element.location() says where.
Result<std::optional<Timestamp>, std::string> read_timestamp(const Element& element);

// ---------------------------------------------------------------------------------------------
// Composite types. The number after each member is its component in HL7 v2.5.1.

// HD, hierarchic designator: who assigned something ("NHS", an ODS code, an OID).
struct HD {
  std::string namespace_id;       // 1
  std::string universal_id;       // 2, e.g. an OID
  std::string universal_id_type;  // 3, e.g. "ISO"

  bool empty() const { return namespace_id.empty() && universal_id.empty() && universal_id_type.empty(); }
  bool operator==(const HD&) const = default;
};

// CE (v2.3-2.5) and CWE (2.5+), coded element. CE is CWE's first six components, so one type
// reads both.
struct Coded {
  std::string identifier;                       // 1
  std::string text;                             // 2
  std::string coding_system;                    // 3, e.g. "SCT", "HL70189"
  std::string alternate_identifier;             // 4
  std::string alternate_text;                   // 5
  std::string alternate_coding_system;          // 6
  std::string coding_system_version;            // 7 (CWE)
  std::string alternate_coding_system_version;  // 8 (CWE)
  std::string original_text;                    // 9 (CWE)

  bool empty() const;
  bool operator==(const Coded&) const = default;
};

// CX, extended composite ID with check digit: a patient identifier (PID-3). NHS convention:
// the NHS number has assigning_authority "NHS" and/or identifier_type_code "NH"; a hospital
// number has the trust's ODS code and "MR".
struct CX {
  std::string id_number;             // 1
  std::string check_digit;           // 2
  std::string check_digit_scheme;    // 3, e.g. "M11"
  HD assigning_authority;            // 4
  std::string identifier_type_code;  // 5, table 0203: "NH", "MR", "VN"...
  HD assigning_facility;             // 6
  std::string effective_date;        // 7, DT as sent (parse_timestamp reads it)
  std::string expiration_date;       // 8, DT as sent
  Coded assigning_jurisdiction;      // 9
  Coded assigning_agency;            // 10

  bool operator==(const CX&) const = default;
};

// XPN, extended person name (PID-5, NK1-2).
struct XPN {
  std::string family_name;          // 1 (FN.1 surname; the rest of FN is not read)
  std::string given_name;           // 2
  std::string further_given_names;  // 3, or their initials
  std::string suffix;               // 4, e.g. "JR"
  std::string prefix;               // 5, e.g. "MRS", "Dr"
  std::string degree;               // 6
  std::string name_type_code;       // 7, table 0200: "L" legal...
  std::string name_representation_code;  // 8
  std::string effective_date;       // 12, as sent
  std::string expiration_date;      // 13, as sent
  std::string professional_suffix;  // 14

  bool operator==(const XPN&) const = default;
};

// XAD, extended address (PID-11). In NHS feeds XAD.1-4 are simply address lines.
struct XAD {
  std::string street;               // 1 (SAD.1 street or mailing address)
  std::string street_name;          // 1 (SAD.2)
  std::string dwelling_number;      // 1 (SAD.3)
  std::string other_designation;    // 2
  std::string city;                 // 3
  std::string state;                // 4 (state, province or county)
  std::string postal_code;          // 5
  std::string country;              // 6, ISO 3166 alpha-3 in NHS feeds ("GBR")
  std::string address_type;         // 7, table 0190: "H" home...
  std::string other_geographic_designation;  // 8
  std::string county_code;          // 9
  std::string census_tract;         // 10
  std::string address_representation_code;   // 11
  std::string effective_date;       // 13, as sent
  std::string expiration_date;      // 14, as sent

  bool operator==(const XAD&) const = default;
};

// XTN, extended telecommunication number (PID-13/14). Older feeds send only XTN.1 (a
// formatted number); newer ones the parts 5-8 or an email address in 4.
struct XTN {
  std::string telephone_number;  // 1 (deprecated from 2.6, still the common case)
  std::string use_code;          // 2, table 0201: "PRN" home, "WPN" work, "ORN", "NET"...
  std::string equipment_type;    // 3, table 0202: "PH", "CP" mobile, "FX", "Internet"...
  std::string email_address;     // 4 (communication address from 2.6)
  std::string country_code;      // 5
  std::string area_code;         // 6
  std::string local_number;      // 7
  std::string extension;         // 8
  std::string any_text;          // 9
  std::string extension_prefix;  // 10
  std::string speed_dial_code;   // 11
  std::string unformatted_telephone_number;  // 12

  bool operator==(const XTN&) const = default;
};

// XCN, extended composite ID number and name for persons: a clinician (PD1-4, PV1-7/8/9/17).
// NHS convention: a GP's GMP code with assigning_authority "GMP", a consultant's GMC number
// with "GMC".
struct XCN {
  std::string id_number;            // 1
  std::string family_name;          // 2 (FN.1 surname)
  std::string given_name;           // 3
  std::string further_given_names;  // 4
  std::string suffix;               // 5
  std::string prefix;               // 6
  std::string degree;               // 7
  std::string source_table;         // 8
  HD assigning_authority;           // 9
  std::string name_type_code;       // 10
  std::string check_digit;          // 11
  std::string check_digit_scheme;   // 12
  std::string identifier_type_code; // 13, table 0203
  HD assigning_facility;            // 14
  std::string professional_suffix;  // 21

  bool operator==(const XCN&) const = default;
};

// PL, person location (PV1-3, PV1-6). NHS convention: site^ward^bed^facility (the ODS site
// code in PL.4). From v2.7 PL.1-3 are HDs; their first sub-component is read.
struct PL {
  std::string point_of_care;         // 1 (ward)
  std::string room;                  // 2
  std::string bed;                   // 3
  HD facility;                       // 4
  std::string location_status;       // 5
  std::string person_location_type;  // 6
  std::string building;              // 7
  std::string floor;                 // 8
  std::string location_description;  // 9
  HD assigning_authority_for_location;  // 11

  bool operator==(const PL&) const = default;
};

// XON, extended composite name and ID for organisations (PD1-3 GP practice, MSH-4 in 2.5+).
// The identifier moved from XON.3 (NM, up to 2.4) to XON.10 (ST, 2.5+); NHS ITK 2.4 feeds put
// the practice's ODS code in XON.3. identifier() gives whichever is sent.
struct XON {
  std::string organization_name;            // 1
  std::string organization_name_type_code;  // 2
  std::string id_number;                    // 3
  std::string check_digit;                  // 4
  std::string check_digit_scheme;           // 5
  HD assigning_authority;                   // 6
  std::string identifier_type_code;         // 7
  HD assigning_facility;                    // 8
  std::string name_representation_code;     // 9
  std::string organization_identifier;      // 10

  // XON.10 when sent, else XON.3.
  const std::string& identifier() const {
    return organization_identifier.empty() ? id_number : organization_identifier;
  }
  bool operator==(const XON&) const = default;
};

// The readers. Each reads the Element as described at the top of this file; an absent
// Element gives an empty struct.
HD read_hd(const Element& element);
Coded read_coded(const Element& element);  // CE or CWE
CX read_cx(const Element& element);
XPN read_xpn(const Element& element);
XAD read_xad(const Element& element);
XTN read_xtn(const Element& element);
XCN read_xcn(const Element& element);
PL read_pl(const Element& element);
XON read_xon(const Element& element);

// True iff some part of the element holds a value: not absent, not only delimiters
// ("^^^"), not the HL7 null "".
bool has_value(const Element& element);

// The whole field a path names, every repetition included: what the list readers need.
// Message::get returns one repetition, even for "PID-3" or "PID-3[*]"; Segment::field(n) is
// the other way to get a whole field. Only the segment, its occurrence and the field of the
// path are used. Absent when the path is malformed or the message has no such field.
Element whole_field(const Message& message, std::string_view path);

// Every repetition of a repeating field, read with `read`, in order. Repetitions without a
// value (see has_value) are skipped: "~633^^^R0A^MR" gives one CX. `field` should come from
// Segment::field() or whole_field(); given a repetition (what Message::get returns) or a
// component, it reads just that one element (if it has a value).
template <typename T>
std::vector<T> read_repetitions(const Element& field, T (*read)(const Element&)) {
  std::vector<T> out;
  const size_t count = field.level() == Level::kField ? field.size() : (field.present() ? 1 : 0);
  for (size_t i = 1; i <= count; ++i) {
    Element rep = field.level() == Level::kField ? field.repetition(i) : field;
    if (has_value(rep)) out.push_back(read(rep));
  }
  return out;
}

inline std::vector<CX> read_cx_list(const Element& field) { return read_repetitions(field, &read_cx); }
inline std::vector<XPN> read_xpn_list(const Element& field) { return read_repetitions(field, &read_xpn); }
inline std::vector<XAD> read_xad_list(const Element& field) { return read_repetitions(field, &read_xad); }
inline std::vector<XTN> read_xtn_list(const Element& field) { return read_repetitions(field, &read_xtn); }
inline std::vector<Coded> read_coded_list(const Element& field) { return read_repetitions(field, &read_coded); }
inline std::vector<XCN> read_xcn_list(const Element& field) { return read_repetitions(field, &read_xcn); }
inline std::vector<PL> read_pl_list(const Element& field) { return read_repetitions(field, &read_pl); }
inline std::vector<XON> read_xon_list(const Element& field) { return read_repetitions(field, &read_xon); }
inline std::vector<HD> read_hd_list(const Element& field) { return read_repetitions(field, &read_hd); }

}  // namespace midhurst::hl7v2
