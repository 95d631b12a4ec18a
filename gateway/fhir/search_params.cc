#include "fhir/search_params.h"

#include <cctype>
#include <charconv>

namespace midhurst::fhir {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss[.fff]] followed by Z or +/-hh:mm.
bool valid_date_text(std::string_view s) {
  auto num = [&](size_t at, size_t n, int lo, int hi) {
    if (s.size() < at + n || !all_digits(s.substr(at, n))) return false;
    int v = 0;
    std::from_chars(s.data() + at, s.data() + at + n, v);
    return v >= lo && v <= hi;
  };
  if (!num(0, 4, 1, 9999)) return false;
  if (s.size() == 4) return true;
  if (s[4] != '-' || !num(5, 2, 1, 12)) return false;
  if (s.size() == 7) return true;
  if (s.size() < 10 || s[7] != '-' || !num(8, 2, 1, 31)) return false;
  if (s.size() == 10) return true;
  if (s[10] != 'T' || !num(11, 2, 0, 23) || s.size() < 16 || s[13] != ':' || !num(14, 2, 0, 59)) return false;
  size_t at = 16;
  if (at < s.size() && s[at] == ':') {
    if (!num(at + 1, 2, 0, 60)) return false;
    at += 3;
    if (at < s.size() && s[at] == '.') {
      size_t digits = at + 1;
      while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
      if (digits == at + 1) return false;
      at = digits;
    }
  }
  const std::string_view zone = s.substr(at);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && num(at + 1, 2, 0, 14) && zone[3] == ':' &&
         num(at + 4, 2, 0, 59);
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  return true;
}

bool is_type_name(std::string_view s) {
  return !s.empty() && std::isupper(static_cast<unsigned char>(s[0])) &&
         s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
}

midhurst::Result<IncludeParam, std::string> parse_include(std::string_view name, std::string_view value) {
  const std::string v(value);
  if (v.find(":iterate") != std::string::npos || v.find(":recurse") != std::string::npos)
    return err(std::string(name) + "=" + v + ": :iterate is not supported");
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t colon = v.find(':'); ; colon = v.find(':', start)) {
    parts.push_back(v.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 1 && parts[0] == "*")
    return err(std::string(name) + "=*: wildcard includes are not supported; name Type:param");
  if (parts.size() < 2 || parts.size() > 3 || !is_type_name(parts[0]) || parts[1].empty() ||
      (parts.size() == 3 && !is_type_name(parts[2])))
    return err(std::string(name) + "=" + v + ": expected Type:param or Type:param:TargetType");
  return IncludeParam{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
}

}  // namespace

std::string_view to_code(DateComparator c) {
  switch (c) {
    case DateComparator::kEq: return "eq";
    case DateComparator::kNe: return "ne";
    case DateComparator::kLt: return "lt";
    case DateComparator::kGt: return "gt";
    case DateComparator::kLe: return "le";
    case DateComparator::kGe: return "ge";
    case DateComparator::kSa: return "sa";
    case DateComparator::kEb: return "eb";
  }
  return "eq";
}

std::vector<std::string> split_escaped(std::string_view text, char separator) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      parts.back() += text[i];
      parts.back() += text[++i];
    } else if (text[i] == separator) {
      parts.emplace_back();
    } else {
      parts.back() += text[i];
    }
  }
  return parts;
}

std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() &&
        (text[i + 1] == '|' || text[i + 1] == ',' || text[i + 1] == '$' || text[i + 1] == '\\'))
      ++i;
    out += text[i];
  }
  return out;
}

midhurst::Result<TokenValue, std::string> parse_token(std::string_view text) {
  const std::vector<std::string> parts = split_escaped(text, '|');
  if (parts.size() > 2) return err(std::string("more than one unescaped '|'"));
  TokenValue t;
  if (parts.size() == 1) {
    t.code = unescape(parts[0]);
    if (t.code.empty()) return err(std::string("empty value"));
    return t;
  }
  t.system = unescape(parts[0]);
  t.code = unescape(parts[1]);
  if (t.system->empty() && t.code.empty()) return err(std::string("neither a system nor a code"));
  return t;
}

midhurst::Result<DateValue, std::string> parse_date(std::string_view text) {
  DateValue d;
  static constexpr std::pair<std::string_view, DateComparator> kPrefixes[] = {
      {"eq", DateComparator::kEq}, {"ne", DateComparator::kNe}, {"lt", DateComparator::kLt},
      {"gt", DateComparator::kGt}, {"le", DateComparator::kLe}, {"ge", DateComparator::kGe},
      {"sa", DateComparator::kSa}, {"eb", DateComparator::kEb}};
  std::string_view rest = text;
  if (rest.size() >= 2 && std::isalpha(static_cast<unsigned char>(rest[0]))) {
    const std::string_view p = rest.substr(0, 2);
    if (p == "ap") return err(std::string("the prefix ap (approximately) is not supported"));
    bool known = false;
    for (const auto& [code, c] : kPrefixes)
      if (code == p) {
        d.comparator = c;
        known = true;
      }
    if (!known) return err("unknown prefix \"" + std::string(p) + "\" (use eq, ne, lt, gt, le, ge, sa or eb)");
    rest.remove_prefix(2);
  }
  d.value = std::string(rest);
  // A '+' of an offset arrives as a space when the client did not percent-encode it (form
  // decoding of the query); put it back rather than refuse a common mistake.
  if (d.value.size() > 6 && d.value[d.value.size() - 6] == ' ') d.value[d.value.size() - 6] = '+';
  if (!valid_date_text(d.value))
    return err("\"" + std::string(rest) +
               "\" is not a date (YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss] with Z or an offset)");
  return d;
}

