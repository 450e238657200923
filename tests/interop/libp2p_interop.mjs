// js-libp2p (libp2p 3.3.11: @libp2p/tcp, noise, yamux, identify, ping) against Cairn's libp2p host
// (tests/interop/libp2p_interop_test.cpp runs the host and this driver on Node 22):
//   1. js dials Cairn: identify fields (agent, protocols, public key = peer ID, observed address),
//      ping, and many concurrent echo streams larger than a yamux window;
//   2. Cairn dials js: js writes its multiaddr to --addr-file, Cairn dials it, pings it and runs an
//      echo stream against js's handler, then writes --done-file;
//   3. a peer that sends garbage and one that stalls are cut off, while js pings on unaffected.
// Prints `checks N failures M`; exits 1 on any failure.
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { existsSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { argValue, checker, seedFromArgs, xorshift32 } from './driver_support.mjs'

const ECHO = '/cairn-test/echo/1.0.0'
const cairnAddr = argValue('--cairn')
const addrFile = argValue('--addr-file')
const doneFile = argValue('--done-file')
const streams = Number(argValue('--streams') ?? 32)
const seed = seedFromArgs()
console.log(`seed ${seed}`)
const { rand } = xorshift32(seed)
const { check, counts } = checker()
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

let echoServed = 0
const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping() }
})
await node.handle(ECHO, async (stream) => {
  echoServed++
  for await (const buf of stream) {
    if (!stream.send(buf.subarray())) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
  }
  await stream.close()
})

async function echo (peer, data) {
  const stream = await node.dialProtocol(peer, ECHO)
  const chunks = []
  const reader = (async () => { for await (const buf of stream) chunks.push(buf.subarray()) })()
  for (let at = 0; at < data.length; at += 16384) {
    if (!stream.send(data.subarray(at, at + 16384))) {
      await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
    }
  }
  await stream.close()
  await reader
  return Buffer.concat(chunks)
}

// Opens a raw TCP connection, writes `bytes`, and resolves with the ms until Cairn closes it.
function rawPeer (host, port, bytes) {
  return new Promise(resolve => {
    const start = Date.now()
    const s = net.connect(port, host, () => { if (bytes.length) s.write(bytes) })
    s.on('data', () => {})
    s.on('error', () => {})
    s.on('close', () => resolve(Date.now() - start))
  })
}

try {
  const ma = multiaddr(cairnAddr)
  const cairnPeer = peerIdFromString(ma.getComponents().find(c => c.name === 'p2p').value)
  // 1. js dials Cairn.
  const conn = await node.dial(ma)
  check(conn.remotePeer.equals(cairnPeer), 'the noise handshake authenticated Cairn\'s peer id')
  let peer
  for (let i = 0; i < 50; i++) {
    peer = await node.peerStore.get(cairnPeer).catch(() => undefined)
    // (protocols alone may already hold the one of a stream Cairn opened to us: wait for the
    // identify answer itself, which sets AgentVersion)
    if (peer?.metadata?.get('AgentVersion') != null) break
    await sleep(100)
  }
  const agent = new TextDecoder().decode(peer?.metadata?.get('AgentVersion') ?? new Uint8Array())
  const protocolVersion = new TextDecoder().decode(peer?.metadata?.get('ProtocolVersion') ?? new Uint8Array())
  console.log(`identify: agent=${agent} protocolVersion=${protocolVersion} protocols=${peer?.protocols}`)
  check(agent.startsWith('cairn/'), `identify agentVersion is cairn/<version> (got '${agent}')`)
  check(protocolVersion === 'ipfs/0.1.0', `identify protocolVersion is ipfs/0.1.0 (got '${protocolVersion}')`)
  for (const p of ['/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0', ECHO]) {
    check(peer?.protocols?.includes(p), `identify lists ${p}`)
  }
  check(peer?.addresses?.some(a => a.multiaddr.toString().startsWith('/ip4/127.0.0.1/tcp/')),
    'identify listenAddrs has the loopback TCP address')
  const rtt = await node.services.ping.ping(cairnPeer)
  check(typeof rtt === 'number' && rtt >= 0, `ping answered (${rtt} ms)`)

  const payloads = []
  for (let i = 0; i < streams; i++) {
    const data = new Uint8Array(200 * 1024 + (rand() % 100000))
    for (let j = 0; j < data.length; j++) data[j] = rand() & 0xff
    payloads.push(data)
  }
  const t0 = Date.now()
  const results = await Promise.all(payloads.map(p => echo(cairnPeer, p)))
  let same = 0
  for (let i = 0; i < streams; i++) if (Buffer.compare(results[i], Buffer.from(payloads[i])) === 0) same++
  check(same === streams, `${same}/${streams} concurrent echo streams came back intact (${Date.now() - t0} ms)`)

  // 3. garbage and stalling peers, while pings go on.
  const host = ma.getComponents().find(c => c.name === 'ip4').value
  const port = Number(ma.getComponents().find(c => c.name === 'tcp').value)
  const garbage = rawPeer(host, port, new Uint8Array(300).fill(0xee))
  const stalled = rawPeer(host, port, new Uint8Array())
  const p0 = Date.now()
  for (let i = 0; i < 5; i++) await node.services.ping.ping(cairnPeer)
  const pingMs = Date.now() - p0
  check(pingMs < 1000, `5 pings beside a garbage and a stalled peer took ${pingMs} ms`)
  const garbageMs = await garbage
  check(garbageMs < 1000, `garbage peer cut off after ${garbageMs} ms`)
  const stalledMs = await stalled
  check(stalledMs >= 800 && stalledMs < 5000, `stalled peer cut off at the handshake timeout (${stalledMs} ms)`)

  // 2. Cairn dials js.
  const mine = node.getMultiaddrs().find(a => a.toString().includes('/ip4/127.0.0.1/'))
  writeFileSync(addrFile, mine.toString())
  for (let i = 0; i < 200 && !existsSync(doneFile); i++) await sleep(100)
  check(existsSync(doneFile), 'Cairn reported its dial finished')
  check(echoServed >= 1, `Cairn ran an echo stream against js (${echoServed})`)
  const inbound = node.getConnections(cairnPeer).filter(c => c.direction === 'inbound')
  check(inbound.length >= 1, 'js sees an inbound connection from Cairn')
} catch (err) {
  check(false, `driver error: ${err.stack ?? err}`)
}
await node.stop()
console.log(`checks ${counts.checks} failures ${counts.failures}`)
process.exit(counts.failures === 0 ? 0 : 1)
