// Chain JSON-RPC: shapes of §3.6, the virtual clock and finality, message verification, the
// AddBalance vector of deal_vectors.json, escrow, IDs on first receipt, determinism by seed.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import { multiaddr } from '@multiformats/multiaddr'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { startDevnet } from '../src/devnet.js'
import { Wallet, rpc, sendMessage, signMessage, waitReceipt, addBalance, bigBytes, idBytes } from './client.js'

const vectors = JSON.parse(fs.readFileSync(new URL('./vectors/deal_vectors.json', import.meta.url)))
const FIL = 10n ** 18n
let devnet, url

before(async () => {
  devnet = await startDevnet({ providers: 2, seed: 'chain-test', epochMs: 0, finality: 20 })
  url = devnet.descriptor().rpc
})
after(async () => { await devnet.close() })

test('ChainHead and v2 ChainGetTipSet tags follow the virtual clock with a finality lag', async () => {
  const h0 = await rpc(url, 'Filecoin.ChainHead')
  assert.equal(h0.Height, 0)
  assert.ok(h0.Cids[0]['/'].startsWith('bafy2bza'))
  assert.equal(h0.Blocks[0].Height, 0)
  await rpc(url, 'Devnet.Advance', [300])
  const head = await rpc(url, 'Filecoin.ChainHead')
  assert.equal(head.Height, 300)
  assert.deepEqual(head.Blocks[0].Parents, (await rpc(url, 'Filecoin.ChainGetTipSetByHeight', [299, null])).Cids)
  const v2 = url.replace('/rpc/v1', '/rpc/v2')
  assert.equal((await rpc(v2, 'Filecoin.ChainGetTipSet', [{ tag: 'latest' }])).Height, 300)
  assert.equal((await rpc(v2, 'Filecoin.ChainGetTipSet', [{ tag: 'finalized' }])).Height, 280)
  const safe = (await rpc(v2, 'Filecoin.ChainGetTipSet', [{ tag: 'safe' }])).Height
  assert.ok(safe >= 280 && safe <= 300)
  await assert.rejects(rpc(v2, 'Filecoin.ChainGetTipSet', [{ tag: 'bogus' }]), /unsupported selector/)
  const byKey = await rpc(url, 'Filecoin.ChainGetTipSet', [head.Blocks[0].Parents])
  assert.equal(byKey.Height, 299)
  assert.deepEqual((await rpc(url, 'Filecoin.ChainGetTipSet', [[]])).Cids, head.Cids)
  await assert.rejects(rpc(url, 'Filecoin.NoSuchMethod'), e => e.code === -32601)
  assert.equal(await rpc(url, 'Filecoin.StateNetworkName'), 'cairn-devnet')
})

test('StateMinerInfo carries the peer ID and binary multiaddrs the descriptor announces', async () => {
  for (const p of devnet.descriptor().providers) {
    const info = await rpc(url, 'Filecoin.StateMinerInfo', [p.id, null])
    assert.equal(info.PeerId, p.peerId)
    assert.equal(info.Multiaddrs.length, 1)
    const ma = multiaddr(new Uint8Array(Buffer.from(info.Multiaddrs[0], 'base64'))).toString()
    if (p.kind === 'boost') assert.equal(`${ma}/p2p/${p.peerId}`, p.multiaddr)
    else assert.equal(ma, `/ip4/127.0.0.1/tcp/${new URL(p.http).port}/http`)
    assert.equal(info.SectorSize, 34359738368)
    assert.match(info.Worker, /^f0\d+$/)
  }
  await assert.rejects(rpc(url, 'Filecoin.StateMinerInfo', ['f09999', null]), /not found/)
})

test('accounts get an f0 ID on first receipt; lookups and balances', async () => {
  const w = Wallet.random()
  await assert.rejects(rpc(url, 'Filecoin.StateLookupID', [w.address, null]), /actor not found/)
  assert.equal(await rpc(url, 'Filecoin.WalletBalance', [w.address]), '0')
  const r = await rpc(url, 'Devnet.Fund', [w.address, String(5n * FIL)])
  assert.match(r.ID, /^f0\d+$/)
  assert.equal(await rpc(url, 'Filecoin.StateLookupID', [w.address, null]), r.ID)
  assert.equal(await rpc(url, 'Filecoin.StateAccountKey', [r.ID, null]), w.address)
  assert.equal(await rpc(url, 'Filecoin.WalletBalance', [r.ID]), String(5n * FIL))
  assert.deepEqual(await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null]), { Escrow: '0', Locked: '0' })
  // A plain send to a fresh f1 creates that account too.
  const other = Wallet.random()
  const cid = await sendMessage(url, w, { To: other.address, Value: String(FIL) })
  const rec = await waitReceipt(url, cid)
  assert.equal(rec.Receipt.ExitCode, 0)
  assert.match(await rpc(url, 'Filecoin.StateLookupID', [other.address, null]), /^f0\d+$/)
  assert.equal(await rpc(url, 'Filecoin.WalletBalance', [other.address]), String(FIL))
})

