// End-to-end tests of the Pinning Service API v1.0.0
// (../shared/specs/ipfs/pinning-service-api.yaml) on the real `cairn serve` at 127.0.0.1:0: every
// endpoint's status codes and bodies, the filters and `count`, Kubo's pager (`before` = created of
// the last result, stop when count == page size), Kubo's 0.5 s polling and `pin remote service ls
// --stat` (four limit=1 calls), replace, delete, thousands of pins, tenant isolation, rejected
// input that changes nothing, rate limits, and pins that survive restarts (kill -9 in the middle of
// a fetch resumes).
//
// Content for pins that must reach `pinned` comes from identity CIDs, from `cairn add` before the
// service starts, or from FakeGateway, a tiny trustless gateway on 127.0.0.1 configured as
// pinning.gateways. No test needs the internet: every service here has an explicit gateway list.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"
#include "pinning/test_dag.hpp"
#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

namespace json = boost::json;
namespace mf = multiformats;
using namespace std::chrono_literals;

const char kAllStatuses[] = "status=queued,pinning,pinned,failed";

json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* f = v.get_object().if_contains(key);
  return f && f->is_string() ? std::string(f->get_string()) : std::string();
}

std::string IdentityCid(std::string_view content) {
  return mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kIdentity, AsBytes(content))->ToString();
}

mf::Cid RawCid(std::string_view content) {
  return *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes(content));
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Go's time.RFC3339Nano drops trailing zeros of the fraction ("…28.27612Z"); Kubo sends `before`
// that way.
std::string GoNano(std::string created) {
  size_t z = created.size() - 1;
  size_t dot = created.find('.');
  if (dot == std::string::npos || created[z] != 'Z') return created;
  size_t end = z;
  while (end > dot + 1 && created[end - 1] == '0') --end;
  if (end == dot + 1) end = dot;
  return created.substr(0, end) + "Z";
}

// A trustless gateway (GET /ipfs/{cid}?format=raw) over a map of blocks. Unknown CIDs are 404.
// Hold(cid) makes requests for that CID wait (connection open, no answer) until Release().
class FakeGateway {
 public:
  FakeGateway() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0) {
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeGateway() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      held_.clear();
    }
    cv_.notify_all();
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(fd_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Put(const mf::Cid& cid, Bytes data) {
    std::lock_guard lock(mu_);
    blocks_[cid.ToString()] = std::move(data);
  }
  void Hold(const mf::Cid& cid) {
    std::lock_guard lock(mu_);
    held_.insert(cid.ToString());
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_.clear();
    }
    cv_.notify_all();
  }
  // Requests seen for `cid` (counted when they arrive, before any hold).
  int Requests(const mf::Cid& cid) {
    std::lock_guard lock(mu_);
    return requests_[cid.ToString()];
  }

 private:
  void AcceptLoop() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      connections_.emplace_back([this, c] { Serve(c); });
    }
  }
  void Serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string cid;
    size_t at = req.find("/ipfs/");
    if (at != std::string::npos) {
      size_t end = req.find_first_of("?/ ", at + 6);
      cid = req.substr(at + 6, end - at - 6);
    }
    std::string response;
    {
      std::unique_lock lock(mu_);
      requests_[cid]++;
      cv_.wait(lock, [&] { return stopping_ || !held_.count(cid); });
      auto it = blocks_.find(cid);
      if (!stopping_ && it != blocks_.end()) {
        response = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ipld.raw\r\nContent-Length: " +
                   std::to_string(it->second.size()) + "\r\nConnection: close\r\n\r\n" +
                   std::string(it->second.begin(), it->second.end());
      } else {
        response =
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found";
      }
    }
    size_t off = 0;
    while (off < response.size()) {
      ssize_t n = ::send(c, response.data() + off, response.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(c);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only touched by the acceptor thread, then ~
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                // GUARDED_BY(mu_)
  std::map<std::string, Bytes> blocks_;  // GUARDED_BY(mu_)
  std::set<std::string> held_;           // GUARDED_BY(mu_)
  std::map<std::string, int> requests_;  // GUARDED_BY(mu_)
};

class PinsE2e : public ::testing::Test {
 protected:
  std::string Repo() const { return dir_ / "repo"; }
  RunResult Cairn(const std::string& args) { return RunCairn("--repo '" + Repo() + "' " + args); }

  // A token for `account` (created on first use) with `flags` ("--scope pins:read", ...).
  std::string Token(const std::string& account, const std::string& flags = "") {
    if (!accounts_.count(account)) {
      auto made = Cairn("account create " + account);
      EXPECT_EQ(made.exit_code, 0) << made.err;
      accounts_.insert(account);
    }
    auto r = Cairn("token create --account " + account + " " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    size_t at = r.err.find("tok_");  // "token tok_... for account ..." on stderr
    last_token_id_ = at == std::string::npos ? "" : r.err.substr(at, r.err.find(' ', at) - at);
    return r.out.substr(0, r.out.find('\n'));
  }

  // Starts the service with `gateways` as pinning.gateways (none by default: nothing is fetched
  // from the internet) and `extra` TOML appended.
  void Start(const std::vector<std::string>& gateways = {}, const std::string& extra_pinning = "",
             const std::string& extra = "") {
    std::string toml = "[pinning]\ngateways = [";
    for (size_t i = 0; i < gateways.size(); ++i) toml += (i ? ", \"" : "\"") + gateways[i] + "\"";
    toml += "]\n" + extra_pinning + extra;
    // No public DHT bootstrap peers: nothing here may depend on the internet or on how fast the
    // machine's DNS resolver fails for them (a find deadline below is 3 s).
    if (extra.find("[dht]") == std::string::npos) toml += "[dht]\nbootstrap = []\n";
    WriteFile(dir_ / "cairn.toml", toml);
    serve_ = std::make_unique<ServeProcess>(
        Repo(), std::vector<std::string>{"--config", dir_ / "cairn.toml"});
    ASSERT_NE(serve_->port(), 0) << serve_->output();
  }

  HttpReply Call(const std::string& method, const std::string& target, const std::string& token,
                 const std::string& body = "") {
    std::vector<std::string> headers;
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    return HttpRequest(serve_->port(), method, target, headers, body);
  }

  // POST /pins; expects 202 and returns the PinStatus.
  json::value Add(const std::string& token, const std::string& body) {
    auto r = Call("POST", "/pins", token, body);
    EXPECT_EQ(r.status, 202) << body << " -> " << r.body;
    return ParseJson(r.body);
  }
  json::value AddCid(const std::string& token, const std::string& cid,
                     const std::string& name = "") {
    json::object pin;
    pin["cid"] = cid;
    if (!name.empty()) pin["name"] = name;
    return Add(token, json::serialize(pin));
  }

  json::value List(const std::string& token, const std::string& query) {
    auto r = Call("GET", "/pins" + (query.empty() ? "" : "?" + query), token);
    EXPECT_EQ(r.status, 200) << query << " -> " << r.body;
    return ParseJson(r.body);
  }
  int64_t Count(const std::string& token, const std::string& query) {
    json::value v = List(token, query);
    return v.is_object() && v.get_object().contains("count") ? v.at("count").to_number<int64_t>()
                                                             : -1;
  }
  int64_t CountAll(const std::string& token) {
    return Count(token, std::string(kAllStatuses) + "&limit=1");
  }
  std::set<std::string> Ids(const json::value& results) {
    std::set<std::string> out;
    for (const auto& p : results.at("results").as_array()) out.insert(Str(p, "requestid"));
    return out;
  }

  // Polls GET /pins/{id} (every 100 ms, at most `bound`) until the status is `want` (or failed).
  json::value WaitFor(const std::string& token, const std::string& id, const std::string& want,
                      std::chrono::seconds bound = 60s) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    json::value last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Call("GET", "/pins/" + id, token);
      last = ParseJson(r.body);
      if (r.status == 200 && (Str(last, "status") == want || Str(last, "status") == "failed"))
        break;
      std::this_thread::sleep_for(100ms);
    }
    return last;
  }

  TempDir dir_;
  std::set<std::string> accounts_;
  std::string last_token_id_;  // id of the token Token() created last
  std::unique_ptr<ServeProcess> serve_;
};

