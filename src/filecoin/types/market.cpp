#include "filecoin/types/market.hpp"

#include <algorithm>

#include "filecoin/types/blake2b.hpp"
#include "filecoin/types/internal/cbor_fields.hpp"
#include "filecoin/types/message.hpp"

namespace cairn::filecoin {

using internal::CborValue;
using internal::MapFields;
using multiformats::Cid;

namespace {

std::string Join(std::string_view a, std::string_view b) {
  return std::string(a) + "." + std::string(b);
}

CborValue UuidValue(const DealUuid& uuid) {
  return CborValue::ByteString(Bytes(uuid.begin(), uuid.end()));
}

Result<DealUuid> UuidField(const CborValue& v, std::string_view field) {
  auto bytes = CAIRN_TRY(internal::ByteString(v, field));
  if (bytes.size() != 16) {
    return internal::FieldError(field, "expected 16 bytes, got " + std::to_string(bytes.size()));
  }
  DealUuid uuid;
  std::copy(bytes.begin(), bytes.end(), uuid.begin());
  return uuid;
}

CborValue SignatureValue(const Signature& s) { return CborValue::ByteString(s.ToBytes()); }

}  // namespace

// ---- DealProposal -----------------------------------------------------------------------------

CborValue DealProposal::ToCbor() const {
  CborValue label_value = std::holds_alternative<std::string>(label)
                              ? CborValue::String(std::get<std::string>(label))
                              : CborValue::ByteString(std::get<Bytes>(label));
  return CborValue::MakeList({
      CborValue::Link(piece_cid),
      CborValue::Uint(piece_size),
      CborValue::Bool(verified_deal),
      internal::AddressValue(client),
      internal::AddressValue(provider),
      std::move(label_value),
      CborValue::Int(start_epoch),
      CborValue::Int(end_epoch),
      internal::BigIntValue(storage_price_per_epoch),
      internal::BigIntValue(provider_collateral),
      internal::BigIntValue(client_collateral),
  });
}

Bytes DealProposal::Encode() const { return internal::EncodeValue(ToCbor()); }

Cid DealProposal::GetCid() const { return Blake2bCborCid(Encode()); }

Result<DealProposal> DealProposal::FromCbor(const CborValue& v, std::string_view field) {
  const auto& t = *CAIRN_TRY(internal::Tuple(v, 11, field));
  DealProposal p;
  p.piece_cid = CAIRN_TRY(internal::Link(t[0], Join(field, "PieceCID")));
  p.piece_size = CAIRN_TRY(internal::Uint(t[1], Join(field, "PieceSize")));
  p.verified_deal = CAIRN_TRY(internal::Bool(t[2], Join(field, "VerifiedDeal")));
  p.client = CAIRN_TRY(internal::AddressField(t[3], Join(field, "Client")));
  p.provider = CAIRN_TRY(internal::AddressField(t[4], Join(field, "Provider")));
  std::string label_field = Join(field, "Label");
  if (t[5].kind() == ipld::CborKind::kString) {
    p.label = t[5].AsString();  // the decoder checked UTF-8
  } else if (t[5].kind() == ipld::CborKind::kBytes) {
    p.label = t[5].AsBytes();
  } else {
    return internal::FieldError(label_field, "expected a text or byte string");
  }
  size_t label_size = std::visit([](const auto& l) { return l.size(); }, p.label);
  if (label_size > kMaxDealLabelBytes) {
    return internal::FieldError(label_field, std::to_string(label_size) + " bytes exceed 256");
  }
  p.start_epoch = CAIRN_TRY(internal::Int(t[6], Join(field, "StartEpoch")));
  p.end_epoch = CAIRN_TRY(internal::Int(t[7], Join(field, "EndEpoch")));
  p.storage_price_per_epoch =
      CAIRN_TRY(internal::BigIntField(t[8], Join(field, "StoragePricePerEpoch")));
  p.provider_collateral = CAIRN_TRY(internal::BigIntField(t[9], Join(field, "ProviderCollateral")));
  p.client_collateral = CAIRN_TRY(internal::BigIntField(t[10], Join(field, "ClientCollateral")));
  return p;
}

Result<DealProposal> DealProposal::Decode(ByteSpan bytes) {
  return FromCbor(CAIRN_TRY(internal::DecodeTop(bytes, "DealProposal")));
}

// ---- ClientDealProposal -----------------------------------------------------------------------

CborValue ClientDealProposal::ToCbor() const {
  return CborValue::MakeList({proposal.ToCbor(), SignatureValue(client_signature)});
}

Bytes ClientDealProposal::Encode() const { return internal::EncodeValue(ToCbor()); }

Cid ClientDealProposal::SignedProposalCid() const { return Sha256CborCid(Encode()); }

Result<ClientDealProposal> ClientDealProposal::FromCbor(const CborValue& v,
                                                        std::string_view field) {
  const auto& t = *CAIRN_TRY(internal::Tuple(v, 2, field));
  ClientDealProposal cp;
  cp.proposal = CAIRN_TRY(DealProposal::FromCbor(t[0], Join(field, "Proposal")));
  cp.client_signature = CAIRN_TRY(internal::SignatureField(t[1], Join(field, "ClientSignature")));
  return cp;
}

Result<ClientDealProposal> ClientDealProposal::Decode(ByteSpan bytes) {
  return FromCbor(CAIRN_TRY(internal::DecodeTop(bytes, "ClientDealProposal")));
}

ClientDealProposal SignDealProposal(const DealProposal& proposal, const PrivateKey& key) {
  return ClientDealProposal{proposal, Signature::Secp256k1(SignBytes(key, proposal.Encode()))};
}

Result<void> VerifyDealProposal(const ClientDealProposal& signed_proposal,
                                const Address& client_key_address) {
  if (signed_proposal.client_signature.type != SignatureType::kSecp256k1) {
    return Err(ErrorCode::kNotSupported, "deal proposal: only secp256k1 signatures are verified");
  }
  return VerifyBytes(signed_proposal.client_signature.data, signed_proposal.proposal.Encode(),
                     client_key_address);
}

// ---- Transfer, DealParams ---------------------------------------------------------------------

CborValue Transfer::ToCbor() const {
  return CborValue::MakeMap({
      {"Size", CborValue::Uint(size)},
      {"Type", CborValue::String(type)},
      {"Params", CborValue::ByteString(params)},
      {"ClientID", CborValue::String(client_id)},
  });
}

Result<Transfer> Transfer::FromCbor(const CborValue& v, std::string_view field) {
  auto m = CAIRN_TRY(MapFields::Read(v, field, {"Size", "Type", "Params", "ClientID"}));
  Transfer t;
  t.size = CAIRN_TRY(internal::Uint(m["Size"], m.Name("Size")));
  t.type = CAIRN_TRY(internal::Text(m["Type"], m.Name("Type")));
  t.params = CAIRN_TRY(internal::ByteString(m["Params"], m.Name("Params")));
  t.client_id = CAIRN_TRY(internal::Text(m["ClientID"], m.Name("ClientID")));
  return t;
}

Bytes DealParams::Encode(DealProtocolVersion version) const {
  CborValue::Map entries{
      {"DealUUID", UuidValue(deal_uuid)},
      {"Transfer", transfer.ToCbor()},
      {"IsOffline", CborValue::Bool(is_offline)},
      {"DealDataRoot", CborValue::Link(deal_data_root)},
      {"ClientDealProposal", client_deal_proposal.ToCbor()},
  };
  if (version == DealProtocolVersion::kV121) {
    entries.emplace_back("SkipIPNIAnnounce", CborValue::Bool(skip_ipni_announce));
    entries.emplace_back("RemoveUnsealedCopy", CborValue::Bool(remove_unsealed_copy));
  }
  return internal::EncodeValue(CborValue::MakeMap(std::move(entries)));
}

Result<DealParams> DealParams::Decode(ByteSpan bytes, DealProtocolVersion version) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "DealParams"));
  bool v121 = version == DealProtocolVersion::kV121;
  auto m = v121 ? CAIRN_TRY(MapFields::Read(
                      v, "DealParams",
                      {"DealUUID", "Transfer", "IsOffline", "DealDataRoot", "SkipIPNIAnnounce",
                       "ClientDealProposal", "RemoveUnsealedCopy"}))
                : CAIRN_TRY(MapFields::Read(
                      v, "DealParams",
                      {"DealUUID", "Transfer", "IsOffline", "DealDataRoot", "ClientDealProposal"}));
  DealParams p;
  p.deal_uuid = CAIRN_TRY(UuidField(m["DealUUID"], m.Name("DealUUID")));
  p.transfer = CAIRN_TRY(Transfer::FromCbor(m["Transfer"], m.Name("Transfer")));
  p.is_offline = CAIRN_TRY(internal::Bool(m["IsOffline"], m.Name("IsOffline")));
  p.deal_data_root = CAIRN_TRY(internal::Link(m["DealDataRoot"], m.Name("DealDataRoot")));
  p.client_deal_proposal = CAIRN_TRY(
      ClientDealProposal::FromCbor(m["ClientDealProposal"], m.Name("ClientDealProposal")));
  if (v121) {
    p.skip_ipni_announce =
        CAIRN_TRY(internal::Bool(m["SkipIPNIAnnounce"], m.Name("SkipIPNIAnnounce")));
    p.remove_unsealed_copy =
        CAIRN_TRY(internal::Bool(m["RemoveUnsealedCopy"], m.Name("RemoveUnsealedCopy")));
  }
  return p;
}

