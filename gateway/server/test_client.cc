#include "server/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

namespace midhurst::server::testing {

Connection::Connection(uint16_t port, int timeout_ms) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void Connection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

long Connection::read_some() {
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) buffer_.append(buf, static_cast<size_t>(n));
  return n;
}

bool Connection::read_to_end() {
  for (;;) {
    const long n = read_some();
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

bool Connection::read_until(std::string_view marker) {
  while (buffer_.find(marker) == std::string::npos)
    if (read_some() <= 0) return false;
  return true;
}

std::string Connection::read_frame(bool* eof) {
  if (eof) *eof = false;
  for (;;) {
    const size_t sb = buffer_.find('\x0B');
    if (sb != std::string::npos) {
      const size_t eb = buffer_.find("\x1C\x0D", sb);
      if (eb != std::string::npos) {
        std::string frame = buffer_.substr(sb + 1, eb - sb - 1);
        buffer_.erase(0, eb + 2);
        return frame;
      }
    }
    if (read_some() <= 0) {
      if (eof) *eof = true;
      return {};
    }
  }
}

std::string HttpReply::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

HttpReply parse_http_reply(std::string_view bytes) {
  HttpReply r;
  const size_t end = bytes.find("\r\n\r\n");
  if (bytes.substr(0, 5) != "HTTP/" || end == std::string_view::npos) return r;
  const size_t sp = bytes.find(' ');
  r.status = std::atoi(std::string(bytes.substr(sp + 1, 3)).c_str());
  size_t at = bytes.find("\r\n") + 2;
  while (at < end) {
    const size_t eol = bytes.find("\r\n", at);
    const std::string_view line = bytes.substr(at, eol - at);
    const size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::move(name), std::string(value));
    at = eol + 2;
  }
  r.body = std::string(bytes.substr(end + 4));
  const std::string length = r.header("content-length");
  if (!length.empty()) r.body = r.body.substr(0, std::stoul(length));
  return r;
}

HttpReply http_raw(uint16_t port, std::string_view raw) {
  Connection c(port);
  if (!c.connected() || !c.send(raw)) return {};
  c.read_to_end();
  return parse_http_reply(c.buffer());
}

HttpReply http(uint16_t port, std::string_view method, std::string_view target, std::string_view token,
               std::vector<std::pair<std::string, std::string>> headers, std::string_view body) {
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + std::string(token) + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  return http_raw(port, req);
}

std::string adt_message(std::string_view control_id) {
  return "MSH|^~\\&|EPR|RYJ|MIDHURST|HUB|20260101120000||ADT^A01^ADT_A01|" + std::string(control_id) +
         "|P|2.4\rEVN|A01|20260101120000\rPID|1||9449305552^^^NHS^NH||SMITH^ANN||19400101|F\r"
         "PV1|1|I|WARD1^BED2^RYJ\r";
}

std::string msa_field(std::string_view ack, int n) {
  size_t at = ack.find("\rMSA|");
  if (at == std::string_view::npos) return {};
  at += 5;
  for (int i = 1; i < n; ++i) {
    at = ack.find('|', at);
    if (at == std::string_view::npos) return {};
    ++at;
  }
  size_t end = at;
  while (end < ack.size() && ack[end] != '|' && ack[end] != '\r') ++end;
  return std::string(ack.substr(at, end - at));
}

}  // namespace midhurst::server::testing
