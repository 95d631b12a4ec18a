// The encoding characters of one message, read from MSH-1 and MSH-2.
#pragma once

#include <string>

namespace midhurst::hl7v2 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  // v2.7 truncation character (the optional 5th character of MSH-2); '\0' when absent.
  char truncation = '\0';

  // MSH-2 as it would be written: "^~\&" (plus the truncation character when set).
  std::string encoding_characters() const {
    std::string s{component, repetition, escape, subcomponent};
    if (truncation) s.push_back(truncation);
    return s;
  }
  bool operator==(const Delimiters&) const = default;
};

}  // namespace midhurst::hl7v2
