#include "blockstore/leases.hpp"

namespace cairn::blockstore {

namespace {

std::string Key(const multiformats::Cid& cid) {
  Bytes mh = cid.hash().Encode();
  return std::string(mh.begin(), mh.end());
}

}  // namespace

BlockLeases::Lease::Lease(Lease&& other) noexcept
    : owner_(other.owner_), held_(std::move(other.held_)) {
  other.owner_ = nullptr;
  other.held_.clear();
}

BlockLeases::Lease& BlockLeases::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    held_ = std::move(other.held_);
    other.owner_ = nullptr;
    other.held_.clear();
  }
  return *this;
}

void BlockLeases::Lease::Hold(const multiformats::Cid& cid) {
  if (!owner_) return;
  std::string key = Key(cid);
  std::lock_guard lock(owner_->mu_);
  if (!held_.insert(key).second) return;
  ++owner_->held_[key];
}

void BlockLeases::Lease::Release() {
  if (!owner_) return;
  {
    std::lock_guard lock(owner_->mu_);
    for (const auto& key : held_) {
      auto it = owner_->held_.find(key);
      if (it == owner_->held_.end()) continue;  // cannot happen: every key was counted in Hold
      if (--it->second == 0) owner_->held_.erase(it);
      if (owner_->collecting_) owner_->released_.insert(key);
    }
    held_.clear();
  }
  owner_ = nullptr;
}

void BlockLeases::BeginCollection() {
  std::lock_guard lock(mu_);
  collecting_ = true;
  released_.clear();
}

void BlockLeases::EndCollection() {
  std::lock_guard lock(mu_);
  collecting_ = false;
  released_.clear();
}

Result<bool> BlockLeases::DeleteUnlessHeld(const multiformats::Cid& cid,
                                           const std::function<Result<void>()>& remove) {
  std::string key = Key(cid);
  std::lock_guard lock(mu_);
  if (held_.count(key) || released_.count(key)) return false;
  CAIRN_TRY(remove());
  return true;
}

size_t BlockLeases::held_blocks() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

}  // namespace cairn::blockstore
