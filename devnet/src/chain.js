// The devnet chain: accounts, a message pool, the market actor (f05) and the virtual clock.
//
// This is a state machine, not a blockchain: one block per epoch, no consensus, no proofs, no
// real actors. It models what a Filecoin client can observe through the Lotus JSON-RPC methods of
// FILECOIN.md §3.6 (served by rpc.js): balances, nonces, receipts with exit codes, market escrow
// (Escrow/Locked), DataCap, storage deals with their -1 sentinels, and finality.
//
// Contract:
// - new Chain({seed, finality, circulatingSupply, ...}) starts at height 0 (or at the snapshot
//   given to restore()). Time moves only through advance(n) (used by the epoch timer and by
//   Devnet.Advance): each epoch includes the whole mpool in order, runs the market cron, then
//   calls every listener's onHeight(height). advance jumps over epochs where nothing can happen
//   (listeners report their next interesting epoch through nextEventHeight(height)), so advancing
//   a deal's whole duration costs as many steps as there are events, not epochs.
// - push(signedMessage) verifies a message the way Lotus' mpool does (secp256k1 signature over
//   blake2b-256 of the message CID, nonce exactly next, balance for value + GasLimit×GasFeeCap)
//   and returns its signed CID; it throws an Error whose message says which check failed.
// - Accounts get an f0 ID the first time they receive funds (Fund, a transfer, or AddBalance).
// - Errors for unknown actors use Lotus' wording ("actor not found").
// - All state is in this.s (plain data: bigint, Uint8Array, CID); snapshot()/restore() use it.

import {
  parseAddress, formatAddress, addressFromBytes, idAddressBytes, recoverSigner, messageCid,
  signedMessageCid, messageToJson, cidToJson, blake2bCid, dagCbor, encodeBigInt, decodeBigInt,
  clientProposalFromCbor, proposalCbor, recoverSigner as recover, sha256Cid, clientProposalCbor,
  equalBytes, proposalToJson
} from './fil.js'

export const EPOCHS_PER_DAY = 2880
export const DEAL_MIN_DURATION = 180 * EPOCHS_PER_DAY // go-state-types market policy
export const DEAL_MAX_DURATION = 1278 * EPOCHS_PER_DAY
export const MAX_SECTOR_EXPIRATION_EXTENSION = 1278 * EPOCHS_PER_DAY // miner policy v12+
export const DEAL_UPDATES_INTERVAL = EPOCHS_PER_DAY // market cron re-visits a deal at most this late
export const BASE_FEE = 100n
export const BLOCK_GAS_LIMIT = 10_000_000_000
export const TOTAL_FILECOIN = 2_000_000_000n * 10n ** 18n
export const BASELINE_POWER = 1n << 60n
export const SECTOR_SIZE = 34359738368 // 32 GiB
export const GENESIS_TIMESTAMP = 1_700_000_000

export const MARKET_ACTOR_ID = 5n
export const METHOD = {
  Send: 0,
  AddBalance: 2,
  WithdrawBalance: 3,
  PublishStorageDeals: 4,
  AddBalanceExported: 822473126,
  WithdrawBalanceExported: 2280458852,
  PublishStorageDealsExported: 2236929350
}
export const EXIT = { Ok: 0, SysErrInsufficientFunds: 6, SysErrOutOfGas: 7, IllegalArgument: 16, NotFound: 17, Forbidden: 18, InsufficientFunds: 19, IllegalState: 20, Serialization: 21, UnhandledMessage: 22 }

const GAS_USED = { send: 488_000, addBalance: 3_400_000, withdraw: 3_900_000, publishBase: 16_000_000, publishPerDeal: 4_000_000 }

class ExitError extends Error {
  constructor (code, message) { super(message); this.code = code }
}

