// One measured case of a server benchmark: a warm-up run that also estimates the rate, pre-signing
// for the measured run, then the run itself with the server's CPU and RSS read from /proc. Shared by
// the example-server benchmark (server.ts) and the side-by-side one (across.ts).
import { loadavg } from 'node:os'
import type { Endpoint, Fixture } from './endpoints.js'
import { machineCpu, runLoad, type Client, type LoadResult } from './load.js'

export interface MeasureSettings {
  readonly durationMs: number
  readonly connections: number
  /** Requests of the warm-up run that also estimates how many to pre-sign. */
  readonly warmupRequests: number
  /** Time limit of the warm-up run. */
  readonly warmupMs: number
  /** Pre-signed requests per measured run: the estimated rate × time × 2, within these bounds. */
  readonly minRequests: number
  readonly maxRequests: number
}

/** How to read the server side: CPU (µs) and RSS (MiB) per server process or process group. */
export interface ServerProbe {
  cpuMicros(): number[]
  rssMiB(): number[]
}

export interface Measured extends LoadResult {
  readonly loadAverage: number
  /** Server CPU (utime + stime, all server processes) per request, in µs. */
  readonly serverCpuMicrosPerRequest: number
  /** Server CPU over the run as a share of one core, per process. */
  readonly serverCpu: readonly number[]
  /** The whole machine's busy share over the run (2 cores = 1.0). */
  readonly machineBusy: number
  readonly rssBeforeMiB: readonly number[]
  readonly rssAfterMiB: readonly number[]
  /** Seconds from the first signed request to the end of the run (timestamps' age). */
  readonly oldestRequestAgeS: number
}

/** Throws when a run holds any refusal or error: a benchmark full of refusals is invalid. */
export function assertValid(what: string, result: LoadResult): void {
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${what}: ${result.non2xx} refused, ${result.errors} errors of ${result.requests}; ` +
        `a benchmark full of refusals is invalid:\n${result.sampleFailures.join('\n')}`,
    )
  }
}

export async function measureEndpoint(
  what: string,
  client: Client,
  fixture: Fixture,
  endpoint: Endpoint,
  probe: ServerProbe,
  settings: MeasureSettings,
): Promise<Measured> {
  // Warm-up: JIT-compiles both sides and estimates the rate, so the measured run pre-signs enough.
  const warmupBodies = await endpoint.prepare(fixture, settings.warmupRequests)
  const warmup = await runLoad(client, {
    path: endpoint.path,
    bodies: warmupBodies,
    connections: settings.connections,
    durationMs: settings.warmupMs,
  })
  assertValid(`${what} warm-up`, warmup)
  const count = Math.min(
    settings.maxRequests,
    Math.max(
      settings.minRequests,
      Math.ceil(warmup.requestsPerSecond * (settings.durationMs / 1000) * 2),
    ),
  )
  const signedAt = Date.now()
  const bodies = await endpoint.prepare(fixture, count)
  await new Promise((resolve) => setTimeout(resolve, 200))

  const loadAverage = loadavg()[0] ?? 0
  const rssBeforeMiB = probe.rssMiB()
  const cpuBefore = probe.cpuMicros()
  const machineBefore = machineCpu()
  const result = await runLoad(client, {
    path: endpoint.path,
    bodies,
    connections: settings.connections,
    durationMs: settings.durationMs,
  })
  const machineAfter = machineCpu()
  const cpuDelta = probe.cpuMicros().map((micros, i) => micros - cpuBefore[i]!)
  const rssAfterMiB = probe.rssMiB()
  const totalCpu = cpuDelta.reduce((sum, value) => sum + value, 0)
  return {
    ...result,
    loadAverage,
    serverCpuMicrosPerRequest: totalCpu / Math.max(1, result.requests),
    serverCpu: cpuDelta.map((micros) => micros / 1000 / result.elapsedMs),
    machineBusy:
      (machineAfter.busy - machineBefore.busy) /
      Math.max(1, machineAfter.total - machineBefore.total),
    rssBeforeMiB,
    rssAfterMiB,
    oldestRequestAgeS: (Date.now() - signedAt) / 1000,
  }
}
