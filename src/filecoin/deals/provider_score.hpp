// Provider scores (docs/filecoin.md "Provider scores"): one number per storage provider, derived
// from its deal statistics (metadata/provider_stats.hpp), that orders the configured providers
// when the deal engine chooses who gets the next deal. Pure.
//
//   acceptance  A = (accepted + 1) / (accepted + rejected + timeouts + 2)
//   failures    F = transfer_failures + never_published + not_activated + other_failures
//                   + 3 × (mismatches + slashed + retrieval_failures)
//   reliability R = (active + 1) / (active + F + 2)
//   speed       S = 1 / (1 + mean time from proposal to active / 1 day)   (S = 1 while none is
//                   active yet)
//   score         = A × R × (0.8 + 0.2 × S)                                 ∈ (0, 1]
//
// The +1/+2 (Laplace's rule) make a provider without history score 0.25, so a provider that has
// answered and activated deals rises above it, and every rejection, timeout or failure lowers a
// provider below it; a provider that keeps failing sinks towards 0 but is never excluded (it
// keeps its place for pieces no better provider can take). Losing data that was already proven
// on chain (slashed), failing the retrieval probe (serving corrupted bytes, or not serving at all)
// or publishing something other than what was signed weighs three ordinary failures. Deals still in
// flight count only through their proposal and acceptance.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "metadata/provider_stats.hpp"

namespace cairn::filecoin::deals {

double ProviderScoreOf(const metadata::ProviderStats& stats);

// The indexes of `stats` (one per configured provider, in configuration order) by decreasing
// score; equal scores keep configuration order.
std::vector<size_t> OrderByScore(const std::vector<metadata::ProviderStats>& stats);

}  // namespace cairn::filecoin::deals
