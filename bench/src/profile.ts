// Profiles the example server under one endpoint's load: starts it with `node --cpu-prof` (memory
// store, pinned to core 0), runs pre-signed requests for PROFILE_SECONDS (default 10), stops it so
// it writes the profile, and prints the functions with the most self time.
//
//   PROFILE_ENDPOINT=access|request|create|refresh|rotate (default access)
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ENDPOINTS, setUp } from './endpoints.js'
import { writeResults } from './harness.js'
import { Client, processCpuMicros, runLoad } from './load.js'
import { ensureBuilt, pinSelf, startServer } from './servers.js'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { functionName: string; url: string; lineNumber: number }
  readonly children?: readonly number[]
}
interface CpuProfile {
  readonly endTime: number
  readonly startTime: number
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const name = process.env.PROFILE_ENDPOINT ?? 'access'
const endpoint = ENDPOINTS.find((candidate) => candidate.name === name)
if (endpoint === undefined) throw new Error(`unknown endpoint ${name}`)
const seconds = Number(process.env.PROFILE_SECONDS ?? 10)

ensureBuilt()
pinSelf('1')
const dataDir = mkdtempSync(join(tmpdir(), 'better-auth-profile-'))
const profileDir = join(dataDir, 'profile')
const server = await startServer({
  dataDir,
  store: 'memory',
  core: 0,
  nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
})
const client = new Client([server.target], 32)
let requests = 0
let cpuMicros = 0
/** How long before the profile's end the measured run started, in µs. */
let windowMicros = 0
try {
  const fixture = await setUp(client)
  const warm = await endpoint.prepare(fixture, 3000)
  await runLoad(client, { path: endpoint.path, bodies: warm, connections: 32, durationMs: 10_000 })
  const bodies = await endpoint.prepare(fixture, Math.round(12_000 * seconds))
  const before = processCpuMicros(server.pid)
  const result = await runLoad(client, {
    path: endpoint.path,
    bodies,
    connections: 32,
    durationMs: seconds * 1000,
  })
  cpuMicros = processCpuMicros(server.pid) - before
  requests = result.requests
  const stopping = performance.now()
  client.destroy()
  await server.stop()
  windowMicros = (result.elapsedMs + performance.now() - stopping) * 1000
  console.log(
    `${endpoint.path}: ${Math.round(result.requestsPerSecond)} req/s, ` +
      `${Math.round(cpuMicros / requests)} µs CPU/req (profiler on), ${result.non2xx} non-2xx`,
  )
} finally {
  client.destroy()
  await server.stop()
}

const file = readdirSync(profileDir).find((entry) => entry.endsWith('.cpuprofile'))
if (file === undefined) throw new Error('no profile written')
const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile
// Only the samples of the measured run: setup and warm-up traffic come before it.
const selfMicros = new Map<number, number>()
const from = profile.endTime - windowMicros
let at = profile.startTime
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0
  at += delta
  if (at >= from) selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta)
})
const byFunction = new Map<string, number>()
let total = 0
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id) ?? 0
  total += micros
  const { functionName, url, lineNumber } = node.callFrame
  const where = url.replace(/^.*\/(node_modules|packages|examples)\//, '$1/')
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros)
}
const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)
console.log(`\nself time of the measured run, top functions (µs per request, share of samples):`)
for (const [key, micros] of top) {
  const share = ((100 * micros) / total).toFixed(1).padStart(5)
  console.log(`${(micros / requests).toFixed(1).padStart(7)} µs ${share}%  ${key}`)
}
const byModule = new Map<string, number>()
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id) ?? 0
  const { functionName, url } = node.callFrame
  const module =
    url === ''
      ? functionName
      : url.includes('/node_modules/')
        ? url.split('/node_modules/').at(-1)!.split('/')[0]!
        : url.startsWith('node:')
          ? url
          : url.split('/').slice(-3).join('/')
  byModule.set(module, (byModule.get(module) ?? 0) + micros)
}
console.log(`\nself time by module (µs per request):`)
for (const [module, micros] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`${(micros / requests).toFixed(1).padStart(7)} µs  ${module}`)
}
const saved = writeResults(`profile-${name}`, { endpoint: endpoint.path, requests, cpuMicros, top })
copyFileSync(join(profileDir, file), saved.replace(/\.json$/, '.cpuprofile'))
rmSync(dataDir, { recursive: true, force: true })
console.error(`wrote ${saved}`)
