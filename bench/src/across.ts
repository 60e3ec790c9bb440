// Side by side: our example server and the reference servers (built from the pinned archives by the
// interop matrix's own build and launch code) under the same load generator, pre-signed requests
// and core pinning, every endpoint, in alternating rounds. See bench/README.md.
//
//   BENCH_SMOKE=1                 one round of 1 s per case, ours on the memory store only
//   BENCH_ACROSS_SECONDS=3        time per measured case (default 3)
//   BENCH_ACROSS_ROUNDS=2         rounds; odd rounds run the servers in order, even ones reversed
//   BENCH_ACROSS_SERVERS=a,b      which servers (names as in the table; default all)
//   BENCH_ENDPOINTS=access,…      which endpoints
//   DATABASE_URL, REDIS_URL       add ours on PostgreSQL + Redis (on a port: the databases are
//                                 outside any namespace)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import {
  buildReference,
  cacheDir,
  DEFAULT_CONFIG,
  loadConfig,
  openNamespace,
  startServer,
  UnavailableError,
  type BuildOutcome,
  type BuildSpec,
  type Launcher,
  type MatrixConfig,
  type Namespace,
  type RunningServer,
  type ServerSpec,
} from '@better-auth/integration'
import { ENDPOINTS, setUp, type EndpointName } from './endpoints.js'
import { environment, writeResults, type Environment } from './harness.js'
import { Client, processCpuMicros, processGroup, processRssMiB } from './load.js'
import { assertValid, measureEndpoint, type Measured } from './measure.js'
import { HAS_TASKSET, MAIN, ROOT, ensureBuilt, freePort, pinSelf } from './servers.js'

const smoke = process.env.BENCH_SMOKE === '1'
const seconds = Number(process.env.BENCH_ACROSS_SECONDS ?? (smoke ? 1 : 3))
const rounds = Number(process.env.BENCH_ACROSS_ROUNDS ?? (smoke ? 1 : 2))
if (!(seconds > 0)) throw new RangeError('BENCH_ACROSS_SECONDS must be a positive number')
if (!(Number.isInteger(rounds) && rounds > 0)) {
  throw new RangeError('BENCH_ACROSS_ROUNDS must be a positive integer')
}
const settings = {
  durationMs: seconds * 1000,
  connections: 32,
  warmupRequests: smoke ? 300 : 1000,
  warmupMs: smoke ? 500 : 1500,
  minRequests: smoke ? 200 : 200,
  maxRequests: smoke ? 3000 : 100_000,
}
const NODE24 = '/opt/node24/bin/node'
const INNER_PORT = 8080

/** A server of the comparison: ours in one configuration, or a reference from servers.json. */
interface Contender {
  readonly name: string
  readonly kind: 'ours' | 'reference'
  /** Runtime or toolchain, for the table. */
  readonly runtime: string
  readonly spec: ServerSpec
  /** In a network namespace of its own (on 127.0.0.1:8080 there), or on a free port. */
  readonly netns: boolean
  /** Why it is not measured (toolchain missing, build failed), if it is not. */
  absent?: string
}

function nodeVersion(node: string): string {
  return execFileSync(node, ['-p', '`${process.version} (OpenSSL ${process.versions.openssl})`'], {
    encoding: 'utf8',
  }).trim()
}

function ours(
  name: string,
  node: string,
  store: 'memory' | 'sqlite' | 'auto',
  env: Readonly<Record<string, string>> = {},
  framework: 'fastify' | 'node' = 'fastify',
): Contender {
  const netns = store !== 'auto'
  return {
    name,
    kind: 'ours',
    runtime: existsSync(node) ? `Node ${nodeVersion(node)}` : node,
    netns,
    ...(existsSync(node) ? {} : { absent: `no ${node}` }),
    spec: {
      name,
      expect: 'conformant',
      netns,
      diagnoses: {},
      knownFailures: {},
      url: 'http://127.0.0.1:{port}',
      port: netns ? INNER_PORT : 0,
      start: {
        command: node,
        args: [
          MAIN,
          ...['--host', '127.0.0.1', '--port', '{port}', '--data-dir', '{tempDir}/data'],
          ...['--store', store, '--crypto', 'node', '--framework', framework],
        ],
        cwd: ROOT,
        // The references limit no one; the load generator would trip our default limits.
        env: { LOG_LEVEL: 'warn', RATE_LIMIT: 'off', ...env },
      },
      prepare: [],
      readiness: { timeoutMs: 60_000, intervalMs: 250 },
      stopTimeoutMs: 5_000,
    },
  }
}

