// A simulated storage provider: the mk12 deal engine shared by the "curio" (HTTP) and "boost"
// (libp2p) front ends, plus /piece retrieval state and fault injection.
//
// Contract:
// - propose(dealParamsBytes) -> {accepted, message}: decodes DealParams and validates the
//   ClientDealProposal exactly in the order, and with the strings, of Boost's
//   validateDealProposal (storagemarket/deal_acceptance.go) or Curio's mk12 ExecuteDeal
//   (market/mk12/mk12.go) depending on `kind`. Accepted online deals then run on their own:
//   HTTP pull of Transfer.Params.URL with its headers, size check against Transfer.Size, CommP
//   recomputed with @web3-storage/data-segment (zero-padded to PieceSize; off the event loop for
//   large pieces, commp.js) and compared with
//   PieceCID, batched PublishStorageDeals messages (signed by the worker key, pushed through the
//   chain's mpool like any client message), sealing after `sealDelay` epochs, activation on chain.
// - status(statusRequestBytes) -> DealStatusResponse CBOR bytes (Boost's getDealStatus: unknown
//   UUID, signature checked against the client's account key, checkpoint, SealingStatus,
//   NBytesReceived, TransferSize). Malformed requests throw.
// - piece(cidString) -> Uint8Array | null: the unpadded bytes of a piece this provider holds
//   (v1 or v2 piece CID), null when it does not hold it (or the data was lost).
// - setFault(kind, params) with kind in FAULT_KINDS; throws naming a bad kind or parameter.
// - Deal checkpoints advance in Boost's order: Accepted → Transferred → Published →
//   PublishConfirmed → AddedPiece → IndexedAndAnnounced → Complete, one step per event or epoch.
// Nothing here blocks the chain: transfers are async and report back through callbacks.

import { commPAsync } from './commp.js'
import {
  decodeDealParams, encodeDealResponse, decodeDealStatusRequest, encodeDealStatusResponse,
  formatAddress, proposalCbor, blake2bCid, sha256Cid, clientProposalCbor, recoverSigner, equalBytes,
  labelLength, uuidString, toHex, dagCbor, proposalTuple, signBytes, messageCid, CID, idAddressBytes,
  PIECE_CID_CODEC, PIECE_CID_MH, encodeBigInt
} from './fil.js'
import {
  DEAL_MIN_DURATION, DEAL_MAX_DURATION, MAX_SECTOR_EXPIRATION_EXTENSION, METHOD, BASE_FEE
} from './chain.js'

export const FAULT_KINDS = ['reject', 'offline', 'slow-transfer', 'never-seal', 'lose-data', 'corrupt-retrieval', 'none']
export const CHECKPOINTS = ['Accepted', 'Transferred', 'Published', 'PublishConfirmed', 'AddedPiece', 'IndexedAndAnnounced', 'Complete']
const SEALING_STATES = ['WaitDeals', 'PreCommit1', 'PreCommit2', 'PreCommitting', 'PreCommitWait', 'WaitSeed', 'Committing', 'CommitWait', 'FinalizeSector']
const MAX_DEAL_COLLATERAL_MULTIPLIER = 2n // Boost provider.go and Curio mk12_utils.go
const DEAL_MAX_LABEL_SIZE = 256
const BOOST_HTTP_CHUNKS = 5 // boost config HttpDownload.NChunks default
const MAX_DEAL_START_DELAY = 14 * 2880 // Boost MaxDealStartDelay default, in epochs

export const DEFAULT_ASK = {
  price: 500_000_000n, // attoFIL / GiB / epoch
  verifiedPrice: 0n,
  minPieceSize: 256,
  maxPieceSize: 34359738368
}

function goBig (n) { return n.toString() }

export class Provider {
  constructor ({ chain, id, kind, worker, publishPeriod = 10, maxDealsPerPublish = 8, sealDelay = 60, stateHooks = {} }) {
    this.chain = chain
    this.id = id // actor ID string, e.g. "1000"
    this.kind = kind // 'curio' | 'boost'
    this.address = idAddressBytes(BigInt(id))
    this.worker = worker // {priv, address}
    this.cfg = { publishPeriod, maxDealsPerPublish, sealDelay }
    this.s = {
      deals: {}, // uuid hex -> deal record
      publishQueue: [], // uuid hex, in arrival order
      publishDue: null, // height at which the queued batch is published
      publishes: {}, // signed message cid -> [uuid hex]
      nextSector: 1,
      fault: { kind: 'none', params: {} },
      ask: { ...DEFAULT_ASK },
      stats: { bytesServed: 0, requests: {} }
    }
    this.pieces = stateHooks.pieces ?? new Map() // v1 cid string -> Uint8Array
    this.onChange = stateHooks.onChange ?? (() => {})
    this.transfers = new Map()
    this.closed = false
    chain.addListener(this)
  }

