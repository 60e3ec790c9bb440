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
  /**
   * Scenario failures of a reference server that were diagnosed as that server's own bugs, by
   * scenario id, with the diagnosis. They are reported as findings instead of failing the run;
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

function step(value: unknown, path: string, baseDir: string, defaultCwd: string): StepSpec {
  const raw = record(value, path, ['command', 'args', 'cwd', 'env', 'timeoutMs'])
  const cwd = optionalString(raw['cwd'], `${path}.cwd`)
  return {
    command: string(raw['command'], `${path}.command`),
    args: strings(raw['args'], `${path}.args`),
    cwd: cwd === undefined ? defaultCwd : resolve(baseDir, cwd),
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
  if (expect === 'conformant' && Object.keys(knownFailures).length > 0) {
    throw new ConfigError(`${path}.knownFailures`, 'a conformant server must pass every scenario')
  }
  const url = checkUrl(string(raw['url'], `${path}.url`), `${path}.url`)
  const port =
    raw['port'] === undefined ? undefined : integer(raw['port'], `${path}.port`, 0, 0, 65_535)
  if (url.includes('{port}') && port === undefined) {
    throw new ConfigError(`${path}.port`, 'required when the url contains {port}')
  }
  const command = optionalString(raw['command'], `${path}.command`)
  const cwdText = optionalString(raw['cwd'], `${path}.cwd`)
  const cwd = cwdText === undefined ? baseDir : resolve(baseDir, cwdText)
  if (command === undefined) {
    for (const field of ['args', 'cwd', 'env', 'prepare'] as const) {
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
    knownFailures,
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

/** Validates a whole config (`{"servers": [...]}`); `source` names it in error messages. */
export function parseConfig(value: unknown, source: string, baseDir: string): ServerSpec[] {
  const raw = record(value, source, ['$comment', 'servers'])
  const servers = raw['servers']
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new ConfigError(`${source}.servers`, 'expected a non-empty array of servers')
  }
  const specs = servers.map((item, index) =>
    parseServer(item, `${source}.servers[${index}]`, baseDir),
  )
  const seen = new Set<string>()
  for (const [index, spec] of specs.entries()) {
    if (seen.has(spec.name)) {
      throw new ConfigError(`${source}.servers[${index}].name`, `duplicate name "${spec.name}"`)
    }
    seen.add(spec.name)
  }
  return specs
}

export async function loadConfig(file: string): Promise<ServerSpec[]> {
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
