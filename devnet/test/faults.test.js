// Every Devnet.Fault kind, on both provider kinds where it applies: reject, offline,
// slow-transfer, never-seal, lose-data, corrupt-retrieval, none.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Piece } from '@web3-storage/data-segment'
import { startDevnet } from '../src/devnet.js'
import { rpc, buildDeal, pieceOf, propose, status, statusRequest, servePayload, until, stopP2pClient } from './client.js'
import { payload, fundedClient, makeDeal } from './helpers.js'

let devnet, url, providers
before(async () => {
  devnet = await startDevnet({ providers: 2, seed: 'faults', epochMs: 0, publishPeriod: 3, sealDelay: 8 })
  url = devnet.descriptor().rpc
  providers = devnet.descriptor().providers
})
after(async () => { await stopP2pClient(); await devnet.close() })

const kinds = ['curio', 'boost']
const prov = (kind) => providers.find(p => p.kind === kind)

test('Devnet.Fault refuses unknown kinds and missing parameters', async () => {
  await assert.rejects(rpc(url, 'Devnet.Fault', ['f01000', 'meteor', {}]), /unknown kind 'meteor'/)
  await assert.rejects(rpc(url, 'Devnet.Fault', ['f01000', 'reject', {}]), /params.reason/)
  await assert.rejects(rpc(url, 'Devnet.Fault', ['f09999', 'none', {}]), /provider f09999 not found/)
})

for (const kind of kinds) {
  test(`${kind}: reject refuses every proposal with the given reason; none clears it`, async () => {
    const p = prov(kind)
    const w = await fundedClient(url)
    const bytes = payload(1000, 11)
    const piece = pieceOf(bytes)
    const head = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
    const mk = (label) => buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: head + 500, endEpoch: head + 500 + 518400, price: 2000n, providerCollateral: min, url: 'http://127.0.0.1:9/none', size: bytes.length, label })
    const f = await rpc(url, 'Devnet.Fault', [p.id, 'reject', { reason: 'deal rejected: the devnet provider is under maintenance' }])
    assert.equal(f.Kind, 'reject')
    assert.deepEqual(await propose(p, mk('a').dealParamsBytes), { Accepted: false, Message: 'deal rejected: the devnet provider is under maintenance' })
    await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
    assert.deepEqual(await propose(p, mk('b').dealParamsBytes), { Accepted: true, Message: '' })
  })

  test(`${kind}: offline leaves proposals, status and /piece unanswered until none`, async () => {
    const p = prov(kind)
    const w = await fundedClient(url)
    const bytes = payload(1000, 12)
    const piece = pieceOf(bytes)
    const head = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
    const deal = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: head + 500, endEpoch: head + 500 + 518400, price: 2000n, providerCollateral: min, url: 'http://127.0.0.1:9/none', size: bytes.length })
    await rpc(url, 'Devnet.Fault', [p.id, 'offline', {}])
    await assert.rejects(propose(p, deal.dealParamsBytes))
    await assert.rejects(fetch(`${p.http}/piece/${piece.v1}`))
    await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
    assert.deepEqual(await propose(p, deal.dealParamsBytes), { Accepted: true, Message: '' })
    assert.equal((await fetch(`${p.http}/piece/${piece.v1}`)).status, 404)
  })

  test(`${kind}: slow-transfer shows partial NBytesReceived, then completes`, async () => {
    const p = prov(kind)
    const bytes = payload(12000, 13)
    const server = await servePayload(bytes)
    try {
      await rpc(url, 'Devnet.Fault', [p.id, 'slow-transfer', { bytesPerSecond: 4000 }])
      const w = await fundedClient(url)
      const piece = pieceOf(bytes)
      const head = (await rpc(url, 'Filecoin.ChainHead')).Height
      const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
      const deal = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: head + 500, endEpoch: head + 500 + 518400, price: 10000n, providerCollateral: min, url: server.url, size: bytes.length })
      assert.deepEqual(await propose(p, deal.dealParamsBytes), { Accepted: true, Message: '' })
      const partial = await until(async () => {
        const s = await status(p, statusRequest(w, deal.uuid))
        return s.NBytesReceived > 0 && s.NBytesReceived < bytes.length && s
      }, 'a partial transfer')
      assert.equal(partial.DealStatus.Status, 'Accepted')
      await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
      const done = await until(async () => { const s = await status(p, statusRequest(w, deal.uuid)); return s.DealStatus.Status === 'Transferred' && s }, 'the transfer to finish')
      assert.equal(done.NBytesReceived, bytes.length)
    } finally {
      await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
      await server.close()
    }
  })

  test(`${kind}: never-seal makes the deal miss its StartEpoch: removed, client funds unlocked, collateral burnt`, async () => {
    const p = prov(kind)
    const bytes = payload(2000, 14)
    const server = await servePayload(bytes)
    try {
      await rpc(url, 'Devnet.Fault', [p.id, 'never-seal', {}])
      const w = await fundedClient(url)
      const { dealId, deal } = await makeDeal({ url, prov: p, bytes, server, wallet: w, startIn: 60, untilState: 'Complete' })
      const md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
      assert.equal(md.State.SectorStartEpoch, -1)
      const locked = await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null])
      assert.notEqual(locked.Locked, '0')
      const provBefore = BigInt((await rpc(url, 'Filecoin.StateMarketBalance', [p.id, null])).Escrow)
      const head = (await rpc(url, 'Filecoin.ChainHead')).Height
      await rpc(url, 'Devnet.Advance', [md.Proposal.StartEpoch - head + 1])
      await assert.rejects(rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null]), /not found/)
      assert.deepEqual(await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null]), { Escrow: String(10n * 10n ** 18n), Locked: '0' })
      const provAfter = BigInt((await rpc(url, 'Filecoin.StateMarketBalance', [p.id, null])).Escrow)
      assert.equal(provBefore - provAfter, BigInt(md.Proposal.ProviderCollateral))
      const s = await status(p, statusRequest(w, deal.uuid))
      assert.match(s.DealStatus.Error, /was not activated by its start epoch/)
      assert.equal(s.DealStatus.SealingStatus, 'deal not found')
      assert.equal((await rpc(url, 'Devnet.Deals')).find(d => d.DealID === dealId).State, 'timed-out')
    } finally {
      await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
      await server.close()
    }
  })

  test(`${kind}: lose-data terminates active deals with SlashEpoch set and /piece answers 404`, async () => {
    const p = prov(kind)
    const bytes = payload(2000, 15)
    const server = await servePayload(bytes)
    try {
      const { dealId, piece, wallet } = await makeDeal({ url, prov: p, bytes, server })
      assert.equal((await fetch(`${p.http}/piece/${piece.v1}`)).status, 200)
      const r = await rpc(url, 'Devnet.Fault', [p.id, 'lose-data', {}])
      assert.ok(r.SlashedDeals.includes(dealId))
      const head = (await rpc(url, 'Filecoin.ChainHead')).Height
      const md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
      assert.equal(md.State.SlashEpoch, head)
      assert.equal((await fetch(`${p.http}/piece/${piece.v1}`)).status, 404)
      assert.equal((await fetch(`${p.http}/piece/${piece.v2}`)).status, 404)
      const bal = await rpc(url, 'Filecoin.StateMarketBalance', [wallet.address, null])
      assert.equal(bal.Locked, '0')
      assert.equal((await rpc(url, 'Devnet.Deals')).find(d => d.DealID === dealId).State, 'slashed')
      // The market actor forgets the terminated deal at its next cron visit.
      await rpc(url, 'Devnet.Advance', [2880])
      await assert.rejects(rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null]), /not found/)
    } finally {
      await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
      await server.close()
    }
  })

  test(`${kind}: corrupt-retrieval flips bits that a CommP check detects; none restores`, async () => {
    const p = prov(kind)
    const bytes = payload(3000, 16)
    const server = await servePayload(bytes)
    try {
      const { piece } = await makeDeal({ url, prov: p, bytes, server })
      await rpc(url, 'Devnet.Fault', [p.id, 'corrupt-retrieval', {}])
      const body = new Uint8Array(await (await fetch(`${p.http}/piece/${piece.v2}`)).arrayBuffer())
      assert.equal(body.length, bytes.length)
      assert.notDeepEqual(body, bytes)
      assert.notEqual(Piece.fromPayload(body).link.toString(), piece.v2.toString())
      const ranged = await fetch(`${p.http}/piece/${piece.v1}`, { headers: { Range: 'bytes=100-199' } })
      assert.equal(ranged.status, 206)
      assert.notDeepEqual(new Uint8Array(await ranged.arrayBuffer()), bytes.subarray(100, 200))
      await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
      const good = new Uint8Array(await (await fetch(`${p.http}/piece/${piece.v2}`)).arrayBuffer())
      assert.equal(Piece.fromPayload(good).link.toString(), piece.v2.toString())
    } finally {
      await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
      await server.close()
    }
  })
}