export class Chain {
  constructor ({ seed = 'cairn', finality = 900, safeDistance = 200, circulatingSupply = 10n ** 26n } = {}) {
    this.params = { seed: String(seed), finality, safeDistance, circulatingSupply: BigInt(circulatingSupply) }
    this.s = {
      height: 0,
      nextActorId: 1000,
      actors: {}, // id (decimal string) -> {id, key: Uint8Array|null, kind, balance, nonce}
      byKey: {}, // f1 string -> id string
      escrow: {}, // id -> {escrow, locked}
      datacap: {}, // id -> bigint
      mpool: [], // [{msg, sig, cid}]
      msgs: {}, // signed cid string -> {message (json), receipt, height}
      deals: {}, // deal id string -> {proposal, sectorNumber, sectorStartEpoch, lastUpdatedEpoch, slashEpoch, settledEpoch, proposalCid, paid}
      dealByProposalCid: {},
      nextDealId: 1,
      miners: {}, // id -> {owner, worker, peerId, multiaddrs: [Uint8Array], kind}
      burnt: 0n
    }
    this.listeners = []
    this.waiters = new Set()
  }

  // ---- actors ----

  idOf (addrBytes) {
    const a = addressFromBytes(addrBytes)
    if (a.protocol === 0) return this.s.actors[a.id.toString()] ? a.id.toString() : null
    return this.s.byKey[formatAddress(a.bytes)] ?? null
  }

  mustId (addrBytes) {
    const id = this.idOf(addrBytes)
    if (id == null) throw new Error(`resolution lookup failed (${formatAddress(addrBytes)}): actor not found`)
    return id
  }

  ensureAccount (addrBytes) {
    const existing = this.idOf(addrBytes)
    if (existing != null) return existing
    const a = addressFromBytes(addrBytes)
    if (a.protocol !== 1) throw new Error(`actor ${formatAddress(addrBytes)} not found (only f1 addresses get created on first receipt)`)
    const id = String(this.s.nextActorId++)
    this.s.actors[id] = { id, key: a.bytes, kind: 'account', balance: 0n, nonce: 0 }
    this.s.byKey[formatAddress(a.bytes)] = id
    return id
  }

  // Genesis only: an account with a chosen ID (Lotus genesis accounts live at f0100…).
  createAccountWithId (addrBytes, id) {
    id = String(id)
    if (this.s.actors[id]) throw new Error(`genesis: actor ID ${id} already taken`)
    this.s.actors[id] = { id, key: addrBytes, kind: 'account', balance: 0n, nonce: 0 }
    this.s.byKey[formatAddress(addrBytes)] = id
    return id
  }

  // Genesis only: a miner actor with a chosen ID whose owner and worker are existing accounts.
  createMiner ({ id, owner, worker, peerId, multiaddrs, kind }) {
    id = String(id)
    if (this.s.actors[id]) throw new Error(`genesis: actor ID ${id} already taken`)
    this.s.actors[id] = { id, key: null, kind: 'miner', balance: 0n, nonce: 0 }
    this.s.miners[id] = { owner, worker, peerId, multiaddrs, kind }
    if (this.s.nextActorId <= Number(id)) this.s.nextActorId = Number(id) + 1
    return id
  }

  fund (addrBytes, amount) {
    if (amount < 0n) throw new Error('Devnet.Fund: amount must not be negative')
    const id = this.ensureAccount(addrBytes)
    this.s.actors[id].balance += amount
    this.changed()
    return id
  }

  grantDataCap (addrBytes, bytes) {
    if (bytes < 0n) throw new Error('Devnet.GrantDataCap: bytes must not be negative')
    const id = this.ensureAccount(addrBytes)
    this.s.datacap[id] = (this.s.datacap[id] ?? 0n) + bytes
    this.changed()
    return id
  }

  escrowOf (id) { return this.s.escrow[id] ?? (this.s.escrow[id] = { escrow: 0n, locked: 0n }) }

  balanceOf (addrBytes) {
    const id = this.idOf(addrBytes)
    return id == null ? 0n : this.s.actors[id].balance
  }

  accountKey (addrBytes) {
    const id = this.mustId(addrBytes)
    const key = this.s.actors[id].key
    if (!key) throw new Error(`actor ${formatAddress(idAddressBytes(BigInt(id)))} is not an account actor`)
    return key
  }

  // ---- time ----

  tipsetCid (height) {
    const cid = blake2bCid(dagCbor.encode(['cairn-devnet-block', this.params.seed, height]))
    if (!this.cidHeights) this.cidHeights = new Map()
    if (this.cidHeights.size > 200_000) this.cidHeights.clear()
    this.cidHeights.set(cid.toString(), height)
    return cid
  }

