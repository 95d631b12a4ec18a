// MllpServer: the MLLP listener (Asio). Many concurrent connections; each decoded frame goes to
// the Ingest, and its ACK is written back when the Ingest calls `done`, in arrival order.
//
// Per connection (one session object, kept alive by its pending operations, on its own strand):
//  - bytes are decoded by hl7v2::MllpDecoder (max_frame_bytes); framing problems are logged
//    ("mllp.framing_error") and counted (midhurst_mllp_framing_errors_total{kind});
//  - at most max_in_flight frames are submitted and not yet ACKed; reading pauses beyond that,
//    so a fast sender is slowed by TCP flow control instead of growing our memory;
//  - ACKs are written in the order of their messages, whatever order the Ingest completes in;
//  - an oversize frame is answered with a salvage AR ACK (from the frame's first bytes, so
//    MSA-2 echoes its MSH-10 when it can be read), after the ACKs before it, and the
//    connection is then closed: the rest of the stream cannot be trusted to be in step;
//  - end of stream from the peer (half-close): what was received is still processed and
//    ACKed, then the connection is closed;
//  - idle_timeout without bytes from the peer and with no work in flight closes it (so does a
//    peer that stops reading its ACKs for that long);
//  - beyond max_connections a new connection is closed at once (logged, counted).
//
// Shutdown, in two steps (see Gateway): begin_shutdown() stops accepting and stops reading;
// each connection closes once its in-flight messages are ACKed. stop() then closes whatever
// is left and joins the I/O threads.
//
// Threading: start/begin_shutdown/stop from one controlling thread; connections() anywhere.
// The Ingest must outlive the server. A `done` may be kept, called or destroyed on any thread,
// also after stop() (it is then ignored): it does not keep the connection's session.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "server/config.h"
#include "server/ingest.h"
#include "server/server_metrics.h"

namespace midhurst::server {

struct MllpServerOptions {
  Endpoint listen;
  MllpLimits limits;
  unsigned threads = 1;
};

class MllpServer {
 public:
  MllpServer(MllpServerOptions options, Ingest& ingest, ServerMetrics& metrics);
  ~MllpServer();  // stop()s
  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;

  // Binds, listens and starts the I/O threads. Errors: the address could not be resolved or
  // bound (text says which and why).
  Status<std::string> start();
  // The address actually bound (the real port when 0 was asked). REQUIRES: start() succeeded.
  Endpoint bound() const;
  // Stops accepting; every connection stops reading and closes after writing its pending ACKs.
  void begin_shutdown();
  // Open connections.
  size_t connections() const;
  // Closes every connection now, stops and joins the I/O threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace midhurst::server
