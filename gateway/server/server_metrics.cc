#include "server/server_metrics.h"

namespace midhurst::server {

ServerMetrics::ServerMetrics(MetricsRegistry& r)
    : registry(r),
      hl7v2_messages(r.counter("midhurst_hl7v2_messages_total",
                               "HL7v2 messages received, by transport and the ACK code sent",
                               {"transport", "status"})),
      mllp_framing_errors(r.counter("midhurst_mllp_framing_errors_total",
                                    "MLLP framing problems seen by the decoder", {"kind"})),
      ack_latency(r.histogram("midhurst_ack_latency_seconds",
                              "Time from a message's arrival to its ACK being written", latency_buckets(),
                              {"transport"})),
      http_requests(r.counter("midhurst_http_requests_total", "HTTP requests answered, by route and status",
                              {"route", "status"})),
      http_duration(r.histogram("midhurst_http_request_duration_seconds",
                                "Time from a request's arrival to its response being ready",
                                latency_buckets(), {"route"})),
      connections(r.gauge("midhurst_connections", "Open connections", {"transport"})),
      connections_accepted(r.counter("midhurst_connections_accepted_total", "Connections accepted",
                                     {"transport"})),
      connections_rejected(r.counter("midhurst_connections_rejected_total",
                                     "Connections refused because max_connections was reached",
                                     {"transport"})),
      commit_latency(r.histogram("midhurst_commit_latency_seconds",
                                 "Store commit time, fsync included (observed once the store is wired)",
                                 latency_buckets())) {
  // Series that exist from the start, so dashboards and alerts see zeros rather than gaps.
  for (const char* t : {"mllp", "http"}) {
    connections.with({t});
    connections_accepted.with({t});
    connections_rejected.with({t});
  }
  commit_latency.get();
}

}  // namespace midhurst::server
