// Cross-check driver for src/bitswap/bitswap_interop_test.cpp: the bitswap 1.2.0 protobuf done by
// Helia's own codec (@helia/bitswap 4.0.19's generated pb/message.js; protons).
//
//   node bitswap_crosscheck.mjs decode FILE      -> each line of FILE, 'm' + hex, decoded; one
//                                                   description line per message (below)
//   node bitswap_crosscheck.mjs gen SEED N       -> N random messages encoded by Helia: lines
//                                                   "<hex> <description>"
//
// Description (the same text the C++ side builds): "W<full>" then per entry
// " E<cid hex>,<priority>,<cancel>,<wantType>,<sendDontHave>", per block " B<prefix hex>,<data hex>",
// per presence " P<cid hex>,<type>", and " N<pendingBytes>"; booleans and enums as 0/1.
import fs from 'node:fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { BitswapMessage, WantType, BlockPresenceType } from './node_modules/@helia/bitswap/dist/src/pb/message.js'

const hex = (b) => Buffer.from(b ?? new Uint8Array(0)).toString('hex')
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'))
const bit = (b) => (b ? 1 : 0)

function describe (m) {
  let out = 'W' + bit(m.wantlist?.full)
  for (const e of m.wantlist?.entries ?? []) {
    out += ` E${hex(e.cid)},${e.priority ?? 0},${bit(e.cancel)},${e.wantType === WantType.WantHave ? 1 : 0},${bit(e.sendDontHave)}`
  }
  for (const b of m.blocks ?? []) out += ` B${hex(b.prefix)},${hex(b.data)}`
  for (const p of m.blockPresences ?? []) {
    out += ` P${hex(p.cid)},${p.type === BlockPresenceType.DoNotHaveBlock ? 1 : 0}`
  }
  out += ` N${m.pendingBytes ?? 0}`
  return out
}

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

async function randomCid (r) {
  const bytes = new Uint8Array(1 + Math.floor(r() * 40)).map(() => Math.floor(r() * 256))
  return CID.createV1(raw.code, await sha256.digest(bytes)).bytes
}

const [mode, a, b] = process.argv.slice(2)
if (mode === 'decode') {
  for (const line of fs.readFileSync(a, 'utf8').split('\n').filter(Boolean)) {
    console.log(describe(BitswapMessage.decode(unhex(line.slice(1)))))
  }
} else if (mode === 'gen') {
  const r = rng(Number(a))
  for (let i = 0; i < Number(b); i++) {
    const m = { blocks: [], blockPresences: [] }
    if (r() < 0.8) {
      m.wantlist = { full: r() < 0.3, entries: [] }
      const n = Math.floor(r() * 5)
      for (let j = 0; j < n; j++) {
        const entry = { cid: await randomCid(r), priority: Math.floor(r() * 2000) - 100 }
        // Helia writes optional fields whenever they are set, false and 0 included.
        if (r() < 0.7) entry.cancel = r() < 0.3
        if (r() < 0.7) entry.wantType = r() < 0.5 ? WantType.WantHave : WantType.WantBlock
        if (r() < 0.7) entry.sendDontHave = r() < 0.5
        m.wantlist.entries.push(entry)
      }
    }
    const nb = Math.floor(r() * 3)
    for (let j = 0; j < nb; j++) {
      const data = new Uint8Array(Math.floor(r() * 100)).map(() => Math.floor(r() * 256))
      m.blocks.push({ prefix: unhex('01551220'), data })
    }
    const np = Math.floor(r() * 3)
    for (let j = 0; j < np; j++) {
      m.blockPresences.push({ cid: await randomCid(r), type: r() < 0.5 ? BlockPresenceType.HaveBlock : BlockPresenceType.DoNotHaveBlock })
    }
    if (r() < 0.5) m.pendingBytes = Math.floor(r() * 100000)
    console.log(`${hex(BitswapMessage.encode(m))} ${describe(m)}`)
  }
} else {
  console.error('usage: bitswap_crosscheck.mjs decode FILE | gen SEED N')
  process.exit(2)
}
