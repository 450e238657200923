// A full deal on both provider kinds, driven by the npm-only client: fund, propose, transfer,
// publish, seal, active (paid per epoch), expire. And the signed DealProposal vector of
// deal_vectors.json, sent the way a client sends it.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from '@noble/hashes/sha2.js'
import { startDevnet } from '../src/devnet.js'
import {
  Wallet, rpc, addBalance, buildDeal, pieceOf, propose, status, statusRequest, servePayload, until, stopP2pClient
} from './client.js'

const vectors = JSON.parse(fs.readFileSync(new URL('./vectors/deal_vectors.json', import.meta.url)))
const dealData = new Uint8Array(fs.readFileSync(new URL('./vectors/deal.data', import.meta.url)))
const FIL = 10n ** 18n
const CHECKPOINTS = ['Accepted', 'Transferred', 'Published', 'PublishConfirmed', 'AddedPiece', 'IndexedAndAnnounced', 'Complete']

after(async () => { await stopP2pClient() })

function payload (n, seed) {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

for (const kind of ['curio', 'boost']) {
  test(`full deal lifecycle on a ${kind} provider: fund, propose, transfer, publish, seal, active, expire`, async () => {
    const devnet = await startDevnet({ providers: 2, seed: `life-${kind}`, epochMs: 0, publishPeriod: 4, sealDelay: 12 })
    const url = devnet.descriptor().rpc
    const prov = devnet.descriptor().providers.find(p => p.kind === kind)
    const bytes = payload(3000, kind === 'curio' ? 1 : 2)
    const piece = pieceOf(bytes)
    const server = await servePayload(bytes, { requireHeader: ['Authorization', 'Bearer secret'] })
    try {
      const w = Wallet.random()
      await rpc(url, 'Devnet.Fund', [w.address, String(100n * FIL)])
      assert.equal((await addBalance(url, w, 10n * FIL)).Receipt.ExitCode, 0)
      const head = (await rpc(url, 'Filecoin.ChainHead')).Height
      const bounds = await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])
      const price = 2000n
      const start = head + 200; const end = start + 518400
      const pc = BigInt(bounds.Min) * 12n / 10n
      const deal = buildDeal({ wallet: w, provider: prov.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: start, endEpoch: end, price, providerCollateral: pc, clientCollateral: 7n, url: server.url, headers: { Authorization: 'Bearer secret' }, size: bytes.length })
      const resp = await propose(prov, deal.dealParamsBytes)
      assert.deepEqual(resp, { Accepted: true, Message: '' })

      const seen = []
      const st = async () => {
        const s = await status(prov, statusRequest(w, deal.uuid))
        assert.equal(s.Error, '')
        if (seen[seen.length - 1] !== s.DealStatus.Status) seen.push(s.DealStatus.Status)
        return s
      }
      const transferred = await until(async () => { const s = await st(); return s.DealStatus.Status !== 'Accepted' && s }, 'transfer')
      assert.equal(transferred.DealStatus.Error, '')
      assert.equal(transferred.NBytesReceived, bytes.length)
      assert.equal(transferred.TransferSize, bytes.length)
      assert.equal(server.hits.rejected, 0)
      assert.ok(server.hits.count >= 1)
      assert.equal(transferred.DealStatus.SignedProposalCid.toString(), CID.createV1(0x71, Digest.create(0x12, sha256(dagCbor.encode(deal.clientDealProposal)))).toString())

      let s = transferred
      for (let i = 0; i < 40 && s.DealStatus.Status !== 'Complete'; i++) {
        await rpc(url, 'Devnet.Advance', [1])
        s = await st()
      }
      assert.deepEqual(seen.filter(x => x !== 'Accepted'), CHECKPOINTS.slice(1), `checkpoints seen: ${seen}`)
      const dealId = s.DealStatus.ChainDealID
      assert.ok(dealId >= 1)
      const pub = await rpc(url, 'Filecoin.StateSearchMsg', [[], { '/': s.DealStatus.PublishCid.toString() }, -1, true])
      assert.equal(pub.Receipt.ExitCode, 0)
      const [ids] = dagCbor.decode(Buffer.from(pub.Receipt.Return, 'base64'))
      assert.deepEqual(ids, [dealId])

      let md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
      assert.deepEqual(md.Proposal, {
        PieceCID: { '/': piece.v1.toString() }, PieceSize: piece.size, VerifiedDeal: false, Client: w.address,
        Provider: prov.id, Label: 'bafy-test-label', StartEpoch: start, EndEpoch: end, StoragePricePerEpoch: String(price), ProviderCollateral: String(pc), ClientCollateral: '7'
      })
      const escrow = await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null])
      assert.equal(escrow.Locked, String(price * 518400n + 7n))

      // Sealing: not active until the seal delay passes, then Proving with SectorStartEpoch set.
      if (md.State.SectorStartEpoch === -1) {
        assert.equal(md.State.SlashEpoch, -1)
        assert.equal(md.State.LastUpdatedEpoch, -1)
        assert.notEqual(s.DealStatus.SealingStatus, 'Proving')
      }
      for (let i = 0; i < 30 && md.State.SectorStartEpoch === -1; i++) {
        await rpc(url, 'Devnet.Advance', [1])
        md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
      }
      assert.ok(md.State.SectorStartEpoch > 0 && md.State.SectorStartEpoch < start)
      // Read at a tipset before activation, the deal is still pending; before publishing, absent.
      const before = await rpc(url, 'Filecoin.ChainGetTipSetByHeight', [md.State.SectorStartEpoch - 1, null])
      const atBefore = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, before.Cids])
      assert.equal(atBefore.State.SectorStartEpoch, -1)
      assert.equal(atBefore.State.LastUpdatedEpoch, -1)
      const genesis = await rpc(url, 'Filecoin.ChainGetTipSetByHeight', [0, null])
      await assert.rejects(rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, genesis.Cids]), /not found/)
      assert.equal(await rpc(url, 'Filecoin.StateSearchMsg', [genesis.Cids, { '/': s.DealStatus.PublishCid.toString() }, -1, true]), null)
      assert.ok(md.State.SectorNumber >= 1)
      s = await st()
      assert.equal(s.DealStatus.SealingStatus, 'Proving')

      // Retrieval by v1 and v2 piece CID.
      for (const c of [piece.v1, piece.v2]) {
        const r = await fetch(`${prov.http}/piece/${c}`)
        assert.equal(r.status, 200)
        assert.deepEqual(new Uint8Array(await r.arrayBuffer()), bytes)
      }

      // Paid per epoch once StartEpoch passes.
      const provBefore = BigInt((await rpc(url, 'Filecoin.StateMarketBalance', [prov.id, null])).Escrow)
      await rpc(url, 'Devnet.Advance', [start + 100 - (await rpc(url, 'Filecoin.ChainHead')).Height])
      const provAfter = BigInt((await rpc(url, 'Filecoin.StateMarketBalance', [prov.id, null])).Escrow)
      assert.equal(provAfter - provBefore, price * 100n)
      const mid = await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null])
      assert.equal(BigInt(mid.Escrow), 10n * FIL - price * 100n)
      assert.equal(BigInt(mid.Locked), price * (518400n - 100n) + 7n)
      const listed = (await rpc(url, 'Devnet.Deals')).find(d => d.DealID === dealId)
      assert.equal(listed.State, 'active')
      assert.equal(listed.Provider, prov.id)

      // Expiry at EndEpoch: state disappears, funds released, piece no longer served.
      await rpc(url, 'Devnet.Advance', [end - (await rpc(url, 'Filecoin.ChainHead')).Height])
      await assert.rejects(rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null]), /not found/)
      // Still readable at a tipset from before the expiry.
      const earlier = await rpc(url, 'Filecoin.ChainGetTipSetByHeight', [end - 1, null])
      assert.notEqual((await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, earlier.Cids])).State.SectorStartEpoch, -1)
      const fin = await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null])
      assert.deepEqual(fin, { Escrow: String(10n * FIL - price * 518400n), Locked: '0' })
      assert.equal((await fetch(`${prov.http}/piece/${piece.v1}`)).status, 404)
      assert.equal((await rpc(url, 'Devnet.Deals')).find(d => d.DealID === dealId).State, 'expired')
    } finally {
      await server.close()
      await devnet.close()
    }
  })
}

