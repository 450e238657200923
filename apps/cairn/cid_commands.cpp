// Placeholder until the cid area lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterCidCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
