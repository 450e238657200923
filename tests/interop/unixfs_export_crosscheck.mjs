// Interop driver for Cairn's UnixFS exporter (src/unixfs/exporter.hpp).
//
// Usage: node unixfs_export_crosscheck.mjs OUT_DIR SEED
//
// Builds random files (several layouts, chunk sizes, leaf kinds, CID versions), a nested
// directory and HAMT-sharded directories (fanout 256 and 16) with ipfs-unixfs-importer into a
// MemoryBlockstore, writes every block as OUT_DIR/blocks/<cid>.bin, and writes what
// ipfs-unixfs-exporter reads back to OUT_DIR/expected.txt, one fact per line:
//   file <path> <size> <sha256 hex>            whole-file content
//   range <path> <offset> <length> <sha256 hex> bytes [offset, offset+length) clamped to the end
//   dir <path> <count>                         followed by <count> lines:
//   entry <name> <cid> <file|directory> <size>  (size: file length, 0 for directories)
//   resolve <path> <cid>                       the node a path names
//   missing <path>                             a path that must not resolve
// Paths are "<root cid>/a/b". Names contain no whitespace.
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { exporter } from 'ipfs-unixfs-exporter'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { xorshift32 } from './driver_support.mjs'

const [outDir, seedArg] = process.argv.slice(2)
if (!outDir) {
  console.error('usage: unixfs_export_crosscheck.mjs OUT_DIR SEED')
  process.exit(2)
}
const { rand } = xorshift32(Number(seedArg ?? 1) >>> 0)
const randBytes = (n) => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = rand() & 0xff
  return out
}
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex')

const store = new MemoryBlockstore()
const lines = []

async function collect (iterable) {
  const parts = []
  let n = 0
  for await (const p of iterable) { parts.push(p); n += p.length }
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

async function importOne (content, options) {
  let last
  for await (const entry of importer([{ content }], store, options)) last = entry
  return last.cid
}

async function describeFile (path, size) {
  const entry = await exporter(path, store)
  const bytes = await collect(entry.content())
  if (bytes.length !== size) throw new Error(`JS exporter read ${bytes.length} of ${size} at ${path}`)
  lines.push(`file ${path} ${size} ${sha(bytes)}`)
  const offsets = new Set([0, 1, size - 1, size, Math.floor(size / 2)])
  for (const b of [256 * 1024, 1024, 4096]) {
    for (let k = b; k < size && k < 3 * b + 1; k += b) { offsets.add(k - 1); offsets.add(k); offsets.add(k + 1) }
  }
  for (let i = 0; i < 6; i++) offsets.add(rand() % (size + 1))
  for (const off of offsets) {
    if (off < 0 || off > size) continue
    for (const len of [1, 2, 1000, 262145, rand() % (size + 2)]) {
      const got = await collect(entry.content({ offset: off, length: len }))
      const want = Math.max(0, Math.min(len, size - off))
      if (got.length !== want) throw new Error(`JS range ${off}+${len} gave ${got.length}`)
      lines.push(`range ${path} ${off} ${len} ${sha(got)}`)
    }
  }
}

async function describeDir (path) {
  const dir = await exporter(path, store)
  const entries = []
  for await (const child of dir.entries()) entries.push(child)
  lines.push(`dir ${path} ${entries.length}`)
  for (const child of entries) {
    const resolved = await exporter(child.cid, store)
    const isDir = resolved.type === 'directory'
    const size = isDir ? 0n : (resolved.type === 'file' ? resolved.unixfs.fileSize() : BigInt(resolved.size))
    lines.push(`entry ${child.name} ${child.cid} ${isDir ? 'directory' : 'file'} ${size}`)
  }
  return entries
}

// 1. Files in the layouts and leaf kinds Kubo and JS produce.
const fileConfigs = [
  { size: 0, opts: { cidVersion: 0, rawLeaves: false } },
  { size: 1, opts: { cidVersion: 1, rawLeaves: true } },
  { size: 1000, opts: { cidVersion: 0, rawLeaves: false, reduceSingleLeafToSelf: true } },
  { size: 262144, opts: { cidVersion: 1, rawLeaves: true } },
  { size: 262145, opts: { cidVersion: 0, rawLeaves: false } },
  { size: 1300000, opts: { cidVersion: 1, rawLeaves: true } },
  { size: 1300000, opts: { cidVersion: 0, rawLeaves: false, leafType: 'raw', reduceSingleLeafToSelf: false, layout: trickle() } },
  { size: 200000, opts: { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 1024 }), layout: balanced({ maxChildrenPerNode: 5 }) } },
  { size: 150000, opts: { cidVersion: 1, rawLeaves: false, chunker: fixedSize({ chunkSize: 1000 }), layout: trickle({ layerRepeat: 2, maxChildrenPerNode: 4 }) } },
  { size: 6 * 1024 * 1024 + 7, opts: { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 65536 }), layout: balanced({ maxChildrenPerNode: 11 }) } }
]
for (const { size, opts } of fileConfigs) {
  const cid = await importOne(randBytes(size), opts)
  await describeFile(cid.toString(), size)
  lines.push(`missing ${cid}/child`)
}

