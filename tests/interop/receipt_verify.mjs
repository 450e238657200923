// Verifies a pin's Filecoin receipt (GET /pins/{requestid}/receipt, docs/formats/receipt.md)
// without trusting Cairn: driven by receipt_interop_test.cpp, which runs `cairn serve` against the
// devnet until the pin's deals are active, then this script with:
//   CAIRN_URL          the server
//   CAIRN_TOKEN        the pin owner's token; CAIRN_OTHER_TOKEN another account's
//   CAIRN_PIN          the pin's requestid; CAIRN_CID the CID it was pinned with
//   DEVNET_RPC         the chain's JSON-RPC endpoint
// Every check below uses npm code only (@web3-storage/data-segment for PoDSI and CommP, @ipld/car
// and multiformats for the CAR), the chain, and the providers' own /piece retrieval endpoints:
// - the inclusion proof resolves the segment to the aggregate (FRC-0058), at the stated offset;
// - each deal is on chain with the aggregate's piece CID and size, the provider, the client and
//   the epochs, and activated;
// - the segment's bytes, fetched by Range from each provider's /piece/{aggregate} (its endpoint
//   read from its on-chain multiaddrs, or, for a libp2p-only provider such as Boost, from its
//   /fil/retrieval/transports/1.0.0 answer over js-libp2p), have the segment's CommP, and are a CARv1 rooted at the
//   pin's CID whose every block hashes to its CID;
// - a DAG larger than a piece comes as CAR shards (docs/formats/car-shards.md): every shard in
//   `shards` passes the same checks, the shards follow one another, and their blocks together
//   are the whole DAG (every link from the root resolves to a block of some shard);
// - another account gets 404 for the receipt, no token 401.
// js-libp2p 3.x needs Promise.withResolvers, which Node 20 lacks: the devnet's polyfill.
import '../../devnet/src/polyfill.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Inclusion, Piece } from '@web3-storage/data-segment'
import { CarReader } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { identity } from 'multiformats/hashes/identity'
import { multiaddr } from '@multiformats/multiaddr'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}
const url = env('CAIRN_URL')
const token = env('CAIRN_TOKEN')
const otherToken = env('CAIRN_OTHER_TOKEN')
const pin = env('CAIRN_PIN')
const pinnedCid = env('CAIRN_CID')
const rpcUrl = env('DEVNET_RPC')

let rpcId = 0
async function rpc (method, params) {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params })
  })
  const body = await res.json()
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

const getReceipt = (bearer, requestid = pin, method = 'GET') =>
  fetch(`${url}/pins/${requestid}/receipt`, {
    method,
    headers: bearer ? { Authorization: `Bearer ${bearer}` } : {}
  })

// An address without its network letter (the devnet spells f…, a testnet service t…).
const addressOf = (text) => {
  assert.match(text, /^[ft][0-4]/, `not a Filecoin address: ${text}`)
  return text.slice(1)
}

// An HTTP(S) base URL from one multiaddr (/ip4/H/tcp/P/http), or null.
const httpBaseOf = (text) => {
  const m = text.match(/^\/ip4\/([0-9.]+)\/tcp\/(\d+)\/http$/)
  return m ? `http://${m[1]}:${m[2]}` : null
}

let node = null
async function libp2pNode () {
  node ??= await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  return node
}

// Boost's retrieval transports query: no request; the provider writes a CBOR
// {"Protocols": [{"Name", "Addresses": [multiaddr bytes]}]} and closes.
async function transportsOf (peerId, addrs) {
  const n = await libp2pNode()
  const stream = await n.dialProtocol(multiaddr(`${addrs[0]}/p2p/${peerId}`), '/fil/retrieval/transports/1.0.0',
    { signal: AbortSignal.timeout(20_000) })
  // Iterate from the start: the answer may arrive before this side has closed.
  const reading = (async () => {
    const chunks = []
    for await (const c of stream) chunks.push(c.subarray ? c.subarray() : c)
    return new Uint8Array(Buffer.concat(chunks))
  })()
  await stream.close()
  return dagCbor.decode(await reading)
}

