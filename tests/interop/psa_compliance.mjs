// Driver for tests/interop/psa_compliance_test.cpp: runs the official Pinning Service API
// compliance suite (@ipfs-shipyard/pinning-service-compliance 1.8.1, its `bin`
// dist/src/index.js) against one endpoint and prints its JSON report on stdout.
//
//   node psa_compliance.mjs <endpoint> <token> <spec.yaml> <work dir>
//
// The suite needs two things changed for an offline, side-effect-free run, and both are done on a
// private copy of the package in <work dir> (node_modules stays untouched):
// - it downloads the spec from raw.githubusercontent.com at run time (utils/constants.js
//   `specLocation`); the copy reads <spec.yaml> instead (swagger-parser accepts a file path);
// - it writes its reports into its own package directory (dist/docs/<hostname>.{json,md}) and
//   appends to the markdown across runs; the copy keeps them in <work dir>.
// Every other dependency is a symlink into tests/interop/node_modules. The suite always exits 0;
// the caller decides from the report ({"total","passed","failed","success"}).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const [endpoint, token, spec, workArg] = process.argv.slice(2)
const work = workArg && path.resolve(workArg)
if (!endpoint || !token || !spec || !workArg) {
  console.error('usage: node psa_compliance.mjs <endpoint> <token> <spec.yaml> <work dir>')
  process.exit(2)
}
const here = path.dirname(fileURLToPath(import.meta.url))
const modules = path.join(here, 'node_modules')
const pkgName = '@ipfs-shipyard/pinning-service-compliance'
const pkgDir = path.join(modules, pkgName)
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
if (pkg.version !== '1.8.1') throw new Error(`expected ${pkgName}@1.8.1, found ${pkg.version}`)

// <work>/node_modules: symlinks to every installed package except the suite, which is copied.
const workModules = path.join(work, 'node_modules')
fs.mkdirSync(workModules, { recursive: true })
for (const entry of fs.readdirSync(modules)) {
  if (entry.startsWith('.')) continue
  const from = path.join(modules, entry)
  if (entry.startsWith('@')) {
    fs.mkdirSync(path.join(workModules, entry), { recursive: true })
    for (const sub of fs.readdirSync(from)) {
      if (`${entry}/${sub}` === pkgName) continue
      fs.symlinkSync(path.join(from, sub), path.join(workModules, entry, sub))
    }
  } else {
    fs.symlinkSync(from, path.join(workModules, entry))
  }
}
const copy = path.join(workModules, pkgName)
fs.cpSync(pkgDir, copy, { recursive: true, verbatimSymlinks: true })

const constants = path.join(copy, 'dist/src/utils/constants.js')
const source = fs.readFileSync(constants, 'utf8')
const pattern = /const specLocation = `[^`]*`;/
if (!pattern.test(source)) throw new Error(`no specLocation in ${constants}: the suite changed`)
fs.writeFileSync(constants, source.replace(pattern, `const specLocation = ${JSON.stringify(path.resolve(spec))};`))

const bin = path.join(copy, typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin)[0])
const env = { ...process.env }
for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k]
const run = spawnSync(process.execPath, [bin, '-s', endpoint, token], {
  cwd: work, env, encoding: 'utf8', timeout: 10 * 60 * 1000, maxBuffer: 64 * 1024 * 1024
})
fs.writeFileSync(path.join(work, 'suite.log'), `${run.stdout ?? ''}\n--- stderr ---\n${run.stderr ?? ''}`)
if (run.error) throw run.error

const hostname = new URL(endpoint).hostname
const report = path.join(copy, 'dist/docs', `${hostname}.json`)
if (!fs.existsSync(report)) {
  console.error(`no report at ${report}; suite output in ${path.join(work, 'suite.log')}`)
  process.exit(1)
}
process.stdout.write(fs.readFileSync(report, 'utf8') + '\n')
const markdown = path.join(copy, 'dist/docs', `${hostname}.md`)
if (fs.existsSync(markdown)) fs.copyFileSync(markdown, path.join(work, 'report.md'))
