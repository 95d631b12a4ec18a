#include "fhir/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "fhir/internal.h"

namespace midhurst::fhir {

namespace {

using rapidjson::Value;

// Finds duplicate member names anywhere in `v`; JSON Pointer-ish path in `where`.
bool find_duplicate(const Value& v, std::string& where) {
  if (v.IsObject()) {
    std::vector<std::string_view> names;
    for (const auto& m : v.GetObject()) {
      names.emplace_back(m.name.GetString(), m.name.GetStringLength());
    }
    std::sort(names.begin(), names.end());
    auto dup = std::adjacent_find(names.begin(), names.end());
    if (dup != names.end()) {
      where = "/" + std::string(*dup);
      return true;
    }
    for (const auto& m : v.GetObject()) {
      if (find_duplicate(m.value, where)) {
        where = "/" + std::string(m.name.GetString()) + where;
        return true;
      }
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (find_duplicate(v[i], where)) {
        where = "/" + std::to_string(i) + where;
        return true;
      }
    }
  }
  return false;
}

// rapidjson::Writer's escapes: 'u' for a six-byte u00XX escape, another letter for a two-character one, 0 for
// none (bytes from 0x80 are copied as they are).
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

// A growing text buffer written through a cursor: room is made once per value, then bytes are
// stored without per-byte capacity checks.
class CompactWriter {
 public:
  CompactWriter() {
    buf_.resize(8192);
    at_ = buf_.data();
    end_ = at_ + buf_.size();
  }
  CompactWriter(const CompactWriter&) = delete;  // at_ and end_ point into buf_
  CompactWriter& operator=(const CompactWriter&) = delete;
  std::string take() {
    buf_.resize(static_cast<std::size_t>(at_ - buf_.data()));
    return std::move(buf_);
  }
  char* room(std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - at_)) [[unlikely]]
      grow(n);
    return at_;
  }
  void advance(char* end) { at_ = end; }
  void put(std::string_view text) {
    char* p = room(text.size());
    std::memcpy(p, text.data(), text.size());
    advance(p + text.size());
  }
  void put(char c) {
    char* p = room(1);
    *p = c;
    advance(p + 1);
  }

  // A JSON string, with the punctuation around it (`before` and `after`, 0 for none) written in
  // the same step: a member name is `,"name":`.
  [[gnu::always_inline]] void string(const char* s, std::size_t n, char before = 0, char after = 0) {
    char* p = room(n * 6 + 4);  // the longest escape (u00XX after a backslash) is six bytes
    if (before) *p++ = before;
    *p++ = '"';
    p = copy_escaped(s, n, p);
    *p++ = '"';
    if (after) *p++ = after;
    advance(p);
  }

  template <typename T>
  void number(T n) {
    char* p = room(24);
    advance(std::to_chars(p, p + 24, n).ptr);
  }

  bool value(const Value& v) {
    switch (v.GetType()) {
      case rapidjson::kNullType: put("null"); return true;
      case rapidjson::kFalseType: put("false"); return true;
      case rapidjson::kTrueType: put("true"); return true;
      case rapidjson::kStringType: string(v.GetString(), v.GetStringLength()); return true;
      case rapidjson::kNumberType:
        if (v.IsDouble()) return false;
        if (v.IsInt()) number(v.GetInt());
        else if (v.IsUint()) number(v.GetUint());
        else if (v.IsInt64()) number(v.GetInt64());
        else number(v.GetUint64());
        return true;
      case rapidjson::kObjectType: {
        if (v.MemberCount() == 0) {
          put(std::string_view("{}"));
          return true;
        }
        char before = '{';
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
          string(it->name.GetString(), it->name.GetStringLength(), before, ':');
          before = ',';
          if (!element(it->value)) return false;
        }
        put('}');
        return true;
      }
      case rapidjson::kArrayType: {
        if (v.Empty()) {
          put(std::string_view("[]"));
          return true;
        }
        char before = '[';
        for (const Value& e : v.GetArray()) {
          if (!element(e, before)) return false;
          before = ',';
        }
        put(']');
        return true;
      }
    }
    return false;
  }

 private:
  // A member's or an array item's value, after `before` (0 for none): strings, most of them,
  // written with it in one step and without the recursive call.
  [[gnu::always_inline]] bool element(const Value& v, char before = 0) {
    if (v.IsString()) {
      string(v.GetString(), v.GetStringLength(), before);
      return true;
    }
    if (before) put(before);
    return value(v);
  }
  static std::uint64_t load8(const char* s) {
    std::uint64_t w;
    std::memcpy(&w, s, 8);
    return w;
  }
