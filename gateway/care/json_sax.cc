// struct_from_json (json.h) as one streaming pass: RapidJSON's SAX reader drives a handler that
// fills the structs through the reflection table as the events arrive, with no DOM in between.
//
// It must answer exactly as the DOM form (parse, then read_struct) does: the same inputs
// accepted, the same first error with the same path. Three things make a stream differ from a
// walk over a finished document, and each is handled here:
//  - Syntax errors win over every other error (the DOM is refused before it is read): after the
//    first model error the handler only follows the nesting, and the parse goes on to the end;
//    a syntax error found later replaces the model error.
//  - read_struct checks a list's size (empty, at most, at least) before its items; a stream
//    knows the size only at the list's end. The first model error found lies inside every list
//    still open at that moment, so each of those lists checks its size when it closes, and a
//    violation replaces the error (the outermost, closing last, wins, as read_struct would have
//    stopped there first).
//  - The error path is built only when an error happens, from the stack of open values.
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "care/json.h"

namespace midhurst::care {
namespace {

struct StructPlan;

// One field, with what reading it needs resolved once.
struct FieldPlan {
  std::string_view name;  // info->name, kept here for the lookup
  const FieldInfo* info = nullptr;
  const StructPlan* child = nullptr;  // kStruct
  const EnumInfo* enumeration = nullptr;  // kEnum
};

// A struct's fields and the indices of its required ones, built once per StructInfo.
struct StructPlan {
  const StructInfo* info = nullptr;
  std::vector<FieldPlan> fields;  // in the StructInfo's order
  std::vector<std::uint32_t> required;
  std::size_t seen_words = 0;  // 64-bit words to mark which fields were read

  // The field named `name`, or fields.size(). The search starts at `hint` and wraps around:
  // JSON written by to_json lists fields in their declared order, leaving out absent ones, so
  // the next key is at or after the field that follows the last one.
  std::size_t find(const char* name, std::size_t length, std::size_t hint) const {
    const std::size_t n = fields.size();
    auto is = [&](std::size_t i) {
      const std::string_view f = fields[i].name;
      return f.size() == length && std::memcmp(f.data(), name, length) == 0;
    };
    for (std::size_t i = hint; i < n; ++i)
      if (is(i)) return i;
    for (std::size_t i = 0; i < hint && i < n; ++i)
      if (is(i)) return i;
    return n;
  }
};

// Plans for every struct reachable from the ones asked for; immutable once built.
class Plans {
 public:
  static const StructPlan& of(const StructInfo& s) {
    // The same few roots are asked for again and again by a thread (the store's entity types).
    thread_local const StructInfo* last_info = nullptr;
    thread_local const StructPlan* last_plan = nullptr;
    if (last_info == &s) return *last_plan;
    static Plans plans;
    std::lock_guard<std::mutex> lock(plans.mutex_);
    const StructPlan& p = plans.build(s);
    last_info = &s;
    last_plan = &p;
    return p;
  }

 private:
  StructPlan& build(const StructInfo& s) {
    auto [it, inserted] = plans_.try_emplace(&s);
    if (!inserted) return *it->second;
    it->second = std::make_unique<StructPlan>();
    StructPlan& p = *it->second;  // stable: the map holds pointers (and a struct may hold itself)
    p.info = &s;
    p.seen_words = (s.fields.size() + 63) / 64;
    p.fields.resize(s.fields.size());
    for (std::size_t i = 0; i < s.fields.size(); ++i) {
      const FieldInfo& f = s.fields[i];
      p.fields[i].info = &f;
      p.fields[i].name = f.name;
      if (f.kind == Kind::kEnum) p.fields[i].enumeration = f.enum_info();
      if (f.required()) p.required.push_back(static_cast<std::uint32_t>(i));
    }
    for (std::size_t i = 0; i < s.fields.size(); ++i)
      if (s.fields[i].kind == Kind::kStruct) p.fields[i].child = &build(*s.fields[i].struct_info());
    return p;
  }