void ExpectFailure(const HttpReply& r, int status, const std::string& reason) {
  EXPECT_EQ(r.status, status) << r.body;
  json::value v = ParseJson(r.body);
  ASSERT_TRUE(v.is_object()) << "Failure body expected: " << r.body;
  ASSERT_TRUE(v.get_object().contains("error")) << r.body;
  EXPECT_EQ(Str(v.at("error"), "reason"), reason) << r.body;
  EXPECT_FALSE(Str(v.at("error"), "details").empty()) << r.body;
  EXPECT_NE(r.Header("Content-Type").value_or("").find("application/json"), std::string::npos);
}

// The PinStatus shape of the spec, with no null anywhere and valid delegates.
void ExpectPinStatus(const json::value& v, const std::string& cid) {
  ASSERT_TRUE(v.is_object()) << v;
  const auto& o = v.get_object();
  EXPECT_FALSE(Str(v, "requestid").empty()) << v;
  EXPECT_TRUE(
      std::set<std::string>({"queued", "pinning", "pinned", "failed"}).count(Str(v, "status")))
      << v;
  std::string created = Str(v, "created");
  ASSERT_EQ(created.size(), 27u) << v;  // 2020-07-27T17:32:28.276123Z
  EXPECT_EQ(created.back(), 'Z');
  ASSERT_TRUE(o.contains("pin") && o.at("pin").is_object()) << v;
  const auto& pin = o.at("pin").get_object();
  EXPECT_EQ(Str(o.at("pin"), "cid"), cid) << "the CID is echoed exactly as submitted";
  ASSERT_TRUE(pin.contains("origins") && pin.at("origins").is_array()) << v;
  ASSERT_TRUE(pin.contains("meta") && pin.at("meta").is_object()) << v;
  if (pin.contains("name")) {
    EXPECT_TRUE(pin.at("name").is_string()) << v;
  }
  ASSERT_TRUE(o.contains("info") && o.at("info").is_object()) << v;
  ASSERT_TRUE(o.contains("delegates") && o.at("delegates").is_array()) << v;
  const auto& delegates = o.at("delegates").get_array();
  ASSERT_FALSE(delegates.empty()) << v;
  for (const auto& d : delegates) {
    ASSERT_TRUE(d.is_string());
    std::string s(d.get_string());
    EXPECT_EQ(s.rfind("/", 0), 0u) << s;
    size_t p2p = s.find("/p2p/12D3KooW");
    EXPECT_NE(p2p, std::string::npos) << s;
    if (p2p != std::string::npos) {
      EXPECT_EQ(s.size() - p2p, 5u + 52u) << s;  // an Ed25519 peer ID
    }
  }
  std::string text = json::serialize(v);
  EXPECT_EQ(text.find("null"), std::string::npos) << text;
}

