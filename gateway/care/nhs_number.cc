#include "care/nhs_number.h"

namespace midhurst::care {

Result<std::string, std::string> parse_nhs_number(std::string_view text) {
  std::string digits;
  digits.reserve(10);
  for (char c : text) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return err(std::string("NHS number contains a character that is not a digit"));
    digits += c;
  }
  if (digits.size() != 10)
    return err("NHS number must have 10 digits, found " + std::to_string(digits.size()));
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) return err(std::string("NHS number is invalid: its check digit would be 10"));
  if (check != digits[9] - '0')
    return err("NHS number fails the Modulus 11 check: check digit should be " +
               std::to_string(check) + ", found " + digits[9]);
  return digits;
}

bool is_valid_nhs_number(std::string_view text) { return parse_nhs_number(text).ok(); }

}  // namespace midhurst::care
