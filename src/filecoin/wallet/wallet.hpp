// The wallet: secp256k1 keys kept in the repo, a default address, and signing
// (../shared/FILECOIN.md §3.3: a message is signed over blake2b-256 of its CID bytes; deal
// proposals over blake2b-256 of their CBOR).
//
// On disk (docs/formats/wallet.md): a directory (mode 0700) holding one key file per address,
// `<address>.key` (mode 0600, Lotus KeyInfo JSON, see key_file.hpp; the address in its mainnet
// spelling, f1…), and `default`, the default address followed by a newline. Every file is
// written with WriteFileAtomically, so a crash leaves the old file or the new one. Files the
// wallet does not know (editor backups, `*.tmp` left by a crash) are ignored; a key file whose
// name is not its key's address is refused as Corruption when the wallet opens.
//
// Keys never leave this class except to sign; nothing here logs or returns them, and errors name
// addresses and files, never key bytes.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/env.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/message.hpp"
#include "filecoin/types/signature.hpp"
#include "filecoin/wallet/key_file.hpp"

namespace cairn::filecoin::wallet {

class Wallet {
 public:
  // Opens the keystore in `dir`, creating the directory (0700) when it is missing, and loads
  // every key file. Corruption naming the file for a key file that does not parse or is not
  // named after its address, or a `default` that is not one of the keys.
  static Result<std::unique_ptr<Wallet>> Open(Env& env, std::filesystem::path dir);

  // Generates a key, stores it and returns its f1 address. The first key becomes the default.
  Result<Address> New();
  // Stores `key` (e.g. a Lotus export). AlreadyExists when the wallet holds it. The first key
  // becomes the default.
  Result<Address> Import(const SecretKey& key);

  // Every address, in order of their bytes.
  std::vector<Address> List() const;
  bool Has(const Address& address) const;
  // The default address; nullopt when the wallet is empty.
  std::optional<Address> Default() const;
  // Makes `address` the default. NotFound when the wallet has no key for it.
  Result<void> SetDefault(const Address& address);
  // `address` when given and held, the default when not given. NotFound when the wallet holds no
  // such key, or is empty.
  Result<Address> Resolve(const std::optional<Address>& address) const;

  // Signs a chain message by message.from (an f1 address this wallet holds; NotFound otherwise):
  // secp256k1 over blake2b-256 of the message CID bytes.
  Result<SignedMessage> SignMessage(const Message& message) const;
  // Signs blake2b-256(`data`) with `signer`'s key (deal proposals, status requests).
  Result<Signature> SignBytes(const Address& signer, ByteSpan data) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  Wallet(Env& env, std::filesystem::path dir) : env_(env), dir_(std::move(dir)) {}
  Result<void> Load();
  Result<Address> Store(const SecretKey& key);
  Result<const SecretKey*> KeyFor(const Address& address) const;  // with mu_ held

  Env& env_;
  const std::filesystem::path dir_;
  mutable std::mutex mu_;
  std::map<Address, SecretKey> keys_;  // GUARDED_BY(mu_)
  std::optional<Address> default_;     // GUARDED_BY(mu_)
};

// The file name of `address`'s key: "<f1…>.key".
std::string KeyFileName(const Address& address);

}  // namespace cairn::filecoin::wallet