  get addressString () { return formatAddress(this.address) }

  count (kind) { this.s.stats.requests[kind] = (this.s.stats.requests[kind] ?? 0) + 1 }

  // ---- proposals ----

  propose (bytes) {
    let dp
    try { dp = decodeDealParams(bytes) } catch (e) { return { accepted: false, message: null, error: e.message } }
    const reason = this.kind === 'curio' ? this.acceptCurio(dp) : this.acceptBoost(dp)
    if (reason != null) return { accepted: false, message: reason }
    this.start(dp)
    return { accepted: true, message: '' }
  }

  acceptBoost (dp) {
    const v = this.validate(dp, { includeAsk: true })
    if (v) return `failed validation: ${v}`
    if (!dp.isOffline && dp.transfer.type !== 'http' && dp.transfer.type !== 'libp2p') {
      return `server error: get deal transfer host: cannot parse params for unrecognized transfer type '${dp.transfer.type}'`
    }
    if (!dp.isOffline) {
      let info
      try { info = JSON.parse(Buffer.from(dp.transfer.params).toString('utf8')) } catch (e) {
        return `server error: get deal transfer host: failed to de-serialize transport params bytes '${Buffer.from(dp.transfer.params).toString('utf8')}': ${e.message}`
      }
      try { new URL(info.URL) } catch (e) { return `server error: get deal transfer host: cannot parse url '${info.URL}': ${e.message}` } // eslint-disable-line no-new
    }
    const spc = sha256Cid(clientProposalCbor(dp.clientProposal)).toString()
    const same = Object.values(this.s.deals).find(d => d.signedProposalCid === spc)
    if (same) return `deal proposal is identical to deal ${uuidString(same.uuid)} (proposed at ${same.createdAt})`
    const dup = this.s.deals[toHex(dp.uuid)]
    if (dup) return `deal has the same uuid as deal ${uuidString(dup.uuid)} (proposed at ${dup.createdAt})`
    if (dp.isOffline) return 'miner is not accepting offline storage deals'
    // BasicDealFilter (boost node/modules/dealfilter.go): ExpectedSealDuration is the devnet's
    // seal delay, MaxDealStartDelay Boost's default of 14 days.
    const p = dp.clientProposal.proposal
    const earliest = this.chain.s.height + this.cfg.sealDelay
    if (p.startEpoch < earliest) return `cannot seal a sector before ${p.startEpoch}`
    const maxStart = earliest + MAX_DEAL_START_DELAY
    if (p.startEpoch > maxStart) return `deal start epoch is too far in the future: ${p.startEpoch} > ${maxStart}`
    if (this.s.fault.kind === 'reject') return this.s.fault.params.reason
    if (dp.transfer.type === 'libp2p') return 'server error: libp2p transfers are not supported by the devnet'
    return null
  }

  acceptCurio (dp) {
    const v = this.validate(dp, { includeAsk: false })
    if (v) return `failed validation: ${v}`
    if (dp.isOffline) return 'offline deals are not allowed on this provider'
    if (this.s.fault.kind === 'reject') return this.s.fault.params.reason
    if (this.askError(dp.clientProposal.proposal)) return 'internal server error: failed to apply filters'
    if (dp.transfer.type === 'libp2p') return 'libp2p URLs are not supported by this provider'
    const p = dp.clientProposal.proposal
    const padded = paddedPieceSize(dp.transfer.size)
    if (p.pieceSize !== padded) return `deal proposal piece size ${p.pieceSize} doesn't match padded piece size ${padded}`
    const paramsText = Buffer.from(dp.transfer.params).toString('utf8')
    try { JSON.parse(paramsText) } catch (e) { return `failed to de-serialize transport params bytes '${paramsText}': ${e.message}` }
    const pcid = blake2bCid(proposalCbor(p)).toString()
    if (Object.values(this.s.deals).some(d => d.proposalCid === pcid)) return `store deal: market deal with the same proposalCID ${pcid} already exists: 1`
    if (this.s.deals[toHex(dp.uuid)]) return 'store deal: store deal success: updated 0 rows instead of 1'
    return null
  }

