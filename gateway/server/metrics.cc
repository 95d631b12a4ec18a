#include "server/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace midhurst::server {

namespace {

void atomic_add(std::atomic<double>& a, double v) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

// {a="x",b="y"} with an optional extra label (le for histogram buckets); "" when empty.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out.push_back(',');
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out.push_back(',');
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  out.push_back('}');
  return out;
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

void Counter::inc(double v) {
  assert(v >= 0);
  atomic_add(value_, v);
}

void Gauge::add(double v) { atomic_add(value_, v); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += bucket(i);
  return n;
}

Family<Counter>& MetricsRegistry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = MetricType::kCounter;
  e->counter.reset(new Family<Counter>(std::move(labels), {}));
  entries_.push_back(std::move(e));
  return *entries_.back()->counter;
}

Family<Gauge>& MetricsRegistry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = MetricType::kGauge;
  e->gauge.reset(new Family<Gauge>(std::move(labels), {}));
  entries_.push_back(std::move(e));
  return *entries_.back()->gauge;
}

Family<Histogram>& MetricsRegistry::histogram(std::string name, std::string help, std::vector<double> bounds,
                                              std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = MetricType::kHistogram;
  e->histogram.reset(new Family<Histogram>(std::move(labels), std::move(bounds)));
  entries_.push_back(std::move(e));
  return *entries_.back()->histogram;
}

void MetricsRegistry::on_expose(std::function<void()> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::expose() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();  // outside the lock: they set gauges
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& e : entries_) {
    out += "# HELP " + e->name + " " + escape_help(e->help) + "\n";
    out += "# TYPE " + e->name + " " + type_name(e->type) + "\n";
    auto simple = [&](const auto& family) {
      std::lock_guard flock(family.mutex_);
      for (const auto& [values, child] : family.children_)
        out += e->name + label_set(family.labels_, values) + " " + format_metric_value(child->value()) + "\n";
    };
    if (e->counter) simple(*e->counter);
    if (e->gauge) simple(*e->gauge);
    if (e->histogram) {
      const Family<Histogram>& family = *e->histogram;
      std::lock_guard flock(family.mutex_);
      for (const auto& [values, h] : family.children_) {
        // Read each bucket once and derive the count from them, so that _count equals the
        // +Inf bucket even while observations race with the scrape.
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= h->bounds().size(); ++i) {
          cumulative += h->bucket(i);
          const std::string le = i < h->bounds().size() ? format_metric_value(h->bounds()[i]) : "+Inf";
          out += e->name + "_bucket" + label_set(family.labels_, values, "le", le) + " " +
                 std::to_string(cumulative) + "\n";
        }
        out += e->name + "_sum" + label_set(family.labels_, values) + " " + format_metric_value(h->sum()) + "\n";
        out += e->name + "_count" + label_set(family.labels_, values) + " " + std::to_string(cumulative) + "\n";
      }
    }
  }
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest form that reads back the same (0.1, not 0.10000000000000001).
  for (int precision = 1; precision < 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, v);
    if (std::strtod(shorter, nullptr) == v) return shorter;
  }
  return buf;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

}  // namespace midhurst::server
