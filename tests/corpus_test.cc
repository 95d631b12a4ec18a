// The shared corpus (../shared/corpus, see its README.md and SOURCES.md) through the HL7v2
// toolkit: every file is split, every message parsed and re-encoded byte for byte; the files
// known to be malformed fail where they should; files with unusual charsets, delimiters, line
// endings or byte-order marks read the values they hold.
//
// MIDHURST_CORPUS_DIR is set by the build; a corpus that is missing or cut short fails the
// "present" test rather than letting the loops pass over nothing.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hl7v2/batch.h"
#include "hl7v2/message.h"
#include "hl7v2/validate.h"

using namespace midhurst::hl7v2;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = MIDHURST_CORPUS_DIR;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The files of hl7v2/ or hl7v2-raw/, as "hl7v2/name.hl7", sorted.
std::vector<std::string> files_in(const std::string& sub) {
  std::vector<std::string> names;
  if (!fs::is_directory(kCorpus / sub)) return names;
  for (const auto& entry : fs::directory_iterator(kCorpus / sub))
    if (entry.is_regular_file()) names.push_back(sub + "/" + entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> all_files() {
  std::vector<std::string> names = files_in("hl7v2");
  for (std::string& n : files_in("hl7v2-raw")) names.push_back(std::move(n));
  return names;
}

// The segments of `bytes` (split on \r, \n and \r\n, empty lines dropped), each ended by \r:
// what Message::encode() must give for a message read from those bytes.
std::string normalised(std::string_view bytes) {
  std::string out;
  size_t pos = 0;
  while (pos <= bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = bytes.size();
    if (end > pos) {
      out.append(bytes.substr(pos, end - pos));
      out.push_back('\r');
    }
    pos = end + 1;
  }
  return out;
}

// Files that must fail, each asserted in its own TEST_CASE below. All but the lfh ones are
// flagged "malformed" in SOURCES.md; the lfh__sample files are not flagged there, but their
// MSH-2 is "^~\\&" (the escape character doubled, as a string literal would write it), which
// the parser refuses (see "lfh__sample ... doubled escape character" below).
const std::set<std::string> kMalformed = {
    "hl7v2/hapi__messages_04.hl7",        "hl7v2/pyhl7__sample_bad_batch.hl7",
    "hl7v2/pyhl7__sample_bad_batch1.hl7", "hl7v2/pyhl7__sample_bad_file.hl7",
    "hl7v2/pyhl7__sample_bad_file1.hl7",  "hl7v2/pyhl7__sample_bad_file2.hl7",
    "hl7v2/pyhl7__sample_bad_file3.hl7",  "hl7v2/lfh__sample_unix.hl7",
    "hl7v2/lfh__sample_win.hl7",          "hl7v2-raw/lfh__sample_unix.hl7",
    "hl7v2-raw/lfh__sample_win.hl7",
};

// A corpus file split and every message parsed; REQUIREs that all of it succeeds.
struct Loaded {
  std::unique_ptr<const std::string> bytes;  // on the heap so the views stay put when moved
  BatchFile file;
  std::vector<Message> messages;
};

Loaded load(const std::string& name) {
  Loaded l;
  l.bytes = std::make_unique<const std::string>(read_file(kCorpus / name));
  l.file = split_batch(*l.bytes);
  std::string issues;
  for (const Issue& i : l.file.issues) issues += i.to_string() + "\n";
  INFO(name << "\n" << issues);
  REQUIRE(l.file.ok());
  REQUIRE(l.file.complete);
  for (const MessageSpan& span : l.file.messages()) {
    auto m = Message::parse(std::string(span.bytes));
    if (!m.ok()) FAIL("message at segment " << span.segment_index << ": " << m.error().to_string());
    l.messages.push_back(std::move(m.value()));
  }
  return l;
}

// The framing error of a malformed batch file: splitting stops there with exactly one issue.
Issue framing_error(const std::string& name) {
  const std::string bytes = read_file(kCorpus / name);
  BatchFile f = split_batch(bytes);
  CHECK_FALSE(f.ok());
  CHECK_FALSE(f.complete);
  REQUIRE(f.issues.size() == 1);
  // check_file reports the same problem, first.
  Issues checked = check_file(bytes);
  REQUIRE_FALSE(checked.empty());
  CHECK(checked[0].where == f.issues[0].where);
  return f.issues[0];
}

// The parse error of a file whose single message cannot be parsed.
Issue parse_error(const std::string& name) {
  const std::string bytes = read_file(kCorpus / name);
  BatchFile f = split_batch(bytes);
  REQUIRE(f.ok());
  REQUIRE(f.message_count() == 1);
  auto m = Message::parse(std::string(f.messages()[0].bytes));
  REQUIRE_FALSE(m.ok());
  return m.error();
}

}  // namespace

TEST_CASE("the corpus is present") {
  INFO("corpus directory: " << kCorpus.string());
  CHECK(files_in("hl7v2").size() >= 200);
  CHECK(files_in("hl7v2-raw").size() >= 4);
  for (const std::string& name : kMalformed) {
    INFO(name);
    CHECK(fs::is_regular_file(kCorpus / name));
  }
}

TEST_CASE("every well-formed file splits, parses and re-encodes byte for byte") {
  size_t files = 0, messages = 0;
  for (const std::string& name : all_files()) {
    if (kMalformed.count(name)) continue;
    INFO(name);
    Loaded l = load(name);
    const std::vector<MessageSpan> spans = l.file.messages();
    CHECK(!spans.empty());
    REQUIRE(spans.size() == l.messages.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      INFO("message " << i + 1);
      CHECK(l.messages[i].encode() == normalised(spans[i].bytes));
      CHECK(l.messages[i].segment_count() == spans[i].segment_count);
    }
    ++files;
    messages += spans.size();
  }
  // 206 files, 11 of them malformed; the batch files and hapi__example_oml_o21.hl7 (13
  // messages) hold more than one message.
  CHECK(files == 195);
  CHECK(messages == 212);
}

TEST_CASE("structural validation finds exactly the known problems in the corpus") {
  // file -> the errors check_file() reports, as "segment index:field:code".
  const std::map<std::string, std::vector<std::string>> expected = {
      // Two OML^O21 messages (file segments 118 and 132) have an empty MSH-10.
      {"hl7v2/hapi__example_oml_o21.hl7", {"118:10:101", "132:10:101"}},
      {"hl7v2/nodehl7client__parser_test_3.hl7", {"1:10:101"}},
  };
  size_t checked = 0;
  for (const std::string& name : all_files()) {
    if (kMalformed.count(name)) continue;
    INFO(name);
    std::vector<std::string> errors;
    for (const Issue& i : check_file(read_file(kCorpus / name))) {
      if (i.severity != Severity::kError) continue;
      INFO(i.to_string());
      errors.push_back(std::to_string(i.where.segment_index) + ":" + std::to_string(i.where.field) + ":" +
                       std::to_string(static_cast<int>(i.code)));
    }
    auto it = expected.find(name);
    CHECK(errors == (it == expected.end() ? std::vector<std::string>{} : it->second));
    ++checked;
  }
  CHECK(checked == 195);
}

// ---------------------------------------------------------------------------------------------
// Malformed files: one test each, asserting where and why

TEST_CASE("hapi__messages_04: MSH-2 with only three encoding characters") {
  Issue e = parse_error("hl7v2/hapi__messages_04.hl7");
  CHECK(e.code == ErrorCode::kDataType);
  CHECK(e.where.segment_index == 1);
  CHECK(e.where.segment_id == "MSH");
  CHECK(e.where.field == 2);
  CHECK(e.why.find("found 3: \"^~}\"") != std::string::npos);
  // check_file says the same.
  Issues issues = check_file(read_file(kCorpus / "hl7v2/hapi__messages_04.hl7"));
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].where.field == 2);
}

