// JSON (de)serialisation of devnet state and atomic snapshot files.
//
// Contract:
// - serialize(value) -> string: plain JSON where bigint, Uint8Array and CID values become
//   {"$big": "…"}, {"$bytes": "<base64>"}, {"$cid": "…"}; deserialize(string) reverses it exactly.
// - writeAtomic(path, string): writes to path.tmp then renames, so a crash leaves the old or the
//   new snapshot, never half of one.
// - readIfExists(path) -> string | null.
import fs from 'node:fs'
import { CID } from 'multiformats/cid'

export function serialize (value) {
  return JSON.stringify(value, function (key, v) {
    const raw = this[key]
    if (typeof raw === 'bigint') return { $big: raw.toString() }
    if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw).toString('base64') }
    const cid = raw != null && typeof raw === 'object' ? CID.asCID(raw) : null
    if (cid) return { $cid: cid.toString() }
    return v
  })
}

export function deserialize (text) {
  return JSON.parse(text, (key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v)
      if (keys.length === 1) {
        if (keys[0] === '$big') return BigInt(v.$big)
        if (keys[0] === '$bytes') return new Uint8Array(Buffer.from(v.$bytes, 'base64'))
        if (keys[0] === '$cid') return CID.parse(v.$cid)
      }
    }
    return v
  })
}

export function writeAtomic (path, text) {
  const tmp = `${path}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, path)
}

export function readIfExists (path) {
  try { return fs.readFileSync(path, 'utf8') } catch (e) {
    if (e.code === 'ENOENT') return null
    throw new Error(`state: cannot read ${path}: ${e.message}`)
  }
}