// The provider's /piece base URL: an HTTP multiaddr on chain (Curio), else the "http" transport
// the provider announces over libp2p (Boost's booster-http is not on chain).
async function providerBase (provider) {
  const info = await rpc('Filecoin.StateMinerInfo', [provider, null])
  const onChain = (info.Multiaddrs ?? []).map(b64 => multiaddr(new Uint8Array(Buffer.from(b64, 'base64'))).toString())
  for (const text of onChain) {
    const base = httpBaseOf(text)
    if (base) return base
  }
  assert.ok(info.PeerId && onChain.length, `${provider} has neither an HTTP multiaddr nor a libp2p address on chain`)
  const answer = await transportsOf(info.PeerId, onChain)
  for (const t of answer.Protocols ?? []) {
    if (t.Name !== 'http') continue
    for (const a of t.Addresses ?? []) {
      const base = httpBaseOf(multiaddr(a).toString())
      if (base) return base
    }
  }
  throw new Error(`${provider} announces no http retrieval transport: ${JSON.stringify(answer)}`)
}

// Every block of the CAR hashes to its CID; returns the roots and the blocks (CID text → bytes).
async function checkCar (bytes) {
  const reader = await CarReader.fromBytes(bytes)
  const roots = await reader.getRoots()
  const blocks = new Map()
  for await (const { cid, bytes: data } of reader.blocks()) {
    const hasher = { [sha256.code]: sha256, [identity.code]: identity }[cid.multihash.code]
    assert.ok(hasher, `block ${cid}: multihash 0x${cid.multihash.code.toString(16)} not checked here`)
    const digest = await hasher.digest(data)
    assert.deepEqual(digest.bytes, cid.multihash.bytes, `block ${cid} does not hash to its CID`)
    blocks.set(cid.toV1().toString(), { cid, data })
  }
  return { roots, blocks }
}

// One shard's receipt (the whole DAG's when it has one shard): the proof, every deal on chain,
// and the segment's bytes from each provider. Returns the blocks read back.
async function verifyShard (receipt, part) {
  const label = part.shard && part.shard.count > 1 ? `shard ${part.shard.index}/${part.shard.count}: ` : ''
  assert.equal(part.cid, receipt.cid, `${label}cid`)
  // FRC-0058: the proof resolves the segment to the aggregate, at the stated offset.
  const segmentLink = CID.parse(part.segment.pieceCid)
  const segment = Piece.fromLink(segmentLink)
  assert.equal(segment.size, BigInt(part.segment.size))
  const proof = Inclusion.decode(new Uint8Array(Buffer.from(part.inclusionProof, 'hex')))
  const { ok: aggregateLink, error } = Inclusion.resolveAggregate(proof, segmentLink)
  assert.ifError(error)
  assert.equal(aggregateLink.toString(), part.aggregate.pieceCidV2)
  assert.equal(Inclusion.tree(proof)[0] * segment.size, BigInt(part.segment.offset))
  const aggregate = Piece.fromString(part.aggregate.pieceCidV2)
  assert.equal(aggregate.size, BigInt(part.aggregate.paddedSize))
  const v1 = CID.parse(part.aggregate.pieceCid)
  assert.equal(v1.code, 0xf101)
  assert.equal(v1.multihash.code, 0x1012)
  assert.deepEqual(v1.multihash.digest, aggregate.root, 'v1 and v2 name the same aggregate root')

  // The segment's place in the unpadded aggregate payload the providers serve.
  const start = BigInt(part.segment.offset) - BigInt(part.segment.offset) / 128n
  const capacity = segment.size - segment.size / 128n
  const length = capacity - segment.padding

  assert.ok(part.deals.length >= 2, `${label}${JSON.stringify(part.deals)}`)
  const providers = new Set()
  let blocks = null
  for (const deal of part.deals) {
    assert.equal(deal.state, 'active', JSON.stringify(deal))
    providers.add(deal.provider)
    const onchain = await rpc('Filecoin.StateMarketStorageDeal', [deal.dealId, null])
    const p = onchain.Proposal
    assert.equal(p.PieceCID['/'], part.aggregate.pieceCid)
    assert.equal(BigInt(p.PieceSize), BigInt(part.aggregate.paddedSize))
    assert.equal(addressOf(p.Provider), addressOf(deal.provider))
    assert.equal(addressOf(p.Client), addressOf(deal.client))
    assert.equal(p.StartEpoch, deal.startEpoch)
    assert.equal(p.EndEpoch, deal.endEpoch)
    assert.ok(onchain.State.SectorStartEpoch >= 0, `deal ${deal.dealId} is not activated`)
    assert.equal(onchain.State.SlashEpoch, -1)

    // The segment back from this provider, by Range.
    const base = await providerBase(deal.provider)
    const got = await fetch(`${base}/piece/${part.aggregate.pieceCid}`, {
      headers: { Range: `bytes=${start}-${start + length - 1n}` }
    })
    assert.equal(got.status, 206)
    const bytes = new Uint8Array(await got.arrayBuffer())
    assert.equal(BigInt(bytes.length), length)
    assert.equal(Piece.fromPayload(bytes).link.toString(), part.segment.pieceCid,
      `${label}CommP of the segment fetched from ${deal.provider}`)
    const car = await checkCar(bytes)
    assert.deepEqual(car.roots.map(String), [receipt.cid])
    assert.ok(car.blocks.size > 0)
    if (part.shard && part.shard.sections !== null) {
      assert.equal(car.blocks.size, part.shard.sections, `${label}sections`)
    }
    blocks = car.blocks
  }
  assert.equal(providers.size, part.deals.length, `${label}one deal per provider`)
  return blocks
}