// ---- DealResponse -----------------------------------------------------------------------------

Bytes DealResponse::Encode() const {
  return internal::EncodeValue(CborValue::MakeMap({
      {"Message", CborValue::String(message)},
      {"Accepted", CborValue::Bool(accepted)},
  }));
}

Result<DealResponse> DealResponse::Decode(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "DealResponse"));
  auto m = CAIRN_TRY(MapFields::Read(v, "DealResponse", {"Message", "Accepted"}));
  DealResponse r;
  r.message = CAIRN_TRY(internal::Text(m["Message"], m.Name("Message")));
  r.accepted = CAIRN_TRY(internal::Bool(m["Accepted"], m.Name("Accepted")));
  return r;
}

// ---- DealStatusRequest ------------------------------------------------------------------------

DealStatusRequest DealStatusRequest::Sign(const DealUuid& uuid, const PrivateKey& key) {
  return DealStatusRequest{uuid, Signature::Secp256k1(SignBytes(key, uuid))};
}

Bytes DealStatusRequest::Encode() const {
  return internal::EncodeValue(CborValue::MakeMap({
      {"DealUUID", UuidValue(deal_uuid)},
      {"Signature", SignatureValue(signature)},
  }));
}

Result<DealStatusRequest> DealStatusRequest::Decode(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "DealStatusRequest"));
  auto m = CAIRN_TRY(MapFields::Read(v, "DealStatusRequest", {"DealUUID", "Signature"}));
  DealStatusRequest r;
  r.deal_uuid = CAIRN_TRY(UuidField(m["DealUUID"], m.Name("DealUUID")));
  r.signature = CAIRN_TRY(internal::SignatureField(m["Signature"], m.Name("Signature")));
  return r;
}

