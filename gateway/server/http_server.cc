// The HTTP server. One of the Beast/Asio translation units (with mllp_server.cc and
// listener.cc); see http_server.h for the behaviour. Listening, accepting, the session registry
// and shutdown are the Listener's (listener.h); this file is the HTTP session. Structure follows
// Beast's advanced_server example: a fresh strand per connection, a session kept alive by
// shared_from_this, a fresh parser with limits per request, expires_after before every read
// and write.
#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <string>
#include <utility>
#include <vector>
#include <optional>

#include "server/listener.h"
#include "server/log.h"

namespace midhurst::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

std::atomic<uint64_t> g_http_connection_ids{1};

constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kLingerBytes = size_t{16} << 20;

}  // namespace

// What the listener and every session share.
struct HttpShared {
  HttpShared(HttpServerOptions o, const HttpApp& a, ServerMetrics& m)
      : options(std::move(o)),
        app(a),
        metrics(m),
        listener({"http", "HTTP", options.listen, options.threads, options.limits.max_connections}, m) {}

  HttpServerOptions options;
  const HttpApp& app;
  ServerMetrics& metrics;
  // Last: destroyed first, with the sessions its io_context still holds, while the rest is here.
  Listener listener;
};

class HttpSession;
// The session whose request this thread is handing to the app right now (inside
// HttpApp::handle on its strand), so that an answer given before handle() returns is
// recognised as inline.
static thread_local const HttpSession* t_handling = nullptr;

class HttpSession : public std::enable_shared_from_this<HttpSession>, public ListenedSession {
 public:
  // `reject`: the server is full; answer 503 and close without reading.
  HttpSession(tcp::socket socket, HttpShared& shared, bool reject)
      : stream_(std::move(socket)), shared_(shared), id_(g_http_connection_ids.fetch_add(1)), reject_(reject) {
    error_code ec;
    peer_ = endpoint_text(stream_.socket().remote_endpoint(ec));
    if (ec) peer_ = "?";
  }
  ~HttpSession() override { shared_.listener.remove(id_); }

  uint64_t id() const { return id_; }

