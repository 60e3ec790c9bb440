/// <reference types="node" />
import { mkdtemp, rm } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { adversarialCases } from '../adversarial/cases.js'
import { runAdversarial, type CaseResult, type AdversarialOptions } from '../adversarial/run.js'
import { scenarios as referenceScenarios, type Scenario } from '../scenarios.js'
import { buildReference, type BuildOutcome } from './builds.js'
import type { ClientSpec, Expectation, MatrixConfig, ServerSpec } from './config.js'
import { openNamespace, type Namespace } from './netns.js'
import {
  freePort,
  probe,
  runStep,
  startServer,
  substitute,
  UnavailableError,
  type Placeholders,
  type RunningServer,
  type StopOutcome,
} from './process.js'
import { runScenarios, type ScenarioResult } from './scenarios.js'
import { runClientSuite, type ClientRun } from './suites.js'

/**
 * `pass`: nothing to report. `findings`: a reference server accepted hostile messages (reported,
 * not failing). `fail`: what the server is held to was not met. `unavailable`: it never ran.
 */
export type ServerVerdict = 'pass' | 'findings' | 'fail' | 'unavailable'

export interface ServerReport {
  readonly name: string
  readonly description?: string
  readonly expect: Expectation
  /** The reference build it runs from. */
  readonly build?: string
  readonly url: string
  readonly started: boolean
  /** Why the server could not be prepared, started or reached: the command's own words. */
  readonly unavailable?: string
  /** Our client's scenarios. */
  readonly scenarios: readonly ScenarioResult[]
  readonly adversarial: readonly CaseResult[]
  /** The reference clients' own suites against this server, each with a fresh server. */
  readonly clients: readonly ClientRun[]
  readonly stop?: StopOutcome
  readonly verdict: ServerVerdict
  /** What makes the run fail (exit code), one line each. */
  readonly failures: readonly string[]
  /** Accepted hostile messages and other problems of reference servers; never fail the run. */
  readonly findings: readonly string[]
  readonly ms: number
}

export interface ClientInfo {
  readonly name: string
  readonly description?: string
  /** Declared unavailable, or its build failed. */
  readonly unavailable?: string
}

export interface MatrixReport {
  readonly generatedAt: string
  readonly scenarios: readonly { id: string; title: string }[]
  readonly cases: readonly { id: string; title: string; proves: string }[]
  readonly builds: readonly BuildOutcome[]
  /** The reference clients (our own client is not listed: it is always there). */
  readonly clients: readonly ClientInfo[]
  readonly servers: readonly ServerReport[]
  /** False when any server failed what it is held to: the CLI exits non-zero. */
  readonly ok: boolean
  /** Wall time of the whole run, builds included. */
  readonly ms: number
}

export type Progress =
  | { readonly kind: 'server'; readonly name: string; readonly phase: string }
  | { readonly kind: 'scenario'; readonly name: string; readonly result: ScenarioResult }
  | { readonly kind: 'case'; readonly name: string; readonly result: CaseResult }
  | { readonly kind: 'client'; readonly name: string; readonly run: ClientRun }

export interface MatrixOptions {
  readonly scenarios?: readonly Scenario[]
  readonly cases?: AdversarialOptions['cases']
  readonly onProgress?: (progress: Progress) => void
  /** The server currently running, so an interrupted run can stop it. */
  readonly onStarted?: (server: RunningServer | undefined) => void
  /** Extra placeholder values (`{configDir}`, `{cache}`). */
  readonly values?: Placeholders
}

type Outcome = Pick<ServerReport, 'verdict' | 'failures' | 'findings'>

/** What a server is held to: its expectation and the diagnoses of its known defects. */
export type Judged = Pick<ServerSpec, 'expect'> &
  Partial<Pick<ServerSpec, 'knownFailures' | 'diagnoses'>>

