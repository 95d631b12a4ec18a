// Paths into a message: "PID-3", "PID-3[2]", "PID-3[2].4.1", "OBX[3]-5", "MSH-9.1", "PID-3[*]".
//
// Grammar:  SEG ['[' occurrence ']'] '-' field ['[' repetition | '*' ']'] ['.' component ['.' sub]]
// SEG is three characters [A-Z0-9]; every number is 1-based. An omitted occurrence or
// repetition means the first; '*' (repetition only) means every repetition, for callers that
// iterate (get() reads the first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace midhurst::hl7v2 {

struct Path {
  static constexpr uint32_t kAll = UINT32_MAX;

  char segment[4] = {0, 0, 0, 0};
  uint32_t occurrence = 1;
  uint32_t field = 0;
  uint32_t repetition = 1;   // kAll for "[*]"
  uint32_t component = 0;    // 0: the whole repetition
  uint32_t subcomponent = 0; // 0: the whole component

  std::string_view segment_id() const { return {segment, 3}; }

  // Parses the text form; the error says which character is wrong and why.
  static Result<Path, std::string> parse(std::string_view text);

  // The canonical text form; repetition and occurrence shown only when not 1.
  std::string to_string() const;
  bool operator==(const Path&) const = default;
};

}  // namespace midhurst::hl7v2
