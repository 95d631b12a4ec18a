#include "care/json.h"

#include <bitset>
#include <cctype>
#include <cstdint>
#include <vector>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <optional>

#include "care/registry.h"

namespace midhurst::care {

// ---------------------------------------------------------------------------------------------
// Walkers

void write_struct(const StructInfo& s, const void* obj, rapidjson::Value& out,
                  rapidjson::Document::AllocatorType& alloc) {
  out.SetObject();
  for (const FieldInfo& f : s.fields) {
    if (!f.present(obj)) continue;
    rapidjson::Value v;
    f.write(obj, v, alloc);
    // Field names are string literals in static tables, so the key can reference them.
    out.AddMember(rapidjson::StringRef(f.name.data(), f.name.size()), v, alloc);
  }
}

bool read_struct(const StructInfo& s, void* obj, const rapidjson::Value& in, ReadContext& ctx) {
  if (!in.IsObject()) return ctx.fail("expected object (" + std::string(s.name) + ")");
  // Which fields were read, on the stack for the model's structs (all have fewer than 128
  // fields): this runs for every nested struct of every entity the store hands back.
  constexpr std::size_t kInline = 128;
  std::bitset<kInline> seen_inline;
  std::vector<bool> seen_heap(s.fields.size() > kInline ? s.fields.size() : 0, false);
  auto seen = [&](std::size_t i) -> bool { return i < kInline && seen_heap.empty() ? seen_inline[i] : seen_heap[i]; };
  auto see = [&](std::size_t i) {
    if (seen_heap.empty()) seen_inline[i] = true;
    else seen_heap[i] = true;
  };
  for (auto m = in.MemberBegin(); m != in.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    const std::size_t mark = ctx.mark();
    ctx.push_field(name);
    const FieldInfo* f = s.find(name);
    if (!f) return ctx.fail("unknown field of " + std::string(s.name));
    const std::size_t index = static_cast<std::size_t>(f - s.fields.data());
    // RapidJSON keeps duplicate keys; refusing them keeps "last one wins" surprises out.
    if (seen(index)) return ctx.fail("duplicate field");
    see(index);
    if (!f->read(obj, m->value, ctx)) return false;
    ctx.pop(mark);
  }
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    if (seen(i) || !s.fields[i].required()) continue;
    const std::size_t mark = ctx.mark();
    ctx.push_field(s.fields[i].name);
    ctx.fail("required field missing");
    ctx.pop(mark);
    return false;
  }
  for (const auto& rule : s.validators) {
    if (std::string why = rule(obj); !why.empty()) return ctx.fail(why);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Date formats

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int num(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Checks the date part (s[0..len)) and returns its length, or 0 when malformed.
std::size_t date_prefix(std::string_view s) {
  if (!digits(s, 0, 4)) return 0;
  if (s.size() == 4 || s[4] != '-') return 4;
  if (!digits(s, 5, 2)) return 0;
  const int month = num(s, 5, 2);
  if (month < 1 || month > 12) return 0;
  if (s.size() == 7 || s[7] != '-') return 7;
  if (!digits(s, 8, 2)) return 0;
  const int day = num(s, 8, 2);
  if (day < 1 || day > days_in_month(num(s, 0, 4), month)) return 0;
  return 10;
}

}  // namespace

std::string check_date(std::string_view s) {
  const std::size_t n = date_prefix(s);
  if (n == 0 || n != s.size()) return "expected date YYYY, YYYY-MM or YYYY-MM-DD";
  return "";
}

std::string check_date_time(std::string_view s) {
  static const std::string kExpected =
      "expected dateTime: a date, or YYYY-MM-DDThh:mm[:ss[.f]] with Z or an offset +hh:mm";
  const std::size_t n = date_prefix(s);
  if (n == 0) return kExpected;
  if (n == s.size()) return "";
  if (n != 10 || s[n] != 'T') return kExpected;
  std::size_t p = n + 1;
  if (!digits(s, p, 2) || p + 2 >= s.size() || s[p + 2] != ':' || !digits(s, p + 3, 2))
    return kExpected;
  if (num(s, p, 2) > 23 || num(s, p + 3, 2) > 59) return kExpected;
  p += 5;
  if (p < s.size() && s[p] == ':') {
    if (!digits(s, p + 1, 2) || num(s, p + 1, 2) > 60) return kExpected;  // 60: leap second
    p += 3;
    if (p < s.size() && s[p] == '.') {
      const std::size_t start = ++p;
      while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
      if (p == start) return kExpected;
    }
  }
  if (p == s.size()) return "dateTime with a time needs Z or an offset (+hh:mm)";
  if (s[p] == 'Z') return p + 1 == s.size() ? "" : kExpected;
  if ((s[p] == '+' || s[p] == '-') && p + 6 == s.size() && digits(s, p + 1, 2) &&
      s[p + 3] == ':' && digits(s, p + 4, 2) && num(s, p + 1, 2) <= 14 && num(s, p + 4, 2) <= 59)
    return "";
  return kExpected;
}

// ---------------------------------------------------------------------------------------------
// Entry points

namespace {

// RapidJSON's default document allocator takes its first 64 KiB chunk from malloc for every
// document, and the store and the ingest convert a few entities per message; a care entity's
// DOM fits in a few KiB, so each thread starts every document in one reused buffer instead
// (a larger one still spills into malloc'ed chunks as usual).
class ScratchPool {
 public:
  static constexpr std::size_t kBytes = 32 * 1024;
  ScratchPool() : buffer_(new std::uint64_t[kBytes / sizeof(std::uint64_t)]), pool_(buffer_.get(), kBytes) {}
  rapidjson::MemoryPoolAllocator<>& allocator() { return pool_; }

 private:
  std::unique_ptr<std::uint64_t[]> buffer_;
  rapidjson::MemoryPoolAllocator<> pool_;
};

// A document on this thread's scratch buffer; nested use (not needed today) gets its own pool.
class ScratchDocument {
 public:
  ScratchDocument() : pool_(depth_++ == 0 ? nullptr : std::make_unique<ScratchPool>()) {
    ScratchPool& p = pool_ ? *pool_ : thread_pool();
    doc_.emplace(&p.allocator());
  }
  ~ScratchDocument() {
    doc_.reset();
    ScratchPool& p = pool_ ? *pool_ : thread_pool();
    p.allocator().Clear();  // frees the spilled chunks, keeps the buffer
    --depth_;
  }
  ScratchDocument(const ScratchDocument&) = delete;
  ScratchDocument& operator=(const ScratchDocument&) = delete;
  rapidjson::Document& operator*() { return *doc_; }
  rapidjson::Document* operator->() { return &*doc_; }

 private:
  static ScratchPool& thread_pool() {
    thread_local ScratchPool pool;
    return pool;
  }
  static inline thread_local int depth_ = 0;
  std::unique_ptr<ScratchPool> pool_;
  std::optional<rapidjson::Document> doc_;
};

}  // namespace

std::string json_root_name(const StructInfo& s) {
  for (const EntityInfo& e : entities())
    if (&e.info() == &s) return std::string(e.path_name);
  std::string name(s.name);
  if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return name;
}

std::string struct_to_json(const StructInfo& s, const void* obj, bool pretty) {
  ScratchDocument scratch;
  rapidjson::Document& doc = *scratch;
  write_struct(s, obj, doc, doc.GetAllocator());
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    doc.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

Status<JsonError> struct_from_value(const StructInfo& s, void* obj, const rapidjson::Value& in) {
  ReadContext ctx(json_root_name(s));
  if (!read_struct(s, obj, in, ctx)) return err(JsonError{ctx.error_path(), ctx.error_message()});
  return {};
}

namespace {

bool check_struct(const StructInfo& s, const void* obj, ReadContext& ctx);

// One written value, checked as read_value would check it once parsed.
bool check_value(const FieldInfo& f, const void* value, ReadContext& ctx) {
  switch (f.kind) {
    case Kind::kString:
    case Kind::kDate:
    case Kind::kDateTime: {
      const std::string& v = *static_cast<const std::string*>(value);
      if (v.empty()) return ctx.fail("empty string; omit the field instead");
      if (f.kind == Kind::kDate) {
        if (std::string why = check_date(v); !why.empty()) return ctx.fail(why);
      } else if (f.kind == Kind::kDateTime) {
        if (std::string why = check_date_time(v); !why.empty()) return ctx.fail(why);
      }
      return true;
    }
    case Kind::kStruct:
      return check_struct(*f.struct_info(), value, ctx);
    case Kind::kBoolean:
    case Kind::kInteger:
    case Kind::kEnum:
      return true;  // written from a value of the member's own type: always reads back
  }
  return true;
}

// read_struct's checks, in its order, on what write_struct would write: each present field in
// field order (JSON member order), then required fields that are absent, then the rules.
bool check_struct(const StructInfo& s, const void* obj, ReadContext& ctx) {
  for (const FieldInfo& f : s.fields) {
    const std::size_t n = f.count(obj);  // 0 exactly when write_struct leaves the field out
    if (n == 0) continue;
    const std::size_t mark = ctx.mark();
    ctx.push_field(f.name);
    if (f.shape == Shape::kList) {
      if (f.max_items && n > f.max_items)
        return ctx.fail("at most " + std::to_string(f.max_items) + " items allowed, got " + std::to_string(n));
      if (n < f.min_items) return ctx.fail("at least " + std::to_string(f.min_items) + " items required");
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t item = ctx.mark();
        ctx.push_index(i);
        if (!check_value(f, f.element(obj, i), ctx)) return false;
        ctx.pop(item);
      }
    } else if (!check_value(f, f.element(obj, 0), ctx)) {
      return false;
    }
    ctx.pop(mark);
  }
  for (const FieldInfo& f : s.fields) {
    if (!f.required() || f.count(obj) != 0) continue;
    ctx.push_field(f.name);
    return ctx.fail("required field missing");
  }
  for (const auto& rule : s.validators) {
    if (std::string why = rule(obj); !why.empty()) return ctx.fail(why);
  }
  return true;
}

}  // namespace

Status<JsonError> struct_check(const StructInfo& s, const void* obj) {
  ReadContext ctx(json_root_name(s));
  if (!check_struct(s, obj, ctx)) return err(JsonError{ctx.error_path(), ctx.error_message()});
  return {};
}

// struct_from_json: json_sax.cc.

}  // namespace midhurst::care