// ---- DealStatus, DealStatusResponse -----------------------------------------------------------

CborValue DealStatus::ToCbor() const {
  return CborValue::MakeMap({
      {"Error", CborValue::String(error)},
      {"Status", CborValue::String(status)},
      {"Proposal", proposal.ToCbor()},
      {"PublishCid", publish_cid ? CborValue::Link(*publish_cid) : CborValue::Null()},
      {"ChainDealID", CborValue::Uint(chain_deal_id)},
      {"SealingStatus", CborValue::String(sealing_status)},
      {"SignedProposalCid", CborValue::Link(signed_proposal_cid)},
  });
}

Result<DealStatus> DealStatus::FromCbor(const CborValue& v, std::string_view field) {
  auto m = CAIRN_TRY(MapFields::Read(v, field,
                                     {"Error", "Status", "Proposal", "PublishCid", "ChainDealID",
                                      "SealingStatus", "SignedProposalCid"}));
  DealStatus s;
  s.error = CAIRN_TRY(internal::Text(m["Error"], m.Name("Error")));
  s.status = CAIRN_TRY(internal::Text(m["Status"], m.Name("Status")));
  s.proposal = CAIRN_TRY(DealProposal::FromCbor(m["Proposal"], m.Name("Proposal")));
  if (!m["PublishCid"].is_null()) {
    s.publish_cid = CAIRN_TRY(internal::Link(m["PublishCid"], m.Name("PublishCid")));
  }
  s.chain_deal_id = CAIRN_TRY(internal::Uint(m["ChainDealID"], m.Name("ChainDealID")));
  s.sealing_status = CAIRN_TRY(internal::Text(m["SealingStatus"], m.Name("SealingStatus")));
  s.signed_proposal_cid =
      CAIRN_TRY(internal::Link(m["SignedProposalCid"], m.Name("SignedProposalCid")));
  return s;
}

