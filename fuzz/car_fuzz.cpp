// Fuzzes the CAR reader over arbitrary bytes (CARv1 and CARv2, with and without verification,
// fed in odd-sized reads), then the CARv2 index decoder on the same bytes. Any input must end in
// blocks or an error: no crash, no hang, no allocation driven by a claimed length.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "car/car_format.hpp"
#include "car/car_reader.hpp"

using cairn::ByteSpan;
using cairn::MutableByteSpan;
using cairn::Result;
namespace car = cairn::car;

namespace {

// Hands out 1..7 bytes per Read, so every boundary in the reader is exercised.
class ChoppySource final : public cairn::ByteSource {
 public:
  explicit ChoppySource(ByteSpan data) : data_(data) {}
  Result<size_t> Read(MutableByteSpan out) override {
    const size_t n = std::min({out.size(), data_.size() - pos_, 1 + pos_ % 7});
    if (n > 0) std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
};

void ReadAll(cairn::ByteSource& source, bool verify) {
  car::CarReaderOptions options;
  options.verify = verify;
  options.max_section_size = 1 << 20;
  options.max_index_size = 1 << 20;
  auto reader = car::CarReader::Open(source, options);
  if (!reader) return;
  for (int i = 0; i < 100000; ++i) {
    auto block = (*reader)->Next();
    if (!block || !*block) break;
  }
  (void)(*reader)->ReadIndex();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  cairn::SpanSource whole(in);
  ReadAll(whole, true);
  ChoppySource choppy(in);
  ReadAll(choppy, false);
  if (auto index = car::DecodeCarIndex(in)) {
    // Decoded entries survive an encode/decode round trip unchanged.
    auto again = index->format == car::kIndexSorted
                     ? car::EncodeIndexSorted(index->entries)
                     : car::EncodeMultihashIndexSorted(index->entries);
    auto back = car::DecodeCarIndex(again);
    CAIRN_CHECK(back && back->entries == index->entries);
  }
  return 0;
}
