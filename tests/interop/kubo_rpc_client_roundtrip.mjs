// Interop test of `cairn serve`'s Kubo RPC subset (src/api/kubo_rpc.hpp) with kubo-rpc-client 7.1.0.
//
// Usage: node kubo_rpc_client_roundtrip.mjs [--seed N]
// Environment: CAIRN_URL (http://127.0.0.1:PORT), CAIRN_TOKEN (default scopes),
//              CAIRN_READ_TOKEN (optional, a token with only pins:read).
// Run by tests/interop/serve_interop_test.cpp, which starts the server with a fresh repo.
//
// What it checks, each on seeded random contents (the seed is printed; rerun with --seed):
// - add of files of random and boundary sizes (0 B, 1 B, 262144±1, a few MiB, more than 174
//   chunks so the balanced DAG has two layers) under random cid-version, raw-leaves, chunker and
//   trickle: the root CID and Size equal what Kubo gives (ipfs-unixfs-importer 17.1.1 configured
//   with Kubo's flag semantics, as in unixfs_import_crosscheck.mjs), cat returns the bytes (also
//   with offset/length), block/get returns the root block, and the upload is a pin (PSA /pins).
// - wrap-with-directory, only-hash (stores and pins nothing), pin=false (stores, no pin).
// - addAll of a directory tree (nested, empty file, empty directory) and of a directory just over
//   the HAMT threshold: every path's CID equals the importer's, every file cats by CID and by path.
// - dag/import of CARs written by @ipld/car (dag-cbor root over a UnixFS file), then block/get of
//   every block and cat; a CAR with a corrupt block stores nothing.
// - a wrong, missing or under-scoped token is 401/403 and leaves no block and no pin behind;
//   bad arguments are 400 with a message the client shows (Kubo's {"Message"} error shape).
import { CarWriter } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { create } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { checker, collect, equalBytes, seededBytes, seedFromArgs, serverFromEnv, xorshift32 } from './driver_support.mjs'

const { url, token, readToken } = serverFromEnv('kubo_rpc_client_roundtrip')
const seed = seedFromArgs()
console.log(`kubo_rpc_client_roundtrip seed=${seed} (rerun with --seed ${seed})`)
const { rand, pick } = xorshift32(seed)
const { check, counts } = checker()
const randomBytes = seededBytes(`kubo-rpc-${seed}`)

// Kubo's `ipfs add` flag semantics as importer options (see ../shared/vectors/README.md).
function jsOptions (o) {
  const cidVersion = o.cidVersion ?? 0
  const chunk = o.chunker ? Number(o.chunker.slice('size-'.length)) : 262144
  return {
    cidVersion,
    rawLeaves: o.rawLeaves ?? (cidVersion === 1),
    chunker: fixedSize({ chunkSize: chunk }),
    layout: o.trickle ? trickle({ maxChildrenPerNode: 174, layerRepeat: 4 }) : balanced({ maxChildrenPerNode: 174 }),
    leafType: o.trickle ? 'raw' : 'file',
    reduceSingleLeafToSelf: !o.trickle,
    shardSplitThresholdBytes: 262144,
    shardSplitStrategy: 'links-bytes',
    shardFanoutBits: 8,
    fieldOrder: 'links-first',
    wrapWithDirectory: Boolean(o.wrapWithDirectory)
  }
}

// A blockstore that keeps what the importer writes, to compare blocks and compute Kubo's Size.
class MapStore {
  constructor () { this.blocks = new Map() }
  async put (cid, bytes) { this.blocks.set(cid.toString(), bytes); return cid }
  async * get (cid) { yield this.blocks.get(cid.toString()) }
  async has (cid) { return this.blocks.has(cid.toString()) }
  block (cid) { return this.blocks.get(cid.toString()) }
  // Kubo's "Size": the node's block plus the Tsize of every link (a raw block's length).
  size (cid) {
    const bytes = this.block(cid)
    if (cid.code !== dagPb.code) return bytes.length
    return dagPb.decode(bytes).Links.reduce((n, l) => n + (l.Tsize ?? 0), bytes.length)
  }
}

