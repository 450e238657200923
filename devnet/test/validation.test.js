// Every proposal validation rule, with its exact rejection string, against both provider kinds:
// "curio" over HTTP (/market/mk12/store) and "boost" over libp2p (/fil/storage/mk/1.2.1).
// Strings are Boost's validateDealProposal (storagemarket/deal_acceptance.go) and Curio's
// market/mk12/mk12.go. Where the two differ (the provider address format, and the ask, which
// Curio checks inside applyFilters and reports as "internal server error: failed to apply
// filters"), each kind gets its own expectation.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { startDevnet } from '../src/devnet.js'
import { Wallet, rpc, addBalance, buildDeal, pieceOf, propose, stopP2pClient } from './client.js'

const FIL = 10n ** 18n
let devnet, url, providers, rich, poor, verifiedSmall, verifiedRich, piece, head, min
const PRICE = 2000n

before(async () => {
  devnet = await startDevnet({ providers: 2, seed: 'validation', epochMs: 0 })
  url = devnet.descriptor().rpc
  providers = devnet.descriptor().providers
  await rpc(url, 'Devnet.Advance', [100])
  rich = Wallet.random(); poor = Wallet.random(); verifiedSmall = Wallet.random(); verifiedRich = Wallet.random()
  for (const w of [rich, poor, verifiedSmall, verifiedRich]) await rpc(url, 'Devnet.Fund', [w.address, String(100n * FIL)])
  await addBalance(url, rich, 50n * FIL)
  await addBalance(url, verifiedSmall, 50n * FIL)
  await addBalance(url, verifiedRich, 50n * FIL)
  await rpc(url, 'Devnet.GrantDataCap', [verifiedRich.address, String(1n << 40n)])
  await rpc(url, 'Devnet.GrantDataCap', [verifiedSmall.address, '100'])
  head = (await rpc(url, 'Filecoin.ChainHead')).Height
  piece = pieceOf(new Uint8Array(3000).fill(7))
  min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
})
after(async () => { await stopP2pClient(); await devnet.close() })

function base (prov, over = {}) {
  const start = head + 1000
  return {
    wallet: rich, provider: prov.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: start, endEpoch: start + 518400,
    price: PRICE, providerCollateral: min, url: 'http://127.0.0.1:9/x', size: 3000, ...over
  }
}