  // Boost/Curio validateDealProposal; returns the reason (without "failed validation: ") or null.
  validate (dp, { includeAsk }) {
    const chain = this.chain
    const head = chain.s.height
    const cp = dp.clientProposal; const p = cp.proposal
    // Signature: Lotus VerifySignature resolves an ID client to its key; f1 needs no lookup.
    let key = null
    try { key = chain.accountKey(p.client) } catch {
      if (p.client[0] !== 1) return 'server error: validating signature'
      key = p.client
    }
    const signer = cp.signature[0] === 1 ? recoverSigner(cp.signature.subarray(1), proposalCbor(p)) : null
    if (!signer || !equalBytes(signer, key)) return 'invalid signature'
    if (!equalBytes(p.provider, this.address)) {
      const mine = this.kind === 'curio' ? `[${this.addressString}]` : this.addressString
      return `incorrect provider for deal; proposal.Provider: ${formatAddress(p.provider)}; provider.Address: ${mine}`
    }
    const ll = labelLength(p.label)
    if (ll > DEAL_MAX_LABEL_SIZE) return `deal label can be at most ${DEAL_MAX_LABEL_SIZE} bytes, is ${ll}`
    if (p.pieceSize < 128) return 'proposal piece size is invalid: minimum padded piece size is 128 bytes'
    if ((BigInt(p.pieceSize) & (BigInt(p.pieceSize) - 1n)) !== 0n) return 'proposal piece size is invalid: padded piece size must be a power of 2'
    const c = p.pieceCid
    if (c.version !== 1 || c.code !== PIECE_CID_CODEC || c.multihash.code !== PIECE_CID_MH || c.multihash.size !== 32) return 'proposal PieceCID had wrong prefix'
    if (p.endEpoch <= p.startEpoch) return `proposal end ${p.endEpoch} before proposal start ${p.startEpoch}`
    if (head > p.startEpoch) return `deal start epoch ${p.startEpoch} has already elapsed (current epoch: ${head})`
    const duration = p.endEpoch - p.startEpoch
    if (duration < DEAL_MIN_DURATION || duration > DEAL_MAX_DURATION) return `deal duration out of bounds (min, max, provided): ${DEAL_MIN_DURATION}, ${DEAL_MAX_DURATION}, ${duration}`
    if (p.endEpoch > head + MAX_SECTOR_EXPIRATION_EXTENSION) return `invalid deal end epoch ${p.endEpoch}: cannot be more than ${MAX_SECTOR_EXPIRATION_EXTENSION} past current epoch ${head}`
    const bounds = chain.collateralBounds(p.pieceSize, p.verified)
    const max = bounds.min * MAX_DEAL_COLLATERAL_MULTIPLIER
    if (p.providerCollateral < bounds.min) return `proposed provider collateral ${goBig(p.providerCollateral)} below minimum ${goBig(bounds.min)}`
    if (p.providerCollateral > max) return `proposed provider collateral ${goBig(p.providerCollateral)} above maximum ${goBig(max)}`
    if (includeAsk) {
      const askErr = this.askError(p)
      if (askErr) return askErr
    }
    const clientId = chain.idOf(p.client)
    if (clientId == null) return 'server error: getting market balance'
    const e = chain.escrowOf(clientId)
    const available = e.escrow - e.locked
    const need = chain.storageCost(p) + p.clientCollateral
    if (available < need) return `client available funds in escrow ${available} not enough to meet storage cost for deal ${need}`
    if (p.verified) {
      const cap = chain.s.datacap[clientId]
      if (cap == null) return 'client is not a verified client'
      if (cap < BigInt(p.pieceSize)) return `verified deal DataCap ${cap} too small for proposed piece size ${p.pieceSize}`
    }
    return null
  }

  askError (p) {
    const ask = this.s.ask
    const askPrice = p.verified ? ask.verifiedPrice : ask.price
    const minPrice = (askPrice * BigInt(p.pieceSize)) / (1n << 30n)
    if (p.price < minPrice) return `storage price per epoch less than asking price: ${p.price} < ${minPrice}`
    if (p.pieceSize < ask.minPieceSize) return `piece size less than minimum required size: ${p.pieceSize} < ${ask.minPieceSize}`
    if (p.pieceSize > ask.maxPieceSize) return `piece size more than maximum allowed size: ${p.pieceSize} > ${ask.maxPieceSize}`
    return null
  }