// entries: [{ path?, content? }] → { outputs: Map(path → CID), root: last CID, store }.
async function jsImport (entries, options) {
  const store = new MapStore()
  const outputs = new Map()
  let root
  const source = entries.map((e) => (e.content !== undefined ? { path: e.path, content: e.content } : { path: e.path }))
  for await (const e of importer(source, store, jsOptions(options))) {
    outputs.set(e.path ?? '', e.cid)
    root = e.cid
  }
  return { outputs, root, store }
}

const auth = (t) => ({ authorization: `Bearer ${t}` })
const client = create({ url, headers: auth(token) })

async function psaPins (cid) {
  const res = await fetch(`${url}/pins?cid=${encodeURIComponent(cid)}&status=queued,pinning,pinned,failed`, { headers: auth(token) })
  if (res.status !== 200) return { status: res.status, count: -1, results: [] }
  const body = await res.json()
  return { status: 200, count: body.count, results: body.results }
}

async function isStored (cid) {
  try {
    await client.block.get(cid)
    return true
  } catch (e) {
    if (e.response?.status !== 404) console.log(`  block/get ${cid}: ${e.response?.status} ${e.message}`)
    return false
  }
}

// Runs `fn`, which must fail with HTTP `status`; returns the error (or undefined).
async function expectHttpError (what, status, fn, messagePart) {
  try {
    await fn()
    check(false, `${what}: succeeded, expected HTTP ${status}`)
    return undefined
  } catch (e) {
    const got = e.response?.status
    check(got === status, `${what}: HTTP ${got} (${e.message}), expected ${status}`)
    if (messagePart !== undefined) {
      check(e.message.includes(messagePart), `${what}: message "${e.message}" lacks "${messagePart}"`)
    }
    return e
  }
}

const pinned = [] // every CID the test expects to be pinned, checked at the end

// Prints how long the previous section took (the whole run should stay well under a minute).
let sectionStart = Date.now()
let sectionName = 'start'
function section (name) {
  console.log(`  ${sectionName}: ${Date.now() - sectionStart} ms`)
  sectionName = name
  sectionStart = Date.now()
}

// --- version, id ---------------------------------------------------------------------------
section('version/id')
{
  const v = await client.version()
  check(typeof v.version === 'string' && v.version.length > 0, `version: ${JSON.stringify(v)}`)
  const id = await client.id()
  check(id.id.toString().startsWith('12D3KooW'), `id: ${id.id}`)
}

// --- single files ----------------------------------------------------------------------------
section('single files')
function randomOptions () {
  const o = {}
  const v = pick([undefined, 0, 1])
  if (v !== undefined) o.cidVersion = v
  const rl = pick([undefined, undefined, true, false])
  if (rl !== undefined) o.rawLeaves = rl
  if (rand() % 5 === 0) o.trickle = true
  if (rand() % 4 === 0) o.chunker = `size-${pick([1024, 4096, 65536, 1048576])}`
  return o
}

async function checkFile (size, options, named) {
  const content = randomBytes(size)
  const name = named ? `file-${size}.bin` : undefined
  const what = `add ${size} B ${JSON.stringify(options)}${name ? ' as ' + name : ''}`
  const input = name ? { path: name, content } : content
  const res = await client.add(input, options)
  if (options.hashAlg === 'sha2-512') {
    // The importer hashes with sha2-256 only: check the hash, the CID version and every block.
    check(res.cid.version === 1 && res.cid.multihash.code === sha512.code, `${what}: cid ${res.cid}`)
    const walk = async (cid) => {
      const bytes = await client.block.get(cid)
      check(equalBytes((await sha512.digest(bytes)).digest, cid.multihash.digest), `${what}: block ${cid} does not match`)
      if (cid.code === dagPb.code) for (const l of dagPb.decode(bytes).Links) await walk(l.Hash)
    }
    await walk(res.cid)
    check(equalBytes(await collect(client.cat(res.cid)), content), `${what}: cat`)
    pinned.push(res.cid.toString())
    return
  }
  const js = await jsImport([{ path: name, content }], options)
  const expected = js.root
  if (!check(res.cid.toString() === expected.toString(), `${what}: cid ${res.cid} != importer ${expected}`)) return
  check(res.size === js.store.size(expected), `${what}: Size ${res.size} != ${js.store.size(expected)}`)
  check(res.path === (name ?? expected.toString()), `${what}: Name ${res.path}`)
  const back = await collect(client.cat(res.cid))
  check(equalBytes(back, content), `${what}: cat returned ${back.length} different bytes`)
  const block = await client.block.get(res.cid)
  check(equalBytes(block, js.store.block(expected)), `${what}: block/get of the root differs`)
  if (size > 10) {
    const offset = rand() % size
    const length = rand() % (size - offset)
    const part = await collect(client.cat(res.cid, { offset, length }))
    check(equalBytes(part, content.subarray(offset, offset + length)), `${what}: cat offset=${offset} length=${length}`)
  }
  pinned.push(res.cid.toString())
}

