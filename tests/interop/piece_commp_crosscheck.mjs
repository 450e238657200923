// Cross-check driver for Cairn's CommP: for every file in DIR (sorted by name), computes the piece
// with @web3-storage/data-segment 5.3.0 and prints one JSON line:
//   {"file", "v1", "v2", "paddedSize", "padding", "height"}  or  {"file", "error"}
// Usage: node piece_commp_crosscheck.mjs DIR
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Piece } from '@web3-storage/data-segment'

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node piece_commp_crosscheck.mjs DIR')
  process.exit(2)
}
for (const name of readdirSync(dir).sort()) {
  const bytes = readFileSync(join(dir, name))
  try {
    const piece = Piece.fromPayload(bytes)
    const info = piece.toInfo()
    console.log(JSON.stringify({
      file: name,
      v1: info.link.toString(),
      v2: piece.link.toString(),
      paddedSize: Number(piece.size),
      padding: Number(piece.padding),
      height: piece.height,
    }))
  } catch (error) {
    console.log(JSON.stringify({ file: name, error: String(error) }))
  }
}
