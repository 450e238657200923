// The Kademlia DHT on the libp2p host (../shared/specs/libp2p/kad-dht.md, /ipfs/kad/1.0.0): peer
// routing, provider records, and the RPCs that carry them. The codec (dht/message.hpp), the table
// (dht/routing_table.hpp), the lookup (dht/lookup.hpp) and the provider store are pure; this is
// where they meet streams.
//
// Modes. Client (the default): queries others, serves nothing, and does not register the
// protocol, so identify does not advertise it and no peer adds this node to its table. Server:
// also registers /ipfs/kad/1.0.0 and answers FIND_NODE, GET_PROVIDERS, ADD_PROVIDER, PING (and
// GET_VALUE with closer peers only: no value store); PUT_VALUE is refused (stream reset).
//
// The table learns peers that serve the protocol: from identify (the host's identify listener;
// a peer that stops listing it is removed), from peers that answered a query, and from the
// bootstrap peers once they answer. Addresses learned from responses go to the host's peerstore
// with its short TTL; every dial goes through net::Host::Connect, so the dial policy
// (libp2p.allow_private, unsupported transports) and the host's backoff apply.
//
// RPCs: one stream per request (the spec's pattern), the frame written, the answer read (none
// for ADD_PROVIDER), the stream closed; an RPC that does not finish within rpc_timeout resets its
// stream and counts as a failure (a peer failing twice in a row leaves the table). Inbound
// streams (server mode) carry up to kMaxRequestsPerStream requests; one that is idle for
// rpc_timeout, malformed or oversized is reset with a log line, other streams untouched.
// ADD_PROVIDER is accepted only for provider entries naming the sender itself, with a key that is
// a valid multihash.
//
// Lookups run on the host thread as coroutines, alpha queries at a time, each bounded by its own
// deadline (the lookup's result so far is returned when it passes). Provider lookups stop early
// once `limit` providers are known.
//
// Threads. Create() and the destructor must run off the host's thread while it runs (they post
// their work there and wait, up to 10 s). The blocking calls (FindProviders, FindClosestPeers,
// SendProviderRecords, Provide, Bootstrap) are for other threads: called on the host's thread
// they return Internal. They are thread-safe; their work runs on the host's thread. The host must
// outlive the node.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "dht/lookup.hpp"
#include "dht/message.hpp"
#include "dht/provider_store.hpp"
#include "dht/reprovider.hpp"
#include "dht/routing_table.hpp"
#include "multiformats/cid.hpp"
#include "net/host.hpp"

namespace cairn::dht {

enum class Mode { kClient, kServer };

struct NodeOptions {
  Mode mode = Mode::kClient;
  // Peers to start from: multiaddrs ending in /p2p/<peer id>; those without are refused by
  // Create (InvalidArgument naming the address).
  std::vector<net::Multiaddr> bootstrap;
  size_t k = 20;
  size_t alpha = 3;
  std::chrono::milliseconds rpc_timeout{10000};     // one request and its answer, dial included
  std::chrono::milliseconds lookup_timeout{30000};  // one lookup
  // Table refresh (a lookup of this node's own id, then of a random key per non-empty bucket)
  // and provider-store expiry. 0 = never (tests drive Bootstrap() themselves).
  std::chrono::milliseconds refresh_interval{std::chrono::minutes(10)};
  ProviderStoreOptions providers;
};

struct NodeStats {
  std::atomic<uint64_t> lookups{0};
  std::atomic<uint64_t> rpcs_sent{0};
  std::atomic<uint64_t> rpc_failures{0};
  std::atomic<uint64_t> requests_served{0};
  std::atomic<uint64_t> requests_refused{0};
  std::atomic<uint64_t> provider_records_sent{0};
  std::atomic<uint64_t> routing_table_size{0};
};

class Node final : public ProvideRouting {
 public:
  static constexpr size_t kMaxRequestsPerStream = 4096;

  static Result<std::unique_ptr<Node>> Create(net::Host& host, NodeOptions options);
  ~Node() override;  // Shutdown()

  // Stops serving (server mode), ends running lookups and batches with what they have (the
  // blocking calls waiting on them return), and makes later calls end at once. Idempotent.
  void Shutdown();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Looks up this node's own id from the bootstrap peers (and the table), filling the table.
  // Ok even when nothing answered (the table stays as it was); the number of peers in the table.
  Result<size_t> Bootstrap();
  // The peers that answered a FIND_NODE lookup of `key`, closest to SHA-256(key) first (up to
  // k·4, so callers can choose per key nearby). An empty list when no peer answered.
  Result<std::vector<PeerRef>> FindClosestPeers(const Bytes& key) override;
  // Providers of `cid` (keyed by its multihash): this node's own store first (server mode),
  // then a GET_PROVIDERS lookup; at most `limit`, deduplicated. Timeout is not an error: what was
  // found by the deadline is returned.
  Result<std::vector<PeerRef>> FindProviders(const multiformats::Cid& cid, size_t limit);
  // Sends the batches (at most alpha peers at a time); the number of records the peers took
  // (a peer that could not be reached counts none of its batch).
  Result<size_t> SendProviderRecords(std::vector<ProviderBatch> batches) override;
  // Provides one key: a FIND_NODE lookup, then ADD_PROVIDER to the k closest that answered.
  // The number of peers that took the record; Unavailable when none did.
  Result<size_t> Provide(const Bytes& key);

  size_t k() const override;
  net::PeerId self() const;
  const NodeStats& stats() const;

  struct Impl;

 private:
  explicit Node(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace cairn::dht
