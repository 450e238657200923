// Lotus-style JSON-RPC 2.0 over HTTP POST (/rpc/v1 and /rpc/v2), the chain methods a Filecoin
// client uses (FILECOIN.md §3.6) and the devnet's control methods (Devnet.*).
//
// Contract:
// - startRpc(devnet, port) -> Promise<http.Server> on 127.0.0.1:port (0 = any free port).
// - Requests: a JSON-RPC 2.0 object or a batch array. Lotus method names carry the "Filecoin."
//   prefix; control methods the "Devnet." prefix. Unknown method -> error -32601; bad JSON ->
//   -32700; a method that fails -> error code 1 with a message saying what failed (as Lotus does).
// - /rpc/v2 serves the same methods except ChainGetTipSet, which there takes a selector
//   {"tag": "latest" | "safe" | "finalized"} or {"height": {"at": n}}.
// - Request bodies over 16 MiB get HTTP 413.
// - Shapes: big ints are decimal strings, bytes base64, CIDs {"/": "…"}, addresses strings.

import http from 'node:http'
import {
  parseAddress, formatAddress, messageFromJson, messageToJson, cidToJson, cidFromJson, idAddressBytes
} from './fil.js'
import { BASE_FEE, METHOD, SECTOR_SIZE } from './chain.js'

const MAX_REQUEST = 16 << 20
const GAS_ESTIMATE = { 0: 488_000, 2: 3_400_000, 3: 3_900_000, 4: 24_000_000, 822473126: 3_400_000, 2280458852: 3_900_000, 2236929350: 24_000_000 }

function bigParam (v, what) {
  if (typeof v === 'number' && Number.isSafeInteger(v)) v = String(v)
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw new Error(`${what} must be a non-negative decimal string, got ${JSON.stringify(v)}`)
  return BigInt(v)
}

