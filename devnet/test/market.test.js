// Publishing in batches (period and maximum per message, as Curio's config), verified deals
// spending DataCap, and the legacy /fil/storage/mk/1.2.0 DealParams (5 keys) on libp2p.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { blake2b } from '@noble/hashes/blake2.js'
import { startDevnet } from '../src/devnet.js'
import { Wallet, ask, f1FromPub, rpc, sendMessage, waitReceipt, bigBytes, idBytes, buildDeal, pieceOf, propose, proposeP2p, status, statusRequest, servePayload, until, stopP2pClient } from './client.js'
import { payload, fundedClient, makeDeal } from './helpers.js'

let devnet, url, providers
before(async () => {
  devnet = await startDevnet({ providers: 2, seed: 'market', epochMs: 0, publishPeriod: 5, maxDealsPerPublish: 2, sealDelay: 4 })
  url = devnet.descriptor().rpc
  providers = devnet.descriptor().providers
})
after(async () => { await stopP2pClient(); await devnet.close() })

for (const kind of ['curio', 'boost']) {
  test(`${kind}: deals are published in batches of at most MaxDealsPerPublish, the rest after the period`, async () => {
    const p = providers.find(x => x.kind === kind)
    const w = await fundedClient(url)
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const deals = []
    const servers = []
    for (let i = 0; i < 3; i++) {
      const bytes = payload(1500, 70 + i + (kind === 'boost' ? 10 : 0))
      const piece = pieceOf(bytes)
      const server = await servePayload(bytes); servers.push(server)
      const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
      const d = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 400, endEpoch: h + 400 + 518400, price: 2000n, providerCollateral: min, url: server.url, size: bytes.length })
      assert.deepEqual(await propose(p, d.dealParamsBytes), { Accepted: true, Message: '' })
      deals.push(d)
    }
    const st = (d) => status(p, statusRequest(w, d.uuid))
    // All three transferred; the first two to arrive filled a batch and were published at once.
    const statuses = await until(async () => {
      const all = await Promise.all(deals.map(st))
      return all.every(s => s.DealStatus.Status !== 'Accepted') && all
    }, 'three transfers')
    const published = statuses.filter(s => s.DealStatus.Status === 'Published')
    const waiting = statuses.filter(s => s.DealStatus.Status === 'Transferred')
    assert.equal(published.length, 2)
    assert.equal(waiting.length, 1)
    assert.equal(published[0].DealStatus.PublishCid.toString(), published[1].DealStatus.PublishCid.toString())
    assert.equal((await rpc(url, 'Filecoin.ChainHead')).Height, h)
    const last = deals[statuses.indexOf(waiting[0])]
    await rpc(url, 'Devnet.Advance', [4])
    assert.equal((await st(last)).DealStatus.Status, 'Transferred')
    await rpc(url, 'Devnet.Advance', [1])
    const lastPublished = await st(last)
    assert.equal(lastPublished.DealStatus.Status, 'Published')
    assert.notEqual(lastPublished.DealStatus.PublishCid.toString(), published[0].DealStatus.PublishCid.toString())
    await rpc(url, 'Devnet.Advance', [1])
    const first = await rpc(url, 'Filecoin.StateSearchMsg', [[], { '/': published[0].DealStatus.PublishCid.toString() }, -1, true])
    const [ids] = dagCbor.decode(Buffer.from(first.Receipt.Return, 'base64'))
    assert.equal(ids.length, 2)
    const msg = devnet.chain.s.msgs[published[0].DealStatus.PublishCid.toString()].message
    assert.equal(msg.To, 'f05')
    assert.equal(msg.Method, 4)
    assert.equal(msg.From, await rpc(url, 'Filecoin.StateAccountKey', [(await rpc(url, 'Filecoin.StateMinerInfo', [p.id, null])).Worker, null]))
    for (const s of servers) await s.close()
  })
}

