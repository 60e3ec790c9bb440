/// <reference types="node" />
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adversarialCases } from '../adversarial/cases.js'
import { runAdversarial, type CaseResult, type AdversarialOptions } from '../adversarial/run.js'
import { scenarios as referenceScenarios, type Scenario } from '../scenarios.js'
import type { Expectation, ServerSpec } from './config.js'
import {
  freePort,
  probe,
  runStep,
  startServer,
  substitute,
  UnavailableError,
  type RunningServer,
  type StopOutcome,
} from './process.js'
import { runScenarios, type ScenarioResult } from './scenarios.js'

/**
 * `pass`: nothing to report. `findings`: a reference server accepted hostile messages (reported,
 * not failing). `fail`: what the server is held to was not met. `unavailable`: it never ran.
 */
export type ServerVerdict = 'pass' | 'findings' | 'fail' | 'unavailable'

export interface ServerReport {
  readonly name: string
  readonly description?: string
  readonly expect: Expectation
  readonly url: string
  readonly started: boolean
  /** Why the server could not be prepared, started or reached: the command's own words. */
  readonly unavailable?: string
  readonly scenarios: readonly ScenarioResult[]
  readonly adversarial: readonly CaseResult[]
  readonly stop?: StopOutcome
  readonly verdict: ServerVerdict
  /** What makes the run fail (exit code), one line each. */
  readonly failures: readonly string[]
  /** Accepted hostile messages and other problems of reference servers; never fail the run. */
  readonly findings: readonly string[]
  readonly ms: number
}

export interface MatrixReport {
  readonly generatedAt: string
  readonly scenarios: readonly { id: string; title: string }[]
  readonly cases: readonly { id: string; title: string; proves: string }[]
  readonly servers: readonly ServerReport[]
  /** False when any server failed what it is held to: the CLI exits non-zero. */
  readonly ok: boolean
}

export type Progress =
  | { readonly kind: 'server'; readonly name: string; readonly phase: string }
  | { readonly kind: 'scenario'; readonly name: string; readonly result: ScenarioResult }
  | { readonly kind: 'case'; readonly name: string; readonly result: CaseResult }

export interface MatrixOptions {
  readonly scenarios?: readonly Scenario[]
  readonly cases?: AdversarialOptions['cases']
  readonly onProgress?: (progress: Progress) => void
  /** The server currently running, so an interrupted run can stop it. */
  readonly onStarted?: (server: RunningServer | undefined) => void
}

type Outcome = Pick<ServerReport, 'verdict' | 'failures' | 'findings'>

/** Applies the server's expectation to its results. */
export function assess(
  expect: Expectation,
  results: {
    readonly unavailable?: string
    readonly scenarios: readonly ScenarioResult[]
    readonly adversarial: readonly CaseResult[]
  },
  knownFailures: Readonly<Record<string, string>> = {},
): Outcome {
  const failures: string[] = []
  const findings: string[] = []
  if (results.unavailable !== undefined) {
    const line = `unavailable: ${results.unavailable.split('\n')[0] ?? ''}`
    // A conformant server we could not run is a failure; a foreign one is only reported.
    if (expect === 'conformant') failures.push(line)
    return { verdict: expect === 'conformant' ? 'fail' : 'unavailable', failures, findings }
  }
  for (const scenario of results.scenarios) {
    const known = knownFailures[scenario.id]
    if (scenario.status === 'FAIL') {
      const line = `${scenario.id} failed: ${scenario.detail ?? ''}`
      if (known === undefined) failures.push(line)
      else findings.push(`${line} (known server bug: ${known})`)
    } else if (known !== undefined) {
      findings.push(`${scenario.id} passes now: remove it from knownFailures`)
    }
  }
  const strict = expect === 'conformant'
  for (const result of results.adversarial) {
    let line: string | undefined
    if (result.status === 'ACCEPTED') {
      const http = result.httpStatus === undefined ? '' : `, HTTP ${result.httpStatus}`
      line = `${result.id} ACCEPTED (${result.code}${http})`
    } else if (result.status === 'error') line = `${result.id} not judged: ${result.code}`
    if (line !== undefined) (strict ? failures : findings).push(line)
    if (!result.alive && result.status !== 'error') {
      ;(strict ? failures : findings).push(`${result.id}: server stopped answering afterwards`)
    }
  }
  const verdict = failures.length > 0 ? 'fail' : findings.length > 0 ? 'findings' : 'pass'
  return { verdict, failures, findings }
}