TEST_F(PinsE2e, AddGetDeleteFollowTheSpecAndEchoTheCid) {
  std::string token = Token("alice");
  Start();
  // A CIDv0, a CIDv1 in base58btc and in base36: each echoed byte for byte.
  mf::Cid v1 = RawCid("echo me");
  std::vector<std::string> forms = {
      "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
      mf::Cid::Compute(1, mf::codec::kDagPb, mf::codec::kSha2_256, AsBytes("x"))
          ->ToString(mf::Multibase::kBase58Btc),
      v1.ToString(mf::Multibase::kBase36),
      v1.ToString(mf::Multibase::kBase32Upper),
  };
  for (const auto& cid : forms) {
    json::value st = AddCid(token, cid);
    ExpectPinStatus(st, cid);
    auto got = Call("GET", "/pins/" + Str(st, "requestid"), token);
    ASSERT_EQ(got.status, 200) << got.body;
    ExpectPinStatus(ParseJson(got.body), cid);
    EXPECT_EQ(Str(ParseJson(got.body), "created"), Str(st, "created"));
  }

  // Name, origins and meta are stored and returned.
  json::value full = Add(
      token,
      R"({"cid":")" + IdentityCid("full") +
          R"(","name":"Precious.pdf","origins":["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"],"meta":{"app_id":"99","k":"v"}})");
  ExpectPinStatus(full, IdentityCid("full"));
  EXPECT_EQ(Str(full.at("pin"), "name"), "Precious.pdf");
  EXPECT_EQ(full.at("pin").at("origins").as_array().size(), 1u);
  EXPECT_EQ(Str(full.at("pin").at("meta"), "app_id"), "99");
  std::string id = Str(full, "requestid");

  // An identity CID is pinned at once (no fetch), with its size in info.
  json::value pinned = WaitFor(token, id, "pinned");
  EXPECT_EQ(Str(pinned, "status"), "pinned") << pinned;
  EXPECT_FALSE(Str(pinned.at("info"), "status_details").empty()) << pinned;
  EXPECT_EQ(Str(pinned.at("info"), "dag_size"), "4") << pinned;

  auto del = Call("DELETE", "/pins/" + id, token);
  EXPECT_EQ(del.status, 202) << del.body;
  EXPECT_TRUE(del.body.empty());
  ExpectFailure(Call("GET", "/pins/" + id, token), 404, "NOT_FOUND");
  ExpectFailure(Call("DELETE", "/pins/" + id, token), 404, "NOT_FOUND");
  ExpectFailure(Call("POST", "/pins/" + id, token, R"({"cid":")" + IdentityCid("r") + "\"}"), 404,
                "NOT_FOUND");
  EXPECT_EQ(CountAll(token), static_cast<int64_t>(forms.size()));
}

