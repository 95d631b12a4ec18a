// ProfileWatcher: reloads the mapping profiles when a file under the mappings directory changes,
// through the same path as SIGHUP (the `reload` callback), so a bad set is refused and logged
// and the set in use keeps serving.
//
// Polling, not inotify: every `interval` it lists the directory tree and fingerprints each
// file's path, size and modification time. Polling sees edits made through renames (editors,
// `git checkout`), new subdirectories (site overlays) and files on network or bind mounts
// alike, with nothing to re-arm; its cost is one stat per file per interval (a few dozen
// files). A change is acted on once the tree has stayed the same for one more interval, so a
// reload never reads a set half-way through being copied in; a refused set is not retried
// until the files change again.
//
// Threading: one thread of its own; `reload` is called on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace midhurst::server {

class ProfileWatcher {
 public:
  ProfileWatcher(std::string dir, std::chrono::milliseconds interval, std::function<void()> reload);
  ~ProfileWatcher();  // stop()s
  ProfileWatcher(const ProfileWatcher&) = delete;
  ProfileWatcher& operator=(const ProfileWatcher&) = delete;

  // Takes the current state as the loaded one, then polls.
  void start();
  void stop();  // idempotent

  // Path, size and modification time of every regular file under `dir`, sorted; "" when the
  // directory cannot be read.
  static std::string fingerprint(const std::string& dir);

 private:
  void run();

  std::string dir_;
  std::chrono::milliseconds interval_;
  std::function<void()> reload_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace midhurst::server
