// Shared parts of the chaos suite (tests/chaos/, CTest label `chaos`): a repo with an account and
// a token, CAR bytes built by hand (so the suite does not lean on the code under test to make its
// inputs), multipart upload bodies, and readings of a server process (RSS, CPU time).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"
#include "tests/integration/run.hpp"
#include "tests/integration/serve_process.hpp"

namespace cairn::chaos {

using testing::HttpReply;
using testing::HttpRequest;
using testing::RunCairn;

// An integer from the environment (the long runs are chosen by flag: CAIRN_CHAOS_*), or `fallback`.
inline int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoll(v, nullptr, 10);
}

// Creates account `name` in the repo and returns a token for it (upload and pin scopes).
inline std::string CreateAccountToken(const std::string& repo, const std::string& name) {
  RunCairn("--repo " + testing::ShellQuote(repo) + " account create " + name);
  auto token = RunCairn("--repo " + testing::ShellQuote(repo) + " token create --account " + name);
  std::string t = token.out;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) s[i + k] = static_cast<char>(v >> (8 * k));
  }
  return s;
}

inline multiformats::Cid RawCid(const std::string& data) {
  return *multiformats::Cid::Compute(1, multiformats::codec::kRaw, multiformats::codec::kSha2_256,
                                     AsBytes(data));
}

inline void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// A CARv1 (ipld/car spec): varint-prefixed dag-cbor header {"roots": [...], "version": 1}, then
// one varint-prefixed section per block. Written out byte by byte.
inline std::string CarV1(const std::vector<multiformats::Cid>& roots,
                         const std::vector<std::pair<multiformats::Cid, std::string>>& blocks) {
  std::string header;
  header.push_back(static_cast<char>(0xA2));  // map(2), keys sorted by length: roots, version
  header += "\x65roots";
  header.push_back(static_cast<char>(0x80 + roots.size()));  // array(n), n < 24
  for (const auto& root : roots) {
    Bytes cid = root.ToBytes();
    header += "\xD8\x2A";                       // tag 42
    header.push_back(static_cast<char>(0x58));  // bytes, one length byte
    header.push_back(static_cast<char>(cid.size() + 1));
    header.push_back('\0');  // the multibase identity prefix of DAG-CBOR links
    header.append(reinterpret_cast<const char*>(cid.data()), cid.size());
  }
  header += "\x67version\x01";
  std::string out;
  AppendVarint(out, header.size());
  out += header;
  for (const auto& [cid, data] : blocks) {
    Bytes c = cid.ToBytes();
    AppendVarint(out, c.size() + data.size());
    out.append(reinterpret_cast<const char*>(c.data()), c.size());
    out += data;
  }
  return out;
}

inline const char* kBoundary = "----cairnChaosBoundary";

// A multipart/form-data body with one file part.
inline std::string MultipartFile(const std::string& name, const std::string& content) {
  return std::string("--") + kBoundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
         "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + kBoundary +
         "--\r\n";
}

inline std::vector<std::string> UploadHeaders(const std::string& token) {
  return {"Authorization: Bearer " + token,
          std::string("Content-Type: multipart/form-data; boundary=") + kBoundary};
}

// The value of "key":"..." in a small JSON text ("" when absent).
inline std::string JsonField(const std::string& json, const std::string& key) {
  size_t at = json.rfind("\"" + key + "\":\"");
  if (at == std::string::npos) return "";
  at += key.size() + 4;
  return json.substr(at, json.find('"', at) - at);
}

// Resident set size of `pid` in KiB (VmRSS), or -1.
inline int64_t RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// User plus system CPU time of `pid`, in clock ticks, or -1.
inline int64_t CpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> fields;
  std::string field;
  for (size_t i = close + 2; i <= stat.size(); ++i) {
    if (i == stat.size() || stat[i] == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field.push_back(stat[i]);
    }
  }
  // After "pid (comm)": state is field 0, utime field 11, stime field 12.
  if (fields.size() < 13) return -1;
  return std::strtoll(fields[11].c_str(), nullptr, 10) +
         std::strtoll(fields[12].c_str(), nullptr, 10);
}

}  // namespace cairn::chaos
