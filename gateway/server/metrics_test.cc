// Metrics: the Prometheus text exposition format 0.0.4, byte for byte.
#include <catch2/catch.hpp>

#include <cmath>

#include "server/metrics.h"

namespace midhurst::server {
namespace {

TEST_CASE("metrics: counters and gauges with labels", "[metrics]") {
  MetricsRegistry r;
  auto& requests = r.counter("app_requests_total", "Requests.\nBy route", {"route", "status"});
  auto& up = r.gauge("app_up", "Up");
  requests.with({"/metadata", "200"}).inc();
  requests.with({"/metadata", "200"}).inc(2);
  requests.with({"/a\"b\\c\nd", "404"}).inc();
  up.get().set(1);
  up.get().add(0.5);
  CHECK(r.expose() ==
        "# HELP app_requests_total Requests.\\nBy route\n"
        "# TYPE app_requests_total counter\n"
        "app_requests_total{route=\"/a\\\"b\\\\c\\nd\",status=\"404\"} 1\n"
        "app_requests_total{route=\"/metadata\",status=\"200\"} 3\n"
        "# HELP app_up Up\n"
        "# TYPE app_up gauge\n"
        "app_up 1.5\n");
}

TEST_CASE("metrics: collectors set gauges at every scrape", "[metrics]") {
  MetricsRegistry r;
  auto& depth = r.gauge("app_queue_depth", "Waiting").get();
  int waiting = 3, scrapes = 0;
  r.on_expose([&] {
    ++scrapes;
    depth.set(waiting);
  });
  CHECK(r.expose() == "# HELP app_queue_depth Waiting\n# TYPE app_queue_depth gauge\napp_queue_depth 3\n");
  waiting = 0;
  CHECK(r.expose() == "# HELP app_queue_depth Waiting\n# TYPE app_queue_depth gauge\napp_queue_depth 0\n");
  CHECK(scrapes == 2);
}

TEST_CASE("metrics: histograms are cumulative with +Inf, _sum and _count", "[metrics]") {
  MetricsRegistry r;
  auto& h = r.histogram("lat_seconds", "Latency", {0.1, 1}, {"transport"});
  auto& mllp = h.with({"mllp"});
  mllp.observe(0.05);
  mllp.observe(0.1);  // upper bounds are inclusive
  mllp.observe(0.5);
  mllp.observe(7);
  CHECK(mllp.count() == 4);
  CHECK(r.expose() ==
        "# HELP lat_seconds Latency\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{transport=\"mllp\",le=\"0.1\"} 2\n"
        "lat_seconds_bucket{transport=\"mllp\",le=\"1\"} 3\n"
        "lat_seconds_bucket{transport=\"mllp\",le=\"+Inf\"} 4\n"
        "lat_seconds_sum{transport=\"mllp\"} 7.65\n"
        "lat_seconds_count{transport=\"mllp\"} 4\n");
}

TEST_CASE("metrics: a family without children shows only HELP and TYPE", "[metrics]") {
  MetricsRegistry r;
  r.counter("x_total", "X", {"k"});
  CHECK(r.expose() == "# HELP x_total X\n# TYPE x_total counter\n");
}

TEST_CASE("metrics: value formatting", "[metrics]") {
  CHECK(format_metric_value(0) == "0");
  CHECK(format_metric_value(42) == "42");
  CHECK(format_metric_value(-3) == "-3");
  CHECK(format_metric_value(0.1) == "0.1");
  CHECK(format_metric_value(0.0005) == "0.0005");
  CHECK(format_metric_value(1e20) == "1e+20");
  CHECK(format_metric_value(INFINITY) == "+Inf");
  CHECK(format_metric_value(-INFINITY) == "-Inf");
  CHECK(format_metric_value(NAN) == "NaN");
}

TEST_CASE("metrics: children are stable references", "[metrics]") {
  MetricsRegistry r;
  auto& f = r.counter("c_total", "C", {"k"});
  Counter& a = f.with({"a"});
  for (int i = 0; i < 100; ++i) f.with({std::to_string(i)});
  a.inc();
  CHECK(&a == &f.with({"a"}));
  CHECK(f.with({"a"}).value() == 1);
}

}  // namespace
}  // namespace midhurst::server