  setAsk (ask) {
    const next = { ...this.s.ask }
    for (const [k, field] of [['Price', 'price'], ['VerifiedPrice', 'verifiedPrice']]) {
      if (ask[k] != null) {
        if (!/^[0-9]+$/.test(String(ask[k]))) throw new Error(`Devnet.SetAsk: ${k} must be a decimal attoFIL string`)
        next[field] = BigInt(ask[k])
      }
    }
    for (const [k, field] of [['MinPieceSize', 'minPieceSize'], ['MaxPieceSize', 'maxPieceSize']]) {
      if (ask[k] != null) {
        if (!Number.isSafeInteger(ask[k]) || ask[k] < 0) throw new Error(`Devnet.SetAsk: ${k} must be a non-negative integer`)
        next[field] = ask[k]
      }
    }
    next.seqNo = (this.s.ask.seqNo ?? 0) + 1
    next.timestamp = this.chain.s.height
    next.expiry = this.chain.s.height + 1_000_000 // Boost DefaultDuration
    this.s.ask = next
    this.onChange()
    return this.askJson()
  }

  // Boost's /fil/storage/ask/1.1.0 and Curio's GET /market/mk12/ask: AskRequest {Miner} ->
  // AskResponse {Ask: SignedStorageAsk | null}; the ask is signed by the worker key over its CBOR.
  askResponse (bytes) {
    let req
    try { req = dagCbor.decode(bytes) } catch (e) { throw new Error(`AskRequest: invalid CBOR: ${e.message}`) }
    if (!req || !(req.Miner instanceof Uint8Array)) throw new Error('AskRequest.Miner: expected address bytes')
    if (!equalBytes(req.Miner, this.address)) return dagCbor.encode({ Ask: null })
    const a = this.s.ask
    const ask = {
      Price: encodeBigInt(a.price),
      VerifiedPrice: encodeBigInt(a.verifiedPrice),
      MinPieceSize: a.minPieceSize,
      MaxPieceSize: a.maxPieceSize,
      Miner: this.address,
      Timestamp: a.timestamp ?? 0,
      Expiry: a.expiry ?? 1_000_000,
      SeqNo: a.seqNo ?? 0
    }
    const sig = signBytes(this.worker.priv, dagCbor.encode(ask))
    return dagCbor.encode({ Ask: { Ask: ask, Signature: new Uint8Array([1, ...sig]) } })
  }

  askJson () {
    const a = this.s.ask
    return { Miner: this.addressString, Price: a.price.toString(), VerifiedPrice: a.verifiedPrice.toString(), MinPieceSize: a.minPieceSize, MaxPieceSize: a.maxPieceSize }
  }

  // ---- deal execution ----

  start (dp) {
    const key = toHex(dp.uuid)
    const p = dp.clientProposal.proposal
    let url = ''; let headers = {}
    try { const info = JSON.parse(Buffer.from(dp.transfer.params).toString('utf8')); url = info.URL; headers = info.Headers ?? {} } catch {}
    this.s.deals[key] = {
      uuid: dp.uuid,
      clientProposal: dp.clientProposal,
      proposalCid: blake2bCid(proposalCbor(p)).toString(),
      signedProposalCid: sha256Cid(clientProposalCbor(dp.clientProposal)).toString(),
      transfer: { size: dp.transfer.size, url, headers },
      isOffline: dp.isOffline,
      createdAt: new Date().toISOString(),
      createdHeight: this.chain.s.height,
      checkpoint: 'Accepted',
      error: '',
      failed: false,
      nBytesReceived: 0,
      publishCid: null,
      chainDealId: 0,
      sector: null,
      sealingStatus: 'Not assigned to sector',
      addedHeight: null,
      nextStepHeight: null,
      sealDue: null,
      pieceV1: null,
      pieceV2: null,
      state: 'transferring'
    }
    this.onChange()
    this.transfer(key)
  }

  fail (key, error, state = 'failed') {
    const d = this.s.deals[key]
    d.error = error; d.failed = true; d.state = state
    this.s.publishQueue = this.s.publishQueue.filter(k => k !== key)
    this.onChange()
  }