// Delegated routing served by Cairn (../shared/specs/ipfs/http-routing-v1.md): a pinned CID names
// this node (the peer id of its delegates), in any CID encoding; anything else has no providers.
TEST_F(PinsE2e, RoutingEndpointNamesThisNodeForPinnedContent) {
  std::string token = Token("alice");
  Start();
  std::string cid = IdentityCid("routed");
  json::value st = AddCid(token, cid);
  std::string delegate = std::string(st.at("delegates").as_array().at(0).as_string());
  std::string peer = delegate.substr(delegate.rfind("/p2p/") + 5);
  std::string target =
      "/routing/v1/providers/" + mf::Cid::Parse(cid)->ToString(mf::Multibase::kBase36);
  // Not pinned yet or never: 200 with no providers (the spec: never 404), and no token needed.
  auto none = Call("GET", "/routing/v1/providers/" + RawCid("nobody").ToString(), "");
  EXPECT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(none.body, "{\"Providers\":[]}");
  EXPECT_EQ(none.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(Str(WaitFor(token, Str(st, "requestid"), "pinned"), "status"), "pinned");
  auto found = Call("GET", target, "");
  ASSERT_EQ(found.status, 200) << found.body;
  json::value v = ParseJson(found.body);
  ASSERT_TRUE(v.is_object()) << found.body;
  const auto& providers = v.at("Providers").as_array();
  ASSERT_EQ(providers.size(), 1u) << found.body;
  EXPECT_EQ(Str(providers[0], "Schema"), "peer");
  EXPECT_EQ(Str(providers[0], "ID"), peer);
  EXPECT_TRUE(providers[0].at("Addrs").is_array());
  EXPECT_EQ(found.Header("Content-Type"), "application/json");
  EXPECT_EQ(Call("GET", "/routing/v1/providers/nonsense", "").status, 400);
  EXPECT_EQ(Call("GET", "/routing/v1/peers/" + peer, "").status, 501);
}

TEST_F(PinsE2e, UploadedAndGatewayContentIsPinnedAndUnfindableContentFailsAfterTheDeadline) {
  // Content added before serve (the block store is the service's own).
  WriteFile(dir_ / "file.txt", std::string(300000, 'c') + "uploaded");
  auto added = Cairn("add -Q '" + (dir_ / "file.txt") + "'");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  std::string uploaded = added.out.substr(0, added.out.find('\n'));
  // A multi-block DAG on a local gateway.
  FakeGateway gateway;
  auto dag = pinning::testing::MakeDag("gateway-dag", 3, 4);
  for (const auto& [cid, data] : dag.blocks) gateway.Put(cid, data);
  std::string token = Token("alice");
  Start({gateway.Url()}, "find_deadline_seconds = 3\n");

  std::string up_id = Str(AddCid(token, uploaded), "requestid");
  std::string dag_id = Str(AddCid(token, dag.root.ToString()), "requestid");
  mf::Cid missing = RawCid("nobody has this");
  auto posted_at = std::chrono::steady_clock::now();
  auto lost = AddCid(token, missing.ToString());
  std::string lost_id = Str(lost, "requestid");

  json::value up = WaitFor(token, up_id, "pinned");
  EXPECT_EQ(Str(up, "status"), "pinned") << up;
  json::value d = WaitFor(token, dag_id, "pinned");
  EXPECT_EQ(Str(d, "status"), "pinned") << d;
  EXPECT_EQ(Str(d.at("info"), "dag_size"), std::to_string(dag.bytes)) << d;

  json::value f = WaitFor(token, lost_id, "failed");
  EXPECT_EQ(Str(f, "status"), "failed") << f;
  // Not before the deadline (a lower bound: the failure cannot be observed earlier than it
  // happens).
  EXPECT_GE(std::chrono::steady_clock::now() - posted_at, 3s) << "failed before its deadline";
  std::string why = Str(f.at("info"), "status_details");
  EXPECT_NE(why.find("failed"), std::string::npos) << why;
  EXPECT_NE(why.find("404"), std::string::npos) << "the reason names the gateway's answer: " << why;
  EXPECT_GE(gateway.Requests(missing), 1);
  // Failed pins stay listed (status=failed) until deleted.
  EXPECT_EQ(Count(token, "status=failed"), 1);
  EXPECT_EQ(Count(token, ""), 2) << "no filter: pinned only";
}

TEST_F(PinsE2e, FiltersAndCountFollowTheSpec) {
  std::string token = Token("alice");
  Start();
  // Pinned: identity CIDs. Not pinned: CIDs no gateway has (no gateways: they stay in flight).
  struct Made {
    std::string id, cid, name, created;
  };
  std::vector<Made> made;
  auto add = [&](const std::string& cid, const std::string& name, const std::string& meta) {
    std::string body = R"({"cid":")" + cid + R"(","name":")" + name + R"(","meta":)" + meta + "}";
    json::value st = Add(token, body);
    made.push_back({Str(st, "requestid"), cid, name, Str(st, "created")});
  };
  add(IdentityCid("a"), "Report.pdf", R"({"app":"x","team":"red"})");
  add(IdentityCid("b"), "report.PDF", R"({"app":"x","team":"blue"})");
  add(IdentityCid("c"), "Photos 2020", R"({"app":"y"})");
  add(RawCid("pending-1").ToString(), "pending one", R"({"app":"x","team":"red"})");
  add(RawCid("pending-2").ToString(mf::Multibase::kBase36), "pending two", R"({})");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Str(WaitFor(token, made[i].id, "pinned"), "status"), "pinned");

  // No filter at all: only pinned pins, newest first, count of pinned.
  json::value all_pinned = List(token, "");
  EXPECT_EQ(all_pinned.at("count").to_number<int64_t>(), 3);
  ASSERT_EQ(all_pinned.at("results").as_array().size(), 3u);
  EXPECT_EQ(Str(all_pinned.at("results").as_array()[0], "requestid"), made[2].id);
  EXPECT_EQ(Str(all_pinned.at("results").as_array()[2], "requestid"), made[0].id);
  EXPECT_EQ(Count(token, "limit=1"), 3) << "limit is not a filter";
  // Every status, explicitly.
  json::value every = List(token, kAllStatuses);
  EXPECT_EQ(every.at("count").to_number<int64_t>(), 5);
  std::vector<std::string> created;
  for (const auto& p : every.at("results").as_array()) created.push_back(Str(p, "created"));
  ASSERT_EQ(created.size(), 5u);
  for (size_t i = 1; i < created.size(); ++i)
    EXPECT_GT(created[i - 1], created[i]) << "newest first, unique";
  EXPECT_EQ(Count(token, "status=queued,pinning"), 2);
  EXPECT_EQ(Count(token, "status=pinned"), 3);
  EXPECT_EQ(Count(token, "status=failed"), 0);

  // cid: one, several, and the same content in another CID form (v0 <-> v1, other base).
  EXPECT_EQ(Count(token, "cid=" + made[0].cid), 1);
  EXPECT_EQ(Count(token, "cid=" + made[0].cid + "," + made[3].cid), 2)
      << "status absent + filter: all";
  EXPECT_EQ(Count(token, "cid=" + made[3].cid + "&status=pinned"), 0);
  EXPECT_EQ(Count(token, "cid=" + RawCid("pending-2").ToString()), 1);
  json::value by_cid = List(token, "cid=" + RawCid("pending-2").ToString());
  ASSERT_EQ(by_cid.at("results").as_array().size(), 1u);
  EXPECT_EQ(Str(by_cid.at("results").as_array()[0].at("pin"), "cid"), made[4].cid)
      << "echoed as submitted, not as queried";
  std::string ten;
  for (int i = 0; i < 10; ++i) ten += (i ? "," : "") + IdentityCid("n" + std::to_string(i));
  EXPECT_EQ(Count(token, "cid=" + ten), 0);
  ExpectFailure(Call("GET", "/pins?cid=" + ten + "," + IdentityCid("eleven"), token), 400,
                "INVALID_ARGUMENT");
  ExpectFailure(Call("GET", "/pins?cid=bafynotacid", token), 400, "INVALID_ARGUMENT");
  ExpectFailure(Call("GET", "/pins?cid=", token), 400, "INVALID_ARGUMENT");

  // name with each match strategy; status absent means all statuses once a filter is given.
  EXPECT_EQ(Count(token, "name=Report.pdf"), 1);
  EXPECT_EQ(Count(token, "name=Report.pdf&match=exact"), 1);
  EXPECT_EQ(Count(token, "name=report.pdf&match=iexact"), 2);
  EXPECT_EQ(Count(token, "name=port&match=partial"), 2);
  EXPECT_EQ(Count(token, "name=PORT&match=partial"), 0);
  EXPECT_EQ(Count(token, "name=PORT&match=ipartial"), 2);
  EXPECT_EQ(Count(token, "name=pending&match=partial"), 2);
  EXPECT_EQ(Count(token, "name=pending&match=partial&status=pinned"), 0);
  EXPECT_EQ(Count(token, "name=" + UrlEncode("Photos 2020")), 1);
  ExpectFailure(Call("GET", "/pins?name=x&match=fuzzy", token), 400, "INVALID_ARGUMENT");
  ExpectFailure(Call("GET", "/pins?name=" + std::string(256, 'n'), token), 400, "INVALID_ARGUMENT");

  // meta: AND of exact key/value matches.
  EXPECT_EQ(Count(token, "meta=" + UrlEncode(R"({"app":"x"})")), 3);
  EXPECT_EQ(Count(token, "meta=" + UrlEncode(R"({"app":"x","team":"red"})")), 2);
  EXPECT_EQ(Count(token, "meta=" + UrlEncode(R"({"app":"x","team":"red"})") + "&status=pinned"), 1);
  EXPECT_EQ(Count(token, "meta=" + UrlEncode(R"({"app":"z"})")), 0);
  ExpectFailure(Call("GET", "/pins?meta=" + UrlEncode("{app"), token), 400, "INVALID_ARGUMENT");
  ExpectFailure(Call("GET", "/pins?meta=" + UrlEncode(R"({"app":1})"), token), 400,
                "INVALID_ARGUMENT");

  // before / after are strict and count honours them.
  EXPECT_EQ(Count(token, "before=" + UrlEncode(made[2].created)), 2)
      << "status absent + before: all";
  EXPECT_EQ(Count(token, "before=" + UrlEncode(made[2].created) + "&status=pinned"), 2);
  EXPECT_EQ(Count(token, "after=" + UrlEncode(made[2].created)), 2);
  EXPECT_EQ(
      Count(token, "after=" + UrlEncode(made[0].created) + "&before=" + UrlEncode(made[4].created)),
      3);
  EXPECT_EQ(Count(token, "before=" + UrlEncode(GoNano(made[1].created))), 1);
  EXPECT_EQ(Count(token, "before=2000-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Count(token, "after=2000-01-01T00:00:00%2B01:00"), 5);
  ExpectFailure(Call("GET", "/pins?before=yesterday", token), 400, "INVALID_ARGUMENT");
  ExpectFailure(Call("GET", "/pins?after=2020-13-01T00:00:00Z", token), 400, "INVALID_ARGUMENT");
  ExpectFailure(Call("GET", "/pins?status=done", token), 400, "INVALID_ARGUMENT");

  // limit: 1..1000, default 10.
  EXPECT_EQ(List(token, std::string(kAllStatuses) + "&limit=2").at("results").as_array().size(),
            2u);
  EXPECT_EQ(List(token, std::string(kAllStatuses) + "&limit=1000").at("results").as_array().size(),
            5u);
  for (std::string bad : {"0", "1001", "-1", "ten", "", "1.5"}) {
    ExpectFailure(Call("GET", "/pins?limit=" + bad, token), 400, "INVALID_ARGUMENT");
  }
}

TEST_F(PinsE2e, KubosPagerListsThousandsOfPinsExactlyOnceAndStatCountsMatch) {
  std::string token = Token("bulk");
  Start();
  constexpr int kPins = 2000;
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kPins);
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < kPins;) {
        std::string body = R"({"cid":")" + IdentityCid("bulk " + std::to_string(i)) +
                           R"(","name":"bulk )" + std::to_string(i) + "\"}";
        for (int attempt = 0; attempt < 100; ++attempt) {
          auto r = HttpRequest(serve_->port(), "POST", "/pins",
                               {"Authorization: Bearer " + token, "Content-Type: application/json"},
                               body);
          if (r.status == 429) {  // a well-behaved client waits as told
            std::this_thread::sleep_for(
                std::chrono::seconds(std::stoi(r.Header("Retry-After").value_or("1"))));
            continue;
          }
          EXPECT_EQ(r.status, 202) << r.body;
          ids[i] = Str(ParseJson(r.body), "requestid");
          break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> want(ids.begin(), ids.end());
  ASSERT_EQ(want.size(), static_cast<size_t>(kPins));

  // Kubo's pager: limit 10, then before = created of the last result, until count == page size.
  // Every page's count is what remains (Kubo stops on it), and no pin is seen twice.
  auto page_all = [&](int limit, bool go_format) {
    std::set<std::string> seen;
    std::string before;
    std::string last_created = "9999";
    int pages = 0;
    for (;;) {
      std::string q = std::string(kAllStatuses) + "&limit=" + std::to_string(limit);
      if (!before.empty()) q += "&before=" + UrlEncode(before);
      json::value page = List(token, q);
      if (!page.is_object()) break;
      ++pages;
      const auto& results = page.at("results").as_array();
      int64_t count = page.at("count").to_number<int64_t>();
      EXPECT_EQ(count, kPins - static_cast<int64_t>(seen.size())) << "count honours before";
      for (const auto& p : results) {
        std::string created = Str(p, "created");
        EXPECT_LT(created, last_created);
        last_created = created;
        EXPECT_TRUE(seen.insert(Str(p, "requestid")).second) << "seen twice";
      }
      if (count == static_cast<int64_t>(results.size())) break;
      if (results.empty()) {
        ADD_FAILURE() << "count " << count << " but no results";
        break;
      }
      before = Str(results.back(), "created");
      if (go_format) before = GoNano(before);
    }
    EXPECT_EQ(seen, want);
    return pages;
  };
  EXPECT_EQ(page_all(10, true), kPins / 10);
  EXPECT_EQ(page_all(1000, false), 2);
  EXPECT_EQ(page_all(7, true), (kPins + 6) / 7);

  // `ipfs pin remote service ls --stat`: four concurrent limit=1 calls, one per status. Pins
  // pinned before them are counted once; a pin still moving (queued -> pinning -> pinned, never
  // back) may be seen in up to three of the four reads, or in none.
  const int64_t pinned_before = Count(token, "status=pinned&limit=1");
  const int64_t moving = kPins - pinned_before;
  std::map<std::string, int64_t> stat;
  std::mutex stat_mu;
  std::vector<std::thread> stat_threads;
  for (std::string s : {"queued", "pinning", "pinned", "failed"}) {
    stat_threads.emplace_back([&, s] {
      auto r = HttpRequest(serve_->port(), "GET", "/pins?limit=1&status=" + s,
                           {"Authorization: Bearer " + token});
      EXPECT_EQ(r.status, 200) << r.body;
      json::value v = ParseJson(r.body);
      EXPECT_LE(v.at("results").as_array().size(), 1u);
      std::lock_guard lock(stat_mu);
      stat[s] = v.at("count").to_number<int64_t>();
    });
  }
  for (auto& t : stat_threads) t.join();
  // Statuses move while workers pin, so compare against the sum, and pinned against a re-read.
  int64_t total = 0;
  for (const auto& [s, n] : stat) total += n;
  EXPECT_GE(total, kPins - moving) << moving << " pins were not pinned yet";
  EXPECT_LE(total, kPins + 2 * moving) << moving << " pins were not pinned yet";
  EXPECT_EQ(stat["failed"], 0);
  // Once every pin is pinned, the four counts are exact.
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (Count(token, "status=pinned&limit=1") < kPins &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(Count(token, "limit=1&status=pinned"), kPins);
  EXPECT_EQ(Count(token, "limit=1&status=queued"), 0);
  EXPECT_EQ(Count(token, "limit=1&status=pinning"), 0);
  EXPECT_EQ(Count(token, ""), kPins);
  EXPECT_EQ(List(token, "").at("results").as_array().size(), 10u) << "default limit 10";
}

TEST_F(PinsE2e, KuboPollingIsNeverLimitedButARunawayClientGets429WithRetryAfter) {
  std::string token = Token("poller");
  Start();
  // Kubo's `pin remote add --background=false` polls GET /pins/{id} every 0.5 s; poll 8 pending
  // pins that way at once, beside `pin remote ls` paging.
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i)
    ids.push_back(Str(AddCid(token, RawCid("poll " + std::to_string(i)).ToString()), "requestid"));
  for (int round = 0; round < 6; ++round) {
    for (const auto& id : ids) {
      auto r = Call("GET", "/pins/" + id, token);
      EXPECT_EQ(r.status, 200) << r.body;
    }
    EXPECT_EQ(Count(token, std::string(kAllStatuses) + "&limit=10"), 8);
    std::this_thread::sleep_for(500ms);
  }

  // A runaway reader: as fast as it can, from 4 connections at once, until it is limited.
  std::atomic<bool> limited{false};
  std::atomic<int> sent{0};
  std::string retry_after, body429;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!limited && sent++ < 200000) {
        auto r = HttpRequest(serve_->port(), "GET", "/pins/" + ids[0],
                             {"Authorization: Bearer " + token});
        if (r.status == 429) {
          std::lock_guard lock(mu);
          if (!limited.exchange(true)) {
            retry_after = r.Header("Retry-After").value_or("");
            body429 = r.body;
          }
        } else {
          EXPECT_EQ(r.status, 200);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(limited) << "no 429 after " << sent << " requests";
  ASSERT_FALSE(retry_after.empty());
  int wait = std::stoi(retry_after);
  EXPECT_GE(wait, 1);
  HttpReply as_reply;
  as_reply.status = 429;
  as_reply.body = body429;
  as_reply.headers = "\r\nContent-Type: application/json\r\n";
  ExpectFailure(as_reply, 429, "RESOURCE_EXHAUSTED");
  // Writes have their own budget: reading too fast does not stop the account pinning.
  auto w = Call("POST", "/pins", token, R"({"cid":")" + IdentityCid("still writable") + "\"}");
  EXPECT_EQ(w.status, 202) << w.body;
  // Another account is not affected.
  std::string other = Token("other");
  EXPECT_EQ(Call("GET", "/pins", other).status, 200);
  // After Retry-After, the reader may read again.
  std::this_thread::sleep_for(std::chrono::seconds(wait));
  EXPECT_EQ(Call("GET", "/pins/" + ids[0], token).status, 200);
}

TEST_F(PinsE2e, ReplaceIsAtomic) {
  std::string alice = Token("alice");
  std::string bob = Token("bob");
  Start();
  json::value old =
      Add(alice, R"({"cid":")" + IdentityCid("old") + R"(","name":"old","meta":{"v":"1"}})");
  std::string old_id = Str(old, "requestid");
  json::value old_got = ParseJson(Call("GET", "/pins/" + old_id, alice).body);

  // Bad input, another account, a missing pin: 4xx and the pin is untouched.
  ExpectFailure(Call("POST", "/pins/" + old_id, alice, R"({"cid":"nope"})"), 400,
                "INVALID_ARGUMENT");
  ExpectFailure(Call("POST", "/pins/" + old_id, alice, "{"), 400, "INVALID_ARGUMENT");
  ExpectFailure(Call("POST", "/pins/" + old_id, bob, R"({"cid":")" + IdentityCid("b") + "\"}"), 404,
                "NOT_FOUND");
  auto still = Call("GET", "/pins/" + old_id, alice);
  ASSERT_EQ(still.status, 200);
  EXPECT_EQ(Str(ParseJson(still.body), "created"), Str(old_got, "created"));
  EXPECT_EQ(Str(ParseJson(still.body).at("pin"), "cid"), IdentityCid("old"));
  EXPECT_EQ(CountAll(bob), 0);

  // The replacement: a new requestid and created, the new pin, the old one gone.
  auto rep = Call("POST", "/pins/" + old_id, alice,
                  R"({"cid":")" + IdentityCid("new") + R"(","name":"new"})");
  ASSERT_EQ(rep.status, 202) << rep.body;
  json::value fresh = ParseJson(rep.body);
  ExpectPinStatus(fresh, IdentityCid("new"));
  std::string new_id = Str(fresh, "requestid");
  EXPECT_NE(new_id, old_id);
  EXPECT_GT(Str(fresh, "created"), Str(old_got, "created"));
  EXPECT_EQ(Str(fresh.at("pin"), "name"), "new");
  EXPECT_TRUE(fresh.at("pin").at("meta").as_object().empty())
      << "a replace is a new Pin, not a merge";
  ExpectFailure(Call("GET", "/pins/" + old_id, alice), 404, "NOT_FOUND");
  EXPECT_EQ(Str(WaitFor(alice, new_id, "pinned"), "status"), "pinned");
  EXPECT_EQ(CountAll(alice), 1);

  // Eight clients replace the same pin at once: exactly one wins, the others get 404, and
  // exactly one pin remains.
  std::atomic<int> won{0}, lost{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto r = HttpRequest(serve_->port(), "POST", "/pins/" + new_id,
                           {"Authorization: Bearer " + alice, "Content-Type: application/json"},
                           R"({"cid":")" + IdentityCid("race " + std::to_string(t)) + "\"}");
      (r.status == 202 ? won : r.status == 404 ? lost : other)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 7);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(CountAll(alice), 1);
}

