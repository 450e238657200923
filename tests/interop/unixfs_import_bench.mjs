// Hash-only import of one file with ipfs-unixfs-importer, Kubo's default parameters (CIDv0,
// dag-pb leaves, 256 KiB chunks, 174 links), blocks discarded: the JS peer for
// scripts/bench-import.sh. Prints "<cid> <bytes> <seconds>".
import { createReadStream, statSync } from 'node:fs'
import { importer } from 'ipfs-unixfs-importer'

const [path, profile = 'unixfs-v0-2015'] = process.argv.slice(2)
const sink = { put: async (cid) => cid, get: async () => { throw new Error('no get') }, has: async () => false }
const start = process.hrtime.bigint()
let last
for await (const e of importer([{ content: createReadStream(path, { highWaterMark: 1 << 20 }) }], sink, { profile })) last = e
const secs = Number(process.hrtime.bigint() - start) / 1e9
console.log(`${last.cid} ${statSync(path).size} ${secs.toFixed(3)}`)
