// libFuzzer target for the HL7v2 message parser (hl7v2/message.h).
//
// The input is the message bytes. It is parsed twice (Message::parse on a copy, and
// Message::reset into a Message reused across inputs, as a hot loop would), then every
// segment, field, repetition, component and sub-component is walked (with a budget, since
// part(n) is linear in the parts before n), and encode(), locate(), get() and set() are
// exercised. Invariants (a broken one aborts, which libFuzzer reports as a crash):
//  1. parse() and reset() agree: same success, same bytes, same segment count.
//  2. Every element view lies inside the message's bytes and inside its parent, knows its
//     own location, and a parent's raw bytes are its parts' raw bytes joined by the delimiter.
//  3. locate(offset) names a real segment and field, and keeps the offset; locate() of an
//     element's first byte names that element.
//  4. encode() (with \r and with \n) parses again to the same segments and delimiters.
//  5. get(path) finds the element the same coordinates reach through Segment::at().
//  6. A value set with set() reads back with text() as it was set (ASCII values, readable
//     charsets), and the message still encodes and parses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hl7v2/message.h"

namespace {

using midhurst::hl7v2::CharsetKind;
using midhurst::hl7v2::Element;
using midhurst::hl7v2::Issue;
using midhurst::hl7v2::Level;
using midhurst::hl7v2::Location;
using midhurst::hl7v2::Message;
using midhurst::hl7v2::Segment;

// Reads bytes from the input to steer choices; gives 0 once exhausted.
class Choices {
 public:
  explicit Choices(std::string_view bytes) : bytes_(bytes) {}
  uint8_t byte() { return pos_ < bytes_.size() ? static_cast<uint8_t>(bytes_[pos_++]) : 0; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

bool inside(std::string_view inner, std::string_view outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// Caps the parts walked per level and the elements walked per message, so that a message
// with thousands of components stays well under the fuzzer's timeout.
constexpr size_t kMaxPartsPerLevel = 16;
constexpr size_t kMaxSegments = 64;
constexpr size_t kMaxFields = 48;

struct Walker {
  const Message& msg;
  size_t budget = 4000;
  // Element::location() counts the segments before the element's (to give its occurrence),
  // so checking it on every element would make the walk quadratic; a sample is enough.
  size_t location_budget = 200;

  char delimiter_below(Level level) const {
    switch (level) {
      case Level::kField: return msg.delimiters().repetition;
      case Level::kRepetition: return msg.delimiters().component;
      case Level::kComponent: return msg.delimiters().subcomponent;
      default: return '\0';
    }
  }

  // Checks `e` and walks its parts. `split` is false for MSH-1/MSH-2, which are never split.
  // `index` is e's 1-based position among its parent's parts (its field number for a field).
  void walk(const Element& e, size_t index, std::string_view parent_raw, uint32_t segment_index, uint32_t field,
            bool split) {
    if (budget == 0) return;
    --budget;
    FUZZ_CHECK(e.present());
    const std::string_view raw = e.raw();
    FUZZ_CHECK(inside(raw, msg.bytes()));
    FUZZ_CHECK(inside(raw, parent_raw));
    FUZZ_CHECK(e.empty() == raw.empty());
    if (location_budget > 0) {
      --location_budget;
      const Location loc = e.location();
      FUZZ_CHECK(loc.segment_index == segment_index);
      FUZZ_CHECK(loc.field == field);
      FUZZ_CHECK(loc.byte_offset == raw.data() - msg.bytes().data());
      if (e.level() == Level::kRepetition) FUZZ_CHECK(loc.repetition == index);
      if (e.level() == Level::kComponent) FUZZ_CHECK(loc.component == index);
      if (e.level() == Level::kSubcomponent) FUZZ_CHECK(loc.subcomponent == index);
      // locate() of an element's first byte names that element (or its first descendant, which
      // starts at the same byte).
      const Location at = msg.locate(static_cast<size_t>(loc.byte_offset));
      const bool deep = e.level() != Level::kField;
      if (at.segment_index != loc.segment_index || at.field != loc.field ||
          (deep && at.repetition != loc.repetition) ||
          (e.level() >= Level::kComponent && at.component != loc.component) ||
          (e.level() == Level::kSubcomponent && at.subcomponent != loc.subcomponent)) {
        std::fprintf(stderr, "locate(%lld) gave %s for the element at %s\n", static_cast<long long>(loc.byte_offset),
                     at.to_string().c_str(), loc.to_string().c_str());
        std::abort();
      }
    }
    std::string scratch;
    const std::string text = e.text();
    FUZZ_CHECK(e.text(scratch) == text);
    (void)e.is_null();

    const size_t n = e.size();
    FUZZ_CHECK(n >= 1);
    if (e.level() == Level::kSubcomponent) {
      FUZZ_CHECK(n == 1);
      return;
    }
    FUZZ_CHECK(!e.part(0).present());
    FUZZ_CHECK(!e.part(n + 1).present());
    if (!split) {
      FUZZ_CHECK(n == 1);
      return;
    }
    const size_t walk_n = std::min(n, kMaxPartsPerLevel);
    std::string joined;
    for (size_t i = 1; i <= walk_n; ++i) {
      const Element part = e.part(i);
      FUZZ_CHECK(part.present());
      FUZZ_CHECK(static_cast<int>(part.level()) == static_cast<int>(e.level()) + 1);
      if (i > 1) joined.push_back(delimiter_below(e.level()));
      joined.append(part.raw());
      walk(part, i, raw, segment_index, field, true);
    }
    if (walk_n == n) FUZZ_CHECK(joined == raw);
  }

  void walk_all() {
    const size_t segments = std::min(msg.segment_count(), kMaxSegments);
    for (size_t s = 0; s < segments && budget > 0; ++s) {
      const Segment seg = msg.segment(s);
      FUZZ_CHECK(seg.index() == s);
      const std::string_view raw = seg.raw();
      FUZZ_CHECK(inside(raw, msg.bytes()));
      FUZZ_CHECK(raw.substr(0, seg.id().size()) == seg.id());
      FUZZ_CHECK(raw.find_first_of("\r\n") == std::string_view::npos);
      const bool header = seg.id() == "MSH" || seg.id() == "BHS" || seg.id() == "FHS";
      const size_t fields = seg.field_count();
      FUZZ_CHECK(!seg.field(0).present());
      FUZZ_CHECK(!seg.field(fields + 1).present());
      for (size_t f = 1; f <= std::min(fields, kMaxFields) && budget > 0; ++f) {
        const Element e = seg.field(f);
        walk(e, f, raw, static_cast<uint32_t>(s + 1), static_cast<uint32_t>(f), !(header && f <= 2));
      }
    }
  }
};

void check_locate(const Message& msg, size_t offset) {
  const Location loc = msg.locate(offset);
  FUZZ_CHECK(loc.byte_offset == static_cast<int64_t>(offset));
  FUZZ_CHECK(loc.segment_index <= msg.segment_count());
  if (loc.segment_index == 0) return;
  const Segment seg = msg.segment(loc.segment_index - 1);
  FUZZ_CHECK(loc.segment_id == seg.id());
  FUZZ_CHECK(loc.segment_occurrence >= 1);
  FUZZ_CHECK(loc.field <= seg.field_count());
  (void)loc.to_string();
}

// The message re-parsed from its encoding has the same segments and delimiters.
void check_encode(const Message& msg, char terminator) {
  auto again = Message::parse(msg.encode(terminator));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->segment_count() == msg.segment_count());
  FUZZ_CHECK(again->delimiters() == msg.delimiters());
  for (size_t s = 0; s < msg.segment_count(); ++s) FUZZ_CHECK(again->segment(s).raw() == msg.segment(s).raw());
}

bool is_path_id(std::string_view id) {
  if (id.size() != 3) return false;
  for (char c : id)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

// The text form of a path; occurrence, repetition, component and sub-component only when set.
std::string path_text(std::string_view id, size_t occurrence, size_t f, size_t r, size_t c, size_t s) {
  std::string p(id);
  if (occurrence != 1) p += "[" + std::to_string(occurrence) + "]";
  p += "-" + std::to_string(f);
  if (r != 1) p += "[" + std::to_string(r) + "]";
  if (c) {
    p += "." + std::to_string(c);
    if (s) p += "." + std::to_string(s);
  }
  return p;
}

void check_get(const Message& msg, Choices& choose) {
  if (msg.segment_count() == 0) return;
  const Segment seg = msg.segment(choose.byte() % msg.segment_count());
  if (!is_path_id(seg.id())) return;
  size_t occurrence = 0;
  for (size_t i = 0; i <= seg.index(); ++i) occurrence += msg.segment(i).id() == seg.id();
  const size_t f = 1 + choose.byte() % 12, r = 1 + choose.byte() % 3, c = choose.byte() % 4;
  const size_t s = c ? choose.byte() % 3 : 0;
  const Element by_path = msg.get(path_text(seg.id(), occurrence, f, r, c, s));
  const Element by_at = seg.at(f, r, c, s);
  FUZZ_CHECK(by_path.present() == by_at.present());
  FUZZ_CHECK(by_path.raw().data() == by_at.raw().data() && by_path.raw().size() == by_at.raw().size());
}

void check_set(const Message& original, Choices& choose) {
  Message msg = original;
  // Target: an existing segment (its first occurrence) or a new Z-segment.
  std::string id = "ZZZ";
  const uint8_t pick = choose.byte();
  if (pick % 2 == 0 && msg.segment_count() > 0) {
    const Segment seg = msg.segment(pick / 2 % msg.segment_count());
    if (is_path_id(seg.id())) id = std::string(seg.id());
  }
  const size_t f = 1 + choose.byte() % 16, r = 1 + choose.byte() % 3, c = choose.byte() % 4;
  const size_t s = c ? choose.byte() % 3 : 0;
  std::string value(choose.byte() % 24, '\0');
  for (char& ch : value) ch = static_cast<char>(choose.byte() & 0x7F);  // ASCII: one meaning in every charset
  const std::string path = path_text(id, 1, f, r, c, s);
  const size_t before = msg.segment_count();

  auto status = msg.set(path, value);
  const bool header = id == "MSH" || id == "BHS" || id == "FHS";
  if (header && f <= 2) {
    FUZZ_CHECK(!status.ok());  // the delimiters cannot be set
    return;
  }
  if (!status.ok()) return;  // e.g. a change that would break MSH: allowed to refuse
  FUZZ_CHECK(msg.segment_count() == before || msg.segment_count() == before + 1);
  const Element e = msg.get(path);
  FUZZ_CHECK(e.present());
  const CharsetKind kind = msg.charset().kind;
  if (kind == CharsetKind::kAscii || kind == CharsetKind::kUtf8 || kind == CharsetKind::kIso8859) {
    if (e.text() != value) {
      std::fprintf(stderr, "set(%s) wrote [%s], read back [%s], raw [%s]\n", path.c_str(), value.c_str(),
                   e.text().c_str(), std::string(e.raw()).c_str());
      std::abort();
    }
  }
  check_encode(msg, '\r');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. parse() and reset() into a reused message agree.
  static Message reused;
  Issue reset_error;
  const bool reset_ok = reused.reset(input, &reset_error);
  auto parsed = Message::parse(std::string(input));
  FUZZ_CHECK(parsed.ok() == reset_ok);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.error().why.empty());
    FUZZ_CHECK(reset_error.why == parsed.error().why);
    FUZZ_CHECK(reused.segment_count() == 0);
    (void)parsed.error().to_string();
    return 0;
  }
  const Message& msg = *parsed;
  FUZZ_CHECK(reused.bytes() == msg.bytes());
  FUZZ_CHECK(reused.segment_count() == msg.segment_count());
  FUZZ_CHECK(msg.segment_count() >= 1);
  FUZZ_CHECK(msg.segment(0).id() == "MSH");

  // 2. Walk everything.
  Walker walker{msg};
  walker.walk_all();

  // 3. locate() at the edges and at offsets the input chooses.
  Choices choose(input.substr(input.size() / 2));
  for (size_t offset : {size_t{0}, size / 2, size ? size - 1 : 0, size, size + 7}) check_locate(msg, offset);
  for (int i = 0; i < 4; ++i) check_locate(msg, (size_t{choose.byte()} << 8 | choose.byte()) % (size + 1));

  // 4. encode() round trips.
  check_encode(msg, '\r');
  check_encode(msg, '\n');

  // 5, 6. Paths and set().
  (void)msg.text("MSH-9.1");
  (void)msg.get(input.substr(0, std::min<size_t>(input.size(), 24)));  // arbitrary path text
  for (int i = 0; i < 3; ++i) check_get(msg, choose);
  for (int i = 0; i < 3; ++i) check_set(msg, choose);
  return 0;
}
