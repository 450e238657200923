// Placeholder until the unixfs area lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterUnixfsCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