#if defined(__SSE2__)
  // True when some byte of `x` is below 0x20, '"' or '\\' (bytes from 0x80 never match: they
  // are copied as they are).
  static bool needs_escape16(__m128i x) {
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);  // x <= 0x1F
    const __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    const __m128i backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) != 0;
  }
#endif
  // The same for the eight bytes of `w`: on a vector register where there is one (fewer
  // instructions than the bit tricks), else a byte < 0x20 or a zero byte after xor with '"' or '\\'.
  static bool needs_escape(std::uint64_t w) {
#if defined(__SSE2__)
    return needs_escape16(_mm_set1_epi64x(static_cast<long long>(w)));
#else
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
    const std::uint64_t control = (w - kOnes * 0x20) & ~w & kHigh;  // a byte < 0x20
    return (control | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\'))) != 0;
#endif
  }
  // Copies `s` to `p` escaped, returns the end. Most text has nothing to escape: it is checked and
  // stored a machine word at a time (16 bytes where SSE2 has the registers; the last word
  // overlapping the one before, so no byte loop for the tail), and only text that needs an escape
  // is written byte by byte.
  [[gnu::always_inline]] static char* copy_escaped(const char* s, std::size_t n, char* p) {
#if defined(__SSE2__)
    if (n >= 16) {  // URLs, references and display text: most of the bytes of a Bundle
      auto load = [](const char* at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at)); };
      auto store = [](char* at, __m128i x) { _mm_storeu_si128(reinterpret_cast<__m128i*>(at), x); };
      std::size_t i = 0;
      for (; i + 16 <= n; i += 16) {
        const __m128i x = load(s + i);
        if (needs_escape16(x)) [[unlikely]]
          return escape(s + i, n - i, p + i);
        store(p + i, x);
      }
      if (i < n) {  // the last sixteen bytes: those before i are clean already
        const __m128i x = load(s + n - 16);
        if (needs_escape16(x)) [[unlikely]]
          return escape(s + i, n - i, p + i);
        store(p + n - 16, x);
      }
      return p + n;
    }
#endif
    if (n >= 8) {
      std::size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        const std::uint64_t w = load8(s + i);
        if (needs_escape(w)) [[unlikely]]
          return escape(s + i, n - i, p + i);
        std::memcpy(p + i, &w, 8);
      }
      if (i < n) {  // the last eight bytes: those before i are clean already
        const std::uint64_t w = load8(s + n - 8);
        if (needs_escape(w)) [[unlikely]]
          return escape(s + i, n - i, p + i);
        std::memcpy(p + n - 8, &w, 8);
      }
      return p + n;
    }
    if (n >= 4) {  // two overlapping four-byte halves, checked as one word
      std::uint32_t a, b;
      std::memcpy(&a, s, 4);
      std::memcpy(&b, s + n - 4, 4);
      if (needs_escape(a | (std::uint64_t{b} << 32))) [[unlikely]]
        return escape(s, n, p);
      std::memcpy(p, &a, 4);
      std::memcpy(p + n - 4, &b, 4);
      return p + n;
    }
    if (n >= 2) {
      std::uint16_t a, b;
      std::memcpy(&a, s, 2);
      std::memcpy(&b, s + n - 2, 2);
      const std::uint64_t x = a | (std::uint64_t{b} << 16);
      if (needs_escape(x | (x << 32))) [[unlikely]]
        return escape(s, n, p);
      std::memcpy(p, &a, 2);
      std::memcpy(p + n - 2, &b, 2);
      return p + n;
    }
    if (n == 1 && !kEscape[static_cast<unsigned char>(s[0])]) {
      *p = s[0];
      return p + 1;
    }
    return escape(s, n, p);
  }
  [[gnu::noinline]] static char* escape(const char* s, std::size_t n, char* p) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      const char e = kEscape[c];
      if (!e) {
        *p++ = static_cast<char>(c);
        continue;
      }
      *p++ = '\\';
      *p++ = e;
      if (e == 'u') {
        *p++ = '0';
        *p++ = '0';
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xF];
      }
    }
    return p;
  }
  [[gnu::noinline]] void grow(std::size_t n) {
    const auto len = static_cast<std::size_t>(at_ - buf_.data());
    buf_.resize(std::max(buf_.size() * 2, len + n));
    at_ = buf_.data() + len;
    end_ = buf_.data() + buf_.size();
  }

  std::string buf_;
  char* at_;   // the end of the text written so far
  char* end_;  // the end of buf_'s room
};

