// Server load benchmark: the example server's built output in its own process (pinned to core 0),
// this process as the load generator (pinned to core 1), 32 keep-alive connections, pre-signed
// requests with unique nonces, one endpoint at a time. See bench/README.md and bench/RESULTS.md.
//
//   BENCH_SMOKE=1            ~2 s per case and a reduced matrix (CI)
//   BENCH_SERVER_SECONDS=10  time per measured case (default 10)
//   BENCH_GROUPS=memory,sqlite,sqlite-2,pg,pg-2,webcrypto,noble   which configurations
//   BENCH_ENDPOINTS=access,request,create,refresh,rotate           which endpoints
//   DATABASE_URL, REDIS_URL  enable the pg groups (scripts/services.sh start prints them)
//   BENCH_SERVER_NODE_FLAGS  extra node flags for the server processes
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { environment, writeResults, type Environment } from './harness.js'
import { Client, processCpuMicros, processRssMiB } from './load.js'
import { assertValid, measureEndpoint, type Measured } from './measure.js'
import { ENDPOINTS, setUp, type Endpoint, type EndpointName, type Fixture } from './endpoints.js'
import { HAS_TASKSET, ensureBuilt, pinSelf, startServer, type RunningServer } from './servers.js'

const smoke = process.env.BENCH_SMOKE === '1'
const seconds = Number(process.env.BENCH_SERVER_SECONDS ?? (smoke ? 2 : 10))
if (!(seconds > 0)) throw new RangeError('BENCH_SERVER_SECONDS must be a positive number')
const settings = {
  smoke,
  durationMs: seconds * 1000,
  connections: 32,
  /** Requests of the warm-up run that also estimates how many to pre-sign. */
  warmupRequests: smoke ? 300 : 5000,
  warmupMs: seconds * 1000,
  /** Pre-signed requests per measured run: the estimated rate × time × 2, within these bounds. */
  minRequests: smoke ? 500 : 5000,
  maxRequests: smoke ? 6000 : 250_000,
}

/** Extra node flags for the servers, e.g. BENCH_SERVER_NODE_FLAGS=--max-semi-space-size=32. */
const SERVER_NODE_FLAGS = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean)

// The figures for the reference TypeScript server, one core (not measured here).
export const REFERENCE = { accessPerSecond: 1800, accessCpuMicros: 550, challengePerSecond: 9900 }

interface Group {
  readonly name: string
  readonly store: 'memory' | 'sqlite' | 'auto'
  readonly storeLabel: string
  readonly processes: 1 | 2
  readonly crypto: 'node' | 'webcrypto' | 'noble'
  readonly endpoints: readonly EndpointName[]
  readonly env?: Record<string, string>
}

const ALL: readonly EndpointName[] = ['access', 'request', 'create', 'refresh', 'rotate']
const { DATABASE_URL, REDIS_URL } = process.env
const external =
  DATABASE_URL !== undefined && REDIS_URL !== undefined ? { DATABASE_URL, REDIS_URL } : undefined

function groups(): Group[] {
  const list: Group[] = [
    {
      name: 'memory',
      store: 'memory',
      storeLabel: 'memory',
      processes: 1,
      crypto: 'node',
      endpoints: ALL,
    },
    {
      name: 'sqlite',
      store: 'sqlite',
      storeLabel: 'sqlite',
      processes: 1,
      crypto: 'node',
      endpoints: ALL,
    },
    {
      name: 'sqlite-2',
      store: 'sqlite',
      storeLabel: 'sqlite',
      processes: 2,
      crypto: 'node',
      endpoints: ALL,
    },
  ]
  if (external !== undefined) {
    for (const processes of [1, 2] as const) {
      list.push({
        name: processes === 1 ? 'pg' : 'pg-2',
        store: 'auto',
        storeLabel: 'pg+redis',
        processes,
        crypto: 'node',
        endpoints: ALL,
        env: external,
      })
    }
  }
  for (const crypto of ['webcrypto', 'noble'] as const) {
    list.push({
      name: crypto,
      store: 'memory',
      storeLabel: 'memory',
      processes: 1,
      crypto,
      endpoints: ['access'],
    })
  }
  const only = process.env.BENCH_GROUPS?.split(',').map((name) => name.trim())
  if (only !== undefined) return list.filter((group) => only.includes(group.name))
  if (!smoke) return list
  // Smoke (CI): every endpoint once, the two-process path and one portable backend, ~30 s.
  const smokeEndpoints: Record<string, readonly EndpointName[]> = {
    memory: ALL,
    'sqlite-2': ['access', 'create'],
    noble: ['access'],
  }
  return list
    .filter((group) => smokeEndpoints[group.name] !== undefined)
    .map((group) => ({ ...group, endpoints: smokeEndpoints[group.name]! }))
}