TEST_CASE("pyhl7__sample_bad_batch: a segment before any MSH in the batch") {
  Issue e = framing_error("hl7v2/pyhl7__sample_bad_batch.hl7");
  CHECK(e.code == ErrorCode::kSegmentSequence);
  CHECK(e.where.segment_index == 2);
  CHECK(e.where.segment_id == "EVN");
  CHECK(e.where.field == 0);
  CHECK(e.why.find("before any MSH") != std::string::npos);
}

TEST_CASE("pyhl7__sample_bad_batch1: a BHS inside an open batch") {
  Issue e = framing_error("hl7v2/pyhl7__sample_bad_batch1.hl7");
  CHECK(e.code == ErrorCode::kSegmentSequence);
  CHECK(e.where.segment_index == 4);
  CHECK(e.where.segment_id == "BHS");
  CHECK(e.where.segment_occurrence == 2);
  CHECK(e.where.field == 0);
  CHECK(e.why.find("still open") != std::string::npos);
}

TEST_CASE("pyhl7__sample_bad_file: a segment before any MSH in the file's batch") {
  Issue e = framing_error("hl7v2/pyhl7__sample_bad_file.hl7");
  CHECK(e.where.segment_index == 3);
  CHECK(e.where.segment_id == "EVN");
  CHECK(e.where.field == 0);
  CHECK(e.why.find("BHS, segment 2") != std::string::npos);
}