// The vector's provider is t01000, so each kind gets a devnet whose first provider is that kind.
for (const kind of ['curio', 'boost']) {
  test(`the signed DealProposal vector is accepted by a ${kind} provider, with its CIDs`, async () => {
    const devnet = await startDevnet({ providers: 1, kinds: [kind], seed: `vec-${kind}`, epochMs: 0, circulatingSupply: 0n, publishPeriod: 2, sealDelay: 5 })
    const url = devnet.descriptor().rpc
    const prov = devnet.descriptor().providers[0]
    assert.equal(prov.id, 'f01000')
    const w = new Wallet(Buffer.from(vectors.key.privHex, 'hex'))
    await rpc(url, 'Devnet.Fund', [vectors.key.t1, String(FIL)])
    await addBalance(url, w, FIL / 10n)
    // The vector starts at 100000 = head + 5760 (Boost's default start delay) for head 94240;
    // Boost refuses a start more than 14 days past head + seal time, so bring the chain there.
    await rpc(url, 'Devnet.Advance', [94240 - (await rpc(url, 'Filecoin.ChainHead')).Height])
    // 1. The DealParams bytes exactly as in the vector.
    const raw = Buffer.from(vectors.dealParams.cborHex, 'hex')
    if (kind === 'curio') {
      // The response bytes themselves are the vector's DealResponse.
      const res = await fetch(`${prov.http}/market/mk12/store`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: raw })
      assert.equal(Buffer.from(await res.arrayBuffer()).toString('hex'), vectors.dealResponseAccepted.cborHex)
    } else {
      const resp = await propose(prov, raw)
      assert.equal(Buffer.from(dagCbor.encode(resp)).toString('hex'), vectors.dealResponseAccepted.cborHex)
    }
    const vparams = dagCbor.decode(raw)
    const s = await status(prov, Buffer.from(vectors.dealStatusRequest.cborHex, 'hex'))
    assert.equal(s.Error, '')
    assert.equal(s.DealStatus.SignedProposalCid.toString(), vectors.dealProposal.signedProposalCid_sha256)
    assert.equal(Buffer.from(dagCbor.encode(s.DealStatus.Proposal)).toString('hex'), vectors.dealProposal.cborHex)
    assert.equal(s.TransferSize, vparams.Transfer.Size)
    await devnet.close()

    // 2. The same signed proposal with a transfer the devnet can reach: it is published with the
    //    vector's proposal CID and activated.
    const devnet2 = await startDevnet({ providers: 1, kinds: [kind], seed: `vec2-${kind}`, epochMs: 0, circulatingSupply: 0n, publishPeriod: 2, sealDelay: 5 })
    const server = await servePayload(dealData)
    try {
      const url2 = devnet2.descriptor().rpc
      const prov2 = devnet2.descriptor().providers[0]
      await rpc(url2, 'Devnet.Fund', [vectors.key.t1, String(FIL)])
      await addBalance(url2, w, FIL / 10n)
      await rpc(url2, 'Devnet.Advance', [94240 - (await rpc(url2, 'Filecoin.ChainHead')).Height])
      const uuid = crypto.getRandomValues(new Uint8Array(16))
      const params = { ...vparams, DealUUID: uuid, Transfer: { ...vparams.Transfer, Size: dealData.length, Params: new TextEncoder().encode(JSON.stringify({ URL: server.url, Headers: {} })) } }
      assert.deepEqual(await propose(prov2, dagCbor.encode(params)), { Accepted: true, Message: '' })
      let st = await until(async () => { const x = await status(prov2, statusRequest(w, uuid)); return x.DealStatus.Status !== 'Accepted' && x }, 'transfer and CommP of deal.data', { tries: 1200 })
      assert.equal(st.DealStatus.Error, '')
      for (let i = 0; i < 20 && st.DealStatus.Status !== 'Complete'; i++) {
        await rpc(url2, 'Devnet.Advance', [1])
        st = await status(prov2, statusRequest(w, uuid))
      }
      assert.equal(st.DealStatus.Status, 'Complete')
      const id = st.DealStatus.ChainDealID
      const md = await rpc(url2, 'Filecoin.StateMarketStorageDeal', [id, null])
      assert.equal(md.Proposal.PieceCID['/'], 'baga6ea4seaqnqkeoqevjjjfe46wo2lpfclcbmkyms4wkz5srou3vzmr3w3c72bq')
      assert.equal(md.Proposal.StartEpoch, 100000)
      assert.equal(md.Proposal.Label, 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
      const publish = await rpc(url2, 'Filecoin.StateSearchMsg', [[], { '/': st.DealStatus.PublishCid.toString() }, -1, true])
      const sent = await rpc(url2, 'Devnet.Deals')
      assert.equal(sent[0].DealID, id)
      assert.equal(publish.Receipt.ExitCode, 0)
      // The on-chain proposal is the vector's: same blake2b proposal CID.
      const onChain = (devnet2.chain.s.deals[id]).proposalCid.toString()
      assert.equal(onChain, vectors.dealProposal.proposalCid_blake2b)
    } finally {
      await server.close()
      await devnet2.close()
    }
  })
}
