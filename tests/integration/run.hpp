// Runs the real `cairn` binary (path from $CAIRN_BINARY, set by CTest) for end-to-end tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace cairn::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string CairnBinary() {
  const char* b = std::getenv("CAIRN_BINARY");
  return b ? b : "build/cairn";
}

// A fresh temporary directory, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("cairn-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
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
// feeding `input` on stdin; captures stdout and stderr through files.
inline RunResult RunCairn(const std::string& args, const std::string& input = "") {
  TempDir tmp;
  WriteFile(tmp / "in", input);
  std::string cmd = "'" + CairnBinary() + "' " + args + " <'" + (tmp / "in") + "' >'" +
                    (tmp / "out") + "' 2>'" + (tmp / "err") + "'";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(tmp / "out");
  r.err = ReadFile(tmp / "err");
  return r;
}

}  // namespace cairn::testing
