// The worker thread behind commPAsync (commp.js). Contract: for each message {id, bytes,
// paddedSize} it posts {id, v1, v2, size, fits} with the piece CIDs as strings, or {id, error}
// naming what failed; it holds no state between messages.

import { parentPort } from 'node:worker_threads'
import { commP } from './commp.js'

parentPort.on('message', ({ id, bytes, paddedSize }) => {
  try {
    const r = commP(bytes, paddedSize)
    parentPort.postMessage({ id, v1: r.v1.toString(), v2: r.v2.toString(), size: r.size, fits: r.fits })
  } catch (e) {
    parentPort.postMessage({ id, error: e.message })
  }
})
