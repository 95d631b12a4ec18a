// Blocking socket clients for the server's integration tests: plain POSIX sockets (so the
// tests compile without Asio) with receive timeouts, so a broken server fails a test instead
// of hanging it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace midhurst::server::testing {

// A connected TCP socket to 127.0.0.1:port; closes on destruction.
class Connection {
 public:
  explicit Connection(uint16_t port, int timeout_ms = 5000);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `bytes`; false on error (the peer closed, say).
  bool send(std::string_view bytes);
  // Half-close: no more bytes from us.
  void shutdown_write();
  // Reads whatever arrives until the peer closes (or the timeout); appends to buffer().
  // Returns true iff the peer closed (EOF or reset).
  bool read_to_end();
  // Reads until one MLLP frame is complete and returns its payload (removing it from the
  // buffer); "" with *eof set when the peer closed or the timeout passed first.
  std::string read_frame(bool* eof = nullptr);
  // Reads until buffer() holds `marker`; false on EOF or timeout first.
  bool read_until(std::string_view marker);
  std::string& buffer() { return buffer_; }

 private:
  // One recv into buffer_; 0 on EOF, -1 on error/timeout.
  long read_some();
  int fd_ = -1;
  std::string buffer_;
};

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string header(std::string_view lower_name) const;
};

// Sends `raw` (a complete request, which should say Connection: close) and parses the reply.
// status 0 when nothing came back.
HttpReply http_raw(uint16_t port, std::string_view raw);

// GET/POST helper: adds Host, Connection: close, Content-Length, and the bearer token if any.
HttpReply http(uint16_t port, std::string_view method, std::string_view target, std::string_view token = {},
               std::vector<std::pair<std::string, std::string>> headers = {}, std::string_view body = {});

// Parses the first HTTP response in `bytes`.
HttpReply parse_http_reply(std::string_view bytes);

// An ADT^A01 with MSH-10 = control_id, segments ended by \r.
std::string adt_message(std::string_view control_id);

// MSA-2 of an ACK ("" when absent), and MSA-1.
std::string msa_field(std::string_view ack, int n);

}  // namespace midhurst::server::testing
