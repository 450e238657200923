// Test support: a fresh temporary directory that is removed, with everything in it, when the
// object dies. For tests only.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cairn::testing {

class TempDir {
 public:
  // Creates <system temp dir>/<prefix>-XXXXXX (mkdtemp: unique and private to this user). Aborts
  // the test binary when it cannot be created: no test can run without it.
  explicit TempDir(std::string_view prefix = "cairn-test");
  // Removes the directory and everything below it; errors are ignored.
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name as a string, ready to go into a command line.
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace cairn::testing
