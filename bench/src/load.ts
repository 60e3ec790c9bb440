// A closed-loop HTTP load generator over node:http keep-alive connections, plus the /proc readings
// the server benchmarks report. Every loop here is bounded in count and time and targets only the
// loopback servers the benchmark started itself.
import { Agent, request } from 'node:http'
import { readdirSync, readFileSync } from 'node:fs'

export interface Target {
  readonly host: string
  readonly port: number
}

/** One keep-alive agent per target, `connections` sockets each; destroy() closes them. */
export class Client {
  readonly targets: readonly Target[]
  readonly #agents: Agent[]

  constructor(targets: readonly Target[], connectionsPerTarget: number) {
    for (const target of targets) {
      if (target.host !== '127.0.0.1') throw new Error('only 127.0.0.1 may be targeted')
    }
    this.targets = targets
    this.#agents = targets.map(
      () => new Agent({ keepAlive: true, maxSockets: connectionsPerTarget, scheduling: 'fifo' }),
    )
  }

  /** POSTs `body` to `path` on target `index`; resolves with the status and the response text. */
  post(index: number, path: string, body: string): Promise<{ status: number; body: string }> {
    const target = this.targets[index % this.targets.length]!
    const agent = this.#agents[index % this.#agents.length]!
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.host,
          port: target.port,
          path,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (text += chunk))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
          res.on('error', reject)
        },
      )
      req.setTimeout(30_000, () => req.destroy(new Error(`timeout POST ${path}`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  destroy(): void {
    for (const agent of this.#agents) agent.destroy()
  }
}

export interface LoadOptions {
  readonly path: string
  /** One pre-built body per request; the run stops when they are used up or time is up. */
  readonly bodies: readonly string[]
  readonly connections: number
  readonly durationMs: number
  /** Called on every response (e.g. to collect challenges); must be cheap. */
  readonly onResponse?: (index: number, status: number, body: string) => void
}

const SIGNED = '"signature"'

export interface LoadResult {
  readonly requests: number
  readonly ok: number
  /** Refused: a non-2xx status, or a 2xx without a signed payload. */
  readonly non2xx: number
  readonly errors: number
  readonly elapsedMs: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** The load generator's own CPU over the run, as a share of one core. */
  readonly generatorCpu: number
  /** A few refused responses, to say why a run is invalid. */
  readonly sampleFailures: readonly string[]
  /** True when the bodies ran out before the time did. */
  readonly exhausted: boolean
}

/**
 * Sends every body at most once, `connections` requests in flight, spread round-robin over the
 * client's targets; stops at the first of: bodies used up, `durationMs` elapsed.
 */
export async function runLoad(client: Client, options: LoadOptions): Promise<LoadResult> {
  const { bodies, path, connections, durationMs } = options
  const latencies = new Float64Array(bodies.length)
  const failures: string[] = []
  let next = 0
  let ok = 0
  let non2xx = 0
  let errors = 0
  const started = performance.now()
  const deadline = started + durationMs
  const cpuBefore = process.cpuUsage()

  async function worker(slot: number): Promise<void> {
    for (;;) {
      const index = next
      if (index >= bodies.length || performance.now() >= deadline) return
      next++
      const sent = performance.now()
      try {
        const response = await client.post(slot, path, bodies[index]!)
        latencies[index] = performance.now() - sent
        // Every accepted protocol request is answered with a signed payload; a 2xx without one is
        // a refusal (the Go reference answers refusals with 200 {"error": …}).
        if (response.status >= 200 && response.status < 300 && response.body.includes(SIGNED)) {
          ok++
        } else {
          non2xx++
          if (failures.length < 5)
            failures.push(`${response.status} ${response.body.slice(0, 200)}`)
        }
        options.onResponse?.(index, response.status, response.body)
      } catch (error) {
        latencies[index] = performance.now() - sent
        errors++
        if (failures.length < 5) failures.push(String(error))
      }
    }
  }

  await Promise.all(Array.from({ length: connections }, (_, slot) => worker(slot)))
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const sorted = latencies.subarray(0, next).sort()
  return {
    requests: next,
    ok,
    non2xx,
    errors,
    elapsedMs,
    requestsPerSecond: (next * 1000) / elapsedMs,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
    generatorCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
    sampleFailures: failures,
    exhausted: next >= bodies.length,
  }
}

export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** Runs `make` for every index with `concurrency` at a time, in order of completion. */
export async function pool<T>(
  count: number,
  concurrency: number,
  make: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++
        results[index] = await make(index)
      }
    }),
  )
  return results
}

const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of a process, in microseconds (from /proc/<pid>/stat, 10 ms resolution). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may contain spaces) start at the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_SECOND
}

/** Resident set size of a process in MiB (VmRSS). */
export function processRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  return match === null ? Number.NaN : Number(match[1]) / 1024
}

/** Busy and total jiffies of the whole machine, for how busy it was during a run. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
  const values = line.trim().split(/\s+/).slice(1).map(Number)
  const total = values.reduce((sum, value) => sum + value, 0)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  return { busy: total - idle, total }
}

/** The pids of process group `pgid` (a server and whatever it forked), from /proc. */
export function processGroup(pgid: number): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // exited since the listing
    }
    // After the command name: state, ppid, pgrp.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[2]) === pgid) pids.push(Number(entry))
  }
  return pids
}