  // Height of a tipset CID this chain handed out (or one of the last 2000), or null.
  heightOfTipset (cidStr) {
    const known = this.cidHeights?.get(cidStr)
    if (known != null && known <= this.s.height) return known
    for (let h = this.s.height; h >= 0 && h > this.s.height - 2000; h--) if (this.tipsetCid(h).toString() === cidStr) return h
    return null
  }

  tipsetJson (height) {
    const cid = this.tipsetCid(height)
    const parents = height > 0 ? [cidToJson(this.tipsetCid(height - 1))] : []
    return {
      Cids: [cidToJson(cid)],
      Blocks: [{
        Miner: formatAddress(idAddressBytes(1000n)),
        Ticket: { VRFProof: Buffer.from(cid.multihash.digest).toString('base64') },
        ElectionProof: { WinCount: 1, VRFProof: Buffer.from(cid.multihash.digest).toString('base64') },
        BeaconEntries: [],
        WinPoStProof: [],
        Parents: parents,
        ParentWeight: String(height * 1000),
        Height: height,
        ParentStateRoot: cidToJson(blake2bCid(dagCbor.encode(['state', this.params.seed, height]))),
        ParentMessageReceipts: cidToJson(blake2bCid(dagCbor.encode(['receipts', this.params.seed, height]))),
        Messages: cidToJson(blake2bCid(dagCbor.encode(['messages', this.params.seed, height]))),
        BLSAggregate: { Type: 2, Data: '' },
        Timestamp: GENESIS_TIMESTAMP + height * 30,
        BlockSig: { Type: 2, Data: '' },
        ForkSignaling: 0,
        ParentBaseFee: BASE_FEE.toString()
      }],
      Height: height
    }
  }

  finalizedHeight () { return Math.max(0, this.s.height - this.params.finality) }
  safeHeight () { return Math.max(this.finalizedHeight(), this.s.height - this.params.safeDistance) }

  addListener (l) { this.listeners.push(l) }
  changed () { for (const l of this.listeners) l.onChange?.() }

  nextEventHeight () {
    const h = this.s.height
    let next = Infinity
    if (this.s.mpool.length) next = h + 1
    for (const d of Object.values(this.s.deals)) {
      if (d.slashEpoch >= 0) next = Math.min(next, Math.max(h + 1, d.slashEpoch + 1))
      else if (d.sectorStartEpoch < 0) next = Math.min(next, Math.max(h + 1, d.proposal.startEpoch))
      else next = Math.min(next, Math.max(h + 1, d.proposal.endEpoch))
    }
    for (const l of this.listeners) {
      const e = l.nextEventHeight?.(h)
      if (e != null) next = Math.min(next, Math.max(h + 1, e))
    }
    for (const w of this.waiters) if (w.height != null) next = Math.min(next, Math.max(h + 1, w.height))
    return next
  }

  // Moves the clock forward by `epochs` (a non-negative integer) and returns the new height.
  advance (epochs) {
    if (!Number.isSafeInteger(epochs) || epochs < 0) throw new Error(`Devnet.Advance: epochs must be a non-negative integer, got ${JSON.stringify(epochs)}`)
    const target = this.s.height + epochs
    while (this.s.height < target) {
      const next = Math.min(target, this.nextEventHeight())
      this.applyEpoch(next)
    }
    this.changed()
    return this.s.height
  }

  applyEpoch (height) {
    this.s.height = height
    const pool = this.s.mpool
    this.s.mpool = []
    for (const entry of pool) this.execute(entry, height)
    this.marketCron(height)
    for (const l of this.listeners) l.onHeight?.(height)
    for (const w of [...this.waiters]) w.check()
  }

  // ---- messages ----

  pendingFor (id) { return this.s.mpool.filter(e => this.idOf(e.msg.from) === id) }

  nextNonce (addrBytes) {
    const id = this.idOf(addrBytes)
    if (id == null) return 0
    return this.s.actors[id].nonce + this.pendingFor(id).length
  }

