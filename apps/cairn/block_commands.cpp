// Placeholder until the block area lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterBlockCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
