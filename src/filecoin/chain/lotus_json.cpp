#include "filecoin/chain/lotus_json.hpp"

#include "filecoin/types/base64.hpp"

namespace cairn::filecoin::chain {

namespace json = boost::json;

namespace {

tl::unexpected<Error> Bad(const std::string& field, const std::string& what) {
  return Err(ErrorCode::kInvalidArgument, field + ": " + what);
}

Result<const json::object*> Object(const json::value& v, const std::string& field) {
  const auto* o = v.if_object();
  if (!o) return Bad(field, "expected an object");
  return o;
}

Result<const json::value*> Member(const json::object& o, const char* name,
                                  const std::string& field) {
  const auto* v = o.if_contains(name);
  if (!v) return Bad(field + "." + name, "missing");
  return v;
}

Result<uint64_t> UintFromJson(const json::value& v, const std::string& field) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
  return Bad(field, "expected a non-negative integer");
}

Result<Bytes> BytesFromJson(const json::value& v, const std::string& field) {
  if (v.is_null()) return Bytes{};
  if (!v.is_string()) return Bad(field, "expected base64 text");
  auto b = Base64Decode(v.get_string());
  if (!b) return Bad(field, b.error().message());
  return b;
}

// Member `name` of `o` read with `read`, the field path extended.
template <typename F>
auto Read(const json::object& o, const char* name, const std::string& field, F read)
    -> decltype(read(std::declval<const json::value&>(), field)) {
  const json::value* v = CAIRN_TRY(Member(o, name, field));
  return read(*v, field + "." + name);
}

}  // namespace

json::array TipSet::Key() const {
  json::array key;
  for (const auto& c : cids) key.push_back(CidToJson(c));
  return key;
}

json::value CidToJson(const Cid& cid) { return json::object{{"/", cid.ToString()}}; }

Result<Cid> CidFromJson(const json::value& v, const std::string& field) {
  const auto* o = v.if_object();
  const json::value* s = o ? o->if_contains("/") : nullptr;
  if (!s || !s->is_string()) return Bad(field, "expected {\"/\": cid}");
  auto cid = Cid::Parse(s->get_string());
  if (!cid) return Bad(field, cid.error().message());
  return cid;
}

Result<int64_t> IntFromJson(const json::value& v, const std::string& field) {
  if (v.is_int64()) return v.get_int64();
  return Bad(field, "expected an integer");
}

Result<BigInt> BigIntFromJson(const json::value& v, const std::string& field) {
  if (v.is_int64()) return BigInt::FromInt(v.get_int64());
  if (v.is_uint64()) return BigInt::FromUint(v.get_uint64());
  if (!v.is_string()) return Bad(field, "expected a decimal string");
  auto b = BigInt::Parse(v.get_string());
  if (!b) return Bad(field, b.error().message());
  return b;
}

Result<Address> AddressFromJson(const json::value& v, const std::string& field) {
  if (!v.is_string()) return Bad(field, "expected an address string");
  auto a = Address::Parse(v.get_string());
  if (!a) return Bad(field, a.error().message());
  return a;
}

json::object MessageToJson(const Message& m, Network network) {
  return json::object{
      {"Version", m.version},
      {"To", m.to.ToString(network)},
      {"From", m.from.ToString(network)},
      {"Nonce", m.nonce},
      {"Value", m.value.ToString()},
      {"GasLimit", m.gas_limit},
      {"GasFeeCap", m.gas_fee_cap.ToString()},
      {"GasPremium", m.gas_premium.ToString()},
      {"Method", m.method},
      {"Params", Base64Encode(m.params)},
  };
}

