// Network front ends of a provider: its HTTP server (Curio's /market/mk12/* and, for both kinds,
// /piece retrieval) and, for "boost" providers, a js-libp2p host (TCP + Noise + yamux) serving the
// mk12 protocols.
//
// Contract:
// - startProviderHttp(provider) -> Promise<http.Server> listening on 127.0.0.1:0.
//   POST /market/mk12/store, GET /market/mk12/status and GET /market/mk12/ask exist only on "curio" providers and behave
//   as curio/market/mk12/http/http.go: Content-Type must be application/cbor (else 400 and an
//   empty body), body limits 4 MiB / 1 MiB, undecodable CBOR -> 400, otherwise 200 with a CBOR
//   DealResponse / DealStatusResponse.
//   GET|HEAD /piece/{v1|v2 piece CID} (FRC-0066, curio market/retrieval): 200 with the unpadded
//   bytes, a single Range -> 206 + Content-Range, unsatisfiable -> 416, a piece it does
//   not hold (or an unparsable CID) -> 404. ETag is the quoted CID; Accept-Ranges: bytes.
//   While the provider's fault is "offline", every connection is destroyed unanswered; with
//   "corrupt-retrieval" every /piece body has bits flipped (the first byte, and every byte whose
//   offset in the piece is a multiple of 1024).
// - startBoostHost(provider, privateKey) -> Promise<libp2p node> listening on /ip4/127.0.0.1/tcp/0,
//   handling /fil/storage/mk/1.2.1, /fil/storage/mk/1.2.0 (one CBOR DealParams in, one CBOR
//   DealResponse out, stream closed), /fil/storage/status/1.2.0 and /fil/storage/ask/1.1.0;
//   an undecodable request gets the stream closed without a response, as Boost does; and
//   /fil/retrieval/transports/1.0.0 (boost retrievalmarket/lp2pimpl/transports.go): no request,
//   the host writes {"Protocols": [{"Name": "libp2p", "Addresses": [its listen multiaddrs]},
//   {"Name": "http", "Addresses": [/ip4/127.0.0.1/tcp/<provider.httpPort>/http]}]} and closes: the
//   http entry is booster-http, the /piece server, whose address is not on chain. Inbound connections are
//   refused while "offline". Peers that send no complete CBOR within 10 s are reset (Boost's
//   providerReadDeadline).

import './polyfill.js'
import http from 'node:http'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { dagCbor, encodeDealResponse } from './fil.js'

export const MK12_PROTOCOLS = ['/fil/storage/mk/1.2.1', '/fil/storage/mk/1.2.0']
export const STATUS_PROTOCOL = '/fil/storage/status/1.2.0'
export const ASK_PROTOCOL = '/fil/storage/ask/1.1.0'
export const TRANSPORTS_PROTOCOL = '/fil/retrieval/transports/1.0.0'