  // msg: internal message object; sig: {type, data: Uint8Array(65)}. Returns the signed CID.
  push (msg, sig) {
    if (sig.type !== 1) throw new Error(`signature type ${sig.type} is not supported by the devnet (secp256k1 only)`)
    const id = this.idOf(msg.from)
    if (id == null) throw new Error(`mpool push: sender ${formatAddress(msg.from)}: actor not found`)
    const actor = this.s.actors[id]
    if (!actor.key) throw new Error(`mpool push: sender ${formatAddress(msg.from)} is not an account actor`)
    const cid = messageCid(msg)
    const signer = recoverSigner(sig.data, cid.bytes)
    if (!signer || !equalBytes(signer, actor.key)) {
      throw new Error(`signature verification failed: message ${cid} is not signed by ${formatAddress(actor.key)}`)
    }
    if (msg.gasLimit <= 0 || msg.gasLimit > BLOCK_GAS_LIMIT) throw new Error(`message: GasLimit ${msg.gasLimit} outside (0, ${BLOCK_GAS_LIMIT}]`)
    if (msg.gasFeeCap < BASE_FEE) throw new Error(`message: GasFeeCap ${msg.gasFeeCap} less than the minimum base fee ${BASE_FEE}: gas fee cap too low`)
    if (msg.gasPremium > msg.gasFeeCap) throw new Error(`message: GasPremium ${msg.gasPremium} exceeds GasFeeCap ${msg.gasFeeCap}`)
    if (msg.value < 0n) throw new Error('message: Value must not be negative')
    const pending = this.pendingFor(id)
    const expected = actor.nonce + pending.length
    if (msg.nonce < actor.nonce) throw new Error(`minimum expected nonce is ${actor.nonce}: message nonce too low`)
    if (msg.nonce > expected) throw new Error(`message nonce ${msg.nonce} leaves a gap after ${expected}: unfulfilled nonce gap`)
    // Replace by fee (Lotus mpool): a pending nonce may be replaced with a GasPremium of at least
    // old × 110% + 1.
    const old = pending.find(e => e.msg.nonce === msg.nonce)
    if (old) {
      const minPremium = old.msg.gasPremium * 110n / 100n + 1n
      if (msg.gasPremium < minPremium) {
        throw new Error(`message from ${formatAddress(msg.from)} with nonce ${msg.nonce} already in mpool, increase GasPremium to ${minPremium} from ${old.msg.gasPremium} to trigger replace by fee: replace by fee has too low GasPremium`)
      }
    }
    const others = pending.filter(e => e !== old)
    const required = others.reduce((sum, e) => sum + e.msg.value + BigInt(e.msg.gasLimit) * e.msg.gasFeeCap, 0n) +
      msg.value + BigInt(msg.gasLimit) * msg.gasFeeCap
    if (required > actor.balance) throw new Error(`not enough funds including pending messages (required: ${required}, balance: ${actor.balance}): not enough funds`)
    const scid = signedMessageCid(msg, sig.data)
    const entry = { msg, sig: sig.data, cid: scid }
    if (old) {
      this.s.mpool[this.s.mpool.indexOf(old)] = entry
      if (!this.s.replaced) this.s.replaced = {}
      this.s.replaced[old.cid.toString()] = scid.toString()
    } else {
      this.s.mpool.push(entry)
    }
    this.changed()
    return scid
  }

  // The CID that finally carries cidStr: itself, or what replaced it by fee (when allowed).
  resolveReplaced (cidStr, allowReplaced) {
    let c = cidStr
    for (let i = 0; allowReplaced && this.s.replaced?.[c] && i < 1000; i++) c = this.s.replaced[c]
    return c
  }

  execute ({ msg, cid }, height) {
    const fromId = this.idOf(msg.from)
    const actor = this.s.actors[fromId]
    actor.nonce++
    let exitCode = EXIT.Ok; let ret = null; let gasUsed = GAS_USED.send
    try {
      ;({ gasUsed, ret } = this.invoke(fromId, msg))
      if (gasUsed > msg.gasLimit) throw new ExitError(EXIT.SysErrOutOfGas, 'out of gas')
    } catch (e) {
      if (!(e instanceof ExitError)) throw e
      exitCode = e.code; ret = null
      if (e.code === EXIT.SysErrOutOfGas) gasUsed = msg.gasLimit
    }
    // Fees: base fee × gas used is burnt, the premium × limit tip goes nowhere observable.
    const tip = (msg.gasPremium < msg.gasFeeCap - BASE_FEE ? msg.gasPremium : msg.gasFeeCap - BASE_FEE) * BigInt(msg.gasLimit)
    const fee = BASE_FEE * BigInt(gasUsed) + (tip > 0n ? tip : 0n)
    actor.balance -= fee < actor.balance ? fee : actor.balance
    this.s.burnt += fee
    this.s.msgs[cid.toString()] = {
      message: messageToJson(msg),
      receipt: { ExitCode: exitCode, Return: ret ? Buffer.from(ret).toString('base64') : null, GasUsed: gasUsed, EventsRoot: null },
      height,
      cid
    }
    for (const l of this.listeners) l.onReceipt?.(cid.toString(), this.s.msgs[cid.toString()])
  }

