// MLLP ingest load benchmark: the real gateway against a do-nothing MLLP server, in one run.
//
// Scenarios, each for --seconds (or until --messages are ACKed), with 1 and with 16 connections:
//   ceiling   a minimal Asio MLLP server inside this process (its own thread) that answers every
//             frame with one fixed ACK at once: no parsing, no storage. The most this client and
//             this machine's loopback can do.
//   gateway   the real `midhurst serve` binary, started as a child process on 127.0.0.1 with a
//             fresh data directory and examples/midhurst.json: every message is parsed, mapped,
//             journaled and committed with fsync before its ACK (durable ingest, group commit).
// The client (one thread, Asio) keeps up to --window unacknowledged messages per connection
// (the gateway's mllp.max_in_flight, 8). Messages are examples/adt_a01_admit.hl7 with a unique
// MSH-10 each and the patient (NHS number, local MR number) drawn from a set of valid
// Modulus-11 NHS numbers. Every ACK is checked before anything is reported: MSA-1 must be AA and
// MSA-2 the MSH-10 sent (the ceiling's fixed ACK says "CEILING"); anything else fails the run.
// Reported per scenario: messages/s, ACK latency p50/p99/max (from the moment a message is
// queued for writing to the moment its ACK is read) and the gateway's ratio to the ceiling.
// Afterwards the gateway's counter midhurst_hl7v2_messages_total{transport="mllp",status="AA"}
// (from /metrics) and, after SIGTERM, its journal (the SQLite file opened read-only) must both
// hold exactly the number of AA ACKs received: every message that got AA was stored.
//
// Figures only: the benchmark never fails on a number, only on a wrong answer or a broken run.
// Every wait is bounded; all traffic is to 127.0.0.1.
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hl7v2/mllp.h"

namespace fs = std::filesystem;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace midhurst;

namespace {

constexpr const char* kUsage =
    "usage: mllp_load_bench [--repo DIR] [--binary FILE] [--dir DIR] [--seconds S]\n"
    "                       [--messages N] [--connections N,N,...] [--window N] [--vary] [--keep]\n"
    "\n"
    "MLLP ingest load: the real gateway (`midhurst serve`, durable ACKs) against a minimal\n"
    "in-process MLLP server answering a fixed ACK (the ceiling), with 1 and 16 connections.\n"
    "\n"
    "  --repo DIR          repository root: examples/, mappings/, conformance/ (default: the\n"
    "                      source tree this was built from)\n"
    "  --binary FILE       the gateway binary (default: REPO/build/release/midhurst)\n"
    "  --dir DIR           where the gateway's temporary data directory is made (default: the\n"
    "                      system temporary directory; pick the disk you want measured)\n"
    "  --seconds S         sending time per scenario (default 4)\n"
    "  --messages N        stop each scenario after N messages instead (0 = by time; default 0)\n"
    "  --connections LIST  connection counts to run (default 1,16)\n"
    "  --window N          unacknowledged messages per connection (default 8, the gateway's\n"
    "                      mllp.max_in_flight)\n"
    "  --vary              every message changes its patient's given name (a new version per\n"
    "                      message); by default a patient's later messages repeat what is stored\n"
    "  --keep              keep the temporary directory (gateway log and database)\n"
    "  --help              this text\n";

struct Options {
  fs::path repo = MIDHURST_SOURCE_DIR;
  fs::path binary;
  fs::path dir;
  double seconds = 4;
  long messages = 0;
  std::vector<int> connections{1, 16};
  size_t window = 8;
  bool keep = false;
  bool vary = false;
};

// --- Failing loudly, with the gateway stopped. ---

pid_t g_child = -1;
fs::path g_tmp;

void stop_child_now() {
  if (g_child <= 0) return;
  kill(g_child, SIGKILL);
  waitpid(g_child, nullptr, 0);
  g_child = -1;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "mllp_load_bench: FAILED: %s\n", what.c_str());
  stop_child_now();
  if (!g_tmp.empty()) std::fprintf(stderr, "mllp_load_bench: kept %s (gateway log and data)\n", g_tmp.c_str());
  std::exit(1);
}

