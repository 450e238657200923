#include "bitswap/bitswap.hpp"

#include "common/log.hpp"

namespace cairn::bitswap {

Bitswap::Bitswap(Network& network, Server* server, Client* client)
    : network_(network), server_(server), client_(client) {
  network_.SetHandlers([this](const PeerId& from, ProtocolVersion version,
                              ByteSpan bytes) { Receive(from, version, bytes); },
                       [this](const PeerId& peer, bool connected) {
                         if (client_) client_->OnPeer(peer, connected);
                         if (server_ && !connected) server_->OnPeerGone(peer);
                       });
}

Bitswap::~Bitswap() { network_.SetHandlers({}, {}); }

void Bitswap::Receive(const PeerId& from, ProtocolVersion version, ByteSpan bytes) {
  received_++;
  auto message = DecodeMessage(bytes);
  if (!message) {
    invalid_++;
    log::Info("bitswap.message_invalid", {{"peer", from}, {"error", message.error().message()}});
    return;
  }
  if (server_ && !message->wantlist.empty()) server_->OnWantlist(from, version, message->wantlist);
  if (client_ && (!message->blocks.empty() || !message->presences.empty())) {
    client_->OnMessage(from, *message);
  }
}

}  // namespace cairn::bitswap
