// Journal retention in `serve`: the configuration's per-sender rules (config.h,
// "journal_retention") as the store's RetentionPolicy, and a thread that applies them with
// Store::prune_journal every prune_interval.
//
// Threading: JournalPruner owns one thread; `report` is called on it after each prune.
// prune_once() may be called from any thread (the store serialises writes).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "server/config.h"
#include "store/store.h"

namespace midhurst::server {

// The store's policy for the configured rules (days become seconds).
store::RetentionPolicy retention_policy(const JournalRetention& config);

class JournalPruner {
 public:
  // What one prune did (or the store's error), and how long it took.
  using Report = std::function<void(const store::StoreResult<store::PruneStats>& result,
                                    std::chrono::milliseconds took)>;

  // `store` must outlive this object. The first prune runs one interval after start().
  JournalPruner(store::Store& store, store::RetentionPolicy policy, std::chrono::milliseconds interval,
                Report report);
  ~JournalPruner();  // stop()s
  JournalPruner(const JournalPruner&) = delete;
  JournalPruner& operator=(const JournalPruner&) = delete;

  void start();
  // Waits for a prune in progress, then joins the thread. Idempotent.
  void stop();

  // Prunes now and reports.
  store::StoreResult<store::PruneStats> prune_once();

 private:
  void run();

  store::Store& store_;
  store::RetentionPolicy policy_;
  std::chrono::milliseconds interval_;
  Report report_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace midhurst::server
