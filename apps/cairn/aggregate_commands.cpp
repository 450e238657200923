// Placeholder until the aggregate area lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterAggregateCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
