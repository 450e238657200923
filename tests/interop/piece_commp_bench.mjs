// CommP throughput of @web3-storage/data-segment 5.3.0 (the JS peer), for scripts/bench-commp.sh.
// Usage: node piece_commp_bench.mjs [BYTES]   prints {"what":"js_commp","bytes","seconds","MBps","v1"}
import { Piece } from '@web3-storage/data-segment'

const size = Number(process.argv[2] ?? 16 * 1024 * 1024)
const bytes = new Uint8Array(size)
let x = 0x12345678
for (let i = 0; i < size; i++) {
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5
  bytes[i] = x & 0xff
}
const t0 = process.hrtime.bigint()
const c0 = process.cpuUsage()
const piece = Piece.fromPayload(bytes)
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(c0)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
console.log(JSON.stringify({
  what: 'js_commp', bytes: size, seconds, MBps: size / seconds / 1e6,
  cpu_seconds: cpuSeconds, MB_per_cpu_s: size / cpuSeconds / 1e6,
  v1: piece.toInfo().link.toString(),
}))