std::string printable(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\r', '\n');
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// --- Messages. ---

// Valid NHS numbers: nine digits, then the Modulus-11 check digit (weights 10..2; 11 -> 0;
// a remainder giving 10 makes the nine digits unusable, so they are skipped).
std::vector<std::string> nhs_numbers(size_t count) {
  std::vector<std::string> out;
  for (long base = 943476000; out.size() < count; base += 37) {
    const std::string d = std::to_string(base);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (d[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check == 10) continue;
    out.push_back(d + static_cast<char>('0' + check));
  }
  return out;
}

// Offset of field `n` of the segment starting at `seg` (MSH: n counts MSH-1 as the separator).
size_t field_offset(const std::string& m, size_t seg, int n, bool msh) {
  size_t pos = seg + 3;  // the separator after the segment name: MSH-1, or before field 1
  for (int f = 0; f < (msh ? n - 2 : n - 1); ++f) {
    pos = m.find('|', pos + 1);
    if (pos == std::string::npos) die("the example message is too short");
  }
  return pos + 1;
}

size_t field_end(const std::string& m, size_t begin) {
  const size_t e = m.find_first_of("|\r", begin);
  return e == std::string::npos ? m.size() : e;
}

// The example ADT^A01 cut around MSH-10 and PID-3, so that each message is three copies.
// With `vary`, the given name (PID-5.2) is the control id too, so that every message changes its
// patient (a new version each time) instead of repeating what is stored after the first round.
struct Template {
  std::string head, middle, tail;  // head MSH-10 middle PID-3 tail
  size_t given_begin = 0, given_end = 0;  // PID-5.2 within tail
  bool vary = false;
  std::vector<std::string> nhs;

  std::string build(const std::string& control_id, size_t patient) const {
    const std::string& n = nhs[patient % nhs.size()];
    std::string m;
    m.reserve(head.size() + middle.size() + tail.size() + 64);
    m += head;
    m += control_id;
    m += middle;
    m += n;
    m += "^^^NHS^NH~M";
    m += n.substr(4);
    m += "^^^RYJ^MR";
    if (vary) {
      m.append(tail, 0, given_begin);
      m += control_id;
      m.append(tail, given_end);
    } else {
      m += tail;
    }
    return m;
  }
};

Template load_template(const fs::path& file) {
  std::string text = slurp(file);
  if (text.empty()) die("cannot read " + file.string());
  std::string m;  // segments end with CR, whatever the file's line ends
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      if (m.empty() || m.back() != '\r') m += '\r';
    } else {
      m += text[i];
    }
  }
  while (!m.empty() && m.back() == '\r') m.pop_back();
  m += '\r';
  if (m.rfind("MSH|", 0) != 0) die(file.string() + " does not start with MSH");
  const size_t pid = m.find("\rPID|");
  if (pid == std::string::npos) die(file.string() + " has no PID segment");
  const size_t c0 = field_offset(m, 0, 10, true), c1 = field_end(m, c0);
  const size_t p0 = field_offset(m, pid + 1, 3, false), p1 = field_end(m, p0);
  Template t;
  t.head = m.substr(0, c0);
  t.middle = m.substr(c1, p0 - c1);
  t.tail = m.substr(p1);
  // PID-5.2: after PID-3's end, PID-4, the family name (PID-5.1).
  size_t at = t.tail.find('|', 1);
  if (at != std::string::npos) at = t.tail.find_first_of("^|\r", at + 1);
  if (at == std::string::npos || t.tail[at] != '^') die(file.string() + ": PID-5 has no given name to vary");
  t.given_begin = at + 1;
  t.given_end = t.tail.find_first_of("^|\r", t.given_begin);
  t.nhs = nhs_numbers(1000);
  return t;
}

// MSA-1 and MSA-2 of an ACK; empty when there is no MSA segment.
std::pair<std::string_view, std::string_view> msa(std::string_view ack) {
  size_t p = ack.rfind("MSA|", 0) == 0 ? 0 : ack.find("\rMSA|");
  if (p == std::string_view::npos) return {};
  if (p != 0) ++p;
  const size_t a = p + 4;
  const size_t a_end = std::min(ack.find_first_of("|\r", a), ack.size());
  if (a_end >= ack.size() || ack[a_end] != '|') return {ack.substr(a, a_end - a), {}};
  const size_t b = a_end + 1;
  const size_t b_end = std::min(ack.find_first_of("|\r", b), ack.size());
  return {ack.substr(a, a_end - a), ack.substr(b, b_end - b)};
}

// --- The ceiling: a fixed ACK for every frame, no parsing, no storage. ---

const std::string kCeilingId = "CEILING";
const std::string kCeilingAck = hl7v2::mllp_frame(
    "MSH|^~\\&|BENCH|CEILING|PAS|RYJ|20260101000000||ACK^A01^ACK|CEILING|P|2.4\rMSA|AA|CEILING\r");