// 2. A nested plain directory.
const treeFiles = [
  ['readme.md', 120], ['src/main.c', 5000], ['src/lib/util.c', 70000], ['src/lib/empty', 0],
  ['docs/guide/intro.txt', 300000], ['docs/ünïcødé-name.txt', 33], ['z/deep/er/still/leaf.bin', 9]
]
let treeRoot
for await (const e of importer(treeFiles.map(([path, size]) => ({ path, content: randBytes(size) })), store, { wrapWithDirectory: true, cidVersion: 1, rawLeaves: true })) treeRoot = e.cid
await describeDir(`${treeRoot}`)
await describeDir(`${treeRoot}/src`)
await describeDir(`${treeRoot}/src/lib`)
for (const [path, size] of treeFiles) {
  const entry = await exporter(`${treeRoot}/${path}`, store)
  lines.push(`resolve ${treeRoot}/${path} ${entry.cid}`)
  await describeFile(`${treeRoot}/${path}`, size)
}
lines.push(`resolve ${treeRoot}/z/deep ${(await exporter(`${treeRoot}/z/deep`, store)).cid}`)
lines.push(`missing ${treeRoot}/nope`)
lines.push(`missing ${treeRoot}/src/nope/x`)
lines.push(`missing ${treeRoot}/readme.md/x`)

// 3. HAMT-sharded directories: fanout 256 (Kubo's) and 16, with enough names for sub-shards.
for (const [bits, count] of [[8, 700], [4, 150]]) {
  const names = []
  for (let i = 0; i < count; i++) names.push(`f-${i}-${rand().toString(36)}.bin`)
  let root
  const source = names.map((name) => ({ path: `sharded/${name}`, content: randBytes(rand() % 3000) }))
  source.push({ path: 'sharded/sub/inner.txt', content: randBytes(77) })
  for await (const e of importer(source, store, { cidVersion: 1, rawLeaves: true, shardSplitThresholdBytes: 1, shardFanoutBits: bits, wrapWithDirectory: true })) root = e.cid
  const shardedPath = `${root}/sharded`
  await describeDir(shardedPath)
  for (let i = 0; i < names.length; i += Math.max(1, Math.floor(count / 40))) {
    const entry = await exporter(`${shardedPath}/${names[i]}`, store)
    lines.push(`resolve ${shardedPath}/${names[i]} ${entry.cid}`)
  }
  lines.push(`resolve ${shardedPath}/sub/inner.txt ${(await exporter(`${shardedPath}/sub/inner.txt`, store)).cid}`)
  await describeFile(`${shardedPath}/sub/inner.txt`, 77)
  lines.push(`missing ${shardedPath}/not-there.bin`)
}

// Blocks, one file each.
const blockDir = join(outDir, 'blocks')
mkdirSync(blockDir, { recursive: true })
let blocks = 0
for await (const { cid, bytes } of store.getAll()) {
  // blockstore-core 7 may hand block bytes over as a stream of chunks.
  const data = bytes instanceof Uint8Array ? bytes : await collect(bytes)
  writeFileSync(join(blockDir, `${cid}.bin`), data)
  blocks++
}
writeFileSync(join(outDir, 'expected.txt'), lines.join('\n') + '\n')
console.log(`wrote ${blocks} blocks and ${lines.length} facts`)
