// FaultInjection: lets tests make a store fail at a chosen point, the way leveldb's
// fault_injection_test uses a custom Env and SQLite's test6.c fails a chosen fsync.
//
// Backends call should_fail() at named points; when it returns true the operation fails with
// StoreError::Code::kInjected exactly as a real I/O error would there (the transaction is rolled
// back). Points every backend provides:
//   "write"   before each statement that changes the database inside apply()
//   "commit"  just before apply() commits
// The store does not own the object; it must outlive the store. Called from the writer only, under
// the store's write lock, so implementations need no locking of their own for that.
#pragma once

#include <string_view>

namespace midhurst::store {

class FaultInjection {
 public:
  virtual ~FaultInjection() = default;
  virtual bool should_fail(std::string_view point) = 0;
};

}  // namespace midhurst::store
