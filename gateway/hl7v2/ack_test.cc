// Tests for ack.h: the acknowledgement decision (original and enhanced modes, HL7 v2.5
// §2.9.2-2.9.3, tables 0008 and 0155) and the exact bytes of the ACKs built.
#include "hl7v2/ack.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace midhurst::hl7v2;

namespace {

const char* kTs = "20240102030405+0000";

// v2.4, original mode (MSH-15/16 empty), ITK-style header with MSH-18 UNICODE.
const char* kAdt24 =
    "MSH|^~\\&|PAS|RCB|EPR^1.2.826^ISO|RX1|201010101418||ADT^A01^ADT_A01|1391320453338055|P|2.4|1|"
    "20101010141857|||GBR|UNICODE|EN||iTKv1.0\r"
    "EVN|A01|201010101418\r"
    "PID|1||3333333333^^^NHS~633^^^R0A^MR||SMITH^FREDRICA\r";

// The same in v2.5, and with enhanced mode in v2.5.1.
const char* kAdt25 =
    "MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01^ADT_A01|CTRL-25|P|2.5\r"
    "PID|1||3333333333^^^NHS\r";

std::string enhanced(std::string_view msh15, std::string_view msh16) {
  return "MSH|^~\\&|LAB|RCB|GW|RCB|20240101120000||ORU^R01^ORU_R01|MSG42|P|2.5.1|||" + std::string(msh15) +
         "|" + std::string(msh16) + "\rPID|1||3333333333^^^NHS\r";
}

Message parsed(std::string bytes) {
  auto m = Message::parse(std::move(bytes));
  REQUIRE(m.ok());
  return std::move(m).value();
}

// Builds the ACK, checks that it re-parses and echoes the original control id, and returns
// its bytes.
std::string ack_bytes(const Message& original, const AckRequest& req) {
  auto ack = build_ack(original, req);
  REQUIRE(ack.ok());
  std::string bytes = ack->encode();
  auto again = Message::parse(bytes);
  REQUIRE(again.ok());
  CHECK(again->text("MSA-2") == original.text("MSH-10"));
  CHECK(again->text("MSA-1") == to_string(req.code));
  CHECK(again->encode() == bytes);
  return bytes;
}

AckRequest request(AckCode code) {
  AckRequest r;
  r.code = code;
  r.timestamp = kTs;
  r.control_id = "ACK0001";
  return r;
}

// An issue located at PID[1]-3[2].4.1, the deepest location HL7 can name.
Issue deep_issue() {
  Issue i;
  i.severity = Severity::kError;
  i.code = ErrorCode::kRequiredFieldMissing;
  i.where.segment_index = 3;
  i.where.segment_id = "PID";
  i.where.segment_occurrence = 1;
  i.where.field = 3;
  i.where.repetition = 2;
  i.where.component = 4;
  i.where.subcomponent = 1;
  i.why = "assigning authority missing";
  return i;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Original mode

TEST_CASE("ack: original mode AA, sender and receiver swapped, header mirrored") {
  Message original = parsed(kAdt24);
  REQUIRE(ack_mode(original) == AckMode::kOriginal);
  REQUIRE(ack_on_commit(original, AckOutcome::kAccepted) == AckCode::kAA);
  std::string bytes = ack_bytes(original, request(AckCode::kAA));
  CHECK(bytes ==
        "MSH|^~\\&|EPR^1.2.826^ISO|RX1|PAS|RCB|20240102030405+0000||ACK^A01^ACK|ACK0001|P|2.4||||||UNICODE\r"
        "MSA|AA|1391320453338055\r");
  Message ack = parsed(bytes);
  CHECK(ack.text("MSH-3.2") == "1.2.826");  // HD components copied as structure
  CHECK(ack.text("MSH-5") == "PAS");
  CHECK(ack.text("MSH-6") == "RCB");
}

TEST_CASE("ack: original mode AE with v2.4 ERR layout (ERR-1 ELD plus ERR-2..8)") {
  Message original = parsed(kAdt24);
  REQUIRE(ack_on_commit(original, AckOutcome::kError) == AckCode::kAE);
  AckRequest req = request(AckCode::kAE);
  req.text = "message refused";
  req.issues.push_back(deep_issue());
  std::string bytes = ack_bytes(original, req);
  CHECK(bytes ==
        "MSH|^~\\&|EPR^1.2.826^ISO|RX1|PAS|RCB|20240102030405+0000||ACK^A01^ACK|ACK0001|P|2.4||||||UNICODE\r"
        "MSA|AE|1391320453338055|message refused\r"
        "ERR|PID^1^3^101&Required field missing&HL70357|PID^1^3^2^4^1|101^Required field missing^HL70357|E||||"
        "assigning authority missing\r");
  Message ack = parsed(bytes);
  // ERL: segment id ^ sequence ^ field ^ repetition ^ component ^ sub-component.
  CHECK(ack.text("ERR-2.1") == "PID");
  CHECK(ack.text("ERR-2.2") == "1");
  CHECK(ack.text("ERR-2.3") == "3");
  CHECK(ack.text("ERR-2.4") == "2");
  CHECK(ack.text("ERR-2.5") == "4");
  CHECK(ack.text("ERR-2.6") == "1");
  // ELD: the CE code sits in sub-components of the fourth component.
  CHECK(ack.text("ERR-1.4.1") == "101");
  CHECK(ack.text("ERR-1.4.3") == "HL70357");
}

TEST_CASE("ack: original mode AR") {
  Message original = parsed(kAdt24);
  REQUIRE(ack_on_commit(original, AckOutcome::kRejected) == AckCode::kAR);
  AckRequest req = request(AckCode::kAR);
  Issue i;
  i.code = ErrorCode::kUnsupportedEventCode;
  i.where.segment_index = 1;
  i.where.segment_id = "MSH";
  i.where.segment_occurrence = 1;
  i.where.field = 9;
  i.where.component = 2;
  i.why = "A01 is not supported";
  req.issues.push_back(i);
  CHECK(ack_bytes(original, req) ==
        "MSH|^~\\&|EPR^1.2.826^ISO|RX1|PAS|RCB|20240102030405+0000||ACK^A01^ACK|ACK0001|P|2.4||||||UNICODE\r"
        "MSA|AR|1391320453338055\r"
        "ERR|MSH^1^9^201&Unsupported event code&HL70357|MSH^1^9^^2|201^Unsupported event code^HL70357|E||||"
        "A01 is not supported\r");
}

TEST_CASE("ack: v2.5 ERR layout has no ERR-1, one ERR per issue in order") {
  Message original = parsed(kAdt25);
  AckRequest req = request(AckCode::kAE);
  req.issues.push_back(deep_issue());
  Issue w;
  w.severity = Severity::kWarning;
  w.code = ErrorCode::kTableValueNotFound;
  w.where.segment_index = 2;
  w.where.segment_id = "PID";
  w.where.segment_occurrence = 1;
  w.where.field = 8;
  w.why = "sex 2 read as female";
  req.issues.push_back(w);
  Issue whole;  // no location: ERR-2 stays empty
  whole.severity = Severity::kInformation;
  whole.code = ErrorCode::kAccepted;
  whole.why = "note";
  req.issues.push_back(whole);
  CHECK(ack_bytes(original, req) ==
        "MSH|^~\\&|ROUTE|ROUTE|PAS|RCB|20240102030405+0000||ACK^A01^ACK|ACK0001|P|2.5\r"
        "MSA|AE|CTRL-25\r"
        "ERR||PID^1^3^2^4^1|101^Required field missing^HL70357|E||||assigning authority missing\r"
        "ERR||PID^1^8|103^Table value not found^HL70357|W||||sex 2 read as female\r"
        "ERR|||0^Message accepted^HL70357|I||||note\r");
}

TEST_CASE("ack: v2.3 has no message structure in MSH-9, and ERR-1 only ELD layout") {
  Message original = parsed("MSH|^~\\&|PAS|RCB|GW|RCB|2010||ADT^A08|X1|T|2.3\r");
  AckRequest req = request(AckCode::kAE);
  Issue i;
  i.code = ErrorCode::kDataType;
  i.where.segment_index = 1;
  i.where.segment_id = "MSH";
  i.where.segment_occurrence = 1;
  i.where.field = 7;
  i.why = "bad date";
  req.issues.push_back(i);
  CHECK(ack_bytes(original, req) ==
        "MSH|^~\\&|GW|RCB|PAS|RCB|20240102030405+0000||ACK^A08|ACK0001|T|2.3\r"
        "MSA|AE|X1\r"
        "ERR|MSH^1^7^102&Data type error&HL70357|MSH^1^7|102^Data type error^HL70357|E||||bad date\r");
}

TEST_CASE("ack: delimiters, escape character and CR/LF in text are escaped") {
  Message original = parsed(kAdt25);
  AckRequest req = request(AckCode::kAE);
  const std::string nasty = "a|b^c~d\\e&f\r\nline 2 \\F\\";
  req.text = nasty;
  req.timestamp = "2024|01";  // even header values are escaped
  Issue i = deep_issue();
  i.why = nasty;
  req.issues.push_back(i);
  std::string bytes = ack_bytes(original, req);
  CHECK(bytes ==
        "MSH|^~\\&|ROUTE|ROUTE|PAS|RCB|2024\\F\\01||ACK^A01^ACK|ACK0001|P|2.5\r"
        "MSA|AE|CTRL-25|a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\X0D\\\\X0A\\line 2 \\E\\F\\E\\\r"
        "ERR||PID^1^3^2^4^1|101^Required field missing^HL70357|E||||"
        "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\X0D\\\\X0A\\line 2 \\E\\F\\E\\\r");
  Message ack = parsed(bytes);
  CHECK(ack.segment_count() == 3);
  CHECK(ack.text("MSA-3") == nasty);
  CHECK(ack.text("ERR-8") == nasty);
  CHECK(ack.text("MSH-7") == "2024|01");
}

TEST_CASE("ack: non-default delimiters are kept") {
  Message original = parsed("MSH#$%!*#PAS#RCB#GW#RCB#2010##ADT$A01#C!F!1#P#2.4\r");
  AckRequest req = request(AckCode::kAE);
  Issue i = deep_issue();
  i.why = "x#y$z%!*";
  req.issues.push_back(i);
  std::string bytes = ack_bytes(original, req);
  CHECK(bytes ==
        "MSH#$%!*#GW#RCB#PAS#RCB#20240102030405+0000##ACK$A01$ACK#ACK0001#P#2.4\r"
        "MSA#AE#C!F!1\r"
        "ERR#PID$1$3$101*Required field missing*HL70357#PID$1$3$2$4$1#101$Required field missing$HL70357#E####"
        "x!F!y!S!z!R!!E!!T!\r");
  Message ack = parsed(bytes);
  CHECK(ack.delimiters() == original.delimiters());
  CHECK(ack.text("MSA-2") == "C#1");
  CHECK(ack.text("ERR-8") == "x#y$z%!*");
}

TEST_CASE("ack: text is written in the charset MSH-18 declares") {
  Message original = parsed("MSH|^~\\&|PAS|RCB|GW|RCB|2010||ADT^A01|L1|P|2.5|||||GBR|8859/1\r");
  AckRequest req = request(AckCode::kAE);
  req.text = "caf\xC3\xA9 \xE4\xB8\xAD";  // "café 中": é is in Latin-1, 中 is not
  std::string bytes = ack_bytes(original, req);
  CHECK(bytes ==
        "MSH|^~\\&|GW|RCB|PAS|RCB|20240102030405+0000||ACK^A01^ACK|ACK0001|P|2.5||||||8859/1\r"
        "MSA|AE|L1|caf\xE9 ?\r");
  CHECK(parsed(bytes).text("MSA-3") == "caf\xC3\xA9 ?");
}

TEST_CASE("ack: a missing trigger or control id leaves the field empty, not refused") {
  Message original = parsed("MSH|^~\\&|A|B\r");
  std::string bytes = ack_bytes(original, request(AckCode::kAA));
  CHECK(bytes == "MSH|^~\\&|||A|B|20240102030405+0000||ACK^^ACK|ACK0001\rMSA|AA\r");
}

// ---------------------------------------------------------------------------------------------
// Enhanced mode

TEST_CASE("ack: enhanced mode is chosen by MSH-15 or MSH-16") {
  CHECK(ack_mode(parsed(enhanced("AL", ""))) == AckMode::kEnhanced);
  CHECK(ack_mode(parsed(enhanced("", "NE"))) == AckMode::kEnhanced);
  CHECK(ack_mode(parsed(enhanced("", ""))) == AckMode::kOriginal);
  CHECK(ack_mode(parsed(enhanced("\"\"", " "))) == AckMode::kOriginal);  // HL7 null, blank
}

TEST_CASE("ack: table 0155 conditions") {
  CHECK(ack_condition("AL") == AckCondition::kAlways);
  CHECK(ack_condition("NE") == AckCondition::kNever);
  CHECK(ack_condition("er") == AckCondition::kErrorOnly);
  CHECK(ack_condition(" SU ") == AckCondition::kSuccessOnly);
  CHECK(ack_condition("") == AckCondition::kAlways);
  CHECK(ack_condition("XX") == AckCondition::kAlways);
}

TEST_CASE("ack: accept acknowledgement due per MSH-15") {
  struct Row {
    const char* msh15;
    AckOutcome outcome;
    std::optional<AckCode> expected;
  };
  const Row rows[] = {
      {"AL", AckOutcome::kAccepted, AckCode::kCA}, {"AL", AckOutcome::kError, AckCode::kCE},
      {"AL", AckOutcome::kRejected, AckCode::kCR}, {"NE", AckOutcome::kAccepted, std::nullopt},
      {"NE", AckOutcome::kError, std::nullopt},    {"NE", AckOutcome::kRejected, std::nullopt},
      {"ER", AckOutcome::kAccepted, std::nullopt}, {"ER", AckOutcome::kError, AckCode::kCE},
      {"ER", AckOutcome::kRejected, AckCode::kCR}, {"SU", AckOutcome::kAccepted, AckCode::kCA},
      {"SU", AckOutcome::kError, std::nullopt},    {"SU", AckOutcome::kRejected, std::nullopt},
  };
  for (const Row& r : rows) {
    INFO("MSH-15 " << r.msh15 << " outcome " << static_cast<int>(r.outcome));
    Message m = parsed(enhanced(r.msh15, "AL"));
    CHECK(accept_ack_due(m, r.outcome) == r.expected);
    CHECK(ack_on_commit(m, r.outcome) == r.expected);
  }
  // MSH-16 valued, MSH-15 empty: still enhanced; an empty MSH-15 reads as AL.
  CHECK(accept_ack_due(parsed(enhanced("", "AL")), AckOutcome::kAccepted) == AckCode::kCA);
  // Original mode has no accept acknowledgement at all.
  CHECK(accept_ack_due(parsed(kAdt24), AckOutcome::kAccepted) == std::nullopt);
}

TEST_CASE("ack: application acknowledgement due per MSH-16 in enhanced mode, always in original") {
  CHECK(application_ack_due(parsed(enhanced("AL", "NE")), AckOutcome::kAccepted) == std::nullopt);
  CHECK(application_ack_due(parsed(enhanced("AL", "AL")), AckOutcome::kAccepted) == AckCode::kAA);
  CHECK(application_ack_due(parsed(enhanced("AL", "ER")), AckOutcome::kAccepted) == std::nullopt);
  CHECK(application_ack_due(parsed(enhanced("AL", "ER")), AckOutcome::kError) == AckCode::kAE);
  CHECK(application_ack_due(parsed(enhanced("AL", "SU")), AckOutcome::kRejected) == std::nullopt);
  CHECK(application_ack_due(parsed(enhanced("AL", "SU")), AckOutcome::kAccepted) == AckCode::kAA);
  for (AckOutcome o : {AckOutcome::kAccepted, AckOutcome::kError, AckOutcome::kRejected})
    CHECK(application_ack_due(parsed(kAdt24), o).has_value());
  CHECK(application_ack_due(parsed(kAdt24), AckOutcome::kRejected) == AckCode::kAR);
}

TEST_CASE("ack: enhanced mode CA, CE, CR bytes") {
  Message original = parsed(enhanced("AL", "NE"));
  const char* header = "MSH|^~\\&|GW|RCB|LAB|RCB|20240102030405+0000||ACK^R01^ACK|ACK0001|P|2.5.1\r";
  CHECK(ack_bytes(original, request(AckCode::kCA)) == std::string(header) + "MSA|CA|MSG42\r");

  AckRequest ce = request(AckCode::kCE);
  ce.issues.push_back(deep_issue());
  CHECK(ack_bytes(original, ce) ==
        std::string(header) +
            "MSA|CE|MSG42\r"
            "ERR||PID^1^3^2^4^1|101^Required field missing^HL70357|E||||assigning authority missing\r");

  AckRequest cr = request(AckCode::kCR);
  Issue v;
  v.code = ErrorCode::kUnsupportedVersionId;
  v.where.segment_index = 1;
  v.where.segment_id = "MSH";
  v.where.segment_occurrence = 1;
  v.where.field = 12;
  v.why = "version 2.5.1 is not accepted on this route";
  cr.issues.push_back(v);
  CHECK(ack_bytes(original, cr) ==
        std::string(header) +
            "MSA|CR|MSG42\r"
            "ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||version 2.5.1 is not accepted on this route\r");
}

TEST_CASE("ack: outcome_of an issue list") {
  Issues none;
  CHECK(outcome_of(none) == AckOutcome::kAccepted);
  Issue w;
  w.severity = Severity::kWarning;
  w.code = ErrorCode::kUnsupportedVersionId;  // only errors count
  CHECK(outcome_of({w}) == AckOutcome::kAccepted);
  Issue e;
  e.severity = Severity::kError;
  e.code = ErrorCode::kDataType;
  CHECK(outcome_of({w, e}) == AckOutcome::kError);
  Issue r = e;
  r.code = ErrorCode::kUnsupportedMessageType;
  CHECK(outcome_of({e, r}) == AckOutcome::kRejected);
  r.code = ErrorCode::kApplicationInternalError;
  CHECK(outcome_of({r}) == AckOutcome::kRejected);
}

// ---------------------------------------------------------------------------------------------
// Bytes that did not parse

namespace {

// Checks the contract of a salvage ACK: parse fails on `bytes`, the ACK re-parses, and MSA-2
// is what could be salvaged of MSH-10. Returns the ACK bytes.
std::string salvage_bytes(const std::string& bytes, std::string_view expected_msa2) {
  auto m = Message::parse(bytes);
  REQUIRE_FALSE(m.ok());
  auto ack = build_salvage_ack(bytes, m.error(), kTs, "ACK0001");
  REQUIRE(ack.ok());
  std::string out = ack->encode();
  auto again = Message::parse(out);
  REQUIRE(again.ok());
  CHECK(again->text("MSA-2") == expected_msa2);
  CHECK(again->text("ERR-8") == m.error().why);
  return out;
}

}  // namespace

TEST_CASE("ack: salvage ACK for garbage with no MSH") {
  std::string out = salvage_bytes("garbage\r", "");
  CHECK(out ==
        "MSH|^~\\&|||||20240102030405+0000||ACK^^ACK|ACK0001|P|2.4\r"
        "MSA|AR||the message must start with an MSH segment, found \"gar\"\r"
        "ERR|^^^100&Segment sequence error&HL70357||100^Segment sequence error^HL70357|E||||"
        "the message must start with an MSH segment, found \"gar\"\r");
}

TEST_CASE("ack: salvage ACK for empty input") {
  std::string out = salvage_bytes("", "");
  CHECK(out.starts_with("MSH|^~\\&|||||20240102030405+0000||ACK^^ACK|ACK0001|P|2.4\rMSA|AR||"));
}

TEST_CASE("ack: salvage ACK after leading garbage keeps the header, swaps, echoes MSH-10") {
  std::string bytes = "\x0b\xEF\xBB\xBFMSH|^~\\&|LAB|RCB^X|GW|RCB|2024||ORU^R01^ORU_R01|CTRL\\F\\1|P|2.5.1\rPID|1\r";
  std::string out = salvage_bytes(bytes, "CTRL|1");
  CHECK(out ==
        "MSH|^~\\&|GW|RCB|LAB|RCB^X|20240102030405+0000||ACK^R01^ACK|ACK0001|P|2.5.1\r"
        "MSA|AR|CTRL\\F\\1|the message must start with an MSH segment, found \"???\"\r"
        "ERR|||100^Segment sequence error^HL70357|E||||"
        "the message must start with an MSH segment, found \"???\"\r");
}

TEST_CASE("ack: salvage ACK is CR when enhanced mode shows, even with MSH-15 NE") {
  std::string bytes = "\x0bMSH|^~\\&|LAB|RCB|GW|RCB|2024||ORU^R01|C7|P|2.5|||NE|AL\r";
  std::string out = salvage_bytes(bytes, "C7");
  CHECK(out.starts_with("MSH|^~\\&|GW|RCB|LAB|RCB|20240102030405+0000||ACK^R01^ACK|ACK0001|P|2.5\rMSA|CR|C7|"));
}

TEST_CASE("ack: salvage ACK for a bad MSH-2 uses default delimiters and keeps values as text") {
  // Three encoding characters: parse refuses it, so the component structure is unknown.
  std::string bytes = "MSH|^~\\|LAB^1|RCB|GW|RCB|2024||ORU^R01|C^8|D|2.4\r";
  std::string out = salvage_bytes(bytes, "C^8");
  CHECK(out.starts_with("MSH|^~\\&|GW|RCB|LAB\\S\\1|RCB|20240102030405+0000||ACK^^ACK|ACK0001|D|2.4\r"
                        "MSA|AR|C\\S\\8|MSH-2 must hold 4 encoding characters"));
  CHECK(out.find("\rERR|MSH^1^2^102&Data type error&HL70357|MSH^1^2|102^Data type error^HL70357|E||||") !=
        std::string::npos);
}

TEST_CASE("ack: salvage replaces control and non-ASCII bytes, and caps field length") {
  std::string long_id(500, '7');
  std::string bytes = "\x0bMSH|^~\\&|L\x1c\xC3\xA9|F|G|H|2024||ADT^A01|" + long_id + "|P|2.4\r";
  std::string out = salvage_bytes(bytes, std::string(SalvagedHeader::kMaxSalvagedField, '7'));
  CHECK(out.starts_with("MSH|^~\\&|G|H|L???|F|"));
  CHECK(out.find('\x1c') == std::string::npos);
}

TEST_CASE("ack: salvage_header reads what it can") {
  SalvagedHeader h = salvage_header("junk MSH#$%!*#A#B#C#D#T##ADT$A01#ID9#P#2.3.1###AL#NE");
  CHECK(h.msh_found);
  CHECK(h.delimiters_read);
  CHECK(h.delimiters.field == '#');
  CHECK(h.delimiters.escape == '!');
  CHECK(h.sending_application == "A");
  CHECK(h.receiving_facility == "D");
  CHECK(h.message_type == "ADT$A01");
  CHECK(h.control_id == "ID9");
  CHECK(h.version == "2.3.1");
  CHECK(h.accept_ack_type == "AL");
  CHECK(h.application_ack_type == "NE");

  SalvagedHeader none = salvage_header("nothing here");
  CHECK_FALSE(none.msh_found);
  CHECK(none.delimiters == Delimiters{});

  SalvagedHeader bad_fs = salvage_header("MSHA^~\\&A");
  CHECK(bad_fs.msh_found);
  CHECK_FALSE(bad_fs.delimiters_read);
  CHECK(bad_fs.control_id.empty());
}

TEST_CASE("ack: hl7_timestamp is UTC with an explicit offset") {
  using namespace std::chrono;
  CHECK(hl7_timestamp(system_clock::time_point{}) == "19700101000000+0000");
  const auto t = sys_days{year{2024} / 10 / 27} + hours{1} + minutes{30} + seconds{5};
  CHECK(hl7_timestamp(t) == "20241027013005+0000");
  CHECK(hl7_timestamp_now().size() == 19);
}

TEST_CASE("ack: every corpus file gets an ACK that re-parses and echoes its control id") {
  namespace fs = std::filesystem;
  for (const char* sub : {"hl7v2", "hl7v2-raw"}) {
    const fs::path dir = fs::path(MIDHURST_CORPUS_DIR) / sub;
    if (!fs::exists(dir)) {
      WARN("corpus not found at " << dir.string());
      continue;
    }
    int built = 0, salvaged = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      const std::string bytes = ss.str();
      INFO(entry.path().filename().string());
      auto m = Message::parse(bytes);
      if (m.ok()) {
        AckRequest req = request(AckCode::kAE);
        req.issues.push_back(deep_issue());
        auto ack = build_ack(*m, req);
        REQUIRE(ack.ok());
        auto again = Message::parse(ack->encode());
        REQUIRE(again.ok());
        CHECK(again->text("MSA-2") == m->text("MSH-10"));
        CHECK(again->text("MSH-5") == m->text("MSH-3"));
        CHECK(again->text("MSH-4") == m->text("MSH-6"));
        CHECK(again->text("ERR-8") == "assigning authority missing");
        ++built;
      } else {
        // Batches (FHS first), byte-order marks and malformed files: a salvage ACK.
        auto ack = build_salvage_ack(bytes, m.error(), kTs, "ACK0001");
        REQUIRE(ack.ok());
        auto again = Message::parse(ack->encode());
        REQUIRE(again.ok());
        CHECK((again->text("MSA-1") == "AR" || again->text("MSA-1") == "CR"));
        CHECK(again->text("MSA-2") == salvage_header(bytes).control_id);
        ++salvaged;
      }
    }
    CHECK(built > 0);
    CHECK(built + salvaged > 0);
  }
}

// ---------------------------------------------------------------------------------------------
// build_ack_text: the one-buffer ACK must be byte for byte the ACK build_ack gives.

namespace {

// Every request shape the ingest sends, plus delimiters and non-ASCII in the text.
std::vector<AckRequest> text_requests() {
  std::vector<AckRequest> out;
  for (AckCode code : {AckCode::kAA, AckCode::kAE, AckCode::kAR, AckCode::kCA, AckCode::kCR}) {
    AckRequest r = request(code);
    out.push_back(r);
    r.text = "duplicate of an accepted message";
    out.push_back(r);
    r.text = "PID-3: a | b ^ c ~ d \\ e & f\rg";
    out.push_back(r);
    r.text = "Testpati\xC3\xABnt refused";  // non-ASCII: the general path
    out.push_back(r);
    r.text = "";
    r.control_id = "";
    r.timestamp = "";
    out.push_back(r);
    r = request(code);
    r.issues.push_back(deep_issue());  // ERR: the general path
    out.push_back(r);
  }
  return out;
}

void check_text_matches(const Message& original) {
  for (const AckRequest& r : text_requests()) {
    auto slow = build_ack(original, r);
    auto fast = build_ack_text(original, r);
    REQUIRE(slow.ok() == fast.ok());
    if (slow.ok()) CHECK(*fast == slow->encode());
  }
}

}  // namespace

TEST_CASE("ack: build_ack_text gives build_ack's bytes for the headers of these tests") {
  for (const std::string& bytes :
       {std::string(kAdt24), std::string(kAdt25), enhanced("AL", "NE"), enhanced("", "AL"),
        std::string("MSH|^~\\&|A|B|C|D|20240101||ADT^A08|X1|P|2.3\rPID|1\r"),
        std::string("MSH|^~\\&|A|B|C|D|20240101||ADT|X1|P|2.3.1\rPID|1\r"),
        std::string("MSH|^~\\&|A|B|||20240101||ADT\r"),
        std::string("MSH#$%*@#A#B#C#D#20240101##ADT$A01$ACK#X#P#2.5.1######8859/1\rPID#1\r"),
        std::string("MSH|^~\\&#|A\\F\\x|B&c|C|D|20240101||ADT^A01&z^ADT_A01|X\\S\\1|P^T|2.7|||||UNICODE UTF-8~8859/1\r"),
        std::string("MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X|P|2.4||||||UNICODE UTF-16\r")}) {
    INFO(bytes);
    check_text_matches(parsed(bytes));
  }
}

TEST_CASE("ack: build_ack_text gives build_ack's bytes for every corpus message") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MIDHURST_CORPUS_DIR) / "hl7v2";
  if (!fs::exists(dir)) {
    WARN("corpus not found at " << dir.string());
    return;
  }
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".hl7") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = Message::parse(ss.str());
    if (!m.ok()) continue;
    INFO(entry.path().filename().string());
    check_text_matches(*m);
    ++checked;
  }
  CHECK(checked > 100);
}
