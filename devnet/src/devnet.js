// Composition root of the devnet: genesis (deterministic from the seed), providers and their
// servers, the RPC endpoint, the epoch timer and --state persistence.
//
// Contract:
// - startDevnet(options) -> Promise<Devnet>; options: port (RPC, 0 = free port), providers (count,
//   alternating "curio", "boost", starting with curio at f01000), epochMs (0 = time moves only
//   through Devnet.Advance), seed (same seed -> same keys, addresses, peer IDs, actor IDs),
//   kinds (optional array overriding the alternation, e.g. ['boost']), stateDir (null = in memory), publishPeriod, maxDealsPerPublish, sealDelay (epochs), finality,
//   circulatingSupply (attoFIL, drives the provider collateral minimum).
// - devnet.descriptor(): the one-line JSON printed by main.js:
//   {rpc, providers: [{id, kind, http, multiaddr, peerId}]}.
// - devnet.close(): stops the timer and every server, flushes state; idempotent.
// - With stateDir, state.json (+ pieces/<v1 cid>) is rewritten atomically after every change and
//   loaded at start; a state made with another seed or provider count is refused with an error.

import fs from 'node:fs'
import path from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { sha256 } from '@noble/hashes/sha2.js'
import { Chain } from './chain.js'
import { Provider } from './provider.js'
import { startProviderHttp, startBoostHost } from './servers.js'
import { startRpc } from './rpc.js'
import { deriveSecpKey, parseAddress, idAddressBytes, formatAddress } from './fil.js'
import { serialize, deserialize, writeAtomic, readIfExists } from './persist.js'

const FIL = 10n ** 18n
const STATE_VERSION = 1

export class Devnet {
  constructor (opts) {
    this.opts = opts
    this.networkName = 'cairn-devnet'
    this.chain = new Chain({ seed: opts.seed, finality: opts.finality, circulatingSupply: opts.circulatingSupply })
    this.providers = []
    this.servers = []
    this.timer = null
    this.saveTimer = null
    this.closed = false
  }

  providerByAddress (addr) {
    let id
    try { id = this.chain.idOf(parseAddress(addr).bytes) } catch (e) { throw new Error(`provider '${addr}': ${e.message}`) }
    return this.providers.find(p => p.id === id) ?? null
  }

  advance (epochs) {
    const h = this.chain.advance(epochs)
    this.scheduleSave()
    return h
  }

  dealsJson () {
    const out = this.providers.flatMap(p => p.dealsJson())
    const known = new Set(out.map(d => d.DealID).filter(x => x != null))
    for (const d of Object.values(this.chain.s.deals)) {
      if (known.has(d.id)) continue
      out.push({
        UUID: null,
        Provider: formatAddress(idAddressBytes(BigInt(d.providerId))),
        Client: formatAddress(idAddressBytes(BigInt(d.clientId))),
        State: d.slashEpoch >= 0 ? 'slashed' : d.sectorStartEpoch >= 0 ? 'active' : 'published',
        DealID: d.id,
        PieceCID: d.proposal.pieceCid.toString(),
        PieceSize: d.proposal.pieceSize,
        StartEpoch: d.proposal.startEpoch,
        EndEpoch: d.proposal.endEpoch,
        SectorStartEpoch: d.sectorStartEpoch,
        SlashEpoch: d.slashEpoch
      })
    }
    return out
  }

  info () {
    return {
      NetworkName: this.networkName,
      Simulated: true,
      Height: this.chain.s.height,
      FinalizedHeight: this.chain.finalizedHeight(),
      EpochMs: this.opts.epochMs,
      Seed: this.opts.seed,
      PublishPeriod: this.opts.publishPeriod,
      MaxDealsPerPublish: this.opts.maxDealsPerPublish,
      SealDelay: this.opts.sealDelay,
      Finality: this.opts.finality,
      CirculatingSupply: this.chain.params.circulatingSupply.toString(),
      Providers: this.descriptor().providers
    }
  }

  descriptor () {
    return {
      rpc: `http://127.0.0.1:${this.rpcPort}/rpc/v1`,
      providers: this.providers.map(p => ({
        id: p.addressString,
        kind: p.kind,
        http: `http://127.0.0.1:${p.httpPort}`,
        multiaddr: p.kind === 'boost' ? `/ip4/127.0.0.1/tcp/${p.p2pPort}/p2p/${p.peerId}` : `/ip4/127.0.0.1/tcp/${p.httpPort}/http/p2p/${p.peerId}`,
        peerId: p.peerId
      }))
    }
  }

  // ---- persistence ----

  statePath () { return path.join(this.opts.stateDir, 'state.json') }
  piecesDir () { return path.join(this.opts.stateDir, 'pieces') }

  load () {
    const text = readIfExists(this.statePath())
    if (text == null) return false
    const snap = deserialize(text)
    if (snap.version !== STATE_VERSION) throw new Error(`state: ${this.statePath()} has version ${snap.version}, want ${STATE_VERSION}`)
    if (snap.providers.length !== this.providers.length) throw new Error(`state: ${this.statePath()} has ${snap.providers.length} providers, but --providers is ${this.providers.length}`)
    this.chain.restore(snap.chain)
    snap.providers.forEach((ps, i) => { this.providers[i].s = ps })
    for (const p of this.providers) {
      for (const d of Object.values(p.s.deals)) {
        if (d.pieceV1 && !p.pieces.has(d.pieceV1)) {
          const f = path.join(this.piecesDir(), d.pieceV1)
          if (fs.existsSync(f)) p.pieces.set(d.pieceV1, new Uint8Array(fs.readFileSync(f)))
        }
      }
    }
    return true
  }

