// Listener: the part of a TCP server that HttpServer and MllpServer share, i.e. everything but
// the sessions themselves.
//
//  - start(): resolve, bind, listen, then accept until shutdown, each connection on a strand of
//    its own; beyond max_connections a connection is logged ("<transport>.connection_refused"),
//    counted (connections_rejected) and handed to `refuse`, otherwise counted and handed to
//    `accept`, which makes the session and add()s it;
//  - the registry of live sessions, which keeps the midhurst_connections{transport} gauge;
//  - shutdown in two steps: begin_shutdown() stops accepting and asks every session to drain();
//    stop() closes the completion gate, asks the sessions still there to force_close(), gives
//    them a moment, stops and joins the I/O threads, then calls release_after_stop() on any
//    session still alive.
//
// The completion gate. A session hands work to another thread (the HttpApp's Respond, the
// Ingest's done) whose callback may run, be kept or be destroyed at any time, also after the
// server is gone. So the callback holds its session only weakly (the last strong release could
// otherwise destroy a socket and reach the server's freed state) and the gate strongly, and
// reaches the session through CompletionGate::lock(), which gives it only while the gate is
// open and holds the gate's lock while the callback posts: once stop() has closed the gate, no
// callback touches the server again.
//
// Asio appears in this header (the sockets handed over), so include it only from the listener
// translation units (listener.cc, http_server.cc, mllp_server.cc), which compile slowly anyway.
//
// Threading: start/begin_shutdown/stop from one controlling thread; add/remove/count/draining
// from any thread; the hooks run on the acceptor's strand. Lifetime: the Listener must be
// destroyed before whatever its sessions' destructors reach (declare it after them), and it
// stop()s in its destructor.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "server/config.h"
#include "server/server_metrics.h"

namespace midhurst::server {

// What a session must offer the listener. Each call only posts onto the session's strand.
class ListenedSession {
 public:
  virtual ~ListenedSession() = default;
  // Shutdown step 1: finish what is in progress, take nothing new, then close.
  virtual void drain() = 0;
  // Shutdown step 2: close now.
  virtual void force_close() = 0;
  // After the I/O threads are joined: drop any reference the session holds to itself.
  virtual void release_after_stop() {}
};

// See "The completion gate" above.
class CompletionGate {
 public:
  // Runs `f(session)` under the gate's lock iff the gate is open and `weak` is alive; returns
  // whether it ran.
  template <typename S, typename F>
  bool with_session(const std::weak_ptr<S>& weak, F&& f) {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    std::shared_ptr<S> session = weak.lock();
    if (!session) return false;
    f(std::move(session));
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }

 private:
  std::mutex mutex_;
  bool open_ = true;  // GUARDED_BY(mutex_)
};

struct ListenerOptions {
  std::string transport;  // "http", "mllp": metric label and log event prefix
  std::string name;       // "HTTP", "MLLP": in start()'s errors
  Endpoint listen;
  unsigned threads = 1;   // I/O threads (at least one is run)
  size_t max_connections = 256;
};

struct ListenerHooks {
  using Socket = boost::asio::ip::tcp::socket;
  // A connection within max_connections: make its session, add() it, run it.
  std::function<void(Socket)> accept;
  // A connection beyond max_connections (already logged and counted). Empty: it is closed.
  std::function<void(Socket)> refuse;
};

class Listener {
 public:
  Listener(ListenerOptions options, ServerMetrics& metrics);
  ~Listener();  // stop()s
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds, listens, starts accepting and runs the I/O threads. Errors: "<NAME> HOST:PORT:
  // cannot resolve|cannot listen: why".
  Status<std::string> start(ListenerHooks hooks);
  // The address actually bound (the real port when 0 was asked). REQUIRES: start() succeeded.
  Endpoint bound() const;

  // The session registry. A session is added by the accept hook and removes itself when it
  // closes (and again, harmlessly, in its destructor).
  void add(uint64_t id, std::weak_ptr<ListenedSession> session);
  void remove(uint64_t id);
  size_t count() const;

  // True from begin_shutdown() on: sessions stop taking new work.
  bool draining() const;
  // Shared with every callback that may outlive the server.
  const std::shared_ptr<CompletionGate>& gate() const;

  void begin_shutdown();
  // Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:2575", "[::1]:8080": for logs.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace midhurst::server
