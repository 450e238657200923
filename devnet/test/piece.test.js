// Retrieval: GET|HEAD /piece/{v1|v2} with Range and 206, answers checked against
// @web3-storage/data-segment; Devnet.Stats counts bytes and requests. And the transfer checks
// that guard what a provider ends up serving: headers honoured, size, CommP.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Piece } from '@web3-storage/data-segment'
import { startDevnet } from '../src/devnet.js'
import { multiaddr } from '@multiformats/multiaddr'
import { rpc, buildDeal, pieceOf, propose, status, statusRequest, servePayload, until, stopP2pClient, transports } from './client.js'
import { payload, fundedClient, makeDeal } from './helpers.js'

let devnet, url, providers
before(async () => {
  devnet = await startDevnet({ providers: 2, seed: 'piece', epochMs: 0, publishPeriod: 2, sealDelay: 4 })
  url = devnet.descriptor().rpc
  providers = devnet.descriptor().providers
})
after(async () => { await stopP2pClient(); await devnet.close() })

for (const kind of ['curio', 'boost']) {
  test(`${kind}: /piece serves the unpadded bytes with Range and 206, verified with data-segment`, async () => {
    const p = providers.find(x => x.kind === kind)
    const bytes = payload(5000, kind === 'curio' ? 21 : 22)
    const server = await servePayload(bytes)
    try {
      const { piece } = await makeDeal({ url, prov: p, bytes, server })
      const before = await rpc(url, 'Devnet.Stats', [p.id])
      const head = await fetch(`${p.http}/piece/${piece.v1}`, { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.headers.get('content-length'), '5000')
      assert.equal(head.headers.get('accept-ranges'), 'bytes')
      assert.equal(head.headers.get('etag'), `"${piece.v1}"`)
      const full = new Uint8Array(await (await fetch(`${p.http}/piece/${piece.v2}`)).arrayBuffer())
      const recomputed = Piece.fromPayload(full)
      assert.equal(recomputed.link.toString(), piece.v2.toString())
      assert.equal(recomputed.toInfo().link.toString(), piece.v1.toString())
      // Ranges: each 206 body is the same slice of what data-segment verified.
      const ranges = [['bytes=0-99', 0, 100], ['bytes=100-', 100, 5000], ['bytes=-50', 4950, 5000], ['bytes=4990-99999', 4990, 5000], ['bytes=1234-1234', 1234, 1235]]
      const parts = []
      for (const [h, from, to] of ranges) {
        const r = await fetch(`${p.http}/piece/${piece.v1}`, { headers: { Range: h } })
        assert.equal(r.status, 206, h)
        assert.equal(r.headers.get('content-range'), `bytes ${from}-${to - 1}/5000`)
        const body = new Uint8Array(await r.arrayBuffer())
        assert.deepEqual(body, full.subarray(from, to), h)
        parts.push(body.length)
      }
      // Reassembled from two ranges, the piece still has the right CommP.
      const a = new Uint8Array(await (await fetch(`${p.http}/piece/${piece.v1}`, { headers: { Range: 'bytes=0-2499' } })).arrayBuffer())
      const b = new Uint8Array(await (await fetch(`${p.http}/piece/${piece.v1}`, { headers: { Range: 'bytes=2500-' } })).arrayBuffer())
      assert.equal(Piece.fromPayload(new Uint8Array([...a, ...b])).link.toString(), piece.v2.toString())
      const bad = await fetch(`${p.http}/piece/${piece.v1}`, { headers: { Range: 'bytes=5000-' } })
      assert.equal(bad.status, 416)
      assert.equal(bad.headers.get('content-range'), 'bytes */5000')
      await bad.arrayBuffer()
      assert.equal((await fetch(`${p.http}/piece/${pieceOf(payload(5000, 99)).v1}`)).status, 404)
      assert.equal((await fetch(`${p.http}/piece/not-a-cid`)).status, 404)
      const after = await rpc(url, 'Devnet.Stats', [p.id])
      const served = 5000 + parts.reduce((x, y) => x + y, 0) + a.length + b.length
      assert.equal(after.BytesServed - before.BytesServed, served)
      assert.equal(after.Requests['piece-head'] - (before.Requests['piece-head'] ?? 0), 1)
      assert.equal(after.Requests['piece-get'] - (before.Requests['piece-get'] ?? 0), 1 + ranges.length + 2 + 3)
      assert.ok(after.Requests[kind === 'curio' ? 'mk12-store' : 'libp2p-deal'] >= 1)
    } finally {
      await server.close()
    }
  })

  test(`${kind}: the transfer honours headers and checks size and CommP before anything is served`, async () => {
    const p = providers.find(x => x.kind === kind)
    const w = await fundedClient(url)
    const bytes = payload(3000, 30)
    const piece = pieceOf(bytes)
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
    const mk = (over) => buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 2000n, providerCollateral: min, size: bytes.length, ...over })
    const failed = async (deal) => until(async () => { const s = await status(p, statusRequest(w, deal.uuid)); return s.DealStatus.Error && s }, 'the deal to fail')

    // Without the header the server wants, the pull fails (401).
    const guarded = await servePayload(bytes, { requireHeader: ['Authorization', 'Bearer right'] })
    const d1 = mk({ url: guarded.url, headers: { Authorization: 'Bearer wrong' }, label: 'h1' })
    assert.deepEqual(await propose(p, d1.dealParamsBytes), { Accepted: true, Message: '' })
    assert.equal((await failed(d1)).DealStatus.Error, kind === 'boost'
      ? 'data-transfer failed: http HEAD req failed: code: 401, status: 401 Unauthorized'
      : `data-transfer failed: could not finish transfer: GET ${guarded.url} answered HTTP 401`)
    assert.equal(guarded.hits.rejected, 1)
    await guarded.close()

    // More bytes than Transfer.Size.
    const big = await servePayload(payload(3100, 30))
    const d2 = mk({ url: big.url, label: 'h2' })
    assert.deepEqual(await propose(p, d2.dealParamsBytes), { Accepted: true, Message: '' })
    assert.equal((await failed(d2)).DealStatus.Error, kind === 'boost'
      ? 'data-transfer failed: deal size mismatch: head: 3100, dealInfo: 3000'
      : 'data-transfer failed: mismatch in dealSize vs received bytes, dealSize=3000, received=3100')
    await big.close()

    // Fewer bytes than Transfer.Size.
    const small = await servePayload(payload(2900, 30))
    const d3 = mk({ url: small.url, label: 'h3' })
    assert.deepEqual(await propose(p, d3.dealParamsBytes), { Accepted: true, Message: '' })
    assert.equal((await failed(d3)).DealStatus.Error, kind === 'boost'
      ? 'data-transfer failed: deal size mismatch: head: 2900, dealInfo: 3000'
      : 'data-transfer failed: mismatch in dealSize vs received bytes, dealSize=3000, received=2900')
    await small.close()

    // Right size, wrong bytes: CommP mismatch.
    const other = payload(3000, 31)
    const wrong = await servePayload(other)
    const d4 = mk({ url: wrong.url, label: 'h4' })
    assert.deepEqual(await propose(p, d4.dealParamsBytes), { Accepted: true, Message: '' })
    const s4 = await failed(d4)
    assert.equal(s4.DealStatus.Error, `failed to verify CommP: commP expected=${piece.v1}, actual=${pieceOf(other).v1}: commp mismatch`)
    assert.equal(s4.DealStatus.Status, 'Accepted')
    await wrong.close()
    assert.equal((await fetch(`${p.http}/piece/${piece.v1}`)).status, 404)
  })
}