Result<Message> MessageFromJson(const json::value& v, const std::string& field) {
  const auto& o = *CAIRN_TRY(Object(v, field));
  Message m;
  m.version = CAIRN_TRY(Read(o, "Version", field, UintFromJson));
  m.to = CAIRN_TRY(Read(o, "To", field, AddressFromJson));
  m.from = CAIRN_TRY(Read(o, "From", field, AddressFromJson));
  m.nonce = CAIRN_TRY(Read(o, "Nonce", field, UintFromJson));
  m.value = CAIRN_TRY(Read(o, "Value", field, BigIntFromJson));
  m.gas_limit = CAIRN_TRY(Read(o, "GasLimit", field, IntFromJson));
  m.gas_fee_cap = CAIRN_TRY(Read(o, "GasFeeCap", field, BigIntFromJson));
  m.gas_premium = CAIRN_TRY(Read(o, "GasPremium", field, BigIntFromJson));
  m.method = CAIRN_TRY(Read(o, "Method", field, UintFromJson));
  if (o.if_contains("Params")) m.params = CAIRN_TRY(Read(o, "Params", field, BytesFromJson));
  return m;
}

json::object SignedMessageToJson(const SignedMessage& m, Network network) {
  return json::object{
      {"Message", MessageToJson(m.message, network)},
      {"Signature", json::object{{"Type", static_cast<int>(m.signature.type)},
                                 {"Data", Base64Encode(m.signature.data)}}},
  };
}

Result<TipSet> TipSetFromJson(const json::value& v) {
  const std::string field = "TipSet";
  const auto& o = *CAIRN_TRY(Object(v, field));
  TipSet ts;
  ts.height = CAIRN_TRY(Read(o, "Height", field, IntFromJson));
  if (ts.height < 0) return Bad(field + ".Height", "negative");
  const json::value* cids = CAIRN_TRY(Member(o, "Cids", field));
  const auto* arr = cids->if_array();
  if (!arr || arr->empty()) return Bad(field + ".Cids", "expected a non-empty array");
  for (size_t i = 0; i < arr->size(); ++i) {
    ts.cids.push_back(
        CAIRN_TRY(CidFromJson((*arr)[i], field + ".Cids[" + std::to_string(i) + "]")));
  }
  return ts;
}

Result<MinerInfo> MinerInfoFromJson(const json::value& v) {
  const std::string field = "MinerInfo";
  const auto& o = *CAIRN_TRY(Object(v, field));
  MinerInfo mi;
  mi.owner = CAIRN_TRY(Read(o, "Owner", field, AddressFromJson));
  mi.worker = CAIRN_TRY(Read(o, "Worker", field, AddressFromJson));
  if (const auto* peer = o.if_contains("PeerId"); peer && !peer->is_null()) {
    if (!peer->is_string()) return Bad(field + ".PeerId", "expected a string or null");
    mi.peer_id = std::string(peer->get_string());
  }
  if (const auto* addrs = o.if_contains("Multiaddrs"); addrs && !addrs->is_null()) {
    const auto* arr = addrs->if_array();
    if (!arr) return Bad(field + ".Multiaddrs", "expected an array or null");
    for (size_t i = 0; i < arr->size(); ++i) {
      mi.multiaddrs.push_back(
          CAIRN_TRY(BytesFromJson((*arr)[i], field + ".Multiaddrs[" + std::to_string(i) + "]")));
    }
  }
  mi.sector_size = CAIRN_TRY(Read(o, "SectorSize", field, UintFromJson));
  return mi;
}

Result<MarketBalance> MarketBalanceFromJson(const json::value& v) {
  const std::string field = "MarketBalance";
  const auto& o = *CAIRN_TRY(Object(v, field));
  MarketBalance b;
  b.escrow = CAIRN_TRY(Read(o, "Escrow", field, BigIntFromJson));
  b.locked = CAIRN_TRY(Read(o, "Locked", field, BigIntFromJson));
  return b;
}

