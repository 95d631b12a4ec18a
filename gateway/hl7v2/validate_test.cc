#include "hl7v2/validate.h"

#include <catch2/catch.hpp>
#include <string>

using namespace midhurst::hl7v2;

namespace {

const char* kGood =
    "MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01^ADT_A01|CTRL1|P|2.4\r"
    "EVN|A01|201010101418\r"
    "PID|1||3333333333^^^NHS||SMITH^FREDRICA\r";

Message parse(const std::string& bytes) {
  auto m = Message::parse(bytes);
  REQUIRE(m.ok());
  return std::move(m.value());
}

// The single issue of a message that has exactly one.
Issue only(const std::string& bytes) {
  Issues issues = check_message(bytes);
  INFO(bytes);
  REQUIRE(issues.size() == 1);
  return issues[0];
}

// kGood with its MSH segment replaced.
std::string with_msh(const std::string& msh) {
  std::string s = kGood;
  return msh + s.substr(s.find('\r'));
}

}  // namespace

TEST_CASE("validate: a well-formed message has no issues") {
  CHECK(check_message(kGood).empty());
  CHECK(validate(parse(kGood)).empty());
}

TEST_CASE("validate: MSH-9 missing") {
  Issue e = only(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418|||CTRL1|P|2.4"));
  CHECK(e.code == ErrorCode::kRequiredFieldMissing);
  CHECK(e.severity == Severity::kError);
  CHECK(e.where.segment_index == 1);
  CHECK(e.where.segment_id == "MSH");
  CHECK(e.where.field == 9);
  CHECK(e.where.component == 0);
  CHECK(e.why.find("MSH-9 (message type) is missing") == 0);
}

TEST_CASE("validate: MSH-9 missing because MSH stops before it") {
  Issues issues = check_message("MSH|^~\\&|PAS\rPID|1");
  // MSH-9, MSH-10 and MSH-12 are all missing, in field order.
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].where.field == 9);
  CHECK(issues[1].where.field == 10);
  CHECK(issues[2].where.field == 12);
  for (const Issue& i : issues) CHECK(i.code == ErrorCode::kRequiredFieldMissing);
}