function readBody (req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = []; let size = 0
    req.on('data', c => {
      size += c.length
      if (size > limit) { reject(new Error('http: request body too large')); req.destroy(); return }
      chunks.push(c)
    })
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

function corrupt (body, offset) {
  const out = Buffer.from(body)
  for (let i = 0; i < out.length; i++) if (i === 0 || (offset + i) % 1024 === 0) out[i] ^= 0x01
  return out
}

// Parses a Range header against `size`: {start, end} (inclusive), 'unsatisfiable', or null (serve all).
export function parseRange (header, size) {
  if (!header) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m) return null // multi-range or malformed: serve the whole body, as RFC 9110 allows
  let start; let end
  if (m[1] === '' && m[2] === '') return null
  if (m[1] === '') {
    const n = Number(m[2]); if (n === 0) return 'unsatisfiable'
    start = Math.max(0, size - n); end = size - 1
  } else {
    start = Number(m[1]); end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
    if (m[2] !== '' && Number(m[2]) < start) return null
  }
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

async function handle (provider, req, res) {
  const url = new URL(req.url, 'http://x')
  const path = url.pathname
  if (provider.kind === 'curio' && path === '/market/mk12/ask') {
    if (req.method !== 'GET') { res.writeHead(405).end(); return }
    provider.count('mk12-ask')
    if (req.headers['content-type'] !== 'application/cbor') { res.writeHead(400).end(); return }
    let out
    try { out = provider.askResponse(await readBody(req, 1 << 20)) } catch { res.writeHead(400).end(); return }
    res.writeHead(200, { 'Content-Type': 'application/cbor', 'Content-Length': out.length }).end(Buffer.from(out))
    return
  }
  if (provider.kind === 'curio' && (path === '/market/mk12/store' || path === '/market/mk12/status')) {
    const isStore = path === '/market/mk12/store'
    if (req.method !== (isStore ? 'POST' : 'GET')) { res.writeHead(405).end(); return }
    provider.count(isStore ? 'mk12-store' : 'mk12-status')
    if (req.headers['content-type'] !== 'application/cbor') { res.writeHead(400).end(); return }
    let body
    try { body = await readBody(req, isStore ? 4 << 20 : 1 << 20) } catch { res.writeHead(400).end(); return }
    let out
    if (isStore) {
      const r = provider.propose(body)
      if (r.message == null) { res.writeHead(400).end(); return }
      out = encodeDealResponse(r.accepted, r.message)
    } else {
      try { out = provider.status(body) } catch { res.writeHead(400).end(); return }
    }
    res.writeHead(200, { 'Content-Type': 'application/cbor', 'Content-Length': out.length }).end(Buffer.from(out))
    return
  }
  const pm = /^\/piece\/([^/]+)$/.exec(path)
  if (pm) {
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { Allow: 'GET, HEAD' }).end(); return }
    provider.count(req.method === 'GET' ? 'piece-get' : 'piece-head')
    const bytes = provider.piece(pm[1])
    if (!bytes) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end(req.method === 'GET' ? 'piece not found\n' : undefined); return }
    const headers = {
      'Accept-Ranges': 'bytes',
      ETag: `"${pm[1]}"`,
      'Cache-Control': 'public, max-age=29030400, immutable',
      'Content-Type': 'application/octet-stream'
    }
    const range = parseRange(req.headers.range, bytes.length)
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${bytes.length}` }).end(); return
    }
    let status = 200; let start = 0; let end = bytes.length - 1
    if (range) {
      status = 206; start = range.start; end = range.end
      headers['Content-Range'] = `bytes ${start}-${end}/${bytes.length}`
    }
    headers['Content-Length'] = end - start + 1
    res.writeHead(status, headers)
    if (req.method === 'HEAD') { res.end(); return }
    let body = bytes.subarray(start, end + 1)
    if (provider.corrupt) body = corrupt(body, start)
    provider.s.stats.bytesServed += body.length
    res.end(Buffer.from(body))
    return
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n')
}

export function startProviderHttp (provider) {
  const server = http.createServer((req, res) => {
    if (provider.offline) { req.socket.destroy(); return }
    handle(provider, req, res).catch(e => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end(`internal error: ${e.message}\n`)
    })
  })
  server.keepAliveTimeout = 1000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

// Reads one complete CBOR value from a libp2p stream (the peer need not half-close first).
async function readOneCbor (stream, limit) {
  const chunks = []; let size = 0
  const timer = setTimeout(() => stream.abort(new Error('read deadline exceeded')), 10_000)
  try {
    for await (const chunk of stream) {
      const bytes = chunk.subarray ? chunk.subarray() : chunk
      chunks.push(bytes); size += bytes.length
      if (size > limit) throw new Error('request too large')
      const all = new Uint8Array(Buffer.concat(chunks))
      try { dagCbor.decode(all); return all } catch { /* incomplete: keep reading */ }
    }
    return new Uint8Array(Buffer.concat(chunks))
  } finally { clearTimeout(timer) }
}

async function respond (stream, bytes) {
  if (!stream.send(bytes)) await stream.onDrain()
  await stream.close()
}

export async function startBoostHost (provider, privateKey) {
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyInboundConnection: () => provider.offline,
      denyInboundEncryptedConnection: () => provider.offline
    }
  })
  await node.handle(MK12_PROTOCOLS, async (stream) => {
    provider.count('libp2p-deal')
    try {
      const body = await readOneCbor(stream, 4 << 20)
      const r = provider.propose(body)
      // Boost answers undecodable params by closing the stream without a response.
      if (r.message == null) { await stream.close(); return }
      await respond(stream, encodeDealResponse(r.accepted, r.message))
    } catch (e) { stream.abort(e) }
  })
  await node.handle(STATUS_PROTOCOL, async (stream) => {
    provider.count('libp2p-status')
    try {
      const body = await readOneCbor(stream, 1 << 20)
      let out
      try { out = provider.status(body) } catch { await stream.close(); return }
      await respond(stream, out)
    } catch (e) { stream.abort(e) }
  })
  await node.handle(TRANSPORTS_PROTOCOL, async (stream) => {
    provider.count('libp2p-transports')
    try {
      const protocols = [{ Name: 'libp2p', Addresses: node.getMultiaddrs().map(ma => ma.decapsulateCode(421).bytes) }]
      if (provider.httpPort) protocols.push({ Name: 'http', Addresses: [multiaddr(`/ip4/127.0.0.1/tcp/${provider.httpPort}/http`).bytes] })
      await respond(stream, dagCbor.encode({ Protocols: protocols }))
    } catch (e) { stream.abort(e) }
  })
  await node.handle(ASK_PROTOCOL, async (stream) => {
    provider.count('libp2p-ask')
    try {
      const body = await readOneCbor(stream, 1 << 20)
      let out
      try { out = provider.askResponse(body) } catch { await stream.close(); return }
      await respond(stream, out)
    } catch (e) { stream.abort(e) }
  })
  return node
}
