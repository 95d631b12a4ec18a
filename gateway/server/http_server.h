// HttpServer: the HTTP/1.1 listener (Beast). Turns requests into HttpRequest for the HttpApp and
// writes back its HttpResponse; everything above the wire is the HttpApp's business.
//
// Per connection (one session, kept alive by its pending operations, on its own strand):
//  - a fresh parser per request with the body limit (413) and header limit (431);
//    malformed HTTP gets 400; each of these answers with an OperationOutcome and closes the
//    connection, since the stream is no longer in step;
//  - idle_timeout applies to every read and write (a silent or slow peer is cut off);
//  - keep-alive as the client asks; one request at a time (no pipelining queue: the next
//    request is read after the response is written);
//  - closing after an error response shuts down our side and drains what the peer still
//    sends for a moment, so the peer reads the response instead of a TCP reset;
//  - beyond max_connections a new connection gets 503 and is closed;
//  - each response is one gathered write (status line and headers, body); an answer the app
//    gives inside handle() (FHIR reads do) is written at once, without a hop through the
//    scheduler.
//
// Shutdown, in two steps (see Gateway): begin_shutdown() stops accepting and closes idle
// connections; busy ones close after their response. stop() closes what is left and joins.
//
// Threading: start/begin_shutdown/stop from one controlling thread; connections() anywhere.
// The HttpApp (and what its handlers use) must outlive the server. The server's Respond may be
// kept, called or destroyed on any thread, also after stop() (it is then ignored).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "server/config.h"
#include "server/http_app.h"
#include "server/server_metrics.h"

namespace midhurst::server {

struct HttpServerOptions {
  Endpoint listen;
  HttpLimits limits;
  unsigned threads = 1;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, const HttpApp& app, ServerMetrics& metrics);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status<std::string> start();
  Endpoint bound() const;
  void begin_shutdown();
  size_t connections() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace midhurst::server
