// The storage-market types of deal making: the f05 DealProposal and ClientDealProposal
// (go-state-types builtin/v9/market, tuple-encoded) and the mk12 deal protocol's messages
// (Boost/Curio, map-encoded with canonical key order), ../shared/FILECOIN.md §3.1.
//
// Every Decode is strict: exactly the fields of the type (no extra, none missing), each of the
// right CBOR type, canonical DAG-CBOR; errors are InvalidArgument naming the field
// ("DealParams.Transfer.Size: expected an unsigned integer").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/big_int.hpp"
#include "filecoin/types/secp256k1_key.hpp"
#include "filecoin/types/signature.hpp"
#include "ipld/dag_cbor.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin {

inline constexpr size_t kMaxDealLabelBytes = 256;

// DealLabel: a text string (CBOR major 3, valid UTF-8) or a byte string (major 2), ≤ 256 bytes.
// The zero value is the empty text string.
using DealLabel = std::variant<std::string, Bytes>;

struct DealProposal {
  multiformats::Cid piece_cid;  // v1 CommP CID (baga…)
  uint64_t piece_size = 0;      // padded
  bool verified_deal = false;
  Address client;
  Address provider;
  DealLabel label;
  int64_t start_epoch = 0;
  int64_t end_epoch = 0;
  BigInt storage_price_per_epoch;
  BigInt provider_collateral;
  BigInt client_collateral;

  ipld::CborValue ToCbor() const;
  Bytes Encode() const;
  // The market actor's key for the proposal: CIDv1 dag-cbor blake2b-256 of Encode().
  multiformats::Cid GetCid() const;
  static Result<DealProposal> FromCbor(const ipld::CborValue& v,
                                       std::string_view field = "DealProposal");
  static Result<DealProposal> Decode(ByteSpan bytes);

  friend bool operator==(const DealProposal&, const DealProposal&) = default;
};

struct ClientDealProposal {
  DealProposal proposal;
  Signature client_signature;

  ipld::CborValue ToCbor() const;
  Bytes Encode() const;
  // Boost's SignedProposalCid: CIDv1 dag-cbor sha2-256 of Encode().
  multiformats::Cid SignedProposalCid() const;
  static Result<ClientDealProposal> FromCbor(const ipld::CborValue& v,
                                             std::string_view field = "ClientDealProposal");
  static Result<ClientDealProposal> Decode(ByteSpan bytes);

  friend bool operator==(const ClientDealProposal&, const ClientDealProposal&) = default;
};

// Signs blake2b-256(proposal CBOR) with the client's key.
ClientDealProposal SignDealProposal(const DealProposal& proposal, const PrivateKey& key);
// OK when the signature is a secp256k1 signature by `client_key_address` (the f1 behind
// proposal.client, which may be an f0 the caller resolved).
Result<void> VerifyDealProposal(const ClientDealProposal& signed_proposal,
                                const Address& client_key_address);

using DealUuid = std::array<uint8_t, 16>;

// How the provider gets the data: Type "http" with Params = JSON {"URL","Headers"}; offline
// deals have Type "" and empty Params.
struct Transfer {
  std::string type;
  std::string client_id;
  Bytes params;
  uint64_t size = 0;

  ipld::CborValue ToCbor() const;
  static Result<Transfer> FromCbor(const ipld::CborValue& v, std::string_view field);
  friend bool operator==(const Transfer&, const Transfer&) = default;
};

// /fil/storage/mk/1.2.1 adds SkipIPNIAnnounce and RemoveUnsealedCopy to 1.2.0's five fields.
enum class DealProtocolVersion { kV120, kV121 };

struct DealParams {
  DealUuid deal_uuid{};
  bool is_offline = false;
  ClientDealProposal client_deal_proposal;
  multiformats::Cid deal_data_root;
  Transfer transfer;
  bool skip_ipni_announce = false;    // 1.2.1 only
  bool remove_unsealed_copy = false;  // 1.2.1 only

  // 1.2.0 drops the two 1.2.1 fields (they must be false to be representable; checked by the
  // caller, encoded as absent regardless).
  Bytes Encode(DealProtocolVersion version = DealProtocolVersion::kV121) const;
  static Result<DealParams> Decode(ByteSpan bytes,
                                   DealProtocolVersion version = DealProtocolVersion::kV121);
  friend bool operator==(const DealParams&, const DealParams&) = default;
};

