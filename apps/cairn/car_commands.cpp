// Placeholder until the car area lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterCarCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
