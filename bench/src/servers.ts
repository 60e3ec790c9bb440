// Starting and stopping the example server (its built output) for the load benchmarks.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client, type Target } from './load.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const MAIN = join(ROOT, 'examples/server/dist/main.js')

/** Whether util-linux `taskset` is here to pin processes to cores. */
export const HAS_TASKSET = spawnSync('taskset', ['--version']).status === 0

/** Pins every thread of this process to `cores` (e.g. '1'); false without taskset. */
export function pinSelf(cores: string): boolean {
  if (!HAS_TASKSET) return false
  execFileSync('taskset', ['-a', '-cp', cores, String(process.pid)], { stdio: 'ignore' })
  return true
}

function newestMtime(dir: string): number {
  let newest = 0
  if (!existsSync(dir)) return newest
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path))
    else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

// The workspace packages the example server runs, each built to its own dist/.
const BUILT_PACKAGES = [
  'examples/server',
  'packages/cesr',
  'packages/protocol',
  'packages/crypto',
  'packages/server',
  'packages/fastify',
  'packages/store-sqlite',
  'packages/store-postgres',
  'packages/store-redis',
]

/**
 * Builds the workspace when any source of the example server is newer than its dist/.
 * BENCH_NO_BUILD=1 runs whatever dist/ holds (for before/after comparisons of builds).
 */
export function ensureBuilt(): void {
  if (process.env.BENCH_NO_BUILD === '1') return
  const stale = BUILT_PACKAGES.filter((dir) => {
    const dist = newestMtime(join(ROOT, dir, 'dist'))
    return dist === 0 || newestMtime(join(ROOT, dir, 'src')) > dist
  })
  if (stale.length === 0 && existsSync(MAIN)) return
  console.error(`building (stale: ${stale.join(', ')})…`)
  execFileSync('npx', ['-y', 'pnpm@10', 'run', 'build'], { cwd: ROOT, stdio: 'ignore' })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'))
        else resolve(address.port)
      })
    })
  })
}

export interface ServerOptions {
  readonly dataDir: string
  readonly store: 'memory' | 'sqlite' | 'auto'
  readonly crypto?: 'node' | 'webcrypto' | 'noble'
  /** Core to pin to with taskset (unpinned without taskset or when undefined). */
  readonly core?: number
  /** Extra environment: lifetimes, DATABASE_URL/REDIS_URL for the auto store. */
  readonly env?: Record<string, string>
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[]
}

export interface RunningServer {
  readonly pid: number
  readonly target: Target
  output(): string
  stop(): Promise<void>
}

/** Starts `node examples/server/dist/main.js` and resolves once it answers /key/response. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const port = await freePort()
  // The load generator would trip the default rate limits; what they cost is not measured here.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    RATE_LIMIT: 'off',
    ...options.env,
  }
  if (options.store !== 'auto' || options.env?.DATABASE_URL === undefined) delete env.DATABASE_URL
  if (options.store !== 'auto' || options.env?.REDIS_URL === undefined) delete env.REDIS_URL
  const args = [
    ...(options.nodeFlags ?? []),
    MAIN,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    options.dataDir,
    '--store',
    options.store,
    '--crypto',
    options.crypto ?? 'node',
  ]
  const pinned = HAS_TASKSET && options.core !== undefined
  const child: ChildProcess = pinned
    ? spawn('taskset', ['-c', String(options.core), process.execPath, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const target = { host: '127.0.0.1', port }
  const probe = new Client([target], 1)
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${output}`)
      try {
        const response = await probe.post(0, '/key/response', '')
        if (response.status === 200) break
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`server did not start in 30 s:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    probe.destroy()
  }
  // taskset execs node, so the child's pid is the server's.
  return {
    pid: child.pid!,
    target,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
