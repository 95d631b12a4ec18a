// The real `midhurst serve` binary, as an operator runs it: port file, HTTP and MLLP answers,
// SIGHUP, SIGTERM and exit status; a bad configuration file; --help. Every wait is bounded.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "hl7v2/mllp.h"
#include "server/test_client.h"
#include "server/test_files.h"

namespace midhurst::server {
namespace {

using testing::TempDir;
using testing::slurp;
using testing::Connection;
using testing::http;
using testing::msa_field;

// Runs the binary with stdout and stderr to `log`; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "w");
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
  return pid;
}

// waitpid with a deadline; -1 on timeout (the child is then killed).
int wait_exit(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

TEST_CASE("binary: midhurst serve listens, answers, and stops on SIGTERM", "[binary][integration]") {
  TempDir dir;
  const auto ports = dir.path / "ports.json";
  const auto log = dir.path / "log.jsonl";
  const pid_t pid = spawn({MIDHURST_BINARY, "serve", "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0", "--data-dir",
                           (dir.path / "data").string(), "--port-file", ports.string(), "--set",
                           "capability_statement=" MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json", "--set",
                           "mappings_dir=" MIDHURST_SOURCE_DIR "/mappings",
                           "--set", "shutdown_grace_seconds=2"},
                          log);
  REQUIRE(pid > 0);
  for (int i = 0; i < 300 && !std::filesystem::exists(ports); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string text = slurp(ports);
  INFO("log: " << slurp(log));
  REQUIRE(!text.empty());
  const int http_port = std::stoi(text.substr(text.find("\"http\":") + 7));
  const int mllp_port = std::stoi(text.substr(text.find("\"mllp\":") + 7));
  CHECK(http(static_cast<uint16_t>(http_port), "GET", "/healthz").status == 200);
  {
    Connection c(static_cast<uint16_t>(mllp_port));
    REQUIRE(c.send(hl7v2::mllp_frame(testing::adt_message("BIN-1"))));
    CHECK(msa_field(c.read_frame(), 2) == "BIN-1");
  }
  CHECK(std::filesystem::is_directory(dir.path / "data"));
  kill(pid, SIGHUP);  // reload: logged, keeps running
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(http(static_cast<uint16_t>(http_port), "GET", "/healthz").status == 200);
  kill(pid, SIGTERM);
  CHECK(wait_exit(pid, std::chrono::seconds(10)) == 0);
  const std::string out = slurp(log);
  CHECK(out.find("\"event\":\"gateway.listening\"") != std::string::npos);
  CHECK(out.find("\"event\":\"gateway.reload\"") != std::string::npos);
  CHECK(out.find("\"event\":\"gateway.stopped\"") != std::string::npos);
}

TEST_CASE("binary: a bad configuration file is refused with its line and column", "[binary][integration]") {
  TempDir dir;
  const auto config = dir.path / "bad.json";
  std::ofstream(config) << "{\n  \"http\": {\"listen\": \"127.0.0.1:80\"},\n  \"threads\": -2\n}\n";
  const auto log = dir.path / "out.txt";
  const pid_t pid = spawn({MIDHURST_BINARY, "serve", "--config", config.string(), "--check-config"}, log);
  CHECK(wait_exit(pid, std::chrono::seconds(10)) == 1);
  CHECK(slurp(log) == "midhurst serve: " + config.string() + ":3:14: threads: must be a whole number from 0 to 256\n");
}

TEST_CASE("binary: an address already in use is a start-up error", "[binary][integration]") {
  // Hold a port with our own listening socket.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  TempDir dir;
  const auto log = dir.path / "out.txt";
  const pid_t pid = spawn({MIDHURST_BINARY, "serve", "--http", taken, "--mllp", "127.0.0.1:0", "--data-dir",
                           (dir.path / "data").string(), "--set",
                           "capability_statement=" MIDHURST_SOURCE_DIR "/conformance/CapabilityStatement.json", "--set",
                           "mappings_dir=" MIDHURST_SOURCE_DIR "/mappings"},
                          log);
  CHECK(wait_exit(pid, std::chrono::seconds(10)) == 1);
  CHECK(slurp(log).find("midhurst serve: HTTP " + taken + ": cannot listen") != std::string::npos);
  ::close(fd);
}

TEST_CASE("binary: serve --help lists every key", "[binary][integration]") {
  TempDir dir;
  const auto log = dir.path / "out.txt";
  const pid_t pid = spawn({MIDHURST_BINARY, "serve", "--help"}, log);
  CHECK(wait_exit(pid, std::chrono::seconds(10)) == 0);
  const std::string out = slurp(log);
  CHECK(out.find("usage: midhurst serve") != std::string::npos);
  CHECK(out.find("MIDHURST_MLLP_MAX_FRAME_BYTES") != std::string::npos);
}

}  // namespace
}  // namespace midhurst::server
