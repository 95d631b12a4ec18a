#include "store/cursor.h"

#include <charconv>

namespace midhurst::store {

namespace {

// Hex keeps the cursor URL-safe whatever bytes an id or key holds.
std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = s[i + k];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out += static_cast<char>(v);
  }
  return out;
}

}  // namespace

std::string encode_cursor(const SearchCursor& c) {
  return "s1." + std::to_string(static_cast<int>(c.sort)) + (c.before ? ".p." : ".n.") + hex(c.key) +
         "." + hex(c.id);
}

std::optional<SearchCursor> decode_cursor(std::string_view t) {
  // s1.<sort>.<n|p>.<hex key>.<hex id>
  if (t.size() < 8 || t.substr(0, 3) != "s1.") return std::nullopt;
  SearchCursor c;
  char sort = t[3];
  if (sort < '0' || sort > '2' || t[4] != '.' || (t[5] != 'n' && t[5] != 'p') || t[6] != '.')
    return std::nullopt;
  c.sort = static_cast<SortOrder>(sort - '0');
  c.before = t[5] == 'p';
  std::string_view rest = t.substr(7);
  std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto key = unhex(rest.substr(0, dot));
  auto id = unhex(rest.substr(dot + 1));
  if (!key || !id || id->empty()) return std::nullopt;
  c.key = std::move(*key);
  c.id = std::move(*id);
  return c;
}

std::string encode_history_cursor(std::int64_t seq) { return "h1." + std::to_string(seq); }

std::optional<std::int64_t> decode_history_cursor(std::string_view t) {
  if (t.substr(0, 3) != "h1.") return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data() + 3, t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace midhurst::store
