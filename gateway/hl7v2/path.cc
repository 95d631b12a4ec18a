#include "hl7v2/path.h"

namespace midhurst::hl7v2 {
namespace {

bool is_id_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Reads a positive decimal number at text[*pos]; returns 0 when there is none or it is too big.
uint32_t read_number(std::string_view text, size_t* pos) {
  uint64_t v = 0;
  size_t start = *pos;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    v = v * 10 + static_cast<uint64_t>(text[*pos] - '0');
    if (v > 100000) return 0;
    ++*pos;
  }
  return *pos == start ? 0 : static_cast<uint32_t>(v);
}

std::string where(std::string_view text, size_t pos) {
  return "in path \"" + std::string(text) + "\" at character " + std::to_string(pos + 1);
}

}  // namespace

Result<Path, std::string> Path::parse(std::string_view text) {
  Path p;
  if (text.size() < 3 || !is_id_char(text[0]) || !is_id_char(text[1]) || !is_id_char(text[2]))
    return err(where(text, 0) + ": a path starts with a three-character segment id such as PID");
  for (int i = 0; i < 3; ++i) p.segment[i] = text[i];
  size_t pos = 3;
  if (pos < text.size() && text[pos] == '[') {
    ++pos;
    p.occurrence = read_number(text, &pos);
    if (p.occurrence == 0) return err(where(text, pos) + ": expected a segment occurrence of 1 or more");
    if (pos >= text.size() || text[pos] != ']') return err(where(text, pos) + ": expected ']'");
    ++pos;
  }
  if (pos >= text.size() || text[pos] != '-') return err(where(text, pos) + ": expected '-' and a field number");
  ++pos;
  p.field = read_number(text, &pos);
  if (p.field == 0) return err(where(text, pos) + ": expected a field number of 1 or more");
  if (pos < text.size() && text[pos] == '[') {
    ++pos;
    if (pos < text.size() && text[pos] == '*') {
      p.repetition = kAll;
      ++pos;
    } else {
      p.repetition = read_number(text, &pos);
      if (p.repetition == 0) return err(where(text, pos) + ": expected a repetition of 1 or more, or '*'");
    }
    if (pos >= text.size() || text[pos] != ']') return err(where(text, pos) + ": expected ']'");
    ++pos;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    p.component = read_number(text, &pos);
    if (p.component == 0) return err(where(text, pos) + ": expected a component number of 1 or more");
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      p.subcomponent = read_number(text, &pos);
      if (p.subcomponent == 0) return err(where(text, pos) + ": expected a sub-component number of 1 or more");
    }
  }
  if (pos != text.size()) return err(where(text, pos) + ": unexpected '" + std::string(1, text[pos]) + "'");
  return p;
}

std::string Path::to_string() const {
  std::string s(segment_id());
  if (occurrence != 1) s += "[" + std::to_string(occurrence) + "]";
  s += "-" + std::to_string(field);
  if (repetition == kAll) s += "[*]";
  else if (repetition != 1) s += "[" + std::to_string(repetition) + "]";
  if (component) {
    s += "." + std::to_string(component);
    if (subcomponent) s += "." + std::to_string(subcomponent);
  }
  return s;
}

}  // namespace midhurst::hl7v2
