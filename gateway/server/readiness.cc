#include "server/readiness.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <exception>

namespace midhurst::server {

std::string ReadinessReport::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String(ready ? "ready" : "not ready");
  w.Key("checks");
  w.StartObject();
  for (const auto& [name, result] : checks) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.StartObject();
    w.Key("ready");
    w.Bool(result.ready);
    w.Key("detail");
    w.String(result.detail.c_str(), static_cast<rapidjson::SizeType>(result.detail.size()));
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void Readiness::add(std::string name, Check check) {
  std::lock_guard lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(check));
}

ReadinessReport Readiness::run() const {
  std::vector<std::pair<std::string, Check>> checks;
  {
    std::lock_guard lock(mutex_);
    checks = checks_;
  }
  ReadinessReport report;
  for (auto& [name, check] : checks) {
    CheckResult r;
    try {
      r = check();
    } catch (const std::exception& e) {
      r = {false, std::string("check failed: ") + e.what()};
    } catch (...) {
      r = {false, "check failed"};
    }
    report.ready = report.ready && r.ready;
    report.checks.emplace_back(name, std::move(r));
  }
  return report;
}

}  // namespace midhurst::server
