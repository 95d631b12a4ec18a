// Tests for the MLLP codec: one named test per malformed-framing case, then split-point and
// randomised round trips that check the decoder gives the same result however the stream is cut.
#include "hl7v2/mllp.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace midhurst::hl7v2 {
namespace {

using namespace std::string_literals;

// One event as a value, so that whole decodes can be compared.
struct Ev {
  MllpEvent type = MllpEvent::kNeedMore;
  std::string payload;  // kFrame
  MllpErrorKind kind = MllpErrorKind::kBytesOutsideFrame;  // kError
  uint64_t offset = 0;  // frame_offset() or error().offset
  uint64_t length = 0;  // kError

  bool operator==(const Ev&) const = default;
};

Ev frame_ev(std::string payload, uint64_t offset) {
  Ev e;
  e.type = MllpEvent::kFrame;
  e.payload = std::move(payload);
  e.offset = offset;
  return e;
}

Ev error_ev(MllpErrorKind kind, uint64_t offset, uint64_t length) {
  Ev e;
  e.type = MllpEvent::kError;
  e.kind = kind;
  e.offset = offset;
  e.length = length;
  return e;
}

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  if (e.type == MllpEvent::kFrame) {
    os << "frame@" << e.offset << "(" << e.payload.size() << " bytes: ";
    for (char c : e.payload.substr(0, 24)) {
      if (c >= 0x20 && c < 0x7F) os << c;
      else os << "\\x" << std::hex << (static_cast<unsigned>(c) & 0xFF) << std::dec;
    }
    return os << ")";
  }
  return os << "error@" << e.offset << "(" << mllp_error_name(e.kind) << ", " << e.length << ")";
}

// Returns every event up to kNeedMore.
std::vector<Ev> drain(MllpDecoder& d) {
  std::vector<Ev> out;
  for (MllpEvent e; (e = d.next()) != MllpEvent::kNeedMore;) {
    if (e == MllpEvent::kFrame) out.push_back(frame_ev(std::string(d.frame()), d.frame_offset()));
    else out.push_back(error_ev(d.error().kind, d.error().offset, d.error().length));
  }
  return out;
}

// Feeds the chunks in order, then finishes the stream; returns every event.
std::vector<Ev> decode(const std::vector<std::string_view>& chunks, MllpDecoderOptions options = {}) {
  MllpDecoder d(options);
  std::vector<Ev> out;
  for (std::string_view c : chunks) {
    d.feed(c);
    for (Ev& e : drain(d)) out.push_back(std::move(e));
  }
  d.finish();
  for (Ev& e : drain(d)) out.push_back(std::move(e));
  return out;
}

std::vector<Ev> decode_whole(std::string_view stream, MllpDecoderOptions options = {}) {
  return decode({stream}, options);
}

std::vector<Ev> decode_byte_by_byte(std::string_view stream, MllpDecoderOptions options = {}) {
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < stream.size(); ++i) chunks.push_back(stream.substr(i, 1));
  return decode(chunks, options);
}

const std::string kSB = "\x0B", kEB = "\x1C", kCR = "\r";

std::string framed(const std::string& payload) { return kSB + payload + kEB + kCR; }

const std::string kMsg1 = "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||123\r";
const std::string kMsg2 = "MSH|^~\\&|A|B|C|D|20240101||ADT^A08|2|P|2.5\rPID|1||456\r";

// ---------------------------------------------------------------------------------------------
// Encoder

TEST_CASE("mllp: mllp_frame wraps the payload in a start block and an end block with CR") {
  CHECK(mllp_frame("abc") == "\x0B" "abc\x1C\r");
  CHECK(mllp_frame("") == "\x0B\x1C\r");
  std::string out = "x";
  mllp_frame_append("ab", out);
  mllp_frame_append("c", out);
  CHECK(out == "x\x0B" "ab\x1C\r\x0B" "c\x1C\r");
}

TEST_CASE("mllp: mllp_can_frame refuses payloads holding a start or end block") {
  CHECK(mllp_can_frame(kMsg1));
  CHECK(mllp_can_frame(""));
  CHECK_FALSE(mllp_can_frame("a\x0B" "b"));
  CHECK_FALSE(mllp_can_frame("a\x1C"));
}

// ---------------------------------------------------------------------------------------------
// Well-formed streams

