// Test support: running a shell command and capturing what it prints, and finding what tests run
// (the `cairn` binary, the source tree, the Node peers in tests/interop). For tests only: nothing
// here is linked into the binary. Not thread-safe with respect to the environment (reads getenv).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cairn::testing {

struct CommandResult {
  // The command's exit status; 128 + the signal number when a signal ended it; -1 when it could
  // not be started at all.
  int exit_code = -1;
  std::string out;  // everything it wrote to stdout
};

// Runs `command` with `/bin/sh -c` (it is a shell fragment: the caller quotes what needs quoting,
// e.g. with ShellQuote), waits for it to end, and returns its exit status and its stdout. Stdin and
// stderr are the test's own unless the command redirects them (`2>&1` folds stderr into `out`).
// Blocks for as long as the command runs: the test's CTest TIMEOUT is the only deadline.
CommandResult RunCommand(const std::string& command);

// Runs `node <script> <args>` in InteropDir() with RunCommand: `script` names a driver there
// (e.g. "car_crosscheck.mjs"), `args` is a shell fragment (redirections allowed). Uses the `node`
// on PATH; the drivers import their npm peers from InteropDir()/node_modules.
CommandResult RunNodeDriver(const std::string& script, const std::string& args);

// The non-empty lines of `text` (a command's output), without their '\n'.
std::vector<std::string> Lines(std::string_view text);

// `s` as one single-quoted shell word ('it'\''s' for it's).
std::string ShellQuote(std::string_view s);

// $CAIRN_SOURCE_DIR (CTest sets it to the source tree), or "." when unset.
std::string SourceDir();

// SourceDir() + "/tests/interop": the Node drivers and their node_modules.
std::string InteropDir();

// $CAIRN_BINARY (CTest sets it to build/cairn), or `fallback` when unset.
std::string CairnBinary(const std::string& fallback = "build/cairn");

}  // namespace cairn::testing
