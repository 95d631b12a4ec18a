// The MLLP server. One of the Asio translation units (with http_server.cc and listener.cc); see
// mllp_server.h for the behaviour. Listening, accepting, the session registry and shutdown are
// the Listener's (listener.h); this file is the MLLP session. Structure follows Beast's
// advanced_server: a fresh strand per connection, sessions kept alive by shared_from_this, and
// do_X/on_X pairs for each asynchronous step.
#include "server/mllp_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <vector>

#include "hl7v2/ack.h"
#include "hl7v2/mllp.h"
#include "server/listener.h"
#include "server/log.h"

namespace midhurst::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<uint64_t> g_connection_ids{1};

// How much of an oversize frame's start is kept to salvage its MSH for the AR ACK.
constexpr size_t kSalvageHeadBytes = 2048;
constexpr size_t kReadBytes = 64 * 1024;
// Closing: how long, and how many bytes, we read and discard after shutting down our side.
constexpr std::chrono::seconds kLingerTime{2};
constexpr uint64_t kLingerBytes = uint64_t{16} << 20;

}  // namespace

// What the listener and every session share.
struct MllpShared {
  MllpShared(MllpServerOptions o, Ingest& i, ServerMetrics& m)
      : options(std::move(o)),
        ingest(i),
        metrics(m),
        listener({"mllp", "MLLP", options.listen, options.threads, options.limits.max_connections}, m) {}

  MllpServerOptions options;
  Ingest& ingest;
  ServerMetrics& metrics;
  // Last: destroyed first, with the sessions its io_context still holds, while the rest is here.
  Listener listener;
};

class MllpSession : public std::enable_shared_from_this<MllpSession>, public ListenedSession {
 public:
  MllpSession(tcp::socket socket, MllpShared& shared)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        shared_(shared),
        decoder_(hl7v2::MllpDecoderOptions{shared.options.limits.max_frame_bytes}),
        id_(g_connection_ids.fetch_add(1)) {
    error_code ec;
    peer_ = endpoint_text(socket_.remote_endpoint(ec));
    if (ec) peer_ = "?";
  }

  ~MllpSession() override { shared_.listener.remove(id_); }

  uint64_t id() const { return id_; }

