// Interop driver for Cairn's UnixFS importer (src/unixfs/importer.hpp, `cairn add`).
//
// Usage: node unixfs_import_crosscheck.mjs --cairn PATH/TO/cairn [--seed N] [--big]
//
// Generates random files whose sizes sit on chunk-size and links-per-node boundaries (0, 1,
// k*chunk, k*chunk±1, links*chunk±1, links²*chunk±1, ...) plus random sizes, and directories
// (nested, one just at and one just over the HAMT threshold, one large enough to shard deeply),
// then compares the root CID of `cairn add -Q -n <flags>` with ipfs-unixfs-importer configured
// with Kubo's semantics (../shared/vectors/README.md): CIDv1 implies raw leaves unless
// --raw-leaves=false; balanced = reduceSingleLeafToSelf with 'file' leaves; trickle = 'raw'
// UnixFS leaves, no single-leaf reduction, layer repeat 4; links-bytes HAMT threshold 256 KiB.
// Each file gets a seeded random subset of cid-version × raw-leaves × trickle × chunker ×
// max-file-links. One file is ≥ 100 MiB. Prints the seed; rerun with --seed to reproduce.
import { spawnSync } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { argValue, seedFromArgs, xorshift32 } from './driver_support.mjs'

const cairn = argValue('--cairn') ?? process.env.CAIRN_BINARY
if (!cairn) {
  console.error('usage: unixfs_import_crosscheck.mjs --cairn PATH [--seed N]')
  process.exit(2)
}
const seed = seedFromArgs()
console.log(`unixfs_import_crosscheck seed=${seed} (rerun with --seed ${seed})`)
const { rand, pick } = xorshift32(seed)

// Counts blocks instead of storing them: only root CIDs are compared.
const nullStore = { put: async (cid) => cid, get: async () => { throw new Error('no get') }, has: async () => false }

const work = mkdtempSync(join(tmpdir(), 'cairn-import-xcheck-'))
let failures = 0
let checks = 0

// Seeded pseudo-random file contents (ChaCha20 keystream of a per-file key), written in pieces.
function writeRandomFile (path, size, fileSeed) {
  const key = createHash('sha256').update(`xcheck-${seed}-${fileSeed}`).digest()
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16))
  const fd = openSync(path, 'w')
  const piece = Buffer.alloc(4 << 20)
  let left = size
  while (left > 0) {
    const n = Math.min(left, piece.length)
    writeSync(fd, cipher.update(piece.subarray(0, n)))
    left -= n
  }
  closeSync(fd)
}

// Kubo's flag semantics → importer options.
function jsOptions (c) {
  const cidVersion = c.cidVersion ?? 0
  const rawLeaves = c.rawLeaves ?? (cidVersion === 1)
  const maxChildrenPerNode = c.maxLinks ?? 174
  const chunkSize = c.chunk ?? 262144
  return {
    cidVersion,
    rawLeaves,
    chunker: fixedSize({ chunkSize }),
    layout: c.trickle ? trickle({ maxChildrenPerNode, layerRepeat: 4 }) : balanced({ maxChildrenPerNode }),
    leafType: c.trickle ? 'raw' : 'file',
    reduceSingleLeafToSelf: !c.trickle,
    shardSplitThresholdBytes: 262144,
    shardSplitStrategy: 'links-bytes',
    shardFanoutBits: 8,
    fieldOrder: 'links-first'
  }
}

function cairnFlags (c) {
  const f = []
  if (c.cidVersion !== undefined) f.push(`--cid-version=${c.cidVersion}`)
  if (c.rawLeaves !== undefined) f.push(`--raw-leaves=${c.rawLeaves}`)
  if (c.chunk !== undefined) f.push(`--chunker=size-${c.chunk}`)
  if (c.trickle) f.push('--trickle')
  if (c.maxLinks !== undefined) f.push(`--max-file-links=${c.maxLinks}`)
  return f
}

function cairnAdd (flags, path) {
  const r = spawnSync(cairn, ['add', '-Q', '-n', ...flags, path], { encoding: 'utf8', maxBuffer: 1 << 24 })
  if (r.status !== 0) return `ERROR(${r.status}): ${r.stderr.trim()}`
  return r.stdout.trim()
}

async function jsAddFile (path, c) {
  let last
  for await (const e of importer([{ content: createReadStream(path, { highWaterMark: 1 << 20 }) }], nullStore, jsOptions(c))) last = e
  return last.cid.toString()
}

async function jsAddTree (entries, c) {
  let last
  for await (const e of importer(entries, nullStore, jsOptions(c))) last = e
  return last.cid.toString()
}

function report (what, flags, ours, theirs) {
  checks++
  if (ours !== theirs) {
    failures++
    console.log(`MISMATCH ${what} [${flags.join(' ')}]: cairn=${ours} js=${theirs}`)
  }
}

function randomCombo () {
  const c = {}
  const v = rand() % 3
  if (v < 2) c.cidVersion = v
  const r = rand() % 3
  if (r < 2) c.rawLeaves = r === 1
  c.trickle = rand() % 3 === 0
  const chunk = pick([undefined, 1024, 1000, 4096, 65536, 262144, 1048576])
  if (chunk !== undefined) c.chunk = chunk
  const links = pick([undefined, undefined, 2, 3, 7, 11, 174, 1024])
  if (links !== undefined) c.maxLinks = links
  return c
}

