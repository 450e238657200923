#include "filecoin/deals/provider_score.hpp"

#include <algorithm>
#include <numeric>

namespace cairn::filecoin::deals {

namespace {

constexpr double kDayUs = 86400.0 * 1e6;

}  // namespace

double ProviderScoreOf(const metadata::ProviderStats& s) {
  const auto d = [](int64_t v) { return static_cast<double>(std::max<int64_t>(0, v)); };
  const double acceptance =
      (d(s.accepted) + 1) / (d(s.accepted) + d(s.rejected) + d(s.timeouts) + 2);
  const double failures = d(s.transfer_failures) + d(s.never_published) + d(s.not_activated) +
                          d(s.other_failures) +
                          3 * (d(s.mismatches) + d(s.slashed) + d(s.retrieval_failures));
  const double reliability = (d(s.active) + 1) / (d(s.active) + failures + 2);
  double speed = 1;
  if (s.active > 0) speed = 1 / (1 + d(s.active_us_total) / d(s.active) / kDayUs);
  return acceptance * reliability * (0.8 + 0.2 * speed);
}

std::vector<size_t> OrderByScore(const std::vector<metadata::ProviderStats>& stats) {
  std::vector<double> scores;
  scores.reserve(stats.size());
  for (const auto& s : stats) scores.push_back(ProviderScoreOf(s));
  std::vector<size_t> order(stats.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&scores](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace cairn::filecoin::deals
