// AnyEntity helpers: fresh entity ids.
#include "store/any_entity.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>

namespace midhurst::store {

TEST_CASE("new_entity_id: UUID v7 text, time-ordered, unique") {
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_entity_id();
    REQUIRE(id.size() == 36);
    for (std::size_t k = 0; k < id.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23)
        REQUIRE(id[k] == '-');
      else
        REQUIRE(((id[k] >= '0' && id[k] <= '9') || (id[k] >= 'a' && id[k] <= 'f')));
    }
    CHECK(id[14] == '7');                                   // version 7
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 4122 variant
    // The first 48 bits are the Unix time in milliseconds.
    const long long ms = std::strtoll((id.substr(0, 8) + id.substr(9, 4)).c_str(), nullptr, 16);
    CHECK(ms >= before);
    CHECK(ms <= before + 60'000);
    CHECK(seen.insert(id).second);
    if (!previous.empty()) CHECK(previous.substr(0, 13) <= id.substr(0, 13));  // never back in time
    previous = id;
  }
}

}  // namespace midhurst::store