async function runSuites(
  spec: ServerSpec,
  url: string,
  server: RunningServer | undefined,
  options: MatrixOptions,
) {
  const name = spec.name
  options.onProgress?.({ kind: 'server', name, phase: 'scenarios' })
  const scenarios = await runScenarios(url, {
    ...(options.scenarios === undefined ? {} : { scenarios: options.scenarios }),
    onResult: (result) => options.onProgress?.({ kind: 'scenario', name, result }),
  })
  options.onProgress?.({ kind: 'server', name, phase: 'adversarial cases' })
  const adversarial = await runAdversarial(url, {
    ...(options.cases === undefined ? {} : { cases: options.cases }),
    ...(server === undefined ? {} : { serverLog: server.log }),
    onResult: (result) => options.onProgress?.({ kind: 'case', name, result }),
  })
  return { scenarios, adversarial }
}

/** Prepares, starts, tests and stops one server; never throws for the server's own failures. */
export async function runServer(
  spec: ServerSpec,
  options: MatrixOptions = {},
): Promise<ServerReport> {
  const began = Date.now()
  const tempDir = await mkdtemp(join(tmpdir(), `better-auth-interop-${spec.name}-`))
  const port = spec.port === 0 ? await freePort() : spec.port
  const values = { node: process.execPath, tempDir, port: String(port ?? '') }
  const url = substitute(spec.url, values)
  let server: RunningServer | undefined
  let stop: StopOutcome | undefined
  let unavailable: string | undefined
  let results: { scenarios: ScenarioResult[]; adversarial: CaseResult[] } = {
    scenarios: [],
    adversarial: [],
  }
  try {
    if (spec.start === undefined) {
      const reachable = await probe(url, 5_000)
      if (!('status' in reachable) || reachable.status !== 200) {
        throw new UnavailableError(
          `nothing answers POST ${url}/key/response with 200 (${'status' in reachable ? `HTTP ${reachable.status}` : reachable.error})`,
        )
      }
    } else {
      for (const [index, step] of spec.prepare.entries()) {
        options.onProgress?.({
          kind: 'server',
          name: spec.name,
          phase: `prepare ${index + 1}/${spec.prepare.length}: ${step.command} ${step.args.join(' ')}`,
        })
        await runStep(step, values)
      }
      options.onProgress?.({ kind: 'server', name: spec.name, phase: `start (${url})` })
      server = await startServer(spec, url, values)
      options.onStarted?.(server)
    }
    results = await runSuites(spec, url, server, options)
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error
    unavailable = error.message
  } finally {
    if (server !== undefined) {
      options.onProgress?.({ kind: 'server', name: spec.name, phase: 'stop' })
      stop = await server.stop()
      options.onStarted?.(undefined)
    }
    await rm(tempDir, { recursive: true, force: true })
  }
  const outcome = assess(
    spec.expect,
    { ...results, ...(unavailable === undefined ? {} : { unavailable }) },
    spec.knownFailures,
  )
  return {
    name: spec.name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    expect: spec.expect,
    url,
    started: spec.start !== undefined,
    ...(unavailable === undefined ? {} : { unavailable }),
    ...results,
    ...(stop === undefined ? {} : { stop }),
    ...outcome,
    ms: Date.now() - began,
  }
}

/** Runs every server in turn (they may share a port, so never two at once). */
export async function runMatrix(
  specs: readonly ServerSpec[],
  options: MatrixOptions = {},
): Promise<MatrixReport> {
  const servers: ServerReport[] = []
  for (const spec of specs) servers.push(await runServer(spec, options))
  return {
    generatedAt: new Date().toISOString(),
    scenarios: (options.scenarios ?? referenceScenarios).map(({ id, title }) => ({ id, title })),
    cases: (options.cases ?? adversarialCases).map(({ id, title, proves }) => ({
      id,
      title,
      proves,
    })),
    servers,
    ok: servers.every((server) => server.failures.length === 0),
  }
}