TEST_F(PinsE2e, TenantsAreIsolated) {
  std::string alice = Token("alice");
  std::string bob = Token("bob");
  Start();
  std::string cid = IdentityCid("shared content");
  std::string a_id = Str(AddCid(alice, cid, "mine"), "requestid");
  EXPECT_EQ(Str(WaitFor(alice, a_id, "pinned"), "status"), "pinned");
  ExpectFailure(Call("GET", "/pins/" + a_id, bob), 404, "NOT_FOUND");
  ExpectFailure(Call("DELETE", "/pins/" + a_id, bob), 404, "NOT_FOUND");
  ExpectFailure(Call("POST", "/pins/" + a_id, bob, R"({"cid":")" + cid + "\"}"), 404, "NOT_FOUND");
  EXPECT_EQ(Count(bob, ""), 0);
  EXPECT_EQ(CountAll(bob), 0);
  EXPECT_EQ(Count(bob, "cid=" + cid), 0);
  EXPECT_EQ(Count(bob, "name=mine"), 0);
  // The same CID pinned by both: two pins, each sees one; deleting bob's leaves alice's pinned.
  std::string b_id = Str(AddCid(bob, cid), "requestid");
  EXPECT_EQ(Count(bob, "cid=" + cid), 1);
  EXPECT_EQ(Count(alice, "cid=" + cid), 1);
  EXPECT_EQ(Call("DELETE", "/pins/" + b_id, bob).status, 202);
  auto a = Call("GET", "/pins/" + a_id, alice);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(Str(ParseJson(a.body), "status"), "pinned");
}