TEST_CASE("pyhl7__sample_bad_file1: a BHS inside an open batch of a file") {
  Issue e = framing_error("hl7v2/pyhl7__sample_bad_file1.hl7");
  CHECK(e.where.segment_index == 5);
  CHECK(e.where.segment_id == "BHS");
  CHECK(e.where.field == 0);
  CHECK(e.why.find("BHS at segment 2") != std::string::npos);
}

TEST_CASE("pyhl7__sample_bad_file2: a second FHS inside the file") {
  Issue e = framing_error("hl7v2/pyhl7__sample_bad_file2.hl7");
  CHECK(e.where.segment_index == 5);
  CHECK(e.where.segment_id == "FHS");
  CHECK(e.where.segment_occurrence == 2);
  CHECK(e.where.field == 0);
  CHECK(e.why.find("second FHS") != std::string::npos);
}

TEST_CASE("pyhl7__sample_bad_file3: a segment right after the FHS") {
  Issue e = framing_error("hl7v2/pyhl7__sample_bad_file3.hl7");
  CHECK(e.where.segment_index == 2);
  CHECK(e.where.segment_id == "EVN");
  CHECK(e.where.field == 0);
  CHECK(e.why.find("FHS, segment 1") != std::string::npos);
}

TEST_CASE("lfh__sample_unix and lfh__sample_win: MSH-2 with a doubled escape character") {
  for (const char* name : {"hl7v2/lfh__sample_unix.hl7", "hl7v2/lfh__sample_win.hl7", "hl7v2-raw/lfh__sample_unix.hl7",
                           "hl7v2-raw/lfh__sample_win.hl7"}) {
    INFO(name);
    Issue e = parse_error(name);
    CHECK(e.code == ErrorCode::kDataType);
    CHECK(e.where.segment_index == 1);
    CHECK(e.where.field == 2);
    CHECK(e.why.find("twice") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Files with something special about them

TEST_CASE("pyhl7 batch and file samples split as python-hl7 does") {
  struct Expect {
    const char* name;
    size_t batches, messages;
    bool fhs, fts, bhs, bts;  // of the file, and of its first batch
  };
  const Expect cases[] = {
      {"pyhl7__sample_batch.hl7", 1, 1, false, false, true, true},
      {"pyhl7__sample_batch1.hl7", 1, 2, false, false, true, true},
      {"pyhl7__sample_batch2.hl7", 1, 2, false, false, false, false},  // bare messages
      {"pyhl7__sample_batch3.hl7", 1, 1, false, false, true, false},   // no BTS
      {"pyhl7__sample_batch4.hl7", 1, 1, false, false, false, true},   // no BHS
      {"pyhl7__sample_file.hl7", 1, 1, true, true, true, true},
      {"pyhl7__sample_file1.hl7", 2, 3, true, true, true, true},
      {"pyhl7__sample_file2.hl7", 1, 2, true, true, false, false},  // no BHS/BTS
      {"pyhl7__sample_file3.hl7", 1, 1, true, false, true, true},   // no FTS
      {"pyhl7__sample_file4.hl7", 1, 1, false, true, true, true},   // no FHS
      {"pyhl7__sample_file5.hl7", 1, 1, true, true, true, false},   // no BTS
      {"pyhl7__sample_file6.hl7", 1, 1, true, true, false, true},   // no BHS
  };
  for (const Expect& c : cases) {
    INFO(c.name);
    Loaded l = load(std::string("hl7v2/") + c.name);
    CHECK(l.file.issues.empty());
    REQUIRE(l.file.batches.size() == c.batches);
    CHECK(l.file.message_count() == c.messages);
    CHECK(l.file.header.has_value() == c.fhs);
    CHECK(l.file.trailer.has_value() == c.fts);
    CHECK(l.file.batches[0].header.has_value() == c.bhs);
    CHECK(l.file.batches[0].trailer.has_value() == c.bts);
    for (const Message& m : l.messages) {
      CHECK(m.text("MSH-9") == "ADT^A04^ADT_A01");
      CHECK(m.text("PID-3.1") == "0000112234");
    }
  }
}

TEST_CASE("pyhl7__sample_file1: envelope fields and counts") {
  Loaded l = load("hl7v2/pyhl7__sample_file1.hl7");
  REQUIRE(l.file.header);
  // The sample puts the file name in FHS-10 (file header comment), not FHS-9.
  CHECK(l.file.header->field(9).empty());
  CHECK(l.file.header->field(10) == "abchs20070101123401.hl7");
  REQUIRE(l.file.trailer);
  CHECK(l.file.trailer->field(1) == "2");
  CHECK(l.file.trailer->segment_index == 24);
  REQUIRE(l.file.batches.size() == 2);
  CHECK(l.file.batches[0].header->field(11) == "abchs20070101123401-1");
  CHECK(l.file.batches[0].trailer->field(1) == "2");
  CHECK(l.file.batches[1].header->field(11) == "abchs20070101123401-2");
  CHECK(l.file.batches[1].header->segment_index == 16);
  CHECK(l.file.batches[1].trailer->field(1) == "1");
  const std::vector<MessageSpan> spans = l.file.messages();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].segment_index == 3);
  CHECK(spans[1].segment_index == 9);
  CHECK(spans[2].segment_index == 17);
  CHECK(spans[1].line == 9);
  REQUIRE(l.messages.size() == 3);
  CHECK(l.messages[0].text("MSH-10") == "12334456778890");
  CHECK(l.messages[1].text("MSH-10") == "12334456778891");
  CHECK(l.messages[2].text("MSH-10") == "12334456778890");
}

TEST_CASE("nodehl7client__parser_test_2: 8859/1 declared, UTF-8 bytes, read as UTF-8 with a warning") {
  Loaded l = load("hl7v2/nodehl7client__parser_test_2.hl7");
  REQUIRE(l.messages.size() == 1);
  const Message& m = l.messages[0];
  CHECK(m.charset().declared == "8859/1");
  CHECK(m.charset().kind == CharsetKind::kUtf8);
  // PID-5.1 is "van Testpatiënt-van het Hek&van&Testpatiënt&van het&Hek".
  CHECK(m.text("PID-5.1.1") == "van Testpati\xC3\xABnt-van het Hek");
  CHECK(m.text("PID-5.1.3") == "Testpati\xC3\xABnt");
  CHECK(m.text("PID-5.2") == "Jeanet");
  Issues issues = validate(m);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].severity == Severity::kWarning);
  CHECK(issues[0].where.segment_id == "MSH");
  CHECK(issues[0].where.field == 18);
  CHECK(issues[0].why.find("UTF-8") != std::string::npos);
}

