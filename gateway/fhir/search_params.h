// FHIR R4 search parameters: a query's name=value pairs parsed into typed values, by the rules
// of https://hl7.org/fhir/R4/search.html, before any store sees them.
//
// What is parsed (and what is refused, with an error naming the parameter and why):
//  * token      `code`, `system|code`, `|code` (no system), `system|` (any code of the system);
//               the FHIR escapes `\|`, `\,`, `\$`, `\\` are honoured.
//  * date       an optional prefix eq ne lt gt le ge sa eb, then YYYY, YYYY-MM, YYYY-MM-DD or a
//               dateTime with an offset; ap (approximately) is refused as unsupported.
//  * string     the value as given (prefix match, case- and accent-insensitive, is the store's
//               business); `:exact` and `:contains` are refused as unsupported.
//  * reference  `Type/id`, `id`, or an absolute URL ending in `Type/id`; `:identifier` and
//               chained parameters are refused.
//  * a comma in a value means OR (token and reference); each alternative is kept.
//  * results:   `_count` (1..max_count; 0 is refused), `_sort` (a list, `-` for descending),
//               `_include` / `_revinclude` (`Type:param`, `Type:param:Target`, `:iterate`
//               refused), `_summary` (only `count`, plus `false`), `_total` (none, estimate,
//               accurate), `_format` and `_pretty` (kept for content negotiation), `_elements`,
//               `_contained`, `_containedType`, `_query`, `_filter`, `_list`, `_has` refused.
// Which parameter names exist for a resource type, and what type each is, is the caller's
// table (ParamKinds): a name it does not hold is reported as unknown, which the REST layer
// turns into 400 or, under `Prefer: handling=lenient`, a warning.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace midhurst::fhir {

enum class SearchParamType { kToken, kDate, kString, kReference };

enum class DateComparator { kEq, kNe, kLt, kGt, kLe, kGe, kSa, kEb };

struct TokenValue {
  std::optional<std::string> system;  // nullopt: any system; "": explicitly no system (`|code`)
  std::string code;                   // "": any code (`system|`)
  bool operator==(const TokenValue&) const = default;
};

struct DateValue {
  DateComparator comparator = DateComparator::kEq;
  std::string value;  // the date or dateTime as given, without the prefix
  bool operator==(const DateValue&) const = default;
};

struct ReferenceValue {
  std::string type;  // "" when given as a bare id
  std::string id;
  bool operator==(const ReferenceValue&) const = default;
};

// One parameter occurrence: `name` with its alternatives (comma = OR). Exactly the vector of
// the parameter's type is filled.
struct SearchParam {
  std::string name;
  SearchParamType type = SearchParamType::kToken;
  std::vector<TokenValue> tokens;
  std::vector<DateValue> dates;
  std::vector<std::string> strings;
  std::vector<ReferenceValue> references;
};

struct SortKey {
  std::string param;  // "_lastUpdated", "_id", ...
  bool descending = false;
  bool operator==(const SortKey&) const = default;
};

struct IncludeParam {
  std::string source_type;  // "Patient" in Patient:general-practitioner
  std::string param;        // "general-practitioner"
  std::string target_type;  // optional third part; "" when absent
  bool operator==(const IncludeParam&) const = default;
};

enum class SummaryMode { kNone, kCount };
enum class TotalMode { kDefault, kNone, kEstimate, kAccurate };

struct SearchRequest {
  std::vector<SearchParam> params;  // in query order; a repeated name appears again (AND)
  std::optional<int> count;         // _count
  std::vector<SortKey> sort;
  std::vector<IncludeParam> includes;
  std::vector<IncludeParam> revincludes;
  SummaryMode summary = SummaryMode::kNone;
  TotalMode total = TotalMode::kDefault;
  std::string format;  // _format as given ("" when absent)
  bool pretty = false;
  std::string cursor;  // the server's own paging parameter (`_cursor`), opaque here
  std::vector<std::string> unknown;  // names not in the kinds table (and not result params)
};

// The search parameters of one resource type: name -> type.
using ParamKinds = std::map<std::string, SearchParamType, std::less<>>;

struct SearchParseOptions {
  int max_count = 1000;
};

// Parses decoded query pairs (name, value) for a resource type whose parameters are `kinds`.
// Error: one sentence naming the first bad parameter and what is wrong with it.
midhurst::Result<SearchRequest, std::string> parse_search(const std::vector<std::pair<std::string, std::string>>& query,
                                                const ParamKinds& kinds, const SearchParseOptions& options = {});

// The pieces of a single value (exposed for tests and for callers with their own tables).
midhurst::Result<TokenValue, std::string> parse_token(std::string_view text);
midhurst::Result<DateValue, std::string> parse_date(std::string_view text);
midhurst::Result<ReferenceValue, std::string> parse_reference(std::string_view text);

// Splits on unescaped `separator`s; the parts keep their escapes (unescape() removes them), so
// that a value can be split again on another separator (`,` then `|`).
std::vector<std::string> split_escaped(std::string_view text, char separator);
// Removes the FHIR search escapes: `\|` `\,` `\$` `\\` become `|` `,` `$` `\`.
std::string unescape(std::string_view text);

// "eq", "ne", ... for a comparator.
std::string_view to_code(DateComparator c);

}  // namespace midhurst::fhir
