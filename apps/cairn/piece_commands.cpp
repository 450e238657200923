// Placeholder until the piece area lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterPieceCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
