// The gateway's metrics, registered once in one MetricsRegistry and shared by the HTTP and MLLP
// servers (and, once wired, the store: commit_latency).
//
// Names and labels (served at /metrics):
//   midhurst_hl7v2_messages_total{transport,status}  HL7v2 messages answered (transport mllp or
//                                                    http), by ACK code (AA, AE, AR, CA, CE,
//                                                    CR), "none" when no ACK was due, "dropped"
//                                                    when the connection went before the ACK
//                                                    could be written
//   midhurst_mllp_framing_errors_total{kind}         MLLP decoder errors (mllp_error_name)
//   midhurst_ack_latency_seconds{transport}          frame (or POST) received -> ACK handed to
//                                                    the socket; mllp or http
//   midhurst_http_requests_total{route,status}       by route pattern ("/metadata"), not by
//                                                    path, so ids do not explode the series
//   midhurst_http_request_duration_seconds{route}
//   midhurst_connections{transport}                  open connections now
//   midhurst_connections_accepted_total{transport}
//   midhurst_connections_rejected_total{transport}   refused at max_connections
//   midhurst_commit_latency_seconds                  store commit time (placeholder: observed by
//                                                    the store once it is wired in)
//
// Threading: as metrics.h; the struct only holds references into the registry.
#pragma once

#include "server/metrics.h"

namespace midhurst::server {

struct ServerMetrics {
  explicit ServerMetrics(MetricsRegistry& registry);

  MetricsRegistry& registry;
  Family<Counter>& hl7v2_messages;
  Family<Counter>& mllp_framing_errors;
  Family<Histogram>& ack_latency;
  Family<Counter>& http_requests;
  Family<Histogram>& http_duration;
  Family<Gauge>& connections;
  Family<Counter>& connections_accepted;
  Family<Counter>& connections_rejected;
  Family<Histogram>& commit_latency;
};

}  // namespace midhurst::server
