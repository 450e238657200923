// CommP as a storage provider recomputes it on the data it pulled (FILECOIN.md §1.3).
//
// Contract:
// - commP(bytes, paddedSize) -> {v1, v2, size, fits}: the v1 piece CID of `bytes` zero-padded to
//   `paddedSize` (a power of two), the v2 piece CID of the unpadded data, and the padded size
//   reached; `fits` is false (and v1 the CID of the data's own tree) when the data needs more
//   than `paddedSize`. Synchronous: it holds the thread for the whole hash (about a second per
//   10 MiB here).
// - commPAsync(bytes, paddedSize) -> Promise of the same with v1 and v2 as CIDs: payloads above
//   INLINE_LIMIT are hashed on a worker thread, so the provider's event loop keeps answering
//   (status, asks, other proposals, the chain) while it verifies a large piece, as a real
//   provider does; smaller ones are hashed inline. One worker per process (shared by every
//   provider and devnet in it), started on first use, holding the process open only while it
//   has work; a failure rejects with an Error naming it, and the next call starts a new worker.

import { Worker } from 'node:worker_threads'
import { Piece } from '@web3-storage/data-segment'
import { sha256 } from '@noble/hashes/sha2.js'
import * as Digest from 'multiformats/hashes/digest'
import { CID, PIECE_CID_CODEC, PIECE_CID_MH } from './fil.js'

export const INLINE_LIMIT = 1 << 20

// Root of an all-zero subtree of the given height, used to zero-pad CommP.
function zeroComm (height) {
  let z = new Uint8Array(32)
  for (let i = 0; i < height; i++) z = trunc(sha256(new Uint8Array([...z, ...z])))
  return z
}
function trunc (d) { d = new Uint8Array(d); d[31] &= 0x3f; return d }

export function commP (bytes, paddedSize) {
  const piece = Piece.fromPayload(bytes)
  let root = piece.root; let height = piece.height; let size = Number(piece.size)
  if (size > paddedSize) return { v1: piece.toInfo().link, v2: piece.link, size, fits: false }
  while (size < paddedSize) {
    root = trunc(sha256(new Uint8Array([...root, ...zeroComm(height)])))
    height++; size *= 2
  }
  const v1 = CID.createV1(PIECE_CID_CODEC, Digest.create(PIECE_CID_MH, root))
  return { v1, v2: piece.link, size, fits: true }
}

let worker = null
let nextId = 1
const pending = new Map() // id -> {resolve, reject}

function failAll (error) {
  for (const { reject } of pending.values()) reject(error)
  pending.clear()
}

function startWorker () {
  const w = new Worker(new URL('./commp_worker.js', import.meta.url))
  w.on('message', ({ id, v1, v2, size, fits, error }) => {
    const p = pending.get(id)
    if (!p) return
    pending.delete(id)
    if (pending.size === 0) w.unref()
    if (error != null) p.reject(new Error(error))
    else p.resolve({ v1: CID.parse(v1), v2: CID.parse(v2), size, fits })
  })
  w.on('error', e => {
    if (worker === w) worker = null
    failAll(new Error(`commp worker failed: ${e.message}`))
  })
  w.on('exit', code => {
    if (worker === w) worker = null
    failAll(new Error(`commp worker exited (code ${code})`))
  })
  w.unref()
  return w
}

export async function commPAsync (bytes, paddedSize) {
  if (bytes.length <= INLINE_LIMIT) return commP(bytes, paddedSize)
  if (!worker) worker = startWorker()
  const id = nextId++
  const w = worker
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject })
    w.ref()
    w.postMessage({ id, bytes, paddedSize }) // a copy: the caller keeps its bytes
  })
}
