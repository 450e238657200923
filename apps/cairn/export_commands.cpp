// Placeholder until the export area (cat, ls) lands its commands; replace this file.
#include "apps/cairn/commands.hpp"

namespace cairn::app {
void RegisterExportCommands(CLI::App&, GlobalOptions&) {}
}  // namespace cairn::app
