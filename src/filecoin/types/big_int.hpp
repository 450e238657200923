// Filecoin's arbitrary-precision integer (go-state-types big.Int; ../shared/FILECOIN.md §3.1):
// token amounts in attoFIL (10^-18 FIL), prices, collaterals, DataCap.
//
// Byte form (what CBOR carries as a byte string): empty for zero; otherwise a sign byte (0x00
// positive, 0x01 negative) then the big-endian magnitude without leading zeros, at most 128 bytes
// in all. FromBytes accepts only that canonical form.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::filecoin {

inline constexpr size_t kMaxBigIntBytes = 128;

class BigInt {
 public:
  BigInt() = default;  // zero
  static BigInt FromUint(uint64_t value);
  static BigInt FromInt(int64_t value);
  // Optional '-', then decimal digits without leading zeros ("0", "-12", "100000000000000000").
  // InvalidArgument naming the text otherwise, or when the byte form would exceed 128 bytes.
  static Result<BigInt> Parse(std::string_view decimal);
  // The canonical byte form described above.
  static Result<BigInt> FromBytes(ByteSpan bytes);

  bool is_zero() const { return limbs_.empty(); }
  bool is_negative() const { return negative_; }
  std::string ToString() const;
  Bytes ToBytes() const;
  // The value as uint64 when it is non-negative and fits.
  Result<uint64_t> ToUint64() const;

  BigInt operator-() const;
  friend BigInt operator+(const BigInt& a, const BigInt& b);
  friend BigInt operator-(const BigInt& a, const BigInt& b);
  friend BigInt operator*(const BigInt& a, uint64_t b);
  friend bool operator==(const BigInt&, const BigInt&) = default;
  friend std::strong_ordering operator<=>(const BigInt& a, const BigInt& b);

 private:
  // Magnitude in little-endian 32-bit limbs, no trailing zero limbs; zero is empty and positive.
  std::vector<uint32_t> limbs_;
  bool negative_ = false;

  void Trim();
};

}  // namespace cairn::filecoin
