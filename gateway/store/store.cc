// open_store: the one place that maps a store URL to an implementation.
#include "store/store.h"

#include "store/sqlite_store.h"

namespace midhurst::store {

StoreResult<std::unique_ptr<Store>> open_store(std::string_view url, const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.substr(0, kSqlite.size()) == kSqlite) {
    std::string path(url.substr(kSqlite.size()));
    if (path.empty()) return err(StoreError{StoreError::Code::kInvalidArgument, "store url 'sqlite:' names no file"});
    auto s = SqliteStore::open(path, options);
    if (!s.ok()) return err(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  return err(StoreError{StoreError::Code::kInvalidArgument,
                        "unknown store url '" + std::string(url) + "' (expected sqlite:PATH)"});
}

}  // namespace midhurst::store
