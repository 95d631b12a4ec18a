// The MLLP listener on a real socket (127.0.0.1, ephemeral port): ACKs in order and echoing
// MSH-10, frames split across writes, pipelining, bytes outside frames, oversize frames,
// half-closed connections, idle timeout, connection limit, out-of-order ingest completion
// and draining on shutdown. Every wait is bounded.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "hl7v2/mllp.h"
#include "server/log.h"
#include "server/mllp_server.h"
#include "server/test_client.h"
#include "server/validate_ingest.h"

namespace midhurst::server {
namespace {

using testing::adt_message;
using testing::Connection;
using testing::msa_field;

// Silences the JSON log for the test's lifetime and keeps the lines for inspection.
struct CaptureLog {
  std::mutex mutex;
  std::vector<std::string> lines;
  CaptureLog() {
    set_log_sink([this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    });
  }
  ~CaptureLog() { set_log_sink(nullptr); }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

// An Ingest that holds every message until the test completes it, and records how many of
// one connection's messages were outstanding at once.
class HeldIngest : public Ingest {
 public:
  void submit(std::string message, IngestSource source, Done done) override {
    std::lock_guard lock(mutex_);
    held_.push_back({std::move(message), std::move(done)});
    max_outstanding_ = std::max(max_outstanding_, held_.size());
    order_.push_back(source.sequence);
    cv_.notify_all();
  }
  // Waits until `n` messages are held (bounded).
  bool wait_for(size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return held_.size() >= n; });
  }
  // Completes the i-th held message (ACK from the validate-only ingest) and forgets it.
  void complete(size_t i) {
    std::pair<std::string, Done> item;
    {
      std::lock_guard lock(mutex_);
      item = std::move(held_[i]);
      held_.erase(held_.begin() + static_cast<long>(i));
    }
    item.second(validator_.answer(item.first));
  }
  size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  size_t max_outstanding() {
    std::lock_guard lock(mutex_);
    return max_outstanding_;
  }
  std::vector<uint64_t> order() {
    std::lock_guard lock(mutex_);
    return order_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, Done>> held_;
  size_t max_outstanding_ = 0;
  std::vector<uint64_t> order_;
  ValidateOnlyIngest validator_;
};

struct Mllp {
  CaptureLog log;
  MetricsRegistry registry;
  ServerMetrics metrics{registry};
  ValidateOnlyIngest validate_only;
  std::unique_ptr<MllpServer> server;
  uint16_t port = 0;

  explicit Mllp(MllpLimits limits = {}, Ingest* ingest = nullptr) {
    server = std::make_unique<MllpServer>(MllpServerOptions{{"127.0.0.1", 0}, limits, 2},
                                          ingest ? *ingest : validate_only, metrics);
    auto started = server->start();
    REQUIRE(started.ok());
    port = server->bound().port;
    REQUIRE(port != 0);
  }
  ~Mllp() { server->stop(); }