/** The reference servers of servers.json that the comparison runs, by their matrix names. */
const REFERENCES: Readonly<Record<string, string>> = {
  go: 'Go',
  ts: 'Node (jiti)',
  rust: 'Rust (release build)',
  python: 'Python',
}

/**
 * The matrix builds the Rust reference in debug mode (enough for interop, ~20× the CPU of a
 * release build); the benchmark runs the same archive built with --release, in the same cache.
 */
const RUST_RELEASE = 'rs-release'

function withReleaseRust(config: MatrixConfig): MatrixConfig {
  const debug = config.builds.find((build) => build.name === 'rs')
  if (debug === undefined) return config
  const step = debug.steps[0]!
  const release: BuildSpec = {
    ...debug,
    name: RUST_RELEASE,
    steps: [{ ...step, args: ['build', '--release', '--example', 'server'] }],
  }
  const servers = config.servers.map((server) =>
    server.name !== 'rust' || server.start === undefined
      ? server
      : {
          ...server,
          build: RUST_RELEASE,
          start: { ...server.start, command: '{cache}/rs-target/release/examples/server' },
        },
  )
  return { ...config, builds: [...config.builds, release], servers }
}

function contenders(config: MatrixConfig): Contender[] {
  const list: Contender[] = [
    ours('ours-memory', process.execPath, 'memory'),
    ours('ours-memory-node-http', process.execPath, 'memory', {}, 'node'),
    ours('ours-sqlite', process.execPath, 'sqlite'),
    ours('ours-memory-node24', NODE24, 'memory'),
    ours('ours-sqlite-node24', NODE24, 'sqlite'),
  ]
  const { DATABASE_URL, REDIS_URL } = process.env
  if (DATABASE_URL !== undefined && REDIS_URL !== undefined) {
    list.push(ours('ours-pg', process.execPath, 'auto', { DATABASE_URL, REDIS_URL }))
  }
  for (const [name, runtime] of Object.entries(REFERENCES)) {
    const spec = config.servers.find((server) => server.name === name)
    if (spec === undefined) continue
    list.push({ name, kind: 'reference', runtime, spec, netns: true })
  }
  const only = process.env.BENCH_ACROSS_SERVERS?.split(',').map((name) => name.trim())
  if (only !== undefined) return list.filter((contender) => only.includes(contender.name))
  if (!smoke) return list
  for (const contender of list) {
    if (contender.name !== 'ours-memory') contender.absent = 'skipped in a smoke run'
  }
  return list
}

/** Builds what the references need, once; marks those whose toolchain or build fails absent. */
async function buildAll(
  config: MatrixConfig,
  list: readonly Contender[],
  workDir: string,
): Promise<Map<string, BuildOutcome>> {
  const values = { cache: cacheDir(), node: process.execPath, configDir: dirname(DEFAULT_CONFIG) }
  const builds = new Map<string, BuildOutcome>()
  for (const contender of list) {
    const name = contender.spec.build
    if (contender.absent !== undefined || name === undefined) continue
    if (!builds.has(name)) {
      const build = config.builds.find((item) => item.name === name)
      if (build === undefined) {
        contender.absent = `no build "${name}" in servers.json`
        continue
      }
      console.error(`build ${name}…`)
      builds.set(name, await buildReference(build, workDir, values))
    }
    const outcome = builds.get(name)!
    if ('unavailable' in outcome)
      contender.absent = `build failed: ${outcome.unavailable.split('\n')[0]}`
  }
  return builds
}

export interface AcrossResult extends Measured {
  readonly server: string
  readonly kind: 'ours' | 'reference'
  readonly runtime: string
  readonly round: number
  readonly endpoint: EndpointName
  readonly path: string
}