test('a verified deal spends the client\'s DataCap when published', async () => {
  const p = providers.find(x => x.kind === 'boost')
  const w = await fundedClient(url, 1n)
  await rpc(url, 'Devnet.GrantDataCap', [w.address, '1048576'])
  const bytes = payload(2000, 90)
  const server = await servePayload(bytes)
  try {
    const piece = pieceOf(bytes)
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, true, null])).Min)
    const d = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, verified: true, startEpoch: h + 400, endEpoch: h + 400 + 518400, price: 0n, providerCollateral: min, url: server.url, size: bytes.length })
    assert.deepEqual(await propose(p, d.dealParamsBytes), { Accepted: true, Message: '' })
    let s = await until(async () => { const x = await status(p, statusRequest(w, d.uuid)); return x.DealStatus.Status !== 'Accepted' && x }, 'transfer')
    for (let i = 0; i < 20 && s.DealStatus.Status !== 'PublishConfirmed'; i++) { await rpc(url, 'Devnet.Advance', [1]); s = await status(p, statusRequest(w, d.uuid)) }
    assert.equal(s.DealStatus.Status, 'PublishConfirmed')
    assert.equal(await rpc(url, 'Filecoin.StateVerifiedClientStatus', [w.address, null]), String(1048576 - piece.size))
    const md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [s.DealStatus.ChainDealID, null])
    assert.equal(md.Proposal.VerifiedDeal, true)
    assert.equal(md.Proposal.StoragePricePerEpoch, '0')
  } finally {
    await server.close()
  }
})

test('boost accepts the legacy 1.2.0 DealParams (no SkipIPNIAnnounce / RemoveUnsealedCopy) on /fil/storage/mk/1.2.0', async () => {
  const p = providers.find(x => x.kind === 'boost')
  const w = await fundedClient(url)
  const bytes = payload(1000, 91)
  const piece = pieceOf(bytes)
  const h = (await rpc(url, 'Filecoin.ChainHead')).Height
  const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
  const d = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 400, endEpoch: h + 400 + 518400, price: 2000n, providerCollateral: min, url: 'http://127.0.0.1:9/x', size: bytes.length })
  const full = dagCbor.decode(d.dealParamsBytes)
  delete full.SkipIPNIAnnounce
  delete full.RemoveUnsealedCopy
  assert.deepEqual(await proposeP2p(p.multiaddr, dagCbor.encode(full), '/fil/storage/mk/1.2.0'), { Accepted: true, Message: '' })
})

test('a provider withdraws its earnings to its owner', async () => {
  const p = providers[0]
  const bytes = payload(1000, 92)
  const server = await servePayload(bytes)
  try {
    const { dealId } = await makeDeal({ url, prov: p, bytes, server, startIn: 100 })
    const md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
    await rpc(url, 'Devnet.Advance', [md.Proposal.StartEpoch + 10 - (await rpc(url, 'Filecoin.ChainHead')).Height])
    const bal = await rpc(url, 'Filecoin.StateMarketBalance', [p.id, null])
    const available = BigInt(bal.Escrow) - BigInt(bal.Locked)
    assert.ok(available > 0n)
    // The worker key lives inside the devnet; a test may borrow it to act as the operator.
    const worker = new Wallet(devnet.providers[0].worker.priv)
    const info = await rpc(url, 'Filecoin.StateMinerInfo', [p.id, null])
    assert.equal(await rpc(url, 'Filecoin.StateAccountKey', [info.Owner, null]), worker.address)
    const before = BigInt(await rpc(url, 'Filecoin.WalletBalance', [info.Owner]))
    const params = dagCbor.encode([idBytes(1000), bigBytes(available + 1n)])
    const r = await waitReceipt(url, await sendMessage(url, worker, { To: 'f05', Method: 3, Params: params }))
    assert.equal(r.Receipt.ExitCode, 0)
    assert.deepEqual(dagCbor.decode(Buffer.from(r.Receipt.Return, 'base64')), bigBytes(available))
    const after = BigInt(await rpc(url, 'Filecoin.WalletBalance', [info.Owner]))
    assert.ok(after > before, `owner balance ${before} -> ${after}`)
    const left = await rpc(url, 'Filecoin.StateMarketBalance', [p.id, null])
    // Only what was earned in the epochs since the withdrawal remains available.
    assert.ok(BigInt(left.Escrow) - BigInt(left.Locked) < available)
  } finally {
    await server.close()
  }
})