  // Starts the session on its strand: no handler of this session runs concurrently with
  // another, so its state needs no lock.
  void run() { net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->on_run(); }); }

  // Shutdown step 1: stop reading, finish what is in flight, then close.
  void drain() override { net::post(socket_.get_executor(), [self = shared_from_this()] { self->on_drain(); }); }
  // Shutdown step 2: close now.
  void force_close() override {
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->close("shutdown"); });
  }

 private:
  struct Slot {
    uint64_t seq = 0;
    bool done = false;
    bool close_after = false;
    std::string ack;
    Clock::time_point received;
  };

  void on_run() {
    log_info("mllp.connection_opened", {{"peer", peer_}, {"connection", id_}});
    last_activity_ = Clock::now();
    arm_timer(shared_.options.limits.idle_timeout);
    if (shared_.listener.draining()) return on_drain();
    do_read();
  }

  // --- reading -------------------------------------------------------------------------------

  void do_read() {
    if (reading_ || read_closed_ || closed_ || events_pending_) return;
    // Back-pressure: with max_in_flight messages unanswered, stop reading; TCP flow control
    // then slows the sender. Reading resumes when an ACK is written.
    if (slots_.size() >= shared_.options.limits.max_in_flight) return;
    reading_ = true;
    // Two buffers in turn: the decoder borrows the last read's bytes until the next feed().
    auto& buf = buffers_[next_buffer_];
    socket_.async_read_some(net::buffer(buf.data(), buf.size()),
                            [self = shared_from_this()](error_code ec, size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      if (ec == net::error::eof) return end_of_input(true);
      if (ec == net::error::operation_aborted && (shared_.listener.draining() || read_closed_)) return end_of_input(false);
      log_info("mllp.read_failed", {{"peer", peer_}, {"connection", id_}, {"error", ec.message()}});
      return close("read error");
    }
    last_activity_ = Clock::now();
    auto& buf = buffers_[next_buffer_];
    next_buffer_ ^= 1;
    current_read_ = std::string_view(buf.data(), n);
    current_read_offset_ = decoder_.stats().bytes_fed;
    remember_frame_head(current_read_, current_read_offset_);
    decoder_.feed(current_read_);
    events_pending_ = true;
    pump();
  }

  // The peer closed its side (clean = EOF), or we stopped reading for shutdown.
  void end_of_input(bool clean) {
    read_closed_ = true;
    if (clean && !rejecting_) {
      decoder_.finish();
      current_read_ = {};
      current_read_offset_ = decoder_.stats().bytes_fed;
      events_pending_ = true;
      pump();
    }
    log_debug("mllp.end_of_input", {{"peer", peer_}, {"connection", id_}, {"clean", clean}});
    do_write();  // closes once every pending ACK is written
  }

  // Keeps the first bytes after the most recent start block, so that an oversize frame,
  // which the decoder skips without buffering, can still be answered with its MSH-10.
  void remember_frame_head(std::string_view bytes, uint64_t offset) {
    size_t from = 0;
    if (head_open_ && head_.size() < kSalvageHeadBytes) {
      const size_t sb = bytes.find(hl7v2::kMllpStartBlock);
      const size_t take = std::min(kSalvageHeadBytes - head_.size(), sb == std::string_view::npos ? bytes.size() : sb);
      head_.append(bytes.substr(0, take));
    }
    const size_t last = bytes.rfind(hl7v2::kMllpStartBlock);
    if (last == std::string_view::npos) return;
    from = last + 1;
    head_open_ = true;
    head_offset_ = offset + last;
    head_.assign(bytes.substr(from, kSalvageHeadBytes));
  }

  // Hands the decoder's events to the ingest until it has nothing more or max_in_flight
  // messages are unanswered; in the second case it is called again when an ACK is written.
  // The read buffer the events point into is not reused until every event is drained.
  void pump() {
    while (events_pending_ && !rejecting_ && slots_.size() < shared_.options.limits.max_in_flight) {
      const hl7v2::MllpEvent e = decoder_.next();
      if (e == hl7v2::MllpEvent::kNeedMore) events_pending_ = false;
      else if (e == hl7v2::MllpEvent::kFrame) submit(decoder_.take_frame());
      else on_framing_error(decoder_.error(), current_read_, current_read_offset_);
    }
    if (rejecting_) events_pending_ = false;
    if (!events_pending_) do_read();
  }

  void on_framing_error(const hl7v2::MllpError& error, std::string_view bytes, uint64_t read_offset) {
    const char* kind = hl7v2::mllp_error_name(error.kind);
    shared_.metrics.mllp_framing_errors.with({kind}).inc();
    const bool too_large = error.kind == hl7v2::MllpErrorKind::kFrameTooLarge;
    log(too_large ? LogLevel::kWarn : LogLevel::kInfo, "mllp.framing_error",
        {{"peer", peer_}, {"connection", id_}, {"kind", kind}, {"offset", error.offset},
         {"length", error.length}, {"detail", error.text}});
    if (!too_large) return;
    // The frame's first bytes: in this read, or kept from an earlier one.
    std::string head;
    if (error.offset >= read_offset && error.offset - read_offset < bytes.size())
      head = std::string(bytes.substr(error.offset - read_offset + 1, kSalvageHeadBytes));
    else if (head_open_ && head_offset_ == error.offset)
      head = head_;
    hl7v2::Issue issue;
    issue.severity = hl7v2::Severity::kError;
    issue.code = hl7v2::ErrorCode::kApplicationInternalError;
    issue.why = "message refused: longer than this gateway's limit of " +
                std::to_string(shared_.options.limits.max_frame_bytes) +
                " bytes (mllp.max_frame_bytes); the connection is closed";
    auto ack = hl7v2::build_salvage_ack(head, issue, hl7v2::hl7_timestamp_now(), "MHREJ" + std::to_string(id_));
    log_warn("mllp.frame_too_large", {{"peer", peer_}, {"connection", id_},
                                      {"limit", shared_.options.limits.max_frame_bytes},
                                      {"control_id", hl7v2::salvage_header(head).control_id}});
    Slot slot;
    slot.seq = ++next_seq_;
    slot.done = true;
    slot.close_after = true;
    slot.ack = ack ? ack->encode() : std::string();
    slot.received = Clock::now();
    slots_.push_back(std::move(slot));
    // Nothing after an oversize frame is read or answered: the sender must reconnect.
    rejecting_ = true;
    read_closed_ = true;
    do_write();
  }

  // --- ingest --------------------------------------------------------------------------------

  void submit(std::string frame) {
    Slot slot;
    slot.seq = ++next_seq_;
    slot.received = Clock::now();
    slots_.push_back(std::move(slot));
    IngestSource source;
    source.transport = "mllp";
    source.peer = peer_;
    source.connection_id = id_;
    source.sequence = next_seq_;
    // `done` may run on any thread, now or later: it only posts back to this strand. It gets
    // a weak handle (see CompletionGate in listener.h); while the connection is open, the idle
    // timer's pending wait keeps the session alive, and once closed there is nobody to write the
    // ACK to (a dropped ACK is counted in close()).
    shared_.ingest.submit(std::move(frame), std::move(source),
                          [weak = weak_from_this(), gate = shared_.listener.gate(), seq = next_seq_](std::string ack) {
                            gate->with_session(weak, [&ack, seq](std::shared_ptr<MllpSession> self) {
                              auto strand = self->socket_.get_executor();
                              net::post(strand, [self = std::move(self), seq, ack = std::move(ack)]() mutable {
                                self->on_ack(seq, std::move(ack));
                              });
                            });
                          });
  }

  void on_ack(uint64_t seq, std::string ack) {
    if (closed_) return;  // its slot was counted as dropped in close()
    for (auto it = slots_.begin(); it != slots_.end(); ++it) {
      if (it->seq != seq) continue;
      it->done = true;
      it->ack = std::move(ack);
      break;
    }
    do_write();
  }

  // --- writing -------------------------------------------------------------------------------

  void do_write() {
    if (writing_ || closed_) return;
    // Everything answered at the front of the queue goes out in one write, in order.
    write_buffer_.clear();
    written_.clear();
    while (!slots_.empty() && slots_.front().done) {
      Slot s = std::move(slots_.front());
      slots_.pop_front();
      const std::string code = s.ack.empty() ? "none" : ack_code_of(s.ack);
      shared_.metrics.hl7v2_messages.with({"mllp", code.empty() ? "unknown" : code}).inc();
      if (!s.ack.empty() && hl7v2::mllp_can_frame(s.ack)) hl7v2::mllp_frame_append(s.ack, write_buffer_);
      written_.push_back(s.received);
      if (s.close_after) {
        close_after_write_ = true;
        break;
      }
    }
    if (write_buffer_.empty()) {
      observe_latency();
      if (close_after_write_ || (read_closed_ && !events_pending_ && slots_.empty())) return close_gracefully();
      return events_pending_ ? pump() : do_read();
    }
    writing_ = true;
    net::async_write(socket_, net::buffer(write_buffer_),
                     [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      log_info("mllp.write_failed", {{"peer", peer_}, {"connection", id_}, {"error", ec.message()}});
      return close("write error");
    }
    last_activity_ = Clock::now();
    observe_latency();
    if (close_after_write_) return close_gracefully();
    // A read cancelled for shutdown could not be cancelled while this write was pending.
    if (shared_.listener.draining() && reading_) socket_.cancel();
    do_write();
  }

  void observe_latency() {
    auto& h = shared_.metrics.ack_latency.with({"mllp"});
    const auto now = Clock::now();
    for (const auto& t : written_) h.observe(std::chrono::duration<double>(now - t).count());
    written_.clear();
  }

  // --- timers, shutdown ----------------------------------------------------------------------

  void arm_timer(Clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_timer(ec); });
  }

  // One timer per connection, re-armed lazily: reads only stamp last_activity_, so the hot
  // path does not cancel and restart a timer per read.
  void on_timer(error_code ec) {
    if (ec || closed_) return;
    if (lingering_) return close("done");
    const auto idle = shared_.options.limits.idle_timeout;
    const auto quiet = Clock::now() - last_activity_;
    if (quiet < idle) return arm_timer(idle - quiet);
    const bool working = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.done; });
    if (working) return arm_timer(idle);  // our ingest is slow, not the peer
    log_info("mllp.idle_timeout", {{"peer", peer_}, {"connection", id_}});
    close("idle timeout");
  }

  void on_drain() {
    if (closed_) return;
    read_closed_ = true;
    // Cancelling would also abort a write in progress; then on_write cancels the read.
    if (reading_ && !writing_) socket_.cancel();
    if (!reading_) do_write();
  }

  // Closes our side, then reads and discards what the peer still sends until it closes too
  // (or kLingerTime passes). Closing with unread bytes in the receive buffer would send a TCP
  // reset, and a reset can destroy the last ACK before the peer has read it.
  void close_gracefully() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm_timer(kLingerTime);
    do_linger();
  }

  void do_linger() {
    auto& buf = buffers_[0];
    socket_.async_read_some(net::buffer(buf.data(), buf.size()), [self = shared_from_this()](error_code ec, size_t n) {
      if (self->closed_) return;
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->close("done");
      self->do_linger();
    });
  }

  void close(const char* why) {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    // Every message whose ACK cannot be written now, answered or not: a `done` arriving later
    // may find the session gone, so it is counted here.
    if (!slots_.empty())
      shared_.metrics.hl7v2_messages.with({"mllp", "dropped"}).inc(static_cast<double>(slots_.size()));
    slots_.clear();
    log_info("mllp.connection_closed", {{"peer", peer_}, {"connection", id_}, {"reason", why},
                                        {"messages", next_seq_}, {"framing_errors", decoder_.stats().errors}});
    shared_.listener.remove(id_);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  MllpShared& shared_;
  hl7v2::MllpDecoder decoder_;
  const uint64_t id_;
  std::string peer_;

  std::array<std::vector<char>, 2> buffers_{std::vector<char>(kReadBytes), std::vector<char>(kReadBytes)};
  int next_buffer_ = 0;
  std::string head_;
  uint64_t head_offset_ = 0;
  bool head_open_ = false;

  std::string_view current_read_;  // the bytes last fed to the decoder
  uint64_t current_read_offset_ = 0;
  bool events_pending_ = false;    // the decoder may hold events not yet taken

  std::deque<Slot> slots_;  // submitted, in arrival order, until their ACK is written
  uint64_t next_seq_ = 0;
  std::string write_buffer_;
  std::vector<Clock::time_point> written_;
  Clock::time_point last_activity_;

  bool reading_ = false;
  bool writing_ = false;
  bool read_closed_ = false;       // no more reads: EOF, shutdown or rejection
  bool rejecting_ = false;         // an oversize frame was refused: ignore the rest
  bool close_after_write_ = false;
  bool lingering_ = false;
  uint64_t lingered_ = 0;
  bool closed_ = false;
};

struct MllpServer::Impl {
  Impl(MllpServerOptions o, Ingest& ingest, ServerMetrics& metrics) : shared(std::move(o), ingest, metrics) {}
  MllpShared shared;
};

MllpServer::MllpServer(MllpServerOptions options, Ingest& ingest, ServerMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), ingest, metrics)) {}

MllpServer::~MllpServer() { stop(); }

Status<std::string> MllpServer::start() {
  MllpShared& shared = impl_->shared;
  ListenerHooks hooks;
  hooks.accept = [&shared](tcp::socket socket) {
    auto session = std::make_shared<MllpSession>(std::move(socket), shared);
    shared.listener.add(session->id(), session);
    session->run();
  };
  // Beyond max_connections the listener closes the socket: MLLP has no way to say "busy".
  return shared.listener.start(std::move(hooks));
}

Endpoint MllpServer::bound() const { return impl_->shared.listener.bound(); }

void MllpServer::begin_shutdown() { impl_->shared.listener.begin_shutdown(); }

size_t MllpServer::connections() const { return impl_->shared.listener.count(); }

void MllpServer::stop() { impl_->shared.listener.stop(); }

}  // namespace midhurst::server
