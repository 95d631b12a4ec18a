#include "server/profile_watch.h"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace midhurst::server {

namespace fs = std::filesystem;

ProfileWatcher::ProfileWatcher(std::string dir, std::chrono::milliseconds interval, std::function<void()> reload)
    : dir_(std::move(dir)), interval_(interval), reload_(std::move(reload)) {}

ProfileWatcher::~ProfileWatcher() { stop(); }

std::string ProfileWatcher::fingerprint(const std::string& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return "";
  for (; it != end; it.increment(ec)) {
    if (ec) return "";
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    const auto size = it->file_size(fec);
    const auto mtime = it->last_write_time(fec);
    if (fec) continue;  // removed between listing and stat: the next poll sees the new state
    lines.push_back(it->path().string() + '\t' + std::to_string(size) + '\t' +
                    std::to_string(mtime.time_since_epoch().count()));
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + '\n';
  return out;
}

void ProfileWatcher::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

void ProfileWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void ProfileWatcher::run() {
  std::string loaded = fingerprint(dir_);  // what the running set was loaded from
  std::string seen = loaded;               // the last poll's state
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    lock.unlock();
    const std::string now = fingerprint(dir_);
    // Act once a change has settled: unchanged since the previous poll, different from what
    // was loaded.
    if (now == seen && now != loaded) {
      loaded = now;
      reload_();
    }
    seen = now;
    lock.lock();
  }
}

}  // namespace midhurst::server
