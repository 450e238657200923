// `cairn cid inspect CID`: what a CID is made of, and its v0/v1 spellings.
#include <cstdio>
#include <string>

#include "apps/cairn/commands.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::app {
namespace {

using multiformats::Cid;

std::string CodeWithName(uint64_t code) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(code));
  auto name = multiformats::CodecName(code);
  return name ? std::string(*name) + " (" + hex + ")" : std::string("unknown (") + hex + ")";
}

Result<void> Inspect(const std::string& text, bool json) {
  Cid cid = CAIRN_TRY(Cid::Parse(text));
  std::string base = "base58btc";
  if (cid.version() == 1) {
    base = std::string(multiformats::MultibaseName(CAIRN_TRY(multiformats::MultibaseOf(text))));
  }
  auto v0 = cid.ToV0();
  std::string v0_text = v0 ? v0->ToString() : "";
  std::string v1_text = cid.ToV1().ToString();
  const auto& mh = cid.hash();
  if (json) {
    std::printf(
        "{\"cid\":\"%s\",\"version\":%d,\"multibase\":\"%s\",\"codec\":\"%s\",\"multihash\":{"
        "\"code\":\"%s\",\"length\":%zu,\"digest\":\"%s\"},\"cidV0\":%s,\"cidV1\":\"%s\"}\n",
        text.c_str(), cid.version(), base.c_str(), CodeWithName(cid.codec()).c_str(),
        CodeWithName(mh.code()).c_str(), mh.digest().size(), HexEncode(mh.digest()).c_str(),
        v0 ? ("\"" + v0_text + "\"").c_str() : "null", v1_text.c_str());
    return Ok();
  }
  std::printf("CID:       %s\n", text.c_str());
  std::printf("Version:   %d\n", cid.version());
  std::printf("Multibase: %s\n", base.c_str());
  std::printf("Codec:     %s\n", CodeWithName(cid.codec()).c_str());
  std::printf("Multihash: %s, %zu-byte digest\n", CodeWithName(mh.code()).c_str(),
              mh.digest().size());
  std::printf("Digest:    %s\n", HexEncode(mh.digest()).c_str());
  std::printf("CIDv0:     %s\n", v0 ? v0_text.c_str() : "none (v0 needs dag-pb and sha2-256)");
  std::printf("CIDv1:     %s\n", v1_text.c_str());
  return Ok();
}

}  // namespace

void RegisterCidCommands(CLI::App& app, GlobalOptions&) {
  auto* cid = app.add_subcommand("cid", "Content identifiers");
  cid->require_subcommand(1);
  auto* inspect =
      cid->add_subcommand("inspect", "Show a CID's version, codec, multihash and both encodings");
  auto text = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  inspect->add_option("cid", *text, "the CID")->required();
  inspect->add_flag("--json", *json, "print JSON");
  inspect->callback([text, json] { Finish(Inspect(*text, *json)); });
}

}  // namespace cairn::app