  async transfer (key) {
    const d = this.s.deals[key]
    if (this.transfers.has(key)) return
    const ac = new AbortController()
    this.transfers.set(key, ac)
    try {
      const bytes = await this.pull(d, ac.signal)
      if (this.closed) return
      if (bytes.length !== d.transfer.size) {
        return this.fail(key, `data-transfer failed: mismatch in dealSize vs received bytes, dealSize=${d.transfer.size}, received=${bytes.length}`)
      }
      const p = d.clientProposal.proposal
      let cp
      try { cp = await commPAsync(bytes, p.pieceSize) } catch (e) {
        if (this.closed) return
        return this.fail(key, `failed to verify CommP: failed to generate CommP: ${e.message}`)
      }
      if (this.closed) return
      if (!cp.fits || !cp.v1.equals(p.pieceCid)) {
        return this.fail(key, `failed to verify CommP: commP expected=${p.pieceCid}, actual=${cp.v1}: commp mismatch`)
      }
      d.pieceV1 = cp.v1.toString(); d.pieceV2 = cp.v2.toString()
      this.pieces.set(d.pieceV1, bytes)
      d.checkpoint = 'Transferred'
      d.state = 'transferred'
      this.enqueuePublish(key)
    } catch (e) {
      if (this.closed) return
      this.fail(key, `data-transfer failed: ${e.message}`)
    } finally {
      this.transfers.delete(key)
    }
  }

  // Pulls the deal data. "curio" does one GET (its piece parking reads the URL once); "boost"
  // does what boost transport/httptransport does: HEAD (200 and Content-Length required, equal
  // to Transfer.Size), then 5 parallel GETs with Range: bytes=start-end (end as Boost writes it,
  // one past the last byte it reads), reading exactly end - start bytes of each answer whether
  // 200 or 206 (a server that ignores Range therefore hands Boost wrong bytes). No retries.
  async pull (d, signal) {
    if (this.kind === 'curio') {
      d.nBytesReceived = 0
      const res = await fetch(d.transfer.url, { headers: d.transfer.headers, signal })
      if (res.status < 200 || res.status > 299) {
        throw new Error(`could not finish transfer: GET ${d.transfer.url} answered HTTP ${res.status}`)
      }
      const out = await this.readBody(d, res, d.transfer.size, 1, { strict: true })
      return out
    }
    const head = await fetch(d.transfer.url, { method: 'HEAD', headers: d.transfer.headers, signal })
    if (head.status !== 200) throw new Error(`http HEAD req failed: code: ${head.status}, status: ${head.status} ${head.statusText}`)
    const cl = head.headers.get('content-length')
    if (!cl) throw new Error("can't determine deal size from the head request, no header")
    const dealSize = Number(cl)
    if (!Number.isSafeInteger(dealSize) || dealSize < 0) throw new Error(`error parsing content-length header: ${cl}`)
    if (d.transfer.size !== 0 && dealSize !== d.transfer.size) throw new Error(`deal size mismatch: head: ${dealSize}, dealInfo: ${d.transfer.size}`)
    const nchunks = dealSize >= BOOST_HTTP_CHUNKS ? BOOST_HTTP_CHUNKS : 1
    const chunkSize = Math.floor(dealSize / nchunks)
    d.nBytesReceived = 0
    const parts = await Promise.all(Array.from({ length: nchunks }, async (_, i) => {
      const start = i * chunkSize
      const end = i === nchunks - 1 ? dealSize : start + chunkSize
      if (end <= start) return new Uint8Array(0)
      const res = await fetch(d.transfer.url, { headers: { ...d.transfer.headers, Range: `bytes=${start}-${end}` }, signal })
      if (res.status !== 200 && res.status !== 206) {
        throw new Error(`http req failed: code: ${res.status}, status: ${res.status} ${res.statusText}`)
      }
      const got = await this.readBody(d, res, end - start, nchunks, { strict: false })
      if (got.length !== end - start) throw new Error(`incomplete chunk file ${toHex(d.uuid)}.download-${i}: expected: ${end - start} actual: ${got.length}`)
      return got
    }))
    const all = new Uint8Array(Buffer.concat(parts))
    if (all.length !== dealSize) throw new Error(`mismatch in dealSize vs received bytes, dealSize=${dealSize}, received=${all.length}`)
    return all
  }

