#include "filecoin/types/big_int.hpp"

#include <algorithm>

namespace cairn::filecoin {
namespace {

using Limbs = std::vector<uint32_t>;

int CompareMagnitude(const Limbs& a, const Limbs& b) {
  if (a.size() != b.size()) {
    return a.size() < b.size() ? -1 : 1;
  }
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) {
      return a[i] < b[i] ? -1 : 1;
    }
  }
  return 0;
}

Limbs AddMagnitude(const Limbs& a, const Limbs& b) {
  Limbs out(std::max(a.size(), b.size()) + 1, 0);
  uint64_t carry = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t sum = carry;
    if (i < a.size()) sum += a[i];
    if (i < b.size()) sum += b[i];
    out[i] = static_cast<uint32_t>(sum);
    carry = sum >> 32;
  }
  return out;
}

// a - b with |a| >= |b|.
Limbs SubMagnitude(const Limbs& a, const Limbs& b) {
  Limbs out(a.size(), 0);
  int64_t borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int64_t diff = static_cast<int64_t>(a[i]) - borrow - (i < b.size() ? b[i] : 0);
    borrow = diff < 0 ? 1 : 0;
    out[i] = static_cast<uint32_t>(diff + (borrow << 32));
  }
  return out;
}

Limbs MulSmall(const Limbs& a, uint32_t m, uint32_t add) {
  Limbs out(a.size() + 1, 0);
  uint64_t carry = add;
  for (size_t i = 0; i < a.size(); ++i) {
    uint64_t p = static_cast<uint64_t>(a[i]) * m + carry;
    out[i] = static_cast<uint32_t>(p);
    carry = p >> 32;
  }
  out[a.size()] = static_cast<uint32_t>(carry);
  return out;
}

// Byte length of the magnitude.
size_t MagnitudeBytes(const Limbs& limbs) {
  if (limbs.empty()) return 0;
  uint32_t top = limbs.back();
  size_t n = (limbs.size() - 1) * 4;
  while (top != 0) {
    ++n;
    top >>= 8;
  }
  return n;
}

}  // namespace

void BigInt::Trim() {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  if (limbs_.empty()) negative_ = false;
}

BigInt BigInt::FromUint(uint64_t value) {
  BigInt out;
  out.limbs_ = {static_cast<uint32_t>(value), static_cast<uint32_t>(value >> 32)};
  out.Trim();
  return out;
}

BigInt BigInt::FromInt(int64_t value) {
  uint64_t magnitude =
      value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  BigInt out = FromUint(magnitude);
  out.negative_ = value < 0;
  out.Trim();
  return out;
}

Result<BigInt> BigInt::Parse(std::string_view decimal) {
  std::string_view digits = decimal;
  bool negative = false;
  if (!digits.empty() && digits[0] == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  auto bad = [&](std::string why) {
    return Err(ErrorCode::kInvalidArgument,
               "bigint: '" + std::string(decimal.substr(0, 64)) + "' " + why);
  };
  if (digits.empty()) return bad("has no digits");
  if (digits.size() > 1 && digits[0] == '0') return bad("has a leading zero");
  if (negative && digits == "0") return bad("is negative zero");
  // 127 magnitude bytes hold < 2^1016 < 10^306.
  if (digits.size() > 310) return bad("is too long");
  BigInt out;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad("is not a decimal number");
    out.limbs_ = MulSmall(out.limbs_, 10, static_cast<uint32_t>(c - '0'));
    out.Trim();
  }
  if (MagnitudeBytes(out.limbs_) + 1 > kMaxBigIntBytes) return bad("exceeds 128 bytes");
  out.negative_ = negative;
  out.Trim();
  return out;
}

Result<BigInt> BigInt::FromBytes(ByteSpan bytes) {
  if (bytes.empty()) {
    return BigInt();
  }
  if (bytes.size() > kMaxBigIntBytes) {
    return Err(ErrorCode::kInvalidArgument,
               "bigint: " + std::to_string(bytes.size()) + " bytes exceed 128");
  }
  if (bytes[0] > 1) {
    return Err(ErrorCode::kInvalidArgument,
               "bigint: sign byte " + std::to_string(bytes[0]) + " is not 0 or 1");
  }
  if (bytes.size() == 1 || bytes[1] == 0) {
    return Err(ErrorCode::kInvalidArgument,
               "bigint: magnitude is empty or has a leading zero (zero is the empty string)");
  }
  BigInt out;
  size_t n = bytes.size() - 1;
  out.limbs_.assign((n + 3) / 4, 0);
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = bytes[bytes.size() - 1 - i];
    out.limbs_[i / 4] |= static_cast<uint32_t>(b) << (8 * (i % 4));
  }
  out.negative_ = bytes[0] == 1;
  out.Trim();
  return out;
}

std::string BigInt::ToString() const {
  if (is_zero()) return "0";
  std::string digits;
  Limbs rest = limbs_;
  while (!rest.empty()) {
    uint64_t rem = 0;
    for (size_t i = rest.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | rest[i];
      rest[i] = static_cast<uint32_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
    while (!rest.empty() && rest.back() == 0) rest.pop_back();
  }
  if (negative_) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Bytes BigInt::ToBytes() const {
  if (is_zero()) return {};
  size_t n = MagnitudeBytes(limbs_);
  Bytes out(n + 1, 0);
  out[0] = negative_ ? 1 : 0;
  for (size_t i = 0; i < n; ++i) {
    out[n - i] = static_cast<uint8_t>(limbs_[i / 4] >> (8 * (i % 4)));
  }
  return out;
}

Result<uint64_t> BigInt::ToUint64() const {
  if (negative_ || limbs_.size() > 2) {
    return Err(ErrorCode::kInvalidArgument, "bigint: " + ToString() + " is not a uint64");
  }
  uint64_t v = 0;
  for (size_t i = limbs_.size(); i-- > 0;) v = (v << 32) | limbs_[i];
  return v;
}

BigInt BigInt::operator-() const {
  BigInt out = *this;
  out.negative_ = !negative_;
  out.Trim();
  return out;
}

BigInt operator+(const BigInt& a, const BigInt& b) {
  BigInt out;
  if (a.negative_ == b.negative_) {
    out.limbs_ = AddMagnitude(a.limbs_, b.limbs_);
    out.negative_ = a.negative_;
  } else if (CompareMagnitude(a.limbs_, b.limbs_) >= 0) {
    out.limbs_ = SubMagnitude(a.limbs_, b.limbs_);
    out.negative_ = a.negative_;
  } else {
    out.limbs_ = SubMagnitude(b.limbs_, a.limbs_);
    out.negative_ = b.negative_;
  }
  out.Trim();
  return out;
}

BigInt operator-(const BigInt& a, const BigInt& b) { return a + (-b); }

BigInt operator*(const BigInt& a, uint64_t b) {
  // (hi * 2^32 + lo) * a
  BigInt lo;
  lo.limbs_ = MulSmall(a.limbs_, static_cast<uint32_t>(b), 0);
  BigInt hi;
  hi.limbs_ = MulSmall(a.limbs_, static_cast<uint32_t>(b >> 32), 0);
  hi.limbs_.insert(hi.limbs_.begin(), 0);
  lo.Trim();
  hi.Trim();
  BigInt out = lo + hi;
  out.negative_ = a.negative_;
  out.Trim();
  return out;
}

std::strong_ordering operator<=>(const BigInt& a, const BigInt& b) {
  if (a.negative_ != b.negative_) {
    return a.negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  int c = CompareMagnitude(a.limbs_, b.limbs_);
  if (a.negative_) c = -c;
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

}  // namespace cairn::filecoin