// Sizes on the boundaries of a combination's tree shape.
function boundarySizes (c, cap) {
  const C = c.chunk ?? 262144
  const L = c.maxLinks ?? 174
  const out = [0, 1, C - 1, C, C + 1, 2 * C, 2 * C + 1, L * C - 1, L * C, L * C + 1, (L + 1) * C,
    L * L * C, L * L * C + 1, 4 * C * 3 + 1, (L + 4) * C + 7]
  return out.filter((n) => n >= 0 && n <= cap)
}

async function checkFile (path, size, combos, label) {
  for (const c of combos) {
    const flags = cairnFlags(c)
    const ours = cairnAdd(flags, path)
    const theirs = await jsAddFile(path, c)
    report(`${label} size=${size}`, flags, ours, theirs)
  }
}

// --- files -----------------------------------------------------------------------------------
const smallCap = 8 << 20
let fileNo = 0
for (let i = 0; i < 40; i++) {
  const c = randomCombo()
  const sizes = boundarySizes(c, smallCap)
  const size = rand() % 4 === 0 ? rand() % smallCap : pick(sizes)
  const path = join(work, `f${fileNo++}`)
  writeRandomFile(path, size, fileNo)
  // The chosen combination plus two more random ones on the same bytes.
  await checkFile(path, size, [c, randomCombo(), randomCombo()], `file#${fileNo}`)
  rmSync(path)
}

// Kubo's default boundaries at 256 KiB × 174 and one file ≥ 100 MiB.
for (const size of [174 * 262144 - 1, 174 * 262144 + 1, 100 * 1048576 + 1 + (rand() % 1048576)]) {
  const path = join(work, `big${fileNo++}`)
  writeRandomFile(path, size, fileNo)
  const combos = [{}, { cidVersion: 1 }, { trickle: true }, randomCombo()]
  await checkFile(path, size, size > 64 << 20 ? combos : combos.slice(0, 3), `big#${fileNo}`)
  rmSync(path)
}

// --- directories -----------------------------------------------------------------------------
function buildTree (root, spec) {
  // spec: [{ path, size? }] — path relative to root; size undefined = directory.
  const entries = []
  for (const e of spec) {
    const full = join(root, e.path)
    if (e.size === undefined) {
      mkdirSync(full, { recursive: true })
      entries.push({ path: e.path })
    } else {
      writeRandomFile(full, e.size, e.path)
      entries.push({ path: e.path, full })
    }
  }
  return entries
}

async function checkTree (name, spec, combos) {
  const root = join(work, name)
  mkdirSync(root, { recursive: true })
  const entries = buildTree(root, spec)
  for (const c of combos) {
    const flags = cairnFlags(c)
    const ours = cairnAdd(['-r', ...flags], join(root, name))
    const js = entries
      .filter((e) => e.path === name || e.path.startsWith(name + '/'))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((e) => (e.full ? { path: e.path, content: createReadStream(e.full) } : { path: e.path }))
    const theirs = await jsAddTree(js, c)
    report(`dir ${name} (${spec.length} entries)`, ['-r', ...flags], ours, theirs)
  }
  rmSync(root, { recursive: true, force: true })
}

// Nested directory with an empty subdirectory and random small files.
{
  const spec = [{ path: 'top' }, { path: 'top/empty' }, { path: 'top/sub' }, { path: 'top/sub/deeper' }]
  for (let i = 0; i < 25; i++) {
    const dir = pick(['top', 'top/sub', 'top/sub/deeper'])
    spec.push({ path: `${dir}/file-${i}-${rand() % 1000}.bin`, size: rand() % 300000 })
  }
  await checkTree('top', spec, [{}, { cidVersion: 1 }, { rawLeaves: true }, { cidVersion: 1, rawLeaves: false, trickle: true }])
}

// Directories at exactly the links-bytes threshold (262144: stays plain) and one byte over.
for (const target of [262144, 262145]) {
  const name = `thr${target}`
  const spec = [{ path: name }]
  let sum = 0
  for (let i = 0; sum < target; i++) {
    let entry = `e${i}-`
    const left = target - sum
    entry += left < 34 + 80 + entry.length ? 'z'.repeat(left - 34 - entry.length) : 'p'.repeat(60)
    sum += entry.length + 34
    spec.push({ path: `${name}/${entry}`, size: 3 })
  }
  await checkTree(name, spec, [{}])
}

// A directory large enough for sub-shards (and a CIDv1 variant).
{
  const spec = [{ path: 'big' }]
  for (let i = 0; i < 6000; i++) spec.push({ path: `big/entry-${i.toString(36)}-${rand() % 100000}.txt`, size: rand() % 64 })
  await checkTree('big', spec, [{}, { cidVersion: 1 }])
}

rmSync(work, { recursive: true, force: true })
console.log(`${checks} comparisons, ${failures} mismatches (seed ${seed})`)
process.exit(failures === 0 ? 0 : 1)
