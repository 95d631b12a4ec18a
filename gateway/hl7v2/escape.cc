#include "hl7v2/escape.h"

namespace midhurst::hl7v2 {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return c - 'a' + 10;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_hex(std::string_view s) {
  for (char c : s)
    if (!is_hex(c)) return false;
  return true;
}

// True iff `seq` (the text between two escape characters) is a sequence that is kept as it
// is when decoding: formatting commands, charset switches and locally defined escapes.
bool is_kept_sequence(std::string_view seq) {
  if (seq.empty()) return false;
  if (seq == "H" || seq == "N" || seq == ".br" || seq == ".fi" || seq == ".nf" || seq == ".ce") return true;
  auto numeric_tail = [](std::string_view t, bool signed_ok) {
    if (signed_ok && !t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
    for (char c : t)
      if (!is_digit(c)) return false;
    return true;
  };
  if (seq.starts_with(".sp")) return numeric_tail(seq.substr(3), false);
  if (seq.starts_with(".sk")) return numeric_tail(seq.substr(3), false);
  if (seq.starts_with(".in")) return numeric_tail(seq.substr(3), true);
  if (seq.starts_with(".ti")) return numeric_tail(seq.substr(3), true);
  if (seq[0] == 'C' || seq[0] == 'M') {
    if (seq.size() < 3) return false;
    for (char c : seq.substr(1))
      if (!is_hex(c)) return false;
    return true;
  }
  if (seq[0] == 'Z') return seq.size() > 1;
  return false;
}

// If text[i] == '\\' starts a kept sequence written with backslashes, its length; else 0.
// A sequence whose inside holds one of the message's delimiters (possible with unusual
// delimiter sets, or text such as "\\Za^b\\") cannot be kept as it is, since it would split
// the value: it is then escaped character by character like any other text.
size_t kept_sequence_length(std::string_view text, size_t i, const Delimiters& d) {
  if (text[i] != '\\') return 0;
  size_t close = text.find('\\', i + 1);
  if (close == std::string_view::npos || close - i > 16) return 0;
  std::string_view inside = text.substr(i + 1, close - i - 1);
  for (char c : inside)
    if (c == d.field || c == d.component || c == d.repetition || c == d.subcomponent || c == d.escape ||
        (d.truncation && c == d.truncation))
      return 0;
  return is_kept_sequence(inside) ? close - i + 1 : 0;
}

void put_escape(char code, const Delimiters& d, std::string& out) {
  out.push_back(d.escape);
  out.push_back(code);
  out.push_back(d.escape);
}

void put_hex(char c, const Delimiters& d, std::string& out) {
  static const char kHex[] = "0123456789ABCDEF";
  out.push_back(d.escape);
  out.push_back('X');
  out.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 0xF]);
  out.push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
  out.push_back(d.escape);
}

void escape_impl(std::string_view text, const Delimiters& d, bool keep_structure, std::string& out) {
  out.reserve(out.size() + text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (size_t n = kept_sequence_length(text, i, d)) {
      out.push_back(d.escape);
      out.append(text.substr(i + 1, n - 2));
      out.push_back(d.escape);
      i += n - 1;
    } else if (c == d.escape) {
      put_escape('E', d, out);
    } else if (c == d.field) {
      put_escape('F', d, out);
    } else if (c == '\r' || c == '\n') {
      put_hex(c, d, out);
    } else if (keep_structure && (c == d.component || c == d.repetition || c == d.subcomponent)) {
      out.push_back(c);
    } else if (c == d.component) {
      put_escape('S', d, out);
    } else if (c == d.subcomponent) {
      put_escape('T', d, out);
    } else if (c == d.repetition) {
      put_escape('R', d, out);
    } else if (d.truncation && c == d.truncation) {
      put_escape('P', d, out);
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

void unescape(std::string_view raw, const Delimiters& d, std::string& out) {
  out.reserve(out.size() + raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    size_t open = raw.find(d.escape, i);
    if (open == std::string_view::npos) {
      out.append(raw.substr(i));
      return;
    }
    out.append(raw.substr(i, open - i));
    size_t close = raw.find(d.escape, open + 1);
    if (close == std::string_view::npos) {  // unterminated: keep literally
      out.append(raw.substr(open));
      return;
    }
    std::string_view seq = raw.substr(open + 1, close - open - 1);
    if (seq.size() == 1 && seq[0] == 'F') {
      out.push_back(d.field);
    } else if (seq.size() == 1 && seq[0] == 'S') {
      out.push_back(d.component);
    } else if (seq.size() == 1 && seq[0] == 'T') {
      out.push_back(d.subcomponent);
    } else if (seq.size() == 1 && seq[0] == 'R') {
      out.push_back(d.repetition);
    } else if (seq.size() == 1 && seq[0] == 'E') {
      out.push_back(d.escape);
    } else if (seq.size() == 1 && seq[0] == 'P' && d.truncation) {
      out.push_back(d.truncation);
    } else if (seq.size() >= 3 && seq[0] == 'X' && (seq.size() - 1) % 2 == 0 && all_hex(seq.substr(1))) {
      for (size_t k = 1; k < seq.size(); k += 2)
        out.push_back(static_cast<char>(hex_value(seq[k]) * 16 + hex_value(seq[k + 1])));
    } else if (is_kept_sequence(seq)) {
      out.push_back('\\');
      out.append(seq);
      out.push_back('\\');
    } else {
      // Not an escape sequence we know (a stray escape character, e.g. a Windows path):
      // keep the bytes exactly, and carry on after the first escape character only, so a
      // later real sequence is still decoded.
      out.push_back(d.escape);
      i = open + 1;
      continue;
    }
    i = close + 1;
  }
}

void escape(std::string_view text, const Delimiters& d, std::string& out) { escape_impl(text, d, false, out); }

void escape_keep_structure(std::string_view text, const Delimiters& d, std::string& out) {
  escape_impl(text, d, true, out);
}

}  // namespace midhurst::hl7v2
