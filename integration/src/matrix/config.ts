/// <reference types="node" />
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

/**
 * What the runner holds a server to. `conformant`: everything must pass and every hostile message
 * must be refused. `reference`: a foreign implementation; scenarios must pass, accepted hostile
 * messages are reported as findings.
 */
export type Expectation = 'conformant' | 'reference'

/** A command the runner runs to completion before starting a server (fetch, build). */
export interface StepSpec {
  readonly command: string
  readonly args: readonly string[]
  /** Absolute (resolved against the config file's directory). */
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
}

export interface ServerSpec {
  readonly name: string
  readonly description?: string
  readonly expect: Expectation
  /** The reference build (`builds[].name`) this server runs from; `{src}` is its source tree. */
  readonly build?: string
  /**
   * Runs in a network namespace of its own (loopback only), reached through a forwarder, so it
   * can listen on the fixed 127.0.0.1:8080 the reference clients dial without colliding with
   * anything on the machine. Only such servers are paired with the reference clients.
   */
  readonly netns: boolean
  /**
   * One-line diagnoses of hostile messages this (reference) server accepts, by case id; printed
   * with the finding. An accepted case without one is still a finding, marked undiagnosed.
   */
  readonly diagnoses: Readonly<Record<string, string>>
  /**
   * Scenario failures of a reference server that were diagnosed as that server's own bugs, by
   * scenario id (every client) or `CLIENT/scenario-N` (one reference client), with the diagnosis. They are reported as findings instead of failing the run;
   * a conformant server has none.
   */
  readonly knownFailures: Readonly<Record<string, string>>
  /** Base URL; `{port}` is replaced by `port`. Loopback only: the harness never leaves the host. */
  readonly url: string
  /** Substituted for `{port}`; 0 picks a free port at start. */
  readonly port?: number
  /** Absent: the server is already running at `url` and the runner starts nothing. */
  readonly start?: {
    readonly command: string
    readonly args: readonly string[]
    readonly cwd: string
    readonly env: Readonly<Record<string, string>>
  }
  readonly prepare: readonly StepSpec[]
  /** POST /key/response until 200, every `intervalMs`, for at most `timeoutMs`. */
  readonly readiness: { readonly timeoutMs: number; readonly intervalMs: number }
  /** After SIGTERM, how long to wait before SIGKILL. */
  readonly stopTimeoutMs: number
}

/** A config file or flag the runner cannot use; `path` says which field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly path: string,
    readonly details: string,
  ) {
    super(`${path}: ${details}`)
  }
}

export const DEFAULTS = {
  readinessTimeoutMs: 30_000,
  readinessIntervalMs: 250,
  stopTimeoutMs: 5_000,
  stepTimeoutMs: 300_000,
} as const

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/
const KNOWN_FAILURE = /^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,39}\/)?scenario-[1-9]\d*$/

type Json = Record<string, unknown>

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`
}

function record(value: unknown, path: string, allowed: readonly string[]): Json {
  if (!isRecord(value)) throw new ConfigError(path, `expected an object, got ${describe(value)}`)
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${path}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`)
    }
  }
  return value
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(path, `expected a non-empty string, got ${describe(value)}`)
  }
  return value
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path)
}

function strings(value: unknown, path: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value))
    throw new ConfigError(path, `expected an array, got ${describe(value)}`)
  return value.map((item, index) => {
    if (typeof item !== 'string') {
      throw new ConfigError(`${path}[${index}]`, `expected a string, got ${describe(item)}`)
    }
    return item
  })
}

function env(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {}
  if (!isRecord(value)) throw new ConfigError(path, `expected an object, got ${describe(value)}`)
  const result: Record<string, string> = {}
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new ConfigError(`${path}.${name}`, `expected a string, got ${describe(item)}`)
    }
    result[name] = item
  }
  return result
}

function integer(value: unknown, path: string, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      path,
      `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/** Loopback http(s) only: the runner must never send hostile traffic anywhere else. */
