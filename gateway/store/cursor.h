// Pagination cursors: opaque text naming a position in a sort order (keyset pagination), so a
// page boundary does not move when rows are inserted or deleted before it, as an offset would.
//
// A search cursor holds the sort order, the direction (the page after or before the position)
// and the sort key and id of the row at the position; a history cursor holds a version seq.
// Backend-neutral. Reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/types.h"

namespace midhurst::store {

struct SearchCursor {
  SortOrder sort = SortOrder::kLastUpdated;
  bool before = false;  // true: the page ending just before the position (a prev link)
  std::string key;      // the sort key at the position (lastUpdated; empty for kId)
  std::string id;       // the id at the position
};

std::string encode_cursor(const SearchCursor& c);
std::optional<SearchCursor> decode_cursor(std::string_view text);

std::string encode_history_cursor(std::int64_t seq);
std::optional<std::int64_t> decode_history_cursor(std::string_view text);

}  // namespace midhurst::store