TEST_CASE("hapi__cv.04_001_chem: an 8859/1 message") {
  Loaded l = load("hl7v2/hapi__cv.04_001_chem.hl7");
  REQUIRE(l.messages.size() == 1);
  const Message& m = l.messages[0];
  CHECK(m.charset().kind == CharsetKind::kIso8859);
  CHECK(m.charset().iso8859_part == 1);
  CHECK(m.text("MSH-9") == "ERP^Z99^ERP_R09");
  CHECK(m.text("MSH-10") == "bf3dd577-2108-47ad-abd2-4f06284f3b55");
  CHECK(m.text("MSH-12") == "2.3.1");
  CHECK(m.text("PID-3.1") == "1011848460");
  CHECK(m.text("PID-3.9.2") == "ONTARIO");
  CHECK(m.text("PID-5.2") == "MARIE");
  CHECK(m.text("PID-11[2].3") == "Toronto");
  CHECK(validate(m).empty());
}

TEST_CASE("hapi__segmentfinder_a24: field ^, component ~, repetition |") {
  const std::string bytes = read_file(kCorpus / "hl7v2/hapi__segmentfinder_a24.hl7");
  REQUIRE(bytes.substr(0, 9) == "MSH^~|\\&^");
  Loaded l = load("hl7v2/hapi__segmentfinder_a24.hl7");
  REQUIRE(l.messages.size() == 1);
  const Message& m = l.messages[0];
  CHECK(m.delimiters().field == '^');
  CHECK(m.delimiters().component == '~');
  CHECK(m.delimiters().repetition == '|');
  CHECK(m.delimiters().escape == '\\');
  CHECK(m.delimiters().subcomponent == '&');
  CHECK(m.text("MSH-9.1") == "ADT");
  CHECK(m.text("MSH-9.2") == "A24");
  CHECK(m.text("MSH-10") == "2003582144");
  CHECK(m.text("MSH-12") == "2.4");
  // PID-3 is "11111~~~FOO&&0363~NI~FACILITY ID&200M&L".
  CHECK(m.text("PID-3.1") == "11111");
  CHECK(m.text("PID-3.4.1") == "FOO");
  CHECK(m.text("PID-3.4.3") == "0363");
  CHECK(m.text("PID-3.5") == "NI");
  CHECK(m.text("PID-3.6.2") == "200M");
  CHECK(m.text("PID[2]-3.1") == "22222");
  CHECK(m.text("PID-5.1") == "SMITH");
  CHECK(m.text("PID-5.2") == "JOHN");
  CHECK(validate(m).empty());
}

