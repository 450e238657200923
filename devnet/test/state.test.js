// --state DIR survives a restart (chain, escrow, deals, provider pipelines, pieces); the start
// script prints exactly one JSON line, serves, and exits 0 on SIGTERM; the epoch timer moves time.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { multiaddr } from '@multiformats/multiaddr'
import { startDevnet } from '../src/devnet.js'
import { rpc, status, statusRequest, servePayload, until, stopP2pClient, Wallet, addBalance, pieceOf, buildDeal, propose } from './client.js'
import { payload, makeDeal } from './helpers.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-devnet-test-'))
after(async () => { await stopP2pClient(); fs.rmSync(tmp, { recursive: true, force: true }) })

test('with --state the devnet survives a restart: chain, escrow, deals, pieces, provider status', async () => {
  const dir = path.join(tmp, 'inproc')
  const opts = { providers: 2, seed: 'persist', epochMs: 0, stateDir: dir, publishPeriod: 2, sealDelay: 4 }
  let devnet = await startDevnet(opts)
  let url = devnet.descriptor().rpc
  const deals = []
  const servers = []
  for (const p of devnet.descriptor().providers) {
    const bytes = payload(2000, p.kind === 'curio' ? 61 : 62)
    const server = await servePayload(bytes); servers.push(server)
    deals.push({ kind: p.kind, bytes, ...(await makeDeal({ url, prov: p, bytes, server })) })
  }
  const head = (await rpc(url, 'Filecoin.ChainHead')).Height
  const balances = await Promise.all(deals.map(d => rpc(url, 'Filecoin.StateMarketBalance', [d.wallet.address, null])))
  const onChain = await Promise.all(deals.map(d => rpc(url, 'Filecoin.StateMarketStorageDeal', [d.dealId, null])))
  const before = devnet.descriptor().providers
  await devnet.close()
  for (const s of servers) await s.close()

  devnet = await startDevnet(opts)
  url = devnet.descriptor().rpc
  const now = devnet.descriptor().providers
  assert.deepEqual(now.map(p => [p.id, p.peerId]), before.map(p => [p.id, p.peerId]))
  assert.equal((await rpc(url, 'Filecoin.ChainHead')).Height, head)
  assert.deepEqual(await Promise.all(deals.map(d => rpc(url, 'Filecoin.StateMarketBalance', [d.wallet.address, null]))), balances)
  assert.deepEqual(await Promise.all(deals.map(d => rpc(url, 'Filecoin.StateMarketStorageDeal', [d.dealId, null]))), onChain)
  for (const d of deals) {
    const p = now.find(x => x.kind === d.kind)
    const s = await status(p, statusRequest(d.wallet, d.deal.uuid))
    assert.equal(s.DealStatus.Status, 'Complete')
    assert.equal(s.DealStatus.ChainDealID, d.dealId)
    assert.equal(s.DealStatus.SealingStatus, 'Proving')
    const body = new Uint8Array(await (await fetch(`${p.http}/piece/${d.piece.v2}`)).arrayBuffer())
    assert.deepEqual(body, d.bytes)
    // The chain announces the providers' new addresses.
    const info = await rpc(url, 'Filecoin.StateMinerInfo', [p.id, null])
    const ma = multiaddr(new Uint8Array(Buffer.from(info.Multiaddrs[0], 'base64'))).toString()
    assert.ok(p.multiaddr.startsWith(ma), `${ma} vs ${p.multiaddr}`)
  }
  // Life goes on after the restart: expiry still happens.
  await rpc(url, 'Devnet.Advance', [onChain[0].Proposal.EndEpoch - head])
  await assert.rejects(rpc(url, 'Filecoin.StateMarketStorageDeal', [deals[0].dealId, null]), /not found/)
  await devnet.close()
  await assert.rejects(startDevnet({ ...opts, seed: 'other' }), /made with seed 'persist'/)
  await assert.rejects(startDevnet({ ...opts, providers: 3 }), /has 2 providers/)
})

