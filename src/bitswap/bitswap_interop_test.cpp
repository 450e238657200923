// The bitswap codec against Helia's (@helia/bitswap's protons-generated pb/message.js, driven by
// tests/interop/bitswap_crosscheck.mjs): messages Helia encodes (optional fields written even
// when false or 0, negative priorities) decode here to the same fields, and messages encoded here
// decode in Helia to the same fields. Random on both sides, seeded.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "bitswap/message.hpp"
#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::bitswap {
namespace {

namespace mc = multiformats::codec;

// The description bitswap_crosscheck.mjs prints for a message.
std::string Describe(const Message& m) {
  std::string out = "W" + std::to_string(m.wantlist.full ? 1 : 0);
  for (const auto& e : m.wantlist.entries) {
    out += " E" + HexEncode(e.cid.ToBytes()) + "," + std::to_string(e.priority) + "," +
           std::to_string(e.cancel ? 1 : 0) + "," + std::to_string(static_cast<int>(e.type)) + "," +
           std::to_string(e.send_dont_have ? 1 : 0);
  }
  for (const auto& b : m.blocks)
    out += " B" + HexEncode(b.prefix.Encode()) + "," + HexEncode(b.data);
  for (const auto& p : m.presences) {
    out += " P" + HexEncode(p.cid.ToBytes()) + "," + std::to_string(static_cast<int>(p.type));
  }
  out += " N" + std::to_string(m.pending_bytes);
  return out;
}

TEST(BitswapInterop, HeliaEncodedMessagesDecodeHere) {
  uint32_t seed = std::random_device{}();
  auto run =
      testing::RunNodeDriver("bitswap_crosscheck.mjs", "gen " + std::to_string(seed) + " 300");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto lines = testing::Lines(run.out);
  ASSERT_EQ(lines.size(), 300u) << "seed " << seed;
  for (const auto& line : lines) {
    size_t space = line.find(' ');
    auto bytes = HexDecode(line.substr(0, space));
    ASSERT_TRUE(bytes);
    auto m = DecodeMessage(*bytes);
    ASSERT_TRUE(m) << "seed " << seed << ": " << m.error().ToString() << "\n" << line;
    EXPECT_EQ(Describe(*m), line.substr(space + 1)) << "seed " << seed;
  }
}

TEST(BitswapInterop, MessagesEncodedHereDecodeInHelia) {
  uint32_t seed = std::random_device{}();
  std::mt19937 rng(seed);
  auto cid = [&] {
    Bytes data(rng() % 40 + 1);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) return *Cid::Compute(0, mc::kDagPb, mc::kSha2_256, data);  // CIDv0
    return *Cid::Compute(1, rng() % 2 ? mc::kDagPb : mc::kRaw, mc::kSha2_256, data);
  };
  std::vector<Message> messages;
  for (int i = 0; i < 300; ++i) {
    Message m;
    m.wantlist.full = rng() % 3 == 0;
    for (int n = rng() % 5; n > 0; --n) {
      m.wantlist.entries.push_back(
          WantEntry{cid(), static_cast<int32_t>(rng() % 4000) - 1000, rng() % 2 == 0,
                    rng() % 2 ? WantType::kHave : WantType::kBlock, rng() % 2 == 0});
    }
    for (int n = rng() % 3; n > 0; --n) {
      Bytes data(rng() % 200);
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      m.blocks.push_back(BlockPayload{CidPrefix::Of(cid()), data});
    }
    for (int n = rng() % 3; n > 0; --n) {
      m.presences.push_back(
          BlockPresence{cid(), rng() % 2 ? PresenceType::kDontHave : PresenceType::kHave});
    }
    if (rng() % 2) m.pending_bytes = static_cast<int32_t>(rng() % 1'000'000);
    messages.push_back(std::move(m));
  }
  testing::TempDir dir("cairn-bitswap-interop");
  {
    std::ofstream out(dir / "messages.hex");
    for (const auto& m : messages)
      out << "m" << HexEncode(*EncodeMessage(m, ProtocolVersion::k120)) << "\n";  // may be empty
  }
  auto run = testing::RunNodeDriver("bitswap_crosscheck.mjs",
                                    "decode " + testing::ShellQuote(dir / "messages.hex"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto lines = testing::Lines(run.out);
  ASSERT_EQ(lines.size(), messages.size()) << "seed " << seed;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i], Describe(messages[i])) << "seed " << seed << " message " << i;
  }
}

}  // namespace
}  // namespace cairn::bitswap