function endpointsOf(group: Group): readonly Endpoint[] {
  const only = process.env.BENCH_ENDPOINTS?.split(',').map((name) => name.trim())
  return ENDPOINTS.filter(
    (endpoint) =>
      group.endpoints.includes(endpoint.name) &&
      (only === undefined || only.includes(endpoint.name)),
  )
}

export interface CaseResult extends Measured {
  readonly group: string
  readonly store: string
  readonly processes: number
  readonly crypto: string
  readonly endpoint: string
  readonly path: string
}

async function measure(
  group: Group,
  servers: readonly RunningServer[],
  fixture: Fixture,
  endpoint: Endpoint,
): Promise<CaseResult> {
  const measured = await measureEndpoint(
    `${group.name} ${endpoint.path}`,
    fixture.client,
    fixture,
    endpoint,
    {
      cpuMicros: () => servers.map((server) => processCpuMicros(server.pid)),
      rssMiB: () => servers.map((server) => processRssMiB(server.pid)),
    },
    settings,
  )
  return {
    group: group.name,
    store: group.storeLabel,
    processes: group.processes,
    crypto: group.crypto,
    endpoint: endpoint.name,
    path: endpoint.path,
    ...measured,
  }
}

async function runGroup(group: Group): Promise<CaseResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'better-auth-bench-'))
  const servers: RunningServer[] = []
  const results: CaseResult[] = []
  // With 2 servers each gets a core and the generator floats: it competes with both.
  pinSelf(group.processes === 1 ? '1' : '0,1')
  try {
    for (let i = 0; i < group.processes; i++) {
      // Sequential: the first start creates the key file and the database both share.
      servers.push(
        await startServer({
          dataDir,
          store: group.store,
          crypto: group.crypto,
          core: i,
          env: group.env,
          nodeFlags: SERVER_NODE_FLAGS,
        }),
      )
    }
    const perServer = settings.connections / servers.length
    const client = new Client(
      servers.map((server) => server.target),
      perServer,
    )
    try {
      const fixture = await setUp(client)
      for (const endpoint of endpointsOf(group)) {
        const result = await measure(group, servers, fixture, endpoint)
        console.error(`  ${summary(result)}`)
        assertValid(`${group.name} ${endpoint.path}`, result)
        results.push(result)
      }
    } finally {
      client.destroy()
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
    rmSync(dataDir, { recursive: true, force: true })
  }
  return results
}

function summary(r: CaseResult): string {
  return (
    `${r.group} ${r.path}: ${Math.round(r.requestsPerSecond)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, ` +
    `p99 ${r.p99Ms.toFixed(2)} ms, ${Math.round(r.serverCpuMicrosPerRequest)} µs CPU/req, ` +
    `${r.non2xx} non-2xx, ${r.errors} errors, load ${r.loadAverage.toFixed(2)}`
  )
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits)

