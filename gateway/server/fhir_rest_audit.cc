#include "server/fhir_rest_audit.h"

#include <algorithm>

#include "server/log.h"
#include "store/store.h"

namespace midhurst::server {

AuditWriter::AuditWriter(store::Store& store, AuditWriterOptions options)
    : store_(store), options_(options), thread_([this] { run(); }) {}

AuditWriter::~AuditWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool AuditWriter::enqueue(store::AuditRecord record) {
  std::unique_lock lock(mu_);
  if (!progress_.wait_for(lock, options_.enqueue_timeout,
                          [&] { return stopping_ || queue_.size() + in_flight_ < options_.max_queued; }))
    return false;
  if (stopping_) return false;
  queue_.push_back(std::move(record));
  ++queued_total_;
  // The writer waits for a first record, then for a full batch: only those wake it.
  const bool wake = queue_.size() == 1 || queue_.size() == options_.max_batch;
  lock.unlock();
  if (wake) wake_.notify_one();
  return true;
}

bool AuditWriter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = queued_total_;
  return progress_.wait_for(lock, timeout, [&] { return committed_ >= target; });
}

std::uint64_t AuditWriter::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::size_t AuditWriter::depth() const {
  std::lock_guard lock(mu_);
  return queue_.size() + in_flight_;
}

std::uint64_t AuditWriter::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void AuditWriter::run() {
  std::chrono::milliseconds backoff{100};
  std::chrono::steady_clock::time_point drain_deadline{};
  std::vector<store::AuditRecord> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !batch.empty(); });
    // Gather: more records per transaction (the window bounds how long a record waits).
    if (!stopping_ && batch.empty() && options_.batch_window.count() > 0)
      wake_.wait_for(lock, options_.batch_window, [&] { return stopping_ || queue_.size() >= options_.max_batch; });
    if (stopping_ && drain_deadline == std::chrono::steady_clock::time_point{})
      drain_deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
    // Take everything queued: one commit for all of it.
    while (!queue_.empty()) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    in_flight_ = batch.size();
    if (batch.empty()) {
      if (stopping_) return;
      continue;
    }
    lock.unlock();
    const std::size_t n = batch.size();
    auto status = store_.append_audit(batch);
    lock.lock();
    if (status.ok()) {
      batch.clear();
      in_flight_ = 0;
      committed_ += n;
      backoff = std::chrono::milliseconds(100);
      progress_.notify_all();
      continue;
    }
    ++failures_;
    log_error("audit.commit_failed", {{"records", static_cast<std::int64_t>(n)}, {"error", status.error().to_string()}});
    if (stopping_ && std::chrono::steady_clock::now() >= drain_deadline) {
      log_error("audit.dropped", {{"records", static_cast<std::int64_t>(n)}});
      return;
    }
    // Wait before retrying, unless stopping wakes us (then the drain deadline governs).
    wake_.wait_for(lock, backoff, [&] { return stopping_ && std::chrono::steady_clock::now() >= drain_deadline; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace midhurst::server