struct DealResponse {
  bool accepted = false;
  std::string message;

  Bytes Encode() const;
  static Result<DealResponse> Decode(ByteSpan bytes);
  friend bool operator==(const DealResponse&, const DealResponse&) = default;
};

// Signature = the client's signature over the 16 raw UUID bytes (blake2b-256 then secp256k1).
struct DealStatusRequest {
  DealUuid deal_uuid{};
  Signature signature;

  static DealStatusRequest Sign(const DealUuid& uuid, const PrivateKey& key);
  Bytes Encode() const;
  static Result<DealStatusRequest> Decode(ByteSpan bytes);
  friend bool operator==(const DealStatusRequest&, const DealStatusRequest&) = default;
};

struct DealStatus {
  std::string error;
  std::string status;  // checkpoint: Accepted, Transferred, Published, PublishConfirmed, ...
  DealProposal proposal;
  std::optional<multiformats::Cid> publish_cid;
  uint64_t chain_deal_id = 0;
  std::string sealing_status;
  multiformats::Cid signed_proposal_cid;

  ipld::CborValue ToCbor() const;
  static Result<DealStatus> FromCbor(const ipld::CborValue& v, std::string_view field);
  friend bool operator==(const DealStatus&, const DealStatus&) = default;
};

struct DealStatusResponse {
  DealUuid deal_uuid{};
  std::string error;
  std::optional<DealStatus> deal_status;
  bool is_offline = false;
  uint64_t transfer_size = 0;
  uint64_t n_bytes_received = 0;

  Bytes Encode() const;
  static Result<DealStatusResponse> Decode(ByteSpan bytes);
  friend bool operator==(const DealStatusResponse&, const DealStatusResponse&) = default;
};

struct StorageAsk {
  BigInt price;           // attoFIL per GiB per epoch
  BigInt verified_price;  // same, for verified deals
  uint64_t min_piece_size = 0;
  uint64_t max_piece_size = 0;
  Address miner;
  int64_t timestamp = 0;
  int64_t expiry = 0;
  uint64_t seq_no = 0;

  ipld::CborValue ToCbor() const;
  Bytes Encode() const;
  static Result<StorageAsk> FromCbor(const ipld::CborValue& v,
                                     std::string_view field = "StorageAsk");
  static Result<StorageAsk> Decode(ByteSpan bytes);
  friend bool operator==(const StorageAsk&, const StorageAsk&) = default;
};

// /fil/storage/ask/1.1.0 request: {"Miner": address bytes}.
Bytes EncodeAskRequest(const Address& miner);
Result<Address> DecodeAskRequest(ByteSpan bytes);

// /fil/storage/ask/1.1.0 answer: {"Ask": {"Ask": StorageAsk, "Signature": sig} | null}; the
// signature is the miner worker's over the ask's CBOR.
struct AskResponse {
  std::optional<StorageAsk> ask;
  std::optional<Signature> signature;  // present iff ask is

  Bytes Encode() const;
  static Result<AskResponse> Decode(ByteSpan bytes);
  friend bool operator==(const AskResponse&, const AskResponse&) = default;
};

// /fil/retrieval/transports/1.0.0 answer (boost retrievalmarket/types; FILECOIN.md §3.1):
// {"Protocols": [{"Name": "libp2p"|"http"|"https"|"bitswap"|…, "Addresses": [multiaddr bytes…]}]}.
// The request is empty: the provider writes this and closes the stream. Names are kept as sent
// (a provider may offer transports we do not know); addresses are the binary multiaddrs, not
// parsed here (callers skip the ones they cannot use). Decode bounds nothing beyond the bytes it
// is given: callers bound the answer.
struct RetrievalTransport {
  std::string name;
  std::vector<Bytes> addresses;
  friend bool operator==(const RetrievalTransport&, const RetrievalTransport&) = default;
};

struct TransportsResponse {
  std::vector<RetrievalTransport> protocols;

  Bytes Encode() const;
  static Result<TransportsResponse> Decode(ByteSpan bytes);
  friend bool operator==(const TransportsResponse&, const TransportsResponse&) = default;
};

}  // namespace cairn::filecoin