export function checkUrl(url: string, path: string): string {
  let parsed: URL
  try {
    // `{port}` is not a valid port; check the shape with a stand-in.
    parsed = new URL(url.replace('{port}', '1'))
  } catch {
    throw new ConfigError(path, `not a URL: ${url}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(path, `expected http or https, got ${parsed.protocol}`)
  }
  if (!LOOPBACK.has(parsed.hostname)) {
    throw new ConfigError(path, `only loopback hosts (127.0.0.1, localhost) are allowed: ${url}`)
  }
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') {
    throw new ConfigError(path, 'give the base URL only (the contract fixes the paths)')
  }
  return url.replace(/\/+$/, '')
}

/** Relative paths resolve against the config's directory; a leading placeholder is kept. */
function resolvePath(baseDir: string, path: string): string {
  return path.startsWith('{') ? path : resolve(baseDir, path)
}

function step(value: unknown, path: string, baseDir: string, defaultCwd: string): StepSpec {
  const raw = record(value, path, ['command', 'args', 'cwd', 'env', 'timeoutMs'])
  const cwd = optionalString(raw['cwd'], `${path}.cwd`)
  return {
    command: string(raw['command'], `${path}.command`),
    args: strings(raw['args'], `${path}.args`),
    cwd: cwd === undefined ? defaultCwd : resolvePath(baseDir, cwd),
    env: env(raw['env'], `${path}.env`),
    timeoutMs: integer(raw['timeoutMs'], `${path}.timeoutMs`, DEFAULTS.stepTimeoutMs, 1, 3_600_000),
  }
}

const SERVER_FIELDS = [
  'name',
  'description',
  'expect',
  'url',
  'port',
  'command',
  'args',
  'cwd',
  'env',
  'prepare',
  'readiness',
  'stopTimeoutMs',
  'knownFailures',
  'build',
  'netns',
  'diagnoses',
] as const

/** Validates one `servers[]` entry; relative `cwd`s are resolved against `baseDir`. */
export function parseServer(value: unknown, path: string, baseDir: string): ServerSpec {
  const raw = record(value, path, SERVER_FIELDS)
  const name = string(raw['name'], `${path}.name`)
  if (!NAME.test(name)) {
    throw new ConfigError(`${path}.name`, 'use letters, digits, ".", "_" or "-" (at most 40)')
  }
  const expect = raw['expect'] ?? 'conformant'
  if (expect !== 'conformant' && expect !== 'reference') {
    throw new ConfigError(`${path}.expect`, `expected "conformant" or "reference"`)
  }
  const knownFailures = env(raw['knownFailures'], `${path}.knownFailures`)
  for (const key of Object.keys(knownFailures)) {
    if (!KNOWN_FAILURE.test(key)) {
      throw new ConfigError(
        `${path}.knownFailures.${key}`,
        'expected "scenario-N" (every client) or "CLIENT/scenario-N" (one reference client)',
      )
    }
  }
  if (expect === 'conformant' && Object.keys(knownFailures).length > 0) {
    throw new ConfigError(`${path}.knownFailures`, 'a conformant server must pass every scenario')
  }
  const url = checkUrl(string(raw['url'], `${path}.url`), `${path}.url`)
  const netns = raw['netns'] ?? false
  if (typeof netns !== 'boolean') {
    throw new ConfigError(`${path}.netns`, `expected true or false, got ${describe(netns)}`)
  }
  const diagnoses = env(raw['diagnoses'], `${path}.diagnoses`)
  const port =
    raw['port'] === undefined ? undefined : integer(raw['port'], `${path}.port`, 0, 0, 65_535)
  if (url.includes('{port}') && port === undefined) {
    throw new ConfigError(`${path}.port`, 'required when the url contains {port}')
  }
  const command = optionalString(raw['command'], `${path}.command`)
  const cwdText = optionalString(raw['cwd'], `${path}.cwd`)
  const build = optionalString(raw['build'], `${path}.build`)
  const cwd =
    cwdText !== undefined ? resolvePath(baseDir, cwdText) : build === undefined ? baseDir : '{src}'
  if (command === undefined) {
    for (const field of ['args', 'cwd', 'env', 'prepare', 'build', 'netns'] as const) {
      if (raw[field] !== undefined) {
        throw new ConfigError(`${path}.${field}`, 'only meaningful with a command')
      }
    }
  }
  const prepareRaw = raw['prepare'] ?? []
  if (!Array.isArray(prepareRaw)) {
    throw new ConfigError(`${path}.prepare`, `expected an array, got ${describe(prepareRaw)}`)
  }
  const readiness = record(raw['readiness'] ?? {}, `${path}.readiness`, ['timeoutMs', 'intervalMs'])
  const description = optionalString(raw['description'], `${path}.description`)
  return {
    name,
    ...(description === undefined ? {} : { description }),
    expect,
    ...(build === undefined ? {} : { build }),
    netns,
    knownFailures,
    diagnoses,
    url,
    ...(port === undefined ? {} : { port }),
    ...(command === undefined
      ? {}
      : {
          start: {
            command,
            args: strings(raw['args'], `${path}.args`),
            cwd,
            env: env(raw['env'], `${path}.env`),
          },
        }),
    prepare: prepareRaw.map((item, index) => step(item, `${path}.prepare[${index}]`, baseDir, cwd)),
    readiness: {
      timeoutMs: integer(
        readiness['timeoutMs'],
        `${path}.readiness.timeoutMs`,
        DEFAULTS.readinessTimeoutMs,
        1,
        3_600_000,
      ),
      intervalMs: integer(
        readiness['intervalMs'],
        `${path}.readiness.intervalMs`,
        DEFAULTS.readinessIntervalMs,
        10,
        60_000,
      ),
    },
    stopTimeoutMs: integer(
      raw['stopTimeoutMs'],
      `${path}.stopTimeoutMs`,
      DEFAULTS.stopTimeoutMs,
      1,
      600_000,
    ),
  }
}

/**
 * A reference implementation built from a pinned source archive: extracted into a fresh directory
 * of the run (`{src}` is the archive's top-level directory there), then `steps` run in order with
 * `{src}` as their default cwd. Built once per run and shared by every server and client row.
 */
export interface BuildSpec {
  readonly name: string
  /** Absolute path of the `git archive` tarball. */
  readonly archive: string
  readonly repository: string
  readonly commit: string
  readonly steps: readonly StepSpec[]
}

/** How a reference client's test suite reports per-test results. */
export type ResultFormat = 'junit' | 'libtest'

/**
 * A reference client's own integration suite. It dials the fixed 127.0.0.1:8080, so it runs
 * inside the namespace of a `netns` server, once per such server.
 */
export interface ClientSpec {
  readonly name: string
  readonly description?: string
  /** Declared unavailable (no toolchain here): listed in the matrix, never run. */
  readonly unavailable?: string
  readonly build?: string
  readonly run?: {
    readonly command: string
    readonly args: readonly string[]
    readonly cwd: string
    readonly env: Readonly<Record<string, string>>
    readonly timeoutMs: number
  }
  /** `junit`: read the JUnit XML file `file` (deleted before each run); `libtest`: read stdout. */
  readonly results: { readonly format: ResultFormat; readonly file?: string }
  /** Scenario failures diagnosed as this client's own bugs, by scenario id, with the diagnosis. */
  readonly knownFailures: Readonly<Record<string, string>>
}

export interface MatrixConfig {
  readonly builds: readonly BuildSpec[]
  readonly servers: readonly ServerSpec[]
  readonly clients: readonly ClientSpec[]
}

/** Where the pinned archives are: `$BETTER_AUTH_REFERENCE_DIR`, else the config's `referenceDir`. */
export function referenceDir(configured: string | undefined, baseDir: string): string {
  const fromEnv = process.env['BETTER_AUTH_REFERENCE_DIR']
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  return resolve(baseDir, configured ?? '.')
}

const COMMIT = /^[0-9a-f]{40}$/

function parseBuild(value: unknown, path: string, baseDir: string, archives: string): BuildSpec {
  const raw = record(value, path, ['name', 'archive', 'repository', 'commit', 'steps'])
  const name = string(raw['name'], `${path}.name`)
  if (!NAME.test(name)) {
    throw new ConfigError(`${path}.name`, 'use letters, digits, ".", "_" or "-" (at most 40)')
  }
  const commit = string(raw['commit'], `${path}.commit`)
  if (!COMMIT.test(commit)) throw new ConfigError(`${path}.commit`, 'expected 40 hex digits')
  const archive = string(raw['archive'], `${path}.archive`)
  if (!archive.endsWith('.tar.gz') || archive.includes('/')) {
    throw new ConfigError(`${path}.archive`, 'expected a .tar.gz file name in the reference dir')
  }
  if (!archive.includes(commit.slice(0, 12))) {
    throw new ConfigError(`${path}.archive`, `the file name does not carry commit ${commit}`)
  }
  const steps = raw['steps'] ?? []
  if (!Array.isArray(steps)) {
    throw new ConfigError(`${path}.steps`, `expected an array, got ${describe(steps)}`)
  }
  return {
    name,
    archive: resolve(archives, archive),
    repository: string(raw['repository'], `${path}.repository`),
    commit,
    steps: steps.map((item, index) => step(item, `${path}.steps[${index}]`, baseDir, '{src}')),
  }
}

function parseClient(value: unknown, path: string, baseDir: string): ClientSpec {
  const raw = record(value, path, [
    'name',
    'description',
    'unavailable',
    'build',
    'command',
    'args',
    'cwd',
    'env',
    'timeoutMs',
    'results',
    'knownFailures',
  ])
  const name = string(raw['name'], `${path}.name`)
  if (!NAME.test(name)) {
    throw new ConfigError(`${path}.name`, 'use letters, digits, ".", "_" or "-" (at most 40)')
  }
  const description = optionalString(raw['description'], `${path}.description`)
  const unavailable = optionalString(raw['unavailable'], `${path}.unavailable`)
  const build = optionalString(raw['build'], `${path}.build`)
  const command = optionalString(raw['command'], `${path}.command`)
  if ((unavailable === undefined) === (command === undefined)) {
    throw new ConfigError(path, 'give either a command or the reason it is unavailable')
  }
  const results = record(raw['results'] ?? { format: 'libtest' }, `${path}.results`, [
    'format',
    'file',
  ])
  const format = results['format']
  if (format !== 'junit' && format !== 'libtest') {
    throw new ConfigError(`${path}.results.format`, 'expected "junit" or "libtest"')
  }
  const file = optionalString(results['file'], `${path}.results.file`)
  if (format === 'junit' && file === undefined) {
    throw new ConfigError(`${path}.results.file`, 'required for junit results')
  }
  const cwd = optionalString(raw['cwd'], `${path}.cwd`)
  return {
    name,
    ...(description === undefined ? {} : { description }),
    ...(unavailable === undefined ? {} : { unavailable }),
    ...(build === undefined ? {} : { build }),
    ...(command === undefined
      ? {}
      : {
          run: {
            command,
            args: strings(raw['args'], `${path}.args`),
            cwd: cwd === undefined ? '{src}' : resolvePath(baseDir, cwd),
            env: env(raw['env'], `${path}.env`),
            timeoutMs: integer(
              raw['timeoutMs'],
              `${path}.timeoutMs`,
              DEFAULTS.stepTimeoutMs,
              1,
              3_600_000,
            ),
          },
        }),
    results: { format, ...(file === undefined ? {} : { file }) },
    knownFailures: env(raw['knownFailures'], `${path}.knownFailures`),
  }
}

function unique(items: readonly { name: string }[], path: string): void {
  const seen = new Set<string>()
  for (const [index, item] of items.entries()) {
    if (seen.has(item.name)) {
      throw new ConfigError(`${path}[${index}].name`, `duplicate name "${item.name}"`)
    }
    seen.add(item.name)
  }
}

/**
 * Validates a whole config (`{"referenceDir", "builds", "servers", "clients"}`); `source` names it
 * in error messages, relative paths resolve against `baseDir`.
 */
export function parseConfig(value: unknown, source: string, baseDir: string): MatrixConfig {
  const raw = record(value, source, ['$comment', 'referenceDir', 'builds', 'servers', 'clients'])
  const servers = raw['servers']
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new ConfigError(`${source}.servers`, 'expected a non-empty array of servers')
  }
  const archives = referenceDir(
    optionalString(raw['referenceDir'], `${source}.referenceDir`),
    baseDir,
  )
  const list = (field: 'builds' | 'clients'): unknown[] => {
    const items = raw[field] ?? []
    if (!Array.isArray(items)) {
      throw new ConfigError(`${source}.${field}`, `expected an array, got ${describe(items)}`)
    }
    return items
  }
  const builds = list('builds').map((item, index) =>
    parseBuild(item, `${source}.builds[${index}]`, baseDir, archives),
  )
  const serverSpecs = servers.map((item, index) =>
    parseServer(item, `${source}.servers[${index}]`, baseDir),
  )
  const clients = list('clients').map((item, index) =>
    parseClient(item, `${source}.clients[${index}]`, baseDir),
  )
  unique(builds, `${source}.builds`)
  unique(serverSpecs, `${source}.servers`)
  unique(clients, `${source}.clients`)
  const buildNames = new Set(builds.map((build) => build.name))
  for (const [field, items] of [
    ['servers', serverSpecs],
    ['clients', clients],
  ] as const) {
    for (const [index, item] of items.entries()) {
      if (item.build !== undefined && !buildNames.has(item.build)) {
        throw new ConfigError(`${source}.${field}[${index}].build`, `no build "${item.build}"`)
      }
    }
  }
  return { builds, servers: serverSpecs, clients }
}

export async function loadConfig(file: string): Promise<MatrixConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new ConfigError(file, `cannot read: ${(error as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(file, `not valid JSON: ${(error as Error).message}`)
  }
  return parseConfig(value, file, dirname(resolve(file)))
}
