#include "hl7v2/charset.h"

#include <iconv.h>

#include <array>
#include <cstdint>
#include <mutex>

namespace midhurst::hl7v2 {
namespace {

constexpr char32_t kUndefined = 0xFFFFFFFF;
constexpr char32_t kReplacement = 0xFFFD;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One table per ISO-8859 part, byte -> code point, read once from the C library's iconv so
// that no code table is written out by hand here.
using ByteTable = std::array<char32_t, 256>;

const ByteTable& iso8859_table(int part) {
  static std::array<ByteTable, 17> tables;
  static std::array<std::once_flag, 17> once;
  std::call_once(once[part], [part] {
    ByteTable& t = tables[part];
    for (int b = 0; b < 0xA0; ++b) t[b] = static_cast<char32_t>(b);  // identical in every part
    std::string name = "ISO-8859-" + std::to_string(part);
    iconv_t cd = iconv_open("UTF-32LE", name.c_str());
    for (int b = 0xA0; b < 256; ++b) {
      t[b] = kUndefined;
      if (cd == reinterpret_cast<iconv_t>(-1)) continue;
      char in[1] = {static_cast<char>(b)};
      char out[8];
      char* ip = in;
      char* op = out;
      size_t il = 1, ol = sizeof out;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
      if (iconv(cd, &ip, &il, &op, &ol) != static_cast<size_t>(-1) && ol == 4) {
        auto* u = reinterpret_cast<unsigned char*>(out);
        t[b] = static_cast<char32_t>(u[0] | (u[1] << 8) | (u[2] << 16) | (u[3] << 24));
      }
    }
    if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
  });
  return tables[part];
}

void append_code_point(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if it is malformed
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i, char32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = s.size() - i;
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xC2 && c <= 0xDF) {
    if (n < 2 || (b(i + 1) & 0xC0) != 0x80) return 0;
    *cp = ((c & 0x1F) << 6) | (b(i + 1) & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (b(i + 1) & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80) return 0;
    char32_t v = ((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (b(i + 1) & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80 || (b(i + 3) & 0xC0) != 0x80) return 0;
    char32_t v = ((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) | (b(i + 3) & 0x3F);
    if (v < 0x10000 || v > 0x10FFFF) return 0;
    *cp = v;
    return 4;
  }
  return 0;
}

}  // namespace

std::string Charset::name() const {
  switch (kind) {
    case CharsetKind::kAscii: return "ASCII";
    case CharsetKind::kUtf8: return "UTF-8";
    case CharsetKind::kIso8859: return "ISO-8859-" + std::to_string(iso8859_part);
    case CharsetKind::kUnsupported: break;
  }
  return declared;
}

Charset charset_from_msh18(std::string_view value) {
  Charset c;
  c.declared = std::string(value);
  std::string_view v = trim(value);
  if (v.empty()) {
    // The standard's default is ASCII, but real feeds send UTF-8 without declaring it;
    // UTF-8 is a superset of ASCII, so reading as UTF-8 loses nothing and refuses garbage.
    c.kind = CharsetKind::kUtf8;
  } else if (iequals(v, "ASCII")) {
    c.kind = CharsetKind::kAscii;
  } else if (iequals(v, "UNICODE UTF-8") || iequals(v, "UNICODE") || iequals(v, "UTF-8") || iequals(v, "UTF8")) {
    c.kind = CharsetKind::kUtf8;
  } else if (v.size() > 5 && iequals(v.substr(0, 5), "8859/")) {
    int part = 0;
    for (char ch : v.substr(5)) {
      if (ch < '0' || ch > '9' || part > 16) { part = -1; break; }
      part = part * 10 + (ch - '0');
    }
    if (part >= 1 && part <= 16 && part != 12) {
      c.kind = CharsetKind::kIso8859;
      c.iso8859_part = part;
    } else {
      c.kind = CharsetKind::kUnsupported;
    }
  } else {
    c.kind = CharsetKind::kUnsupported;
  }
  return c;
}

size_t find_invalid_byte(std::string_view bytes, const Charset& charset) {
  switch (charset.kind) {
    case CharsetKind::kAscii:
      for (size_t i = 0; i < bytes.size(); ++i)
        if (static_cast<unsigned char>(bytes[i]) >= 0x80) return i;
      return std::string_view::npos;
    case CharsetKind::kUtf8: {
      char32_t cp;
      for (size_t i = 0; i < bytes.size();) {
        size_t n = utf8_sequence_length(bytes, i, &cp);
        if (n == 0) return i;
        i += n;
      }
      return std::string_view::npos;
    }
    case CharsetKind::kIso8859: {
      const ByteTable& t = iso8859_table(charset.iso8859_part);
      for (size_t i = 0; i < bytes.size(); ++i)
        if (t[static_cast<unsigned char>(bytes[i])] == kUndefined) return i;
      return std::string_view::npos;
    }
    case CharsetKind::kUnsupported:
      break;
  }
  return bytes.empty() ? std::string_view::npos : 0;
}

bool is_multibyte_utf8(std::string_view bytes) {
  bool multibyte = false;
  char32_t cp;
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_sequence_length(bytes, i, &cp);
    if (n == 0) return false;
    multibyte |= n > 1;
    i += n;
  }
  return multibyte;
}

void append_as_utf8(std::string_view bytes, const Charset& charset, std::string& out) {
  switch (charset.kind) {
    case CharsetKind::kIso8859: {
      const ByteTable& t = iso8859_table(charset.iso8859_part);
      for (char ch : bytes) {
        char32_t cp = t[static_cast<unsigned char>(ch)];
        append_code_point(cp == kUndefined ? kReplacement : cp, out);
      }
      return;
    }
    case CharsetKind::kAscii:
    case CharsetKind::kUtf8:
    case CharsetKind::kUnsupported: {
      // Copy valid UTF-8 through; anything else becomes U+FFFD.
      char32_t cp;
      for (size_t i = 0; i < bytes.size();) {
        size_t n = utf8_sequence_length(bytes, i, &cp);
        if (n == 0) {
          append_code_point(kReplacement, out);
          ++i;
        } else {
          out.append(bytes.substr(i, n));
          i += n;
        }
      }
      return;
    }
  }
}

bool append_from_utf8(std::string_view text, const Charset& charset, std::string& out) {
  bool all = true;
  char32_t cp;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_sequence_length(text, i, &cp);
    if (n == 0) { out.push_back('?'); all = false; ++i; continue; }
    switch (charset.kind) {
      case CharsetKind::kUtf8:
        out.append(text.substr(i, n));
        break;
      case CharsetKind::kIso8859: {
        const ByteTable& t = iso8859_table(charset.iso8859_part);
        int found = -1;
        if (cp < 0xA0) found = static_cast<int>(cp);
        for (int b = 0xA0; found < 0 && b < 256; ++b)
          if (t[b] == cp) found = b;
        if (found < 0) { out.push_back('?'); all = false; }
        else out.push_back(static_cast<char>(found));
        break;
      }
      case CharsetKind::kAscii:
      case CharsetKind::kUnsupported:
        if (cp < 0x80) out.push_back(static_cast<char>(cp));
        else { out.push_back('?'); all = false; }
        break;
    }
    i += n;
  }
  return all;
}

}  // namespace midhurst::hl7v2