  // Reads at most `limit` bytes of a response body, counting them into NBytesReceived and honouring
  // the slow-transfer fault (shared by `parallel` readers). With strict, more bytes than `limit`
  // is an error (Curio's single GET); otherwise the rest is discarded (Boost's LimitReader).
  async readBody (d, res, limit, parallel, { strict }) {
    const chunks = []; let received = 0
    if (!res.body) return new Uint8Array(0)
    // Leaving the loop early (break or throw) cancels the body stream.
    for await (const chunk of res.body) {
      if (strict && received + chunk.length > limit) {
        throw new Error(`mismatch in dealSize vs received bytes, dealSize=${limit}, received=${received + chunk.length}`)
      }
      const take = strict ? chunk : chunk.subarray(0, Math.max(0, limit - received))
      // slow-transfer: slices of a tenth of the rate (split among parallel readers), 100 ms each.
      const rate = this.s.fault.kind === 'slow-transfer' ? Number(this.s.fault.params.bytesPerSecond ?? 16384) : 0
      const step = rate > 0 ? Math.max(1, Math.floor(rate / 10 / parallel)) : Math.max(1, take.length)
      for (let at = 0; at < take.length; at += step) {
        const slice = take.subarray(at, at + step)
        chunks.push(slice)
        received += slice.length
        d.nBytesReceived += slice.length
        if (rate > 0) await new Promise(resolve => setTimeout(resolve, 100))
        if (this.closed) throw new Error('provider shut down')
      }
      if (!strict && received >= limit) break
    }
    return new Uint8Array(Buffer.concat(chunks))
  }

  enqueuePublish (key) {
    this.s.publishQueue.push(key)
    if (this.s.publishDue == null) this.s.publishDue = this.chain.s.height + this.cfg.publishPeriod
    if (this.s.publishQueue.length >= this.cfg.maxDealsPerPublish) this.publish()
    this.onChange()
  }

  publish () {
    const keys = this.s.publishQueue.splice(0, this.cfg.maxDealsPerPublish)
    this.s.publishDue = this.s.publishQueue.length ? this.chain.s.height + this.cfg.publishPeriod : null
    if (!keys.length) return
    const proposals = keys.map(k => [proposalTuple(this.s.deals[k].clientProposal.proposal), this.s.deals[k].clientProposal.signature])
    const msg = {
      to: idAddressBytes(5n),
      from: this.worker.address,
      nonce: this.chain.nextNonce(this.worker.address),
      value: 0n,
      gasLimit: 20_000_000 + 4_000_000 * keys.length,
      gasFeeCap: BASE_FEE * 2n + 100_000n,
      gasPremium: 100_000n,
      method: METHOD.PublishStorageDeals,
      params: dagCbor.encode([proposals])
    }
    let cid
    try {
      cid = this.chain.push(msg, { type: 1, data: signBytes(this.worker.priv, messageCid(msg).bytes) })
    } catch (e) {
      for (const k of keys) this.fail(k, `recoverable error to publish deal ${uuidString(this.s.deals[k].uuid)}: ${e.message}`)
      return
    }
    this.s.publishes[cid.toString()] = keys
    for (const k of keys) {
      const d = this.s.deals[k]
      d.publishCid = cid; d.checkpoint = 'Published'; d.state = 'publishing'
    }
    this.onChange()
  }

  onReceipt (cidStr, entry) {
    const keys = this.s.publishes[cidStr]
    if (!keys) return
    delete this.s.publishes[cidStr]
    const h = this.chain.s.height
    if (entry.receipt.ExitCode !== 0) {
      for (const k of keys) this.fail(k, `wait for confirmation of publish message ${cidStr} failed: exit code ${entry.receipt.ExitCode}`)
      return
    }
    const [ids] = dagCbor.decode(Buffer.from(entry.receipt.Return, 'base64'))
    // IDs are assigned to the valid subset, in order; match them back by proposal CID.
    const byProposal = new Map()
    for (const id of ids) byProposal.set(this.chain.s.deals[id].proposalCid.toString(), id)
    for (const k of keys) {
      const d = this.s.deals[k]
      const id = byProposal.get(d.proposalCid)
      if (id == null) { this.fail(k, `deal was not published: the market actor rejected proposal ${d.proposalCid}`); continue }
      d.chainDealId = id
      d.checkpoint = 'PublishConfirmed'
      d.state = 'published'
      d.nextStepHeight = h + 1
    }
    this.onChange()
  }

  nextEventHeight (h) {
    let next = this.s.publishDue ?? Infinity
    for (const d of Object.values(this.s.deals)) {
      if (d.failed) continue
      if (d.nextStepHeight != null) next = Math.min(next, d.nextStepHeight)
      if (d.sealDue != null && d.sealDue !== Infinity) next = Math.min(next, d.sealDue)
    }
    return next
  }