TEST_F(PinsE2e, BadInputGetsTheRightStatusAndChangesNothing) {
  std::string token = Token("alice");
  Start({}, "", "[server]\nmax_body_bytes = 65536\n");
  std::string keep = Str(AddCid(token, IdentityCid("keep"), "keep"), "requestid");
  auto before = List(token, kAllStatuses);

  const std::vector<std::string> bad_bodies = {
      "",
      "{",
      "not json",
      "[]",
      "null",
      R"({"cid":"x"})",
      "{}",
      R"({"cid":null})",
      R"({"cid":42})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd"})",
      R"({"cid":"bafy"})",
      R"({"cid":" QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","name":7})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","name":")" +
          std::string(256, 'n') + "\"}",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","origins":"/ip4/1.2.3.4/tcp/1"})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","origins":["not a multiaddr"]})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","meta":{"k":1}})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","meta":["k"]})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","meta":{"":"v"}})",
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"} trailing)",
  };
  for (const auto& body : bad_bodies) {
    SCOPED_TRACE(body);
    ExpectFailure(Call("POST", "/pins", token, body), 400, "INVALID_ARGUMENT");
    ExpectFailure(Call("POST", "/pins/" + keep, token, body), 400, "INVALID_ARGUMENT");
  }
  std::string many_origins =
      R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","origins":[)";
  for (int i = 0; i < 21; ++i)
    many_origins += (i ? "," : "") + std::string("\"/ip4/10.0.0.") + std::to_string(i) + "/tcp/1\"";
  ExpectFailure(Call("POST", "/pins", token, many_origins + "]}"), 400, "INVALID_ARGUMENT");

  // Oversized bodies: 413 before anything is parsed.
  std::string huge = R"({"cid":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG","name":")" +
                     std::string(100000, 'x') + "\"}";
  auto big = Call("POST", "/pins", token, huge);
  EXPECT_EQ(big.status, 413) << big.body;

  // Path traversal and malformed request IDs: 404, nothing touched.
  for (std::string path : std::vector<std::string>{
           "/pins/../pins", "/pins/%2e%2e", "/pins/..%2F" + keep, "/pins/" + keep + "/..",
           "/pins/" + keep + "%2F..%2F..%2Fetc%2Fpasswd", "/pins//" + keep, "/pins/%00",
           "/pins/" + std::string(200, 'a')}) {
    SCOPED_TRACE(path);
    for (std::string method : {"GET", "DELETE"}) {
      auto r = Call(method, path, token);
      EXPECT_TRUE(r.status == 404 || r.status == 400) << method << " " << r.status << " " << r.body;
      if (r.status == 404) ExpectFailure(r, 404, "NOT_FOUND");
    }
    auto r = Call("POST", path, token, R"({"cid":")" + IdentityCid("t") + "\"}");
    EXPECT_TRUE(r.status == 404 || r.status == 400) << r.status << " " << r.body;
  }
  // Methods the spec does not define.
  auto put = Call("PUT", "/pins", token, "{}");
  EXPECT_EQ(put.status, 405);
  EXPECT_NE(put.Header("Allow").value_or("").find("POST"), std::string::npos);
  EXPECT_EQ(Call("PATCH", "/pins/" + keep, token, "{}").status, 405);
  EXPECT_EQ(Call("DELETE", "/pins", token).status, 405);

  // Nothing changed.
  auto after = List(token, kAllStatuses);
  EXPECT_EQ(after.at("count"), before.at("count"));
  EXPECT_EQ(Ids(after), Ids(before));
  auto kept = Call("GET", "/pins/" + keep, token);
  EXPECT_EQ(kept.status, 200);
  EXPECT_EQ(Str(ParseJson(kept.body).at("pin"), "cid"), IdentityCid("keep"));
}

