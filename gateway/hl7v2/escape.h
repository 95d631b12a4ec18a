// HL7v2 escape sequences (v2.x chapter 2, "Use of escape sequences in text fields").
//
// Escaped text (as it stands in the message) and decoded text are kept apart: views into a
// message are always escaped; decoding is an explicit step.
//
// Decoding: \F\ \S\ \T\ \R\ \E\ become the delimiter they name; \Xhhhh..\ becomes the bytes
// it spells (in the message's charset). The formatting sequences (\.br\ \.sp\ \.in\ \.ti\ ,
// \.sk\ \.ce\ \.fi\ \.nf\ \H\ \N\), the charset switches (\C..\ \M..\) and local \Z..\ ,
// sequences are kept as they are, written with a backslash, so that encoding the text again
// gives them back intact. An escape character with no closing one is kept literally.
#pragma once

#include <string>
#include <string_view>

#include "hl7v2/delimiters.h"

namespace midhurst::hl7v2 {

// True iff `raw` holds the escape character (so decoding could change it).
inline bool needs_unescape(std::string_view raw, const Delimiters& d) {
  return raw.find(d.escape) != std::string_view::npos;
}

// Appends the decoded form of `raw` to `out` (bytes still in the message's charset).
void unescape(std::string_view raw, const Delimiters& d, std::string& out);

// Appends `text` to `out` with every delimiter escaped, so that it reads back as one value.
// Formatting sequences written as \.br\ (and the others above) pass through unescaped, using
// the message's escape character.
void escape(std::string_view text, const Delimiters& d, std::string& out);

// Same, but components/repetitions/sub-components written with the delimiters of `d` are kept
// as structure: only the escape character and the field separator are escaped. For setting a
// composite value such as "SMITH^JOHN".
void escape_keep_structure(std::string_view text, const Delimiters& d, std::string& out);

}  // namespace midhurst::hl7v2
