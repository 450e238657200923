// Shared by the Node drivers in this folder (kubo_rpc_client_roundtrip.mjs, helia_gateway_fetch.mjs,
// unixfs_import_crosscheck.mjs, unixfs_export_crosscheck.mjs): command-line flags, the run's seed
// and the generators derived from it, check counting, the server under test from the environment,
// and byte helpers. Plain Node (>= 20): no npm packages.
import { createCipheriv, createHash } from 'node:crypto'

const args = process.argv.slice(2)

// The word after `name` on the command line (`--seed 7` → '7'), or undefined when absent.
export const argValue = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

// The run's seed: `--seed N`, else one taken from the clock. A uint32; the driver prints it so a
// failing run can be repeated.
export const seedFromArgs = () => Number(argValue('--seed') ?? (Date.now() % 1_000_000_007)) >>> 0

// xorshift32 from `seed` (0 behaves as 1): rand() gives the next uint32, pick(xs) a random element.
// The same seed gives the same sequence on every Node version.
export function xorshift32 (seed) {
  let state = seed || 1
  const rand = () => {
    state ^= state << 13; state >>>= 0
    state ^= state >>> 17
    state ^= state << 5; state >>>= 0
    return state
  }
  return { rand, pick: (xs) => xs[rand() % xs.length] }
}

// check(ok, what) counts one check and prints `FAIL what` when !ok; returns ok. The counts are
// read at the end from counts.checks and counts.failures.
export function checker () {
  const counts = { checks: 0, failures: 0 }
  const check = (ok, what) => {
    counts.checks++
    if (!ok) {
      counts.failures++
      console.log(`FAIL ${what}`)
    }
    return ok
  }
  return { check, counts }
}

// randomBytes(size): seeded pseudo-random bytes, the ChaCha20 keystream of sha256(`${label}-${n}`)
// for the n-th call (n from 0). Same label, same sequence of results.
export function seededBytes (label) {
  let items = 0
  return (size) => {
    const key = createHash('sha256').update(`${label}-${items++}`).digest()
    const cipher = createCipheriv('chacha20', key, Buffer.alloc(16))
    return new Uint8Array(cipher.update(Buffer.alloc(size)))
  }
}

// The `cairn serve` under test, as serve_interop_test.cpp passes it: CAIRN_URL, CAIRN_TOKEN and,
// when set, CAIRN_READ_TOKEN (a pins:read-only token). Exits 2 naming `driver` when one of the
// first two is missing.
export function serverFromEnv (driver) {
  const url = process.env.CAIRN_URL
  const token = process.env.CAIRN_TOKEN
  if (!url || !token) {
    console.error(`${driver}: set CAIRN_URL and CAIRN_TOKEN`)
    process.exit(2)
  }
  return { url, token, readToken: process.env.CAIRN_READ_TOKEN }
}

// One unlabelled counter or gauge from Cairn's /metrics at `url` (fetched with `fetchImpl`);
// NaN when it is missing.
export async function metricValue (url, name, fetchImpl = fetch) {
  const text = await (await fetchImpl(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? NaN : Number(line.slice(name.length + 1))
}

export const equalBytes = (a, b) =>
  a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

// All chunks of an (async) iterable of Uint8Arrays, concatenated into one Uint8Array.
export async function collect (iterable) {
  const parts = []
  for await (const p of iterable) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