TEST_CASE("mllp: one frame in one read is returned as a view of the read, without copying") {
  const std::string stream = framed(kMsg1);
  MllpDecoder d;
  d.feed(stream);
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.frame() == kMsg1);
  CHECK(d.frame().data() == stream.data() + 1);
  CHECK(d.frame_offset() == 0);
  CHECK(d.next() == MllpEvent::kNeedMore);
  CHECK(d.next() == MllpEvent::kNeedMore);
  d.finish();
  CHECK(d.next() == MllpEvent::kNeedMore);
  CHECK(d.stats().frames == 1);
  CHECK(d.stats().errors == 0);
  CHECK(d.stats().bytes_fed == stream.size());
}

TEST_CASE("mllp: several frames in one read stay valid together until the next feed") {
  const std::string stream = framed(kMsg1) + framed(kMsg2) + framed("x");
  MllpDecoder d;
  d.feed(stream);
  std::vector<std::string_view> frames;
  while (d.next() == MllpEvent::kFrame) frames.push_back(d.frame());
  REQUIRE(frames.size() == 3);
  CHECK(frames[0] == kMsg1);
  CHECK(frames[1] == kMsg2);
  CHECK(frames[2] == "x");
}

TEST_CASE("mllp: a frame spanning reads is copied once and stays valid with later frames of the read") {
  const std::string stream = framed(kMsg1) + framed(kMsg2);
  const size_t cut = 10;  // inside the first frame
  MllpDecoder d;
  d.feed(std::string_view(stream).substr(0, cut));
  CHECK(d.next() == MllpEvent::kNeedMore);
  CHECK(d.in_frame());
  std::string second_read = stream.substr(cut);
  d.feed(second_read);
  CHECK(d.buffered_bytes() == cut - 1);
  std::vector<std::string_view> frames;
  while (d.next() == MllpEvent::kFrame) frames.push_back(d.frame());
  REQUIRE(frames.size() == 2);
  CHECK(frames[0] == kMsg1);
  CHECK(frames[1] == kMsg2);
  // The second frame lies wholly in the second read: a view of it.
  CHECK(frames[1].data() == second_read.data() + (kMsg1.size() + 3 - cut) + 1);
  CHECK(d.buffered_bytes() == 0);
}

TEST_CASE("mllp: take_frame moves a buffered frame out and copies an unbuffered one") {
  const std::string stream = framed(kMsg1) + framed(kMsg2);
  MllpDecoder d;
  d.feed(std::string_view(stream).substr(0, 5));
  CHECK(d.next() == MllpEvent::kNeedMore);
  d.feed(std::string_view(stream).substr(5));
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.take_frame() == kMsg1);
  CHECK(d.frame().empty());
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.take_frame() == kMsg2);
  CHECK(d.next() == MllpEvent::kNeedMore);
}

TEST_CASE("mllp: empty frame is delivered as an empty payload") {
  CHECK(decode_whole(framed("")) == std::vector<Ev>{frame_ev("", 0)});
  CHECK(decode_whole(framed("") + framed("a") + framed("")) ==
        std::vector<Ev>{frame_ev("", 0), frame_ev("a", 3), frame_ev("", 7)});
  CHECK(decode_byte_by_byte(framed("") + framed("")) == std::vector<Ev>{frame_ev("", 0), frame_ev("", 3)});
}

TEST_CASE("mllp: empty reads change nothing") {
  MllpDecoder d;
  d.feed("");
  CHECK(d.next() == MllpEvent::kNeedMore);
  const std::string stream = framed("abc");
  d.feed(std::string_view(stream).substr(0, 2));
  CHECK(d.next() == MllpEvent::kNeedMore);
  d.feed("");
  CHECK(d.next() == MllpEvent::kNeedMore);
  d.feed(std::string_view(stream).substr(2));
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.frame() == "abc");
}

TEST_CASE("mllp: a frame split one byte at a time") {
  const std::string stream = framed(kMsg1);
  CHECK(decode_byte_by_byte(stream) == std::vector<Ev>{frame_ev(kMsg1, 0)});
}

TEST_CASE("mllp: a payload of exactly max_frame_bytes is accepted") {
  MllpDecoderOptions options;
  options.max_frame_bytes = 8;
  CHECK(decode_whole(framed("12345678"), options) == std::vector<Ev>{frame_ev("12345678", 0)});
  CHECK(decode_byte_by_byte(framed("12345678"), options) == std::vector<Ev>{frame_ev("12345678", 0)});
  options.max_frame_bytes = 0;
  CHECK(decode_whole(framed(""), options) == std::vector<Ev>{frame_ev("", 0)});
}

