import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { Bench } from 'tinybench'

/** One measured operation: `run` performs `batch` operations per call. */
export interface BenchCase {
  readonly op: string
  readonly backend: string
  readonly run: () => unknown
  /**
   * Operations per call. tinybench times every call with performance.now, whose own cost is a
   * sizeable fraction of a sub-microsecond operation, so fast operations run in batches.
   */
  readonly batch?: number
}

export interface BenchResult {
  readonly op: string
  readonly backend: string
  readonly opsPerSecond: number
  readonly microsecondsPerOp: number
  /** µs/op divided by the fastest backend's µs/op for the same op (1 for the fastest). */
  readonly ratioToFastest: number
  /** Relative margin of error of the per-call latency, in percent (95% confidence). */
  readonly rmePercent: number
  readonly calls: number
}

export interface BenchSettings {
  readonly timeMs: number
  readonly smoke: boolean
}

/** BENCH_SMOKE=1 runs each case for 50 ms (CI smoke test); BENCH_TIME_MS overrides the default. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const smoke = env.BENCH_SMOKE === '1'
  const configured = env.BENCH_TIME_MS === undefined ? Number.NaN : Number(env.BENCH_TIME_MS)
  if (env.BENCH_TIME_MS !== undefined && !(configured > 0)) {
    throw new RangeError(`BENCH_TIME_MS must be a positive number of milliseconds`)
  }
  const timeMs = configured > 0 ? configured : smoke ? 50 : 1500
  return { timeMs, smoke }
}

export async function runCases(
  cases: readonly BenchCase[],
  settings: BenchSettings,
): Promise<BenchResult[]> {
  const bench = new Bench({
    time: settings.timeMs,
    warmupTime: settings.smoke ? 10 : Math.min(250, settings.timeMs / 4),
    iterations: settings.smoke ? 5 : 64,
    // A case that fails (e.g. a verification that returns false) must stop the run rather than
    // be reported as a fast number.
    throws: true,
  })
  for (const [index, benchCase] of cases.entries()) {
    bench.add(`${index}`, benchCase.run)
  }
  await bench.run()

  const measured = bench.tasks.map((task, index) => {
    const benchCase = cases[index]
    const result = task.result
    if (benchCase === undefined || !('latency' in result)) {
      throw new Error(`benchmark ${task.name} did not complete (${result.state})`)
    }
    const batch = benchCase.batch ?? 1
    // period is total time / calls: the mean latency, which (unlike the mean of per-call
    // throughputs) is not skewed by the fastest calls.
    const microsecondsPerOp = (result.period * 1000) / batch
    return {
      op: benchCase.op,
      backend: benchCase.backend,
      microsecondsPerOp,
      opsPerSecond: 1e6 / microsecondsPerOp,
      rmePercent: result.latency.rme,
      calls: result.latency.samplesCount,
    }
  })
  return measured.map((result) => {
    const fastest = Math.min(
      ...measured.filter((other) => other.op === result.op).map((other) => other.microsecondsPerOp),
    )
    return { ...result, ratioToFastest: result.microsecondsPerOp / fastest }
  })
}

export interface Environment {
  readonly date: string
  readonly node: string
  readonly v8: string
  readonly openssl: string
  readonly platform: string
  readonly cpu: string
  readonly cpuCount: number
  /** 1-minute load average when the run started: a busy machine skews every number. */
  readonly loadAverage: number
}

export function environment(): Environment {
  const list = cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    loadAverage: loadavg()[0] ?? 0,
  }
}

function formatCount(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3)
}

function formatMicros(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

export function markdownTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => [
    r.op,
    r.backend,
    formatCount(r.opsPerSecond),
    formatMicros(r.microsecondsPerOp),
    `${r.ratioToFastest.toFixed(2)}×`,
    `±${r.rmePercent.toFixed(1)}%`,
  ])
  const header = ['op', 'backend', 'ops/s', 'µs/op', 'vs fastest', 'rme']
  const align = ['---', '---', '--:', '--:', '--:', '--:']
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** Writes `bench-results/<name>.json` at the repository root and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = new URL('../../bench-results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`${name}.json`, dir)
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  return file.pathname
}
