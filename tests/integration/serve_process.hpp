// Starts `cairn serve` on 127.0.0.1:0 as a child process for end-to-end tests, learns its port
// from the first line it prints, and offers a minimal HTTP/1.1 client.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/run.hpp"

namespace cairn::testing {

struct HttpReply {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;
  std::optional<std::string> Header(const std::string& name) const {
    std::string lower_headers;
    for (char c : headers) lower_headers.push_back(static_cast<char>(std::tolower(c)));
    std::string key = "\r\n";
    for (char c : name) key.push_back(static_cast<char>(std::tolower(c)));
    key += ": ";
    size_t at = lower_headers.find(key);
    if (at == std::string::npos) return std::nullopt;
    size_t start = at + key.size();
    size_t end = headers.find("\r\n", start);
    return headers.substr(start, end - start);
  }
};

// One request on a fresh connection ("Connection: close"), reading until EOF. Decodes chunked
// bodies.
// A TCP connection to 127.0.0.1:`port`: the descriptor, or -1 when it cannot connect.
inline int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline HttpReply HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                             const std::vector<std::string>& extra_headers = {},
                             const std::string& body = "") {
  HttpReply reply;
  int fd = ConnectLoopback(port);
  if (fd < 0) return reply;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : extra_headers) req += h + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(0, head_end + 2);
  std::string rest = raw.substr(head_end + 4);
  auto te = reply.Header("Transfer-Encoding");
  if (te && te->find("chunked") != std::string::npos) {
    size_t pos = 0;
    for (;;) {
      size_t eol = rest.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::stoul(rest.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      reply.body += rest.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
  } else {
    reply.body = rest;
  }
  return reply;
}

// Tests talk to 127.0.0.1 only: a repo's config.toml that does not set `dht.bootstrap` gets an
// empty list, so `cairn serve` never resolves or dials the public bootstrap peers (a config that
// sets it, to test the DHT, is left alone).
inline void KeepDhtOnLoopback(const std::string& repo) {
  const std::string path = repo + "/config.toml";
  std::string toml = ReadFile(path);  // empty when there is none
  if (toml.find("bootstrap") != std::string::npos) return;
  const std::string table = "[dht]\n";
  if (const size_t at = toml.find(table); at != std::string::npos) {
    toml.insert(at + table.size(), "bootstrap = []\n");
  } else {
    if (!toml.empty() && toml.back() != '\n') toml += '\n';
    toml += "[dht]\nbootstrap = []\n";
  }
  WriteFile(path, toml);
}

// A loopback port for a server that a test restarts on the same port (its URL is in a config,
// say): free when chosen, and outside the kernel's ephemeral range, so that no outgoing
// connection on the machine (another test's client, a provider's pull) can take it as its local
// port, or hold it in TIME_WAIT, while the server is down between two starts. A port of 0 (every
// candidate taken) makes the server's start fail with a clear message.
inline uint16_t StablePort() {
  int lo = 32768, hi = 60999;  // Linux's defaults, when /proc cannot be read
  {
    std::istringstream range(ReadFile("/proc/sys/net/ipv4/ip_local_port_range"));
    int a = 0, b = 0;
    if (range >> a >> b && a > 0 && b >= a) lo = a, hi = b;
  }
  // The wider side of the ephemeral range, above the well-known and registered-by-habit ports.
  const int below_from = 10000, below_to = lo - 1, above_from = hi + 1, above_to = 65535;
  const bool below = below_to - below_from >= above_to - above_from;
  const int from = below ? below_from : above_from, to = below ? below_to : above_to;
  if (to <= from) return 0;
  uint64_t seed =
      static_cast<uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const auto port =
        static_cast<uint16_t>(from + static_cast<int>((seed >> 33) % (to - from + 1)));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

class ServeProcess {
 public:
  // Starts `cairn --repo <repo> serve --listen <listen> <extra>`; port() is 0 when it failed.
  // `max_open_files` > 0 sets the child's RLIMIT_NOFILE (soft and hard), like `ulimit -n`.
  explicit ServeProcess(const std::string& repo, const std::vector<std::string>& extra = {},
                        rlim_t max_open_files = 0, const std::string& listen = "127.0.0.1:0") {
    KeepDhtOnLoopback(repo);
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      if (max_open_files > 0) {
        struct rlimit rl {
          max_open_files, max_open_files
        };
        ::setrlimit(RLIMIT_NOFILE, &rl);
      }
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      std::string bin = CairnBinary();
      std::vector<std::string> args = {bin,
                                       "--repo",
                                       repo,
                                       "serve",
                                       "--listen",
                                       listen,
                                       "--libp2p-listen",
                                       "/ip4/127.0.0.1/tcp/0",
                                       "--libp2p-allow-private"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_fd_ = out[0];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[1024];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
      size_t at = output_.find("http://127.0.0.1:");
      if (at != std::string::npos) {
        size_t slash = output_.find('/', at + 17);
        if (slash != std::string::npos) {
          port_ = static_cast<uint16_t>(std::stoi(output_.substr(at + 17, slash - at - 17)));
          break;
        }
      }
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && exit_code_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit status (128+signal when killed by a signal).
  int Stop(int sig = SIGTERM) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out_fd_, buf, sizeof buf)) > 0) output_.append(buf, static_cast<size_t>(n));
    return exit_code_;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  uint16_t port_ = 0;
  int exit_code_ = -1;
  std::string output_;
};

}  // namespace cairn::testing
