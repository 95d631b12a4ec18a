// Transforms: the steps a rule's value passes through between its source and its target.
//
// In a profile a `transform` is an array of steps; each step is a string (no argument) or an
// object with one key (the step) and its argument:
//   "trim" "upper" "lower"            text
//   "nhsNumber"                       Modulus 11 check (care/nhs_number.h); spaces removed
//   "date"                            HL7 TS -> date   YYYY[-MM[-DD]] (precision kept, time dropped)
//   "dateTime"                        HL7 TS -> dateTime with an offset: the sent one, else the
//                                     profile's zone's offset at that instant (tz.h)
//   "boolean"                         Y/YES/T/TRUE/1 -> true, N/NO/F/FALSE/0 -> false
//   "integer"                         optional sign and digits
//   {"substring": {"start": 0, "length": 1}}   by characters (UTF-8 aware); length optional
//   {"stripPrefix": "NSTS"}           removes the prefix when present
//   {"addPrefix": "x"} {"addSuffix": "x"}
//   {"replace": {"from": "x", "to": "y"}}      every occurrence
//   {"split": {"separator": " ", "index": 0}}  one piece (index from 0; negative from the end);
//                                     without "index", every non-empty piece: the rule then
//                                     writes several values (its target must take a list)
//   {"concat": {"with": [".2", "PID-5.3"], "separator": " "}}  appends the text at other
//                                     source paths (relative ones read from the rule's context),
//                                     skipping empty ones
//   "sourcePath"                      the value becomes where it was read, in path form
//                                     ("ZU1-3", "ZU3[2]-2"): keys for opaque values
// A step that cannot apply (a bad date, a failed check digit) fails the value with a reason; the
// rule's `required`/`invalid` settings decide what that does to the message.
//
// Thread-safety: Transform is an immutable value; apply() touches only its arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "care/types.h"
#include "common/json_reader.h"
#include "common/result.h"
#include "mapping/load_error.h"
#include "mapping/tz.h"
#include "mapping/v2_path.h"

namespace midhurst::mapping {

// The static type of a value in a rule's pipeline, checked against the target at load.
enum class ValueKind : std::uint8_t { kText, kDate, kDateTime, kBoolean, kInteger, kCoding };
const char* value_kind_name(ValueKind k);

// One value on its way through a rule: what, and where in the message it came from.
struct Item {
  std::variant<std::string, bool, std::int64_t, care::Coding> value;
  std::string original;  // the text as read from the source (CodeableConcept.originalText)
  Cursor where;
};

struct Transform {
  enum class Op : std::uint8_t {
    kTrim, kUpper, kLower, kNhsNumber, kDate, kDateTime, kBoolean, kInteger,
    kSubstring, kStripPrefix, kAddPrefix, kAddSuffix, kReplace, kSplit, kConcat, kSourcePath,
  };
  Op op = Op::kTrim;
  std::string arg, arg2;          // prefix/suffix/replace from+to/split or concat separator
  std::int64_t start = 0, length = -1;  // substring
  std::optional<std::int64_t> index;    // split: nullopt = every piece
  std::vector<V2Path> with;             // concat

  // Reads one step from the profile; problems go to `sink`. `context` is the rule's source
  // context (for relative concat paths).
  static std::optional<Transform> from_json(const JsonNode& node, const ErrorSink& sink, V2Level context);
  // The kind this step produces from `in`, or why it cannot take `in`.
  Result<ValueKind, std::string> output_kind(ValueKind in) const;
  // True iff this step can turn one value into several.
  bool multiplies() const { return op == Op::kSplit && !index; }
  // True iff this step reads HL7v2 (timestamps, other fields), so only hl7v2→care rules may use it.
  bool reads_hl7v2() const { return op == Op::kDate || op == Op::kDateTime || op == Op::kConcat; }
};

// What apply() needs from the rule's surroundings.
struct TransformEnv {
  const hl7v2::Message* message = nullptr;
  Cursor context;
  const TimeZone* zone = nullptr;
  // Called for every message place a step reads (concat), for the field ledger.
  std::function<void(const Cursor&)> on_read;
  // Notes on values that converted but deserve a word (a local time in a DST gap).
  std::vector<std::string>* notes = nullptr;
};

// Applies `t` to every item of `items` (split may add items). On failure returns why, and which
// item failed in *failed_at.
Status<std::string> apply(const Transform& t, std::vector<Item>& items, const TransformEnv& env,
                          Cursor* failed_at);

// HL7 TS/DTM text to the care model's date / dateTime forms (see transform list above).
Result<std::string, std::string> hl7_to_date(std::string_view ts);
Result<std::string, std::string> hl7_to_date_time(std::string_view ts, const TimeZone& zone,
                                                  std::string* note = nullptr);

}  // namespace midhurst::mapping
