#!/usr/bin/env python3
"""Cold range reads against the provider's raw /piece rate (issue 11 §8).

The real `cairn serve` and the real devnet (devnet/, two providers) on loopback. A file of
--mib MiB is pinned, becomes two active deals and is evicted from the hot tier (`hot.max_bytes`
of 1 byte). Then, in rounds, side by side with the same client (curl):

  A  GET /ipfs/<root> through Cairn's gateway, with the file cold (every block read from a
     provider's /piece by Range, verified, re-warmed and served);
  B  GET /piece/<aggregate> with one Range over the same number of bytes of the pin's segment,
     straight from the provider that answered A (the provider's raw rate: no verification, no
     DAG, one request).

Between rounds the hot tier evicts the re-warmed pin again (it is read back whole, hence
`cached`, hence evictable), and A waits for `info.hot = cold-only`. Printed: each round's time to
first byte and throughput of A and B, and the medians of the ratios A/B (throughput: goal ≥ 0.7).

Usage: bench/cold_read_bench.py [--build DIR] [--mib N] [--rounds N] [--keep]
"""
import argparse
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """CPU seconds the threads of a process have run so far, to the nanosecond: the sum of
    /proc/<pid>/task/*/schedstat (run time in ns). /proc/<pid>/stat's utime + stime count in
    clock ticks (10 ms), too coarse for a 20 ms read; threads that have exited are not counted
    here, which cpu_ticks_seconds() (which counts them) lets the caller check."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread exited between the listing and the read
    return total / 1e9


def cpu_ticks_seconds(pid):
    """User + system CPU seconds of a process, exited threads included, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def minor_faults(pid):
    """Minor page faults of a process so far (/proc/<pid>/stat minflt, exited threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def children_cpu_seconds():
    """User + system CPU seconds of the waited-for children (curl, after subprocess.run)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def rpc(url, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        reply = json.load(r)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def http_json(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def curl(url, headers, out_bytes):
    """(time to first byte, total seconds, bytes) of one GET with curl."""
    args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_starttransfer} "
            "%{time_total} %{size_download}"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], check=True, capture_output=True, text=True).stdout.split()
    code, ttfb, total, size = int(out[0]), float(out[1]), float(out[2]), int(out[3])
    if code not in (200, 206) or size != out_bytes:
        raise RuntimeError(f"GET {url}: status {code}, {size} bytes (wanted {out_bytes})")
    return ttfb, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--mib", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (serve.log)")
    args = ap.parse_args()
    cairn = os.path.join(args.build, "cairn")
    work = tempfile.mkdtemp(prefix="cold-bench-")
    repo = os.path.join(work, "repo")
    procs = []
    try:
        devnet = subprocess.Popen(
            ["node", os.path.join(ROOT, "devnet/src/main.js"), "--epoch-ms", "0", "--providers",
             "2", "--publish-period", "2", "--seal-delay", "5", "--finality", "10", "--seed",
             "cold-bench"], stdout=subprocess.PIPE, text=True)
        procs.append(devnet)
        chain = json.loads(devnet.stdout.readline())["rpc"]

        def run(*a):
            return subprocess.run([cairn, "--repo", repo, *a], check=True, capture_output=True,
                                  text=True).stdout

        wallet = run("wallet", "new").splitlines()[0]
        rpc(chain, "Devnet.Fund", [wallet, "100000000000000000000"])
        run("account", "create", "alice")
        token = run("token", "create", "--account", "alice").splitlines()[0]
        port = free_port()
        # The segment of an N MiB file is padded to the next power of two above N·128/127.
        piece = 1 << (args.mib * 1024 * 1024 * 128 // 127).bit_length()
        with open(os.path.join(repo, "config.toml"), "w") as f:
            f.write(f"""[pinning]
gateways = []
[filecoin]
rpc = "{chain}"
network = "testnet"
providers = ["f01000", "f01001"]
replicas = 2
piece_size = {piece}
batch_wait_seconds = 1
public_url = "http://127.0.0.1:{port}"
start_delay_epochs = 200
poll_seconds = 1
retrieval_deadline_ms = 30000
probe_interval_seconds = 0
[hot]
max_bytes = 1
check_interval_seconds = 1
""")
        data = random.Random(7).randbytes(args.mib << 20)
        path = os.path.join(work, "file.bin")
        with open(path, "wb") as f:
            f.write(data)
        root = run("add", "-Q", path).splitlines()[0]
        serve = subprocess.Popen([cairn, "--repo", repo, "serve", "--listen",
                                  f"127.0.0.1:{port}", "--libp2p-listen",
                                  "/ip4/127.0.0.1/tcp/0", "--libp2p-allow-private"], stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(work, "serve.log"), "w"))
        procs.append(serve)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/metrics", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(base + "/pins", json.dumps({"cid": root}).encode(),
                                     {"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            pin = json.load(r)["requestid"]

        def evictions():
            n, after = 0, None
            while True:
                page = http_json(f"{base}/pins/{pin}/events" + (f"?after={after}" if after else ""),
                                 token)
                n += sum(1 for e in page["results"] if e["type"] == "evicted")
                after = page.get("next")
                if not after:
                    return n

        def wait_cold(advance, evicted_before=None):
            # After a read the pin is re-warmed, then evicted again: a new `evicted` event.
            deadline = time.time() + 300
            while time.time() < deadline:
                info = http_json(f"{base}/pins/{pin}", token)["info"]
                if evicted_before is not None and evictions() <= evicted_before:
                    time.sleep(0.2)
                    continue
                if info.get("hot") == "cold-only":
                    if evicted_before is None:
                        return
                    # A pass may evict part-way through a read: what the read re-warmed after it
                    # is then evicted by a later pass. Cold means no new eviction for two passes.
                    settled = evictions()
                    time.sleep(2.5)
                    info = http_json(f"{base}/pins/{pin}", token)["info"]
                    if evictions() == settled and info.get("hot") == "cold-only":
                        return
                    continue
                if advance:
                    rpc(chain, "Devnet.Advance", [1])
                time.sleep(0.2)
            raise RuntimeError(f"the pin never became cold-only: {info}")

        wait_cold(advance=True)
        receipt = http_json(f"{base}/pins/{pin}/receipt", token)
        piece_cid = receipt["aggregate"]["pieceCid"]
        start = receipt["segment"]["offset"] // 128 * 127
        providers = rpc(chain, "Devnet.Info", [])["Providers"]
        # A provider's first read of a piece is slow (the devnet builds the bytes): done here,
        # outside the rounds, at every provider.
        for p in providers:
            curl(f"{p['http']}/piece/{piece_cid}",
                 [f"Range: bytes={start}-{start + len(data) - 1}"], len(data))
        # Cairn's CPU over 0.5 s idle (hot-cache checks, deal polling), subtracted from the
        # CPU it uses in the 0.5 s after each read.
        idle = cpu_seconds(serve.pid)
        time.sleep(2)
        idle_cairn = (cpu_seconds(serve.pid) - idle) / 4
        rows = []
        for i in range(args.rounds):
            if i:
                wait_cold(advance=False, evicted_before=evicted)
            evicted = evictions()
            before = {p["id"]: rpc(chain, "Devnet.Stats", [p["id"]])["BytesServed"]
                      for p in providers}
            procs_cpu = (cpu_seconds(serve.pid), cpu_seconds(devnet.pid),
                         cpu_ticks_seconds(serve.pid), children_cpu_seconds())
            faults = minor_faults(serve.pid)
            t0 = time.monotonic()
            a = curl(f"{base}/ipfs/{root}", [f"Authorization: Bearer {token}"], len(data))
            if os.environ.get("COLD_BENCH_TIMES"):  # CLOCK_MONOTONIC, for perf record -k
                print(f"cold read {i + 1}: monotonic {t0:.6f},{time.monotonic():.6f}", flush=True)
            cpu_a = {"cairn": cpu_seconds(serve.pid) - procs_cpu[0],
                     "devnet": cpu_seconds(devnet.pid) - procs_cpu[1],
                     "curl": children_cpu_seconds() - procs_cpu[3]}
            ticks = cpu_ticks_seconds(serve.pid) - procs_cpu[2]
            faults = minor_faults(serve.pid) - faults
            # Work Cairn does for the read after its last byte (a write-back still draining):
            # its CPU over the next 0.5 s, less what it uses idle (measured before the rounds).
            time.sleep(0.5)
            cpu_a["cairn after"] = max(
                0.0, cpu_seconds(serve.pid) - procs_cpu[0] - cpu_a["cairn"] - idle_cairn)
            if ticks > cpu_a["cairn"] + 0.03:
                print(f"round {i + 1}: warning: cairn's clock ticks say {ticks * 1e3:.0f} ms: "
                      "threads that exited ran during the read", flush=True)
            served = {p["id"]: rpc(chain, "Devnet.Stats", [p["id"]])["BytesServed"] - before[p["id"]]
                      for p in providers}
            if sum(served.values()) < len(data):
                raise RuntimeError(f"round {i + 1}: the providers served {served}: the pin was "
                                   "not cold")
            who = max(served, key=served.get)
            url = next(p for p in providers if p["id"] == who)["http"]
            procs_cpu = (cpu_seconds(devnet.pid), children_cpu_seconds())
            b = curl(f"{url}/piece/{piece_cid}",
                     [f"Range: bytes={start}-{start + len(data) - 1}"], len(data))
            cpu_b = {"devnet": cpu_seconds(devnet.pid) - procs_cpu[0],
                     "curl": children_cpu_seconds() - procs_cpu[1]}
            rows.append((a, b, served, cpu_a, cpu_b))
            mb = len(data) / 1e6
            print(f"round {i + 1}: cold gateway ttfb {a[0] * 1e3:.1f} ms, {mb / a[1]:.0f} MB/s "
                  f"(providers served {sum(served.values())} bytes); raw /piece at {who} ttfb "
                  f"{b[0] * 1e3:.1f} ms, {mb / b[1]:.0f} MB/s; CPU ms, cold read: "
                  + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in cpu_a.items())
                  + "; raw: " + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in cpu_b.items())
                  + f"; cairn page faults {faults}", flush=True)
        thr = statistics.median(b[1] / a[1] for a, b, *_ in rows)
        ttfb = statistics.median(a[0] / b[0] for a, b, *_ in rows)
        print(f"file {args.mib} MiB, {args.rounds} rounds")
        print(f"throughput cold gateway / raw /piece, median: {thr:.2f} (goal >= 0.7)")
        print(f"time to first byte cold gateway / raw /piece, median: {ttfb:.1f}x")
        print("CPU ms per read, median: cold read: " + ", ".join(
            f"{k} {statistics.median(r[3][k] for r in rows) * 1e3:.1f}" for k in rows[0][3])
            + "; raw: " + ", ".join(
            f"{k} {statistics.median(r[4][k] for r in rows) * 1e3:.1f}" for k in rows[0][4]))
    except Exception:
        print(f"failed; the work directory is kept: {work} (serve.log)", file=sys.stderr)
        work = None
        raise
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait()
        if work and args.keep:
            print(f"the work directory is kept: {work}", file=sys.stderr)
        elif work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
