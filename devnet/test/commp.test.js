// commp.js: CommP recomputed off the event loop for large payloads gives the same answers as the
// synchronous computation (checked against @web3-storage/data-segment), and the loop keeps
// turning meanwhile; a provider verifies such a piece through it and the deal goes on.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Piece } from '@web3-storage/data-segment'
import { commP, commPAsync, INLINE_LIMIT } from '../src/commp.js'
import { startDevnet } from '../src/devnet.js'
import { pieceOf, propose, buildDeal, rpc, servePayload, status, statusRequest, until, stopP2pClient } from './client.js'
import { payload, fundedClient, makeDeal } from './helpers.js'

const big = payload(INLINE_LIMIT + 300_000, 77) // above the inline limit: hashed on the worker

test('commPAsync above the inline limit equals commP and data-segment, padded or not, and says when it does not fit', async () => {
  const ref = Piece.fromPayload(big)
  const size = Number(ref.size)
  for (const padded of [size, size * 4]) {
    const sync = commP(big, padded)
    const off = await commPAsync(big, padded)
    assert.equal(off.v1.toString(), sync.v1.toString())
    assert.equal(off.v2.toString(), ref.link.toString())
    assert.equal(off.size, padded)
    assert.equal(off.fits, true)
  }
  assert.equal(commP(big, size).v1.toString(), ref.toInfo().link.toString())
  const tooSmall = await commPAsync(big, size / 2)
  assert.equal(tooSmall.fits, false)
  assert.equal(tooSmall.v1.toString(), ref.toInfo().link.toString())
})

test('the event loop keeps turning while a large payload is hashed', async () => {
  let turned = false
  const done = commPAsync(big, Number(Piece.fromPayload(big).size)).then(r => ({ r, turned }))
  setImmediate(() => { turned = true })
  const { turned: before } = await done
  assert.equal(before, true, 'a setImmediate queued after the call ran only after the hash')
  // The synchronous form holds the loop: the same check comes out the other way.
  let turnedSync = false
  setImmediate(() => { turnedSync = true })
  commP(big, Number(Piece.fromPayload(big).size))
  assert.equal(turnedSync, false)
})

test('the same bytes may be hashed concurrently; each caller keeps its buffer', async () => {
  const a = payload(INLINE_LIMIT + 1, 5)
  const b = payload(INLINE_LIMIT + 2, 6)
  const [ra, rb] = await Promise.all([commPAsync(a, 4 << 20), commPAsync(b, 4 << 20)])
  assert.equal(ra.v2.toString(), Piece.fromPayload(a).link.toString())
  assert.equal(rb.v2.toString(), Piece.fromPayload(b).link.toString())
  assert.equal(a.length, INLINE_LIMIT + 1) // not detached by the transfer to the worker
})

let devnet, url, providers
before(async () => {
  devnet = await startDevnet({ providers: 2, seed: 'commp', epochMs: 0, publishPeriod: 2, sealDelay: 4 })
  url = devnet.descriptor().rpc
  providers = devnet.descriptor().providers
})
after(async () => { await stopP2pClient(); await devnet.close() })

for (const kind of ['curio', 'boost']) {
  test(`${kind}: a piece above the inline limit is verified on the worker: the deal transfers, a wrong CommP fails with the provider's string`, async () => {
    const p = providers.find(x => x.kind === kind)
    const server = await servePayload(big)
    try {
      const { status: s } = await makeDeal({ url, prov: p, bytes: big, server, untilState: 'Transferred', price: 2_000_000n })
      assert.equal(s.DealStatus.Error, '')
      // The same bytes proposed under another payload's piece CID (same piece size).
      const other = payload(big.length, 78)
      const claimed = pieceOf(other)
      const w = await fundedClient(url)
      const h = (await rpc(url, 'Filecoin.ChainHead')).Height
      const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [claimed.size, false, null])).Min)
      const deal = buildDeal({ wallet: w, provider: p.id, pieceCid: claimed.v1, pieceSize: claimed.size, startEpoch: h + 500, endEpoch: h + 500 + 518400, price: 2_000_000n, providerCollateral: min, url: server.url, size: big.length, label: 'wrong' })
      assert.deepEqual(await propose(p, deal.dealParamsBytes), { Accepted: true, Message: '' })
      const f = await until(async () => { const x = await status(p, statusRequest(w, deal.uuid)); return x.DealStatus.Error && x }, 'commp failure', { tries: 2400 })
      assert.equal(f.DealStatus.Error, `failed to verify CommP: commP expected=${claimed.v1}, actual=${pieceOf(big).v1}: commp mismatch`)
    } finally {
      await server.close()
    }
  })
}