  onHeight (h) {
    if (this.s.publishDue != null && h >= this.s.publishDue) this.publish()
    for (const d of Object.values(this.s.deals)) {
      if (d.failed) continue
      if (d.nextStepHeight != null && h >= d.nextStepHeight) {
        const i = CHECKPOINTS.indexOf(d.checkpoint)
        if (d.checkpoint === 'PublishConfirmed') {
          d.checkpoint = 'AddedPiece'
          d.sector = this.s.nextSector++
          d.addedHeight = h
          d.state = 'sealing'
          d.sealDue = this.s.fault.kind === 'never-seal' || d.lost ? Infinity : h + this.cfg.sealDelay
          d.nextStepHeight = h + 1
        } else if (i >= 4 && i < 6) {
          d.checkpoint = CHECKPOINTS[i + 1]
          d.nextStepHeight = d.checkpoint === 'Complete' ? null : h + 1
        }
      }
      if (d.sealDue != null) {
        if (d.sealDue !== Infinity && h >= d.sealDue) {
          d.sealDue = null
          if (this.s.fault.kind === 'never-seal') {
            d.sealDue = Infinity
          } else if (this.chain.activateDeal(d.chainDealId, d.sector)) {
            d.sealingStatus = 'Proving'; d.state = 'active'
          }
        } else if (d.addedHeight != null) {
          const span = d.sealDue === Infinity ? 1 : Math.max(1, d.sealDue - d.addedHeight)
          const frac = d.sealDue === Infinity ? 1 : Math.min(SEALING_STATES.length - 1, Math.floor((h - d.addedHeight) * SEALING_STATES.length / span))
          d.sealingStatus = SEALING_STATES[frac]
        }
      }
    }
    this.onChange()
  }

  onDealRemoved (chainDeal) {
    if (chainDeal.providerId !== this.id) return
    for (const d of Object.values(this.s.deals)) {
      if (d.chainDealId !== chainDeal.id || d.failed) continue
      if (chainDeal.slashEpoch >= 0) { d.state = 'slashed'; continue }
      if (chainDeal.sectorStartEpoch < 0) {
        d.sealDue = null; d.nextStepHeight = null
        d.sealingStatus = 'deal not found'
        this.fail(toHex(d.uuid), `deal ${chainDeal.id} was not activated by its start epoch ${chainDeal.proposal.startEpoch} and was removed by the market actor`, 'timed-out')
      } else {
        d.state = 'expired'; d.sealingStatus = 'deal not found'
      }
      if (!this.heldByOthers(d)) this.pieces.delete(d.pieceV1)
    }
    this.onChange()
  }

  heldByOthers (d) {
    return Object.values(this.s.deals).some(o => o !== d && o.pieceV1 === d.pieceV1 && ['published', 'sealing', 'active', 'transferred', 'publishing'].includes(o.state))
  }

  // ---- status ----

  status (bytes) {
    const req = decodeDealStatusRequest(bytes)
    const key = toHex(req.uuid)
    const d = this.s.deals[key]
    if (!d) return encodeDealStatusResponse({ uuid: req.uuid, error: `no storage deal found with deal UUID ${uuidString(req.uuid)}` })
    const client = d.clientProposal.proposal.client
    let accountKey
    try { accountKey = this.chain.accountKey(client) } catch {
      if (client[0] !== 1) return encodeDealStatusResponse({ uuid: req.uuid, error: `failed to get account key for client addr ${formatAddress(client)}` })
      accountKey = client
    }
    const signer = req.signature[0] === 1 ? recoverSigner(req.signature.subarray(1), req.uuid) : null
    if (!signer || !equalBytes(signer, accountKey)) return encodeDealStatusResponse({ uuid: req.uuid, error: 'signature verification failed' })
    return encodeDealStatusResponse({
      uuid: req.uuid,
      isOffline: d.isOffline,
      transferSize: d.transfer.size,
      nBytesReceived: d.nBytesReceived,
      status: {
        error: d.error,
        status: d.checkpoint,
        proposal: d.clientProposal.proposal,
        publishCid: d.publishCid,
        chainDealId: d.chainDealId,
        sealingStatus: d.sealingStatus,
        signedProposalCid: CID.parse(d.signedProposalCid)
      }
    })
  }

  // ---- retrieval ----

