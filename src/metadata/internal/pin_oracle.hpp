// Test helper: the `GET /pins` filters evaluated by brute force over every pin of an account,
// to cross-check PinStore::List and PinStore::Count (which use indexes, pin_meta and counters).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "metadata/pins.hpp"

namespace cairn::metadata::testing {

// Whether `p` passes every filter of `f` (limit ignored), as pins.hpp states the semantics.
inline bool OracleMatches(const PinRecord& p, const PinFilter& f) {
  if (!f.cids.empty() &&
      std::none_of(f.cids.begin(), f.cids.end(), [&](const multiformats::Cid& c) {
        auto v1 = c.ToV1();
        return v1 == p.cid;
      })) {
    return false;
  }
  if (f.name) {
    if (!p.name) return false;
    switch (f.match) {
      case NameMatch::kExact:
        if (*p.name != *f.name) return false;
        break;
      case NameMatch::kIexact:
        if (FoldAscii(*p.name) != FoldAscii(*f.name)) return false;
        break;
      case NameMatch::kPartial:
        if (p.name->find(*f.name) == std::string::npos) return false;
        break;
      case NameMatch::kIpartial:
        if (FoldAscii(*p.name).find(FoldAscii(*f.name)) == std::string::npos) return false;
        break;
    }
  }
  if (!f.statuses.empty() &&
      std::find(f.statuses.begin(), f.statuses.end(), p.status) == f.statuses.end()) {
    return false;
  }
  if (f.before_us && !(p.created_us < *f.before_us)) return false;
  if (f.after_us && !(p.created_us > *f.after_us)) return false;
  for (const auto& [k, v] : f.meta) {
    auto it = p.meta.find(k);
    if (it == p.meta.end() || it->second != v) return false;
  }
  return true;
}

// Every pin of the account, newest first, read with unfiltered pages (served from `pins` alone).
inline std::vector<PinRecord> OracleAllPins(PinStore& pins, int64_t account_id) {
  std::vector<PinRecord> out;
  PinFilter f;
  f.limit = 1000;
  for (;;) {
    auto page = pins.List(account_id, f);
    EXPECT_TRUE(page) << page.error().ToString();
    if (!page || page->empty()) break;
    out.insert(out.end(), page->begin(), page->end());
    f.before_us = page->back().created_us;
  }
  return out;
}

// The requestids `List(account, f)` must return, from `all` (newest first): the first f.limit
// matches; `count` gets the number of all matches.
inline std::vector<std::string> OracleList(const std::vector<PinRecord>& all, const PinFilter& f,
                                           uint64_t* count) {
  std::vector<std::string> out;
  uint64_t n = 0;
  for (const PinRecord& p : all) {
    if (!OracleMatches(p, f)) continue;
    ++n;
    if (out.size() < static_cast<size_t>(f.limit)) out.push_back(p.requestid);
  }
  if (count) *count = n;
  return out;
}

}  // namespace cairn::metadata::testing