  std::mutex mutex_;
  std::unordered_map<const StructInfo*, std::unique_ptr<StructPlan>> plans_;
};

// The SAX handler. Every callback returns true: stopping early would turn a model error into
// RapidJSON's "terminated by handler" and hide a later syntax error.
class Filler {
 public:
  // The state of one open JSON object or array.
  struct Frame {
    enum Kind : std::uint8_t { kStruct, kList, kSkip } kind = kSkip;
    const StructPlan* plan = nullptr;  // kStruct: this struct's; kList: the owner's
    void* obj = nullptr;               // kStruct: the struct; kList: the struct owning the list
    // kStruct: the field whose value is being read (none between members); kList: the list.
    std::size_t field = 0;
    bool in_member = false;  // kStruct: `field` is set
    std::size_t count = 0;   // kList: items begun so far (the current one's index is count - 1)
    std::size_t seen = 0;    // kStruct: offset of its words in seen_
    std::size_t hint = 0;    // kStruct: where the next field is looked for first
  };

  Filler(const StructPlan& root, void* obj, std::vector<Frame>& frames, std::vector<std::uint64_t>& seen)
      : root_(root), root_obj_(obj), frames_(frames), seen_(seen) {
    frames_.clear();
    seen_.clear();
  }

  bool failed() const { return failed_; }
  JsonError error() const { return JsonError{error_path_, error_message_}; }

  // --- SAX events ---------------------------------------------------------------------------

  bool Null() { return scalar(Type::kNull); }
  bool Bool(bool b) {
    Target t = target();
    if (!t.ok) return done();
    if (t.field->info->kind != Kind::kBoolean) return mismatch(*t.field);
    *static_cast<bool*>(element(t)) = b;
    return done();
  }
  bool Int(int i) { return integer(i); }
  bool Uint(unsigned u) { return integer(static_cast<std::int64_t>(u)); }
  bool Int64(std::int64_t i) { return integer(i); }
  bool Uint64(std::uint64_t u) {
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return scalar(Type::kOther);
    return integer(static_cast<std::int64_t>(u));
  }
  bool Double(double) { return scalar(Type::kOther); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar(Type::kOther); }

  bool String(const char* s, rapidjson::SizeType length, bool) {
    Target t = target();
    if (!t.ok) return done();
    const FieldPlan& f = *t.field;
    switch (f.info->kind) {
      case Kind::kString:
      case Kind::kDate:
      case Kind::kDateTime: {
        std::string& v = *static_cast<std::string*>(element(t));
        v.assign(s, length);
        // An empty string would not survive a round trip (empty means absent).
        if (v.empty()) return fail("empty string; omit the field instead");
        if (f.info->kind == Kind::kDate) {
          if (std::string why = check_date(v); !why.empty()) return fail(std::move(why));
        } else if (f.info->kind == Kind::kDateTime) {
          if (std::string why = check_date_time(v); !why.empty()) return fail(std::move(why));
        }
        return done();
      }
      case Kind::kEnum: {
        const std::string_view code(s, length);
        auto index = f.enumeration->index_of(code);
        if (!index)
          return fail("'" + std::string(code) + "' is not an allowed value of " + std::string(f.enumeration->name) +
                      " (" + f.enumeration->joined() + ")");
        f.info->set_enum(element(t), *index);
        return done();
      }
      default:
        return mismatch(f);
    }
  }

  bool StartObject() {
    if (failed_) return push_skip();
    if (frames_.empty()) {
      if (started_) return push_skip();  // unreachable: a document has one root
      started_ = true;
      return push_struct(root_, root_obj_);
    }
    Target t = target();
    if (!t.ok) return push_skip();
    if (t.field->info->kind != Kind::kStruct) {
      mismatch(*t.field);
      return push_skip();
    }
    return push_struct(*t.field->child, element(t));
  }

  bool Key(const char* name, rapidjson::SizeType length, bool) {
    if (failed_) return true;
    Frame& top = frames_.back();
    const StructPlan& plan = *top.plan;
    const std::size_t i = plan.find(name, length, top.hint);
    if (i == plan.fields.size()) return fail_at_key(name, length, "unknown field of " + std::string(plan.info->name));
    std::uint64_t& word = seen_[top.seen + i / 64];
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    top.field = i;
    top.in_member = true;
    // RapidJSON reports duplicate keys; refusing them keeps "last one wins" surprises out.
    if (word & bit) return fail("duplicate field");
    word |= bit;
    top.hint = i + 1;
    return true;
  }

  bool EndObject(rapidjson::SizeType) {
    if (frames_.back().kind == Frame::kStruct && !failed_) check_struct(frames_.back());
    pop();
    return done();
  }

