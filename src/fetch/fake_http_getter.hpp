// An in-memory HttpGetter for tests: URL → reply, or an error for unreachable hosts.
#pragma once

#include <map>
#include <mutex>

#include "fetch/block_source.hpp"

namespace cairn::fetch {

class FakeHttpGetter : public HttpGetter {
 public:
  void Set(const std::string& url, int status, std::string body) {
    std::lock_guard lock(mu_);
    replies_[url] = HttpReply{status, std::move(body)};
  }
  // Every URL starting with `prefix` fails with `code`.
  void FailHost(const std::string& prefix, ErrorCode code) {
    std::lock_guard lock(mu_);
    failures_[prefix] = code;
  }
  Result<HttpReply> Get(const std::string& url, std::string_view, std::chrono::milliseconds,
                        uint64_t max_bytes) override {
    std::lock_guard lock(mu_);
    ++gets_;
    for (const auto& [prefix, code] : failures_) {
      if (url.rfind(prefix, 0) == 0) return Err(code, "fake: " + url + " unreachable");
    }
    auto it = replies_.find(url);
    if (it == replies_.end()) return HttpReply{404, ""};
    if (it->second.body.size() > max_bytes)
      return Err(ErrorCode::kResourceExhausted, "fake: too big");
    return it->second;
  }
  int gets() const {
    std::lock_guard lock(mu_);
    return gets_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, HttpReply> replies_;   // GUARDED_BY(mu_)
  std::map<std::string, ErrorCode> failures_;  // GUARDED_BY(mu_)
  int gets_ = 0;                               // GUARDED_BY(mu_)
};

}  // namespace cairn::fetch