test('the AddBalance vector is accepted byte for byte, with nonces in order', async () => {
  const v = vectors.addBalanceMessage
  const w = new Wallet(Buffer.from(vectors.key.privHex, 'hex'))
  assert.equal(w.address, vectors.key.f1)
  await rpc(url, 'Devnet.Fund', [vectors.key.t1, String(10n * FIL)])
  // The vector has nonce 7: send seven messages first, one per epoch.
  for (let i = 0; i < 7; i++) {
    const cid = await sendMessage(url, w, { To: w.address, Value: '1' })
    assert.equal((await waitReceipt(url, cid)).Receipt.ExitCode, 0)
  }
  assert.equal(await rpc(url, 'Filecoin.MpoolGetNonce', [vectors.key.t1]), 7)
  const sm = {
    Message: { Version: 0, ...vectors.glifLotusType },
    Signature: { Type: 1, Data: Buffer.from(v.sigOverBlake2bOfCidBytes_hex, 'hex').toString('base64') }
  }
  const pushed = await rpc(url, 'Filecoin.MpoolPush', [sm])
  assert.equal(pushed['/'], v.signedMessageCid)
  assert.equal(await rpc(url, 'Filecoin.StateSearchMsg', [[], pushed, -1, true]), null)
  const waiting = rpc(url, 'Filecoin.StateWaitMsg', [pushed, 2, -1, true])
  await rpc(url, 'Devnet.Advance', [3])
  const r = await waiting
  assert.equal(r.Receipt.ExitCode, 0)
  assert.equal(r.Message['/'], v.signedMessageCid)
  assert.equal(r.TipSet.length, 1)
  assert.deepEqual(await rpc(url, 'Filecoin.StateMarketBalance', [vectors.key.f1, null]), { Escrow: '100000000000000000', Locked: '0' })
})

test('MpoolPush rejects bad signatures, nonce errors and unaffordable messages', async () => {
  const w = Wallet.random()
  await rpc(url, 'Devnet.Fund', [w.address, String(FIL)])
  const base = { Version: 0, To: 'f05', From: w.address, Nonce: 0, Value: '0', GasLimit: 5_000_000, GasFeeCap: '200000', GasPremium: '100000', Method: 0, Params: null }
  const forged = signMessage(Wallet.random(), base)
  await assert.rejects(rpc(url, 'Filecoin.MpoolPush', [forged]), /signature verification failed/)
  // The malleable twin of a valid signature (S -> n - S, V flipped) recovers the same key but is
  // refused, as Lotus verifies with RejectMalleable.
  const good = Buffer.from(signMessage(w, base).Signature.Data, 'base64')
  const n = secp256k1.Point.CURVE().n
  const highS = n - BigInt('0x' + good.subarray(32, 64).toString('hex'))
  const twin = Buffer.concat([good.subarray(0, 32), Buffer.from(highS.toString(16).padStart(64, '0'), 'hex'), Buffer.from([good[64] ^ 1])])
  await assert.rejects(rpc(url, 'Filecoin.MpoolPush', [{ Message: base, Signature: { Type: 1, Data: twin.toString('base64') } }]), /signature verification failed/)
  await assert.rejects(rpc(url, 'Filecoin.MpoolPush', [signMessage(w, { ...base, Nonce: 1 })]), /unfulfilled nonce gap/)
  await assert.rejects(rpc(url, 'Filecoin.MpoolPush', [signMessage(w, { ...base, Value: String(2n * FIL) })]), /not enough funds/)
  const ok = await rpc(url, 'Filecoin.MpoolPush', [signMessage(w, base)])
  await rpc(url, 'Devnet.Advance', [1])
  await assert.rejects(rpc(url, 'Filecoin.MpoolPush', [signMessage(w, base)]), /minimum expected nonce is 1: message nonce too low/)
  assert.equal((await rpc(url, 'Filecoin.StateSearchMsg', [[], ok, -1, true])).Receipt.ExitCode, 0)
  const unknownMethod = await rpc(url, 'Filecoin.MpoolPush', [signMessage(w, { ...base, Nonce: 1, Method: 99 })])
  await rpc(url, 'Devnet.Advance', [1])
  assert.equal((await rpc(url, 'Filecoin.StateSearchMsg', [[], unknownMethod, -1, true])).Receipt.ExitCode, 22)
})