class CeilingServer {
 public:
  CeilingServer() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~CeilingServer() {
    ioc_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::array<char, 65536> buf;
    std::string out;

    void read() {
      socket.async_read_some(asio::buffer(buf), [self = shared_from_this()](auto ec, size_t n) {
        if (ec) return;
        // A frame ends with EB: one fixed ACK per EB seen.
        const size_t frames = static_cast<size_t>(std::count(self->buf.data(), self->buf.data() + n, '\x1C'));
        if (frames == 0) return self->read();
        self->out.clear();
        for (size_t i = 0; i < frames; ++i) self->out += kCeilingAck;
        asio::async_write(self->socket, asio::buffer(self->out), [self](auto ec2, size_t) {
          if (!ec2) self->read();
        });
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](auto ec, tcp::socket s) {
      if (ec) return;
      s.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(s))->read();
      accept();
    });
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// --- The client load generator. ---

struct Result {
  long messages = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
  double rate() const { return seconds > 0 ? messages / seconds : 0; }
  double percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    const size_t i = std::min(latencies_ms.size() - 1, static_cast<size_t>(p * (latencies_ms.size() - 1) + 0.5));
    return latencies_ms[i];
  }
};

class LoadRun {
 public:
  LoadRun(const Template& t, const Options& o, unsigned short port, int connections, bool echo, std::string tag)
      : template_(t), options_(o), echo_(echo), tag_(std::move(tag)), watchdog_(ioc_) {
    for (int i = 0; i < connections; ++i) {
      auto c = std::make_unique<Conn>(ioc_, i);
      boost::system::error_code ec;
      c->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
      if (ec) die("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
      c->socket.set_option(tcp::no_delay(true));
      conns_.push_back(std::move(c));
    }
    open_ = conns_.size();
  }

  Result run() {
    start_ = Clock::now();
    deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.seconds));
    // Bounded: sending stops at the deadline (or after --messages); the ACKs still owed get 60 s.
    const double limit = options_.messages > 0 ? 600.0 : options_.seconds + 60.0;
    watchdog_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit)));
    watchdog_.async_wait([this](auto ec) {
      if (!ec) die(tag_ + ": ACKs still missing after the time limit (" + std::to_string(acked_) + " of " + std::to_string(sent_) + " received)");
    });
    for (auto& c : conns_) {
      fill(*c);
      read(*c);
    }
    ioc_.run();
    if (open_ != 0) die(tag_ + ": the client stopped with connections still open");
    Result r;
    r.messages = acked_;
    r.seconds = seconds_between(start_, last_ack_);
    r.latencies_ms = std::move(latencies_);
    std::sort(r.latencies_ms.begin(), r.latencies_ms.end());
    if (r.messages == 0) die(tag_ + ": no message was acknowledged");
    return r;
  }

 private:
  struct Pending {
    std::string control_id;
    Clock::time_point queued;
  };
  struct Conn {
    Conn(asio::io_context& ioc, int i) : socket(ioc), id(i) {}
    tcp::socket socket;
    int id;
    std::deque<Pending> in_flight;
    std::string out, writing;
    bool write_busy = false;
    bool done = false;
    std::array<char, 65536> buf;
    hl7v2::MllpDecoder decoder;
  };

  bool sending() const {
    if (options_.messages > 0) return sent_ < options_.messages;
    return Clock::now() < deadline_;
  }

  void fill(Conn& c) {
    while (c.in_flight.size() < options_.window && sending()) {
      std::string id = tag_ + "-" + std::to_string(c.id) + "-" + std::to_string(sent_);
      hl7v2::mllp_frame_append(template_.build(id, static_cast<size_t>(sent_) * 7919), c.out);
      c.in_flight.push_back({std::move(id), Clock::now()});
      ++sent_;
    }
    if (c.in_flight.empty()) return finish(c);
    write(c);
  }

  void write(Conn& c) {
    if (c.write_busy || c.out.empty()) return;
    c.writing.swap(c.out);
    c.out.clear();
    c.write_busy = true;
    asio::async_write(c.socket, asio::buffer(c.writing), [this, &c](auto ec, size_t) {
      c.write_busy = false;
      if (ec) {
        if (c.done) return;
        die(tag_ + ": write failed on connection " + std::to_string(c.id) + ": " + ec.message());
      }
      write(c);
    });
  }

  void read(Conn& c) {
    c.socket.async_read_some(asio::buffer(c.buf), [this, &c](auto ec, size_t n) {
      if (c.done) return;
      if (ec) die(tag_ + ": connection " + std::to_string(c.id) + " ended with " + std::to_string(c.in_flight.size()) + " ACKs owed: " + ec.message());
      c.decoder.feed(std::string_view(c.buf.data(), n));
      for (hl7v2::MllpEvent e; (e = c.decoder.next()) != hl7v2::MllpEvent::kNeedMore;) {
        if (e == hl7v2::MllpEvent::kError) die(tag_ + ": bad MLLP framing from the server: " + c.decoder.error().text);
        on_ack(c, c.decoder.frame());
      }
      fill(c);
      if (!c.done) read(c);
    });
  }

  void on_ack(Conn& c, std::string_view ack) {
    const auto now = Clock::now();
    if (c.in_flight.empty()) die(tag_ + ": an ACK nobody asked for:\n" + printable(ack));
    const Pending& p = c.in_flight.front();
    const auto [code, id] = msa(ack);
    const std::string& expected = echo_ ? p.control_id : kCeilingId;
    if (code != "AA" || id != expected)
      die(tag_ + ": message " + p.control_id + " was answered with MSA-1 '" + std::string(code) + "', MSA-2 '" +
          std::string(id) + "' (expected AA, " + expected + "):\n" + printable(ack));
    latencies_.push_back(std::chrono::duration<double, std::milli>(now - p.queued).count());
    c.in_flight.pop_front();
    ++acked_;
    last_ack_ = now;
  }

  void finish(Conn& c) {
    if (c.done) return;
    c.done = true;
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
    if (--open_ == 0) watchdog_.cancel();
  }

  const Template& template_;
  const Options& options_;
  bool echo_;
  std::string tag_;
  asio::io_context ioc_;
  asio::steady_timer watchdog_;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t open_ = 0;
  long sent_ = 0, acked_ = 0;
  Clock::time_point start_, deadline_, last_ack_;
  std::vector<double> latencies_;
};