  bool StartArray() {
    if (failed_ || frames_.empty()) {
      if (!failed_) {
        started_ = true;
        fail("expected object (" + std::string(root_.info->name) + ")");
      }
      return push_skip();
    }
    Frame& top = frames_.back();
    if (top.kind == Frame::kList) {  // an array inside a list: lists hold no lists
      ++top.count;
      mismatch(top.plan->fields[top.field]);
      return push_skip();
    }
    const FieldPlan& f = top.plan->fields[top.field];
    if (f.info->shape != Shape::kList) {
      mismatch(f);
      return push_skip();
    }
    f.info->truncate(top.obj, 0);
    Frame list;
    list.kind = Frame::kList;
    list.plan = top.plan;
    list.obj = top.obj;
    list.field = top.field;
    frames_.push_back(list);
    return true;
  }

  bool EndArray(rapidjson::SizeType items) {
    const Frame top = frames_.back();
    pop();
    if (top.kind == Frame::kList) {
      // Checked here, not at the start as read_struct does: any error already found lies inside
      // this list, and read_struct would have reported the size first.
      const FieldInfo& f = *top.plan->fields[top.field].info;
      std::string why;
      if (items == 0) why = "empty array; omit the field instead";
      else if (f.max_items && items > f.max_items)
        why = "at most " + std::to_string(f.max_items) + " items allowed, got " + std::to_string(items);
      else if (items < f.min_items)
        why = "at least " + std::to_string(f.min_items) + " items required";
      if (!why.empty()) {
        failed_ = false;  // replaces an error found inside the list
        fail(std::move(why));
      }
    }
    return done();
  }

 private:
  enum class Type { kNull, kOther };

  // Where a value goes: the field (and, in a list, the item) it is read into.
  struct Target {
    bool ok = false;
    const FieldPlan* field = nullptr;
    Frame* frame = nullptr;
  };

  // The field the next value belongs to; not ok after an error, or for a value at the root.
  // A list's item is counted here, so the error path names it.
  Target target() {
    if (failed_) return {};
    if (frames_.empty()) {  // a scalar where the root object should be
      fail("expected object (" + std::string(root_.info->name) + ")");
      return {};
    }
    Frame& top = frames_.back();
    const FieldPlan& f = top.plan->fields[top.field];
    if (top.kind == Frame::kList) {
      ++top.count;
      return {true, &f, &top};
    }
    if (f.info->shape == Shape::kList) {
      fail("expected array");
      return {};
    }
    return {true, &f, &top};
  }

  // The member (or new list item) a value is written to.
  void* element(const Target& t) {
    const FieldInfo& f = *t.field->info;
    if (t.frame->kind == Frame::kList) return f.ensure(t.frame->obj, t.frame->count - 1);
    // An optional struct starts from its default value, as read_struct's emplace() does (a leaf
    // is overwritten whole anyway).
    if (f.shape == Shape::kOptional && f.kind == Kind::kStruct) f.truncate(t.frame->obj, 0);
    return f.ensure(t.frame->obj, 0);
  }

  // At the end of a struct's object: required fields, then the cross-field rules.
  void check_struct(Frame& top) {
    const StructPlan& plan = *top.plan;
    for (std::uint32_t i : plan.required) {
      if (seen_[top.seen + i / 64] & (std::uint64_t{1} << (i % 64))) continue;
      top.field = i;
      top.in_member = true;
      fail("required field missing");
      return;
    }
    for (const auto& rule : plan.info->validators) {
      if (std::string why = rule(top.obj); !why.empty()) {
        fail(std::move(why));
        return;
      }
    }
  }

  bool integer(std::int64_t i) {
    Target t = target();
    if (!t.ok) return done();
    const FieldInfo& f = *t.field->info;
    if (f.kind != Kind::kInteger) return mismatch(*t.field);
    void* v = element(t);
    // The member's type is erased; a value it cannot hold does not come back unchanged.
    f.set_integer(v, i);
    if (f.get_integer(v) != i) return fail("integer out of range");
    return done();
  }

  bool scalar(Type) {
    Target t = target();
    if (!t.ok) return done();
    return mismatch(*t.field);
  }

  // read_value's message for a JSON value of the wrong type.
  bool mismatch(const FieldPlan& f) {
    switch (f.info->kind) {
      case Kind::kString:
      case Kind::kDate:
      case Kind::kDateTime: return fail(std::string("expected ") + kind_name(f.info->kind));
      case Kind::kBoolean: return fail("expected boolean");
      case Kind::kInteger: return fail("expected integer");
      case Kind::kEnum: return fail("expected string (enum " + std::string(f.enumeration->name) + ")");
      case Kind::kStruct: return fail("expected object (" + std::string(f.child->info->name) + ")");
    }
    return fail("unexpected value");
  }