test('a transfer interrupted by a restart starts again and completes', async () => {
  const dir = path.join(tmp, 'interrupted')
  const opts = { providers: 2, seed: 'interrupt', epochMs: 0, stateDir: dir, publishPeriod: 2, sealDelay: 4 }
  const bytes = payload(6000, 63)
  const server = await servePayload(bytes)
  let devnet = await startDevnet(opts)
  try {
    const url = devnet.descriptor().rpc
    const p = devnet.descriptor().providers.find(x => x.kind === 'boost')
    await rpc(url, 'Devnet.Fault', [p.id, 'slow-transfer', { bytesPerSecond: 2000 }])
    const w = Wallet.random()
    await rpc(url, 'Devnet.Fund', [w.address, String(10n ** 20n)])
    await addBalance(url, w, 10n ** 19n)
    const piece = pieceOf(bytes)
    const min = BigInt((await rpc(url, 'Filecoin.StateDealProviderCollateralBounds', [piece.size, false, null])).Min)
    const h = (await rpc(url, 'Filecoin.ChainHead')).Height
    const deal = buildDeal({ wallet: w, provider: p.id, pieceCid: piece.v1, pieceSize: piece.size, startEpoch: h + 300, endEpoch: h + 300 + 518400, price: 10000n, providerCollateral: min, url: server.url, size: bytes.length })
    assert.deepEqual(await propose(p, deal.dealParamsBytes), { Accepted: true, Message: '' })
    await until(async () => (await status(p, statusRequest(w, deal.uuid))).NBytesReceived > 0, 'the transfer to start')
    await devnet.close()
    const hitsBefore = server.hits.count

    devnet = await startDevnet(opts)
    const p2 = devnet.descriptor().providers.find(x => x.kind === 'boost')
    const mid = await status(p2, statusRequest(w, deal.uuid))
    assert.equal(mid.DealStatus.Status, 'Accepted')
    assert.equal(mid.DealStatus.Error, '')
    await rpc(devnet.descriptor().rpc, 'Devnet.Fault', [p2.id, 'none', {}])
    const done = await until(async () => { const s = await status(p2, statusRequest(w, deal.uuid)); return s.DealStatus.Status === 'Transferred' && s }, 'the restarted transfer')
    assert.equal(done.NBytesReceived, bytes.length)
    assert.ok(server.hits.count > hitsBefore, 'the provider pulled the data again')
  } finally {
    await devnet.close()
    await server.close()
  }
})

function startScript (args) {
  const script = new URL('../../scripts/devnet.sh', import.meta.url).pathname
  const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''; let err = ''
  child.stdout.on('data', c => { out += c })
  child.stderr.on('data', c => { err += c })
  const exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    line: () => until(() => out.includes('\n') && JSON.parse(out.slice(0, out.indexOf('\n'))), 'the ready line', { tries: 1200 })
  }
}

test('scripts/devnet.sh prints one JSON line, serves RPC, keeps --state, and exits 0 on SIGTERM', async () => {
  const dir = path.join(tmp, 'cli')
  const args = ['--port', '0', '--providers', '2', '--epoch-ms', '0', '--seed', 'cli', '--state', dir]
  let run = startScript(args)
  const ready = await run.line()
  assert.match(ready.rpc, /^http:\/\/127\.0\.0\.1:\d+\/rpc\/v1$/)
  assert.equal(ready.providers.length, 2)
  assert.deepEqual(ready.providers.map(p => p.id), ['f01000', 'f01001'])
  assert.match(ready.providers[1].multiaddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)
  assert.match(ready.providers[0].http, /^http:\/\/127\.0\.0\.1:\d+$/)
  const w = Wallet.random()
  await rpc(ready.rpc, 'Devnet.Fund', [w.address, '12345'])
  await rpc(ready.rpc, 'Devnet.Advance', [7])
  run.child.kill('SIGTERM')
  assert.deepEqual(await run.exited, { code: 0, signal: null })
  assert.equal(run.out().trim().split('\n').length, 1, `stdout: ${run.out()}`)

  run = startScript(args)
  const again = await run.line()
  assert.deepEqual(again.providers.map(p => p.peerId), ready.providers.map(p => p.peerId))
  assert.equal((await rpc(again.rpc, 'Filecoin.ChainHead')).Height, 7)
  assert.equal(await rpc(again.rpc, 'Filecoin.WalletBalance', [w.address]), '12345')
  run.child.kill('SIGTERM')
  assert.equal((await run.exited).code, 0)
})

test('scripts/devnet.sh rejects bad arguments with status 2', async () => {
  const run = startScript(['--epoch-ms', 'fast'])
  assert.equal((await run.exited).code, 2)
  assert.match(run.err(), /--epoch-ms wants a non-negative integer/)
})

test('with --epoch-ms the clock moves by itself', async () => {
  const devnet = await startDevnet({ providers: 1, seed: 'clock', epochMs: 20 })
  try {
    await until(async () => (await rpc(devnet.descriptor().rpc, 'Filecoin.ChainHead')).Height >= 3, 'three epochs', { tries: 2400 })
  } finally {
    await devnet.close()
  }
})