TEST_CASE("hapi__messages_02: sub-component separator '}'") {
  // SOURCES.md calls '}' the escape character, but MSH-2 is ^~\} (one backslash): the
  // fourth encoding character is the sub-component separator; the escape is the default.
  Loaded l = load("hl7v2/hapi__messages_02.hl7");
  REQUIRE(l.messages.size() == 1);
  const Message& m = l.messages[0];
  CHECK(m.get("MSH-2").raw() == "^~\\}");
  CHECK(m.delimiters().escape == '\\');
  CHECK(m.delimiters().subcomponent == '}');
  CHECK(m.text("MSH-9") == "BAR^P01");
  CHECK(m.text("MSH-10") == "589888ADT30502184808");
  CHECK(m.text("PID-3.1") == "429314294");
  CHECK(m.text("PID-5.1") == "WASHINGTON-HARPER");
}

TEST_CASE("files with a UTF-8 byte-order mark parse") {
  size_t with_bom = 0;
  for (const std::string& name : files_in("hl7v2")) {
    const std::string bytes = read_file(kCorpus / name);
    if (bytes.substr(0, 3) != "\xEF\xBB\xBF") continue;
    INFO(name);
    ++with_bom;
    Loaded l = load(name);
    REQUIRE(!l.messages.empty());
    CHECK(l.file.messages()[0].byte_offset == 3);
    CHECK(l.messages[0].bytes().substr(0, 3) == "MSH");
  }
  CHECK(with_bom == 27);  // SOURCES.md: "UTF-8 BOM kept"

  Loaded l = load("hl7v2/msfc__ADT01-23.hl7");
  REQUIRE(l.messages.size() == 1);
  const Message& m = l.messages[0];
  CHECK(m.text("MSH-9") == "ADT^A01");
  CHECK(m.text("MSH-10") == "599102");
  CHECK(m.text("MSH-12") == "2.3");
  CHECK(m.text("PID-3.1") == "10006579");
  CHECK(m.text("PID-5") == "DUCK^DONALD^D");
}