// --- The gateway, as a child process. ---

struct Gateway {
  unsigned short http = 0, mllp = 0;
  fs::path log, db;
};

std::optional<unsigned short> json_port(const std::string& text, const std::string& key) {
  const size_t k = text.find("\"" + key + "\":");
  if (k == std::string::npos) return std::nullopt;
  const long v = std::strtol(text.c_str() + k + key.size() + 3, nullptr, 10);
  if (v <= 0 || v > 65535) return std::nullopt;
  return static_cast<unsigned short>(v);
}

Gateway start_gateway(const Options& o, const fs::path& tmp) {
  Gateway g;
  g.log = tmp / "gateway.log";
  g.db = tmp / "data" / "midhurst.db";
  const fs::path ports = tmp / "ports.json";
  const std::vector<std::string> args = {
      o.binary.string(), "serve",
      "--config", (o.repo / "examples" / "midhurst.json").string(),
      "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0",
      "--data-dir", (tmp / "data").string(),
      "--port-file", ports.string(),
      "--set", "mappings_dir=" + (o.repo / "mappings").string(),
      "--set", "capability_statement=" + (o.repo / "conformance" / "CapabilityStatement.json").string()};
  const pid_t pid = fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    FILE* out = std::fopen(g.log.c_str(), "w");
    if (out) {
      dup2(fileno(out), 1);
      dup2(fileno(out), 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  g_child = pid;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      g_child = -1;
      die("the gateway exited at start (" + describe(status) + "):\n" + slurp(g.log));
    }
    if (fs::exists(ports)) {
      const std::string text = slurp(ports);
      const auto h = json_port(text, "http"), m = json_port(text, "mllp");
      if (h && m) {
        g.http = *h;
        g.mllp = *m;
        return g;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  die("no port file from the gateway within 30 s:\n" + slurp(g.log));
}

// SIGTERM, then up to 60 s for a clean exit (0). Returns the gateway's CPU seconds (user, system).
std::pair<double, double> stop_gateway() {
  kill(g_child, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int status = 0;
    struct rusage usage {};
    if (wait4(g_child, &status, WNOHANG, &usage) == g_child) {
      g_child = -1;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the gateway did not exit cleanly after SIGTERM (" + describe(status) + ")");
      auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
      return {secs(usage.ru_utime), secs(usage.ru_stime)};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  die("the gateway did not stop within 60 s of SIGTERM");
}

// CPU time of the gateway's threads so far, in nanoseconds, summed by thread name (the ingest
// names its pipeline threads "ingest-resolve" and "ingest-commit"; the rest are the listeners'
// I/O threads and housekeeping). From /proc/PID/task/TID/schedstat (run time in ns), so that a
// scenario's CPU per message can be split by pipeline stage; empty where /proc does not say.
std::map<std::string, double> thread_cpu_ns(pid_t pid) {
  std::map<std::string, double> by_name;
  std::error_code ec;
  const fs::path tasks = fs::path("/proc") / std::to_string(pid) / "task";
  for (const auto& t : fs::directory_iterator(tasks, ec)) {
    std::string name = slurp(t.path() / "comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    const std::string sched = slurp(t.path() / "schedstat");
    if (name.empty() || sched.empty()) continue;
    by_name[name] += std::strtod(sched.c_str(), nullptr);
  }
  return by_name;
}

// Prints the CPU each thread group spent per message in one scenario (after - before).
void print_thread_cpu(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
                      long messages) {
  if (messages <= 0 || after.empty()) return;
  double total = 0;
  std::printf("           CPU us/msg:");
  for (const auto& [name, ns] : after) {
    const auto b = before.find(name);
    const double d = ns - (b == before.end() ? 0 : b->second);
    total += d;
    if (d / 1e3 / messages >= 0.5) std::printf(" %s %.0f,", name.c_str(), d / 1e3 / messages);
  }
  std::printf(" total %.0f\n", total / 1e3 / messages);
}

// GET /metrics (any client's token will do: the example configuration's monitor client), and
// the value of midhurst_hl7v2_messages_total{transport="mllp",status="AA"}.
long metrics_mllp_aa(unsigned short port) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  std::string request =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev-monitor-token\r\n"
      "Connection: close\r\n\r\n";
  std::string response;
  std::array<char, 16384> buf;
  bool finished = false;
  std::function<void()> read = [&] {
    s.async_read_some(asio::buffer(buf), [&](auto ec, size_t n) {
      response.append(buf.data(), n);
      if (ec) {
        finished = true;
        return;
      }
      read();
    });
  };
  s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](auto ec) {
    if (ec) die("cannot connect to the gateway's HTTP port: " + ec.message());
    asio::async_write(s, asio::buffer(request), [&](auto ec2, size_t) {
      if (ec2) die("cannot send GET /metrics: " + ec2.message());
      read();
    });
  });
  ioc.run_for(std::chrono::seconds(10));
  if (!finished) die("GET /metrics did not complete within 10 s");
  if (response.rfind("HTTP/1.1 200", 0) != 0) die("GET /metrics answered:\n" + response.substr(0, 500));
  const std::string key = "midhurst_hl7v2_messages_total{transport=\"mllp\",status=\"AA\"} ";
  const size_t k = response.find(key);
  if (k == std::string::npos) die("/metrics has no " + key);
  return std::strtol(response.c_str() + k + key.size(), nullptr, 10);
}

struct JournalCounts {
  long total = 0, accepted = 0;
};

JournalCounts journal_counts(const fs::path& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    die("cannot open " + db.string() + " read-only: " + (h ? sqlite3_errmsg(h) : "out of memory"));
  JournalCounts c;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, "SELECT count(*), coalesce(sum(status = 'accepted'), 0) FROM journal", -1, &st, nullptr) != SQLITE_OK)
    die(std::string("journal query: ") + sqlite3_errmsg(h));
  if (sqlite3_step(st) != SQLITE_ROW) die(std::string("journal query: ") + sqlite3_errmsg(h));
  c.total = sqlite3_column_int64(st, 0);
  c.accepted = sqlite3_column_int64(st, 1);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return c;
}

// --- Main. ---

void print_row(const char* name, int conns, const Result& r, const Result* ceiling) {
  std::printf("%-10s %5d %9ld %11.0f %8.2f %8.2f %8.2f", name, conns, r.messages, r.rate(), r.percentile(0.50),
              r.percentile(0.99), r.latencies_ms.empty() ? 0.0 : r.latencies_ms.back());
  if (ceiling) std::printf(" %9.1f%%", 100.0 * r.rate() / ceiling->rate());
  std::printf("\n");
  std::fflush(stdout);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mllp_load_bench: %s needs a value\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--repo") {
      o.repo = value();
    } else if (a == "--binary") {
      o.binary = value();
    } else if (a == "--dir") {
      o.dir = value();
    } else if (a == "--seconds") {
      o.seconds = std::atof(value().c_str());
    } else if (a == "--messages") {
      o.messages = std::atol(value().c_str());
    } else if (a == "--window") {
      o.window = static_cast<size_t>(std::atol(value().c_str()));
    } else if (a == "--connections") {
      o.connections.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) o.connections.push_back(std::atoi(item.c_str()));
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--vary") {
      o.vary = true;
    } else {
      std::fprintf(stderr, "mllp_load_bench: unknown argument %s\n%s", a.c_str(), kUsage);
      std::exit(2);
    }
  }
  const bool bad_conns = o.connections.empty() ||
                         std::any_of(o.connections.begin(), o.connections.end(), [](int n) { return n < 1 || n > 200; });
  if (o.seconds <= 0 || o.seconds > 600 || o.messages < 0 || o.window < 1 || o.window > 1024 || bad_conns) {
    std::fprintf(stderr, "mllp_load_bench: bad value (seconds 0-600, window 1-1024, connections 1-200)\n%s", kUsage);
    std::exit(2);
  }
  if (o.binary.empty()) o.binary = o.repo / "build" / "release" / "midhurst";
  if (o.dir.empty()) o.dir = fs::temp_directory_path();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (!fs::exists(o.binary)) die("no gateway binary at " + o.binary.string() + " (build it, or pass --binary)");
  Template tmpl = load_template(o.repo / "examples" / "adt_a01_admit.hl7");
  tmpl.vary = o.vary;

  std::string dir_template = (o.dir / "mllp-load-bench-XXXXXX").string();
  if (!mkdtemp(dir_template.data())) die("cannot make a temporary directory under " + o.dir.string());
  g_tmp = dir_template;

  std::printf("ADT^A01 (%zu bytes%s) over MLLP, %zu unacknowledged per connection, ",
              tmpl.build("X", 0).size(), o.vary ? ", every one changing its patient" : "", o.window);
  if (o.messages > 0)
    std::printf("%ld messages per scenario\n", o.messages);
  else
    std::printf("%.1f s per scenario\n", o.seconds);
  std::printf("%-10s %5s %9s %11s %8s %8s %8s %10s\n", "server", "conns", "messages", "messages/s", "p50 ms",
              "p99 ms", "max ms", "of ceiling");

  // The ceiling, then the gateway, for each connection count.
  std::vector<Result> ceilings;
  {
    CeilingServer ceiling;
    for (int n : o.connections) {
      LoadRun run(tmpl, o, ceiling.port(), n, false, "C" + std::to_string(n));
      ceilings.push_back(run.run());
      print_row("ceiling", n, ceilings.back(), nullptr);
    }
  }

  const Gateway g = start_gateway(o, g_tmp);
  long gateway_aa = 0;
  double gateway_seconds = 0;
  for (size_t i = 0; i < o.connections.size(); ++i) {
    const int n = o.connections[i];
    LoadRun run(tmpl, o, g.mllp, n, true, "G" + std::to_string(n));
    const auto cpu_before = thread_cpu_ns(g_child);
    const Result r = run.run();
    const auto cpu_after = thread_cpu_ns(g_child);
    gateway_aa += r.messages;
    gateway_seconds += r.seconds;
    print_row("gateway", n, r, &ceilings[i]);
    print_thread_cpu(cpu_before, cpu_after, r.messages);
  }

  // Every AA must be stored: the gateway's own counter, then its journal after a clean stop.
  const long metric = metrics_mllp_aa(g.http);
  if (metric != gateway_aa)
    die("/metrics counts " + std::to_string(metric) + " MLLP messages answered AA, the client received " + std::to_string(gateway_aa));
  const auto [user, sys] = stop_gateway();
  const JournalCounts j = journal_counts(g.db);
  if (j.accepted != gateway_aa || j.total != gateway_aa)
    die("the journal holds " + std::to_string(j.total) + " rows (" + std::to_string(j.accepted) + " accepted); the client received " +
        std::to_string(gateway_aa) + " AA ACKs");
  std::printf("gateway journal after SIGTERM: %ld rows, %ld accepted = %ld AA ACKs received (/metrics AA: %ld)\n", j.total,
              j.accepted, gateway_aa, metric);
  std::printf("gateway CPU over its whole life: %.2f s user + %.2f s system, against %.2f s of load\n", user, sys,
              gateway_seconds);

  if (o.keep) {
    std::printf("kept %s\n", g_tmp.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(g_tmp, ec);
  }
  return 0;
}