TEST_F(PinsE2e, WrongRevokedExpiredAndUnderScopedTokensAreRefused) {
  std::string good = Token("alice");
  std::string reader = Token("alice", "--scope pins:read");
  std::string writer = Token("alice", "--scope pins:write");
  std::string uploader = Token("alice", "--scope upload");
  std::string doomed = Token("alice");
  std::string doomed_id = last_token_id_;
  std::string expiring = Token("alice", "--expires 2s");
  std::string carol = Token("carol");
  Start();
  std::string keep = Str(AddCid(good, IdentityCid("keep")), "requestid");
  std::string body = R"({"cid":")" + IdentityCid("intruder") + "\"}";

  auto unauth = [&](const std::vector<std::string>& headers) {
    for (auto [method, target] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/pins"},
                                                          {"POST", "/pins"},
                                                          {"GET", "/pins/" + keep},
                                                          {"POST", "/pins/" + keep},
                                                          {"DELETE", "/pins/" + keep}}) {
      SCOPED_TRACE(method + " " + target);
      auto r = HttpRequest(serve_->port(), method, target, headers, method == "POST" ? body : "");
      ExpectFailure(r, 401, "UNAUTHENTICATED");
      EXPECT_EQ(r.Header("WWW-Authenticate").value_or(""), "Bearer");
    }
  };
  unauth({});
  unauth({"Authorization: Basic YWxpY2U6c2VjcmV0"});
  unauth({"Authorization: Bearer"});
  unauth({"Authorization: Bearer not-a-token"});
  std::string wrong = good;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  unauth({"Authorization: Bearer " + wrong});

  // Scopes: pins:read may only read; pins:write only write; upload neither.
  EXPECT_EQ(Call("GET", "/pins/" + keep, reader).status, 200);
  ExpectFailure(Call("POST", "/pins", reader, body), 403, "PERMISSION_DENIED");
  ExpectFailure(Call("DELETE", "/pins/" + keep, reader), 403, "PERMISSION_DENIED");
  ExpectFailure(Call("POST", "/pins/" + keep, reader, body), 403, "PERMISSION_DENIED");
  ExpectFailure(Call("GET", "/pins", writer), 403, "PERMISSION_DENIED");
  ExpectFailure(Call("GET", "/pins", uploader), 403, "PERMISSION_DENIED");
  ExpectFailure(Call("POST", "/pins", uploader, body), 403, "PERMISSION_DENIED");

  // Revoked while the service runs.
  EXPECT_EQ(Call("GET", "/pins", doomed).status, 200);
  ASSERT_EQ(Cairn("token revoke " + doomed_id).exit_code, 0);
  // Another process revoked it: the server's remembered authentications see it within
  // AccountStore::kAuthCacheUs (1 s); wait for that, bounded.
  auto wait_401 = [&](const std::string& token) {
    auto until = std::chrono::steady_clock::now() + 30s;
    while (Call("GET", "/pins", token).status != 401 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
    }
  };
  wait_401(doomed);
  unauth({"Authorization: Bearer " + doomed});

  // Expired (2 s lifetime).
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Call("GET", "/pins", expiring).status != 401 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  unauth({"Authorization: Bearer " + expiring});

  // A disabled account.
  EXPECT_EQ(Call("GET", "/pins", carol).status, 200);
  ASSERT_EQ(Cairn("account disable carol").exit_code, 0);
  wait_401(carol);
  unauth({"Authorization: Bearer " + carol});

  // None of it changed alice's pins.
  std::string any;
  for (const auto& t : {good, reader, writer}) {
    if (Call("GET", "/pins/" + keep, t).status == 200) any = t;
  }
  ASSERT_FALSE(any.empty());
  EXPECT_EQ(CountAll(any), 1);
}