// ---------------------------------------------------------------------------------------------
// Malformed streams: one test per case

TEST_CASE("mllp: truncated frame at the end of the stream is reported and discarded") {
  const std::string stream = framed(kMsg1) + kSB + "MSH|^~\\&|cut";
  const std::vector<Ev> expected{frame_ev(kMsg1, 0),
                                 error_ev(MllpErrorKind::kTruncatedFrame, kMsg1.size() + 3, 12)};
  CHECK(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);

  MllpDecoder d;
  d.feed(stream);
  CHECK(d.next() == MllpEvent::kFrame);
  CHECK(d.next() == MllpEvent::kNeedMore);  // no error until the stream is known to end
  d.finish();
  REQUIRE(d.next() == MllpEvent::kError);
  CHECK(d.error().text.find("ended inside the frame") != std::string::npos);
  CHECK(d.next() == MllpEvent::kNeedMore);
  CHECK(d.stats().discarded_bytes == 12);
}

TEST_CASE("mllp: truncated frame with only its start block") {
  CHECK(decode_whole(kSB) == std::vector<Ev>{error_ev(MllpErrorKind::kTruncatedFrame, 0, 0)});
}

TEST_CASE("mllp: garbage before the first start block is skipped and reported") {
  const std::string stream = "hello" + framed(kMsg1);
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kBytesOutsideFrame, 0, 5), frame_ev(kMsg1, 5)};
  CHECK(decode_whole(stream) == expected);
  // A run split across reads is still one report.
  CHECK(decode_byte_by_byte(stream) == expected);
  MllpDecoder d;
  d.feed(stream);
  REQUIRE(d.next() == MllpEvent::kError);
  CHECK(d.error().text == "5 byte(s) outside any frame at offset 0 skipped");
  CHECK(d.stats().outside_bytes == 5);
}

TEST_CASE("mllp: a stray newline between frames is reported as stray whitespace") {
  const std::string stream = framed(kMsg1) + "\r\n" + framed(kMsg2);
  const uint64_t second = kMsg1.size() + 3;
  const std::vector<Ev> expected{frame_ev(kMsg1, 0), error_ev(MllpErrorKind::kStrayWhitespace, second, 2),
                                 frame_ev(kMsg2, second + 2)};
  CHECK(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);
}

TEST_CASE("mllp: bytes after the last frame are reported when the stream ends") {
  const std::string stream = framed("a") + "\n \tz";
  CHECK(decode_whole(stream) ==
        std::vector<Ev>{frame_ev("a", 0), error_ev(MllpErrorKind::kBytesOutsideFrame, 4, 4)});
  CHECK(decode_whole("\n") == std::vector<Ev>{error_ev(MllpErrorKind::kStrayWhitespace, 0, 1)});
  CHECK(decode_whole("garbage only") ==
        std::vector<Ev>{error_ev(MllpErrorKind::kBytesOutsideFrame, 0, 12)});
}

TEST_CASE("mllp: oversize frame then a good frame") {
  MllpDecoderOptions options;
  options.max_frame_bytes = 16;
  const std::string big(1000, 'x');
  const std::string stream = framed(big) + framed("good");
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kFrameTooLarge, 0, 17), frame_ev("good", 1003)};
  CHECK(decode_whole(stream, options) == expected);
  CHECK(decode_byte_by_byte(stream, options) == expected);

  // Fed in small reads, the oversize payload is never buffered beyond the limit.
  MllpDecoder d(options);
  std::vector<Ev> events;
  for (size_t i = 0; i < stream.size(); i += 7) {
    d.feed(std::string_view(stream).substr(i, 7));
    CHECK(d.buffered_bytes() <= options.max_frame_bytes);
    for (Ev& e : drain(d)) events.push_back(e);
  }
  d.finish();
  for (Ev& e : drain(d)) events.push_back(e);
  CHECK(events == expected);
  CHECK(d.stats().discarded_bytes == 1000);
  CHECK(d.stats().outside_bytes == 0);
}

