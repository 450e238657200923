// Private keys as the wallet holds them, and the key file format of the keystore
// (docs/formats/wallet.md): Lotus' KeyInfo JSON, {"Type":"secp256k1","PrivateKey":"<base64>"},
// the same JSON `lotus wallet export` hex-encodes, so a key moves between Lotus and Cairn.
//
// Secrets never reach logs, errors or test output: SecretKey prints as a fixed redacted text,
// parse errors never quote the input, and the bytes are wiped when a SecretKey is destroyed.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/secp256k1_key.hpp"

namespace cairn::filecoin::wallet {

// The text every printer of a SecretKey writes instead of the key.
inline constexpr std::string_view kRedacted = "<secp256k1 private key: redacted>";

// A secp256k1 private key. Movable and copyable (copies are wiped too); never printed.
class SecretKey {
 public:
  // InvalidArgument unless `bytes` is a valid 32-byte secret (the message names no byte of it).
  static Result<SecretKey> FromBytes(ByteSpan bytes);
  // A fresh key from the operating system's CSPRNG (getrandom). IoError if it is unavailable.
  static Result<SecretKey> Generate();

  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  // The raw secret, for signing and for writing the key file only.
  const PrivateKey& secret() const { return key_; }
  // The f1 address of this key.
  Address address() const { return Secp256k1Address(key_); }

 private:
  explicit SecretKey(const PrivateKey& key) : key_(key) {}
  PrivateKey key_{};
};

// Both write kRedacted: streams (logs built with <<) and GoogleTest's printer.
std::ostream& operator<<(std::ostream& out, const SecretKey& key);
void PrintTo(const SecretKey& key, std::ostream* out);

// The key file: {"Type":"secp256k1","PrivateKey":"<base64 of the 32 bytes>"} and a newline.
std::string FormatKeyFile(const SecretKey& key);

// Parses a key file (at most 4 KiB). Strict: one JSON object with exactly the members Type and
// PrivateKey (Lotus' names), Type "secp256k1", PrivateKey padded standard base64 of a valid
// 32-byte secret. InvalidArgument naming what is wrong, NotSupported for Lotus' other key types
// ("bls", "delegated"). No error message contains any part of the input.
Result<SecretKey> ParseKeyFile(std::string_view text);

}  // namespace cairn::filecoin::wallet
