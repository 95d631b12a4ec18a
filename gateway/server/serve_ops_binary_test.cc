// The real `midhurst serve` binary doing its housekeeping: profiles reloaded when a file under
// mappings_dir changes (and a broken set refused while the old one keeps translating), and
// the journal pruned by the retention rules, logged and counted. Every wait is bounded.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "hl7v2/mllp.h"
#include "server/test_client.h"
#include "server/test_files.h"

namespace midhurst::server {
namespace {

using testing::TempDir;
using testing::slurp;
namespace fs = std::filesystem;
using testing::Connection;
using testing::msa_field;

// `midhurst serve` on free ports with its output in `log`; stopped with SIGTERM at the end.
class Serve {
 public:
  Serve(const TempDir& dir, std::vector<std::string> extra) : log_(dir.path / "log.jsonl") {
    const fs::path ports = dir.path / "ports.json";
    std::vector<std::string> args = {MIDHURST_BINARY, "serve", "--config", MIDHURST_SOURCE_DIR "/examples/midhurst.json",
                                     "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0", "--data-dir",
                                     (dir.path / "data").string(), "--port-file", ports.string(), "--set",
                                     "capability_statement=" MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json",
                                     "--set", "shutdown_grace_seconds=2"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = std::fopen(log_.c_str(), "w");
      if (out) {
        dup2(fileno(out), 1);
        dup2(fileno(out), 2);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 1500 && !fs::exists(ports); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string text = slurp(ports);
    INFO("log: " << log());
    REQUIRE(!text.empty());
    http_ = static_cast<uint16_t>(std::stoi(text.substr(text.find("\"http\":") + 7)));
    mllp_ = static_cast<uint16_t>(std::stoi(text.substr(text.find("\"mllp\":") + 7)));
  }
  ~Serve() {
    if (pid_ > 0) stop();
  }

  // SIGTERM; the exit status (-1 when it had to be killed).
  int stop() {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    int result = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (result == -1) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    return result;
  }

  std::string log() const { return slurp(log_); }
  // Waits up to `limit` for the log to satisfy `holds`.
  bool wait_log(const std::function<bool(const std::string&)>& holds, std::chrono::seconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (holds(log())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // The ACK for one message on a new MLLP connection.
  std::string send(const std::string& message) const {
    Connection c(mllp_);
    REQUIRE(c.send(hl7v2::mllp_frame(message)));
    return c.read_frame();
  }
  uint16_t http_port() const { return http_; }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  uint16_t http_ = 0, mllp_ = 0;
};

// The repository's hl7v2→care profiles, concept maps and site overlays, copied to `to`.
void copy_inbound_profiles(const fs::path& to) {
  fs::create_directories(to);
  for (const char* sub : {"hl7v2-care", "concepts", "sites"})
    if (fs::exists(fs::path(MIDHURST_SOURCE_DIR "/mappings") / sub))
      fs::copy(fs::path(MIDHURST_SOURCE_DIR "/mappings") / sub, to / sub, fs::copy_options::recursive);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string example_a01(const std::string& control_id) {
  std::string m = slurp(MIDHURST_SOURCE_DIR "/examples/adt_a01_admit.hl7");
  const std::string id = "RYJ0000000001";
  m.replace(m.find(id), id.size(), control_id);
  return m;
}

// An overlay that makes every ADT it matches fail a required rule: an unmistakable change of
// behaviour once it is loaded.
constexpr const char* kStrictOverlay = R"({
  "name": "test-strict", "version": "1.0.0", "direction": "hl7v2→care", "extends": "adt-patient",
  "priority": 5,
  "match": {"all": [{"path": "MSH-9.1", "equals": "ADT"}, {"path": "MSH-4.1", "equals": "RYJ"}]},
  "rules": [{"id": "test-strict.needs-pid-40", "source": "PID-40.1", "target": "patient.language.originalText",
             "required": true}]
})";

TEST_CASE("serve: a changed profile file is reloaded; a broken one is refused and the old set keeps serving",
          "[binary][integration]") {
  TempDir dir;
  const fs::path maps = dir.path / "mappings";
  copy_inbound_profiles(maps);
  Serve serve(dir, {"--set", "mappings_dir=" + maps.string(), "--set", "profile_watch_seconds=1"});
  INFO("log: " << serve.log());
  CHECK(msa_field(serve.send(example_a01("WATCH-1")), 1) == "AA");

  // A new profile file: reloaded without a signal, and it changes what the gateway answers.
  std::ofstream(maps / "hl7v2-care" / "test-strict.json") << kStrictOverlay;
  REQUIRE(serve.wait_log([](const std::string& l) {
    return l.find("\"event\":\"profiles.reloaded\"") != std::string::npos &&
           l.find("\"cause\":\"file-change\"") != std::string::npos;
  }, std::chrono::seconds(20)));
  std::string ack = serve.send(example_a01("WATCH-2"));
  CHECK(msa_field(ack, 1) == "AE");
  CHECK(ack.find("PID^1^40") != std::string::npos);

  // Broken: refused with file:line:column, and the set in use (with the overlay) still translates.
  std::ofstream(maps / "hl7v2-care" / "test-strict.json") << "{\n  \"name\": \"test-strict\",\n  \"rules\": [\n";
  REQUIRE(serve.wait_log([](const std::string& l) {
    return l.find("\"event\":\"profiles.reload_refused\"") != std::string::npos;
  }, std::chrono::seconds(20)));
  const std::string log = serve.log();
  CHECK(log.find("test-strict.json:") != std::string::npos);
  CHECK(count_of(log, "\"event\":\"profiles.reloaded\"") == 1);
  ack = serve.send(example_a01("WATCH-3"));
  CHECK(msa_field(ack, 1) == "AE");
  CHECK(ack.find("PID^1^40") != std::string::npos);

  // Removing the file makes the set good again, without the overlay.
  fs::remove(maps / "hl7v2-care" / "test-strict.json");
  REQUIRE(serve.wait_log([](const std::string& l) { return count_of(l, "\"event\":\"profiles.reloaded\"") == 2; },
                         std::chrono::seconds(20)));
  CHECK(msa_field(serve.send(example_a01("WATCH-4")), 1) == "AA");
  CHECK(serve.stop() == 0);
}

TEST_CASE("serve: the journal is pruned by the retention rules, logged and counted", "[binary][integration]") {
  TempDir dir;
  copy_inbound_profiles(dir.path / "mappings");
  Serve serve(dir, {"--set", "mappings_dir=" + (dir.path / "mappings").string(), "--set", "profile_watch_seconds=0",
                    "--set", "journal_retention.prune_interval_seconds=1", "--set",
                    R"(journal_retention.senders=[{"application": "PAS", "facility": "RYJ", "max_bytes": 1}])"});
  INFO("log: " << serve.log());
  for (int i = 0; i < 3; ++i) CHECK(msa_field(serve.send(example_a01("PRUNE-" + std::to_string(i))), 1) == "AA");
  // Every entry of PAS/RYJ is over the 1-byte budget: the next prunes delete all three.
  REQUIRE(serve.wait_log([](const std::string& l) {
    size_t total = 0;
    for (size_t at = l.find("\"event\":\"journal.pruned\""); at != std::string::npos;
         at = l.find("\"event\":\"journal.pruned\"", at + 1)) {
      const size_t e = l.find("\"entries\":", at);
      if (e != std::string::npos) total += std::stoul(l.substr(e + 10));
    }
    return total == 3;
  }, std::chrono::seconds(20)));
  auto metrics = testing::http(serve.http_port(), "GET", "/metrics", "dev-monitor-token");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("midhurst_journal_pruned_entries_total 3") != std::string::npos);
  CHECK(metrics.body.find("midhurst_journal_pruned_bytes_total ") != std::string::npos);
  CHECK(metrics.body.find("midhurst_journal_pruned_bytes_total 0") == std::string::npos);
  CHECK(serve.stop() == 0);
}

}  // namespace
}  // namespace midhurst::server