Result<MarketDeal> MarketDealFromJson(const json::value& v) {
  const std::string field = "MarketDeal";
  const auto& o = *CAIRN_TRY(Object(v, field));
  const json::value* pv = CAIRN_TRY(Member(o, "Proposal", field));
  const std::string pf = field + ".Proposal";
  const auto& p = *CAIRN_TRY(Object(*pv, pf));
  MarketDeal d;
  d.proposal.piece_cid = CAIRN_TRY(Read(p, "PieceCID", pf, CidFromJson));
  d.proposal.piece_size = CAIRN_TRY(Read(p, "PieceSize", pf, UintFromJson));
  const json::value* verified = CAIRN_TRY(Member(p, "VerifiedDeal", pf));
  if (!verified->is_bool()) return Bad(pf + ".VerifiedDeal", "expected a boolean");
  d.proposal.verified_deal = verified->get_bool();
  d.proposal.client = CAIRN_TRY(Read(p, "Client", pf, AddressFromJson));
  d.proposal.provider = CAIRN_TRY(Read(p, "Provider", pf, AddressFromJson));
  const json::value* label = CAIRN_TRY(Member(p, "Label", pf));
  if (!label->is_string()) return Bad(pf + ".Label", "expected a string");
  d.proposal.label = std::string(label->get_string());
  d.proposal.start_epoch = CAIRN_TRY(Read(p, "StartEpoch", pf, IntFromJson));
  d.proposal.end_epoch = CAIRN_TRY(Read(p, "EndEpoch", pf, IntFromJson));
  d.proposal.storage_price_per_epoch =
      CAIRN_TRY(Read(p, "StoragePricePerEpoch", pf, BigIntFromJson));
  d.proposal.provider_collateral = CAIRN_TRY(Read(p, "ProviderCollateral", pf, BigIntFromJson));
  d.proposal.client_collateral = CAIRN_TRY(Read(p, "ClientCollateral", pf, BigIntFromJson));
  const json::value* sv = CAIRN_TRY(Member(o, "State", field));
  const std::string sf = field + ".State";
  const auto& s = *CAIRN_TRY(Object(*sv, sf));
  d.state.sector_number = CAIRN_TRY(Read(s, "SectorNumber", sf, UintFromJson));
  d.state.sector_start_epoch = CAIRN_TRY(Read(s, "SectorStartEpoch", sf, IntFromJson));
  d.state.last_updated_epoch = CAIRN_TRY(Read(s, "LastUpdatedEpoch", sf, IntFromJson));
  d.state.slash_epoch = CAIRN_TRY(Read(s, "SlashEpoch", sf, IntFromJson));
  return d;
}

Result<std::optional<MessageLookup>> MessageLookupFromJson(const json::value& v) {
  if (v.is_null()) return std::optional<MessageLookup>();
  const std::string field = "MsgLookup";
  const auto& o = *CAIRN_TRY(Object(v, field));
  MessageLookup l;
  l.message = CAIRN_TRY(Read(o, "Message", field, CidFromJson));
  const json::value* rv = CAIRN_TRY(Member(o, "Receipt", field));
  const std::string rf = field + ".Receipt";
  const auto& r = *CAIRN_TRY(Object(*rv, rf));
  l.exit_code = CAIRN_TRY(Read(r, "ExitCode", rf, IntFromJson));
  if (r.if_contains("Return")) l.return_value = CAIRN_TRY(Read(r, "Return", rf, BytesFromJson));
  l.gas_used = CAIRN_TRY(Read(r, "GasUsed", rf, IntFromJson));
  const json::value* ts = CAIRN_TRY(Member(o, "TipSet", field));
  const auto* arr = ts->if_array();
  if (!arr) return Bad(field + ".TipSet", "expected an array of CIDs");
  for (size_t i = 0; i < arr->size(); ++i) {
    l.tipset.push_back(
        CAIRN_TRY(CidFromJson((*arr)[i], field + ".TipSet[" + std::to_string(i) + "]")));
  }
  l.height = CAIRN_TRY(Read(o, "Height", field, IntFromJson));
  return std::optional<MessageLookup>(std::move(l));
}

}  // namespace cairn::filecoin::chain