/** Starts one contender (pinned to core 0), measures every endpoint once, stops it. */
async function runContender(
  contender: Contender,
  builds: ReadonlyMap<string, BuildOutcome>,
  round: number,
): Promise<AcrossResult[]> {
  const tempDir = mkdtempSync(join(tmpdir(), `better-auth-across-${contender.name}-`))
  const build = contender.spec.build === undefined ? undefined : builds.get(contender.spec.build)
  const port = contender.netns ? INNER_PORT : await freePort()
  const values = {
    cache: cacheDir(),
    node: process.execPath,
    configDir: dirname(DEFAULT_CONFIG),
    tempDir,
    port: String(port),
    ...(build !== undefined && 'src' in build ? { src: build.src } : {}),
  }
  let namespace: Namespace | undefined
  let server: RunningServer | undefined
  let client: Client | undefined
  const results: AcrossResult[] = []
  const cleanUp = async () => {
    client?.destroy()
    await server?.stop()
    await namespace?.close()
    rmSync(tempDir, { recursive: true, force: true })
  }
  // The server and the namespace run in process groups of their own: an interrupted run stops them.
  const interrupted = (signal: NodeJS.Signals) =>
    void cleanUp().finally(() => process.kill(process.pid, signal))
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted)
  try {
    let url = `http://127.0.0.1:${port}`
    const pin: Launcher = (command, args) =>
      HAS_TASKSET
        ? { command: 'taskset', args: ['-c', '0', command, ...args] }
        : { command, args: [...args] }
    let launch = pin
    if (contender.netns) {
      // Spawned from this process (pinned to core 1), so the forwarders share the generator's core.
      const inside = await openNamespace()
      namespace = inside
      url = await inside.bridge(INNER_PORT, tempDir)
      launch = (command, args) => {
        const pinned = pin(command, args)
        return inside.launch(pinned.command, pinned.args)
      }
    }
    server = await startServer(contender.spec, url, values, launch)
    const pgid = server.pid!
    // nsenter and taskset exec their command; jiti or a shell wrapper may fork: count the group.
    const probe = {
      cpuMicros: () => [
        processGroup(pgid).reduce((sum, pid) => sum + safe(processCpuMicros, pid), 0),
      ],
      rssMiB: () => [processGroup(pgid).reduce((sum, pid) => sum + safe(processRssMiB, pid), 0)],
    }
    client = new Client(
      [{ host: '127.0.0.1', port: Number(new URL(url).port) }],
      settings.connections,
    )
    const fixture = await setUp(client)
    for (const endpoint of selectedEndpoints()) {
      const what = `${contender.name} ${endpoint.path} (round ${round})`
      const measured = await measureEndpoint(what, client, fixture, endpoint, probe, settings)
      assertValid(what, measured)
      const result: AcrossResult = {
        server: contender.name,
        kind: contender.kind,
        runtime: contender.runtime,
        round,
        endpoint: endpoint.name,
        path: endpoint.path,
        ...measured,
      }
      console.error(
        `  ${what}: ${Math.round(result.requestsPerSecond)} req/s, ` +
          `${Math.round(result.serverCpuMicrosPerRequest)} µs CPU/req, ` +
          `server CPU ${Math.round(result.serverCpu[0]! * 100)}%, p99 ${result.p99Ms.toFixed(1)} ms, ` +
          `load ${result.loadAverage.toFixed(2)}`,
      )
      results.push(result)
    }
  } catch (error) {
    // A reference that stalls or refuses is reported with what it managed; ours must not fail.
    if (!(error instanceof UnavailableError) && contender.kind === 'ours') throw error
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error)
    contender.absent = `${error instanceof UnavailableError ? 'could not be started' : `failed in round ${round}`}: ${why}`
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted)
    await cleanUp()
  }
  return results
}

function safe(read: (pid: number) => number, pid: number): number {
  try {
    const value = read(pid)
    return Number.isFinite(value) ? value : 0
  } catch {
    return 0 // exited between the listing and the read
  }
}

function selectedEndpoints() {
  const only = process.env.BENCH_ENDPOINTS?.split(',').map((name) => name.trim())
  return ENDPOINTS.filter((endpoint) => only === undefined || only.includes(endpoint.name))
}

