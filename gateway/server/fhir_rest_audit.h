// AuditWriter: the audit trail of reads, committed off the request path but never lost quietly.
//
// Why a writer thread: every read and search of patient data must be audited, and a commit per
// request would put an fsync on every GET. Instead a handler queues its AuditRecord here and
// then answers; one writer thread takes everything queued so far and commits it with one
// Store::append_audit (group commit: the busier the server, the bigger the batch). Woken by a
// first record, the writer gathers for up to `batch_window` (or until `max_batch` wait) before
// committing, so that a busy server commits a few large batches a second rather than one tiny
// transaction per request; enqueue() wakes it only when that changes something.
//
// The bound (the guarantee a caller relies on): a record queued by enqueue() is committed
// within one commit time after the writer gets to it, normally well under a second. If a commit
// fails, the batch is kept and retried (100 ms, doubling to 5 s) and the failure is logged as
// audit.commit_failed; records are only dropped when the process exits. enqueue() applies
// back-pressure: when `max_queued` records wait, queued or being (re)committed (the store is
// failing or too slow), it waits up to `enqueue_timeout` for room and then returns false, and the handler answers 503 instead
// of serving unaudited data.
//
// Threading: enqueue() from any thread; flush() waits for everything queued before it.
// The destructor commits what is queued (with retries up to `drain_timeout`) and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "store/types.h"

namespace midhurst::store {
class Store;
}

namespace midhurst::server {

struct AuditWriterOptions {
  std::size_t max_queued = 10000;
  std::chrono::milliseconds enqueue_timeout{2000};
  std::chrono::milliseconds drain_timeout{5000};
  std::chrono::milliseconds batch_window{10};
  std::size_t max_batch = 1000;
};

class AuditWriter {
 public:
  explicit AuditWriter(store::Store& store, AuditWriterOptions options = {});
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Queues `record` for the writer; false when there was no room within enqueue_timeout.
  bool enqueue(store::AuditRecord record);

  // Waits until every record queued before the call is committed; false after `timeout`.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Records committed so far and commits that failed (for tests and metrics).
  std::uint64_t committed() const;
  std::uint64_t failures() const;
  // Records waiting: queued, or being committed (or retried). /metrics serves it as
  // midhurst_audit_queue_depth; enqueue() refuses at max_queued.
  std::size_t depth() const;

 private:
  void run();

  store::Store& store_;
  const AuditWriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;       // the writer: work or stop
  std::condition_variable progress_;   // enqueuers and flushers: room or commits
  std::deque<store::AuditRecord> queue_;  // GUARDED_BY(mu_)
  std::size_t in_flight_ = 0;             // GUARDED_BY(mu_): records the writer is committing
  std::uint64_t queued_total_ = 0;        // GUARDED_BY(mu_)
  std::uint64_t committed_ = 0;           // GUARDED_BY(mu_)
  std::uint64_t failures_ = 0;            // GUARDED_BY(mu_)
  bool stopping_ = false;                 // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace midhurst::server