test('never-seal cleared in time: the stuck sector resumes sealing and the deal activates', async () => {
  const p = prov('curio')
  const bytes = payload(2000, 17)
  const server = await servePayload(bytes)
  try {
    await rpc(url, 'Devnet.Fault', [p.id, 'never-seal', {}])
    const { dealId, deal, wallet } = await makeDeal({ url, prov: p, bytes, server, startIn: 200, untilState: 'Complete' })
    await rpc(url, 'Devnet.Advance', [30])
    assert.equal((await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])).State.SectorStartEpoch, -1)
    assert.equal((await status(p, statusRequest(wallet, deal.uuid))).DealStatus.SealingStatus, 'PreCommit1')
    await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
    await rpc(url, 'Devnet.Advance', [8])
    assert.notEqual((await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])).State.SectorStartEpoch, -1)
    assert.equal((await status(p, statusRequest(wallet, deal.uuid))).DealStatus.SealingStatus, 'Proving')
  } finally {
    await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
    await server.close()
  }
})

test('lose-data before activation: the sector cannot seal and the deal misses its StartEpoch', async () => {
  const p = prov('boost')
  const bytes = payload(2000, 18)
  const server = await servePayload(bytes)
  try {
    const { dealId, deal, wallet } = await makeDeal({ url, prov: p, bytes, server, startIn: 100, untilState: 'Complete' })
    assert.equal((await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])).State.SectorStartEpoch, -1)
    const r = await rpc(url, 'Devnet.Fault', [p.id, 'lose-data', {}])
    assert.ok(!r.SlashedDeals.includes(dealId))
    await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
    const md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
    await rpc(url, 'Devnet.Advance', [md.Proposal.StartEpoch - (await rpc(url, 'Filecoin.ChainHead')).Height])
    await assert.rejects(rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null]), /not found/)
    assert.match((await status(p, statusRequest(wallet, deal.uuid))).DealStatus.Error, /was not activated by its start epoch/)
  } finally {
    await rpc(url, 'Devnet.Fault', [p.id, 'none', {}])
    await server.close()
  }
})
