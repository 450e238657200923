#include "filecoin/wallet/wallet.hpp"

#include <string_view>

namespace cairn::filecoin::wallet {

namespace {

constexpr std::string_view kKeySuffix = ".key";
constexpr const char* kDefaultFile = "default";
constexpr uint64_t kMaxSmallFile = 4096;

ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

std::string KeyFileName(const Address& address) {
  return address.ToString(Network::kMainnet) + std::string(kKeySuffix);
}

Result<std::unique_ptr<Wallet>> Wallet::Open(Env& env, std::filesystem::path dir) {
  auto created = env.CreateDirs(dir);
  if (!created) return Err(created.error().WithContext("wallet: "));
  std::unique_ptr<Wallet> wallet(new Wallet(env, std::move(dir)));
  CAIRN_TRY(wallet->Load());
  return wallet;
}

Result<void> Wallet::Load() {
  auto names = env_.ListDir(dir_);
  if (!names) return Err(names.error().WithContext("wallet: "));
  std::lock_guard lock(mu_);
  for (const auto& name : *names) {
    if (name.size() <= kKeySuffix.size() ||
        name.compare(name.size() - kKeySuffix.size(), kKeySuffix.size(), kKeySuffix) != 0) {
      continue;
    }
    auto path = dir_ / name;
    auto text = ReadWholeFile(env_, path, kMaxSmallFile);
    if (!text) return Err(text.error().WithContext("wallet: "));
    auto key =
        ParseKeyFile(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
    for (auto& b : *text) b = 0;
    if (!key) {
      return Err(ErrorCode::kCorruption, "wallet: " + path.string() + ": " + key.error().message());
    }
    Address address = key->address();
    if (name != KeyFileName(address)) {
      return Err(ErrorCode::kCorruption, "wallet: " + path.string() + " holds the key of " +
                                             address.ToString() + ", not of its file name");
    }
    keys_.emplace(address, *key);
  }
  auto default_path = dir_ / kDefaultFile;
  auto exists = env_.Exists(default_path);
  if (!exists) return Err(exists.error().WithContext("wallet: "));
  if (*exists) {
    auto text = ReadWholeFile(env_, default_path, kMaxSmallFile);
    if (!text) return Err(text.error().WithContext("wallet: "));
    std::string s(text->begin(), text->end());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    auto address = Address::Parse(s);
    if (!address || !keys_.count(*address)) {
      return Err(ErrorCode::kCorruption, "wallet: " + default_path.string() +
                                             " does not name an address this wallet holds");
    }
    default_ = *address;
  } else if (!keys_.empty()) {
    default_ = keys_.begin()->first;  // a wallet copied without its default file
  }
  return Ok();
}

Result<Address> Wallet::Store(const SecretKey& key) {
  Address address = key.address();
  std::lock_guard lock(mu_);
  if (keys_.count(address)) {
    return Err(ErrorCode::kAlreadyExists, "wallet: already holds " + address.ToString());
  }
  std::string file = FormatKeyFile(key);
  auto written = WriteFileAtomically(env_, dir_ / KeyFileName(address), AsBytes(file));
  for (auto& c : file) c = 0;
  if (!written) return Err(written.error().WithContext("wallet: "));
  keys_.emplace(address, key);
  if (!default_) {
    std::string line = address.ToString() + "\n";
    auto d = WriteFileAtomically(env_, dir_ / kDefaultFile, AsBytes(line));
    if (!d) return Err(d.error().WithContext("wallet: "));
    default_ = address;
  }
  return address;
}

Result<Address> Wallet::New() {
  auto key = CAIRN_TRY(SecretKey::Generate());
  return Store(key);
}

Result<Address> Wallet::Import(const SecretKey& key) { return Store(key); }

std::vector<Address> Wallet::List() const {
  std::lock_guard lock(mu_);
  std::vector<Address> out;
  for (const auto& entry : keys_) out.push_back(entry.first);
  return out;
}

bool Wallet::Has(const Address& address) const {
  std::lock_guard lock(mu_);
  return keys_.count(address) != 0;
}

std::optional<Address> Wallet::Default() const {
  std::lock_guard lock(mu_);
  return default_;
}

Result<void> Wallet::SetDefault(const Address& address) {
  std::lock_guard lock(mu_);
  if (!keys_.count(address)) {
    return Err(ErrorCode::kNotFound, "wallet: no key for " + address.ToString());
  }
  std::string line = address.ToString() + "\n";
  auto written = WriteFileAtomically(env_, dir_ / kDefaultFile, AsBytes(line));
  if (!written) return Err(written.error().WithContext("wallet: "));
  default_ = address;
  return Ok();
}

Result<Address> Wallet::Resolve(const std::optional<Address>& address) const {
  std::lock_guard lock(mu_);
  if (address) {
    if (!keys_.count(*address)) {
      return Err(ErrorCode::kNotFound, "wallet: no key for " + address->ToString());
    }
    return *address;
  }
  if (!default_) {
    return Err(ErrorCode::kNotFound, "wallet: empty (create a key with `cairn wallet new`)");
  }
  return *default_;
}

Result<const SecretKey*> Wallet::KeyFor(const Address& address) const {
  auto it = keys_.find(address);
  if (it == keys_.end()) {
    return Err(ErrorCode::kNotFound, "wallet: no key for " + address.ToString());
  }
  return &it->second;
}

Result<SignedMessage> Wallet::SignMessage(const Message& message) const {
  std::lock_guard lock(mu_);
  const SecretKey* key = CAIRN_TRY(KeyFor(message.from));
  return filecoin::SignMessage(message, key->secret());
}

Result<Signature> Wallet::SignBytes(const Address& signer, ByteSpan data) const {
  std::lock_guard lock(mu_);
  const SecretKey* key = CAIRN_TRY(KeyFor(signer));
  return Signature::Secp256k1(filecoin::SignBytes(key->secret(), data));
}

}  // namespace cairn::filecoin::wallet