const sizes = [
  [0, {}], [1, {}], [1, { cidVersion: 1 }],
  [262143, {}], [262144, {}], [262145, {}], [262145, { cidVersion: 1 }], [262145, { rawLeaves: true }],
  [3 * 1048576 + (rand() % 1048576), {}],
  [3 * 1048576 + (rand() % 1048576), { cidVersion: 1, trickle: true }],
  // More than 174 chunks: the balanced layout needs a second layer of internal nodes.
  [174 * 1024, { chunker: 'size-1024' }],
  [174 * 1024 + 1, { chunker: 'size-1024' }],
  [175 * 1024 + 1 + (rand() % 50000), { chunker: 'size-1024', cidVersion: 1 }],
  [175 * 1024 + (rand() % 50000), { chunker: 'size-1024', trickle: true, rawLeaves: false }],
  // A hash other than sha2-256 implies CIDv1 (Kubo's rule).
  [600000 + (rand() % 1000), { hashAlg: 'sha2-512' }],
  [1 + (rand() % 1000), { hashAlg: 'sha2-512', rawLeaves: false }]
]
for (let i = 0; i < 10; i++) sizes.push([rand() % (2 << 20), randomOptions()])
for (const [size, options] of sizes) await checkFile(size, options, rand() % 2 === 0)

// --- wrap-with-directory, only-hash, pin=false ---------------------------------------------
section('wrap/only-hash/pin')
{
  const content = randomBytes(300000 + (rand() % 1000))
  const options = { wrapWithDirectory: true, cidVersion: pick([0, 1]) }
  const out = []
  for await (const e of client.addAll([{ path: 'hello.bin', content }], options)) out.push(e)
  const js = await jsImport([{ path: 'hello.bin', content }], options)
  const root = out[out.length - 1]
  check(root !== undefined && root.path === '' && root.cid.equals(js.root),
    `wrap: root ${root?.path}=${root?.cid}, importer ${js.root}`)
  check(out.some((e) => e.path === 'hello.bin' && e.cid.equals(js.outputs.get('hello.bin'))), 'wrap: file line')
  check(root.size === js.store.size(js.root), `wrap: Size ${root.size} != ${js.store.size(js.root)}`)
  const back = await collect(client.cat(`/ipfs/${root.cid}/hello.bin`))
  check(equalBytes(back, content), 'wrap: cat through the wrapping directory')
  pinned.push(root.cid.toString())
  const file = (await psaPins(js.outputs.get('hello.bin').toString())).count
  check(file === 0, `wrap: the wrapped file itself should not be a separate pin (${file})`)
}
{
  // An unnamed file wrapped: Kubo names it by its CID inside the directory.
  const content = randomBytes(1000 + (rand() % 1000))
  const out = []
  for await (const e of client.addAll([{ content }], { wrapWithDirectory: true })) out.push(e)
  const file = (await jsImport([{ content }], {})).root
  const js = await jsImport([{ path: file.toString(), content }], { wrapWithDirectory: true })
  const root = out[out.length - 1]
  check(root !== undefined && root.cid.equals(js.root), `wrap unnamed: root ${root?.cid}, importer ${js.root}`)
  check(equalBytes(await collect(client.cat(`${root.cid}/${file}`)), content), 'wrap unnamed: cat by CID name')
  pinned.push(root.cid.toString())
}
{
  const content = randomBytes(700000 + (rand() % 1000))
  const options = { onlyHash: true, cidVersion: pick([0, 1]) }
  const res = await client.add(content, options)
  const js = await jsImport([{ content }], options)
  check(res.cid.equals(js.root), `only-hash: cid ${res.cid} != ${js.root}`)
  check(!(await isStored(res.cid)), 'only-hash: the root block was stored')
  const leaf = [...js.store.blocks.keys()].find((k) => k !== js.root.toString())
  check(leaf === undefined || !(await isStored(CID.parse(leaf))), 'only-hash: a leaf block was stored')
  check((await psaPins(res.cid.toString())).count === 0, 'only-hash: a pin was created')
}
{
  // The same upload twice: one pin, as `ipfs add` pins idempotently.
  const content = randomBytes(2000 + (rand() % 1000))
  const first = await client.add(content)
  const second = await client.add(content)
  check(first.cid.equals(second.cid), 'add twice: different CIDs')
  check((await psaPins(first.cid.toString())).count === 1, `add twice: ${(await psaPins(first.cid.toString())).count} pins`)
  pinned.push(first.cid.toString())
}
{
  const content = randomBytes(100000 + (rand() % 1000))
  const res = await client.add(content, { pin: false })
  const js = await jsImport([{ content }], {})
  check(res.cid.equals(js.root), `pin=false: cid ${res.cid} != ${js.root}`)
  check(equalBytes(await collect(client.cat(res.cid)), content), 'pin=false: cat')
  check((await psaPins(res.cid.toString())).count === 0, 'pin=false: a pin was created')
}