export function methods (devnet) {
  const chain = devnet.chain
  const provider = (addr) => {
    const p = devnet.providerByAddress(addr)
    if (!p) throw new Error(`provider ${addr} not found`)
    return p
  }
  const tipsetBySelector = (sel) => {
    if (sel == null || sel.tag === 'latest') return chain.tipsetJson(chain.s.height)
    if (sel.tag === 'finalized') return chain.tipsetJson(chain.finalizedHeight())
    if (sel.tag === 'safe') return chain.tipsetJson(chain.safeHeight())
    if (sel.height && Number.isSafeInteger(sel.height.at) && sel.height.at >= 0 && sel.height.at <= chain.s.height) return chain.tipsetJson(sel.height.at)
    throw new Error(`ChainGetTipSet: unsupported selector ${JSON.stringify(sel)} (want {"tag": "latest"|"safe"|"finalized"} or {"height": {"at": n}})`)
  }
  // Height of a tipset key parameter: null / [] = head; otherwise a tipset this devnet produced.
  const heightOf = (tsk, method) => {
    if (tsk == null || (Array.isArray(tsk) && tsk.length === 0)) return chain.s.height
    if (!Array.isArray(tsk)) throw new Error(`${method}: tipset key must be an array of CIDs or null`)
    const want = cidFromJson(tsk[0], `${method} tipset key`).toString()
    const h = chain.heightOfTipset(want)
    if (h == null) throw new Error(`${method}: loading tipset ${want}: tipset not found`)
    return h
  }
  const m = {
    'Filecoin.Version': () => ({ Version: 'cairn-devnet (simulated Filecoin network; not Lotus)', APIVersion: 0x20100, BlockDelay: 30 }),
    'Filecoin.ChainHead': () => chain.tipsetJson(chain.s.height),
    'Filecoin.ChainGetTipSetByHeight': ([h]) => {
      if (!Number.isSafeInteger(h) || h < 0 || h > chain.s.height) throw new Error(`ChainGetTipSetByHeight: height ${h} is not in [0, ${chain.s.height}]`)
      return chain.tipsetJson(h)
    },
    'Filecoin.ChainGetTipSet': ([tsk]) => {
      if (tsk == null || (Array.isArray(tsk) && tsk.length === 0)) return chain.tipsetJson(chain.s.height)
      const want = cidFromJson(tsk[0], 'ChainGetTipSet key').toString()
      const h = chain.heightOfTipset(want)
      if (h == null) throw new Error(`ChainGetTipSet: tipset ${want} not found`)
      return chain.tipsetJson(h)
    },
    'Filecoin.StateNetworkName': () => devnet.networkName,
    'Filecoin.StateMinerInfo': ([addr]) => {
      const id = chain.idOf(parseAddress(addr).bytes)
      const mi = id && chain.s.miners[id]
      if (!mi) throw new Error(`failed to load miner actor: actor ${addr} not found`)
      const owner = formatAddress(idAddressBytes(BigInt(mi.owner)))
      return {
        Owner: owner,
        Worker: formatAddress(idAddressBytes(BigInt(mi.worker))),
        NewWorker: '<empty>',
        ControlAddresses: [],
        WorkerChangeEpoch: -1,
        PeerId: mi.peerId,
        Multiaddrs: mi.multiaddrs.length ? mi.multiaddrs.map(b => Buffer.from(b).toString('base64')) : null,
        WindowPoStProofType: 8,
        SectorSize: SECTOR_SIZE,
        WindowPoStPartitionSectors: 2349,
        ConsensusFaultElapsed: -1,
        PendingOwnerAddress: null,
        Beneficiary: owner,
        BeneficiaryTerm: { Quota: '0', UsedQuota: '0', Expiration: 0 },
        PendingBeneficiaryTerm: null
      }
    },
    'Filecoin.StateLookupID': ([addr]) => formatAddress(idAddressBytes(BigInt(chain.mustId(parseAddress(addr).bytes)))),
    'Filecoin.StateAccountKey': ([addr]) => formatAddress(chain.accountKey(parseAddress(addr).bytes)),
    'Filecoin.WalletBalance': ([addr]) => chain.balanceOf(parseAddress(addr).bytes).toString(),
    'Filecoin.StateMarketBalance': ([addr]) => {
      const id = chain.mustId(parseAddress(addr).bytes)
      const e = chain.s.escrow[id] ?? { escrow: 0n, locked: 0n }
      return { Escrow: e.escrow.toString(), Locked: e.locked.toString() }
    },
    'Filecoin.StateMarketStorageDeal': ([dealId, tsk]) => {
      if (!Number.isSafeInteger(dealId) || dealId < 0) throw new Error(`StateMarketStorageDeal: deal ID must be a non-negative integer, got ${JSON.stringify(dealId)}`)
      const d = chain.dealJson(dealId, heightOf(tsk, 'StateMarketStorageDeal'))
      if (!d) throw new Error(`deal ${dealId} not found`)
      return d
    },
    'Filecoin.StateDealProviderCollateralBounds': ([size, verified]) => {
      if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`StateDealProviderCollateralBounds: piece size must be a positive integer, got ${JSON.stringify(size)}`)
      const b = chain.collateralBounds(size, !!verified)
      return { Min: b.min.toString(), Max: b.max.toString() }
    },
    'Filecoin.StateVerifiedClientStatus': ([addr]) => {
      const id = chain.idOf(parseAddress(addr).bytes)
      const cap = id == null ? undefined : chain.s.datacap[id]
      return cap == null ? null : cap.toString()
    },
    'Filecoin.MpoolGetNonce': ([addr]) => chain.nextNonce(parseAddress(addr).bytes),
    'Filecoin.GasEstimateMessageGas': ([msgJson, spec]) => {
      const msg = messageFromJson({ Nonce: 0, ...msgJson })
      if (!msg.gasLimit) msg.gasLimit = Math.ceil((GAS_ESTIMATE[msg.method] ?? 5_000_000) * 1.25)
      if (!msg.gasPremium) msg.gasPremium = 100_000n
      if (!msg.gasFeeCap) msg.gasFeeCap = BASE_FEE * 2n + msg.gasPremium
      const maxFee = spec && spec.MaxFee != null && spec.MaxFee !== '0' ? bigParam(spec.MaxFee, 'MaxFee') : 0n
      if (maxFee > 0n && msg.gasFeeCap * BigInt(msg.gasLimit) > maxFee) {
        msg.gasFeeCap = maxFee / BigInt(msg.gasLimit)
        if (msg.gasPremium > msg.gasFeeCap) msg.gasPremium = msg.gasFeeCap
      }
      return messageToJson(msg)
    },
    'Filecoin.MpoolPush': ([smsg]) => {
      if (!smsg || !smsg.Message || !smsg.Signature) throw new Error('MpoolPush: expected {Message, Signature}')
      const msg = messageFromJson(smsg.Message)
      const data = new Uint8Array(Buffer.from(smsg.Signature.Data ?? '', 'base64'))
      return cidToJson(chain.push(msg, { type: smsg.Signature.Type, data }))
    },
    'Filecoin.StateSearchMsg': (params) => {
      // Current Lotus: [tsk, cid, limit, allowReplaced]; older clients send [cid].
      const old = params[0] && params[0]['/']
      const c = old ? params[0] : params[1]
      const allowReplaced = old ? true : params[3] !== false
      const height = old ? chain.s.height : heightOf(params[0], 'StateSearchMsg')
      return chain.searchMsg(cidFromJson(c, 'StateSearchMsg message CID').toString(), allowReplaced, height)
    },
    'Filecoin.StateWaitMsg': async ([c, confidence = 0, limit = -1, allowReplaced = true]) => {
      const r = await chain.waitMsg(cidFromJson(c, 'StateWaitMsg message CID').toString(), Number(confidence) || 0, Number(limit), allowReplaced !== false)
      if (!r) throw new Error(`looking back ${limit} epochs: message ${c['/']} not found`)
      return r
    },

    // ---- control API (README: "Control API") ----
    'Devnet.Advance': ([epochs]) => ({ Height: devnet.advance(epochs) }),
    'Devnet.Fund': ([addr, amount]) => {
      const a = parseAddress(addr)
      const id = chain.fund(a.bytes, bigParam(amount, 'Devnet.Fund amount'))
      return { Address: formatAddress(a.bytes), ID: formatAddress(idAddressBytes(BigInt(id))), Balance: chain.s.actors[id].balance.toString() }
    },
    'Devnet.GrantDataCap': ([addr, bytes]) => {
      const a = parseAddress(addr)
      const id = chain.grantDataCap(a.bytes, bigParam(bytes, 'Devnet.GrantDataCap bytes'))
      return { Address: formatAddress(a.bytes), ID: formatAddress(idAddressBytes(BigInt(id))), DataCap: chain.s.datacap[id].toString() }
    },
    'Devnet.Deals': () => devnet.dealsJson(),
    'Devnet.Stats': ([addr]) => provider(addr).statsJson(),
    'Devnet.Fault': ([addr, kind, params]) => provider(addr).setFault(kind, params),
    'Devnet.SetAsk': ([addr, ask]) => provider(addr).setAsk(ask ?? {}),
    'Devnet.Ask': ([addr]) => provider(addr).askJson(),
    'Devnet.Info': () => devnet.info(),
    '__v2.ChainGetTipSet': ([sel]) => tipsetBySelector(sel)
  }
  return m
}

