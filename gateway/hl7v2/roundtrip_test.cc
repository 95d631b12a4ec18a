// Property tests: building, encoding and parsing messages must lose nothing.
//
// Every generator is driven by a seeded std::mt19937 and reduces numbers with `%` (not the
// std distributions, whose output differs between standard libraries), so a failure
// reproduces exactly from its seed and iteration, which the failure message prints.
//
// Properties (HL7 v2.5 §2.5-2.7, message construction and escape sequences):
//  1. escape/unescape: unescape(escape(t)) == t for any text and any delimiter set, and
//     escape(t) holds no delimiter and no CR/LF, so it cannot change a message's structure.
//  2. build/parse: values set with Message::set at random paths (fields, repetitions,
//     components, sub-components, several segment occurrences) read back identical through
//     text() after encode() and parse(), with default and random delimiter sets.
//  3. parse/encode: a parsed well-formed message re-encodes byte for byte (generated
//     messages, and every well-formed message of the shared corpus).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "hl7v2/escape.h"
#include "hl7v2/message.h"

using namespace midhurst::hl7v2;

namespace {

using Rng = std::mt19937;

size_t pick(Rng& rng, size_t n) { return static_cast<size_t>(rng() % n); }
bool chance(Rng& rng, unsigned percent) { return rng() % 100 < percent; }

// Bytes shown with C escapes, for failure messages.
std::string show(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

// Characters the parser accepts as delimiters: printable ASCII that is not alphanumeric
// or space (message.cc, MSH-1/MSH-2 checks).
const std::string kDelimiterPool = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

// A random set of distinct delimiters; sometimes the default set, sometimes with the v2.7
// truncation character.
Delimiters random_delimiters(Rng& rng) {
  Delimiters d;
  if (chance(rng, 25)) return d;
  std::string pool = kDelimiterPool;
  auto take = [&] {
    size_t i = pick(rng, pool.size());
    char c = pool[i];
    pool.erase(i, 1);
    return c;
  };
  d.field = take();
  d.component = take();
  d.repetition = take();
  d.escape = take();
  d.subcomponent = take();
  d.truncation = chance(rng, 20) ? take() : '\0';
  return d;
}

std::string random_text_any(Rng& rng, const Delimiters& d);

// Random text holding every kind of awkward content: the delimiters and escape character of
// `d` and of the default set, formatting and other backslash sequences, CR/LF, HL7 null,
// and non-ASCII UTF-8 (Latin, Chinese, emoji).
std::string random_text(Rng& rng, const Delimiters& d) { return random_text_any(rng, d); }

std::string random_text_any(Rng& rng, const Delimiters& d) {
  static const char* const kPieces[] = {
      "\\.br\\", "\\H\\",   "\\N\\",   "\\.sp2\\", "\\.in-3\\", "\\.ti+1\\", "\\.ce\\", "\\Zabc\\",
      "\\C2842\\", "\\M2442\\", "\\X41\\", "\\X0D0A\\", "\\F\\", "\\E\\", "\\S\\", "\\", "\\\\",
      "\\H",     "H\\",     "\r",      "\n",       "\r\n",     "\"\"",     "\xC3\xA9" /* é */,
      "\xC3\xAB" /* ë */, "Testpati\xC3\xAB" "nt", "\xE4\xB8\xAD\xE6\x96\x87" /* 中文 */,
      "\xF0\x9F\x98\x80" /* 😀 */, " ", "SMITH", "3333333333", "|^~\\&#",
  };
  std::string t;
  const size_t n = pick(rng, 7);
  for (size_t i = 0; i < n; ++i) {
    switch (pick(rng, 4)) {
      case 0:
        t += kPieces[pick(rng, std::size(kPieces))];
        break;
      case 1: {
        const char mine[] = {d.field, d.component, d.repetition, d.escape, d.subcomponent, d.truncation};
        char c = mine[pick(rng, d.truncation ? 6 : 5)];
        t.push_back(c);
        break;
      }
      case 2:
        t.push_back(static_cast<char>(0x20 + pick(rng, 0x5F)));  // printable ASCII
        break;
      default:
        // A delimiter character next to an escape character: "\F" "^\" and so on.
        t.push_back(d.escape);
        t.push_back(kDelimiterPool[pick(rng, kDelimiterPool.size())]);
        break;
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// A model of what was set: path text -> value. Leaves never overlap (a field is set whole,
// or by repetitions, each whole, by components or by sub-components), so every leaf must
// read back exactly.

struct Leaf {
  std::string path;
  std::string value;
};

void add_field_leaves(Rng& rng, const Delimiters& d, const std::string& field_path, std::vector<Leaf>& out) {
  if (chance(rng, 30)) {  // the whole field as one value
    out.push_back({field_path, random_text(rng, d)});
    return;
  }
  const size_t reps = 1 + pick(rng, 3);
  for (size_t r = 1; r <= reps; ++r) {
    const std::string rep_path = field_path + "[" + std::to_string(r) + "]";
    switch (pick(rng, 3)) {
      case 0:
        out.push_back({rep_path, random_text(rng, d)});
        break;
      case 1: {
        const size_t comps = 1 + pick(rng, 5);
        for (size_t c = 1; c <= comps; ++c)
          if (chance(rng, 80)) out.push_back({rep_path + "." + std::to_string(c), random_text(rng, d)});
        break;
      }
      default: {
        const size_t comps = 1 + pick(rng, 3);
        for (size_t c = 1; c <= comps; ++c) {
          const size_t subs = 1 + pick(rng, 4);
          for (size_t s = 1; s <= subs; ++s)
            if (chance(rng, 80))
              out.push_back({rep_path + "." + std::to_string(c) + "." + std::to_string(s), random_text(rng, d)});
        }
        break;
      }
    }
  }
}

// Leaves for one random message, grouped by segment in creation order.
std::vector<std::vector<Leaf>> random_message_leaves(Rng& rng, const Delimiters& d) {
  static const char* const kIds[] = {"EVN", "PID", "PD1", "NK1", "PV1", "OBX", "NTE", "ZU1", "AL1", "Z99"};
  std::vector<std::vector<Leaf>> segments;
  // MSH: fields 3-17 and 19-21. MSH-18 is left alone: it names the charset, so random text
  // there would change how every other value is read.
  std::vector<Leaf> msh;
  for (int f = 3; f <= 21; ++f)
    if (f != 18 && chance(rng, 40)) add_field_leaves(rng, d, "MSH-" + std::to_string(f), msh);
  segments.push_back(std::move(msh));

  std::map<std::string, int> seen;
  const size_t count = 1 + pick(rng, 6);
  for (size_t i = 0; i < count; ++i) {
    const std::string id = kIds[pick(rng, std::size(kIds))];
    const int occurrence = ++seen[id];
    const std::string seg = id + "[" + std::to_string(occurrence) + "]-";
    // Distinct field numbers, so that no two leaves overlap.
    std::set<size_t> numbers;
    const size_t fields = 1 + pick(rng, 5);
    while (numbers.size() < fields) numbers.insert(1 + pick(rng, 25));
    std::vector<Leaf> leaves;
    for (size_t f : numbers) add_field_leaves(rng, d, seg + std::to_string(f), leaves);
    if (leaves.empty()) leaves.push_back({seg + "1", "x"});  // every segment gets a value
    segments.push_back(std::move(leaves));
  }
  return segments;
}

std::string describe(const Delimiters& d) {
  std::string s{d.field};
  return show(s + d.encoding_characters());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. escape / unescape

TEST_CASE("roundtrip: unescape(escape(t)) == t, and escape(t) is structure-safe") {
  Rng rng(20240611);
  int failures = 0;
  for (int iter = 0; iter < 5000 && failures == 0; ++iter) {
    const Delimiters d = random_delimiters(rng);
    const std::string t = random_text(rng, d);
    std::string enc;
    escape(t, d, enc);
    std::string dec;
    unescape(enc, d, dec);
    const bool safe = enc.find_first_of(std::string{d.field, d.component, d.repetition, d.subcomponent, '\r', '\n'}) ==
                          std::string::npos &&
                      (!d.truncation || enc.find(d.truncation) == std::string::npos);
    if (dec != t || !safe) {
      ++failures;
      INFO("iteration " << iter << " delimiters " << describe(d));
      INFO("text    " << show(t));
      INFO("escaped " << show(enc));
      INFO("decoded " << show(dec));
      CHECK(dec == t);
      CHECK(safe);
    }
    // escape() is a function of the text, so escaping the decoded form gives the same bytes.
    std::string again;
    escape(dec, d, again);
    if (again != enc) {
      ++failures;
      INFO("iteration " << iter << " text " << show(t));
      CHECK(show(again) == show(enc));
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("roundtrip: unescape(escape_keep_structure(t)) == t") {
  Rng rng(7);
  int failures = 0;
  for (int iter = 0; iter < 3000 && failures == 0; ++iter) {
    const Delimiters d = random_delimiters(rng);
    const std::string t = random_text(rng, d);
    std::string enc;
    escape_keep_structure(t, d, enc);
    std::string dec;
    unescape(enc, d, dec);
    const bool safe = enc.find_first_of(std::string{d.field, '\r', '\n'}) == std::string::npos;
    if (dec != t || !safe) {
      ++failures;
      INFO("iteration " << iter << " delimiters " << describe(d) << " text " << show(t) << " escaped "
                        << show(enc));
      CHECK(show(dec) == show(t));
      CHECK(safe);
    }
  }
  CHECK(failures == 0);
}

// ---------------------------------------------------------------------------------------------
// 2. build / encode / parse / text

namespace {

// Builds one random message, checks every value reads back; returns false (after reporting
// through Catch) on the first mismatch.
bool check_built_message(Rng& rng, int iter, bool random_delims) {
  const Delimiters d = random_delims ? random_delimiters(rng) : Delimiters{};
  const auto segments = random_message_leaves(rng, d);
  Message m = Message::create(d);
  std::vector<Leaf> all;
  for (std::vector<Leaf> leaves : segments) {
    // Within a segment the order of sets must not matter.
    std::shuffle(leaves.begin(), leaves.end(), rng);
    for (const Leaf& l : leaves) {
      auto s = m.set(l.path, l.value);
      if (!s.ok()) {
        INFO("iteration " << iter << " delimiters " << describe(d) << " set " << l.path << " = " << show(l.value));
        INFO("error: " << s.error());
        CHECK(s.ok());
        return false;
      }
      all.push_back(l);
    }
  }
  const std::string bytes = m.encode();
  auto parsed = Message::parse(bytes);
  if (!parsed.ok()) {
    INFO("iteration " << iter << " bytes " << show(bytes) << " error " << parsed.error().why);
    CHECK(parsed.ok());
    return false;
  }
  if (parsed->encode() != bytes || parsed->delimiters() != d) {
    INFO("iteration " << iter << " bytes " << show(bytes));
    CHECK(show(parsed->encode()) == show(bytes));
    CHECK(describe(parsed->delimiters()) == describe(d));
    return false;
  }
  for (const Leaf& l : all) {
    const std::string built = m.text(l.path);
    const std::string read = parsed->text(l.path);
    if (built != l.value || read != l.value) {
      INFO("iteration " << iter << " delimiters " << describe(d) << " path " << l.path);
      INFO("message " << show(bytes));
      CHECK(show(built) == show(l.value));
      CHECK(show(read) == show(l.value));
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("roundtrip: values set at random paths read back identical (default delimiters)") {
  Rng rng(1);
  int ok = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    if (!check_built_message(rng, iter, false)) break;
    ++ok;
  }
  CHECK(ok == 1000);
}

TEST_CASE("roundtrip: values set at random paths read back identical (random delimiters)") {
  Rng rng(2);
  int ok = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    if (!check_built_message(rng, iter, true)) break;
    ++ok;
  }
  CHECK(ok == 1500);
}

TEST_CASE("roundtrip: values survive \\n and \\r\\n segment terminators") {
  Rng rng(3);
  for (int iter = 0; iter < 300; ++iter) {
    const Delimiters d = random_delimiters(rng);
    Message m = Message::create(d);
    const std::string a = random_text(rng, d), b = random_text(rng, d);
    REQUIRE(m.set("PID-5.1", a).ok());
    REQUIRE(m.set("NTE-3[2]", b).ok());
    for (const char* term : {"\n", "\r\n"}) {
      std::string bytes;
      for (char c : m.encode()) {
        if (c == '\r') bytes += term;
        else bytes.push_back(c);
      }
      auto p = Message::parse(bytes);
      REQUIRE(p.ok());
      INFO("iteration " << iter << " bytes " << show(bytes));
      CHECK(p->text("PID-5.1") == a);
      CHECK(p->text("NTE-3[2]") == b);
      CHECK(p->encode() == m.encode());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. parse / encode

namespace {

// A random well-formed message written directly as bytes: raw values use only characters
// that are not delimiters, plus well-formed escape sequences.
std::string random_raw_message(Rng& rng, const Delimiters& d) {
  const std::string delims{d.field, d.component, d.repetition, d.escape, d.subcomponent};
  auto raw_value = [&] {
    std::string v;
    const size_t n = pick(rng, 6);
    for (size_t i = 0; i < n; ++i) {
      switch (pick(rng, 5)) {
        case 0: {
          static const char* const kSeq[] = {"F", "S", "T", "R", "E", ".br", "H", "N", "X0D0A", "X41", "Zloc"};
          v.push_back(d.escape);
          v += kSeq[pick(rng, std::size(kSeq))];
          v.push_back(d.escape);
          break;
        }
        case 1:
          v += "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
          break;
        default: {
          char c = static_cast<char>(0x20 + pick(rng, 0x5F));
          if (delims.find(c) == std::string::npos && c != d.truncation) v.push_back(c);
          break;
        }
      }
    }
    return v;
  };
  auto raw_field = [&] {
    std::string f;
    const size_t reps = 1 + pick(rng, 3);
    for (size_t r = 0; r < reps; ++r) {
      if (r) f.push_back(d.repetition);
      const size_t comps = 1 + pick(rng, 4);
      for (size_t c = 0; c < comps; ++c) {
        if (c) f.push_back(d.component);
        const size_t subs = 1 + pick(rng, 3);
        for (size_t s = 0; s < subs; ++s) {
          if (s) f.push_back(d.subcomponent);
          f += raw_value();
        }
      }
    }
    return f;
  };
  std::string out = "MSH";
  out.push_back(d.field);
  out += d.encoding_characters();
  for (int f = 3; f <= 12; ++f) {
    out.push_back(d.field);
    if (f == 9) out += std::string("ADT") + d.component + "A01";
    else if (f == 12) out += "2.5";
    else out += raw_field();
  }
  out.push_back('\r');
  const size_t segs = 1 + pick(rng, 5);
  for (size_t s = 0; s < segs; ++s) {
    out += "Z";
    out.push_back(static_cast<char>('A' + pick(rng, 26)));
    out.push_back(static_cast<char>('0' + pick(rng, 10)));
    const size_t fields = pick(rng, 8);
    for (size_t f = 0; f < fields; ++f) {
      out.push_back(d.field);
      out += raw_field();
    }
    out.push_back('\r');
  }
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("roundtrip: a parsed well-formed message re-encodes byte for byte") {
  Rng rng(4);
  for (int iter = 0; iter < 1000; ++iter) {
    const Delimiters d = random_delimiters(rng);
    const std::string bytes = random_raw_message(rng, d);
    auto m = Message::parse(bytes);
    INFO("iteration " << iter << " bytes " << show(bytes));
    REQUIRE(m.ok());
    REQUIRE(m->encode() == bytes);
    // Every element's raw bytes are a slice of the message: re-setting each field from its
    // own raw bytes changes nothing.
    Message copy = *m;
    for (size_t s = 1; s < m->segment_count(); ++s) {
      Segment seg = m->segment(s);
      for (size_t f = 1; f <= seg.field_count(); ++f) {
        Path p;
        std::copy_n(seg.id().data(), 3, p.segment);
        p.occurrence = 1;
        for (size_t k = 0; k < s; ++k)
          if (m->segment(k).id() == seg.id()) ++p.occurrence;
        p.field = static_cast<uint32_t>(f);
        const Element field = seg.field(f);
        for (size_t r = 1; r <= field.size(); ++r) {
          p.repetition = static_cast<uint32_t>(r);
          REQUIRE(copy.set_encoded(p, std::string(field.part(r).raw())).ok());
        }
      }
    }
    CHECK(copy.encode() == bytes);
  }
}

TEST_CASE("roundtrip: every well-formed corpus message re-encodes byte for byte") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MIDHURST_CORPUS_DIR) / "hl7v2";
  if (!fs::exists(dir)) {
    WARN("corpus not found at " << dir.string());
    return;
  }
  int parsed = 0, compared = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".hl7") continue;
    std::string bytes = read_file(entry.path());
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.erase(0, 3);  // a file reader skips a BOM
    auto m = Message::parse(bytes);
    if (!m.ok()) continue;  // malformed files and batches (FHS/BHS first) are other tests' business
    ++parsed;
    // Byte for byte, for files that are exactly segments each ended by \r: no blank lines,
    // which the index skips by design.
    if (bytes.find("\r\r") != std::string::npos || bytes.find('\n') != std::string::npos) continue;
    if (!bytes.ends_with('\r')) bytes.push_back('\r');
    ++compared;
    INFO(entry.path().filename().string());
    CHECK(m->encode() == bytes);
    // And parse(encode()) is a fixed point.
    auto again = Message::parse(m->encode());
    REQUIRE(again.ok());
    CHECK(again->encode() == m->encode());
  }
  CHECK(parsed > 100);
  CHECK(compared > 100);
}

// ---------------------------------------------------------------------------------------------
// Minimal cases of a bug the properties above found: escape() copied formatting and local
// escape sequences as they were even when a delimiter stood inside them.

TEST_CASE("kept escape sequences holding a delimiter are escaped character by character") {
  // escape.cc escape_impl(): a \.br\ / \.sp..\ / \.in..\ / \.ti..\ / \Z..\ sequence in the text
  // is written out as escape + inside + escape without checking that the inside holds no
  // delimiter. '.', '+' and '-' are legal delimiters (MSH-2 only refuses alphanumerics and
  // space), and \Z..\ takes any characters.
  {
    // Component separator '.': "\.br\" must read back as "\.br\".
    Delimiters d;
    d.component = '.';
    Message m = Message::create(d);
    REQUIRE(m.set("NTE-3", "a\\.br\\b").ok());
    // Once, raw "a\.br\b" was written, whose '.' split it into components.
    CHECK(m.get("NTE-3").size() == 1);
    CHECK(m.text("NTE-3") == "a\\.br\\b");
  }
  {
    // Default delimiters, a local escape holding a component separator.
    Message m = Message::create();
    REQUIRE(m.set("NTE-3.1", "\\Za^b\\").ok());
    // Once, raw "\Za^b\" was written with a live '^'.
    CHECK(m.get("NTE-3").size() == 1);
    CHECK(m.text("NTE-3.1") == "\\Za^b\\");
  }
  {
    // A local escape holding the field separator: set() once refused it.
    Message m = Message::create();
    CHECK(m.set("NTE-3", "\\Za|b\\").ok());
  }
}