Bytes DealStatusResponse::Encode() const {
  return internal::EncodeValue(CborValue::MakeMap({
      {"Error", CborValue::String(error)},
      {"DealUUID", UuidValue(deal_uuid)},
      {"IsOffline", CborValue::Bool(is_offline)},
      {"DealStatus", deal_status ? deal_status->ToCbor() : CborValue::Null()},
      {"TransferSize", CborValue::Uint(transfer_size)},
      {"NBytesReceived", CborValue::Uint(n_bytes_received)},
  }));
}

Result<DealStatusResponse> DealStatusResponse::Decode(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "DealStatusResponse"));
  auto m = CAIRN_TRY(MapFields::Read(
      v, "DealStatusResponse",
      {"Error", "DealUUID", "IsOffline", "DealStatus", "TransferSize", "NBytesReceived"}));
  DealStatusResponse r;
  r.error = CAIRN_TRY(internal::Text(m["Error"], m.Name("Error")));
  r.deal_uuid = CAIRN_TRY(UuidField(m["DealUUID"], m.Name("DealUUID")));
  r.is_offline = CAIRN_TRY(internal::Bool(m["IsOffline"], m.Name("IsOffline")));
  if (!m["DealStatus"].is_null()) {
    r.deal_status = CAIRN_TRY(DealStatus::FromCbor(m["DealStatus"], m.Name("DealStatus")));
  }
  r.transfer_size = CAIRN_TRY(internal::Uint(m["TransferSize"], m.Name("TransferSize")));
  r.n_bytes_received = CAIRN_TRY(internal::Uint(m["NBytesReceived"], m.Name("NBytesReceived")));
  return r;
}

// ---- StorageAsk, AskRequest, AskResponse ------------------------------------------------------

CborValue StorageAsk::ToCbor() const {
  return CborValue::MakeMap({
      {"Price", internal::BigIntValue(price)},
      {"VerifiedPrice", internal::BigIntValue(verified_price)},
      {"MinPieceSize", CborValue::Uint(min_piece_size)},
      {"MaxPieceSize", CborValue::Uint(max_piece_size)},
      {"Miner", internal::AddressValue(miner)},
      {"Timestamp", CborValue::Int(timestamp)},
      {"Expiry", CborValue::Int(expiry)},
      {"SeqNo", CborValue::Uint(seq_no)},
  });
}

Bytes StorageAsk::Encode() const { return internal::EncodeValue(ToCbor()); }

Result<StorageAsk> StorageAsk::FromCbor(const CborValue& v, std::string_view field) {
  auto m = CAIRN_TRY(MapFields::Read(v, field,
                                     {"Price", "VerifiedPrice", "MinPieceSize", "MaxPieceSize",
                                      "Miner", "Timestamp", "Expiry", "SeqNo"}));
  StorageAsk a;
  a.price = CAIRN_TRY(internal::BigIntField(m["Price"], m.Name("Price")));
  a.verified_price = CAIRN_TRY(internal::BigIntField(m["VerifiedPrice"], m.Name("VerifiedPrice")));
  a.min_piece_size = CAIRN_TRY(internal::Uint(m["MinPieceSize"], m.Name("MinPieceSize")));
  a.max_piece_size = CAIRN_TRY(internal::Uint(m["MaxPieceSize"], m.Name("MaxPieceSize")));
  a.miner = CAIRN_TRY(internal::AddressField(m["Miner"], m.Name("Miner")));
  a.timestamp = CAIRN_TRY(internal::Int(m["Timestamp"], m.Name("Timestamp")));
  a.expiry = CAIRN_TRY(internal::Int(m["Expiry"], m.Name("Expiry")));
  a.seq_no = CAIRN_TRY(internal::Uint(m["SeqNo"], m.Name("SeqNo")));
  return a;
}

