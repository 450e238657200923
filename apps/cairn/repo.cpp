// Placeholder until the persistent block store lands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
Result<std::unique_ptr<blockstore::Blockstore>> OpenRepoBlockstore(const GlobalOptions&) {
  return Err(ErrorCode::kNotSupported, "repo: block store not built yet");
}
}  // namespace cairn::app