  bool push_struct(const StructPlan& plan, void* obj) {
    Frame f;
    f.kind = Frame::kStruct;
    f.plan = &plan;
    f.obj = obj;
    f.seen = seen_.size();
    seen_.resize(seen_.size() + plan.seen_words, 0);
    frames_.push_back(f);
    return true;
  }
  bool push_skip() {
    frames_.push_back(Frame{});
    return true;
  }
  void pop() {
    if (frames_.back().kind == Frame::kStruct) seen_.resize(frames_.back().seen);
    frames_.pop_back();
  }

  // A value has been read completely: its struct member is done (a list counts its items as
  // they begin, in target()).
  bool done() {
    if (!failed_ && !frames_.empty() && frames_.back().kind == Frame::kStruct) frames_.back().in_member = false;
    return true;
  }

  bool fail(std::string message) { return fail_at_key(nullptr, 0, std::move(message)); }

  // Records the first error at the path of the value being read (`key`: a member name that is
  // not a field, named in the path all the same). Returns true: see the class comment.
  bool fail_at_key(const char* key, std::size_t key_length, std::string message) {
    if (failed_) return true;
    failed_ = true;
    error_path_ = json_root_name(*root_.info);
    for (const Frame& f : frames_) {
      if (f.kind == Frame::kStruct && f.in_member) {
        error_path_ += '.';
        error_path_ += f.plan->fields[f.field].info->name;
      } else if (f.kind == Frame::kList && f.count > 0) {
        error_path_ += '[' + std::to_string(f.count - 1) + ']';
      }
    }
    if (key) {
      error_path_ += '.';
      error_path_.append(key, key_length);
    }
    error_message_ = std::move(message);
    return true;
  }

  const StructPlan& root_;
  void* root_obj_;
  std::vector<Frame>& frames_;
  std::vector<std::uint64_t>& seen_;
  bool started_ = false;
  bool failed_ = false;
  std::string error_path_;
  std::string error_message_;
};

// A reader for the JSON the gateway writes itself (to_json: compact, or indented, with plain
// integers and the common escapes), several times faster than RapidJSON's general one: strings
// are scanned eight bytes at a time and handed over where they lie. It sends the handler the
// events RapidJSON's reader would. It gives up on anything else (a syntax error, a \u escape, a
// fraction or a negative number, a byte-order mark, deep nesting) and on the handler's first
// error; struct_from_json then reads the text again with RapidJSON, which has the last word on
// every input that is not plainly fine.
class FastReader {
 public:
  FastReader(std::string_view text, std::string& unescaped) : p_(text.data()), end_(text.data() + text.size()), buf_(unescaped) {}

  // True when the whole text was read and the handler took every event without an error.
  bool read(Filler& h) {
    skip_space();
    if (p_ == end_ || *p_ != '{' || !value(h, 0)) return false;
    skip_space();
    return p_ == end_ && !h.failed();
  }

 private:
  static constexpr int kMaxDepth = 32;

  void skip_space() {
    if (p_ != end_ && static_cast<unsigned char>(*p_) > ' ') return;  // compact JSON: no spaces
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool expect(char c) {
    skip_space();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  bool value(Filler& h, int depth) {
    if (p_ == end_ || h.failed()) return false;
    switch (*p_) {
      case '{': return depth < kMaxDepth && object(h, depth + 1);
      case '[': return depth < kMaxDepth && array(h, depth + 1);
      case '"': {
        std::string_view v;
        if (!string(v)) return false;
        h.String(v.data(), static_cast<rapidjson::SizeType>(v.size()), true);
        return true;
      }
      case 't': return literal("true") && h.Bool(true);
      case 'f': return literal("false") && h.Bool(false);
      case 'n': return literal("null") && h.Null();
      default: return number(h);
    }
  }

  bool object(Filler& h, int depth) {
    ++p_;  // '{'
    h.StartObject();
    skip_space();
    rapidjson::SizeType members = 0;
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      h.EndObject(0);
      return true;
    }
    for (;;) {
      std::string_view key;
      if (p_ == end_ || *p_ != '"' || !string(key)) return false;
      h.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()), true);
      if (h.failed() || !expect(':')) return false;
      skip_space();
      if (!value(h, depth)) return false;
      ++members;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        h.EndObject(members);
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }

