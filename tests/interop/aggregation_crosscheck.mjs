// Cross-check driver for src/filecoin/aggregation/aggregation_interop_test.cpp: FRC-0058 aggregates
// and PoDSI inclusion proofs computed by the independent @web3-storage/data-segment.
//
//   node aggregation_crosscheck.mjs REQUEST.json
//
// REQUEST = {"cases": [{"size": D, "pieces": [{"root": HEX, "height": H}, ...],
//                       "check": [{"piece": i, "proof": CBOR_HEX}, ...]}]}
// Pieces are written to the JS builder in the given order (the caller passes its own placement
// order). Prints {"cases": [{"root": HEX, "height": H, "link": V2_CID,
//                            "proofs": [CBOR_HEX per piece],
//                            "check": ["ok" | "error: ..." per check entry]}]}
// A case the JS builder rejects prints {"error": MESSAGE} in its place.
import fs from 'node:fs'
import { Aggregate, Inclusion, Piece } from '@web3-storage/data-segment'

const hex = (b) => Buffer.from(b).toString('hex')
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'))

const request = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const out = { cases: [] }
for (const c of request.cases) {
  const pieces = c.pieces.map((p) => ({ root: unhex(p.root), height: p.height, padding: 0n }))
  let aggregate
  try {
    aggregate = Aggregate.build({ pieces, size: BigInt(c.size) })
  } catch (error) {
    out.cases.push({ error: String(error.message ?? error) })
    continue
  }
  const proofs = pieces.map((piece) => {
    const { ok, error } = aggregate.resolveProof(Piece.toLink(piece))
    if (error) throw error
    return hex(Inclusion.encode(ok))
  })
  const check = (c.check ?? []).map(({ piece, proof }) => {
    try {
      const decoded = Inclusion.decode(unhex(proof))
      const { ok, error } = Inclusion.resolveAggregate(decoded, Piece.toLink(pieces[piece]))
      if (error) return `error: ${error.message}`
      if (ok.toString() !== aggregate.link.toString()) {
        return `error: resolves to ${ok} instead of ${aggregate.link}`
      }
      return 'ok'
    } catch (error) {
      return `error: ${error.message ?? error}`
    }
  })
  out.cases.push({
    root: hex(aggregate.root),
    height: aggregate.height,
    link: aggregate.link.toString(),
    proofs,
    check
  })
}
process.stdout.write(JSON.stringify(out) + '\n')
