#include "hl7v2/message.h"

#include <catch2/catch.hpp>

using namespace midhurst::hl7v2;

namespace {
const char* kAdt =
    "MSH|^~\\&|PAS|RCB|ROUTE|ROUTE|201010101418||ADT^A01^ADT_A01|1391320453338055|P|2.4|1|20101010141857|||GBR|UNICODE|EN||iTKv1.0\r"
    "EVN|A01|201010101418\r"
    "PID|1||3333333333^^^NHS~633^^^R0A^MR||SMITH^FREDRICA^J^^MRS^^L||196512131515|2\r"
    "OBX|1|TX|A||first\\F\\value\r"
    "OBX|2|TX|B||second&sub1&sub2\r";
}

TEST_CASE("index: segments, fields, repetitions, components") {
  auto m = Message::parse(kAdt);
  REQUIRE(m.ok());
  CHECK(m->segment_count() == 5);
  CHECK(m->segment(0).id() == "MSH");
  CHECK(m->text("MSH-1") == "|");
  CHECK(m->get("MSH-2").raw() == "^~\\&");
  CHECK(m->text("MSH-3") == "PAS");
  CHECK(m->text("MSH-9.1") == "ADT");
  CHECK(m->text("MSH-9.2") == "A01");
  CHECK(m->text("MSH-10") == "1391320453338055");
  CHECK(m->text("MSH-18") == "UNICODE");
  CHECK(m->text("PID-3") == "3333333333^^^NHS");
  CHECK(m->text("PID-3[2].4") == "R0A");
  CHECK(m->text("PID-3[2].5") == "MR");
  CHECK(m->find("PID")->field(3).size() == 2);
  CHECK(m->get("PID-3").size() == 4);  // PID-3 is PID-3[1]: its components
  CHECK(m->get("PID-3[3]").present() == false);
  CHECK(m->text("PID-5.2") == "FREDRICA");
  CHECK(m->text("OBX[2]-5.1.2") == "sub1");
  CHECK(m->text("OBX-5") == "first|value");
  CHECK(m->get("OBX-5").raw() == "first\\F\\value");
  CHECK(m->encode() == kAdt);
}

TEST_CASE("Segment::at names what part() names level by level, in one pass") {
  // Repetitions, components, sub-components, empty parts, an escape, MSH-1/MSH-2 and numbers
  // past the end: at() must agree with field(f).part(r).part(c).part(s) on every one.
  const std::string text = std::string(kAdt) + "ZX1|a~b^c&d&&e^~^^|&&~~|" + "\\T\\x^y||last\r";
  auto m = Message::parse(text);
  REQUIRE(m.ok());
  std::size_t compared = 0;
  for (std::size_t i = 0; i < m->segment_count(); ++i) {
    const Segment seg = m->segment(i);
    for (std::size_t f = 1; f <= seg.field_count() + 1; ++f)
      for (std::size_t r = 0; r <= 4; ++r)
        for (std::size_t c = 0; c <= 5; ++c)
          for (std::size_t s = 0; s <= 4; ++s) {
            Element want = seg.field(f);
            if (want.present()) want = want.part(r);
            if (c) {
              want = want.part(c);
              if (s) want = want.part(s);
            }
            const Element got = seg.at(f, r, c, s);
            INFO(seg.id() << " f=" << f << " r=" << r << " c=" << c << " s=" << s);
            REQUIRE(got.present() == want.present());
            if (!want.present()) continue;
            CHECK(got.raw() == want.raw());
            CHECK(got.level() == want.level());
            CHECK(got.size() == want.size());
            CHECK(got.location() == want.location());
            CHECK(got.text() == want.text());
            ++compared;
          }
  }
  CHECK(compared >= 400);  // every present element of the message, at every level
  CHECK(m->segment(5).at(1, 2, 2, 4).raw() == "e");
  CHECK(m->segment(5).at(1, 3, 2).present());  // "^^": an empty component, present
  CHECK(m->segment(5).at(3, 1, 1, 0).raw() == "\\T\\x");
  CHECK(m->segment(5).at(1, 4).present() == false);
}