// --- directory trees -------------------------------------------------------------------------
section('directory trees')
async function checkTree (what, entries, options) {
  const out = new Map()
  for await (const e of client.addAll(entries, options)) out.set(e.path, e)
  const js = await jsImport(entries, options)
  for (const [path, cid] of js.outputs) {
    const ours = out.get(path)
    check(ours !== undefined && ours.cid.equals(cid), `${what}: ${path} is ${ours?.cid}, importer ${cid}`)
    if (ours !== undefined) check(ours.size === js.store.size(cid), `${what}: Size of ${path} ${ours.size} != ${js.store.size(cid)}`)
  }
  // Kubo also prints a line for every directory it was sent explicitly (the importer does not
  // for empty ones): such a line must carry the empty directory's CID.
  const emptyDir = (await jsImport([{ path: 'x' }], options)).outputs.get('x')
  for (const [path, e] of out) {
    if (js.outputs.has(path)) continue
    const explicit = entries.some((x) => x.path === path && x.content === undefined)
    check(explicit && e.cid.equals(emptyDir), `${what}: unexpected output line ${path} ${e.cid}`)
  }
  const top = [...js.outputs.keys()].filter((p) => !p.includes('/'))
  // Every file of a small tree is read back; of a large one, a random sample (each cat is a
  // request, and every CID was compared above).
  const files = entries.filter((e) => e.content !== undefined)
  const sample = files.length <= 50 ? files : Array.from({ length: 25 }, () => pick(files))
  for (const e of sample) {
    const slash = e.path.indexOf('/')
    const viaPath = `/ipfs/${js.outputs.get(e.path.slice(0, slash))}/${e.path.slice(slash + 1)}`
    check(equalBytes(await collect(client.cat(viaPath)), e.content), `${what}: cat ${viaPath}`)
    check(equalBytes(await collect(client.cat(js.outputs.get(e.path))), e.content), `${what}: cat ${e.path} by CID`)
  }
  for (const t of top) pinned.push(js.outputs.get(t).toString())
}
{
  const entries = [
    { path: 'tree/a.txt', content: new TextEncoder().encode('hello from the tree\n') },
    { path: 'tree/empty.txt', content: new Uint8Array(0) },
    { path: 'tree/emptydir' },
    { path: 'tree/sub/b.bin', content: randomBytes(rand() % 600000) },
    { path: 'tree/sub/deeper/c.bin', content: randomBytes(262145) },
    { path: 'tree/sub/deeper/d.bin', content: randomBytes(rand() % 5000) },
    { path: 'tree/z with space & ünïcode.txt', content: randomBytes(10) }
  ]
  await checkTree('tree v0', entries, {})
  await checkTree('tree v1', entries, { cidVersion: 1 })
  await checkTree('tree raw-leaves trickle', entries, { rawLeaves: true, trickle: true, chunker: 'size-4096' })
  // Two top-level entries: each is its own root.
  await checkTree('two roots', [
    { path: 'one/x.bin', content: randomBytes(1000) },
    { path: 'two/y.bin', content: randomBytes(2000) }
  ], {})
}
{
  // Just over the links-bytes threshold (262144): a HAMT-sharded directory, as Kubo makes it.
  const entries = []
  let sum = 0
  for (let i = 0; sum <= 262144; i++) {
    const name = `entry-${i.toString(36)}-${'p'.repeat(60)}`
    sum += name.length + 34
    entries.push({ path: `big/${name}`, content: randomBytes(rand() % 8) })
  }
  await checkTree(`sharded dir (${entries.length} files)`, entries, { cidVersion: 1 })
}