const F = 'failed validation: '
const cases = [
  { name: 'signature', deal: () => ({ signer: Wallet.random() }), want: () => F + 'invalid signature' },
  {
    name: 'provider',
    deal: () => ({ provider: 'f01077' }),
    want: (p) => F + `incorrect provider for deal; proposal.Provider: f01077; provider.Address: ${p.kind === 'curio' ? `[${p.id}]` : p.id}`
  },
  { name: 'label', deal: () => ({ label: 'x'.repeat(257) }), want: () => F + 'deal label can be at most 256 bytes, is 257' },
  { name: 'piece size minimum', deal: () => ({ pieceSize: 64 }), want: () => F + 'proposal piece size is invalid: minimum padded piece size is 128 bytes' },
  { name: 'piece size power of two', deal: () => ({ pieceSize: 3000 }), want: () => F + 'proposal piece size is invalid: padded piece size must be a power of 2' },
  { name: 'PieceCID prefix (v2 piece CID)', deal: () => ({ pieceCid: piece.v2 }), want: () => F + 'proposal PieceCID had wrong prefix' },
  { name: 'PieceCID prefix (dag-cbor CID)', deal: () => ({ pieceCid: CID.parse('bafyreiauat72vwjbt4pzy6i7uajkmgubflj6o2rwmxly3l5imuefddssgy') }), want: () => F + 'proposal PieceCID had wrong prefix' },
  { name: 'end before start', deal: () => ({ startEpoch: head + 1000, endEpoch: head + 900 }), want: () => F + `proposal end ${head + 900} before proposal start ${head + 1000}` },
  { name: 'start elapsed', deal: () => ({ startEpoch: head - 10, endEpoch: head - 10 + 518400 }), want: () => F + `deal start epoch ${head - 10} has already elapsed (current epoch: ${head})` },
  { name: 'minimum duration', deal: () => ({ endEpoch: head + 1000 + 518399 }), want: () => F + 'deal duration out of bounds (min, max, provided): 518400, 3680640, 518399' },
  { name: 'maximum duration', deal: () => ({ endEpoch: head + 1000 + 3680641 }), want: () => F + 'deal duration out of bounds (min, max, provided): 518400, 3680640, 3680641' },
  { name: 'end epoch too far', deal: () => ({ endEpoch: head + 1000 + 3680640 }), want: () => F + `invalid deal end epoch ${head + 1000 + 3680640}: cannot be more than 3680640 past current epoch ${head}` },
  { name: 'collateral minimum', deal: () => ({ providerCollateral: min - 1n }), want: () => F + `proposed provider collateral ${min - 1n} below minimum ${min}` },
  { name: 'collateral maximum', deal: () => ({ providerCollateral: 2n * min + 1n }), want: () => F + `proposed provider collateral ${2n * min + 1n} above maximum ${2n * min}` },
  { name: 'escrow', deal: () => ({ wallet: poor }), want: () => F + `client available funds in escrow 0 not enough to meet storage cost for deal ${PRICE * 518400n}` },
  { name: 'escrow with client collateral', deal: () => ({ clientCollateral: 50n * FIL }), want: () => F + `client available funds in escrow ${50n * FIL} not enough to meet storage cost for deal ${PRICE * 518400n + 50n * FIL}` },
  { name: 'verified without DataCap', deal: () => ({ verified: true }), want: () => F + 'client is not a verified client' },
  { name: 'verified DataCap too small', deal: () => ({ verified: true, wallet: verifiedSmall }), want: () => F + `verified deal DataCap 100 too small for proposed piece size ${piece.size}` },
  {
    name: 'ask price',
    deal: () => ({ price: 1n }),
    want: (p) => p.kind === 'curio' ? 'internal server error: failed to apply filters' : F + `storage price per epoch less than asking price: 1 < ${500000000n * BigInt(piece.size) / (1n << 30n)}`
  },
  {
    name: 'ask verified price',
    ask: { VerifiedPrice: '1073741824' },
    deal: () => ({ verified: true, price: 0n, wallet: verifiedRich }),
    want: (p) => p.kind === 'curio' ? 'internal server error: failed to apply filters' : F + `storage price per epoch less than asking price: 0 < ${piece.size}`
  },
  {
    name: 'ask minimum piece size',
    ask: { MinPieceSize: 8192 },
    deal: () => ({}),
    want: (p) => p.kind === 'curio' ? 'internal server error: failed to apply filters' : F + `piece size less than minimum required size: ${piece.size} < 8192`
  },
  {
    name: 'ask maximum piece size',
    ask: { MaxPieceSize: 2048 },
    deal: () => ({}),
    want: (p) => p.kind === 'curio' ? 'internal server error: failed to apply filters' : F + `piece size more than maximum allowed size: ${piece.size} > 2048`
  },
  {
    name: 'offline deals',
    deal: () => ({ isOffline: true }),
    want: (p) => p.kind === 'curio' ? 'offline deals are not allowed on this provider' : 'miner is not accepting offline storage deals'
  },
  {
    name: 'transfer type',
    deal: () => ({ transferType: 'libp2p' }),
    want: (p) => p.kind === 'curio' ? 'libp2p URLs are not supported by this provider' : 'server error: libp2p transfers are not supported by the devnet'
  },
  {
    name: 'unknown transfer type',
    deal: () => ({ transferType: 'graphsync' }),
    // Curio stores whatever type it is given and fails later; Boost refuses up front.
    want: (p) => p.kind === 'curio' ? null : "server error: get deal transfer host: cannot parse params for unrecognized transfer type 'graphsync'"
  },
  {
    name: 'start before sealing can finish (Boost deal filter only)',
    deal: () => ({ startEpoch: head + 59, endEpoch: head + 59 + 518400 }),
    want: (p) => p.kind === 'curio' ? null : `cannot seal a sector before ${head + 59}`
  },
  {
    name: 'start too far in the future (Boost deal filter only)',
    deal: () => ({ startEpoch: head + 60 + 40321, endEpoch: head + 60 + 40321 + 518400 }),
    want: (p) => p.kind === 'curio' ? null : `deal start epoch is too far in the future: ${head + 60 + 40321} > ${head + 60 + 40320}`
  },
  {
    name: 'Transfer.Size against PieceSize (Curio only)',
    deal: () => ({ size: 5000 }),
    want: (p) => p.kind === 'curio' ? `deal proposal piece size ${piece.size} doesn't match padded piece size 8192` : null
  }
]

