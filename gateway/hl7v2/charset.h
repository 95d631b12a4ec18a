// Character sets named in MSH-18 (HL7 table 0211) and their conversion to UTF-8.
//
// Supported: ASCII, 8859/1 to 8859/9 and 8859/15 (ISO-8859 parts), "UNICODE UTF-8", and
// "UNICODE", which NHS ITK feeds send to mean UTF-8. An empty MSH-18 means ASCII by the
// standard; since many real feeds send UTF-8 without saying so, it is read as UTF-8 (kUtf8).
// UTF-16/32 and the Asian double-byte sets are refused with a clear reason.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace midhurst::hl7v2 {

enum class CharsetKind { kAscii, kIso8859, kUtf8, kUnsupported };

struct Charset {
  CharsetKind kind = CharsetKind::kAscii;
  int iso8859_part = 0;   // 1..15 when kind == kIso8859
  std::string declared;   // MSH-18 as sent ("" when absent)

  // True when the bytes can be handed out as UTF-8 without conversion.
  bool is_utf8_compatible() const { return kind == CharsetKind::kAscii || kind == CharsetKind::kUtf8; }
  std::string name() const;  // "ASCII", "ISO-8859-1", "UTF-8", or the declared name
};

// Reads an MSH-18 value (its first repetition, first component). Never fails: an unknown
// name gives kind == kUnsupported with `declared` set, for the caller to report.
Charset charset_from_msh18(std::string_view value);

// Offset of the first byte (or byte sequence) that is invalid in `charset`, or npos.
// ASCII: any byte >= 0x80. UTF-8: any malformed, overlong or surrogate sequence.
// ISO-8859 parts: a byte the part leaves undefined.
size_t find_invalid_byte(std::string_view bytes, const Charset& charset);

// True iff `bytes` is well-formed UTF-8 and holds at least one multi-byte sequence.
bool is_multibyte_utf8(std::string_view bytes);

// Appends `bytes`, read in `charset`, to `out` as UTF-8. Bytes invalid in the charset become
// U+FFFD, so the output is always valid UTF-8 (callers that must refuse such bytes check
// find_invalid_byte first).
void append_as_utf8(std::string_view bytes, const Charset& charset, std::string& out);

// Appends UTF-8 `text` to `out` in `charset` (for encoding). Characters the charset cannot
// hold become '?'; returns false iff any did.
bool append_from_utf8(std::string_view text, const Charset& charset, std::string& out);

}  // namespace midhurst::hl7v2
