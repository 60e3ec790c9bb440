/// <reference types="node" />
import { readFile, rm } from 'node:fs/promises'
import type { ClientSpec, ResultFormat } from './config.js'
import { runCommand, substitute, type Launcher, type Placeholders } from './process.js'

/** One test of a reference client's suite. */
export interface TestResult {
  readonly name: string
  /** The reference scenario it implements, when its name says so. */
  readonly scenario?: string
  readonly status: 'pass' | 'FAIL' | 'skipped'
  readonly detail?: string
}

/** A reference client's suite against one server. */
export interface ClientRun {
  readonly client: string
  /** The client could not be built or is declared unavailable: it never ran. */
  readonly unavailable?: string
  /** It ran but gave no per-test results (crash, timeout): the command's problem and output. */
  readonly problem?: string
  readonly tests: readonly TestResult[]
  readonly ms: number
}

/**
 * The four reference scenarios under the names every reference suite gives them ("completes auth
 * flows", `test_completes_auth_flows`, `completesAuthFlows`): compared without case, separators
 * and a leading "test".
 */
const SCENARIO_NAMES: Readonly<Record<string, string>> = {
  completesauthflows: 'scenario-1',
  recoversfromloss: 'scenario-2',
  linksanotherdevice: 'scenario-3',
  detectsmismatchedaccessnonce: 'scenario-4',
}

export function scenarioOf(testName: string): string | undefined {
  // "integration > completes auth flows", "tests::test_x", "com.betterauth.IntegrationTest.x()"
  const last = testName.split(/\s>\s|::|\.(?=[^.]*$)/).at(-1) ?? testName
  const key = last
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .replace(/^test/, '')
  return SCENARIO_NAMES[key]
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
}

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) {
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16))
    }
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10))
    return ENTITIES[name.toLowerCase()] ?? whole
  })
}

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)
  return match?.[1] === undefined ? undefined : decode(match[1])
}

function firstLine(text: string, length = 200): string {
  const line =
    text
      .split('\n')
      .map((item) => item.trim())
      .find((item) => item !== '') ?? ''
  return line.length > length ? `${line.slice(0, length)}…` : line
}

function result(name: string, status: TestResult['status'], detail?: string): TestResult {
  const scenario = scenarioOf(name)
  return {
    name,
    ...(scenario === undefined ? {} : { scenario }),
    status,
    ...(detail === undefined || detail === '' ? {} : { detail }),
  }
}

/** `<testcase>` elements of a JUnit XML report (vitest, pytest and Surefire write this shape). */
export function parseJunit(xml: string): TestResult[] {
  const results: TestResult[] = []
  const testcase = /<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g
  for (const match of xml.matchAll(testcase)) {
    const attributes = match[1] ?? ''
    const body = match[2] ?? ''
    const name = attribute(attributes, 'name') ?? '?'
    const problem = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body)
    if (problem !== null) {
      const message = attribute(problem[2] ?? '', 'message') ?? decode(problem[3] ?? '')
      results.push(result(name, 'FAIL', firstLine(message)))
    } else if (/<skipped\b/.test(body)) {
      results.push(result(name, 'skipped'))
    } else {
      results.push(result(name, 'pass'))
    }
  }
  return results
}

/** The `test NAME ... ok|FAILED|ignored` lines of Rust's libtest, with each failure's panic. */
export function parseLibtest(output: string): TestResult[] {
  const results: TestResult[] = []
  for (const match of output.matchAll(/^test (\S+) \.\.\. (ok|FAILED|ignored)\b/gm)) {
    const name = match[1] ?? '?'
    if (match[2] === 'ok') results.push(result(name, 'pass'))
    else if (match[2] === 'ignored') results.push(result(name, 'skipped'))
    else {
      const section = output.split(`---- ${name} stdout ----`)[1] ?? ''
      const panic = /panicked at [^\n]*\n([^\n]+)/.exec(section)?.[1] ?? firstLine(section)
      results.push(result(name, 'FAIL', firstLine(panic)))
    }
  }
  return results
}

async function readResults(
  format: ResultFormat,
  file: string | undefined,
  output: string,
): Promise<TestResult[]> {
  if (format === 'libtest') return parseLibtest(output)
  if (file === undefined) return []
  try {
    return parseJunit(await readFile(file, 'utf8'))
  } catch {
    return []
  }
}

/**
 * Runs a reference client's suite once, inside the server's namespace, and reads its per-test
 * results. A suite that fails some tests still has results; one without any has a `problem`.
 */
export async function runClientSuite(
  client: ClientSpec,
  values: Placeholders,
  launch: Launcher,
): Promise<ClientRun> {
  const began = Date.now()
  const run = client.run
  if (run === undefined || client.unavailable !== undefined) {
    return {
      client: client.name,
      unavailable: client.unavailable ?? 'no command',
      tests: [],
      ms: 0,
    }
  }
  const file =
    client.results.file === undefined ? undefined : substitute(client.results.file, values)
  if (file !== undefined) await rm(file, { force: true })
  const outcome = await runCommand(
    substitute(run.command, values),
    run.args.map((arg) => substitute(arg, values)),
    substitute(run.cwd, values),
    Object.fromEntries(
      Object.entries(run.env).map(([name, value]) => [name, substitute(value, values)]),
    ),
    run.timeoutMs,
    launch,
  )
  const tests = await readResults(client.results.format, file, outcome.output.tail(100_000))
  const noResults = tests.length === 0
  return {
    client: client.name,
    ...(noResults
      ? {
          problem: `${outcome.problem ?? `\`${outcome.line}\` reported no tests`}:\n${outcome.output.tail()}`,
        }
      : {}),
    tests,
    ms: Date.now() - began,
  }
}
