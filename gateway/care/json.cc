#include "care/json.h"

#include <cctype>
#include <vector>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
  std::vector<bool> seen(s.fields.size(), false);
  for (auto m = in.MemberBegin(); m != in.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    const std::size_t mark = ctx.mark();
    ctx.push_field(name);
    const FieldInfo* f = s.find(name);
    if (!f) return ctx.fail("unknown field of " + std::string(s.name));
    const std::size_t index = static_cast<std::size_t>(f - s.fields.data());
    // RapidJSON keeps duplicate keys; refusing them keeps "last one wins" surprises out.
    if (seen[index]) return ctx.fail("duplicate field");
    seen[index] = true;
    if (!f->read(obj, m->value, ctx)) return false;
    ctx.pop(mark);
  }
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    if (seen[i] || !s.fields[i].required()) continue;
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

std::string json_root_name(const StructInfo& s) {
  for (const EntityInfo& e : entities())
    if (&e.info() == &s) return std::string(e.path_name);
  std::string name(s.name);
  if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return name;
}

std::string struct_to_json(const StructInfo& s, const void* obj, bool pretty) {
  rapidjson::Document doc;
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

Status<JsonError> struct_from_json(const StructInfo& s, void* obj, std::string_view json) {
  rapidjson::Document doc;
  // kParseStopWhenDoneFlag is not set, so trailing garbage after the object is an error too.
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    return err(JsonError{json_root_name(s),
                         "invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                             rapidjson::GetParseError_En(doc.GetParseError())});
  return struct_from_value(s, obj, doc);
}

}  // namespace midhurst::care