test('boost pulls with HEAD then 5 Range requests; curio with one GET', async () => {
  const w = await fundedClient(url)
  const bytes = payload(5000, 32)
  const piece = pieceOf(bytes)
  const h = (await rpc(url, 'Filecoin.ChainHead')).Height
  const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
  for (const p of providers) {
    const server = await servePayload(bytes)
    const d = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 5000n, providerCollateral: min, url: server.url, size: bytes.length, label: `pull-${p.kind}` })
    assert.deepEqual(await propose(p, d.dealParamsBytes), { Accepted: true, Message: '' })
    const s = await until(async () => { const x = await status(p, statusRequest(w, d.uuid)); return (x.DealStatus.Status !== 'Accepted' || x.DealStatus.Error) && x }, 'transfer')
    assert.equal(s.DealStatus.Error, '')
    if (p.kind === 'boost') {
      assert.equal(server.hits.heads, 1)
      assert.deepEqual(server.hits.ranges.sort(), ['bytes=0-1000', 'bytes=1000-2000', 'bytes=2000-3000', 'bytes=3000-4000', 'bytes=4000-5000'])
    } else {
      assert.equal(server.hits.heads, 0)
      assert.deepEqual(server.hits.ranges, [])
      assert.equal(server.hits.count, 1)
    }
    await server.close()
  }
})

test('a data server that ignores Range or omits Content-Length fails boost transfers, not curio ones', async () => {
  const w = await fundedClient(url)
  const bytes = payload(5000, 33)
  const piece = pieceOf(bytes)
  const h = (await rpc(url, 'Filecoin.ChainHead')).Height
  const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
  for (const [opt, boostError] of [
    [{ ignoreRange: true }, (a) => `failed to verify CommP: commP expected=${piece.v1}, actual=${a}: commp mismatch`],
    [{ noLength: true }, () => "data-transfer failed: can't determine deal size from the head request, no header"]
  ]) {
    for (const p of providers) {
      const server = await servePayload(bytes, opt)
      const d = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 5000n, providerCollateral: min, url: server.url, size: bytes.length, label: `${JSON.stringify(opt)}-${p.kind}` })
      assert.deepEqual(await propose(p, d.dealParamsBytes), { Accepted: true, Message: '' })
      const s = await until(async () => { const x = await status(p, statusRequest(w, d.uuid)); return (x.DealStatus.Status !== 'Accepted' || x.DealStatus.Error) && x }, 'transfer')
      if (p.kind === 'curio') {
        assert.equal(s.DealStatus.Error, '')
        assert.equal(s.DealStatus.Status, 'Transferred')
      } else if (opt.ignoreRange) {
        // Boost read the first 1000 bytes five times: the CommP of that is what it found.
        const wrong = new Uint8Array(Buffer.concat(Array(5).fill(bytes.subarray(0, 1000))))
        assert.equal(s.DealStatus.Error, boostError(pieceOf(wrong).v1))
      } else {
        assert.equal(s.DealStatus.Error, boostError())
      }
      await server.close()
    }
  }
})

