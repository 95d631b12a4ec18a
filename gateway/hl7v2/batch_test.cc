#include "hl7v2/batch.h"

#include <catch2/catch.hpp>
#include <deque>
#include <string>

#include "hl7v2/message.h"

using namespace midhurst::hl7v2;

namespace {

const std::string kMsg1 = "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|M1|P|2.4\rPID|1||111\r";
const std::string kMsg2 = "MSH|^~\\&|A|B|C|D|20240101||ADT^A08|M2|P|2.4\rPID|1||222\rPV1|1|I\r";
const std::string kFhs = "FHS|^~\\&|A|B|C|D|20240101||file.hl7\r";
const std::string kBhs = "BHS|^~\\&|A|B|C|D|20240101||||batch-1\r";

// split_batch() on bytes kept alive until the end of the run, since its views borrow them
// (most tests build their input as a temporary).
BatchFile split(std::string bytes) {
  static std::deque<std::string> keep;  // a deque never moves its elements
  keep.push_back(std::move(bytes));
  return split_batch(keep.back());
}

// The one framing error of a split that must fail.
const Issue& only_issue(const BatchFile& f) {
  REQUIRE(f.issues.size() == 1);
  return f.issues[0];
}

void require_framing_error(const BatchFile& f, uint32_t segment_index, const std::string& id) {
  CHECK_FALSE(f.ok());
  CHECK_FALSE(f.complete);
  const Issue& e = only_issue(f);
  CHECK(e.severity == Severity::kError);
  CHECK(e.code == ErrorCode::kSegmentSequence);
  CHECK(e.where.segment_index == segment_index);
  CHECK(e.where.segment_id == id);
  CHECK(e.where.field == 0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Accepted shapes

TEST_CASE("batch: a single message is one implicit batch") {
  BatchFile f = split_batch(kMsg1);
  CHECK(f.ok());
  CHECK(f.complete);
  CHECK_FALSE(f.header);
  CHECK_FALSE(f.trailer);
  REQUIRE(f.batches.size() == 1);
  CHECK_FALSE(f.batches[0].header);
  CHECK_FALSE(f.batches[0].trailer);
  REQUIRE(f.message_count() == 1);
  const MessageSpan& m = f.batches[0].messages[0];
  // The final terminator is not part of the message.
  CHECK(m.bytes == kMsg1.substr(0, kMsg1.size() - 1));
  CHECK(m.segment_index == 1);
  CHECK(m.segment_count == 2);
  CHECK(m.line == 1);
  CHECK(m.byte_offset == 0);
  // The views borrow the input.
  CHECK(m.bytes.data() == kMsg1.data());
}

TEST_CASE("batch: a message without a final terminator") {
  BatchFile f = split("MSH|^~\\&|A||||||ADT^A01|1|P|2.4\rPID|1");
  REQUIRE(f.message_count() == 1);
  CHECK(f.messages()[0].bytes == "MSH|^~\\&|A||||||ADT^A01|1|P|2.4\rPID|1");
}

TEST_CASE("batch: concatenated messages with \\n, \\r\\n and empty lines") {
  const std::string bytes = "\r\nMSH|^~\\&|A||||||ADT^A01|1|P|2.4\r\nPID|1\r\n\r\nMSH|^~\\&|A||||||ADT^A01|2|P|2.4\nPID|2\n\n";
  BatchFile f = split(bytes);
  CHECK(f.ok());
  REQUIRE(f.batches.size() == 1);
  auto msgs = f.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].bytes == "MSH|^~\\&|A||||||ADT^A01|1|P|2.4\r\nPID|1");
  CHECK(msgs[0].segment_index == 1);
  CHECK(msgs[0].line == 2);
  CHECK(msgs[0].byte_offset == 2);
  CHECK(msgs[1].bytes == "MSH|^~\\&|A||||||ADT^A01|2|P|2.4\nPID|2");
  CHECK(msgs[1].segment_index == 3);  // empty lines are not segments
  CHECK(msgs[1].line == 5);
  // Each message parses on its own, with the same segments as Message sees.
  auto parsed = Message::parse(std::string(msgs[1].bytes));
  REQUIRE(parsed.ok());
  CHECK(parsed->segment_count() == msgs[1].segment_count);
  CHECK(parsed->text("PID-1") == "2");
}

TEST_CASE("batch: a leading UTF-8 byte-order mark is skipped") {
  const std::string bytes = "\xEF\xBB\xBF" + kMsg1;
  BatchFile f = split(bytes);
  CHECK(f.ok());
  REQUIRE(f.message_count() == 1);
  CHECK(f.messages()[0].byte_offset == 3);
  CHECK(f.messages()[0].bytes.substr(0, 3) == "MSH");
  CHECK(skip_bom(bytes) == kMsg1);
  CHECK(skip_bom(kMsg1) == kMsg1);
}

TEST_CASE("batch: a full FHS/BHS/BTS/FTS file") {
  const std::string bytes = kFhs + kBhs + kMsg1 + kMsg2 + "BTS|2\r" + "BHS|^~\\&|A\r" + kMsg1 + "BTS|1|note\r" + "FTS|2\r";
  BatchFile f = split(bytes);
  CHECK(f.issues.empty());
  CHECK(f.complete);
  REQUIRE(f.header);
  CHECK(f.header->id() == "FHS");
  CHECK(f.header->segment_index == 1);
  CHECK(f.header->field(1) == "|");
  CHECK(f.header->field(2) == "^~\\&");
  CHECK(f.header->field(3) == "A");
  CHECK(f.header->field(9) == "file.hl7");
  CHECK(f.header->field(10).empty());
  REQUIRE(f.trailer);
  CHECK(f.trailer->field(1) == "2");
  CHECK(f.trailer->segment_index == 13);
  REQUIRE(f.batches.size() == 2);
  const Batch& b1 = f.batches[0];
  REQUIRE(b1.header);
  CHECK(b1.header->field(11) == "batch-1");
  CHECK(b1.header->segment_index == 2);
  REQUIRE(b1.trailer);
  CHECK(b1.trailer->raw == "BTS|2");
  REQUIRE(b1.messages.size() == 2);
  CHECK(b1.messages[0].segment_index == 3);
  CHECK(b1.messages[1].segment_index == 5);
  CHECK(b1.messages[1].segment_count == 3);
  CHECK(b1.messages[1].bytes == kMsg2.substr(0, kMsg2.size() - 1));
  const Batch& b2 = f.batches[1];
  REQUIRE(b2.trailer);
  CHECK(b2.trailer->field(2) == "note");
  CHECK(b2.messages.size() == 1);
  CHECK(f.message_count() == 3);
}

TEST_CASE("batch: envelope delimiters come from BHS-1/2 and serve its BTS") {
  const std::string bytes = "BHS#$*!@#A#B\r" + kMsg1 + "BTS#1$x#y\r";
  BatchFile f = split(bytes);
  CHECK(f.issues.empty());
  REQUIRE(f.batches.size() == 1);
  const Batch& b = f.batches[0];
  REQUIRE(b.header);
  CHECK(b.header->delimiters.field == '#');
  CHECK(b.header->delimiters.component == '$');
  CHECK(b.header->delimiters.repetition == '*');
  CHECK(b.header->delimiters.escape == '!');
  CHECK(b.header->delimiters.subcomponent == '@');
  CHECK(b.header->field(3) == "A");
  REQUIRE(b.trailer);
  CHECK(b.trailer->delimiters == b.header->delimiters);
  CHECK(b.trailer->field(1) == "1$x");
  CHECK(b.trailer->component(1, 1) == "1");
  CHECK(b.trailer->component(1, 2) == "x");
  CHECK(b.trailer->field(2) == "y");
}

TEST_CASE("batch: lenient: a BHS without BTS ends with the file") {
  BatchFile f = split(kBhs + kMsg1 + kMsg2);
  CHECK(f.issues.empty());
  REQUIRE(f.batches.size() == 1);
  CHECK(f.batches[0].header);
  CHECK_FALSE(f.batches[0].trailer);
  CHECK(f.batches[0].messages.size() == 2);
}

TEST_CASE("batch: lenient: a BTS without BHS closes the implicit batch") {
  BatchFile f = split(kMsg1 + kMsg2 + "BTS|2\r");
  CHECK(f.issues.empty());
  REQUIRE(f.batches.size() == 1);
  CHECK_FALSE(f.batches[0].header);
  CHECK(f.batches[0].trailer);
  CHECK(f.batches[0].messages.size() == 2);
}

TEST_CASE("batch: lenient: an FTS without FHS, and a batch without BTS closed by the FTS") {
  BatchFile f = split(kBhs + kMsg1 + "FTS|1\r");
  CHECK(f.issues.empty());
  CHECK_FALSE(f.header);
  REQUIRE(f.trailer);
  REQUIRE(f.batches.size() == 1);
  CHECK_FALSE(f.batches[0].trailer);
}

TEST_CASE("batch: lenient: an FHS file with no BHS holds one implicit batch") {
  BatchFile f = split(kFhs + kMsg1 + kMsg2 + "FTS|1\r");
  CHECK(f.issues.empty());
  REQUIRE(f.batches.size() == 1);
  CHECK(f.message_count() == 2);
}

TEST_CASE("batch: lenient: messages after a BTS form a new implicit batch") {
  BatchFile f = split(kBhs + kMsg1 + "BTS|1\r" + kMsg2 + "FTS|2\r");
  CHECK(f.issues.empty());
  REQUIRE(f.batches.size() == 2);
  CHECK(f.batches[0].header);
  CHECK_FALSE(f.batches[1].header);
  CHECK(f.batches[1].messages.size() == 1);
}

TEST_CASE("batch: lenient: an empty batch and an empty count") {
  BatchFile f = split(kFhs + "BHS|^~\\&\rBTS|0\rBHS|^~\\&\rBTS\rFTS|\r");
  CHECK(f.issues.empty());
  CHECK(f.batches.size() == 2);
  CHECK(f.message_count() == 0);
}

TEST_CASE("batch: MessageSpan::to_file shifts message locations into the file") {
  const std::string file = "\xEF\xBB\xBF" + kFhs + kBhs + kMsg1 + kMsg2;
  BatchFile f = split_batch(file);
  REQUIRE(f.message_count() == 2);
  const MessageSpan m = f.messages()[1];
  CHECK(m.segment_index == 5);
  auto parsed = Message::parse(std::string(m.bytes));
  REQUIRE(parsed.ok());
  const Location pv1 = parsed->get("PV1-2").location();
  REQUIRE(pv1.segment_index == 3);
  const Location in_file = m.to_file(pv1);
  CHECK(in_file.segment_index == 7);
  CHECK(in_file.segment_id == "PV1");
  CHECK(in_file.field == 2);
  REQUIRE(in_file.byte_offset >= 0);
  CHECK(file.substr(static_cast<size_t>(in_file.byte_offset), 2) == "I\r");
  const Location whole = m.to_file(Location{});
  CHECK(whole.segment_index == 5);
  CHECK(whole.segment_id == "MSH");
  CHECK(whole.byte_offset == static_cast<int64_t>(m.byte_offset));
}

// ---------------------------------------------------------------------------------------------
// Framing errors: one test per malformed shape (splitting stops at the first)

TEST_CASE("batch: error: a segment before any MSH at the start of the file") {
  BatchFile f = split("EVN|A01\r" + kMsg1);
  require_framing_error(f, 1, "EVN");
  CHECK(f.issues[0].why.find("before any MSH") != std::string::npos);
  CHECK(f.message_count() == 0);
}

TEST_CASE("batch: error: a segment before any MSH inside a batch") {
  BatchFile f = split(kFhs + kBhs + "EVN|A01\r" + kMsg1 + "BTS|1\rFTS|1\r");
  require_framing_error(f, 3, "EVN");
  CHECK(f.issues[0].why.find("BHS, segment 2") != std::string::npos);
  CHECK(f.issues[0].where.byte_offset == static_cast<int64_t>(kFhs.size() + kBhs.size()));
}

TEST_CASE("batch: error: a segment right after the FHS") {
  BatchFile f = split(kFhs + "PID|1\r" + kMsg1);
  require_framing_error(f, 2, "PID");
  CHECK(f.issues[0].why.find("FHS, segment 1") != std::string::npos);
}

TEST_CASE("batch: error: a segment after a BTS and before the next MSH") {
  BatchFile f = split(kBhs + kMsg1 + "BTS|1\rNTE|1\r");
  require_framing_error(f, 5, "NTE");
  CHECK(f.issues[0].why.find("after the BTS at segment 4") != std::string::npos);
  // The message completed before the error is kept.
  CHECK(f.message_count() == 1);
}

TEST_CASE("batch: error: a BHS while a batch is open") {
  BatchFile f = split(kBhs + kMsg1 + kBhs + kMsg2 + "BTS|1\r");
  require_framing_error(f, 4, "BHS");
  CHECK(f.issues[0].where.segment_occurrence == 2);
  CHECK(f.issues[0].why.find("opened by the BHS at segment 1 is still open") != std::string::npos);
  // The message the BHS interrupted may be cut short, so it is dropped.
  CHECK(f.message_count() == 0);
}

TEST_CASE("batch: error: an FHS that is not the first segment") {
  BatchFile f = split(kMsg1 + kFhs);
  require_framing_error(f, 3, "FHS");
  CHECK(f.issues[0].why == "FHS must be the first segment of the file");
}

TEST_CASE("batch: error: a second FHS") {
  BatchFile f = split(kFhs + kMsg1 + kFhs + kMsg2);
  require_framing_error(f, 4, "FHS");
  CHECK(f.issues[0].why.find("second FHS") != std::string::npos);
}

TEST_CASE("batch: error: a second BTS for the same batch") {
  BatchFile f = split(kBhs + kMsg1 + "BTS|1\rBTS|1\r");
  require_framing_error(f, 5, "BTS");
  CHECK(f.issues[0].why.find("already closed by the BTS at segment 4") != std::string::npos);
}

TEST_CASE("batch: error: a second FTS") {
  BatchFile f = split(kMsg1 + "FTS|1\rFTS|1\r");
  require_framing_error(f, 4, "FTS");
}

TEST_CASE("batch: error: a message after the FTS") {
  BatchFile f = split(kMsg1 + "FTS|1\r" + kMsg2);
  require_framing_error(f, 4, "MSH");
  CHECK(f.issues[0].why.find("after the FTS at segment 3") != std::string::npos);
  CHECK(f.message_count() == 1);
}

TEST_CASE("batch: error: an empty file") {
  for (const std::string& bytes : {std::string(), std::string("\xEF\xBB\xBF"), std::string("\r\n\r\n")}) {
    BatchFile f = split(bytes);
    CHECK_FALSE(f.ok());
    CHECK_FALSE(f.complete);
    REQUIRE(f.issues.size() == 1);
    CHECK(f.issues[0].where.segment_index == 0);
    CHECK(f.issues[0].why.find("no segment") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Count and envelope errors: reported, splitting goes on

TEST_CASE("batch: error: BTS-1 disagrees with the batch's messages") {
  BatchFile f = split(kBhs + kMsg1 + kMsg2 + "BTS|3\rFTS|1\r");
  CHECK(f.complete);
  CHECK(f.message_count() == 2);
  const Issue& e = only_issue(f);
  CHECK(e.code == ErrorCode::kSegmentSequence);
  CHECK(e.where.segment_index == 7);
  CHECK(e.where.segment_id == "BTS");
  CHECK(e.where.field == 1);
  CHECK(e.why == "BTS-1 (batch message count) says 3 but the batch holds 2 messages");
}

TEST_CASE("batch: error: FTS-1 disagrees with the file's batches") {
  BatchFile f = split(kFhs + kBhs + kMsg1 + "BTS|1\rFTS|2\r");
  CHECK(f.complete);
  const Issue& e = only_issue(f);
  CHECK(e.where.segment_index == 6);
  CHECK(e.where.segment_id == "FTS");
  CHECK(e.where.field == 1);
  CHECK(e.why == "FTS-1 (file batch count) says 2 but the file holds 1 batch");
}

TEST_CASE("batch: error: BTS-1 is not a number") {
  BatchFile f = split(kMsg1 + "BTS|two\r");
  const Issue& e = only_issue(f);
  CHECK(e.code == ErrorCode::kDataType);
  CHECK(e.where.segment_id == "BTS");
  CHECK(e.where.field == 1);
  CHECK(e.where.byte_offset == static_cast<int64_t>(kMsg1.size() + 4));
}

TEST_CASE("batch: error: bad BHS-2 encoding characters") {
  BatchFile f = split("BHS|^~\r" + kMsg1 + "BTS|1\r");
  CHECK(f.complete);
  CHECK(f.message_count() == 1);
  const Issue& e = only_issue(f);
  CHECK(e.code == ErrorCode::kDataType);
  CHECK(e.where.segment_index == 1);
  CHECK(e.where.segment_id == "BHS");
  CHECK(e.where.field == 2);
}

TEST_CASE("batch: error: bad FHS-1 field separator") {
  BatchFile f = split("FHSX^~\\&\r" + kMsg1);
  const Issue& e = only_issue(f);
  CHECK(e.where.segment_id == "FHS");
  CHECK(e.where.field == 1);
  CHECK(f.message_count() == 1);
}

TEST_CASE("batch: a line starting with MSH always opens a message, for parse() to judge") {
  BatchFile f = split(kMsg1 + "MSH^~\r");
  CHECK(f.ok());
  REQUIRE(f.message_count() == 2);
  auto parsed = Message::parse(std::string(f.messages()[1].bytes));
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().where.field == 2);
}
