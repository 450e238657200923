// Test helpers built on the npm-only client (test/client.js): deterministic payloads and a deal
// driven to a chosen point of its life. Contract: makeDeal resolves once the provider reports
// `until` ('Transferred' | 'Complete' | 'active'), returning {deal, piece, dealId, status, wallet}.
import assert from 'node:assert/strict'
import { Wallet, rpc, addBalance, buildDeal, pieceOf, propose, status, statusRequest, until } from './client.js'

const FIL = 10n ** 18n

export function payload (n, seed) {
  const out = new Uint8Array(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

export async function fundedClient (url, escrowFil = 10n) {
  const w = Wallet.random()
  await rpc(url, 'Devnet.Fund', [w.address, String(100n * FIL)])
  assert.equal((await addBalance(url, w, escrowFil * FIL)).Receipt.ExitCode, 0)
  return w
}

export async function makeDeal ({ url, prov, bytes, server, wallet, startIn = 300, untilState = 'active', price = 20000n }) {
  wallet = wallet ?? await fundedClient(url)
  const piece = pieceOf(bytes)
  const head = (await rpc(url, 'Filecoin.ChainHead')).Height
  const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
  const deal = buildDeal({ wallet, provider: prov.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: head + startIn, endEpoch: head + startIn + 518400, price, providerCollateral: min, url: server.url, size: bytes.length })
  const resp = await propose(prov, deal.dealParamsBytes)
  assert.deepEqual(resp, { Accepted: true, Message: '' })
  const st = () => status(prov, statusRequest(wallet, deal.uuid))
  let s = await until(async () => { const x = await st(); return (x.DealStatus.Status !== 'Accepted' || x.DealStatus.Error) && x }, 'transfer', { tries: 2400 })
  assert.equal(s.DealStatus.Error, '')
  if (untilState === 'Transferred') return { deal, piece, status: s, wallet }
  for (let i = 0; i < 100 && s.DealStatus.Status !== 'Complete'; i++) { await rpc(url, 'Devnet.Advance', [1]); s = await st() }
  assert.equal(s.DealStatus.Status, 'Complete')
  const dealId = s.DealStatus.ChainDealID
  if (untilState === 'Complete') return { deal, piece, status: s, wallet, dealId }
  let md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null])
  for (let i = 0; i < 400 && md.State.SectorStartEpoch === -1; i++) { await rpc(url, 'Devnet.Advance', [1]); md = await rpc(url, 'Filecoin.StateMarketStorageDeal', [dealId, null]) }
  assert.notEqual(md.State.SectorStartEpoch, -1)
  return { deal, piece, status: await st(), wallet, dealId }
}