export function startRpc (devnet, port = 0) {
  const table = methods(devnet)
  const call = async (req, version) => {
    const id = req && req.id !== undefined ? req.id : null
    if (!req || typeof req !== 'object' || typeof req.method !== 'string') {
      return { jsonrpc: '2.0', id, error: { code: -32600, message: 'invalid request: expected {"jsonrpc":"2.0","method":…}' } }
    }
    let fn = table[req.method]
    if (req.method.startsWith('__')) fn = undefined
    if (version === 2 && req.method === 'Filecoin.ChainGetTipSet') fn = table['__v2.ChainGetTipSet']
    if (!fn) return { jsonrpc: '2.0', id, error: { code: -32601, message: `method '${req.method}' not found` } }
    try {
      const params = Array.isArray(req.params) ? req.params : (req.params == null ? [] : [req.params])
      const result = await fn(params)
      return { jsonrpc: '2.0', id, result: result === undefined ? null : result }
    } catch (e) {
      return { jsonrpc: '2.0', id, error: { code: 1, message: e.message } }
    }
  }
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    const version = path === '/rpc/v1' ? 1 : path === '/rpc/v2' ? 2 : 0
    if (!version) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('cairn devnet: JSON-RPC is at /rpc/v1 and /rpc/v2 (a simulated network, not Filecoin mainnet)\n'); return }
    if (req.method !== 'POST') { res.writeHead(405, { Allow: 'POST' }).end(); return }
    const chunks = []; let size = 0
    req.on('data', c => {
      size += c.length
      if (size > MAX_REQUEST) {
        res.writeHead(413, { 'Content-Type': 'text/plain' }).end(`request body over ${MAX_REQUEST} bytes\n`)
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', async () => {
      let body
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch (e) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: `parse error: ${e.message}` } }))
        return
      }
      const out = Array.isArray(body) ? await Promise.all(body.map(r => call(r, version))) : await call(body, version)
      if (!res.destroyed) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(out))
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

export { METHOD }