for (const kind of ['curio', 'boost']) {
  test(`${kind}: serves its ask (/market/mk12/ask or /fil/storage/ask/1.1.0), signed by its worker`, async () => {
    const p = providers.find(x => x.kind === kind)
    await rpc(url, 'Devnet.SetAsk', [p.id, { Price: '123456', MinPieceSize: 512 }])
    const expected = await rpc(url, 'Devnet.Ask', [p.id])
    const r = await ask(p, idBytes(Number(p.id.slice(2))))
    const a = r.Ask.Ask
    assert.deepEqual(a.Price, bigBytes(123456n))
    assert.deepEqual(a.VerifiedPrice, bigBytes(BigInt(expected.VerifiedPrice)))
    assert.equal(a.MinPieceSize, 512)
    assert.equal(a.MaxPieceSize, expected.MaxPieceSize)
    assert.deepEqual(a.Miner, idBytes(Number(p.id.slice(2))))
    assert.ok(a.SeqNo >= 1)
    // The signature recovers to the worker's key.
    const sig = r.Ask.Signature
    assert.equal(sig[0], 1)
    const rec = new Uint8Array([sig[65], ...sig.subarray(1, 65)])
    const pub = secp256k1.Point.fromBytes(secp256k1.recoverPublicKey(rec, blake2b(dagCbor.encode(a), { dkLen: 32 }), { prehash: false })).toBytes(false)
    const worker = (await rpc(url, 'Filecoin.StateMinerInfo', [p.id, null])).Worker
    assert.equal(f1FromPub(pub).address, await rpc(url, 'Filecoin.StateAccountKey', [worker, null]))
    // Asking the wrong provider gets no ask.
    assert.deepEqual(await ask(p, idBytes(4242)), { Ask: null })
    await rpc(url, 'Devnet.SetAsk', [p.id, { Price: '500000000', MinPieceSize: 256 }])
  })
}

test('a client that withdraws its escrow before publishing gets its deal rejected by the market actor', async () => {
  const p = providers.find(x => x.kind === 'curio')
  const w = await fundedClient(url, 1n)
  const bytes = payload(1500, 93)
  const server = await servePayload(bytes)
  try {
    const piece = pieceOf(bytes)
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
    const d = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 400, endEpoch: h + 400 + 518400, price: 2000n, providerCollateral: min, url: server.url, size: bytes.length })
    assert.deepEqual(await propose(p, d.dealParamsBytes), { Accepted: true, Message: '' })
    await until(async () => (await status(p, statusRequest(w, d.uuid))).DealStatus.Status === 'Transferred', 'transfer')
    const r = await waitReceipt(url, await sendMessage(url, w, { To: 'f05', Method: 3, Params: dagCbor.encode([w.bytes, bigBytes(10n ** 18n)]) }))
    assert.equal(r.Receipt.ExitCode, 0)
    let s
    for (let i = 0; i < 20; i++) {
      s = await status(p, statusRequest(w, d.uuid))
      if (s.DealStatus.Error) break
      await rpc(url, 'Devnet.Advance', [1])
    }
    assert.equal(s.DealStatus.Status, 'Published')
    assert.match(s.DealStatus.Error, /^wait for confirmation of publish message \S+ failed: exit code 16$/)
    const publish = await rpc(url, 'Filecoin.StateSearchMsg', [[], { '/': s.DealStatus.PublishCid.toString() }, -1, true])
    assert.equal(publish.Receipt.ExitCode, 16)
    assert.equal((await rpc(url, 'Devnet.Deals')).find(x => x.UUID && x.Client === w.address).State, 'failed')
  } finally {
    await server.close()
  }
})
