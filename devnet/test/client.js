// A small Filecoin deal client for the devnet's tests, built only from npm packages and sharing
// no code with devnet/src (so a misunderstanding on one side cannot cancel out on the other).
//
// Contract:
// - new Wallet(privBytes): .address (f1 string), .bytes (address bytes), .sign(bytes) -> 65-byte
//   R‖S‖V over blake2b-256(bytes).
// - rpc(url, method, params) -> result, throws Error(message) on a JSON-RPC error.
// - sendMessage(url, wallet, {To, Method, Params(bytes), Value}) -> signed CID string (uses
//   MpoolGetNonce, GasEstimateMessageGas, MpoolPush).
// - buildDeal({...}) -> {proposal (tuple), proposalBytes, clientDealProposal, dealParamsBytes, uuid}
// - proposeHttp / statusHttp (Curio /market/mk12/*) and proposeP2p / statusP2p (libp2p) return
//   decoded CBOR responses.
// - servePayload(bytes, {requireHeader}) -> {url, close(), hits} a 127.0.0.1:0 HTTP server.
import http from 'node:http'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { base32 } from 'multiformats/bases/base32'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { blake2b } from '@noble/hashes/blake2.js'
import { Piece } from '@web3-storage/data-segment'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () { let resolve, reject; const promise = new Promise((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } }
}

const b2 = (bytes, dkLen) => blake2b(bytes, { dkLen })

export function f1FromPub (pub) {
  const bytes = new Uint8Array([1, ...b2(pub, 20)])
  return { bytes, address: 'f1' + base32.baseEncode(new Uint8Array([...bytes.subarray(1), ...b2(bytes, 4)])) }
}

export function idBytes (n) {
  const out = [0]; let v = BigInt(n)
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b) } while (v)
  return new Uint8Array(out)
}

export class Wallet {
  constructor (priv) {
    this.priv = priv
    const pub = secp256k1.getPublicKey(priv, false)
    Object.assign(this, f1FromPub(pub))
  }

  static random () { return new Wallet(secp256k1.utils.randomSecretKey()) }

  sign (bytes) {
    const rec = secp256k1.sign(b2(bytes, 32), this.priv, { prehash: false, format: 'recovered' })
    return new Uint8Array([...rec.subarray(1), rec[0]])
  }
}

export function bigBytes (n) {
  n = BigInt(n)
  if (n === 0n) return new Uint8Array(0)
  const hex = n.toString(16)
  return new Uint8Array([0, ...Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex')])
}

let rpcId = 0
export async function rpc (url, method, params = []) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) })
  const body = await res.json()
  if (body.error) { const e = new Error(body.error.message); e.code = body.error.code; throw e }
  return body.result
}

function addrBytesFromString (s) {
  if (s[1] === '0') return idBytes(BigInt(s.slice(2)))
  const raw = base32.baseDecode(s.slice(2))
  return new Uint8Array([1, ...raw.subarray(0, 20)])
}

export function messageCbor (m) {
  return dagCbor.encode([0, addrBytesFromString(m.To), addrBytesFromString(m.From), m.Nonce, bigBytes(m.Value), m.GasLimit,
    bigBytes(m.GasFeeCap), bigBytes(m.GasPremium), m.Method, m.Params ? new Uint8Array(Buffer.from(m.Params, 'base64')) : new Uint8Array(0)])
}
export function blakeCid (bytes) { return CID.createV1(0x71, Digest.create(0xb220, b2(bytes, 32))) }

export function signMessage (wallet, m) {
  const cid = blakeCid(messageCbor(m))
  const sig = wallet.sign(cid.bytes)
  return { Message: m, Signature: { Type: 1, Data: Buffer.from(sig).toString('base64') } }
}

export async function sendMessage (url, wallet, { To, Method = 0, Params = null, Value = '0' }) {
  const Nonce = await rpc(url, 'Filecoin.MpoolGetNonce', [wallet.address])
  const est = await rpc(url, 'Filecoin.GasEstimateMessageGas', [{ Version: 0, To, From: wallet.address, Nonce, Value, Method, Params: Params ? Buffer.from(Params).toString('base64') : null }, { MaxFee: '0' }, null])
  const m = { Version: 0, To, From: wallet.address, Nonce, Value, GasLimit: est.GasLimit, GasFeeCap: est.GasFeeCap, GasPremium: est.GasPremium, Method, Params: est.Params }
  const r = await rpc(url, 'Filecoin.MpoolPush', [signMessage(wallet, m)])
  return r['/']
}

