// The workload of src/filecoin/aggregation/aggregation_bench.cpp in @web3-storage/data-segment:
// N random pieces (128 B .. 16 KiB) placed largest first in a 32 GiB aggregate, then proofs for
// the first min(N, 2000) pieces (resolveProof searches the index linearly).
// Usage: node aggregation_bench.mjs [N]
import crypto from 'node:crypto'
import { Aggregate, Piece } from '@web3-storage/data-segment'

const n = Number(process.argv[2] ?? 100000)
const pieces = []
for (let i = 0; i < n; i++) {
  const root = new Uint8Array(crypto.randomBytes(32))
  root[31] &= 0x3f
  pieces.push({ root, height: 2 + Math.floor(Math.random() * 8), padding: 0n })
}
pieces.sort((a, b) => b.height - a.height)
const t0 = performance.now()
const aggregate = Aggregate.build({ pieces, size: 32n << 30n })
const t1 = performance.now()
const m = Math.min(n, 2000)
for (let i = 0; i < m; i++) aggregate.resolveProof(Piece.toLink(pieces[i]))
const t2 = performance.now()
const build = (t1 - t0) / 1000
const prove = (t2 - t1) / 1000
console.log(`pieces=${n} build=${build.toFixed(3)}s proofs(first ${m})=${prove.toFixed(3)}s ` +
  `(${((prove * 1e6) / m).toFixed(2)} us/proof)`)