test('replace by fee: a pending nonce is replaced only with a higher premium; lookups follow the replacement', async () => {
  const w = Wallet.random()
  await rpc(url, 'Devnet.Fund', [w.address, String(FIL)])
  const base = { Version: 0, To: w.address, From: w.address, Nonce: 0, Value: '1', GasLimit: 1_000_000, GasFeeCap: '400000', GasPremium: '100000', Method: 0, Params: null }
  const first = await rpc(url, 'Filecoin.MpoolPush', [signMessage(w, base)])
  await assert.rejects(rpc(url, 'Filecoin.MpoolPush', [signMessage(w, { ...base, GasPremium: '110000' })]),
    /with nonce 0 already in mpool, increase GasPremium to 110001 from 100000 to trigger replace by fee/)
  const second = await rpc(url, 'Filecoin.MpoolPush', [signMessage(w, { ...base, GasPremium: '110001' })])
  assert.notEqual(second['/'], first['/'])
  assert.equal(await rpc(url, 'Filecoin.MpoolGetNonce', [w.address]), 1)
  const waiting = rpc(url, 'Filecoin.StateWaitMsg', [first, 0, -1, true])
  await rpc(url, 'Devnet.Advance', [1])
  assert.equal((await waiting).Message['/'], second['/'])
  assert.equal((await rpc(url, 'Filecoin.StateSearchMsg', [[], first, -1, true])).Message['/'], second['/'])
  assert.equal(await rpc(url, 'Filecoin.StateSearchMsg', [[], first, -1, false]), null)
})

test('WithdrawBalance returns only what is not locked, and only to the client', async () => {
  const w = Wallet.random()
  await rpc(url, 'Devnet.Fund', [w.address, String(10n * FIL)])
  assert.equal((await addBalance(url, w, 3n * FIL)).Receipt.ExitCode, 0)
  const before = BigInt(await rpc(url, 'Filecoin.WalletBalance', [w.address]))
  const params = dagCbor.encode([w.bytes, bigBytes(5n * FIL)])
  const r = await waitReceipt(url, await sendMessage(url, w, { To: 'f05', Method: 3, Params: params }))
  assert.equal(r.Receipt.ExitCode, 0)
  assert.deepEqual(dagCbor.decode(Buffer.from(r.Receipt.Return, 'base64')), bigBytes(3n * FIL))
  assert.deepEqual(await rpc(url, 'Filecoin.StateMarketBalance', [w.address, null]), { Escrow: '0', Locked: '0' })
  const after = BigInt(await rpc(url, 'Filecoin.WalletBalance', [w.address]))
  assert.ok(after > before + 2n * FIL && after <= before + 3n * FIL, `balance ${before} -> ${after}`)
  // Someone else cannot withdraw w's escrow.
  const thief = Wallet.random()
  await rpc(url, 'Devnet.Fund', [thief.address, String(FIL)])
  const r2 = await waitReceipt(url, await sendMessage(url, thief, { To: 'f05', Method: 3, Params: params }))
  assert.equal(r2.Receipt.ExitCode, 18)
})

test('collateral bounds, DataCap and gas estimation shapes', async () => {
  const b = await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [1048576, false, null])
  assert.ok(BigInt(b.Min) > 0n && BigInt(b.Max) > BigInt(b.Min))
  const w = Wallet.random()
  await rpc(url, 'Devnet.Fund', [w.address, '1'])
  assert.equal(await rpc(url, 'Filecoin.StateVerifiedClientStatus', [w.address, null]), null)
  await rpc(url, 'Devnet.GrantDataCap', [w.address, '1048576'])
  assert.equal(await rpc(url, 'Filecoin.StateVerifiedClientStatus', [w.address, null]), '1048576')
  const est = await rpc(url, 'Filecoin.GasEstimateMessageGas', [{ To: 'f05', From: w.address, Value: '0', Method: 2, Params: null }, { MaxFee: '0' }, null])
  assert.ok(est.GasLimit > 0 && BigInt(est.GasFeeCap) >= BigInt(est.GasPremium))
  assert.deepEqual(idBytes(1000), new Uint8Array([0, 0xe8, 0x07]))
})

test('the same seed gives the same keys, addresses and IDs', async () => {
  const a = await startDevnet({ providers: 3, seed: 'same', epochMs: 0 })
  const b = await startDevnet({ providers: 3, seed: 'same', epochMs: 0 })
  const c = await startDevnet({ providers: 1, seed: 'different', epochMs: 0 })
  try {
    const da = a.descriptor().providers; const db = b.descriptor().providers
    assert.deepEqual(da.map(p => [p.id, p.kind, p.peerId]), db.map(p => [p.id, p.kind, p.peerId]))
    assert.deepEqual(da.map(p => p.kind), ['curio', 'boost', 'curio'])
    assert.deepEqual(da.map(p => p.id), ['f01000', 'f01001', 'f01002'])
    const ia = await rpc(a.descriptor().rpc, 'Filecoin.StateMinerInfo', ['f01001', null])
    const ib = await rpc(b.descriptor().rpc, 'Filecoin.StateMinerInfo', ['f01001', null])
    assert.equal(ia.Worker, ib.Worker)
    assert.equal(await rpc(a.descriptor().rpc, 'Filecoin.StateAccountKey', [ia.Worker, null]), await rpc(b.descriptor().rpc, 'Filecoin.StateAccountKey', [ib.Worker, null]))
    assert.notEqual(c.descriptor().providers[0].peerId, da[0].peerId)
  } finally {
    await a.close(); await b.close(); await c.close()
  }
})
