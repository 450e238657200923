// Runs the real `cairn` binary (path from $CAIRN_BINARY, set by CTest) for end-to-end tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"

namespace cairn::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Runs `cairn <args>` through /bin/sh (args are a shell fragment: quote what needs quoting),
// feeding `input` on stdin; captures stdout, and stderr through a file.
inline RunResult RunCairn(const std::string& args, const std::string& input = "") {
  TempDir tmp;
  WriteFile(tmp / "in", input);
  CommandResult run = RunCommand(ShellQuote(CairnBinary()) + " " + args + " <" +
                                 ShellQuote(tmp / "in") + " 2>" + ShellQuote(tmp / "err"));
  RunResult r;
  r.exit_code = run.exit_code;
  r.out = std::move(run.out);
  r.err = ReadFile(tmp / "err");
  return r;
}

}  // namespace cairn::testing