  bool wait_connections(size_t n) {
    for (int i = 0; i < 200; ++i) {
      if (server->connections() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

std::string frame(std::string_view payload) { return hl7v2::mllp_frame(payload); }

TEST_CASE("mllp: several connections, several messages, ACKs echo MSH-10 in order", "[mllp]") {
  Mllp m;
  constexpr int kConnections = 4, kMessages = 5;
  std::vector<std::thread> senders;
  std::vector<std::vector<std::string>> got(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    senders.emplace_back([&, c] {
      Connection conn(m.port);
      if (!conn.connected()) return;
      for (int i = 0; i < kMessages; ++i) {
        const std::string bytes = frame(adt_message("C" + std::to_string(c) + "-" + std::to_string(i)));
        if (c == 0) {
          // Connection 0 splits every frame across three writes, pausing between them.
          const size_t third = bytes.size() / 3;
          conn.send(bytes.substr(0, 1));
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          conn.send(bytes.substr(1, third));
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          conn.send(bytes.substr(1 + third));
        } else {
          conn.send(bytes);
        }
        got[c].push_back(conn.read_frame());
      }
    });
  }
  for (auto& t : senders) t.join();
  for (int c = 0; c < kConnections; ++c) {
    REQUIRE(got[c].size() == kMessages);
    for (int i = 0; i < kMessages; ++i) {
      CHECK(msa_field(got[c][i], 1) == "AA");
      CHECK(msa_field(got[c][i], 2) == "C" + std::to_string(c) + "-" + std::to_string(i));
    }
  }
  CHECK(m.registry.expose().find("midhurst_hl7v2_messages_total{transport=\"mllp\",status=\"AA\"} 20") != std::string::npos);
}

TEST_CASE("mllp: 16 connections sending bursts concurrently", "[mllp]") {
  MllpLimits limits;
  limits.max_in_flight = 4;
  Mllp m(limits);
  constexpr int kConnections = 16, kBursts = 5, kPerBurst = 10;
  std::vector<std::thread> senders;
  std::vector<int> in_order(kConnections, 0);
  for (int c = 0; c < kConnections; ++c) {
    senders.emplace_back([&, c] {
      Connection conn(m.port);
      if (!conn.connected()) return;
      int expected = 0;
      for (int b = 0; b < kBursts; ++b) {
        std::string bytes;
        for (int i = 0; i < kPerBurst; ++i)
          bytes += frame(adt_message(std::to_string(c) + "-" + std::to_string(b * kPerBurst + i)));
        if (!conn.send(bytes)) return;
        for (int i = 0; i < kPerBurst; ++i, ++expected)
          if (msa_field(conn.read_frame(), 2) == std::to_string(c) + "-" + std::to_string(expected)) ++in_order[c];
      }
    });
  }
  for (auto& t : senders) t.join();
  for (int c = 0; c < kConnections; ++c) CHECK(in_order[c] == kBursts * kPerBurst);
  CHECK(m.wait_connections(0));
}

TEST_CASE("mllp: pipelined frames in one write are ACKed in order", "[mllp]") {
  Mllp m;
  Connection conn(m.port);
  REQUIRE(conn.connected());
  std::string bytes;
  for (int i = 0; i < 20; ++i) bytes += frame(adt_message("P" + std::to_string(i)));
  REQUIRE(conn.send(bytes));
  for (int i = 0; i < 20; ++i) CHECK(msa_field(conn.read_frame(), 2) == "P" + std::to_string(i));
}

TEST_CASE("mllp: bytes outside frames are logged, counted and skipped", "[mllp]") {
  Mllp m;
  Connection conn(m.port);
  REQUIRE(conn.send("GET / HTTP/1.0\r\n\r\n" + frame(adt_message("G1")) + "\r\n" + "\x01\x02zz" + frame(adt_message("G2"))));
  CHECK(msa_field(conn.read_frame(), 2) == "G1");
  CHECK(msa_field(conn.read_frame(), 2) == "G2");
  const std::string exposed = m.registry.expose();
  CHECK(exposed.find("midhurst_mllp_framing_errors_total{kind=\"bytes outside frame\"} 2") != std::string::npos);
  CHECK(m.log.contains("\"event\":\"mllp.framing_error\""));
}

TEST_CASE("mllp: a message that is not HL7 gets AR, and so does an empty frame", "[mllp]") {
  Mllp m;
  Connection conn(m.port);
  REQUIRE(conn.send(frame("hello") + frame("")));
  const std::string ack = conn.read_frame();
  CHECK(msa_field(ack, 1) == "AR");
  CHECK(msa_field(conn.read_frame(), 1) == "AR");
}

TEST_CASE("mllp: an oversize frame gets a salvage AR echoing MSH-10, then the connection closes", "[mllp]") {
  MllpLimits limits;
  limits.max_frame_bytes = 2048;
  Mllp m(limits);
  Connection conn(m.port);
  std::string big = adt_message("BIG-1");
  big += "NTE|1||" + std::string(5000, 'x') + "\r";
  REQUIRE(conn.send(frame(adt_message("OK-1")) + frame(big) + frame(adt_message("AFTER"))));
  CHECK(msa_field(conn.read_frame(), 2) == "OK-1");
  const std::string ar = conn.read_frame();
  CHECK(msa_field(ar, 1) == "AR");
  CHECK(msa_field(ar, 2) == "BIG-1");
  CHECK(ar.find("mllp.max_frame_bytes") != std::string::npos);
  bool eof = false;
  CHECK(conn.read_frame(&eof).empty());  // nothing for AFTER: the stream is not trusted
  CHECK(eof);
  CHECK(m.log.contains("\"event\":\"mllp.frame_too_large\""));
  CHECK(m.registry.expose().find("midhurst_mllp_framing_errors_total{kind=\"frame too large\"} 1") != std::string::npos);
}

TEST_CASE("mllp: an oversize frame spanning many reads still echoes its MSH-10", "[mllp]") {
  MllpLimits limits;
  limits.max_frame_bytes = 64 * 1024;
  Mllp m(limits);
  Connection conn(m.port);
  std::string big = adt_message("HUGE-7");
  big += "NTE|1||" + std::string(400 * 1024, 'y') + "\r";
  const std::string bytes = frame(big);
  // Written in 16 KiB pieces, so the start block arrives in an earlier read than the limit.
  std::thread writer([&] {
    for (size_t at = 0; at < bytes.size(); at += 16384) {
      if (!conn.send(std::string_view(bytes).substr(at, 16384))) break;
    }
  });
  const std::string ar = conn.read_frame();
  writer.join();
  CHECK(msa_field(ar, 1) == "AR");
  CHECK(msa_field(ar, 2) == "HUGE-7");
}

TEST_CASE("mllp: a half-closed connection still gets its ACKs, then EOF", "[mllp]") {
  Mllp m;
  Connection conn(m.port);
  REQUIRE(conn.send(frame(adt_message("H1")) + frame(adt_message("H2"))));
  conn.shutdown_write();
  CHECK(msa_field(conn.read_frame(), 2) == "H1");
  CHECK(msa_field(conn.read_frame(), 2) == "H2");
  bool eof = false;
  conn.read_frame(&eof);
  CHECK(eof);
}

TEST_CASE("mllp: a frame cut off by the end of the stream is logged and not ACKed", "[mllp]") {
  Mllp m;
  Connection conn(m.port);
  REQUIRE(conn.send(frame(adt_message("T1")) + "\x0bMSH|^~\\&|cut"));
  conn.shutdown_write();
  CHECK(msa_field(conn.read_frame(), 2) == "T1");
  bool eof = false;
  conn.read_frame(&eof);
  CHECK(eof);
  REQUIRE(m.wait_connections(0));
  CHECK(m.registry.expose().find("midhurst_mllp_framing_errors_total{kind=\"truncated frame\"} 1") != std::string::npos);
}

TEST_CASE("mllp: in-flight limit, and ACKs in order whatever order the ingest completes in", "[mllp]") {
  HeldIngest held;
  MllpLimits limits;
  limits.max_in_flight = 3;
  Mllp m(limits, &held);
  Connection conn(m.port);
  std::string bytes;
  for (int i = 0; i < 6; ++i) bytes += frame(adt_message("O" + std::to_string(i)));
  REQUIRE(conn.send(bytes));
  REQUIRE(held.wait_for(3));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(held.held() == 3);  // reading paused at the limit
  held.complete(2);         // the third first: nothing may be written yet
  held.complete(1);
  held.complete(0);
  for (int i = 0; i < 3; ++i) CHECK(msa_field(conn.read_frame(), 2) == "O" + std::to_string(i));
  REQUIRE(held.wait_for(3));
  while (held.held() > 0) held.complete(held.held() - 1);
  for (int i = 3; i < 6; ++i) CHECK(msa_field(conn.read_frame(), 2) == "O" + std::to_string(i));
  CHECK(held.max_outstanding() == 3);
  CHECK(held.order() == std::vector<uint64_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("mllp: an idle connection is closed after the idle timeout", "[mllp]") {
  MllpLimits limits;
  limits.idle_timeout = std::chrono::seconds(1);
  Mllp m(limits);
  Connection conn(m.port);
  REQUIRE(conn.send(frame(adt_message("I1"))));
  CHECK(msa_field(conn.read_frame(), 2) == "I1");
  const auto start = std::chrono::steady_clock::now();
  bool eof = false;
  conn.read_frame(&eof);
  CHECK(eof);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(800));
  CHECK(waited < std::chrono::seconds(4));
  CHECK(m.log.contains("\"event\":\"mllp.idle_timeout\""));
}

TEST_CASE("mllp: beyond max_connections a connection is closed at once", "[mllp]") {
  MllpLimits limits;
  limits.max_connections = 2;
  Mllp m(limits);
  Connection a(m.port), b(m.port);
  REQUIRE(m.wait_connections(2));
  Connection c(m.port);
  bool eof = false;
  c.read_frame(&eof);
  CHECK(eof);
  CHECK(m.log.contains("\"event\":\"mllp.connection_refused\""));
  // The first two still work.
  REQUIRE(a.send(frame(adt_message("A1"))));
  CHECK(msa_field(a.read_frame(), 2) == "A1");
  CHECK(m.registry.expose().find("midhurst_connections_rejected_total{transport=\"mllp\"} 1") != std::string::npos);
}

TEST_CASE("mllp: shutdown lets in-flight messages finish, then closes", "[mllp]") {
  HeldIngest held;
  Mllp m({}, &held);
  Connection busy(m.port), idle(m.port);
  REQUIRE(busy.send(frame(adt_message("S1"))));
  REQUIRE(held.wait_for(1));
  REQUIRE(m.wait_connections(2));
  m.server->begin_shutdown();
  bool eof = false;
  idle.read_frame(&eof);  // the idle connection is closed at once
  CHECK(eof);
  held.complete(0);  // the busy one gets its ACK, then is closed
  CHECK(msa_field(busy.read_frame(), 2) == "S1");
  busy.read_frame(&eof);
  CHECK(eof);
  CHECK(m.wait_connections(0));
  Connection late(m.port);
  CHECK_FALSE(late.connected());  // no longer accepting
}

TEST_CASE("mllp: a done called after stop() is dropped and does not reach the server", "[mllp]") {
  HeldIngest held;  // outlives the server, as an Ingest must
  {
    Mllp m({}, &held);
    Connection conn(m.port);
    REQUIRE(conn.send(frame(adt_message("L1"))));
    REQUIRE(held.wait_for(1));
    m.server->stop();  // L1 is unanswered: its connection is cut
    bool eof = false;
    conn.read_frame(&eof);
    CHECK(eof);
    CHECK(m.registry.expose().find("midhurst_hl7v2_messages_total{transport=\"mllp\",status=\"dropped\"} 1") !=
          std::string::npos);
  }
  // The server is gone: the ingest answers now and only then drops its `done`.
  held.complete(0);
  CHECK(held.held() == 0);
}

}  // namespace
}  // namespace midhurst::server
