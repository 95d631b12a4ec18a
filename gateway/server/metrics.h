// A small Prometheus metrics registry: counters, gauges and histograms, with labels, exposed in
// the text format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Families are registered once at start-up (name, help, label names; histograms also their
// bucket bounds). A family hands out one child per combination of label values; children live
// as long as the registry and never move, so hot paths look a child up once and keep the
// reference.
//
// Threading: everything may be called from any thread. Updating a child is lock-free (atomics);
// looking a child up and expose() take the family's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace midhurst::server {

class Counter {
 public:
  // REQUIRES: v >= 0 (a counter only goes up).
  void inc(double v = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: upper bounds, strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= bounds()[i], not cumulative (index bounds().size() is the +Inf bucket).
  uint64_t bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry;

// One metric name with its children, keyed by label values.
template <typename Child>
class Family {
 public:
  // The child for these label values (as many as the family's label names), created at first
  // use. REQUIRES: values.size() == label_names().size().
  Child& with(const std::vector<std::string>& values);
  // For families without labels.
  Child& get() { return with({}); }
  const std::vector<std::string>& label_names() const { return labels_; }

 private:
  friend class MetricsRegistry;
  Family(std::vector<std::string> labels, std::vector<double> bounds)
      : labels_(std::move(labels)), bounds_(std::move(bounds)) {}
  std::vector<std::string> labels_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family. REQUIRES: `name` matches [a-zA-Z_:][a-zA-Z0-9_:]* and is not yet
  // registered (registering twice is a programming error: it aborts in debug builds and
  // returns the first family otherwise only if types match).
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> bounds,
                               std::vector<std::string> labels = {});

  // Runs `collect` at the start of every expose(), for values read at scrape time rather than
  // kept up to date on a hot path (a queue's depth into a gauge). REQUIRES: what it reads
  // outlives every later expose().
  void on_expose(std::function<void()> collect);

  // Every family in registration order, in text format 0.0.4. Serve it with
  // kExpositionContentType.
  std::string expose() const;

 private:
  struct Entry {
    std::string name, help;
    MetricType type;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::function<void()>> collectors_;  // GUARDED_BY(mutex_)
};

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Latency buckets in seconds, 0.5 ms to 10 s: MLLP ACKs after a durable commit sit in the
// low milliseconds; the tail shows fsync stalls.
std::vector<double> latency_buckets();

// Formats a sample value as the exposition format wants: integers without a fraction,
// "+Inf", "-Inf", "NaN".
std::string format_metric_value(double v);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);

// --- template implementation -----------------------------------------------------------------

template <typename Child>
Child& Family<Child>::with(const std::vector<std::string>& values) {
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<Child> child;
  if constexpr (std::is_same_v<Child, Histogram>) child = std::make_unique<Histogram>(bounds_);
  else child = std::make_unique<Child>();
  Child& ref = *child;
  children_.emplace(values, std::move(child));
  return ref;
}

}  // namespace midhurst::server