  scheduleSave () {
    if (!this.opts.stateDir || this.closed || this.saveTimer) return
    this.saveTimer = setTimeout(() => { this.saveTimer = null; this.save() }, 20)
  }

  save () {
    if (!this.opts.stateDir) return
    fs.mkdirSync(this.piecesDir(), { recursive: true })
    const held = new Set()
    for (const p of this.providers) {
      for (const [cid, bytes] of p.pieces) {
        held.add(cid)
        const f = path.join(this.piecesDir(), cid)
        if (!fs.existsSync(f)) writeAtomic(f, bytes)
      }
    }
    for (const name of fs.readdirSync(this.piecesDir())) {
      if (!held.has(name)) fs.rmSync(path.join(this.piecesDir(), name), { force: true })
    }
    const snap = { version: STATE_VERSION, chain: this.chain.snapshot(), providers: this.providers.map(p => p.s) }
    writeAtomic(this.statePath(), serialize(snap))
  }

  async close () {
    if (this.closed) return
    if (this.timer) clearInterval(this.timer)
    if (this.saveTimer) { clearTimeout(this.saveTimer); this.saveTimer = null }
    this.save()
    this.closed = true
    this.chain.close()
    for (const p of this.providers) p.close()
    await Promise.all(this.servers.map(s => s.stop ? s.stop() : new Promise(resolve => { s.close(() => resolve()); s.closeAllConnections?.() })))
  }
}

export async function startDevnet (options = {}) {
  const opts = {
    port: 0,
    providers: 2,
    epochMs: 0,
    seed: 'cairn',
    stateDir: null,
    publishPeriod: 10, // Curio PublishMsgPeriod 5 min = 10 epochs
    maxDealsPerPublish: 8, // Curio MaxDealsPerPublishMsg
    sealDelay: 60, // epochs from AddedPiece to activation (real PoRep: ~8 h = 960 epochs)
    finality: 900,
    circulatingSupply: 10n ** 26n,
    ...options
  }
  if (!Number.isSafeInteger(opts.providers) || opts.providers < 1 || opts.providers > 100) throw new Error(`devnet: --providers must be in [1, 100], got ${opts.providers}`)
  if (!Number.isSafeInteger(opts.epochMs) || opts.epochMs < 0) throw new Error(`devnet: --epoch-ms must be a non-negative integer, got ${opts.epochMs}`)
  opts.seed = String(opts.seed)
  const devnet = new Devnet(opts)
  const chain = devnet.chain

  // Genesis: provider i is f0(1000+i); its worker account is f0(100+i), funded for gas, and its
  // market escrow holds collateral.
  for (let i = 0; i < opts.providers; i++) {
    const kind = opts.kinds?.[i] ?? (i % 2 === 0 ? 'curio' : 'boost')
    if (kind !== 'curio' && kind !== 'boost') throw new Error(`devnet: provider kind must be curio or boost, got '${kind}'`)
    const worker = deriveSecpKey(opts.seed, `worker-${i}`)
    const workerId = chain.createAccountWithId(worker.address, 100 + i)
    chain.s.actors[workerId].balance = 10_000n * FIL
    const privateKey = await generateKeyPairFromSeed('Ed25519', sha256(new TextEncoder().encode(`cairn-devnet|${opts.seed}|peer|${i}`)))
    const peerId = peerIdFromPrivateKey(privateKey).toString()
    const id = chain.createMiner({ id: 1000 + i, owner: workerId, worker: workerId, peerId, multiaddrs: [], kind })
    chain.escrowOf(id).escrow = 1_000n * FIL
    const provider = new Provider({
      chain, id, kind, worker, publishPeriod: opts.publishPeriod, maxDealsPerPublish: opts.maxDealsPerPublish, sealDelay: opts.sealDelay,
      stateHooks: { onChange: () => devnet.scheduleSave() }
    })
    provider.peerId = peerId
    provider.privateKey = privateKey
    devnet.providers.push(provider)
  }
  chain.addListener({ onChange: () => devnet.scheduleSave() })

  if (opts.stateDir) {
    fs.mkdirSync(opts.stateDir, { recursive: true })
    devnet.load()
  }

  try {
    for (const p of devnet.providers) {
      const server = await startProviderHttp(p)
      devnet.servers.push(server)
      p.httpPort = server.address().port
      const hooks = [() => server.closeAllConnections()]
      p.onOffline = () => { for (const h of hooks) h() }
      let ma
      if (p.kind === 'boost') {
        const node = await startBoostHost(p, p.privateKey)
        devnet.servers.push(node)
        hooks.push(() => { for (const c of node.getConnections()) c.abort(new Error('provider went offline')) })
        p.p2pPort = Number(node.getMultiaddrs()[0].toString().split('/')[4])
        ma = multiaddr(`/ip4/127.0.0.1/tcp/${p.p2pPort}`)
      } else {
        ma = multiaddr(`/ip4/127.0.0.1/tcp/${p.httpPort}/http`)
      }
      chain.s.miners[p.id].multiaddrs = [ma.bytes]
    }
    const rpc = await startRpc(devnet, opts.port)
    devnet.servers.push(rpc)
    devnet.rpcPort = rpc.address().port
  } catch (e) {
    await devnet.close()
    throw e
  }
  for (const p of devnet.providers) p.resume()
  if (opts.epochMs > 0) {
    devnet.timer = setInterval(() => { try { devnet.advance(1) } catch (e) { process.emitWarning(`devnet: epoch tick failed: ${e.message}`) } }, opts.epochMs)
    devnet.timer.unref?.()
  }
  devnet.save()
  return devnet
}

export { formatAddress }