TEST_CASE("for_each_field gives field(n) for every field from the first asked for") {
  // MSH (whose first two fields are the delimiters), ordinary segments, empty fields, a segment
  // without any field and a batch header without any.
  const std::string text = std::string(kAdt) + "ZX1|a~b^c||\\T\\x|\rZX2\rBHS\r";
  auto m = Message::parse(text);
  REQUIRE(m.ok());
  std::size_t compared = 0;
  for (std::size_t i = 0; i < m->segment_count(); ++i) {
    const Segment seg = m->segment(i);
    for (std::size_t first = 0; first <= 4; ++first) {
      INFO(seg.id() << " from " << first);
      std::vector<std::size_t> numbers;
      seg.for_each_field(first, [&](std::size_t n, const Element& got) {
        numbers.push_back(n);
        const Element want = seg.field(n);
        CHECK(got.present() == want.present());
        CHECK(got.raw() == want.raw());
        CHECK(got.level() == want.level());
        CHECK(got.size() == want.size());
        CHECK(got.holds_text() == want.holds_text());
        CHECK(got.location() == want.location());
        CHECK(got.text() == want.text());
        ++compared;
      });
      std::vector<std::size_t> expected;
      for (std::size_t n = std::max<std::size_t>(first, 1); n <= seg.field_count(); ++n) expected.push_back(n);
      CHECK(numbers == expected);
    }
  }
  CHECK(compared >= 100);
}

TEST_CASE("for_each_leaf gives the leaves of three nested for_each_part; holds_text from the index") {
  const std::string text = std::string(kAdt) + "ZX1|a~b^c&d&&e^~^^|&&~~|" + "\\T\\x^y||last\r";
  auto m = Message::parse(text);
  REQUIRE(m.ok());
  std::size_t leaves = 0;
  for (std::size_t i = 0; i < m->segment_count(); ++i) {
    const Segment seg = m->segment(i);
    for (std::size_t f = 1; f <= seg.field_count(); ++f) {
      const Element field = seg.field(f);
      INFO(seg.id() << "-" << f);
      struct Leaf {
        std::string raw;
        std::uint32_t r, c, s;
        bool split;
        Location where;
      };
      std::vector<Leaf> want, got;
      std::uint32_t r = 0;
      field.for_each_part([&](const Element& rep) {
        ++r;
        std::uint32_t c = 0;
        rep.for_each_part([&](const Element& comp) {
          ++c;
          std::uint32_t s = 0;
          comp.for_each_part([&](const Element& leaf) {
            want.push_back({std::string(leaf.raw()), r, c, ++s, comp.size() > 1, leaf.location()});
          });
        });
      });
      field.for_each_leaf([&](const Element& leaf, std::uint32_t lr, std::uint32_t lc, std::uint32_t ls, bool split) {
        got.push_back({std::string(leaf.raw()), lr, lc, ls, split, leaf.location()});
      });
      if (f <= 2 && seg.id() == "MSH") continue;  // MSH-1/2 are not split (for_each_part is, on '^')
      REQUIRE(got.size() == want.size());
      bool any_byte = false;
      for (std::size_t k = 0; k < want.size(); ++k) {
        CHECK(got[k].raw == want[k].raw);
        CHECK(got[k].r == want[k].r);
        CHECK(got[k].c == want[k].c);
        CHECK(got[k].s == want[k].s);
        CHECK(got[k].split == want[k].split);
        CHECK(got[k].where == want[k].where);
        any_byte = any_byte || !want[k].raw.empty();
        ++leaves;
      }
      CHECK(field.holds_text() == any_byte);
    }
  }
  CHECK(leaves >= 60);
  CHECK_FALSE(m->segment(5).field(2).holds_text());  // "&&~~": delimiters only
  CHECK(m->segment(5).field(1).holds_text());
  CHECK_FALSE(Element().holds_text());
}

TEST_CASE("set builds a message that re-parses") {
  Message m = Message::create();
  REQUIRE(m.set("MSH-9.1", "ACK").ok());
  REQUIRE(m.set("MSH-9.2", "A01").ok());
  REQUIRE(m.set("MSA-1", "AA").ok());
  REQUIRE(m.set("MSA-2", "a|b^c").ok());
  CHECK(m.encode() == "MSH|^~\\&|||||||ACK^A01\rMSA|AA|a\\F\\b\\S\\c\r");
  CHECK(m.text("MSA-2") == "a|b^c");
}

TEST_CASE("locate maps a byte offset to its place") {
  auto m = Message::parse(kAdt);
  REQUIRE(m.ok());
  size_t off = m->bytes().find("R0A");
  Location loc = m->locate(off);
  CHECK(loc.segment_id == "PID");
  CHECK(loc.field == 3);
  CHECK(loc.repetition == 2);
  CHECK(loc.component == 4);
}