midhurst::Result<ReferenceValue, std::string> parse_reference(std::string_view text) {
  std::string_view v = text;
  ReferenceValue r;
  // An absolute URL: keep its last two segments (the server's own base is not checked here).
  if (v.find("://") != std::string_view::npos) {
    const size_t last = v.rfind('/');
    const size_t before = last == std::string_view::npos || last == 0 ? std::string_view::npos : v.rfind('/', last - 1);
    if (before == std::string_view::npos) return err("\"" + std::string(text) + "\" is not a Type/id URL");
    v = v.substr(before + 1);
  }
  const size_t slash = v.find('/');
  if (slash != std::string_view::npos) {
    r.type = std::string(v.substr(0, slash));
    r.id = std::string(v.substr(slash + 1));
    if (!is_type_name(r.type)) return err("\"" + r.type + "\" is not a resource type");
  } else {
    r.id = std::string(v);
  }
  if (!valid_id(r.id)) return err("\"" + r.id + "\" is not a resource id");
  return r;
}

midhurst::Result<SearchRequest, std::string> parse_search(const std::vector<std::pair<std::string, std::string>>& query,
                                                const ParamKinds& kinds, const SearchParseOptions& options) {
  SearchRequest out;
  for (const auto& [raw_name, value] : query) {
    const size_t colon = raw_name.find(':');
    const std::string name = raw_name.substr(0, colon);
    const std::string modifier = colon == std::string::npos ? "" : raw_name.substr(colon + 1);
    auto bad = [&](const std::string& why) { return err(raw_name + "=" + value + ": " + why); };

    if (name == "_count") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > options.max_count)
        return bad("expected a whole number from 1 to " + std::to_string(options.max_count));
      out.count = n;
    } else if (name == "_sort") {
      for (const std::string& part : split_escaped(value, ',')) {
        SortKey k;
        k.descending = !part.empty() && part[0] == '-';
        k.param = part.substr(k.descending ? 1 : 0);
        if (k.param.empty()) return bad("an empty sort key");
        out.sort.push_back(std::move(k));
      }
    } else if (name == "_include" || name == "_revinclude") {
      if (!modifier.empty()) return err(raw_name + ": the :" + modifier + " modifier is not supported");
      auto inc = parse_include(name, value);
      if (!inc) return err(inc.error());
      (name == "_include" ? out.includes : out.revincludes).push_back(std::move(*inc));
    } else if (name == "_summary") {
      if (value == "count") out.summary = SummaryMode::kCount;
      else if (value != "false") return bad("only _summary=count (and false) is supported");
    } else if (name == "_total") {
      if (value == "none") out.total = TotalMode::kNone;
      else if (value == "estimate") out.total = TotalMode::kEstimate;
      else if (value == "accurate") out.total = TotalMode::kAccurate;
      else return bad("expected none, estimate or accurate");
    } else if (name == "_format") {
      out.format = value;
    } else if (name == "_pretty") {
      if (value != "true" && value != "false") return bad("expected true or false");
      out.pretty = value == "true";
    } else if (name == "_cursor") {
      out.cursor = value;
    } else if (name == "_elements" || name == "_contained" || name == "_containedType" || name == "_query" ||
               name == "_filter" || name == "_list" || name == "_has" || name == "_text" || name == "_content") {
      return err(raw_name + " is not supported by this server");
    } else if (name.find('.') != std::string::npos) {
      return err(raw_name + ": chained parameters are not supported");
    } else {
      auto kind = kinds.find(name);
      if (kind == kinds.end()) {
        out.unknown.push_back(raw_name);
        continue;
      }
      SearchParam p;
      p.name = name;
      p.type = kind->second;
      if (modifier == "missing" || modifier == "not" || modifier == "text" || modifier == "above" ||
          modifier == "below" || modifier == "in" || modifier == "not-in" || modifier == "of-type" ||
          modifier == "identifier" || modifier == "exact" || modifier == "contains")
        return err(raw_name + ": the :" + modifier + " modifier is not supported");
      if (!modifier.empty()) {
        // Reference modifiers naming a type (subject:Patient) are the only others FHIR has.
        if (p.type != SearchParamType::kReference || !is_type_name(modifier))
          return err(raw_name + ": unknown modifier :" + modifier);
      }
      if (value.empty()) return bad("an empty value");
      switch (p.type) {
        case SearchParamType::kToken:
          for (const std::string& part : split_escaped(value, ',')) {
            auto t = parse_token(part);
            if (!t) return bad(t.error());
            p.tokens.push_back(std::move(*t));
          }
          break;
        case SearchParamType::kDate: {
          // A comma in a date is OR too, but the store ANDs repeated dates; refuse rather than
          // silently narrow.
          if (split_escaped(value, ',').size() > 1) return bad("several dates joined by ',' are not supported");
          auto d = parse_date(value);
          if (!d) return bad(d.error());
          p.dates.push_back(std::move(*d));
          break;
        }
        case SearchParamType::kString:
          for (const std::string& part : split_escaped(value, ',')) p.strings.push_back(unescape(part));
          break;
        case SearchParamType::kReference:
          for (const std::string& part : split_escaped(value, ',')) {
            auto r = parse_reference(unescape(part));
            if (!r) return bad(r.error());
            if (!modifier.empty()) {
              if (!r->type.empty() && r->type != modifier) return bad("the reference type does not match :" + modifier);
              r->type = modifier;
            }
            p.references.push_back(std::move(*r));
          }
          break;
      }
      out.params.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace midhurst::fhir
