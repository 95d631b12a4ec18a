// http_ceiling_server: the ceiling for the HTTP read benchmarks (scripts/bench_http.sh).
//
// A minimal Beast HTTP/1.1 server with keep-alive, built the way the gateway's listener is
// (gateway/server/http_server.cc: an io_context run by N threads, a strand per connection, one
// request read and one response written at a time), that answers every request with the same
// 1 KiB JSON body and does nothing else: no routing, no auth, no store. Whatever the gateway
// does per request costs the difference between this server's rate and its own.
//
// Usage: http_ceiling_server [--listen HOST:PORT] [--threads N] [--port-file FILE] [--body-bytes N]
// Runs until SIGTERM or SIGINT.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr const char* kUsage =
    "usage: http_ceiling_server [--listen HOST:PORT] [--threads N] [--port-file FILE]\n"
    "                           [--body-bytes N]\n"
    "  Answers every HTTP/1.1 request (keep-alive) with 200 and a fixed JSON body of N bytes\n"
    "  (default 1024): the ceiling the gateway's FHIR reads are compared with. --listen defaults\n"
    "  to 127.0.0.1:0 (any free port); --port-file receives the bound port once listening.\n"
    "  --threads defaults to the number of cores, like the gateway's. Stops on SIGTERM/SIGINT.\n";

// One connection: read a request, write the fixed response, repeat while keep-alive holds.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const std::string> body)
      : stream_(std::move(socket)), body_(std::move(body)) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->respond();
    });
  }

  void respond() {
    res_ = {};
    res_.version(req_.version());
    res_.result(http::status::ok);
    res_.set(http::field::content_type, "application/fhir+json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = *body_;
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->res_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::shared_ptr<const std::string> body_;
};

class Listener {
 public:
  Listener(net::io_context& io, const tcp::endpoint& at, std::shared_ptr<const std::string> body)
      : io_(io), acceptor_(io), body_(std::move(body)) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) {
        s.set_option(tcp::no_delay(true));
        std::make_shared<Session>(std::move(s), body_)->start();
      }
      accept();
    });
  }
  void stop() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

 private:
  net::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const std::string> body_;
};

// A JSON object of exactly n bytes (n >= 16): {"resourceType":"Basic","text":"xxx..."}.
std::string json_body(std::size_t n) {
  std::string head = R"({"resourceType":"Basic","text":")", tail = R"("})";
  if (n < head.size() + tail.size()) n = head.size() + tail.size();
  return head + std::string(n - head.size() - tail.size(), 'x') + tail;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", port_file;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  long body_bytes = 1024;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fputs(kUsage, stderr);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!std::strcmp(argv[i], "--listen")) listen = value();
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(value());
    else if (!std::strcmp(argv[i], "--port-file")) port_file = value();
    else if (!std::strcmp(argv[i], "--body-bytes")) body_bytes = std::atol(value());
    else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || threads < 1 || body_bytes < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    net::io_context io(threads);
    const tcp::endpoint at(net::ip::make_address(listen.substr(0, colon)),
                           static_cast<unsigned short>(std::atoi(listen.c_str() + colon + 1)));
    Listener listener(io, at, std::make_shared<const std::string>(json_body(static_cast<std::size_t>(body_bytes))));
    listener.accept();
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) {
      listener.stop();
      io.stop();
    });
    if (!port_file.empty()) {
      std::ofstream(port_file) << listener.port() << '\n';
    }
    std::printf("http_ceiling_server: listening on %s:%u with %d threads\n",
                listen.substr(0, colon).c_str(), listener.port(), threads);
    std::fflush(stdout);
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_ceiling_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