  // Runs a message's effect; throws ExitError for non-zero exit codes (state changes are undone by
  // checking before mutating).
  invoke (fromId, msg) {
    const from = this.s.actors[fromId]
    if (msg.value > from.balance) throw new ExitError(EXIT.SysErrInsufficientFunds, 'insufficient balance for value')
    const toA = addressFromBytes(msg.to)
    const isMarket = toA.protocol === 0 && toA.id === MARKET_ACTOR_ID
    if (!isMarket) {
      if (msg.method !== METHOD.Send) {
        if (this.idOf(msg.to) == null) throw new ExitError(EXIT.UnhandledMessage, 'method on a missing actor')
        throw new ExitError(EXIT.UnhandledMessage, `account actor has no method ${msg.method}`)
      }
      let toId = this.idOf(msg.to)
      if (toId == null) {
        if (toA.protocol !== 1) throw new ExitError(EXIT.NotFound, 'receiver not found')
        toId = this.ensureAccount(msg.to)
      }
      from.balance -= msg.value
      this.s.actors[toId].balance += msg.value
      return { gasUsed: GAS_USED.send, ret: null }
    }
    switch (msg.method) {
      case METHOD.Send: // plain value to f05: accepted, credited to nobody's escrow
        from.balance -= msg.value
        this.s.burnt += msg.value
        return { gasUsed: GAS_USED.send, ret: null }
      case METHOD.AddBalance:
      case METHOD.AddBalanceExported: {
        let target
        try { target = addressFromBytes(dagCbor.decode(msg.params)) } catch { throw new ExitError(EXIT.Serialization, 'AddBalance params must be an address') }
        let id = this.idOf(target.bytes)
        if (id == null) {
          if (target.protocol !== 1) throw new ExitError(EXIT.IllegalArgument, 'AddBalance: address not found')
          id = this.ensureAccount(target.bytes)
        }
        from.balance -= msg.value
        this.escrowOf(id).escrow += msg.value
        return { gasUsed: GAS_USED.addBalance, ret: null }
      }
      case METHOD.WithdrawBalance:
      case METHOD.WithdrawBalanceExported: {
        if (msg.value !== 0n) throw new ExitError(EXIT.IllegalArgument, 'WithdrawBalance takes no value')
        let addr, amount
        try {
          const p = dagCbor.decode(msg.params)
          addr = addressFromBytes(p[0]); amount = decodeBigInt(p[1])
        } catch { throw new ExitError(EXIT.Serialization, 'WithdrawBalance params must be [address, amount]') }
        if (amount < 0n) throw new ExitError(EXIT.IllegalArgument, 'negative amount')
        const id = this.idOf(addr.bytes)
        if (id == null) throw new ExitError(EXIT.IllegalArgument, 'address not found')
        let recipient = id
        if (this.s.miners[id]) {
          const m = this.s.miners[id]
          if (fromId !== m.owner && fromId !== m.worker) throw new ExitError(EXIT.Forbidden, 'caller is not the miner owner or worker')
          recipient = m.owner
        } else if (id !== fromId) {
          throw new ExitError(EXIT.Forbidden, 'caller is not the client')
        }
        const e = this.escrowOf(id)
        const available = e.escrow - e.locked
        const take = amount < available ? amount : available
        e.escrow -= take
        this.s.actors[recipient].balance += take
        return { gasUsed: GAS_USED.withdraw, ret: dagCbor.encode(encodeBigInt(take)) }
      }
      case METHOD.PublishStorageDeals:
      case METHOD.PublishStorageDealsExported:
        return this.publishStorageDeals(fromId, msg)
      default:
        throw new ExitError(EXIT.UnhandledMessage, `market actor has no method ${msg.method}`)
    }
  }

