// Fuzzes the streaming multipart parser (untrusted upload bodies): the events (part headers,
// data bytes, part ends) and the outcome must not depend on how the body is cut into chunks.
// The first input byte picks the chunk size; the rest is the body (boundary "XyZ").
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/multipart.hpp"

namespace {

struct Run {
  std::string events;
  bool ok = false;
};

Run Parse(const uint8_t* body, size_t size, size_t chunk) {
  Run run;
  cairn::api::MultipartParser parser(
      "XyZ",
      {.on_part_begin = [&run](const cairn::api::MultipartPart& p) -> cairn::Result<void> {
         run.events += "B[" + p.name + "|" + p.filename + "|" + p.content_type + "]";
         return cairn::Ok();
       },
       .on_part_data = [&run](cairn::ByteSpan data) -> cairn::Result<void> {
         run.events.append(reinterpret_cast<const char*>(data.data()), data.size());
         return cairn::Ok();
       },
       .on_part_end = [&run]() -> cairn::Result<void> {
         run.events += "E";
         return cairn::Ok();
       }},
      /*max_header_bytes=*/512);
  for (size_t at = 0; at < size; at += chunk) {
    size_t n = std::min(chunk, size - at);
    if (!parser.Feed(cairn::ByteSpan(body + at, n))) return run;
  }
  run.ok = static_cast<bool>(parser.Finish());
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 64;
  const uint8_t* body = data + 1;
  size_t n = size - 1;
  Run whole = Parse(body, n, n == 0 ? 1 : n);
  Run pieces = Parse(body, n, chunk);
  CAIRN_CHECK(whole.ok == pieces.ok);
  if (whole.ok) CAIRN_CHECK(whole.events == pieces.events);
  return 0;
}