Result<StorageAsk> StorageAsk::Decode(ByteSpan bytes) {
  return FromCbor(CAIRN_TRY(internal::DecodeTop(bytes, "StorageAsk")));
}

Bytes EncodeAskRequest(const Address& miner) {
  return internal::EncodeValue(CborValue::MakeMap({{"Miner", internal::AddressValue(miner)}}));
}

Result<Address> DecodeAskRequest(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "AskRequest"));
  auto m = CAIRN_TRY(MapFields::Read(v, "AskRequest", {"Miner"}));
  return internal::AddressField(m["Miner"], m.Name("Miner"));
}

Bytes AskResponse::Encode() const {
  CborValue inner;
  if (ask) {
    // An ask without a signature is not representable on the wire (Signature is required).
    CAIRN_CHECK(signature.has_value());
    inner = CborValue::MakeMap({{"Ask", ask->ToCbor()}, {"Signature", SignatureValue(*signature)}});
  }
  return internal::EncodeValue(CborValue::MakeMap({{"Ask", std::move(inner)}}));
}

Result<AskResponse> AskResponse::Decode(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "AskResponse"));
  auto m = CAIRN_TRY(MapFields::Read(v, "AskResponse", {"Ask"}));
  AskResponse r;
  if (m["Ask"].is_null()) {
    return r;
  }
  auto signed_ask = CAIRN_TRY(MapFields::Read(m["Ask"], "AskResponse.Ask", {"Ask", "Signature"}));
  r.ask = CAIRN_TRY(StorageAsk::FromCbor(signed_ask["Ask"], signed_ask.Name("Ask")));
  r.signature =
      CAIRN_TRY(internal::SignatureField(signed_ask["Signature"], signed_ask.Name("Signature")));
  return r;
}

// ---- TransportsResponse -----------------------------------------------------------------------

Bytes TransportsResponse::Encode() const {
  CborValue::List list;
  for (const auto& p : protocols) {
    CborValue::List addresses;
    for (const auto& a : p.addresses) addresses.push_back(CborValue::ByteString(a));
    list.push_back(CborValue::MakeMap({{"Name", CborValue::String(p.name)},
                                       {"Addresses", CborValue::MakeList(std::move(addresses))}}));
  }
  return internal::EncodeValue(
      CborValue::MakeMap({{"Protocols", CborValue::MakeList(std::move(list))}}));
}

Result<TransportsResponse> TransportsResponse::Decode(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "TransportsResponse"));
  auto m = CAIRN_TRY(MapFields::Read(v, "TransportsResponse", {"Protocols"}));
  const auto& list = m["Protocols"];
  TransportsResponse r;
  if (list.is_null()) return r;  // cbor-gen writes a nil slice as null
  if (list.kind() != ipld::CborKind::kList) {
    return internal::FieldError(m.Name("Protocols"), "expected a list");
  }
  for (size_t i = 0; i < list.AsList().size(); ++i) {
    const std::string field = m.Name("Protocols") + "[" + std::to_string(i) + "]";
    auto p = CAIRN_TRY(MapFields::Read(list.AsList()[i], field, {"Name", "Addresses"}));
    RetrievalTransport t;
    t.name = CAIRN_TRY(internal::Text(p["Name"], p.Name("Name")));
    const auto& addresses = p["Addresses"];
    // cbor-gen writes a nil slice as null.
    if (!addresses.is_null()) {
      if (addresses.kind() != ipld::CborKind::kList) {
        return internal::FieldError(p.Name("Addresses"), "expected a list");
      }
      for (size_t j = 0; j < addresses.AsList().size(); ++j) {
        t.addresses.push_back(CAIRN_TRY(internal::ByteString(
            addresses.AsList()[j], p.Name("Addresses") + "[" + std::to_string(j) + "]")));
      }
    }
    r.protocols.push_back(std::move(t));
  }
  return r;
}

}  // namespace cairn::filecoin
