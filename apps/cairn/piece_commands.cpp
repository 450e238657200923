// `cairn piece commp FILE|- [--threads N]`: the piece commitment of a file or of stdin, as JSON
// {"pieceCidV1", "pieceCidV2", "payloadSize", "paddedSize"}. The file is streamed (constant
// memory); hashing uses N threads (default: all cores).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <unistd.h>

#include "apps/cairn/commands.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"

namespace cairn::app {
namespace {

namespace piece = filecoin::piece;

// Reads a file descriptor (not owned) for CommP.
class FdSource : public piece::ByteSource {
 public:
  FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Result<size_t> Read(MutableByteSpan out) override {
    for (;;) {
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return Err(ErrorCode::kIoError, "piece commp: read " + name_ + ": " + std::strerror(errno));
    }
  }

 private:
  int fd_;
  std::string name_;
};

Result<void> CommP(const std::string& path, unsigned threads) {
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Err(ErrorCode::kIoError, "piece commp: open " + path + ": " + std::strerror(errno));
    }
  }
  FdSource source(fd, path == "-" ? "stdin" : path);
  auto info = piece::ComputeCommP(source, {.threads = threads});
  if (fd != 0) ::close(fd);
  if (!info) return Err(info.error());
  const auto v2 = CAIRN_TRY(piece::PieceCidV2(*info));
  std::printf("{\"pieceCidV1\":\"%s\",\"pieceCidV2\":\"%s\",\"payloadSize\":%llu,\"paddedSize\":%llu}\n",
              piece::PieceCidV1(info->root).ToString().c_str(), v2.ToString().c_str(),
              static_cast<unsigned long long>(info->payload_size()),
              static_cast<unsigned long long>(info->padded_size()));
  return Ok();
}

}  // namespace

void RegisterPieceCommands(CLI::App& piece_cmd, GlobalOptions&) {
  auto* commp = piece_cmd.add_subcommand(
      "commp", "Piece commitment of a file (or - for stdin): piece CIDs v1 and v2, sizes");
  auto path = std::make_shared<std::string>();
  auto threads = std::make_shared<unsigned>(0);
  commp->add_option("file", *path, "the payload file, or - for stdin")->required();
  commp->add_option("--threads", *threads, "hashing threads (default: all cores)")
      ->check(CLI::Range(1u, 256u));
  commp->callback([path, threads] { Finish(CommP(*path, *threads)); });
}

}  // namespace cairn::app
