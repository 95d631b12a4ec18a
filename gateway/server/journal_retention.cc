#include "server/journal_retention.h"

namespace midhurst::server {
namespace {

store::RetentionRule rule_of(const RetentionLimits& limits) {
  store::RetentionRule rule;
  if (limits.max_age_days) rule.max_age = std::chrono::seconds(*limits.max_age_days * 86400);
  if (limits.max_bytes) rule.max_bytes = static_cast<std::int64_t>(*limits.max_bytes);
  return rule;
}

}  // namespace

store::RetentionPolicy retention_policy(const JournalRetention& config) {
  store::RetentionPolicy policy;
  policy.default_rule = rule_of(config.defaults);
  for (const SenderRetention& s : config.senders)
    policy.per_sender[store::Sender{s.application, s.facility}] = rule_of(s.limits);
  return policy;
}

JournalPruner::JournalPruner(store::Store& store, store::RetentionPolicy policy, std::chrono::milliseconds interval,
                             Report report)
    : store_(store), policy_(std::move(policy)), interval_(interval), report_(std::move(report)) {}

JournalPruner::~JournalPruner() { stop(); }

void JournalPruner::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

void JournalPruner::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

store::StoreResult<store::PruneStats> JournalPruner::prune_once() {
  const auto started = std::chrono::steady_clock::now();
  auto result = store_.prune_journal(policy_, std::chrono::system_clock::now());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (report_) report_(result, took);
  return result;
}

void JournalPruner::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    lock.unlock();
    (void)prune_once();  // reported through report_
    lock.lock();
  }
}

}  // namespace midhurst::server