// Advances one epoch at a time until the message has a receipt; returns the lookup.
export async function waitReceipt (url, cid) {
  for (let i = 0; i < 50; i++) {
    const r = await rpc(url, 'Filecoin.StateSearchMsg', [[], { '/': cid }, -1, true])
    if (r) return r
    await rpc(url, 'Devnet.Advance', [1])
  }
  throw new Error(`message ${cid} never got a receipt`)
}

export async function addBalance (url, wallet, amount) {
  const cid = await sendMessage(url, wallet, { To: 'f05', Method: 2, Params: dagCbor.encode(wallet.bytes), Value: String(amount) })
  return waitReceipt(url, cid)
}

export function pieceOf (bytes) {
  const p = Piece.fromPayload(bytes)
  return { v1: p.toInfo().link, v2: p.link, size: Number(p.size) }
}

export function buildDeal ({ wallet, provider, pieceCid, pieceSize, verified = false, label = 'bafy-test-label', startEpoch, endEpoch, price = 0n, providerCollateral = 0n, clientCollateral = 0n, url = 'http://127.0.0.1:1/none', headers = {}, size, uuid, transferType = 'http', isOffline = false, clientBytes, signer, mutateSignature }) {
  const proposal = [pieceCid, pieceSize, verified, clientBytes ?? wallet.bytes, typeof provider === 'string' ? addrBytesFromString(provider) : provider, label, startEpoch, endEpoch,
    bigBytes(price), bigBytes(providerCollateral), bigBytes(clientCollateral)]
  const proposalBytes = dagCbor.encode(proposal)
  let sig = (signer ?? wallet).sign(proposalBytes)
  if (mutateSignature) sig = mutateSignature(sig)
  const clientDealProposal = [proposal, new Uint8Array([1, ...sig])]
  uuid = uuid ?? crypto.getRandomValues(new Uint8Array(16))
  const params = {
    DealUUID: uuid,
    Transfer: { Size: size ?? 0, Type: transferType, Params: new TextEncoder().encode(JSON.stringify({ URL: url, Headers: headers })), ClientID: '' },
    IsOffline: isOffline,
    DealDataRoot: CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'),
    SkipIPNIAnnounce: false,
    ClientDealProposal: clientDealProposal,
    RemoveUnsealedCopy: false
  }
  return { proposal, proposalBytes, clientDealProposal, uuid, dealParamsBytes: dagCbor.encode(params), proposalCid: blakeCid(proposalBytes) }
}

export function statusRequest (wallet, uuid) {
  return dagCbor.encode({ DealUUID: uuid, Signature: new Uint8Array([1, ...wallet.sign(uuid)]) })
}

export async function proposeHttp (httpBase, bytes) {
  const res = await fetch(`${httpBase}/market/mk12/store`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: bytes })
  if (res.status !== 200) throw new Error(`mk12 store: HTTP ${res.status}`)
  return dagCbor.decode(new Uint8Array(await res.arrayBuffer()))
}