/** Applies the server's expectation to its results. */
export function assess(
  server: Judged,
  results: {
    readonly unavailable?: string
    readonly scenarios: readonly ScenarioResult[]
    readonly adversarial: readonly CaseResult[]
    readonly clients?: readonly ClientRun[]
  },
  clientKnownFailures: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): Outcome {
  const { expect } = server
  const knownFailures = server.knownFailures ?? {}
  const diagnoses = server.diagnoses ?? {}
  const failures: string[] = []
  const findings: string[] = []
  if (results.unavailable !== undefined) {
    const line = `unavailable: ${results.unavailable.split('\n')[0] ?? ''}`
    // A conformant server we could not run is a failure; a foreign one is only reported.
    if (expect === 'conformant') failures.push(line)
    return { verdict: expect === 'conformant' ? 'fail' : 'unavailable', failures, findings }
  }
  const strict = expect === 'conformant'
  for (const scenario of results.scenarios) {
    const known = knownFailures[scenario.id]
    if (scenario.status === 'FAIL') {
      const line = `${scenario.id} failed: ${scenario.detail ?? ''}`
      if (known === undefined) failures.push(line)
      else findings.push(`${line} (known server bug: ${known})`)
    } else if (scenario.status === 'finding') {
      ;(strict ? failures : findings).push(`${scenario.id}: ${scenario.detail ?? ''}`)
    } else if (known !== undefined) {
      findings.push(`${scenario.id} passes now: remove it from knownFailures`)
    }
    for (const note of scenario.observed ?? []) findings.push(`${scenario.id}: ${note}`)
  }
  for (const result of results.adversarial) {
    let line: string | undefined
    if (result.status === 'ACCEPTED') {
      const http = result.httpStatus === undefined ? '' : `, HTTP ${result.httpStatus}`
      const why = strict ? '' : `: ${diagnoses[result.id] ?? 'undiagnosed'}`
      line = `${result.id} ACCEPTED (${result.code}${http})${why}`
    } else if (result.status === 'error') line = `${result.id} not judged: ${result.code}`
    if (line !== undefined) (strict ? failures : findings).push(line)
    if (!result.alive && result.status !== 'error') {
      ;(strict ? failures : findings).push(`${result.id}: server stopped answering afterwards`)
    }
  }
  for (const run of results.clients ?? []) {
    if (run.unavailable !== undefined) continue
    if (run.problem !== undefined) {
      failures.push(`${run.client} client: ${(run.problem.split('\n')[0] ?? '').replace(/:$/, '')}`)
      continue
    }
    for (const test of run.tests) {
      if (test.status !== 'FAIL') continue
      const line = `${run.client} client ${test.scenario ?? test.name} failed: ${test.detail ?? ''}`
      const serverBug =
        test.scenario === undefined
          ? undefined
          : (knownFailures[`${run.client}/${test.scenario}`] ?? knownFailures[test.scenario])
      const clientBug =
        test.scenario === undefined ? undefined : clientKnownFailures[run.client]?.[test.scenario]
      if (serverBug !== undefined) findings.push(`${line} (known server bug: ${serverBug})`)
      else if (clientBug !== undefined) findings.push(`${line} (known client bug: ${clientBug})`)
      else failures.push(line)
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
    strict: spec.expect === 'conformant',
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

/** The reference builds and clients of a run, shared by every server row. */
export interface RunContext {
  readonly builds: ReadonlyMap<string, BuildOutcome>
  readonly clients: readonly ClientSpec[]
}

const NO_CONTEXT: RunContext = { builds: new Map(), clients: [] }

function clientUnavailable(client: ClientSpec, context: RunContext): string | undefined {
  if (client.unavailable !== undefined) return client.unavailable
  const build = client.build === undefined ? undefined : context.builds.get(client.build)
  if (build !== undefined && 'unavailable' in build) {
    return `build ${build.name} failed: ${build.unavailable}`
  }
  return undefined
}

/** Prepares, starts, tests and stops one server; never throws for the server's own failures. */
export async function runServer(
  spec: ServerSpec,
  options: MatrixOptions = {},
  context: RunContext = NO_CONTEXT,
): Promise<ServerReport> {
  const began = Date.now()
  const tempDir = await mkdtemp(join(tmpdir(), `better-auth-interop-${spec.name}-`))
  const port = spec.port === 0 && !spec.netns ? await freePort() : spec.port
  const build = spec.build === undefined ? undefined : context.builds.get(spec.build)
  const values: Record<string, string> = {
    ...options.values,
    node: process.execPath,
    tempDir,
    port: String(port ?? ''),
    ...(build !== undefined && 'src' in build ? { src: build.src } : {}),
  }
  const innerUrl = substitute(spec.url, values)
  let url = innerUrl
  let namespace: Namespace | undefined
  let server: RunningServer | undefined
  let stop: StopOutcome | undefined
  let unavailable: string | undefined
  let results: { scenarios: ScenarioResult[]; adversarial: CaseResult[] } = {
    scenarios: [],
    adversarial: [],
  }
  const clients: ClientRun[] = []
  const progress = (phase: string) =>
    options.onProgress?.({ kind: 'server', name: spec.name, phase })
  const start = async () => {
    progress(`start (${innerUrl}${url === innerUrl ? '' : `, reached at ${url}`})`)
    server = await startServer(spec, url, values, namespace?.launch)
    options.onStarted?.(server)
    return server
  }
  const stopServer = async () => {
    if (server === undefined) return
    progress('stop')
    stop = await server.stop()
    server = undefined
    options.onStarted?.(undefined)
  }
  try {
    if (build !== undefined && 'unavailable' in build) {
      throw new UnavailableError(`build ${build.name} failed: ${build.unavailable}`)
    }
    if (spec.start === undefined) {
      const reachable = await probe(url, 5_000)
      if (!('status' in reachable) || reachable.status !== 200) {
        throw new UnavailableError(
          `nothing answers POST ${url}/key/response with 200 (${'status' in reachable ? `HTTP ${reachable.status}` : reachable.error})`,
        )
      }
      results = await runSuites(spec, url, undefined, options)
    } else {
      for (const [index, step] of spec.prepare.entries()) {
        progress(
          `prepare ${index + 1}/${spec.prepare.length}: ${step.command} ${step.args.join(' ')}`,
        )
        await runStep(step, values)
      }
      if (spec.netns) {
        namespace = await openNamespace()
        url = await namespace.bridge(Number(new URL(innerUrl).port || 80), tempDir)
      }
      results = await runSuites(spec, url, await start(), options)
      await stopServer()
      // The reference clients dial 127.0.0.1:8080: only a server in its own namespace has it.
      const inside = namespace
      if (inside !== undefined) {
        for (const client of context.clients) {
          const why = clientUnavailable(client, context)
          if (why !== undefined) {
            clients.push({ client: client.name, unavailable: why, tests: [], ms: 0 })
            continue
          }
          const clientBuild =
            client.build === undefined ? undefined : context.builds.get(client.build)
          const clientValues = {
            ...values,
            ...(clientBuild !== undefined && 'src' in clientBuild ? { src: clientBuild.src } : {}),
          }
          let run: ClientRun
          try {
            await start()
            progress(`client ${client.name}`)
            run = await runClientSuite(client, clientValues, inside.launch)
          } catch (error) {
            if (!(error instanceof UnavailableError)) throw error
            run = {
              client: client.name,
              problem: `server not started: ${error.message}`,
              tests: [],
              ms: 0,
            }
          } finally {
            await stopServer()
          }
          clients.push(run)
          options.onProgress?.({ kind: 'client', name: spec.name, run })
        }
      }
    }
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error
    unavailable = error.message
  } finally {
    await stopServer()
    await namespace?.close()
    await rm(tempDir, { recursive: true, force: true })
  }
  const outcome = assess(
    spec,
    { ...results, clients, ...(unavailable === undefined ? {} : { unavailable }) },
    Object.fromEntries(context.clients.map((client) => [client.name, client.knownFailures])),
  )
  return {
    name: spec.name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    expect: spec.expect,
    ...(spec.build === undefined ? {} : { build: spec.build }),
    url: innerUrl,
    started: spec.start !== undefined,
    ...(unavailable === undefined ? {} : { unavailable }),
    ...results,
    clients,
    ...(stop === undefined ? {} : { stop }),
    ...outcome,
    ms: Date.now() - began,
  }
}

/** `$BETTER_AUTH_INTEROP_CACHE`, else ~/.cache/better-auth-interop: build caches kept between runs. */
export function cacheDir(): string {
  const fromEnv = process.env['BETTER_AUTH_INTEROP_CACHE']
  return fromEnv !== undefined && fromEnv !== ''
    ? fromEnv
    : join(homedir(), '.cache', 'better-auth-interop')
}

/**
 * Builds each reference the selected rows need (once, shared by all of them), then runs every
 * server in turn (they share 127.0.0.1:8080 in their namespaces and the machine's two cores, so
 * never two at once).
 */
export async function runMatrix(
  config: MatrixConfig,
  options: MatrixOptions = {},
): Promise<MatrixReport> {
  const began = Date.now()
  const workDir = await mkdtemp(join(tmpdir(), 'better-auth-interop-builds-'))
  const values = { cache: cacheDir(), ...options.values, node: process.execPath }
  const runsClients = config.servers.some((spec) => spec.netns && spec.start !== undefined)
  const clients = runsClients ? config.clients : []
  const wanted = new Set<string>()
  for (const item of [...config.servers, ...clients]) {
    if (item.build !== undefined && !('unavailable' in item && item.unavailable !== undefined)) {
      wanted.add(item.build)
    }
  }
  const builds = new Map<string, BuildOutcome>()
  const servers: ServerReport[] = []
  try {
    for (const build of config.builds.filter((item) => wanted.has(item.name))) {
      const outcome = await buildReference(build, workDir, values, (phase) =>
        options.onProgress?.({ kind: 'server', name: `build ${build.name}`, phase }),
      )
      options.onProgress?.({
        kind: 'server',
        name: `build ${build.name}`,
        phase:
          'unavailable' in outcome
            ? `FAILED: ${outcome.unavailable}`
            : `built in ${(outcome.ms / 1000).toFixed(0)} s`,
      })
      builds.set(build.name, outcome)
    }
    for (const spec of config.servers) {
      servers.push(await runServer(spec, { ...options, values }, { builds, clients }))
    }
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
  return {
    generatedAt: new Date().toISOString(),
    scenarios: (options.scenarios ?? referenceScenarios).map(({ id, title }) => ({ id, title })),
    cases: (options.cases ?? adversarialCases).map(({ id, title, proves }) => ({
      id,
      title,
      proves,
    })),
    builds: [...builds.values()],
    clients: clients.map((client) => {
      const why = clientUnavailable(client, { builds, clients })
      return {
        name: client.name,
        ...(client.description === undefined ? {} : { description: client.description }),
        ...(why === undefined ? {} : { unavailable: why }),
      }
    }),
    servers,
    ok: servers.every((server) => server.failures.length === 0),
    ms: Date.now() - began,
  }
}