export function resultsTable(results: readonly CaseResult[]): string {
  const header = [
    'store',
    'procs',
    'crypto',
    'endpoint',
    'req/s',
    'p50 ms',
    'p99 ms',
    'server CPU µs/req',
    'server CPU',
    'generator CPU',
    'non-2xx / errors',
    'RSS MiB before → after',
    'requests',
    'load avg',
  ]
  const align = [
    '---',
    '--:',
    '---',
    '---',
    '--:',
    '--:',
    '--:',
    '--:',
    '--:',
    '--:',
    '--:',
    '--:',
    '--:',
    '--:',
  ]
  const rows = results.map((r) => [
    r.store,
    String(r.processes),
    r.crypto,
    `\`${r.path}\``,
    Math.round(r.requestsPerSecond).toLocaleString('en-US'),
    fixed(r.p50Ms, 2),
    fixed(r.p99Ms, 2),
    String(Math.round(r.serverCpuMicrosPerRequest)),
    r.serverCpu.map((share) => `${Math.round(share * 100)}%`).join(' + '),
    `${Math.round(r.generatorCpu * 100)}%`,
    `${r.non2xx} / ${r.errors}`,
    `${r.rssBeforeMiB.map((v) => fixed(v, 0)).join('+')} → ${r.rssAfterMiB.map((v) => fixed(v, 0)).join('+')}`,
    r.requests.toLocaleString('en-US'),
    fixed(r.loadAverage, 2),
  ])
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

export function ratios(results: readonly CaseResult[]): string {
  const lines: string[] = []
  const access = results.find((r) => r.group === 'memory' && r.endpoint === 'access')
  if (access !== undefined) {
    lines.push(
      `- /foo/bar (memory, node, 1 process on 1 core): ${Math.round(access.requestsPerSecond)} req/s = ` +
        `${fixed(access.requestsPerSecond / REFERENCE.accessPerSecond, 2)}× the issue's reference figure ` +
        `(${REFERENCE.accessPerSecond} req/s); ${Math.round(access.serverCpuMicrosPerRequest)} µs CPU/req = ` +
        `${fixed(REFERENCE.accessCpuMicros / access.serverCpuMicrosPerRequest, 2)}× less than the reference ` +
        `${REFERENCE.accessCpuMicros} µs; p99 ${fixed(access.p99Ms, 2)} ms at ${settings.connections} connections`,
    )
  }
  const request = results.find((r) => r.group === 'memory' && r.endpoint === 'request')
  if (request !== undefined) {
    lines.push(
      `- /session/request (memory, node): ${Math.round(request.requestsPerSecond)} req/s = ` +
        `${fixed(request.requestsPerSecond / REFERENCE.challengePerSecond, 2)}× the reference figure ` +
        `(${REFERENCE.challengePerSecond} req/s)`,
    )
  }
  for (const crypto of ['webcrypto', 'noble']) {
    const other = results.find((r) => r.group === crypto && r.endpoint === 'access')
    if (other === undefined || access === undefined) continue
    lines.push(
      `- /foo/bar with ${crypto}: ${Math.round(other.requestsPerSecond)} req/s, ` +
        `${Math.round(other.serverCpuMicrosPerRequest)} µs CPU/req = ` +
        `${fixed(other.serverCpuMicrosPerRequest / access.serverCpuMicrosPerRequest, 2)}× node's CPU per request`,
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const started = Date.now()
  ensureBuilt()
  if (!pinSelf('1')) {
    console.error('taskset (util-linux) not found: server and load generator run unpinned')
  }
  const env: Environment = environment()
  const selected = groups()
  console.error(
    `server bench: ${selected.map((g) => g.name).join(', ')}; ${seconds} s per case` +
      (external === undefined ? ' (no DATABASE_URL/REDIS_URL: pg groups skipped)' : ''),
  )
  const results: CaseResult[] = []
  for (const group of selected) {
    console.error(`group ${group.name}`)
    results.push(...(await runGroup(group)))
  }
  const note =
    `Server: node examples/server/dist/main.js, LOG_LEVEL=warn, default lifetimes (access window ` +
    `30 s), ${HAS_TASKSET ? 'pinned to core 0 (2 processes: cores 0 and 1)' : 'unpinned (no taskset)'}; ` +
    `load generator: this process, node:http keep-alive, ${settings.connections} connections, ` +
    `${HAS_TASKSET ? 'pinned to core 1 (2 processes: floating over both cores)' : 'unpinned'}; ` +
    `pre-signed requests, each valid once; ${seconds} s per case after a warm-up run.`
  console.log(`# Server load benchmark

- date: ${env.date}
- node: ${env.node} (V8 ${env.v8}, OpenSSL ${env.openssl}), ${env.platform}
- cpu: ${env.cpu} × ${env.cpuCount}, load average at start ${env.loadAverage.toFixed(2)}
- ${note}${smoke ? '\n- smoke run: numbers are rough' : ''}

${resultsTable(results)}

${ratios(results)}
`)
  const file = writeResults('server', {
    environment: env,
    settings,
    reference: REFERENCE,
    note,
    results,
  })
  console.error(`wrote ${file} in ${Math.round((Date.now() - started) / 1000)} s`)
}

await main()