TEST_CASE("some values of ordinary files") {
  Loaded a03 = load("hl7v2/hapi__adt_a03.hl7");
  REQUIRE(a03.messages.size() == 1);
  CHECK(a03.messages[0].text("MSH-9") == "ADT^A03");
  CHECK(a03.messages[0].text("MSH-10") == "263206");
  CHECK(a03.messages[0].text("PID-3[2].1") == "ZZZZZZ83M64Z148R");
  CHECK(a03.messages[0].text("PID-3[3].5") == "SSN");

  Loaded rsp = load("hl7v2/hl7apy__test_parser_L40.hl7");
  REQUIRE(rsp.messages.size() == 1);
  CHECK(rsp.messages[0].text("MSH-9.3") == "RSP_K21");
  CHECK(rsp.messages[0].text("MSH-10") == "1234");
  CHECK(rsp.messages[0].text("PID-3.4.2") == "1.3.6.1.4.1.21367.2011.2.5.17");

  Loaded oml = load("hl7v2/hapi__example_oml_o21.hl7");
  REQUIRE(oml.messages.size() == 13);
  CHECK(oml.messages[0].text("MSH-10") == "msgOP123");
  CHECK(oml.messages[12].text("MSH-10") == "msgOF101");
  CHECK(oml.messages[9].text("MSH-9") == "ORU^R01^ORU_R01");
}

TEST_CASE("hl7v2-raw files give the same segments as their hl7v2 counterparts") {
  const std::vector<std::string> raw = files_in("hl7v2-raw");
  REQUIRE(raw.size() >= 4);
  size_t crlf = 0;
  for (const std::string& name : raw) {
    INFO(name);
    const std::string raw_bytes = read_file(kCorpus / name);
    const std::string cr_bytes = read_file(kCorpus / ("hl7v2/" + name.substr(name.find('/') + 1)));
    // The test means something only if the line endings really differ.
    REQUIRE(raw_bytes.find('\n') != std::string::npos);
    REQUIRE(cr_bytes.find('\n') == std::string::npos);
    if (raw_bytes.find("\r\n") != std::string::npos) ++crlf;

    BatchFile a = split_batch(raw_bytes);
    BatchFile b = split_batch(cr_bytes);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    const std::vector<MessageSpan> ma = a.messages(), mb = b.messages();
    REQUIRE(ma.size() == mb.size());
    for (size_t i = 0; i < ma.size(); ++i) {
      CHECK(ma[i].segment_count == mb[i].segment_count);
      CHECK(normalised(ma[i].bytes) == normalised(mb[i].bytes));
      auto pa = Message::parse(std::string(ma[i].bytes));
      auto pb = Message::parse(std::string(mb[i].bytes));
      REQUIRE(pa.ok() == pb.ok());
      if (pa.ok()) {
        CHECK(pa->encode() == pb->encode());
        CHECK(pa->text("MSH-10") == pb->text("MSH-10"));
      }
    }
  }
  CHECK(crlf == 1);  // lfh__sample_win.hl7; the others use \n
}