// rapidjson::Writer's interface (the calls ModelWriter makes) over a CompactWriter: the same
// text, without the generic writer's per-character stream calls.
class CompactSink {
 public:
  explicit CompactSink(CompactWriter& w) : w_(w) {}
  void StartObject() { open('{'); }
  void EndObject() { close('}'); }
  void StartArray() { open('['); }
  void EndArray() { close(']'); }
  // Keys and strings are most of what a resource holds: inlined into the writer's loop.
  [[gnu::always_inline]] void Key(const char* s, rapidjson::SizeType n) {
    const bool comma = !first_;
    first_ = false;
    w_.string(s, n, comma ? ',' : 0, ':');
    after_key_ = true;
  }
  [[gnu::always_inline]] void String(const char* s, rapidjson::SizeType n) {
    separate();
    w_.string(s, n);
  }
  void Bool(bool b) {
    separate();
    w_.put(b ? std::string_view("true") : std::string_view("false"));
  }
  void Null() {
    separate();
    w_.put(std::string_view("null"));
  }
  void RawValue(const char* s, std::size_t n, rapidjson::Type) {
    separate();
    w_.put(std::string_view(s, n));
  }

 private:
  // A comma before every value of an array and every key of an object but the first.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) w_.put(',');
    first_ = false;
  }
  void open(char c) {
    separate();
    w_.put(c);
    first_ = true;
  }
  void close(char c) {
    w_.put(c);
    first_ = false;
  }
  CompactWriter& w_;
  bool first_ = true, after_key_ = false;
};

// The element path an error names ("Patient.name[0].given"). Building it costs a string per
// element, most of a resource's serialisation, so write_json first writes with NoPath and,
// only when that fails, writes again with ElementPath to name the place.
struct NoPath {
  explicit NoPath(std::string_view = {}) {}
  bool empty() const { return true; }
  NoPath member(std::string_view) const { return NoPath(); }
  NoPath index(size_t) const { return NoPath(); }
  std::string text() const { return {}; }
};

struct ElementPath {
  explicit ElementPath(std::string_view p = {}) : path(p) {}
  bool empty() const { return path.empty(); }
  ElementPath member(std::string_view name) const { return ElementPath(path + "." + std::string(name)); }
  ElementPath index(size_t i) const { return ElementPath(path + "[" + std::to_string(i) + "]"); }
  const std::string& text() const { return path; }
  std::string path;
};

// Prints FHIR JSON driven by the model, so number-typed elements are printed as numbers.
template <typename Writer, typename Path>
class ModelWriter {
 public:
  ModelWriter(const Model& model, Writer& w) : model_(model), w_(w) {}