// --- dag/import ------------------------------------------------------------------------------
section('dag/import')
async function makeCar (roots, blocks) {
  const { writer, out } = CarWriter.create(roots)
  const bytes = collect(out)
  for (const b of blocks) await writer.put(b)
  await writer.close()
  return bytes
}
{
  const content = randomBytes(600000 + (rand() % 100000))
  const js = await jsImport([{ content }], { cidVersion: 1, chunker: 'size-65536' })
  const note = dagCbor.encode({ file: js.root, note: `seed ${seed}` })
  const noteCid = CID.createV1(dagCbor.code, await sha256.digest(note))
  const blocks = [{ cid: noteCid, bytes: note }]
  for (const [k, bytes] of js.store.blocks) blocks.push({ cid: CID.parse(k), bytes })
  const car = await makeCar([noteCid], blocks)
  const roots = []
  for await (const r of client.dag.import([car])) roots.push(r.root.cid.toString())
  check(roots.length === 1 && roots[0] === noteCid.toString(), `dag/import: roots ${roots}`)
  for (const b of blocks) {
    check(equalBytes(await client.block.get(b.cid), b.bytes), `dag/import: block/get ${b.cid}`)
  }
  check(equalBytes(await collect(client.cat(js.root)), content), 'dag/import: cat of the imported file')
  pinned.push(noteCid.toString())

  // pin-roots=false: stored, not pinned.
  const other = dagCbor.encode({ seed, n: rand() })
  const otherCid = CID.createV1(dagCbor.code, await sha256.digest(other))
  for await (const r of client.dag.import([await makeCar([otherCid], [{ cid: otherCid, bytes: other }])], { pinRoots: false })) {
    check(r.root.cid.equals(otherCid), 'dag/import pin-roots=false: root')
  }
  check(await isStored(otherCid), 'dag/import pin-roots=false: block stored')
  check((await psaPins(otherCid.toString())).count === 0, 'dag/import pin-roots=false: pinned')

  // Two CARs in one request (two multipart parts): both stored, both roots pinned.
  const c1 = dagCbor.encode({ car: 1, n: rand() })
  const c1Cid = CID.createV1(dagCbor.code, await sha256.digest(c1))
  const c2 = dagCbor.encode({ car: 2, n: rand() })
  const c2Cid = CID.createV1(dagCbor.code, await sha256.digest(c2))
  const twoRoots = []
  const cars = [[await makeCar([c1Cid], [{ cid: c1Cid, bytes: c1 }])], [await makeCar([c2Cid], [{ cid: c2Cid, bytes: c2 }])]]
  for await (const r of client.dag.import(cars)) twoRoots.push(r.root.cid.toString())
  check(twoRoots.sort().join() === [c1Cid.toString(), c2Cid.toString()].sort().join(), `dag/import of two CARs: roots ${twoRoots}`)
  check(equalBytes(await client.block.get(c2Cid), c2), 'dag/import of two CARs: second CAR\'s block')
  pinned.push(c1Cid.toString(), c2Cid.toString())

  // A CAR with one block whose bytes do not match its CID: nothing is stored.
  const good = dagCbor.encode({ good: rand() })
  const goodCid = CID.createV1(dagCbor.code, await sha256.digest(good))
  const bad = dagCbor.encode({ bad: rand() })
  const badCid = CID.createV1(dagCbor.code, await sha256.digest(bad))
  const tampered = dagCbor.encode({ bad: 'tampered' })
  const badCar = await makeCar([goodCid], [{ cid: goodCid, bytes: good }, { cid: badCid, bytes: tampered }])
  await expectHttpError('dag/import of a corrupt CAR', 400, async () => {
    for await (const r of client.dag.import([badCar])) void r
  })
  check(!(await isStored(goodCid)), 'dag/import of a corrupt CAR: its valid block was stored')
  check((await psaPins(goodCid.toString())).count === 0, 'dag/import of a corrupt CAR: its root was pinned')
}