  // ---- market actor ----

  storageCost (p) { return p.price * BigInt(p.endEpoch - p.startEpoch) }

  collateralBounds (pieceSize) {
    const size = BigInt(pieceSize)
    const denom = BASELINE_POWER > size ? BASELINE_POWER : size
    const min = (this.params.circulatingSupply * size) / (100n * denom)
    return { min, max: TOTAL_FILECOIN }
  }

  // Checks one ClientDealProposal the way the market actor does at publish; returns a reason or null.
  checkPublishable (providerId, cp, height, reservedClient, reservedProvider, seenCids) {
    const p = cp.proposal
    const pcid = blake2bCid(proposalCbor(p)).toString()
    if (this.s.dealByProposalCid[pcid] || seenCids.has(pcid)) return 'duplicate deal proposal'
    if (cp.signature[0] !== 1) return 'unsupported signature type'
    const signer = recover(cp.signature.subarray(1), proposalCbor(p))
    const clientId = this.idOf(p.client)
    if (clientId == null) return 'client not found'
    const clientKey = this.s.actors[clientId].key
    if (!signer || !clientKey || !equalBytes(signer, clientKey)) return 'invalid client signature'
    if (this.idOf(p.provider) !== providerId) return 'wrong provider'
    if (p.startEpoch <= height) return 'start epoch already passed'
    if (p.endEpoch <= p.startEpoch) return 'end before start'
    const ce = this.escrowOf(clientId)
    const needClient = this.storageCost(p) + p.clientCollateral
    if (ce.escrow - ce.locked - (reservedClient.get(clientId) ?? 0n) < needClient) return 'client escrow insufficient'
    const pe = this.escrowOf(providerId)
    if (pe.escrow - pe.locked - reservedProvider.value < p.providerCollateral) return 'provider escrow insufficient'
    if (p.verified && (this.s.datacap[clientId] ?? 0n) < BigInt(p.pieceSize)) return 'insufficient datacap'
    return null
  }

  publishStorageDeals (fromId, msg) {
    let list
    try {
      const params = dagCbor.decode(msg.params)
      list = params[0].map(clientProposalFromCbor)
    } catch (e) { throw new ExitError(EXIT.Serialization, `PublishStorageDeals params: ${e.message}`) }
    if (!list.length) throw new ExitError(EXIT.IllegalArgument, 'empty deals parameter')
    const providerId = this.idOf(list[0].proposal.provider)
    const miner = providerId && this.s.miners[providerId]
    if (!miner) throw new ExitError(EXIT.NotFound, 'provider not found')
    if (fromId !== miner.worker && fromId !== miner.owner) throw new ExitError(EXIT.Forbidden, 'caller is not provider worker or control address')
    const height = this.s.height
    const reservedClient = new Map(); const reservedProvider = { value: 0n }; const seen = new Set()
    const valid = []
    list.forEach((cp, i) => {
      const reason = this.checkPublishable(providerId, cp, height, reservedClient, reservedProvider, seen)
      if (reason) return
      const cid = this.idOf(cp.proposal.client)
      reservedClient.set(cid, (reservedClient.get(cid) ?? 0n) + this.storageCost(cp.proposal) + cp.proposal.clientCollateral)
      reservedProvider.value += cp.proposal.providerCollateral
      seen.add(blake2bCid(proposalCbor(cp.proposal)).toString())
      valid.push(i)
    })
    if (!valid.length) throw new ExitError(EXIT.IllegalArgument, 'All deal proposals invalid')
    const ids = []
    for (const i of valid) {
      const cp = list[i]; const p = cp.proposal
      const clientId = this.idOf(p.client)
      this.escrowOf(clientId).locked += this.storageCost(p) + p.clientCollateral
      this.escrowOf(providerId).locked += p.providerCollateral
      if (p.verified) this.s.datacap[clientId] -= BigInt(p.pieceSize)
      const dealId = this.s.nextDealId++
      const proposalCid = blake2bCid(proposalCbor(p))
      this.s.deals[dealId] = {
        id: dealId, proposal: p, proposalCid, clientId, providerId,
        signedProposalCid: sha256Cid(clientProposalCbor(cp)),
        sectorNumber: -1, sectorStartEpoch: -1, lastUpdatedEpoch: -1, slashEpoch: -1, settledEpoch: p.startEpoch, paid: 0n,
        publishedHeight: this.s.height
      }
      this.s.dealByProposalCid[proposalCid.toString()] = dealId
      ids.push(dealId)
    }
    const ret = dagCbor.encode([ids, rlePlus(valid, list.length)])
    return { gasUsed: GAS_USED.publishBase + GAS_USED.publishPerDeal * list.length, ret }
  }