// Every block reachable from the root is among `blocks` (dag-pb and raw; identity CIDs inline).
function assertComplete (root, blocks) {
  const seen = new Set()
  const stack = [CID.parse(root)]
  while (stack.length > 0) {
    const cid = stack.pop()
    const key = cid.toV1().toString()
    if (seen.has(key) || cid.multihash.code === identity.code) continue
    seen.add(key)
    const block = blocks.get(key)
    assert.ok(block, `block ${cid} of the DAG is in no shard`)
    if (cid.code === dagPb.code) {
      for (const link of dagPb.decode(block.data).Links) stack.push(link.Hash)
    }
  }
  assert.equal(seen.size, blocks.size, 'the shards hold exactly the DAG\'s blocks')
}

test('the receipt verifies without Cairn', async () => {
  const res = await getReceipt(token)
  assert.equal(res.status, 200, await res.clone().text())
  const receipt = await res.json()
  assert.equal(receipt.cid, CID.parse(pinnedCid).toV1().toString())
  const parts = [receipt, ...(receipt.shards ?? [])]
  const expected = process.env.CAIRN_SHARDS ? Number(process.env.CAIRN_SHARDS) : null
  if (expected !== null) {
    assert.ok(parts.length >= expected, `${parts.length} shards, expected at least ${expected}`)
  }
  const all = new Map()
  let next = 0
  for (const [i, part] of parts.entries()) {
    if (part.shard) {
      assert.equal(part.shard.index, i)
      assert.equal(part.shard.count, parts.length)
      assert.equal(part.shard.firstSection, next, `shard ${i} starts where the one before ends`)
      next += part.shard.sections ?? 0
    }
    for (const [key, block] of await verifyShard(receipt, part)) {
      assert.ok(!all.has(key), `block ${key} is in two shards`)
      all.set(key, block)
    }
  }
  assertComplete(receipt.cid, all)
})

test('another account cannot see the receipt', async () => {
  if (node) await node.stop()
  const other = await getReceipt(otherToken)
  assert.equal(other.status, 404)
  const none = await getReceipt('')
  assert.equal(none.status, 401)
  const unknown = await getReceipt(token, '00000000-0000-4000-8000-000000000000')
  assert.equal(unknown.status, 404)
  const post = await getReceipt(token, pin, 'POST')
  assert.equal(post.status, 405)
})
