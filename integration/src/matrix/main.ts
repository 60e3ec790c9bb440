/// <reference types="node" />
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkUrl, ConfigError, loadConfig, parseServer, type ServerSpec } from './config.js'
import type { RunningServer } from './process.js'
import { renderMatrix } from './render.js'
import { runMatrix, type Progress } from './run.js'

/** The package directory, from src/matrix (tsx) and dist/matrix (built) alike. */
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url))
export const DEFAULT_CONFIG = resolve(PACKAGE_DIR, 'servers.json')
export const DEFAULT_REPORT = resolve(PACKAGE_DIR, 'reports/interop.json')

export const USAGE = `usage: better-auth-interop [options]
  --config FILE   servers to run (default: ${DEFAULT_CONFIG})
  --only NAME     run only the server NAME from the config (repeatable)
  --url URL       test a server already running at URL (loopback only); starts nothing
  --expect KIND   with --url: conformant (default) or reference
  --name NAME     with --url: the column name (default "url")
  --json PATH     where to write the JSON report (default: ${DEFAULT_REPORT})
exit status: 0 all servers met their expectation, 1 some did not, 2 bad usage or config`

export interface CliOptions {
  readonly config: string
  readonly only: readonly string[]
  readonly url?: string
  readonly expect: 'conformant' | 'reference'
  readonly name: string
  readonly json: string
  readonly help: boolean
}

const VALUE_FLAGS = ['--config', '--only', '--url', '--expect', '--name', '--json'] as const
type ValueFlag = (typeof VALUE_FLAGS)[number]

export function parseArgs(argv: readonly string[]): CliOptions {
  const values: Partial<Record<ValueFlag, string[]>> = {}
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--help' || arg === '-h') {
      help = true
      continue
    }
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined]
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) {
      throw new ConfigError(arg, 'unknown option')
    }
    const value = inline ?? argv[++i]
    if (value === undefined || value === '') throw new ConfigError(flag, 'needs a value')
    ;(values[flag as ValueFlag] ??= []).push(value)
  }
  const single = (flag: ValueFlag): string | undefined => {
    const given = values[flag]
    if (given !== undefined && given.length > 1) throw new ConfigError(flag, 'given more than once')
    return given?.[0]
  }
  const expect = single('--expect') ?? 'conformant'
  if (expect !== 'conformant' && expect !== 'reference') {
    throw new ConfigError('--expect', 'must be conformant or reference')
  }
  const url = single('--url')
  if (url === undefined) {
    for (const flag of ['--expect', '--name'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(flag, 'only meaningful with --url')
    }
  } else if (values['--only'] !== undefined || values['--config'] !== undefined) {
    throw new ConfigError('--url', 'cannot be combined with --config or --only')
  }
  return {
    config: resolve(single('--config') ?? DEFAULT_CONFIG),
    only: values['--only'] ?? [],
    ...(url === undefined ? {} : { url: checkUrl(url, '--url') }),
    expect,
    name: single('--name') ?? 'url',
    json: resolve(single('--json') ?? DEFAULT_REPORT),
    help,
  }
}

/** The servers the options select, validated. */
export async function selectServers(options: CliOptions): Promise<ServerSpec[]> {
  if (options.url !== undefined) {
    return [
      parseServer(
        { name: options.name, url: options.url, expect: options.expect },
        '--url',
        process.cwd(),
      ),
    ]
  }
  const all = await loadConfig(options.config)
  if (options.only.length === 0) return all
  for (const name of options.only) {
    if (!all.some((spec) => spec.name === name)) {
      throw new ConfigError(
        '--only',
        `no server "${name}" in ${options.config} (have: ${all.map((spec) => spec.name).join(', ')})`,
      )
    }
  }
  return all.filter((spec) => options.only.includes(spec.name))
}

function progressLine(progress: Progress): string {
  switch (progress.kind) {
    case 'server':
      return `[${progress.name}] ${progress.phase}`
    case 'scenario':
      return (
        `[${progress.name}] ${progress.result.status.padEnd(8)} ${progress.result.id}` +
        (progress.result.detail === undefined ? '' : `: ${progress.result.detail}`)
      )
    case 'case':
      return `[${progress.name}] ${progress.result.status.padEnd(8)} ${progress.result.id} (${progress.result.code})`
  }
}

export interface MainIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

const consoleIo: MainIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}

/** Runs the CLI; resolves the exit status. */
export async function main(argv: readonly string[], io: MainIo = consoleIo): Promise<number> {
  let options: CliOptions
  let specs: ServerSpec[]
  try {
    options = parseArgs(argv)
    if (options.help) {
      io.out(`${USAGE}\n`)
      return 0
    }
    specs = await selectServers(options)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    io.err(`better-auth-interop: ${error.message}\n${USAGE}\n`)
    return 2
  }

  // An interrupted run must not leave a server behind (they hold the shared port).
  let current: RunningServer | undefined
  const interrupt = (signal: NodeJS.Signals) => {
    io.err(`\n${signal}: stopping ${current === undefined ? 'nothing' : `pid ${current.pid}`}\n`)
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const report = await runMatrix(specs, {
      onProgress: (progress) => io.err(`${progressLine(progress)}\n`),
      onStarted: (server) => (current = server),
    })
    io.out(`\n${renderMatrix(report)}`)
    await mkdir(dirname(options.json), { recursive: true })
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`)
    io.out(`report: ${options.json}\n`)
    return report.ok ? 0 : 1
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
  }
}