  // Starts on the session's strand, so that no two of its handlers ever run at once.
  void run() { net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->on_run(); }); }
  void drain() override { net::post(stream_.get_executor(), [self = shared_from_this()] { self->on_drain(); }); }
  void force_close() override { net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); }); }
  // After stop() joined the I/O threads: a session still waiting for the app lets go of itself.
  void release_after_stop() override { awaiting_app_.reset(); }

 private:
  void on_run() {
    if (reject_) {
      HttpResponse r = shared_.app.error_response(503, fhir::IssueType::kTransient,
                                                  "the server is at its connection limit; retry shortly");
      r.close = true;
      r.headers.emplace_back("Retry-After", "1");
      return do_write(std::move(r));
    }
    do_read();
  }

  void do_read() {
    if (shared_.listener.draining()) return close_gracefully();
    parser_.emplace();
    parser_->body_limit(shared_.options.limits.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.limits.max_header_bytes));
    stream_.expires_after(shared_.options.limits.idle_timeout);
    reading_ = true;
    // The header first, so that a client waiting for "100 Continue" (curl does, for large
    // bodies) gets it, and a Content-Length over the limit is refused before the body.
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, size_t) { self->on_read_header(ec); });
  }

  void on_read_header(error_code ec) {
    if (ec || parser_->is_done()) return on_read(ec);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code e, size_t) {
                         if (e) return self->on_read(e);
                         self->do_read_body();
                       });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    stream_.expires_after(shared_.options.limits.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    if (closed_) return;
    if (ec == http::error::end_of_stream) return close_gracefully();
    if (ec == beast::error::timeout) {
      log_debug("http.idle_timeout", {{"peer", peer_}, {"connection", id_}});
      return close();
    }
    if (ec == net::error::operation_aborted) return close();
    if (ec == http::error::body_limit) {
      // The header was read: answer in the format the client asked for.
      const auto& head = parser_->get();
      return reply_error(413, fhir::IssueType::kTooLong,
                         "the request body is larger than this server's limit of " +
                             std::to_string(shared_.options.limits.max_body_bytes) + " bytes (http.max_body_bytes)",
                         error_format(std::string_view(head.target().data(), head.target().size()),
                                      std::string_view(head[http::field::accept].data(), head[http::field::accept].size())));
    }
    if (ec == http::error::header_limit) {
      return reply_error(431, fhir::IssueType::kTooLong,
                         "the request line and headers are larger than this server's limit of " +
                             std::to_string(shared_.options.limits.max_header_bytes) + " bytes (http.max_header_bytes)");
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      // Any other Beast parse error: the bytes are not HTTP/1.x as we accept it. A partial
      // message means the peer closed mid-request: nobody is left to answer.
      if (ec == http::error::partial_message) return close();
      return reply_error(400, fhir::IssueType::kStructure, "malformed HTTP request: " + ec.message());
    }
    if (ec) {
      log_debug("http.read_failed", {{"peer", peer_}, {"connection", id_}, {"error", ec.message()}});
      return close();
    }
    dispatch_request(parser_->release());
  }

  void dispatch_request(http::request<http::string_body> req) {
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.peer = peer_;
    request.connection_id = id_;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    busy_ = true;
    // No I/O is pending while the app works, so the session holds itself until the answer
    // (or close()); the Respond gets only a weak handle (see CompletionGate in listener.h).
    awaiting_app_ = shared_from_this();
    t_handling = this;
    shared_.app.handle(std::move(request), [weak = weak_from_this(), gate = shared_.listener.gate()](HttpResponse response) {
      // Stopped, or the connection is gone: nobody to answer. Otherwise, since the app may
      // answer from any thread (an ingest completing after a commit), hop back onto this
      // connection's strand before touching the stream; the reference goes with the handler.
      gate->with_session(weak, [&response](std::shared_ptr<HttpSession> self) {
        // Answered inside handle(), on this session's strand (FHIR reads are): written as soon
        // as handle() returns, without a trip through the scheduler (and the wake-up of
        // another I/O thread that a post costs).
        if (t_handling == self.get()) {
          self->inline_response_ = std::move(response);
          return;
        }
        auto strand = self->stream_.get_executor();
        net::post(strand, [self = std::move(self), response = std::move(response)]() mutable {
          self->awaiting_app_.reset();
          self->do_write(std::move(response));
        });
      });
    });
    t_handling = nullptr;
    if (inline_response_) {
      HttpResponse response = std::move(*inline_response_);
      inline_response_.reset();
      awaiting_app_.reset();
      do_write(std::move(response));
    }
  }

  void reply_error(int status, fhir::IssueType type, std::string why, Format format = Format::kFhirJson) {
    log_info("http.bad_request", {{"peer", peer_}, {"connection", id_}, {"status", status}, {"detail", why}});
    HttpResponse r = shared_.app.error_response(status, type, std::move(why), "unmatched", format);
    r.close = true;  // the stream is out of step: the rest of this request is unread
    version_ = 11;
    do_write(std::move(r));
  }

  // The status line and headers are written by hand into one reused string and sent with the
  // body in one gathered write: Beast's serializer spent more on its buffer sequences than the
  // rest of the response path. Its rules are kept: a header set twice keeps its last value,
  // Server is ours, Connection says close (HTTP/1.1) or keep-alive (HTTP/1.0) when that differs
  // from the version's default, Content-Length is the body's size (also for HEAD, which sends
  // no body) except on 1xx, 204 and 304, which carry neither.
  void do_write(HttpResponse r) {
    busy_ = false;
    if (closed_) return;
    keep_open_ = keep_alive_ && !r.close && !shared_.listener.draining();
    std::vector<std::pair<std::string, std::string>> fields;
    fields.reserve(r.headers.size() + 2);
    auto set = [&fields](std::string name, std::string value) {
      std::erase_if(fields, [&](const auto& f) { return beast::iequals(f.first, name); });
      // A header value never spans lines: CR or LF in one would let it forge headers.
      for (char& c : value)
        if (c == '\r' || c == '\n') c = ' ';
      fields.emplace_back(std::move(name), std::move(value));
    };
    if (!r.content_type.empty()) set("Content-Type", std::move(r.content_type));
    for (auto& [name, value] : r.headers) set(std::move(name), std::move(value));
    set("Server", "midhurst");
    const unsigned status = static_cast<unsigned>(r.status);
    head_text_.clear();
    head_text_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head_text_ += std::to_string(status);
    head_text_ += ' ';
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    head_text_.append(reason.data(), reason.size());
    head_text_ += "\r\n";
    for (const auto& [name, value] : fields) {
      head_text_ += name;
      head_text_ += ": ";
      head_text_ += value;
      head_text_ += "\r\n";
    }
    if (version_ >= 11 && !keep_open_) head_text_ += "Connection: close\r\n";
    if (version_ < 11 && keep_open_) head_text_ += "Connection: keep-alive\r\n";
    const bool bodiless = status / 100 == 1 || status == 204 || status == 304;
    body_ = bodiless ? std::string() : std::move(r.body);
    if (!bodiless) {
      head_text_ += "Content-Length: ";
      head_text_ += std::to_string(body_.size());
      head_text_ += "\r\n";
    }
    head_text_ += "\r\n";
    if (head_) body_.clear();  // HEAD: the headers (Content-Length included) only
    stream_.expires_after(shared_.options.limits.idle_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_text_), net::buffer(body_)};
    net::async_write(stream_, buffers, [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (closed_) return;
    if (ec) {
      log_debug("http.write_failed", {{"peer", peer_}, {"connection", id_}, {"error", ec.message()}});
      return close();
    }
    if (!keep_open_) return close_gracefully();
    do_read();
  }

  void on_drain() {
    if (closed_) return;
    // Idle (waiting for a request): close now. Busy: do_write turns keep-alive off, and the
    // connection closes after the response.
    if (reading_ && !busy_) stream_.cancel();
  }

  // Shuts our side down, then reads and discards until the peer closes (bounded), so that an
  // error response is not destroyed by a TCP reset triggered by unread request bytes.
  void close_gracefully() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    do_linger();
  }

  void do_linger() {
    stream_.async_read_some(net::buffer(linger_buf_), [self = shared_from_this()](error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->close();
      self->do_linger();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    awaiting_app_.reset();  // a late answer finds the session gone (we run in a handler holding it)
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    shared_.listener.remove(id_);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_text_;  // the response's status line and headers, reused
  std::string body_;       // the response's body while it is written
  bool keep_open_ = false;  // after this response
  HttpShared& shared_;
  const uint64_t id_;
  std::string peer_;
  const bool reject_;
  std::shared_ptr<HttpSession> awaiting_app_;  // set while the app has the request
  std::optional<HttpResponse> inline_response_;  // the app's answer given inside handle()
  std::array<char, 16384> linger_buf_{};
  size_t lingered_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  bool reading_ = false;
  bool busy_ = false;
  bool lingering_ = false;
  bool closed_ = false;
};

struct HttpServer::Impl {
  Impl(HttpServerOptions o, const HttpApp& app, ServerMetrics& metrics) : shared(std::move(o), app, metrics) {}
  HttpShared shared;
};

HttpServer::HttpServer(HttpServerOptions options, const HttpApp& app, ServerMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), app, metrics)) {}

HttpServer::~HttpServer() { stop(); }

Status<std::string> HttpServer::start() {
  HttpShared& shared = impl_->shared;
  ListenerHooks hooks;
  hooks.accept = [&shared](tcp::socket socket) {
    auto session = std::make_shared<HttpSession>(std::move(socket), shared, false);
    shared.listener.add(session->id(), session);
    session->run();
  };
  // Refused connections get a 503 and are not counted: they only hold the socket while it is written.
  hooks.refuse = [&shared](tcp::socket socket) {
    std::make_shared<HttpSession>(std::move(socket), shared, true)->run();
  };
  return shared.listener.start(std::move(hooks));
}

Endpoint HttpServer::bound() const { return impl_->shared.listener.bound(); }

void HttpServer::begin_shutdown() { impl_->shared.listener.begin_shutdown(); }

size_t HttpServer::connections() const { return impl_->shared.listener.count(); }

void HttpServer::stop() { impl_->shared.listener.stop(); }

}  // namespace midhurst::server