// --- authentication and argument errors ------------------------------------------------------
section('auth and errors')
{
  const content = randomBytes(5000 + (rand() % 1000))
  const js = await jsImport([{ content }], {})
  const car = await makeCar([js.root], [...js.store.blocks].map(([k, bytes]) => ({ cid: CID.parse(k), bytes })))
  const clients = [
    ['wrong token', create({ url, headers: auth('cairn_wrong_token'), agent: undefined }), 401],
    ['no token', create({ url }), 401]
  ]
  if (readToken) clients.push(['pins:read token', create({ url, headers: auth(readToken) }), 403])
  for (const [what, c, status] of clients) {
    await expectHttpError(`add with ${what}`, status, () => c.add(content))
    await expectHttpError(`dag/import with ${what}`, status, async () => {
      for await (const r of c.dag.import([car])) void r
    })
    check(!(await isStored(js.root)), `${what}: the upload was stored`)
    check((await psaPins(js.root.toString())).count === 0, `${what}: the upload was pinned`)
  }
  await expectHttpError('cat with a wrong token', 401, () => collect(clients[0][1].cat(pinned[0])))
  await expectHttpError('block/get with no token', 401, () => clients[1][1].block.get(CID.parse(pinned[0])))

  await expectHttpError('add with cid-version 2', 400, () => client.add(content, { cidVersion: 2 }), 'cid-version')
  await expectHttpError('add with chunker size-0', 400, () => client.add(content, { chunker: 'size-0' }), 'chunker')
  await expectHttpError('add with chunker rabin-x', 400, () => client.add(content, { chunker: 'rabin-x' }), 'chunker')
  await expectHttpError('cat of a CID that is not stored', 404, () => collect(client.cat(js.root)))
  check(!(await isStored(js.root)), 'rejected adds stored the content')
}

// --- every upload that pins is a pin -----------------------------------------------------------
section('pins')
{
  const deadline = Date.now() + 60_000
  const unique = [...new Set(pinned)]
  let last = new Map()
  for (;;) {
    last = new Map()
    for (const cid of unique) {
      const p = await psaPins(cid)
      last.set(cid, p)
    }
    const settled = [...last.values()].every((p) => p.results.every((r) => r.status === 'pinned' || r.status === 'failed'))
    if (settled || Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  for (const [cid, p] of last) {
    check(p.status === 200 && p.count >= 1, `pin for ${cid}: GET /pins gave ${p.status}, count ${p.count}`)
    check(p.results.every((r) => r.pin.cid === cid), `pin for ${cid}: echoed cid ${p.results.map((r) => r.pin.cid)}`)
    check(p.results.every((r) => r.status !== 'failed'), `pin for ${cid}: failed: ${JSON.stringify(p.results.map((r) => r.info))}`)
    const waiting = p.results.filter((r) => r.status !== 'pinned')
    if (waiting.length > 0) console.log(`note: pin for ${cid} still ${waiting.map((r) => r.status)} after 60 s`)
  }
}

section('end')
console.log(`${counts.checks} checks, ${counts.failures} failures (seed ${seed})`)
process.exit(counts.failures === 0 ? 0 : 1)
