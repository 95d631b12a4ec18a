// The listener lifecycle shared by the HTTP and MLLP servers (listener.h). Asio only, no Beast.
#include "server/listener.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "server/log.h"

namespace midhurst::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

std::string endpoint_text(const tcp::endpoint& e) {
  const std::string a = e.address().to_string();
  return (e.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(e.port());
}

struct Listener::Impl {
  Impl(ListenerOptions o, ServerMetrics& m)
      : options(std::move(o)),
        metrics(m),
        io(static_cast<int>(std::max(1u, options.threads))),
        acceptor(net::make_strand(io)) {}

  void do_accept() {
    acceptor.async_accept(net::make_strand(io), [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      log_warn(options.transport + ".accept_failed", {{"error", ec.message()}});
      return do_accept();
    }
    if (count() >= options.max_connections) {
      metrics.connections_rejected.with({options.transport}).inc();
      error_code e;
      log_warn(options.transport + ".connection_refused", {{"peer", endpoint_text(socket.remote_endpoint(e))},
                                                           {"reason", "max_connections"},
                                                           {"limit", options.max_connections}});
      if (hooks.refuse) hooks.refuse(std::move(socket));
      else socket.close(e);
    } else {
      metrics.connections_accepted.with({options.transport}).inc();
      hooks.accept(std::move(socket));
    }
    do_accept();
  }

  size_t count() const {
    std::lock_guard lock(mutex);
    return sessions.size();
  }

  template <typename F>
  void for_each_session(F f) {
    std::vector<std::shared_ptr<ListenedSession>> live;
    {
      std::lock_guard lock(mutex);
      for (auto& [id, weak] : sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) f(*s);
  }

  const ListenerOptions options;
  ServerMetrics& metrics;
  ListenerHooks hooks;
  mutable std::mutex mutex;
  std::map<uint64_t, std::weak_ptr<ListenedSession>> sessions;  // GUARDED_BY(mutex)
  std::atomic<bool> draining{false};
  const std::shared_ptr<CompletionGate> gate = std::make_shared<CompletionGate>();
  // `io` after the registry: destroyed first, while the registry is still there for the
  // destructors of sessions whose handlers it still holds.
  net::io_context io;
  tcp::acceptor acceptor;
  // Keeps run() from returning while no I/O is pending, e.g. while every connection waits for
  // a handler or an ingest completing on another thread.
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::vector<std::thread> threads;
  Endpoint bound;
  bool stopped = false;
};

Listener::Listener(ListenerOptions options, ServerMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), metrics)) {}

Listener::~Listener() { stop(); }

Status<std::string> Listener::start(ListenerHooks hooks) {
  Impl& m = *impl_;
  m.hooks = std::move(hooks);
  const Endpoint& want = m.options.listen;
  error_code ec;
  tcp::resolver resolver(m.io);
  auto results = resolver.resolve(want.host, std::to_string(want.port), tcp::resolver::passive, ec);
  if (ec || results.empty()) return err(m.options.name + " " + want.to_string() + ": cannot resolve: " + ec.message());
  const tcp::endpoint endpoint = results.begin()->endpoint();
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return err(m.options.name + " " + want.to_string() + ": cannot listen: " + ec.message());
  m.bound = Endpoint{want.host, m.acceptor.local_endpoint(ec).port()};
  net::dispatch(m.acceptor.get_executor(), [&m] { m.do_accept(); });
  for (unsigned i = 0; i < std::max(1u, m.options.threads); ++i) m.threads.emplace_back([&m] { m.io.run(); });
  return {};
}

Endpoint Listener::bound() const { return impl_->bound; }

void Listener::add(uint64_t id, std::weak_ptr<ListenedSession> session) {
  std::lock_guard lock(impl_->mutex);
  impl_->sessions.emplace(id, std::move(session));
  impl_->metrics.connections.with({impl_->options.transport}).add(1);
}

void Listener::remove(uint64_t id) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->sessions.erase(id)) impl_->metrics.connections.with({impl_->options.transport}).add(-1);
}

size_t Listener::count() const { return impl_->count(); }

bool Listener::draining() const { return impl_->draining; }

const std::shared_ptr<CompletionGate>& Listener::gate() const { return impl_->gate; }

void Listener::begin_shutdown() {
  Impl& m = *impl_;
  m.draining = true;
  net::post(m.acceptor.get_executor(), [&m] {
    error_code ignored;
    m.acceptor.close(ignored);
  });
  m.for_each_session([](ListenedSession& s) { s.drain(); });
}

void Listener::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  // From here on a late completion is dropped: what is left is being cut.
  m.gate->close();
  if (m.threads.empty()) return;
  if (!m.draining) begin_shutdown();
  m.for_each_session([](ListenedSession& s) { s.force_close(); });
  // Let the close handlers run before stopping the loop, briefly.
  for (int i = 0; i < 100 && m.count() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  m.work.reset();
  m.io.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  // Sessions whose force_close did not run are released here, while the io_context exists.
  m.for_each_session([](ListenedSession& s) { s.release_after_stop(); });
}

}  // namespace midhurst::server