  piece (cidString) {
    if (this.s.fault.kind === 'lose-data') return null
    let cid
    try { cid = CID.parse(cidString) } catch { return null }
    for (const d of Object.values(this.s.deals)) {
      if (!d.pieceV1 || !['IndexedAndAnnounced', 'Complete'].includes(d.checkpoint)) continue
      if (['failed', 'timed-out', 'expired', 'slashed'].includes(d.state)) continue
      if (d.pieceV1 === cid.toString() || d.pieceV2 === cid.toString()) return this.pieces.get(d.pieceV1) ?? null
    }
    return null
  }

  // ---- faults ----

  setFault (kind, params = {}) {
    if (!FAULT_KINDS.includes(kind)) throw new Error(`Devnet.Fault: unknown kind '${kind}' (want one of ${FAULT_KINDS.join(', ')})`)
    params = params ?? {}
    if (typeof params !== 'object') throw new Error('Devnet.Fault: params must be an object')
    if (kind === 'reject' && (typeof params.reason !== 'string' || !params.reason)) throw new Error('Devnet.Fault: reject needs params.reason (a non-empty string)')
    if (kind === 'slow-transfer' && params.bytesPerSecond != null && !(Number(params.bytesPerSecond) > 0)) throw new Error('Devnet.Fault: slow-transfer params.bytesPerSecond must be > 0')
    const wasNeverSeal = this.s.fault.kind === 'never-seal'
    this.s.fault = { kind, params }
    if (kind === 'offline') this.onOffline?.()
    if (wasNeverSeal && kind !== 'never-seal') {
      // Stuck sectors resume sealing from now on (they may still be too late for StartEpoch).
      for (const d of Object.values(this.s.deals)) if (d.sealDue === Infinity && !d.failed && !d.lost) d.sealDue = this.chain.s.height + this.cfg.sealDelay
    }
    let slashed = []
    if (kind === 'lose-data') {
      slashed = this.chain.slashProviderDeals(this.id)
      for (const d of Object.values(this.s.deals)) {
        if (slashed.includes(d.chainDealId)) { d.state = 'slashed'; d.sealingStatus = 'Removed'; continue }
        // Deals whose data was held but not yet proven lose it too: their sector can never seal.
        if (!d.failed && d.pieceV1 && ['transferred', 'publishing', 'published', 'sealing'].includes(d.state)) {
          d.lost = true
          if (d.sealDue != null) d.sealDue = Infinity
        }
      }
      this.pieces.clear()
    }
    this.onChange()
    return { Provider: this.addressString, Kind: kind, Params: params, SlashedDeals: slashed }
  }

  get offline () { return this.s.fault.kind === 'offline' }
  get corrupt () { return this.s.fault.kind === 'corrupt-retrieval' }

  dealsJson () {
    return Object.values(this.s.deals).map(d => {
      const p = d.clientProposal.proposal
      return {
        UUID: uuidString(d.uuid),
        Provider: this.addressString,
        ProviderKind: this.kind,
        Client: formatAddress(p.client),
        State: d.state,
        Checkpoint: d.checkpoint,
        Error: d.error,
        DealID: d.chainDealId || null,
        PieceCID: p.pieceCid.toString(),
        PieceSize: p.pieceSize,
        Verified: p.verified,
        StartEpoch: p.startEpoch,
        EndEpoch: p.endEpoch,
        SectorStartEpoch: this.chain.s.deals[d.chainDealId]?.sectorStartEpoch ?? -1,
        SlashEpoch: this.chain.s.deals[d.chainDealId]?.slashEpoch ?? -1,
        SealingStatus: d.sealingStatus,
        NBytesReceived: d.nBytesReceived,
        TransferSize: d.transfer.size
      }
    })
  }

  statsJson () {
    return { Provider: this.addressString, Kind: this.kind, BytesServed: this.s.stats.bytesServed, Requests: { ...this.s.stats.requests }, Fault: this.s.fault }
  }

  // Restarts transfers interrupted by a restart (deals still at Accepted without error).
  resume () {
    for (const [key, d] of Object.entries(this.s.deals)) {
      if (!d.failed && d.checkpoint === 'Accepted' && !d.isOffline) this.transfer(key)
    }
  }

  close () {
    this.closed = true
    for (const ac of this.transfers.values()) ac.abort()
  }
}

// go-padreader PaddedSize(n).Padded(): the smallest valid piece whose unpadded size holds n bytes.
export function paddedPieceSize (n) {
  if (n <= 127) return 128
  let unpadded = 127
  while (unpadded < n) unpadded *= 2
  return (unpadded / 127) * 128
}
