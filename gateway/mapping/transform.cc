#include "mapping/transform.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "care/nhs_number.h"
#include "hl7v2/types.h"

namespace midhurst::mapping {

const char* value_kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kText: return "text";
    case ValueKind::kDate: return "date";
    case ValueKind::kDateTime: return "dateTime";
    case ValueKind::kBoolean: return "boolean";
    case ValueKind::kInteger: return "integer";
    case ValueKind::kCoding: return "Coding";
  }
  return "?";
}

namespace {

struct OpName {
  const char* name;
  Transform::Op op;
  bool has_arg;
};
constexpr OpName kOps[] = {
    {"trim", Transform::Op::kTrim, false},          {"upper", Transform::Op::kUpper, false},
    {"lower", Transform::Op::kLower, false},        {"nhsNumber", Transform::Op::kNhsNumber, false},
    {"date", Transform::Op::kDate, false},          {"dateTime", Transform::Op::kDateTime, false},
    {"boolean", Transform::Op::kBoolean, false},    {"integer", Transform::Op::kInteger, false},
    {"substring", Transform::Op::kSubstring, true}, {"stripPrefix", Transform::Op::kStripPrefix, true},
    {"addPrefix", Transform::Op::kAddPrefix, true}, {"addSuffix", Transform::Op::kAddSuffix, true},
    {"replace", Transform::Op::kReplace, true},     {"split", Transform::Op::kSplit, true},
    {"concat", Transform::Op::kConcat, true},       {"sourcePath", Transform::Op::kSourcePath, false},
};

std::string known_ops() {
  std::string out;
  for (const OpName& o : kOps) {
    if (!out.empty()) out += ", ";
    out += o.name;
  }
  return out;
}

// Checks that an argument object has only `allowed` keys.
bool only_keys(const JsonNode& obj, std::initializer_list<std::string_view> allowed, const ErrorSink& sink,
               std::string_view step) {
  bool ok = true;
  for (const JsonMember& m : obj.members) {
    if (std::find(allowed.begin(), allowed.end(), m.key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      sink.at(m.key_offset, "unknown key '" + m.key + "' in " + std::string(step) + " (allowed: " + list + ")");
      ok = false;
    }
  }
  return ok;
}

}  // namespace

std::optional<Transform> Transform::from_json(const JsonNode& node, const ErrorSink& sink, V2Level context) {
  std::string name;
  const JsonNode* arg = nullptr;
  if (node.is_string()) {
    name = node.string;
  } else if (node.is_object() && node.members.size() == 1) {
    name = node.members[0].key;
    arg = &node.members[0].value;
  } else {
    sink.at(node, "a transform step is a name (\"trim\") or an object with one key ({\"stripPrefix\": \"NSTS\"})");
    return std::nullopt;
  }
  const OpName* op = nullptr;
  for (const OpName& o : kOps)
    if (name == o.name) op = &o;
  const std::size_t name_offset = node.is_string() ? node.offset : node.members[0].key_offset;
  if (!op) {
    sink.at(name_offset, "unknown transform '" + name + "' (known: " + known_ops() + ")");
    return std::nullopt;
  }
  if (op->has_arg && !arg) {
    sink.at(node, "transform '" + name + "' needs an argument: {\"" + name + "\": ...}");
    return std::nullopt;
  }
  if (!op->has_arg && arg) {
    sink.at(*arg, "transform '" + name + "' takes no argument; write it as \"" + name + "\"");
    return std::nullopt;
  }
  Transform t;
  t.op = op->op;
  auto need_string = [&](const JsonNode* n, std::string& out, const char* what) {
    if (!n || !n->is_string()) {
      sink.at(n ? *n : *arg, std::string(what) + " must be a string");
      return false;
    }
    out = n->string;
    return true;
  };
  auto need_int = [&](const JsonNode* n, std::int64_t& out, const char* what) {
    if (!n || n->type != JsonNode::Type::kNumber || !n->is_integer) {
      sink.at(n ? *n : *arg, std::string(what) + " must be an integer");
      return false;
    }
    out = n->integer;
    return true;
  };
  switch (t.op) {
    case Op::kStripPrefix:
    case Op::kAddPrefix:
    case Op::kAddSuffix:
      if (!need_string(arg, t.arg, name.c_str())) return std::nullopt;
      if (t.arg.empty()) {
        sink.at(*arg, "the " + name + " text must not be empty");
        return std::nullopt;
      }
      break;
    case Op::kSubstring: {
      if (!arg->is_object() || !only_keys(*arg, {"start", "length"}, sink, "substring")) {
        if (!arg->is_object()) sink.at(*arg, "substring takes {\"start\": n, \"length\": n}");
        return std::nullopt;
      }
      if (!need_int(arg->find("start"), t.start, "substring start")) return std::nullopt;
      if (arg->find("length") && !need_int(arg->find("length"), t.length, "substring length")) return std::nullopt;
      if (t.start < 0 || (arg->find("length") && t.length < 0)) {
        sink.at(*arg, "substring start and length must not be negative");
        return std::nullopt;
      }
      break;
    }
    case Op::kReplace:
      if (!arg->is_object() || !only_keys(*arg, {"from", "to"}, sink, "replace")) {
        if (!arg->is_object()) sink.at(*arg, "replace takes {\"from\": \"x\", \"to\": \"y\"}");
        return std::nullopt;
      }
      if (!need_string(arg->find("from"), t.arg, "replace from") || !need_string(arg->find("to"), t.arg2, "replace to"))
        return std::nullopt;
      if (t.arg.empty()) {
        sink.at(*arg->find("from"), "replace 'from' must not be empty");
        return std::nullopt;
      }
      break;
    case Op::kSplit: {
      if (!arg->is_object() || !only_keys(*arg, {"separator", "index"}, sink, "split")) {
        if (!arg->is_object()) sink.at(*arg, "split takes {\"separator\": \" \", \"index\": 0}");
        return std::nullopt;
      }
      if (!need_string(arg->find("separator"), t.arg2, "split separator")) return std::nullopt;
      if (t.arg2.empty()) {
        sink.at(*arg->find("separator"), "split separator must not be empty");
        return std::nullopt;
      }
      if (const JsonNode* i = arg->find("index")) {
        std::int64_t v = 0;
        if (!need_int(i, v, "split index")) return std::nullopt;
        t.index = v;
      }
      break;
    }
    case Op::kConcat: {
      if (!arg->is_object() || !only_keys(*arg, {"with", "separator"}, sink, "concat")) {
        if (!arg->is_object()) sink.at(*arg, "concat takes {\"with\": [paths], \"separator\": \" \"}");
        return std::nullopt;
      }
      const JsonNode* with = arg->find("with");
      if (!with || !with->is_array() || with->items.empty()) {
        sink.at(with ? *with : *arg, "concat needs 'with': a non-empty array of source paths");
        return std::nullopt;
      }
      if (const JsonNode* sep = arg->find("separator"); sep && !need_string(sep, t.arg2, "concat separator"))
        return std::nullopt;
      bool ok = true;
      for (const JsonNode& p : with->items) {
        if (!p.is_string()) {
          sink.at(p, "a concat path must be a string");
          ok = false;
          continue;
        }
        auto path = V2Path::parse(p.string, context);
        if (!path) {
          sink.at(p, "bad source path '" + p.string + "': " + path.error().message, path.error().offset);
          ok = false;
          continue;
        }
        if (path->iterates()) {
          sink.at(p, "a concat path cannot iterate ([*])");
          ok = false;
          continue;
        }
        t.with.push_back(std::move(*path));
      }
      if (!ok) return std::nullopt;
      break;
    }
    default:
      break;
  }
  return t;
}

Result<ValueKind, std::string> Transform::output_kind(ValueKind in) const {
  if (in != ValueKind::kText) {
    return err("'" + std::string([this] {
                 for (const OpName& o : kOps)
                   if (o.op == op) return o.name;
                 return "?";
               }()) + "' needs text, but the value is already " + value_kind_name(in) +
               " at this step");
  }
  switch (op) {
    case Op::kDate: return ValueKind::kDate;
    case Op::kDateTime: return ValueKind::kDateTime;
    case Op::kBoolean: return ValueKind::kBoolean;
    case Op::kInteger: return ValueKind::kInteger;
    default: return ValueKind::kText;
  }
}

namespace {

// The text forms below are built by appending digits: every date and dateTime rule of every
// message goes through them, and snprintf per number was a visible share of a translation.
void append_padded(std::string& out, int v, int width) {
  if (v < 0 || v >= (width == 2 ? 100 : 10000)) {  // not a calendar value: as printf would
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*d", width, v);
    out += buf;
    return;
  }
  char buf[4];
  for (int i = width - 1; i >= 0; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
  out.append(buf, static_cast<std::size_t>(width));
}

void append_date(std::string& out, const hl7v2::Timestamp& t) {
  append_padded(out, t.year, 4);
  if (t.precision >= hl7v2::TimePrecision::kMonth) out += '-', append_padded(out, t.month, 2);
  if (t.precision >= hl7v2::TimePrecision::kDay) out += '-', append_padded(out, t.day, 2);
}

std::string date_text(const hl7v2::Timestamp& t) {
  std::string out;
  append_date(out, t);
  return out;
}

void append_offset(std::string& out, int seconds) {
  // FHIR offsets are hh:mm; a zone whose offset has seconds (only local mean time before 1900)
  // is cut to whole minutes.
  const int a = seconds < 0 ? -seconds : seconds;
  out += seconds < 0 ? '-' : '+';
  append_padded(out, a / 3600, 2);
  out += ':';
  append_padded(out, a / 60 % 60, 2);
}

std::size_t utf8_advance(const std::string& s, std::size_t pos, std::int64_t chars) {
  while (pos < s.size() && chars > 0) {
    ++pos;
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    --chars;
  }
  return pos;
}

}  // namespace

Result<std::string, std::string> hl7_to_date(std::string_view ts) {
  auto t = hl7v2::parse_timestamp(ts);
  if (!t) return err(t.error());
  return date_text(*t);
}

Result<std::string, std::string> hl7_to_date_time(std::string_view ts, const TimeZone& zone, std::string* note) {
  auto parsed = hl7v2::parse_timestamp(ts);
  if (!parsed) return err(parsed.error());
  hl7v2::Timestamp t = *parsed;
  if (t.precision <= hl7v2::TimePrecision::kDay) return date_text(t);
  int offset = 0;
  if (t.offset_minutes) {
    offset = *t.offset_minutes * 60;
  } else {
    const std::int64_t local =
        days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
    const TimeZone::Local r = zone.resolve(local);
    offset = r.offset_seconds;
    if (r.kind == TimeZone::Local::Kind::kGap) {
      // The wall time never happened (clocks went forward): read it in the old offset, which puts
      // the instant after the gap, and show that instant in the new offset.
      const std::int64_t shifted = local - r.offset_seconds + r.other_offset_seconds;
      std::int64_t days = shifted / 86400 - (shifted % 86400 < 0 ? 1 : 0);
      const std::int64_t secs = shifted - days * 86400;
      civil_from_days(days, t.year, t.month, t.day);
      t.hour = static_cast<int>(secs / 3600);
      t.minute = static_cast<int>(secs / 60 % 60);
      t.second = static_cast<int>(secs % 60);
      offset = r.other_offset_seconds;
      if (note)
        *note = "local time " + std::string(ts) + " does not exist in " + zone.name() +
                " (clocks went forward); read as the instant after the gap";
    }
  }
  std::string out;
  out.reserve(32);
  append_date(out, t);
  out += 'T';
  append_padded(out, t.hour, 2);
  out += ':';
  append_padded(out, t.minute, 2);
  // FHIR dateTime has no hour-only form: an hour-precision time gets ":00" minutes.
  if (t.precision >= hl7v2::TimePrecision::kSecond) {
    out += ':';
    append_padded(out, t.second, 2);
    if (t.fraction_digits > 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%0*d", t.fraction_digits, t.fraction);
      out += '.';
      out += buf;
    }
  }
  append_offset(out, offset);
  return out;
}

namespace {
// The "C" locale's toupper (the process never sets another), inlined: no library call per byte,
// and UTF-8 bytes are never touched.
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }
}  // namespace

Status<std::string> apply(const Transform& t, std::vector<Item>& items, const TransformEnv& env,
                          Cursor* failed_at) {
  using Op = Transform::Op;
  // Values change in place; only a split into every piece builds a new list.
  const bool expands = t.multiplies();
  std::vector<Item> out;
  for (Item& item : items) {
    auto* text = std::get_if<std::string>(&item.value);
    if (!text) {  // load-time kind checks make this unreachable
      *failed_at = item.where;
      return err(std::string("internal: transform on a non-text value"));
    }
    std::string& s = *text;
    auto fail = [&](std::string why) {
      *failed_at = item.where;
      return err(std::move(why));
    };
    switch (t.op) {
      case Op::kTrim: {
        const auto b = s.find_first_not_of(" \t");
        if (b == std::string::npos) {
          s.clear();
        } else {
          s.erase(s.find_last_not_of(" \t") + 1);
          s.erase(0, b);
        }
        break;
      }
      case Op::kUpper:
        for (char& c : s) c = ascii_upper(c);
        break;
      case Op::kLower:
        for (char& c : s) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
        break;
      case Op::kNhsNumber: {
        auto n = care::parse_nhs_number(s);
        if (!n) return fail("'" + s + "' is not a valid NHS number: " + n.error());
        s = *n;
        break;
      }
      case Op::kDate: {
        auto d = hl7_to_date(s);
        if (!d) return fail(d.error());
        s = *d;
        break;
      }
      case Op::kDateTime: {
        std::string note;
        auto d = hl7_to_date_time(s, *env.zone, &note);
        if (!d) return fail(d.error());
        if (!note.empty() && env.notes) env.notes->push_back(note);
        s = *d;
        break;
      }
      case Op::kBoolean: {
        std::string u;
        for (char c : s) u += ascii_upper(c);
        if (u == "Y" || u == "YES" || u == "T" || u == "TRUE" || u == "1") item.value = true;
        else if (u == "N" || u == "NO" || u == "F" || u == "FALSE" || u == "0") item.value = false;
        else return fail("'" + s + "' is not a yes/no value (Y, N, TRUE, FALSE, 1, 0)");
        break;
      }
      case Op::kInteger: {
        std::size_t i = (s.size() > 1 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
        if (i == s.size() || s.size() > 18 || !std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
          return fail("'" + s + "' is not an integer");
        item.value = static_cast<std::int64_t>(std::stoll(s));
        break;
      }
      case Op::kSubstring: {
        const std::size_t b = utf8_advance(s, 0, t.start);
        const std::size_t e = t.length < 0 ? s.size() : utf8_advance(s, b, t.length);
        s = s.substr(b, e - b);
        break;
      }
      case Op::kStripPrefix:
        if (s.compare(0, t.arg.size(), t.arg) == 0) s.erase(0, t.arg.size());
        break;
      case Op::kAddPrefix: s.insert(0, t.arg); break;
      case Op::kAddSuffix: s += t.arg; break;
      case Op::kReplace: {
        std::string r;
        for (std::size_t i = 0; i < s.size();) {
          if (s.compare(i, t.arg.size(), t.arg) == 0) {
            r += t.arg2;
            i += t.arg.size();
          } else {
            r += s[i++];
          }
        }
        s = std::move(r);
        break;
      }
      case Op::kSplit: {
        std::vector<std::string> pieces;
        for (std::size_t b = 0;;) {
          const std::size_t e = s.find(t.arg2, b);
          pieces.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
          if (e == std::string::npos) break;
          b = e + t.arg2.size();
        }
        if (t.index) {
          const std::int64_t n = static_cast<std::int64_t>(pieces.size());
          const std::int64_t i = *t.index < 0 ? n + *t.index : *t.index;
          s = i >= 0 && i < n ? pieces[static_cast<std::size_t>(i)] : "";
        } else {
          for (std::string& p : pieces) {
            if (p.empty()) continue;
            Item piece = item;
            piece.value = std::move(p);
            out.push_back(std::move(piece));
          }
          continue;
        }
        break;
      }
      case Op::kSourcePath:
        if (!env.message) return fail("sourcePath names a place in an HL7v2 message, and there is none here");
        s = item.where.to_string(*env.message);
        break;
      case Op::kConcat: {
        std::string scratch;
        for (const V2Path& p : t.with) {
          p.expand(*env.message, env.context, [&](const Cursor& c) {
            const std::string v = c.element(*env.message).text();
            if (v.empty()) return;
            if (env.on_read) env.on_read(c);
            if (!s.empty()) s += t.arg2;
            s += v;
          });
        }
        break;
      }
    }
  }
  if (expands) items = std::move(out);
  // A value that became empty is no value (e.g. "NSTS" stripped to "").
  std::erase_if(items, [](const Item& i) {
    const auto* s = std::get_if<std::string>(&i.value);
    return s && s->empty();
  });
  return {};
}

}  // namespace midhurst::mapping
