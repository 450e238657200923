#!/usr/bin/env node
// Command line entry of the devnet (scripts/devnet.sh runs it).
//
// Contract: node src/main.js [--port N] [--providers N] [--epoch-ms MS] [--seed S] [--state DIR]
//   [--publish-period EPOCHS] [--max-deals-per-publish N] [--seal-delay EPOCHS] [--finality EPOCHS]
//   [--circulating-supply ATTOFIL]
// Prints exactly one JSON line on stdout once every server listens:
//   {"rpc":"http://127.0.0.1:P/rpc/v1","providers":[{"id":"f01000","kind":"curio","http":…,"multiaddr":…,"peerId":…},…]}
// then runs until SIGTERM or SIGINT, on which it flushes --state and exits 0. Bad arguments or a
// failed start: a message on stderr and exit status 2 (arguments) or 1 (start).
import { startDevnet } from './devnet.js'

const FLAGS = {
  '--port': ['port', 'int'],
  '--providers': ['providers', 'int'],
  '--epoch-ms': ['epochMs', 'int'],
  '--seed': ['seed', 'string'],
  '--state': ['stateDir', 'string'],
  '--publish-period': ['publishPeriod', 'int'],
  '--max-deals-per-publish': ['maxDealsPerPublish', 'int'],
  '--seal-delay': ['sealDelay', 'int'],
  '--finality': ['finality', 'int'],
  '--circulating-supply': ['circulatingSupply', 'big']
}

function parseArgs (argv) {
  const opts = { epochMs: 1000 }
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]; let value
    if (flag === '-h' || flag === '--help') {
      process.stdout.write(`usage: devnet.sh ${Object.keys(FLAGS).map(f => `[${f} V]`).join(' ')}\n`)
      process.exit(0)
    }
    const eq = flag.indexOf('=')
    if (eq > 0) { value = flag.slice(eq + 1); flag = flag.slice(0, eq) } else value = argv[++i]
    const spec = FLAGS[flag]
    if (!spec) throw new Error(`unknown option '${flag}'`)
    if (value === undefined) throw new Error(`option ${flag} needs a value`)
    const [key, type] = spec
    if (type === 'int') {
      if (!/^[0-9]+$/.test(value)) throw new Error(`option ${flag} wants a non-negative integer, got '${value}'`)
      opts[key] = Number(value)
    } else if (type === 'big') {
      if (!/^[0-9]+$/.test(value)) throw new Error(`option ${flag} wants a decimal integer, got '${value}'`)
      opts[key] = BigInt(value)
    } else opts[key] = value
  }
  return opts
}

let opts
try { opts = parseArgs(process.argv.slice(2)) } catch (e) {
  process.stderr.write(`devnet: ${e.message}\n`)
  process.exit(2)
}
try {
  const devnet = await startDevnet(opts)
  process.stdout.write(JSON.stringify(devnet.descriptor()) + '\n')
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    try { await devnet.close() } finally { process.exit(0) }
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} catch (e) {
  process.stderr.write(`devnet: failed to start: ${e.stack || e.message}\n`)
  process.exit(1)
}