TEST_CASE("mllp: oversize frame is reported as soon as the limit is passed") {
  MllpDecoderOptions options;
  options.max_frame_bytes = 4;
  MllpDecoder d(options);
  const std::string first = kSB + "12345";  // no end block yet
  d.feed(first);
  REQUIRE(d.next() == MllpEvent::kError);
  CHECK(d.error().kind == MllpErrorKind::kFrameTooLarge);
  CHECK(d.error().text.find("limit of 4 bytes") != std::string::npos);
  CHECK(d.next() == MllpEvent::kNeedMore);
  const std::string second = "6789" + kEB + kCR + framed("ok");
  d.feed(second);
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.frame() == "ok");
  CHECK(d.next() == MllpEvent::kNeedMore);
  d.finish();
  CHECK(d.next() == MllpEvent::kNeedMore);
}

TEST_CASE("mllp: oversize frame without an end block resynchronises on the next start block") {
  MllpDecoderOptions options;
  options.max_frame_bytes = 4;
  const std::string stream = kSB + "123456789" + framed("ok");
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kFrameTooLarge, 0, 5), frame_ev("ok", 10)};
  CHECK(decode_whole(stream, options) == expected);
  CHECK(decode_byte_by_byte(stream, options) == expected);
  // Cut off by the end of the stream: reported once, not again as truncated.
  CHECK(decode_whole(kSB + "123456789", options) ==
        std::vector<Ev>{error_ev(MllpErrorKind::kFrameTooLarge, 0, 5)});
}

TEST_CASE("mllp: oversize frame whose end block lacks CR does not report the missing CR") {
  MllpDecoderOptions options;
  options.max_frame_bytes = 2;
  const std::string stream = kSB + "12345" + kEB + framed("ok");
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kFrameTooLarge, 0, 3), frame_ev("ok", 7)};
  CHECK(decode_whole(stream, options) == expected);
  CHECK(decode_byte_by_byte(stream, options) == expected);
}

TEST_CASE("mllp: missing CR after the end block, followed by a start block") {
  const std::string stream = kSB + kMsg1 + kEB + framed(kMsg2);
  const uint64_t next = kMsg1.size() + 2;
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kMissingEndCr, next, 0), frame_ev(kMsg1, 0),
                                 frame_ev(kMsg2, next)};
  CHECK(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);
}

TEST_CASE("mllp: missing CR after the end block, followed by a newline") {
  const std::string stream = kSB + "a" + kEB + "\n" + framed("b");
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kMissingEndCr, 3, 0), frame_ev("a", 0),
                                 error_ev(MllpErrorKind::kStrayWhitespace, 3, 1), frame_ev("b", 4)};
  CHECK(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);
}

TEST_CASE("mllp: missing CR after the end block at the end of the stream") {
  const std::string stream = kSB + "a" + kEB;
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kMissingEndCr, 3, 0), frame_ev("a", 0)};
  CHECK(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);
}

TEST_CASE("mllp: nested start block breaks the open frame and starts a new one") {
  const std::string stream = kSB + "MSH|partial" + framed(kMsg2);
  const std::vector<Ev> expected{error_ev(MllpErrorKind::kNestedStartBlock, 12, 11), frame_ev(kMsg2, 12)};
  CHECK(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);
  MllpDecoder d;
  d.feed(stream);
  REQUIRE(d.next() == MllpEvent::kError);
  CHECK(d.error().text.find("discarded") != std::string::npos);
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.stats().discarded_bytes == 11);
}

TEST_CASE("mllp: nested start block when the broken frame spans reads") {
  MllpDecoder d;
  const std::string first = kSB + "abc", third = "g" + framed("new");
  d.feed(first);
  CHECK(d.next() == MllpEvent::kNeedMore);
  d.feed("def");
  CHECK(d.next() == MllpEvent::kNeedMore);
  CHECK(d.buffered_bytes() == 3);
  d.feed(third);
  REQUIRE(d.next() == MllpEvent::kError);
  CHECK(d.error().kind == MllpErrorKind::kNestedStartBlock);
  CHECK(d.error().offset == 8);
  CHECK(d.error().length == 7);
  REQUIRE(d.next() == MllpEvent::kFrame);
  CHECK(d.frame() == "new");
  CHECK(d.frame_offset() == 8);
}

TEST_CASE("mllp: a start block right after the start block gives an empty broken frame") {
  CHECK(decode_whole(kSB + framed("x")) ==
        std::vector<Ev>{error_ev(MllpErrorKind::kNestedStartBlock, 1, 0), frame_ev("x", 1)});
}

