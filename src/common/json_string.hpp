// JSON string escaping, for the few places that write JSON by hand (logs, error bodies).
#pragma once

#include <string>
#include <string_view>

namespace cairn {

// Appends `s` as a JSON string: quotes included, '"', '\\' and control characters escaped.
// Well-formed UTF-8 passes through; every byte that is not part of a well-formed UTF-8 sequence
// (a stray continuation byte, a truncated or overlong sequence, a surrogate, a code point above
// U+10FFFF) becomes U+FFFD, so the output is always valid JSON (RFC 8259 §8.1) whatever `s`
// holds — a client's percent-decoded %ff%fe included.
void AppendJsonString(std::string& out, std::string_view s);

// The length of the well-formed UTF-8 sequence at the start of `s` (1–4), or 0 when `s` does not
// start with one.
size_t Utf8SequenceLength(std::string_view s);

}  // namespace cairn
