#include "common/testing/command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

namespace cairn::testing {

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  if (status == -1) {
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult RunNodeDriver(const std::string& script, const std::string& args) {
  return RunCommand("cd " + ShellQuote(InteropDir()) + " && node " + ShellQuote(script) + " " +
                    args);
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (!line.empty()) {
      lines.emplace_back(line);
    }
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return lines;
}

std::string ShellQuote(std::string_view s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string SourceDir() {
  const char* dir = std::getenv("CAIRN_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

std::string InteropDir() { return SourceDir() + "/tests/interop"; }

std::string CairnBinary(const std::string& fallback) {
  const char* binary = std::getenv("CAIRN_BINARY");
  return binary != nullptr ? binary : fallback;
}

}  // namespace cairn::testing