TEST_CASE("mllp: a lone end block outside a frame is a byte outside the frame") {
  CHECK(decode_whole(kEB + kCR + framed("x")) ==
        std::vector<Ev>{error_ev(MllpErrorKind::kBytesOutsideFrame, 0, 2), frame_ev("x", 2)});
}

// ---------------------------------------------------------------------------------------------
// Split invariance and random round trips

TEST_CASE("mllp: every split point of a two-frame stream gives the same frames") {
  const std::string stream = framed("MSH|^~\\&|A\rPID|1") + framed("MSH|^~\\&|B\r");
  const std::vector<Ev> expected{frame_ev("MSH|^~\\&|A\rPID|1", 0), frame_ev("MSH|^~\\&|B\r", 19)};
  REQUIRE(decode_whole(stream) == expected);
  CHECK(decode_byte_by_byte(stream) == expected);
  std::string_view s = stream;
  for (size_t i = 0; i <= s.size(); ++i) {
    INFO("split at " << i);
    CHECK(decode({s.substr(0, i), s.substr(i)}) == expected);
    for (size_t j = i; j <= s.size(); ++j) {
      INFO("and at " << j);
      CHECK(decode({s.substr(0, i), s.substr(i, j - i), s.substr(j)}) == expected);
    }
  }
}

TEST_CASE("mllp: every split point of a malformed stream gives the same events") {
  MllpDecoderOptions options;
  options.max_frame_bytes = 6;
  // Garbage, a good frame, a stray newline, a nested start block, an end block without CR,
  // an oversize frame, a good frame and a truncated one.
  const std::string stream = "zz" + framed("ab") + "\n" + kSB + "cd" + kSB + "ef" + kEB + framed("0123456789") +
                             framed("gh") + kSB + "ij";
  const std::vector<Ev> whole = decode_whole(stream, options);
  REQUIRE(whole.size() == 9);
  CHECK(decode_byte_by_byte(stream, options) == whole);
  std::string_view s = stream;
  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); ++j) {
      INFO("split at " << i << " and " << j);
      CHECK(decode({s.substr(0, i), s.substr(i, j - i), s.substr(j)}, options) == whole);
    }
  }
}

TEST_CASE("mllp: large random streams of frames split randomly decode to what was encoded") {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 40; ++round) {
    MllpDecoderOptions options;
    options.max_frame_bytes = 1 + rng() % 70000;
    std::vector<Ev> expected;
    std::string stream;
    const int frames = 1 + static_cast<int>(rng() % 60);
    for (int f = 0; f < frames; ++f) {
      // Mostly short payloads, some empty, some long; any byte but SB and EB.
      size_t len = rng() % 4 == 0 ? rng() % 100000 : rng() % 300;
      if (rng() % 10 == 0) len = 0;
      std::string payload(len, '\0');
      for (char& c : payload) {
        do c = static_cast<char>(rng() & 0xFF);
        while (c == kMllpStartBlock || c == kMllpEndBlock);
      }
      if (payload.size() <= options.max_frame_bytes) expected.push_back(frame_ev(payload, stream.size()));
      else expected.push_back(error_ev(MllpErrorKind::kFrameTooLarge, stream.size(), options.max_frame_bytes + 1));
      mllp_frame_append(payload, stream);
    }
    std::vector<std::string_view> chunks;
    for (size_t pos = 0; pos < stream.size();) {
      size_t n = rng() % 3 == 0 ? rng() % 8 : rng() % 20000;
      n = std::min(n, stream.size() - pos);
      chunks.push_back(std::string_view(stream).substr(pos, n));
      pos += n;
    }
    INFO("round " << round);
    CHECK(decode(chunks, options) == expected);
  }
}

TEST_CASE("mllp: every corpus message round-trips through frames fed in small reads") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MIDHURST_CORPUS_DIR) / "hl7v2";
  REQUIRE(fs::is_directory(dir));
  std::string stream;
  std::vector<Ev> expected;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string payload = ss.str();
    REQUIRE(mllp_can_frame(payload));
    expected.push_back(frame_ev(payload, stream.size()));
    mllp_frame_append(payload, stream);
  }
  REQUIRE(expected.size() > 100);
  std::vector<std::string_view> chunks;
  for (size_t pos = 0; pos < stream.size(); pos += 1460) chunks.push_back(std::string_view(stream).substr(pos, 1460));
  CHECK(decode(chunks) == expected);
}

}  // namespace
}  // namespace midhurst::hl7v2
