// Joins a Network to the bitswap engines: installs the network's handlers, decodes each
// received message once (DecodeMessage with the default limits; a message that does not decode
// is dropped with a log line and counted, the peer and its stream are left to the host), and
// routes the wantlist to the Server and the blocks and presences to the Client. Peer events go
// to both. Either engine may be absent (a node that only serves, or only fetches).
#pragma once

#include <atomic>

#include "bitswap/client.hpp"
#include "bitswap/network.hpp"
#include "bitswap/server.hpp"

namespace cairn::bitswap {

class Bitswap {
 public:
  // Installs the handlers; the engines and the network must outlive this object.
  Bitswap(Network& network, Server* server, Client* client);
  // Removes the handlers (waits for running handler calls, per the Network contract).
  ~Bitswap();
  Bitswap(const Bitswap&) = delete;
  Bitswap& operator=(const Bitswap&) = delete;

  uint64_t messages_received() const { return received_.load(); }
  uint64_t messages_invalid() const { return invalid_.load(); }

 private:
  void Receive(const PeerId& from, ProtocolVersion version, ByteSpan bytes);

  Network& network_;
  Server* server_;
  Client* client_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> invalid_{0};
};

}  // namespace cairn::bitswap