  bool array(Filler& h, int depth) {
    ++p_;  // '['
    h.StartArray();
    skip_space();
    rapidjson::SizeType items = 0;
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      h.EndArray(0);
      return true;
    }
    for (;;) {
      if (!value(h, depth)) return false;
      ++items;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        h.EndArray(items);
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) return false;
    p_ += word.size();
    return true;
  }

  // A non-negative integer without a fraction or exponent, below 10^18.
  bool number(Filler& h) {
    const char* start = p_;
    std::uint64_t v = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') v = v * 10 + static_cast<unsigned>(*p_++ - '0');
    const std::size_t digits = static_cast<std::size_t>(p_ - start);
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0')) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (v <= std::numeric_limits<unsigned>::max()) h.Uint(static_cast<unsigned>(v));
    else h.Uint64(v);
    return true;
  }

  // A mask with the high bit set in each byte of the 8 in `w` that is a quote, a backslash or a
  // control character; exact up to the first such byte (the lowest set bit, little-endian).
  static std::uint64_t special(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
    const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    return zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) | below_space;
  }

  // The string at p_ (its opening quote); `out` points into the text, or into buf_ once an
  // escape had to be decoded.
  bool string(std::string_view& out) {
    const char* start = ++p_;
    if constexpr (std::endian::native == std::endian::little) {
      while (end_ - p_ >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p_, 8);
        if (const std::uint64_t m = special(w)) {
          p_ += std::countr_zero(m) / 8;  // the first quote, backslash or control character
          break;
        }
        p_ += 8;
      }
    }
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20) return false;
      ++p_;
    }
    buf_.assign(start, p_);
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') {
        out = buf_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        buf_ += static_cast<char>(c);
        continue;
      }
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"': buf_ += '"'; break;
        case '\\': buf_ += '\\'; break;
        case '/': buf_ += '/'; break;
        case 'b': buf_ += '\b'; break;
        case 'f': buf_ += '\f'; break;
        case 'n': buf_ += '\n'; break;
        case 'r': buf_ += '\r'; break;
        case 't': buf_ += '\t'; break;
        default: return false;  // \u and anything else: RapidJSON's reader decides
      }
    }
  }

  const char* p_;
  const char* end_;
  std::string& buf_;
};

// The reader and the handler's stacks are reused by each thread: the store and the ingest read
// a few entities per message, and none of them needs to allocate once warm.
struct Scratch {
  rapidjson::Reader reader;
  std::string unescaped;
  std::vector<Filler::Frame> frames;
  std::vector<std::uint64_t> seen;
  bool busy = false;
};

}  // namespace

Status<JsonError> struct_from_json(const StructInfo& s, void* obj, std::string_view json) {
  thread_local Scratch shared;
  std::unique_ptr<Scratch> own;  // a nested call (a validator that parses) gets its own
  Scratch& scratch = shared.busy ? *(own = std::make_unique<Scratch>()) : shared;
  struct Busy {
    Scratch& s;
    explicit Busy(Scratch& x) : s(x) { s.busy = true; }
    ~Busy() { s.busy = false; }
  } busy(scratch);

  const StructPlan& plan = Plans::of(s);
  {
    Filler fast(plan, obj, scratch.frames, scratch.seen);
    if (FastReader(json, scratch.unescaped).read(fast)) return {};
  }
  // Not plainly fine: read again from the start (each field read overwrites what the first
  // attempt left in it, so `obj` ends as this reading alone would leave it).
  Filler filler(plan, obj, scratch.frames, scratch.seen);
  rapidjson::MemoryStream ms(json.data(), json.size());
  // The stream the DOM parse uses (a UTF-8 byte-order mark is skipped), so offsets agree.
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
  // kParseStopWhenDoneFlag is not set, so trailing garbage after the object is an error too.
  const rapidjson::ParseResult parsed = scratch.reader.Parse<rapidjson::kParseDefaultFlags>(in, filler);
  if (parsed.IsError())
    return err(JsonError{json_root_name(s), "invalid JSON at offset " + std::to_string(parsed.Offset()) + ": " +
                                                rapidjson::GetParseError_En(parsed.Code())});
  if (filler.failed()) return err(filler.error());
  return {};
}

}  // namespace midhurst::care