  // Writes `v`; on failure the error names the first problem (the text written so far is left
  // unfinished in the writer).
  Status write(const Value& v, const Path& path) {
    if (resource(v, path)) return Status::Ok();
    return err(std::move(error_));
  }

 private:
  // The steps return false after fail() has noted why: a plain flag per element rather than a
  // Status (an Error with two strings) built and destroyed for each.
  bool resource(const Value& v, const Path& path) {
    if (!v.IsObject()) return fail(Error::Code::kStructure, path, "a resource must be an object");
    auto rt = v.FindMember("resourceType");
    if (rt == v.MemberEnd() || !rt->value.IsString()) {
      return fail(Error::Code::kStructure, path, "resource has no resourceType");
    }
    const TypeDef* type = model_.resource(std::string_view(rt->value.GetString(), rt->value.GetStringLength()));
    if (!type) {
      return fail(Error::Code::kUnknownType, path,
                  "unknown resource type '" + std::string(rt->value.GetString()) + "'");
    }
    return object(v, *type, path.empty() ? Path(type->name) : path, true);
  }

  bool fail(Error::Code code, const Path& path, std::string reason) {
    error_ = Error{code, path.text(), std::move(reason)};
    return false;
  }

  bool object(const Value& v, const TypeDef& type, const Path& path, bool is_resource) {
    if (!v.IsObject()) return fail(Error::Code::kStructure, path, "expected a JSON object");
    w_.StartObject();
    for (const auto& m : v.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      w_.Key(m.name.GetString(), m.name.GetStringLength());
      if (is_resource && name == "resourceType") {
        w_.String(m.value.GetString(), m.value.GetStringLength());
        continue;
      }
      bool underscore = !name.empty() && name[0] == '_';
      const TypeDef::Slot* slot = type.find(underscore ? name.substr(1) : name);
      const Path child = path.member(name);
      if (!slot || (underscore && !slot->type->is_primitive())) {
        return fail(Error::Code::kUnknownElement, child,
                    "unknown element '" + std::string(name) + "' in " + type.name);
      }
      if (slot->element->repeats) {
        if (!m.value.IsArray()) return fail(Error::Code::kStructure, child, "expected an array");
        w_.StartArray();
        for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
          if (!item(m.value[i], *slot->type, underscore, child.index(i), true)) return false;
        }
        w_.EndArray();
      } else {
        if (!item(m.value, *slot->type, underscore, child, false)) return false;
      }
    }
    w_.EndObject();
    return true;
  }

  bool item(const Value& v, const TypeDef& type, bool underscore, const Path& path, bool in_array) {
    if (v.IsNull() && in_array && type.is_primitive()) {
      w_.Null();  // alignment placeholder in primitive arrays and their _ arrays
      return true;
    }
    if (underscore) return object(v, *model_.find("Element"), path, false);
    if (type.is_resource_wrapper()) return resource(v, path);
    if (!type.is_primitive()) return object(v, type, path, false);
    switch (type.json) {
      case JsonKind::kBoolean:
        if (!v.IsBool()) return fail(Error::Code::kInvalidValue, path, "expected true or false");
        w_.Bool(v.GetBool());
        return true;
      case JsonKind::kNumber: {
        std::string text;
        if (!internal::number_text(v, &text) || !internal::is_number_text(type, text)) {
          return fail(Error::Code::kInvalidValue, path, "not a valid " + type.name);
        }
        // RawValue, not RawNumber: RapidJSON 1.1.0 Writer::RawNumber writes a quoted string.
        w_.RawValue(text.data(), text.size(), rapidjson::kNumberType);
        return true;
      }
      case JsonKind::kString:
      case JsonKind::kXhtml:
        if (!v.IsString()) return fail(Error::Code::kStructure, path, "expected a string");
        w_.String(v.GetString(), v.GetStringLength());
        return true;
    }
    return true;
  }

  const Model& model_;
  Writer& w_;
  Error error_;  // why the last step that failed did
};

