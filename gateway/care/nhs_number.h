// The NHS number Modulus 11 check (NHS Data Dictionary; domain.md section 5).
//
// Digits 1-9 are weighted 10..2 and summed; check = 11 - (sum mod 11); 11 becomes 0; a check of
// 10 means no valid number has these first nine digits. The number is valid iff the check equals
// digit 10. Spaces are stripped first, since the display format is "NNN NNN NNNN".
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace midhurst::care {

// The 10 digits of `text` without spaces, or a sentence saying why it is not a valid NHS number
// (wrong length, non-digit, check digit 10, check digit mismatch).
Result<std::string, std::string> parse_nhs_number(std::string_view text);

// True iff parse_nhs_number(text) succeeds.
bool is_valid_nhs_number(std::string_view text);

}  // namespace midhurst::care
