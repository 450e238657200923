// Cross-check driver for src/car/car_interop_test.cpp: the CAR and dag-cbor sides done by the
// independent JS implementations (@ipld/car, @ipld/dag-cbor, multiformats).
//
//   node car_crosscheck.mjs read FILE.car           -> lines "version N", "root CID"...,
//                                                      "block CID HEX"... (every block re-hashed
//                                                      here; exit 1 on a mismatch)
//   node car_crosscheck.mjs write OUT.car SEED N    -> writes a CARv1 of a random DAG of N dag-cbor
//                                                      and raw blocks; prints the same lines
//   node car_crosscheck.mjs cbor-roundtrip IN OUT   -> each hex line: decode, re-encode, write hex
//   node car_crosscheck.mjs cbor-gen OUT SEED N     -> N random values, encoded, one hex per line
import fs from 'node:fs'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { identity } from 'multiformats/hashes/identity'

const hex = (b) => Buffer.from(b).toString('hex')
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'))

// Deterministic PRNG (mulberry32) so a failing seed can be replayed.
function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function readCar (path) {
  const bytes = fs.readFileSync(path)
  const it = await CarBlockIterator.fromBytes(bytes)
  const roots = (await it.getRoots()).map(String)
  const blocks = []
  for await (const { cid, bytes: data } of it) {
    let digest
    if (cid.multihash.code === sha256.code) digest = await sha256.digest(data)
    else if (cid.multihash.code === identity.code) digest = identity.digest(data)
    else throw new Error(`cannot verify ${cid}`)
    if (hex(digest.bytes) !== hex(cid.multihash.bytes)) {
      console.error(`block ${cid} does not match its CID`)
      process.exit(1)
    }
    blocks.push([cid.toString(), hex(data)])
  }
  return { version: it.version, roots, blocks }
}

function randomValue (r, depth, links) {
  const k = Math.floor(r() * (depth > 2 ? 8 : 10))
  switch (k) {
    case 0: return null
    case 1: return r() < 0.5
    case 2: return Math.floor(r() * 2 ** 31) * (r() < 0.5 ? -1 : 1)
    case 3: return BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) * 4294967296n + BigInt(Math.floor(r() * 2 ** 32)))
    case 4: return (r() - 0.5) * 1e6 + 0.25 // never a whole number, so a float
    case 5: return Uint8Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 256))
    case 6: return Array.from({ length: Math.floor(r() * 8) }, () => String.fromCharCode(97 + Math.floor(r() * 26)) + (r() < 0.1 ? 'é😀' : '')).join('')
    case 7: return links.length ? links[Math.floor(r() * links.length)] : 'nolink'
    case 8: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1, links))
    default: {
      const o = {}
      const n = Math.floor(r() * 4)
      for (let i = 0; i < n; i++) o['k' + Math.floor(r() * 1000)] = randomValue(r, depth + 1, links)
      return o
    }
  }
}

function print ({ version, roots, blocks }) {
  const lines = [`version ${version}`]
  for (const r of roots) lines.push(`root ${r}`)
  for (const [c, h] of blocks) lines.push(`block ${c} ${h}`)
  process.stdout.write(lines.join('\n') + '\n')
}

const [mode, ...args] = process.argv.slice(2)
if (mode === 'read') {
  print(await readCar(args[0]))
} else if (mode === 'write') {
  const [out, seedText, nText] = args
  const r = rng(Number(seedText))
  const made = []
  for (let i = 0; i < Number(nText); i++) {
    let bytes, cid
    if (r() < 0.4) {
      bytes = Uint8Array.from({ length: Math.floor(r() * 3000) }, () => Math.floor(r() * 256))
      cid = CID.createV1(raw.code, await sha256.digest(bytes))
    } else {
      const links = made.map((b) => b.cid).filter(() => r() < 0.3)
      bytes = dagCbor.encode({ i, links, v: randomValue(r, 0, links) })
      cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
    }
    made.push({ cid, bytes })
  }
  const root = made[made.length - 1].cid
  const { writer, out: stream } = CarWriter.create([root])
  const chunks = []
  const done = (async () => { for await (const c of stream) chunks.push(c) })()
  for (const b of made) await writer.put(b)
  await writer.close()
  await done
  fs.writeFileSync(out, Buffer.concat(chunks))
  print(await readCar(out))
} else if (mode === 'cbor-roundtrip') {
  const lines = fs.readFileSync(args[0], 'utf8').split('\n').filter(Boolean)
  fs.writeFileSync(args[1], lines.map((l) => hex(dagCbor.encode(dagCbor.decode(unhex(l))))).join('\n') + '\n')
} else if (mode === 'cbor-gen') {
  const [out, seedText, nText] = args
  const r = rng(Number(seedText))
  const links = [CID.parse('bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'),
    CID.parse('QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n')]
  const lines = []
  for (let i = 0; i < Number(nText); i++) lines.push(hex(dagCbor.encode(randomValue(r, 0, links))))
  fs.writeFileSync(out, lines.join('\n') + '\n')
} else {
  console.error('usage: car_crosscheck.mjs read|write|cbor-roundtrip|cbor-gen ...')
  process.exit(2)
}