  // Called by a provider when the sector holding dealId is proven; false if the deal is gone.
  activateDeal (dealId, sectorNumber) {
    const d = this.s.deals[dealId]
    if (!d || d.sectorStartEpoch >= 0 || d.slashEpoch >= 0) return false
    if (this.s.height >= d.proposal.startEpoch) return false
    d.sectorNumber = sectorNumber
    d.sectorStartEpoch = this.s.height
    d.lastUpdatedEpoch = this.s.height
    this.changed()
    return true
  }

  // Terminates a provider's active deals (sector lost): SlashEpoch set, provider collateral
  // burnt, the client's unspent payment and collateral unlocked. Returns the deal IDs.
  slashProviderDeals (providerId) {
    const ids = []
    for (const d of Object.values(this.s.deals)) {
      if (d.providerId !== providerId || d.slashEpoch >= 0 || d.sectorStartEpoch < 0) continue
      this.settle(d, this.s.height)
      d.slashEpoch = this.s.height
      d.lastUpdatedEpoch = this.s.height
      const p = d.proposal
      const ce = this.escrowOf(d.clientId)
      const unpaid = this.storageCost(p) - d.paid
      ce.locked -= unpaid + p.clientCollateral
      const pe = this.escrowOf(d.providerId)
      pe.locked -= p.providerCollateral
      pe.escrow -= p.providerCollateral
      this.s.burnt += p.providerCollateral
      ids.push(d.id)
    }
    this.changed()
    return ids
  }

  settle (d, height) {
    const p = d.proposal
    const upTo = Math.min(height, p.endEpoch)
    if (d.sectorStartEpoch < 0 || upTo <= d.settledEpoch) return
    const amount = p.price * BigInt(upTo - d.settledEpoch)
    d.settledEpoch = upTo
    d.paid += amount
    const ce = this.escrowOf(d.clientId); const pe = this.escrowOf(d.providerId)
    ce.escrow -= amount; ce.locked -= amount
    pe.escrow += amount
    d.lastUpdatedEpoch = height
  }

  marketCron (height) {
    for (const [key, d] of Object.entries(this.s.deals)) {
      const p = d.proposal
      if (d.slashEpoch >= 0) {
        if (height >= d.slashEpoch + DEAL_UPDATES_INTERVAL || height >= p.endEpoch) this.removeDeal(key, d)
        continue
      }
      if (d.sectorStartEpoch < 0) {
        if (height >= p.startEpoch) {
          // Never activated: the client gets everything back, the provider's collateral is burnt.
          const ce = this.escrowOf(d.clientId)
          ce.locked -= this.storageCost(p) + p.clientCollateral
          const pe = this.escrowOf(d.providerId)
          pe.locked -= p.providerCollateral
          pe.escrow -= p.providerCollateral
          this.s.burnt += p.providerCollateral
          if (p.verified) this.s.datacap[d.clientId] = (this.s.datacap[d.clientId] ?? 0n) + BigInt(p.pieceSize)
          this.removeDeal(key, d)
        }
        continue
      }
      this.settle(d, height)
      if (height >= p.endEpoch) {
        this.escrowOf(d.clientId).locked -= p.clientCollateral
        this.escrowOf(d.providerId).locked -= p.providerCollateral
        this.removeDeal(key, d)
      }
    }
  }

  removeDeal (key, d) {
    delete this.s.deals[key]
    delete this.s.dealByProposalCid[d.proposalCid.toString()]
    // Kept so that state read at an older tipset still finds it (see dealJson).
    if (!this.s.removedDeals) this.s.removedDeals = {}
    this.s.removedDeals[key] = { ...d, removedHeight: this.s.height }
    for (const l of this.listeners) l.onDealRemoved?.(d)
  }

