// Options for opening a store (open_store, store.h). Every field has a default that is right for
// production; tests change the clock and the fault injection.
#pragma once

#include <chrono>
#include <functional>

namespace midhurst::store {

class FaultInjection;

struct StoreOptions {
  // How long a connection waits for a lock held by another process before failing with kBusy.
  // Within one process the store's own write lock serialises writers, so this matters only when
  // a second process (an admin tool) opens the same file. Default 5 s.
  std::chrono::milliseconds busy_timeout{5000};

  // Durable commits. true (default): apply() returns only after its transaction is on stable
  // storage (SQLite: WAL with synchronous=FULL, which fsyncs the WAL at every commit; NORMAL
  // would not, and an ACK could then be lost with the power). false is for throwaway stores
  // only (a test that wants speed): a power loss may then lose the last commits, though never
  // half of one.
  bool durable = true;

  // Read connections kept open for concurrent readers (SQLite); more are opened on demand and
  // closed when returned beyond this number. Default 4.
  int reader_pool = 4;

  // SQLite: once the write-ahead log holds this many pages (4 KiB each), the writer waits for
  // the readers of the moment to finish and rewinds the log after the commit that reached it.
  // Default 16384 (64 MiB).
  int wal_restart_pages = 16384;

  // The clock that stamps lastUpdated, stored_at and audit times. Default system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;

  // Tests only: see fault.h. Not owned; nullptr = no faults.
  FaultInjection* faults = nullptr;
};

}  // namespace midhurst::store