bool equivalent(const Value& a, const Value& b, const std::string& path, bool is_div,
                std::string* difference) {
  auto differ = [&](const std::string& why) {
    if (difference) *difference = (path.empty() ? "(root)" : path) + ": " + why;
    return false;
  };
  std::string ta, tb;
  // Numbers compare by text, whichever of the two representations holds them.
  if ((a.IsNumber() || b.IsNumber()) && internal::number_text(a, &ta) &&
      internal::number_text(b, &tb)) {
    return ta == tb || differ("number " + ta + " != " + tb);
  }
  if (a.GetType() != b.GetType() && !(a.IsBool() && b.IsBool())) return differ("types differ");
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) {
      for (const auto& m : a.GetObject()) {
        if (!b.HasMember(m.name)) return differ("member " + std::string(m.name.GetString()) +
                                                " only on the left");
      }
      for (const auto& m : b.GetObject()) {
        if (!a.HasMember(m.name)) return differ("member " + std::string(m.name.GetString()) +
                                                " only on the right");
      }
    }
    for (const auto& m : a.GetObject()) {
      auto other = b.FindMember(m.name);
      std::string name = m.name.GetString();
      if (other == b.MemberEnd()) return differ("member " + name + " only on the left");
      if (!equivalent(m.value, other->value, path + "." + name, name == "div", difference)) {
        return false;
      }
    }
    return true;
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return differ("array sizes differ");
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!equivalent(a[i], b[i], path + "[" + std::to_string(i) + "]", false, difference)) {
        return false;
      }
    }
    return true;
  }
  if (a.IsString()) {
    std::string_view sa(a.GetString(), a.GetStringLength());
    std::string_view sb(b.GetString(), b.GetStringLength());
    if (sa == sb) return true;
    if (is_div) {
      pugi::xml_document da, db;
      if (internal::check_div_text(sa, da) && internal::check_div_text(sb, db)) {
        std::string ca, cb;
        if (internal::serialize_xhtml(da.document_element(), true, ca) &&
            internal::serialize_xhtml(db.document_element(), true, cb) && ca == cb) {
          return true;
        }
      }
    }
    return differ("'" + std::string(sa.substr(0, 60)) + "' != '" +
                  std::string(sb.substr(0, 60)) + "'");
  }
  if (a.IsBool()) return a.GetBool() == b.GetBool() || differ("booleans differ");
  return true;  // both null
}

}  // namespace

Result<rapidjson::Document> parse_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(
      text.data(), text.size());
  if (doc.HasParseError()) {
    return make_error(Error::Code::kSyntax, "",
                      std::string("not JSON: ") +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at " +
                          internal::line_column(text, doc.GetErrorOffset()));
  }
  std::string where;
  if (find_duplicate(doc, where)) {
    return make_error(Error::Code::kStructure, where, "duplicate member name");
  }
  return doc;
}

namespace {

template <typename Path>
Result<std::string> write_model_json(const rapidjson::Value& resource, const Model& model, bool pretty) {
  rapidjson::StringBuffer buf;
  Status s;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    s = ModelWriter<decltype(w), Path>(model, w).write(resource, Path());
  } else {
    CompactWriter text;
    CompactSink w(text);
    s = ModelWriter<decltype(w), Path>(model, w).write(resource, Path());
    if (!s) return err(s.error());
    return text.take();
  }
  if (!s) return err(s.error());
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<std::string> write_json(const rapidjson::Value& resource, const Model& model,
                               const JsonWriteOptions& options) {
  auto text = write_model_json<NoPath>(resource, model, options.pretty);
  if (text) return text;
  return write_model_json<ElementPath>(resource, model, options.pretty);  // to name the place
}

std::optional<std::string> write_compact_json(const rapidjson::Value& v) {
  CompactWriter w;
  if (!w.value(v)) return std::nullopt;
  return w.take();
}

bool json_equivalent(const rapidjson::Value& a, const rapidjson::Value& b,
                     std::string* difference) {
  return equivalent(a, b, "", false, difference);
}

}  // namespace midhurst::fhir