// Curio's status and ask endpoints are GETs with a body; fetch refuses that, so use node:http.
export function statusHttp (httpBase, bytes, path = '/market/mk12/status') {
  return new Promise((resolve, reject) => {
    const u = new URL(`${httpBase}${path}`)
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'GET', headers: { 'content-type': 'application/cbor', 'content-length': bytes.length } }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${path}: HTTP ${res.statusCode}`))
        try { resolve(dagCbor.decode(new Uint8Array(Buffer.concat(chunks)))) } catch (e) { reject(e) }
      })
    })
    req.on('error', reject)
    req.end(Buffer.from(bytes))
  })
}

let p2pNode = null
export async function p2pClient () {
  if (!p2pNode) {
    p2pNode = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  }
  return p2pNode
}
export async function stopP2pClient () { if (p2pNode) { await p2pNode.stop(); p2pNode = null } }

// One request per stream. A connection cached from before a provider restart can be dead; like a
// real client, drop it and retry once on a fresh connection.
async function p2pRequest (ma, protocol, bytes) {
  try { return await p2pRequestOnce(ma, protocol, bytes) } catch (e) {
    const node = await p2pClient()
    const addr = multiaddr(ma)
    const peer = addr.getComponents().find(c => c.name === 'p2p')?.value
    if (!peer) throw e
    await node.hangUp(addr).catch(() => {})
    return p2pRequestOnce(ma, protocol, bytes)
  }
}

async function p2pRequestOnce (ma, protocol, bytes) {
  const node = await p2pClient()
  const stream = await node.dialProtocol(multiaddr(ma), protocol, { signal: AbortSignal.timeout(30_000) })
  // Read from the start: a provider may answer before this side has closed (the transports
  // query has no request), and what arrives before anyone iterates the stream is not kept.
  const reading = (async () => {
    const chunks = []
    for await (const c of stream) chunks.push(c.subarray ? c.subarray() : c)
    return chunks
  })()
  if (bytes.length) stream.send(bytes)
  await stream.close()
  const chunks = await reading
  return dagCbor.decode(new Uint8Array(Buffer.concat(chunks)))
}
export function proposeP2p (ma, bytes, protocol = '/fil/storage/mk/1.2.1') { return p2pRequest(ma, protocol, bytes) }
export function statusP2p (ma, bytes) { return p2pRequest(ma, '/fil/storage/status/1.2.0', bytes) }

// The retrieval transports a boost provider announces (/fil/retrieval/transports/1.0.0; no request).
export function transports (prov) { return p2pRequest(prov.multiaddr, '/fil/retrieval/transports/1.0.0', new Uint8Array()) }

export function ask (prov, minerBytes) {
  const req = dagCbor.encode({ Miner: minerBytes })
  return prov.kind === 'curio' ? statusHttp(prov.http, req, '/market/mk12/ask') : p2pRequest(prov.multiaddr, '/fil/storage/ask/1.1.0', req)
}

// Proposes through whichever protocol the provider kind speaks.
export function propose (prov, bytes) { return prov.kind === 'curio' ? proposeHttp(prov.http, bytes) : proposeP2p(prov.multiaddr, bytes) }
export function status (prov, bytes) { return prov.kind === 'curio' ? statusHttp(prov.http, bytes) : statusP2p(prov.multiaddr, bytes) }

// Serves bytes like a careful piece server: GET and HEAD with Content-Length, a single Range ->
// 206. Options: requireHeader [name, value] (else 401); ignoreRange (always 200 + whole body);
// noLength (chunked, no Content-Length). hits.ranges records the Range headers seen.
export function servePayload (bytes, { requireHeader, ignoreRange = false, noLength = false } = {}) {
  const hits = { count: 0, rejected: 0, heads: 0, ranges: [] }
  const server = http.createServer((req, res) => {
    hits.count++
    if (req.method === 'HEAD') hits.heads++
    if (requireHeader && req.headers[requireHeader[0].toLowerCase()] !== requireHeader[1]) { hits.rejected++; res.writeHead(401).end(); return }
    let body = bytes; let status = 200; const headers = {}
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    if (req.headers.range) hits.ranges.push(req.headers.range)
    if (m && !ignoreRange) {
      const start = Number(m[1]); const end = m[2] === '' ? bytes.length - 1 : Math.min(Number(m[2]), bytes.length - 1)
      body = bytes.subarray(start, end + 1); status = 206
      headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`
    }
    if (!noLength) headers['content-length'] = body.length
    res.writeHead(status, headers)
    res.end(req.method === 'HEAD' ? undefined : Buffer.from(body))
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/payload.car`,
    hits,
    close: () => new Promise(r => { server.close(() => r()); server.closeAllConnections() })
  })))
}

// Polls fn until it returns a truthy value; generous bound, no timing assumptions.
export async function until (fn, what, { tries = 600, delayMs = 50 } = {}) {
  for (let i = 0; i < tries; i++) {
    const v = await fn()
    if (v) return v
    await new Promise(resolve => setTimeout(resolve, delayMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}