/** `openssl speed` of one P-256 sign and verify, pinned like the servers: the raw crypto floor. */
function opensslSpeed(): { sign: number; verify: number; version: string } | undefined {
  try {
    const pin = HAS_TASKSET ? ['taskset', '-c', '0'] : []
    const command = [...pin, 'openssl', 'speed', '-seconds', smoke ? '1' : '3', 'ecdsap256']
    const output = execFileSync(command[0]!, command.slice(1), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    // "256 bits ecdsa (nistp256)   0.0000s   0.0001s  28063.2  12654.5": the rates are precise.
    const match = /nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(output)
    if (match === null) return undefined
    const version = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()
    return { sign: 1e6 / Number(match[1]), verify: 1e6 / Number(match[2]), version }
  } catch {
    return undefined
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export interface Cell {
  readonly micros: readonly number[]
  readonly requestsPerSecond: readonly number[]
  readonly median: number
}

/** Median server CPU µs/request per server and endpoint over the rounds. */
export function cells(results: readonly AcrossResult[]): Map<string, Map<EndpointName, Cell>> {
  const table = new Map<string, Map<EndpointName, Cell>>()
  for (const result of results) {
    const row = table.get(result.server) ?? new Map<EndpointName, Cell>()
    table.set(result.server, row)
    const cell = row.get(result.endpoint)
    const micros = [...(cell?.micros ?? []), result.serverCpuMicrosPerRequest]
    row.set(result.endpoint, {
      micros,
      requestsPerSecond: [...(cell?.requestsPerSecond ?? []), result.requestsPerSecond],
      median: median(micros),
    })
  }
  return table
}

function cellText(cell: Cell | undefined): string {
  if (cell === undefined) return '—'
  const low = Math.min(...cell.micros)
  const high = Math.max(...cell.micros)
  const range = cell.micros.length > 1 ? ` (${Math.round(low)}–${Math.round(high)})` : ''
  return `${Math.round(cell.median)}${range}`
}

export function markdown(
  results: readonly AcrossResult[],
  list: readonly Contender[],
  crypto: ReturnType<typeof opensslSpeed>,
): string {
  const table = cells(results)
  const measured = list.filter((contender) => table.has(contender.name))
  const endpoints = selectedEndpoints()
  const lines: string[] = []
  lines.push(
    `Server CPU µs per request, median of ${rounds} round${rounds === 1 ? '' : 's'} (min–max):`,
    '',
    `| endpoint | ${measured.map((c) => c.name).join(' | ')} |`,
    `| --- | ${measured.map(() => '--:').join(' | ')} |`,
  )
  for (const endpoint of endpoints) {
    const row = measured.map((c) => cellText(table.get(c.name)?.get(endpoint.name)))
    lines.push(`| \`${endpoint.path}\` | ${row.join(' | ')} |`)
  }
  const references = measured.filter((c) => c.kind === 'reference')
  const oursList = measured.filter((c) => c.kind === 'ours')
  if (references.length > 0 && oursList.length > 0) {
    lines.push(
      '',
      'Reference CPU per request ÷ ours (above 1: ours spends less); the last column is the ' +
        'cheapest reference ÷ ours:',
      '',
    )
    for (const mine of oursList) {
      lines.push(
        `| ${mine.name} | ${references.map((c) => c.name).join(' | ')} | cheapest |`,
        `| --- | ${references.map(() => '--:').join(' | ')} | --: |`,
      )
      for (const endpoint of endpoints) {
        const own = table.get(mine.name)?.get(endpoint.name)?.median
        const theirs = references.map((c) => table.get(c.name)?.get(endpoint.name)?.median)
        const ratio = (other: number | undefined) =>
          own === undefined || other === undefined ? '—' : `${(other / own).toFixed(2)}×`
        const present = theirs.filter((value): value is number => value !== undefined)
        const cheapest = present.length === 0 ? undefined : Math.min(...present)
        lines.push(
          `| \`${endpoint.path}\` | ${theirs.map(ratio).join(' | ')} | ${ratio(cheapest)} |`,
        )
      }
      lines.push('')
    }
  }
  const memory = table.get('ours-memory')?.get('access')?.median
  const sqlite = table.get('ours-sqlite')?.get('access')?.median
  if (memory !== undefined) lines.push('')
  if (memory !== undefined && sqlite !== undefined) {
    lines.push(
      `- SQLite ÷ memory on \`/foo/bar\` (Node 22): ${(sqlite / memory).toFixed(2)}× (${Math.round(sqlite)} vs ${Math.round(memory)} µs)`,
    )
  }
  if (crypto !== undefined && memory !== undefined) {
    const raw = crypto.sign + crypto.verify
    lines.push(
      `- \`/foo/bar\` ÷ raw crypto (\`openssl speed ecdsap256\`, ${crypto.version.split(' (')[0]}, core 0: sign ` +
        `${crypto.sign.toFixed(1)} + verify ${crypto.verify.toFixed(1)} = ${raw.toFixed(1)} µs): ` +
        `memory ${(memory / raw).toFixed(2)}×` +
        (sqlite === undefined ? '' : `, SQLite ${(sqlite / raw).toFixed(2)}×`),
    )
  }
  const rates = measured.map((c) => {
    const row = endpoints.map((e) => {
      const cell = table.get(c.name)?.get(e.name)
      return cell === undefined
        ? '—'
        : Math.round(median(cell.requestsPerSecond)).toLocaleString('en-US')
    })
    return `| ${c.name} | ${c.runtime} | ${row.join(' | ')} |`
  })
  lines.push(
    '',
    'Requests per second, median (the generator and its forwarders share core 1, so the cheapest ' +
      'endpoints may be limited by it; server CPU per request is the comparison):',
    '',
    `| server | runtime | ${endpoints.map((e) => `\`${e.path}\``).join(' | ')} |`,
    `| --- | --- | ${endpoints.map(() => '--:').join(' | ')} |`,
    ...rates,
  )
  const absent = list.filter((c) => c.absent !== undefined)
  if (absent.length > 0) {
    lines.push('', 'Absent:', '', ...absent.map((c) => `- ${c.name}: ${c.absent}`))
  }
  return lines.join('\n')
}

/** Whether this process may create network namespaces (root or CAP_SYS_ADMIN); why not if not. */
async function namespacesWork(): Promise<string | undefined> {
  try {
    await (await openNamespace()).close()
    return undefined
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error
    return error.message.split('\n')[0]
  }
}

async function main(): Promise<void> {
  const started = Date.now()
  ensureBuilt()
  if (!pinSelf('1')) console.error('taskset (util-linux) not found: everything runs unpinned')
  const config = withReleaseRust(await loadConfig(DEFAULT_CONFIG))
  const noNamespaces = await namespacesWork()
  const list = contenders(config).map((contender) => {
    if (noNamespaces === undefined || !contender.netns) return contender
    // Ours can listen on a free port instead; the references' port is fixed at 8080.
    if (contender.kind === 'ours')
      return { ...contender, netns: false, spec: { ...contender.spec, netns: false, port: 0 } }
    return {
      ...contender,
      absent: contender.absent ?? `needs a network namespace: ${noNamespaces}`,
    }
  })
  const workDir = mkdtempSync(join(tmpdir(), 'better-auth-across-builds-'))
  const results: AcrossResult[] = []
  let env: Environment
  let crypto: ReturnType<typeof opensslSpeed>
  try {
    const builds = await buildAll(config, list, workDir)
    env = environment()
    crypto = opensslSpeed()
    console.error(
      `across: ${list
        .filter((c) => c.absent === undefined)
        .map((c) => c.name)
        .join(', ')}; ` + `${rounds} round(s), ${seconds} s per case`,
    )
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? list : [...list].reverse()
      for (const contender of order) {
        if (contender.absent !== undefined) continue
        console.error(`round ${round}: ${contender.name}`)
        results.push(...(await runContender(contender, builds, round)))
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
  const note =
    `Each server pinned to core 0 (taskset${HAS_TASKSET ? '' : ': missing, unpinned'}), in a ` +
    `network namespace of its own on 127.0.0.1:8080 reached through the interop matrix's ` +
    `forwarder (PostgreSQL rows: on a port), fresh state per round; load generator and ` +
    `forwarders on core 1, node:http keep-alive, ${settings.connections} connections, closed ` +
    `loop; pre-signed requests, each valid once, created against each server's own state; ` +
    `${seconds} s per case after a warm-up; ${rounds} round(s), alternating the order.`
  const text = `# Side by side: ours and the reference servers

- date: ${env.date}; ${Math.round((Date.now() - started) / 1000)} s
- generator: node ${env.node} (V8 ${env.v8}, OpenSSL ${env.openssl}), ${env.platform}
- cpu: ${env.cpu} × ${env.cpuCount}; load average at start ${env.loadAverage.toFixed(2)}, during the runs ${loadRange(results)}
- ${note}${smoke ? '\n- smoke run: numbers are rough' : ''}

${markdown(results, list, crypto)}
`
  console.log(text)
  const file = writeResults('across', {
    environment: env,
    settings: { ...settings, seconds, rounds },
    note,
    opensslSpeed: crypto,
    servers: list.map(({ name, kind, runtime, netns, absent }) => ({
      name,
      kind,
      runtime,
      netns,
      ...(absent === undefined ? {} : { absent }),
    })),
    results,
  })
  console.error(`wrote ${file} in ${Math.round((Date.now() - started) / 1000)} s`)
}

function loadRange(results: readonly AcrossResult[]): string {
  if (results.length === 0) return '—'
  const loads = results.map((r) => r.loadAverage)
  return `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`
}

await main()