TEST_F(PinsE2e, PinsSurviveRestartsAndKillNineMidFetchResumes) {
  FakeGateway gateway;
  auto dag = pinning::testing::MakeDag("restart-dag", 2, 3);
  for (const auto& [cid, data] : dag.blocks) gateway.Put(cid, data);
  // Hold one leaf: the fetch stalls half way.
  mf::Cid held;
  for (const auto& [cid, data] : dag.blocks) {
    if (cid.codec() == mf::codec::kRaw) held = cid;
  }
  gateway.Hold(held);
  std::string token = Token("alice");
  Start({gateway.Url()});
  std::string done_id = Str(AddCid(token, IdentityCid("done before the crash")), "requestid");
  ASSERT_EQ(Str(WaitFor(token, done_id, "pinned"), "status"), "pinned");
  json::value mid = AddCid(token, dag.root.ToString(), "mid-fetch");
  std::string mid_id = Str(mid, "requestid");
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (gateway.Requests(held) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GE(gateway.Requests(held), 1);
  EXPECT_EQ(Str(ParseJson(Call("GET", "/pins/" + mid_id, token).body), "status"), "pinning");
  EXPECT_EQ(serve_->Stop(SIGKILL), 128 + SIGKILL);

  gateway.Release();
  Start({gateway.Url()});
  json::value resumed = WaitFor(token, mid_id, "pinned");
  EXPECT_EQ(Str(resumed, "status"), "pinned") << resumed;
  EXPECT_EQ(Str(resumed, "created"), Str(mid, "created"));
  EXPECT_EQ(Str(resumed.at("pin"), "name"), "mid-fetch");
  EXPECT_EQ(Str(resumed.at("info"), "dag_size"), std::to_string(dag.bytes));
  EXPECT_EQ(Str(ParseJson(Call("GET", "/pins/" + done_id, token).body), "status"), "pinned");

  // A clean restart keeps everything too, and the content is served by the gateway surface.
  EXPECT_EQ(serve_->Stop(SIGTERM), 0) << serve_->output();
  Start();
  EXPECT_EQ(Count(token, ""), 2);
  auto root = HttpRequest(serve_->port(), "GET", "/ipfs/" + dag.root.ToString() + "?format=raw");
  EXPECT_EQ(root.status, 200);
  auto leaf = HttpRequest(serve_->port(), "GET", "/ipfs/" + held.ToString() + "?format=raw");
  EXPECT_EQ(leaf.status, 200);
}

}  // namespace
}  // namespace cairn::testing