  // The deal as the market actor's state holds it at `height` (default: head), or null when it
  // did not exist yet or no longer existed then.
  dealJson (dealId, height = this.s.height) {
    const d = this.s.deals[dealId] ?? this.s.removedDeals?.[dealId]
    if (!d) return null
    if (height < (d.publishedHeight ?? 0) || (d.removedHeight != null && height >= d.removedHeight)) return null
    const active = d.sectorStartEpoch >= 0 && d.sectorStartEpoch <= height
    return {
      Proposal: proposalToJson(d.proposal),
      State: {
        SectorNumber: active ? d.sectorNumber : 0,
        SectorStartEpoch: active ? d.sectorStartEpoch : -1,
        LastUpdatedEpoch: active ? Math.min(d.lastUpdatedEpoch, height) : -1,
        SlashEpoch: d.slashEpoch >= 0 && d.slashEpoch <= height ? d.slashEpoch : -1
      }
    }
  }

  // ---- lookups used by rpc.js ----

  searchMsg (cidStr, allowReplaced = true, height = this.s.height) {
    cidStr = this.resolveReplaced(cidStr, allowReplaced)
    const m = this.s.msgs[cidStr]
    if (!m || m.height > height) return null
    return {
      Message: cidToJson(m.cid),
      Receipt: m.receipt,
      ReturnDec: null,
      TipSet: [cidToJson(this.tipsetCid(m.height))],
      Height: m.height
    }
  }

  // Resolves when the message has `confidence` epochs on top of its inclusion, or with null when
  // `limit` epochs pass without it (limit < 0: no limit). close() rejects every waiter.
  waitMsg (cidStr, confidence, limit, allowReplaced = true) {
    const start = this.s.height
    const original = cidStr
    return new Promise((resolve, reject) => {
      const w = {
        height: null,
        check: () => {
          cidStr = this.resolveReplaced(original, allowReplaced)
          const m = this.s.msgs[cidStr]
          if (m) {
            w.height = m.height + confidence
            if (this.s.height >= m.height + confidence) { this.waiters.delete(w); resolve(this.searchMsg(cidStr)) }
          } else if (limit >= 0 && this.s.height - start > limit) { this.waiters.delete(w); resolve(null) }
        },
        reject
      }
      this.waiters.add(w)
      w.check()
    })
  }

  close () { for (const w of this.waiters) w.reject(new Error('devnet is shutting down')); this.waiters.clear() }

  snapshot () { return { params: this.params, s: this.s } }
  restore (snap) {
    if (snap.params.seed !== this.params.seed) throw new Error(`state: snapshot was made with seed '${snap.params.seed}', not '${this.params.seed}'`)
    this.s = snap.s
  }
}

// RLE+ bitfield (go-bitfield): version 00, first-bit value, then run lengths (1 -> "1",
// 2..15 -> "01"+4 bits, >=16 -> "00"+uvarint), bits written least-significant first.
export function rlePlus (setIndexes, total) {
  const set = new Set(setIndexes)
  const runs = []
  let cur = set.has(0); let len = 0
  for (let i = 0; i < total; i++) {
    if (set.has(i) === cur) len++
    else { runs.push(len); cur = !cur; len = 1 }
  }
  if (len && cur) runs.push(len)
  if (!set.size) return new Uint8Array(0)
  const bits = [0, 0, set.has(0) ? 1 : 0]
  const put = (v, n) => { for (let i = 0; i < n; i++) bits.push((v >> i) & 1) }
  for (const r of runs) {
    if (r === 1) bits.push(1)
    else if (r < 16) { bits.push(0, 1); put(r, 4) } else {
      bits.push(0, 0)
      let v = r
      do { let b = v & 0x7f; v = Math.floor(v / 128); if (v > 0) b |= 0x80; put(b, 8) } while (v > 0)
    }
  }
  const out = new Uint8Array(Math.ceil(bits.length / 8))
  bits.forEach((b, i) => { if (b) out[i >> 3] |= 1 << (i & 7) })
  return out
}

export { ExitError, parseAddress }