for (const kind of ['curio', 'boost']) {
  for (const c of cases) {
    test(`${kind} rejects: ${c.name}`, async () => {
      const prov = providers.find(p => p.kind === kind)
      const want = c.want(prov)
      const old = await rpc(url, 'Devnet.Ask', [prov.id])
      if (c.ask) await rpc(url, 'Devnet.SetAsk', [prov.id, c.ask])
      try {
        const deal = buildDeal(base(prov, c.deal()))
        const resp = await propose(prov, deal.dealParamsBytes)
        if (want === null) assert.equal(resp.Accepted, true, `expected acceptance, got: ${resp.Message}`)
        else assert.deepEqual(resp, { Accepted: false, Message: want })
      } finally {
        await rpc(url, 'Devnet.SetAsk', [prov.id, old])
      }
    })
  }

  test(`${kind} rejects a proposal identical to an accepted one, and a reused deal UUID`, async () => {
    const prov = providers.find(p => p.kind === kind)
    const deal = buildDeal(base(prov, { label: `dup-${kind}` }))
    assert.deepEqual(await propose(prov, deal.dealParamsBytes), { Accepted: true, Message: '' })
    const again = await propose(prov, buildDeal(base(prov, { label: `dup-${kind}`, uuid: crypto.getRandomValues(new Uint8Array(16)) })).dealParamsBytes)
    assert.equal(again.Accepted, false)
    if (kind === 'boost') assert.match(again.Message, /^deal proposal is identical to deal [0-9a-f-]{36} \(proposed at .+\)$/)
    else assert.equal(again.Message, `store deal: market deal with the same proposalCID ${deal.proposalCid} already exists: 1`)
    const sameUuid = await propose(prov, buildDeal(base(prov, { label: `other-${kind}`, uuid: deal.uuid })).dealParamsBytes)
    assert.equal(sameUuid.Accepted, false)
    if (kind === 'boost') assert.match(sameUuid.Message, /^deal has the same uuid as deal [0-9a-f-]{36} \(proposed at .+\)$/)
    else assert.equal(sameUuid.Message, 'store deal: store deal success: updated 0 rows instead of 1')
  })
}

test('a valid proposal is accepted by both kinds (the base of every case above)', async () => {
  for (const prov of providers) {
    const resp = await propose(prov, buildDeal(base(prov, { label: `valid-${prov.kind}` })).dealParamsBytes)
    assert.deepEqual(resp, { Accepted: true, Message: '' })
  }
})

test('curio answers 400 to a wrong Content-Type or undecodable CBOR', async () => {
  const prov = providers.find(p => p.kind === 'curio')
  const r1 = await fetch(`${prov.http}/market/mk12/store`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  assert.equal(r1.status, 400)
  const r2 = await fetch(`${prov.http}/market/mk12/store`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: Buffer.from([0xa1, 0x01]) })
  assert.equal(r2.status, 400)
})
