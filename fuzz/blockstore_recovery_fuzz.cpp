// Recovery of LogBlockstore over fuzzed files, on an in-memory file system (MemEnv). Input: one
// mode byte, then
//   even mode: the body of segment 1 (after its 16-byte header);
//   odd mode:  u32 LE body length L, L bytes of segment 1's body, the rest as its index file, and
//              an empty segment 2 after it (so segment 1 counts as sealed).
// Open must never crash or hang, and every block it then lists must read back as its bytes or as
// Corruption, never as anything else.
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "blockstore/log_blockstore.hpp"
#include "common/mem_env.hpp"

namespace {

namespace fs = std::filesystem;
const fs::path kDir = "/fuzz/blocks";

void WriteFile(cairn::Env& env, const fs::path& p, const uint8_t* data, size_t size,
               bool segment_header, uint32_t id) {
  cairn::Bytes bytes;
  if (segment_header) {
    bytes = {'C', 'A', 'I', 'R', 'N', 'S', 'E', 'G', 1, 0, 0, 0, static_cast<uint8_t>(id), 0, 0, 0};
  }
  bytes.insert(bytes.end(), data, data + size);
  if (!cairn::WriteFileAtomically(env, p, bytes)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  cairn::MemEnv env;
  if (!env.CreateDirs(kDir)) std::abort();
  bool with_index = data[0] & 1;
  ++data;
  --size;
  if (with_index) {
    if (size < 4) return 0;
    size_t half = data[0] | (data[1] << 8) | (data[2] << 16) | (static_cast<size_t>(data[3]) << 24);
    data += 4;
    size -= 4;
    if (half > size) half = size;
    WriteFile(env, kDir / "0000000001.seg", data, half, true, 1);
    WriteFile(env, kDir / "0000000001.idx", data + half, size - half, false, 1);
    WriteFile(env, kDir / "0000000002.seg", nullptr, 0, true, 2);
  } else {
    WriteFile(env, kDir / "0000000001.seg", data, size, true, 1);
  }
  cairn::blockstore::LogBlockstoreOptions options;
  options.env = &env;
  options.ballast_bytes = 0;  // 4 MiB of memory per input otherwise
  auto store = cairn::blockstore::LogBlockstore::Open(kDir, options);
  if (!store) return 0;
  auto listed = (*store)->ForEach([&](const cairn::multiformats::Cid& cid, uint64_t) {
    auto got = (*store)->Get(cid);
    if (!got && got.error().code() != cairn::ErrorCode::kCorruption &&
        got.error().code() != cairn::ErrorCode::kNotSupported) {
      std::abort();
    }
    return true;
  });
  (void)listed;
  return 0;
}