TEST_CASE("validate: MSH-9.2 trigger event missing") {
  Issue e = only(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT|CTRL1|P|2.4"));
  CHECK(e.code == ErrorCode::kRequiredFieldMissing);
  CHECK(e.where.field == 9);
  CHECK(e.where.repetition == 1);
  CHECK(e.where.component == 2);
  CHECK(e.where.to_string() == "MSH-9.2 (segment 1)");
}

TEST_CASE("validate: MSH-9.1 message code missing") {
  Issue e = only(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||^A01|CTRL1|P|2.4"));
  CHECK(e.code == ErrorCode::kRequiredFieldMissing);
  CHECK(e.where.field == 9);
  CHECK(e.where.component == 1);
}

TEST_CASE("validate: a general ACK may omit the trigger event") {
  CHECK(check_message("MSH|^~\\&|A|B|C|D|20240101||ACK|C1|P|2.3\rMSA|AA|X1").empty());
}

TEST_CASE("validate: MSH-9 components that are not codes") {
  Issues issues = check_message(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||adt^A1|CTRL1|P|2.4"));
  REQUIRE(issues.size() == 2);
  CHECK(issues[0].code == ErrorCode::kDataType);
  CHECK(issues[0].where.component == 1);
  CHECK(issues[0].why.find("\"adt\"") != std::string::npos);
  CHECK(issues[1].code == ErrorCode::kDataType);
  CHECK(issues[1].where.component == 2);
}

TEST_CASE("validate: MSH-10 control id missing") {
  Issue e = only(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01||P|2.4"));
  CHECK(e.code == ErrorCode::kRequiredFieldMissing);
  CHECK(e.where.field == 10);
  CHECK(e.where.segment_id == "MSH");
  CHECK(e.where.byte_offset > 0);  // the empty field is present: its offset is known
}

TEST_CASE("validate: MSH-12 version missing") {
  Issue e = only(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01|CTRL1|P"));
  CHECK(e.code == ErrorCode::kRequiredFieldMissing);
  CHECK(e.where.field == 12);
  CHECK(e.where.byte_offset == -1);  // absent: no offset to give
}

TEST_CASE("validate: MSH-12 version unknown") {
  Issue e = only(with_msh("MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01|CTRL1|P|3.0"));
  CHECK(e.code == ErrorCode::kUnsupportedVersionId);
  CHECK(e.where.field == 12);
  CHECK(e.where.component == 1);
  CHECK(e.why.find("\"3.0\"") != std::string::npos);
}

TEST_CASE("validate: every published version is accepted, with or without components") {
  for (const char* v : {"2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1",
                        "2.8.2", "2.9", "2.9.1", "2.5.1^GBR^2.1"}) {
    INFO(v);
    CHECK(check_message(with_msh(std::string("MSH|^~\\&|A|B|C|D|1||ADT^A01|C|P|") + v)).empty());
  }
}

TEST_CASE("validate: segment ids that are not [A-Z][A-Z0-9][A-Z0-9]") {
  for (const char* bad : {"pid|1", "PI|1", "PIDX|1", "1AB|1", "P-D|1", "   "}) {
    INFO(bad);
    Issue e = only(std::string(kGood) + bad + "\r");
    CHECK(e.code == ErrorCode::kSegmentSequence);
    CHECK(e.where.segment_index == 4);
    CHECK(e.where.field == 0);
  }
  Issue e = only(std::string(kGood) + "ZX1|1\rPID2|x\r");
  CHECK(e.where.segment_index == 5);
  CHECK(e.why.find("\"PID2\"") != std::string::npos);
}

TEST_CASE("validate: an MSH inside a message") {
  Issue e = only(std::string(kGood) + kGood);
  CHECK(e.code == ErrorCode::kSegmentSequence);
  CHECK(e.where.segment_index == 4);
  CHECK(e.where.segment_id == "MSH");
  CHECK(e.where.segment_occurrence == 2);
  CHECK(e.why.find("second message") != std::string::npos);
}

TEST_CASE("validate: batch envelope segments inside a message") {
  for (const char* id : {"BHS", "FHS", "BTS", "FTS"}) {
    INFO(id);
    Issue e = only(std::string(kGood) + id + "|^~\\&\r");
    CHECK(e.code == ErrorCode::kSegmentSequence);
    CHECK(e.where.segment_index == 4);
    CHECK(e.where.segment_id == id);
  }
}

TEST_CASE("validate: a byte invalid in ASCII") {
  Issue e = only(with_msh("MSH|^~\\&|A|B|C|D|1||ADT^A01|C|P|2.4|||||GBR|ASCII") + "NK1|1||JONES^Ren\xE9\r");
  CHECK(e.code == ErrorCode::kDataType);
  CHECK(e.where.segment_index == 4);
  CHECK(e.where.segment_id == "NK1");
  CHECK(e.where.field == 3);
  CHECK(e.where.repetition == 1);
  CHECK(e.where.component == 2);
  CHECK(e.why.find("0xE9") != std::string::npos);
  CHECK(e.why.find("ASCII") != std::string::npos);
}

TEST_CASE("validate: Latin-1 bytes in a message with no MSH-18 (read as UTF-8)") {
  Issue e = only(std::string(kGood) + "NK1|1||JONES^Ren\xE9|x\r");
  CHECK(e.where.segment_id == "NK1");
  CHECK(e.where.field == 3);
  CHECK(e.where.component == 2);
  CHECK(e.why.find("MSH-18 is empty") != std::string::npos);
}

TEST_CASE("validate: invalid bytes are reported once per field, in every field") {
  Issues issues = check_message(std::string(kGood) + "NTE|1|\xFF\xFE\xFD|ok|\xC3(\r");
  REQUIRE(issues.size() == 2);
  CHECK(issues[0].where.field == 2);
  CHECK(issues[1].where.field == 4);
}

TEST_CASE("validate: a message full of invalid bytes gives a bounded list") {
  std::string bytes = kGood;
  for (int i = 0; i < 100; ++i) bytes += "NTE|1|\xFF\r";
  Issues issues = check_message(bytes);
  REQUIRE(issues.size() == 21);
  CHECK(issues.back().why.find("more bytes") == 0);
}

TEST_CASE("validate: 8859/1 bytes in an 8859/1 message are fine") {
  CHECK(check_message(with_msh("MSH|^~\\&|A|B|C|D|1||ADT^A01|C|P|2.4|||||NLD|8859/1") + "PID|1||1||Ren\xE9\r")
            .empty());
}

TEST_CASE("validate: unsupported MSH-18 character set") {
  Issue e = only(with_msh("MSH|^~\\&|A|B|C|D|1||ADT^A01|C|P|2.4|||||JPN|ISO IR87"));
  CHECK(e.code == ErrorCode::kTableValueNotFound);
  CHECK(e.where.field == 18);
  CHECK(e.why.find("\"ISO IR87\"") != std::string::npos);
}

TEST_CASE("validate: parse notes pass through as warnings") {
  // Declares 8859/1 but holds UTF-8 ("Testpatiënt"): read as UTF-8, with a warning.
  Issues issues =
      check_message(with_msh("MSH|^~\\&|A|B|C|D|1||ADT^A08|C|P|2.4|||||NLD|8859/1") + "PID|1||1||Testpati\xC3\xABnt\r");
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].severity == Severity::kWarning);
  CHECK(issues[0].where.field == 18);
  CHECK_FALSE(has_errors(issues));
}

TEST_CASE("validate: check_message turns a parse failure into one issue") {
  Issue e = only("MSH|^~}|A|B\rPID|1\r");
  CHECK(e.code == ErrorCode::kDataType);
  CHECK(e.where.segment_index == 1);
  CHECK(e.where.segment_id == "MSH");
  CHECK(e.where.field == 2);
  Issue empty = only("");
  CHECK(empty.code == ErrorCode::kSegmentSequence);
}

TEST_CASE("validate: issues come in location order") {
  Issues issues = check_message("MSH|^~\\&|A|B|C|D|1||ADT^A01||P|9\rpid|1\rNTE|\xFF\r");
  REQUIRE(issues.size() == 4);
  CHECK(issues[0].where.field == 10);
  CHECK(issues[1].where.field == 12);
  CHECK(issues[2].where.segment_index == 2);
  CHECK(issues[3].where.segment_index == 3);
}

TEST_CASE("validate: check_file puts message issues at their place in the file") {
  const std::string file = "FHS|^~\\&\rBHS|^~\\&\r" + std::string(kGood) +
                           "MSH|^~\\&|A|B|C|D|1||ADT^A01||P|2.4\rPID|1\rpv1|1\r" + "BTS|3\rFTS|1\r";
  Issues issues = check_file(file);
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].where.segment_index == 6);  // the second MSH
  CHECK(issues[0].where.field == 10);
  CHECK(issues[1].where.segment_index == 8);  // "pv1"
  CHECK(issues[1].where.segment_id == "pv1");
  REQUIRE(issues[1].where.byte_offset >= 0);
  CHECK(file.substr(static_cast<size_t>(issues[1].where.byte_offset), 3) == "pv1");
  CHECK(issues[2].where.segment_id == "BTS");  // says 3, holds 2
  CHECK(issues[2].why.find("holds 2 messages") != std::string::npos);
}