test('CommP is zero-padded to a PieceSize larger than the payload needs', async () => {
  const p = providers[0]
  const bytes = payload(1000, 40)
  const server = await servePayload(bytes)
  try {
    const w = await fundedClient(url)
    // 1000 bytes fit a 1024-byte piece; propose it as 4096 with the CommP of the padded piece.
    const small = Piece.fromPayload(bytes)
    assert.equal(Number(small.size), 1024)
    const padded = new Uint8Array(4064) // 4096 * 127/128: zero padding after the payload
    padded.set(bytes)
    const piece4096 = Piece.fromPayload(padded).toInfo().link
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [4096, false, null])).Min)
    // Curio insists Transfer.Size pads to PieceSize, so send the size of the padded payload
    // from a server that serves the zero-padded bytes (as a client padding its CAR would).
    const paddedServer = await servePayload(padded)
    const deal = buildDeal({ wallet: w, provider: p.id, pieceCid: piece4096, pieceSize: 4096, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 2000n, providerCollateral: min, url: paddedServer.url, size: padded.length })
    assert.deepEqual(await propose(p, deal.dealParamsBytes), { Accepted: true, Message: '' })
    const s = await until(async () => { const x = await status(p, statusRequest(w, deal.uuid)); return (x.DealStatus.Status !== 'Accepted' || x.DealStatus.Error) && x }, 'transfer')
    assert.equal(s.DealStatus.Error, '')
    await paddedServer.close()
    // On boost (no Transfer.Size rule), the unpadded 1000 bytes are zero-padded by the provider.
    const b = providers.find(x => x.kind === 'boost')
    const d2 = buildDeal({ wallet: w, provider: b.id, pieceCid: piece4096, pieceSize: 4096, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 2000n, providerCollateral: min, url: server.url, size: bytes.length, label: 'pad' })
    assert.deepEqual(await propose(b, d2.dealParamsBytes), { Accepted: true, Message: '' })
    const s2 = await until(async () => { const x = await status(b, statusRequest(w, d2.uuid)); return (x.DealStatus.Status !== 'Accepted' || x.DealStatus.Error) && x }, 'transfer')
    assert.equal(s2.DealStatus.Error, '')
    assert.equal(s2.DealStatus.Status, 'Transferred')
  } finally {
    await server.close()
  }
})

test('status answers an unknown UUID and a wrong signature with Boost\'s strings', async () => {
  for (const p of providers) {
    const w = await fundedClient(url)
    const uuid = crypto.getRandomValues(new Uint8Array(16))
    const s = await status(p, statusRequest(w, uuid))
    const hex = Buffer.from(uuid).toString('hex')
    assert.equal(s.Error, `no storage deal found with deal UUID ${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`)
    assert.equal(s.DealStatus, null)
    const bytes = payload(1000, 50)
    const piece = pieceOf(bytes)
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
    const deal = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 2000n, providerCollateral: min, url: 'http://127.0.0.1:9/x', size: bytes.length })
    assert.deepEqual(await propose(p, deal.dealParamsBytes), { Accepted: true, Message: '' })
    const other = await fundedClient(url)
    assert.equal((await status(p, statusRequest(other, deal.uuid))).Error, 'signature verification failed')
  }
})

test('boost: /fil/retrieval/transports/1.0.0 names the /piece server (booster-http), which is not on chain', async () => {
  const p = providers.find(x => x.kind === 'boost')
  const info = await rpc(url, 'Filecoin.StateMinerInfo', [p.id, null])
  const onChain = info.Multiaddrs.map(b => multiaddr(new Uint8Array(Buffer.from(b, 'base64'))).toString())
  assert.ok(onChain.every(a => !a.endsWith('/http')), `on chain: ${onChain}`)
  const answer = await transports(p)
  assert.deepEqual(Object.keys(answer), ['Protocols'])
  const byName = Object.fromEntries(answer.Protocols.map(t => [t.Name, t.Addresses.map(a => multiaddr(a).toString())]))
  assert.deepEqual(Object.keys(byName).sort(), ['http', 'libp2p'])
  assert.deepEqual(byName.libp2p, onChain)
  assert.deepEqual(byName.http, [`/ip4/127.0.0.1/tcp/${new URL(p.http).port}/http`])
  // The named server is the provider's /piece endpoint.
  assert.equal((await fetch(`http://127.0.0.1:${new URL(p.http).port}/piece/${pieceOf(payload(100, 7)).v1}`)).status, 404)
  assert.ok((await rpc(url, 'Devnet.Stats', [p.id])).Requests['libp2p-transports'] >= 1)
})
